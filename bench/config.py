"""The workflow's configuration: read, merged with command-line overrides, checked, defaults filled.

    python -m bench.config                                     # the default config, resolved
    python -m bench.config --configfile workflow/config/tiny.yaml --config 'seeds=[0,1]'

The Snakefile resolves its configuration here, the same way: the config files given with
``--configfile`` (workflow/config/default.yaml when there are none), merged in order, then every
``--config`` override merged on top (mappings key by key, lists and scalars replaced). Overrides
are typed as a YAML file would type them (Snakemake reads a ``--config`` list or mapping as
strings). The result is checked against workflow/schemas/config.schema.yaml before any job runs.

Errors name the offending key as a dotted path (``train.steps``, ``ablations.solvers[2].method``)
and say what was expected. Beyond the schema's bounds: every number is finite, every count is an
integer written without a decimal point (``steps: 60``, not ``60.0``), and settings whose
memory cannot fit on this machine (a training batch, a bootstrap) are refused with the estimate.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from bench.methods import METHODS, OFFICIAL

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "workflow" / "config" / "default.yaml"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
# The keys that set the memory of a training step.
TRAINING_MEMORY_KEYS = (
    "train.batch_size, model.hidden_dim, model.depth, model.encoder_hidden_dim, latent_dim"
)


class ConfigError(ValueError):
    """The workflow configuration is invalid."""


# -- reading and merging ----------------------------------------------------------------------


def read_config_file(path: str | Path) -> dict[str, Any]:
    """One YAML config file as a mapping; errors name the file (and the line and column)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file {path} does not exist"
            + (" (it is a folder)" if path.is_dir() else "")
            + f"; the shipped ones are in {DEFAULT_CONFIG.parent}"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{path}{where}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a config file is a mapping of keys (benchmark:, methods:, train:, ...), "
            f"got a {type(data).__name__}"
        )
    return data


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``: mappings merge key by key; lists and scalars replace."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _scalar(text: str) -> Any:
    """A string read by Snakemake's ``--config`` parser, typed as Snakemake types a top-level
    value (int, float, True/False) or else as a YAML file would."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, bool | int | float | str) else text


def typed_overrides(value: Any) -> Any:
    """``--config`` values with the strings inside lists and mappings typed (``[0, 1]``, not
    ``['0', '1']``). Snakemake types only top-level scalars; it reads lists and mappings with
    YAML's BaseLoader, which leaves every leaf a string."""
    if isinstance(value, Mapping):
        return {k: typed_overrides(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_overrides(v) for v in value]
    if isinstance(value, str):
        return _scalar(value)
    return value


def parse_overrides(entries: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` words read as ``snakemake --config`` reads them (YAML's BaseLoader for
    lists and mappings), before ``typed_overrides``."""
    out: dict[str, Any] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if sep and "." in key:
            top, _, rest = key.partition(".")
            raise ConfigError(
                f"--config {entry!r}: a key is a top-level name; set a nested key as a mapping, "
                f"'{top}={{{rest.replace('.', ': {')}: {value}{'}' * rest.count('.')}}}'"
            )
        if not sep or not key.isidentifier():
            raise ConfigError(f"--config {entry!r}: expected KEY=VALUE, e.g. 'seeds=[0,1]'")
        try:
            parsed = yaml.load(value, Loader=yaml.BaseLoader) if value else None
        except yaml.YAMLError as err:
            raise ConfigError(f"--config {entry!r}: the value is not valid YAML ({err})") from None
        out = merge(out, {key: parsed})
    return out


def resolve_config(
    configfiles: Sequence[str | Path] = (),
    overrides: Mapping[str, Any] | None = None,
    schema_path: str | Path = SCHEMA,
) -> dict[str, Any]:
    """The checked configuration of a workflow run.

    Args:
        configfiles: the ``--configfile`` files, merged in order; none means default.yaml.
        overrides: the ``--config`` values as Snakemake parsed them, merged last.
        schema_path: the JSON schema.
    """
    config: dict[str, Any] = {}
    for path in configfiles or [DEFAULT_CONFIG]:
        config = merge(config, read_config_file(path))
    config = merge(config, typed_overrides(dict(overrides or {})))
    return validate_config(config, schema_path)


# -- checking -----------------------------------------------------------------------------------


def _is_integer(_checker, value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker, value) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _with_defaults(cls):
    check_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from check_properties(validator, properties, instance, schema)

    # JSON Schema counts 60.0 as an integer and NaN and inf as numbers; a count written 60.0
    # crashes inside a job, and lr: .inf trains to the end on a NaN loss. Neither passes here.
    types = cls.TYPE_CHECKER.redefine("integer", _is_integer).redefine("number", _is_number)
    return validators.extend(cls, {"properties": set_defaults}, type_checker=types)


def key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _message(error) -> str:
    """The schema's message, with the fix for values that look right but are not."""
    value = error.instance
    if error.validator == "type":
        expected = error.validator_value
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if expected == "integer" and isinstance(value, float) and value.is_integer():
            return (
                f"must be an integer, got {value}: write {int(value)} (without the decimal point)"
            )
        if expected in ("integer", "number") and isinstance(value, str):
            typed = _scalar(value)
            if isinstance(typed, int | float) and not isinstance(typed, bool):
                return (
                    f"must be a {expected}, got the string {value!r}: YAML reads exponents "
                    "without a decimal point as text; write it out (0.001) or as 1.0e-3"
                )
    return error.message


def validate_config(config: Mapping[str, Any], schema_path: str | Path = SCHEMA) -> dict[str, Any]:
    """The config with defaults filled in; raises ConfigError naming every bad key."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    filled = copy.deepcopy(dict(config))
    validator = _with_defaults(Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  {key_path(e.absolute_path)}: {_message(e)}" for e in errors]
        raise ConfigError(
            "invalid workflow configuration:\n"
            + "\n".join(lines)
            + f"\nSee {schema_path} for every key, its meaning and its default."
        )
    known = sorted({**METHODS, **OFFICIAL})
    problems = [
        f"  methods[{i}]: {name!r} is not a registered method; known: {known}"
        for i, name in enumerate(filled["methods"])
        if name not in known
    ]
    problems += [
        f"  baselines.{name}: {name!r} is not a registered method; known: {known}"
        for name in filled.get("baselines", {})
        if name not in known
    ]

    if "flowbind_released" in filled["methods"] and (
        filled["benchmark"] != "paper" or filled["latent_dim"] != 768
    ):
        i = filled["methods"].index("flowbind_released")
        problems.append(
            f"  methods[{i}]: 'flowbind_released' (the authors' released weights) needs the "
            "paper benchmark's 768-d latents: use it with benchmark: paper and latent_dim: 768"
        )
    if "points" in filled["modalities"] and filled["benchmark"] != "embedded":
        problems.append(
            "  modalities: points (the fourth modality) exists in the embedded benchmark only; "
            "the paper benchmark has no point-cloud data set or codec: use [text, image, audio]"
        )
    if filled["train"]["checkpoint_every"] % filled["train"]["log_every"]:
        problems.append(
            "  train.checkpoint_every: must be a multiple of "
            f"train.log_every ({filled['train']['log_every']})"
        )
    available = physical_memory_bytes()
    for keys, estimate in memory_estimates(filled).items():
        if available is not None and estimate > available:
            problems.append(
                f"  {keys}: needs at least {_gib(estimate)} of memory, more than this "
                f"machine's {_gib(available)}; lower them"
            )
    if problems:
        raise ConfigError("invalid workflow configuration:\n" + "\n".join(problems))
    return _sorted(filled)


def dry_run(argv: Sequence[str]) -> bool:
    """Whether a snakemake command line only plans (-n, --dry-run, or -n among short flags)."""
    flags = [a for a in argv if a.startswith("-") and not a.startswith("--") and a[1:].isalpha()]
    return any(a in ("--dry-run", "--dryrun") for a in argv) or any("n" in f for f in flags)


PAPER_LARGEST_TEST = 30_000


def memory_estimates(config: Mapping[str, Any]) -> dict[str, int]:
    """Lower bounds, in bytes, on the memory of the largest step each group of keys sets.

    ``TRAINING_MEMORY_KEYS``: one FlowBind training step. Parameters: per modality, a drift
    network (input and output projections and ``depth`` blocks of an MLP of ratio 4 and a 3x
    modulation) and an anchor-encoder head (projections and residual blocks), each held four
    times (weights, gradients, Adam's two moments). Activations: per pair table, the MLP's
    hidden rows of every block for at least one drifted modality, kept for the backward pass.
    Biases and the time embedding are left out; the baselines match FlowBind's parameter count.
    ``evaluation.bootstrap_resamples``: one bootstrap interval, (resamples, n) int64 indices and
    the float64 values they gather, n the size of a test split.
    Being lower bounds, they never refuse a configuration that fits.
    """
    from bench.embedded.build import PAIR_SPLITS, SIZES
    from flowbind.config import FlowBindConfig

    d, h = config["latent_dim"], config["model"]["hidden_dim"]
    depth, he = config["model"]["depth"], config["model"]["encoder_hidden_dim"]
    blocks = FlowBindConfig.__dataclass_fields__["encoder_depth"].default
    modalities = len({m for pair in PAIR_SPLITS.values() for m in pair})
    params = modalities * (2 * d * h + depth * 11 * h * h + 3 * d * he + blocks * 2 * he * he)
    # One minibatch per pair table (bench.embedded.build.PAIR_SPLITS) each step.
    activations = config["train"]["batch_size"] * len(PAIR_SPLITS) * (depth * 4 * h + d)
    # the largest test split: the embedded size's, or the paper's MSCOCO-30k
    n_test = PAPER_LARGEST_TEST if config["benchmark"] == "paper" else SIZES[config["size"]].test
    return {
        TRAINING_MEMORY_KEYS: 4 * (4 * params + activations),
        "evaluation.bootstrap_resamples": 16 * config["evaluation"]["bootstrap_resamples"] * n_test,
    }


def physical_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"


def _sorted(value: Any) -> Any:
    """Mappings with sorted keys, recursively: Snakemake compares rule params by their text,
    so the same config written in another key order must not look like a change."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


# -- command line -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.config",
        description="Resolve and check the workflow configuration as `snakemake` would, "
        "without running anything, and print it as YAML.",
    )
    parser.add_argument("--configfile", nargs="+", default=[], help="config files, merged in order")
    parser.add_argument("--config", nargs="+", default=[], help="KEY=VALUE overrides")
    args = parser.parse_args(argv)
    try:
        config = resolve_config(args.configfile, parse_overrides(args.config))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    print(yaml.safe_dump(config, sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
