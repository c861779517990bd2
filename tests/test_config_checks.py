"""The workflow configuration: finite numbers, integer counts, memory, files, overrides."""

import math
import subprocess
import sys

import pytest
import yaml
from workflow_run import ROOT, snakemake

from bench.config import (
    DEFAULT_CONFIG,
    TRAINING_MEMORY_KEYS,
    ConfigError,
    memory_estimates,
    merge,
    resolve_config,
    typed_overrides,
    validate_config,
)

TINY = ROOT / "workflow" / "config" / "tiny.yaml"


def tiny() -> dict:
    return yaml.safe_load(TINY.read_text())


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("train", "lr", math.nan, "train.lr: must be a finite number, got nan"),
        ("train", "lr", math.inf, "train.lr: must be a finite number, got inf"),
        ("objective", "p_endpoint", math.nan, "objective.p_endpoint: must be a finite number"),
        ("generation", "atol", -math.inf, "generation.atol: must be a finite number"),
        ("train", "steps", 60.0, "train.steps: must be an integer, got 60.0: write 60"),
        (None, "latent_dim", 32.0, "latent_dim: must be an integer, got 32.0: write 32"),
        (None, "latent_dim", 30, "latent_dim: 30 is not a multiple of 4"),
        (None, "seeds", [0.0], "seeds[0]: must be an integer, got 0.0: write 0"),
        ("ablations", "ia_percent", [0, 50.0, 100], "ablations.ia_percent[1]: must be an integer"),
        ("train", "lr", "1e-3", "YAML reads exponents without a decimal point as text"),
        ("train", "batch_size", True, "train.batch_size: True is not of type 'integer'"),
    ],
)
def test_values_json_schema_lets_through_are_refused(section, key, value, message):
    config = tiny()
    (config[section] if section else config)[key] = value
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("section", "key", "value", "keys"),
    [
        ("train", "batch_size", 10**9, "train.batch_size, model.hidden_dim, model.depth"),
        ("model", "hidden_dim", 10**6, "train.batch_size, model.hidden_dim, model.depth"),
        ("evaluation", "bootstrap_resamples", 10**10, "evaluation.bootstrap_resamples: needs"),
    ],
)
def test_settings_that_cannot_fit_in_memory_are_refused_with_the_estimate(
    section, key, value, keys
):
    config = tiny()
    config[section][key] = value
    with pytest.raises(ConfigError, match=r"GiB of memory, more than this machine's") as err:
        validate_config(config)
    assert keys in str(err.value)


def test_the_memory_bound_is_below_what_a_training_step_holds():
    """The estimate is a lower bound: its parameter part does not exceed FlowBind's size."""
    from bench.methods import build_method

    config = validate_config(tiny())
    method = build_method(
        "flowbind",
        model={**config["model"], "latent_dim": config["latent_dim"]},
        train=config["train"],
        objective=config["objective"],
        options={},
    )
    no_batch = {**config, "train": {**config["train"], "batch_size": 0}}
    parameter_bytes = memory_estimates(no_batch)[TRAINING_MEMORY_KEYS]
    assert parameter_bytes <= 16 * method.num_parameters()
    assert parameter_bytes >= 0.5 * 16 * method.num_parameters()


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("train:\n  steps: 60\n  lr: [0.001,\n")
    with pytest.raises(ConfigError, match=rf"{path}, line 4, column 1: not valid YAML"):
        resolve_config([path])


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=rf"config file {tmp_path / 'nope.yaml'} does not exist"):
        resolve_config([tmp_path / "nope.yaml"])


def test_a_config_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- flowbind\n- codi\n")
    with pytest.raises(ConfigError, match="a config file is a mapping of keys"):
        resolve_config([path])


def test_overrides_are_typed_as_a_yaml_file_types_them():
    # What Snakemake's --config parser hands over for 'seeds=[0,1]' and
    # 'train={steps: 5, lr: 1e-3}' (YAML's BaseLoader: every leaf a string).
    parsed = {"seeds": ["0", "1"], "train": {"steps": "5", "lr": "1e-3"}, "size": "tiny"}
    assert typed_overrides(parsed) == {
        "seeds": [0, 1],
        "train": {"steps": 5, "lr": 0.001},
        "size": "tiny",
    }


def test_overrides_merge_key_by_key_onto_the_chosen_file():
    default = yaml.safe_load(DEFAULT_CONFIG.read_text())
    resolved = resolve_config((), {"train": {"steps": "5"}, "methods": ["flowbind"]})
    assert resolved == validate_config(
        merge(default, {"train": {"steps": 5}, "methods": ["flowbind"]})
    )
    assert resolved["train"]["batch_size"] == default["train"]["batch_size"]
    assert len(resolved["ablations"]["solvers"]) == len(default["ablations"]["solvers"]) == 7


def test_the_readme_override_runs_on_default_yaml_plus_the_override(tmp_path):
    """`--config 'methods=[flowbind, text_anchor]'` once ran on the schema's defaults (two
    solver entries instead of default.yaml's seven); typed lists and mappings once failed."""
    readme = (ROOT / "README.md").read_text()
    assert "--config 'methods=[flowbind, text_anchor]'" in readme
    overrides = ["methods=[flowbind, text_anchor]", "seeds=[0,1]", "train={steps: 5}"]
    result = snakemake(tmp_path, "results/config.yaml", "--cores", "1", "--config", *overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = yaml.safe_load((tmp_path / "results" / "config.yaml").read_text())
    default = yaml.safe_load(DEFAULT_CONFIG.read_text())
    expected = merge(
        default, {"methods": ["flowbind", "text_anchor"], "seeds": [0, 1], "train": {"steps": 5}}
    )
    assert resolved == validate_config(expected)


def test_overrides_apply_on_top_of_a_configfile(tmp_path):
    result = snakemake(
        tmp_path, "results/config.yaml", "--cores", "1", "--configfile", str(TINY),
        "--config", "train={steps: 7}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = yaml.safe_load((tmp_path / "results" / "config.yaml").read_text())
    assert resolved == validate_config(merge(tiny(), {"train": {"steps": 7}}))


def test_a_non_finite_value_stops_the_workflow_before_any_job(tmp_path):
    config = tiny()
    config["train"]["lr"] = math.inf
    path = tmp_path / "inf.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "1", "--configfile", str(path))
    assert result.returncode != 0
    assert "train.lr: must be a finite number, got inf" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_the_config_command_prints_the_resolved_config_or_the_error(tmp_path):
    run = [sys.executable, "-m", "bench.config", "--configfile", str(TINY)]
    good = subprocess.run(
        [*run, "--config", "seeds=[0,1]"], capture_output=True, text=True, check=False
    )
    assert good.returncode == 0, good.stderr
    assert yaml.safe_load(good.stdout)["seeds"] == [0, 1]
    bad = subprocess.run(
        [*run, "--config", "train={steps: 60.0}"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "train.steps: must be an integer, got 60.0" in bad.stderr


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("seeds", "expected KEY=VALUE"),
        ("train.steps=5", r"set a nested key as a mapping, 'train=\{steps: 5\}'"),
        ("baselines.codi.temperature=0.1", r"'baselines=\{codi: \{temperature: 0.1\}\}'"),
        ("seeds=[0, 1", "the value is not valid YAML"),
    ],
)
def test_a_malformed_override_is_named(entry, message):
    from bench.config import parse_overrides

    with pytest.raises(ConfigError, match=message) as err:
        parse_overrides([entry])
    assert repr(entry) in str(err.value)


def test_released_baseline_models_are_methods_with_checked_options():
    config = merge(tiny(), {"methods": ["flowbind", "codi_official", "omniflow_official"]})
    resolved = validate_config(config)
    assert resolved["baselines"]["omniflow_official"]["vocoder"] == "audioldm2"
    assert resolved["baselines"]["codi_official"]["repo_dir"] is None
    bad = merge(config, {"baselines": {"omniflow_official": {"vocoder": "not a function"}}})
    with pytest.raises(ConfigError, match="baselines.omniflow_official.vocoder"):
        validate_config(bad)
    with pytest.raises(ConfigError, match="'codi_released' is not a registered method"):
        validate_config(merge(tiny(), {"methods": ["flowbind", "codi_released"]}))


def test_a_released_model_that_is_not_installed_stops_the_workflow_before_any_job(tmp_path):
    override = ["--config", "methods=[flowbind,codi_official]"]
    plan = snakemake(tmp_path, "-n", "--configfile", str(TINY), *override)
    assert plan.returncode == 0, plan.stderr[-3000:]  # planning runs nothing: a warning
    assert "WARNING: released baseline models are missing" in plan.stderr
    run = snakemake(tmp_path, "--cores", "1", "--configfile", str(TINY), *override)
    assert run.returncode != 0
    message = run.stdout + run.stderr
    assert "codi_official: the package `core` is not installed" in message
    assert "its options: baselines.codi_official" in message
    assert not (tmp_path / "results").exists()
