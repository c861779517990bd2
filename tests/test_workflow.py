"""The Snakemake workflow: planning of every target, config validation, a tiny run end to end."""

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_run import ROOT, snakemake

from bench.config import ConfigError, validate_config
from bench.tables import METRIC_TABLES, TABLE9, label

CONFIGS = ROOT / "workflow" / "config"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
TARGETS = ["all", "tables", "results/table2.csv", "ablations", "curves"]
TABLES = ["table1", "table2", "table3", "table4", "table5", "table6", "table7", "table8"]
ABLATION_FILES = ["ia_fraction.csv", "objective.csv", "solver.csv"]
TINY = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
EVERY_METHOD = ["flowbind", "text_anchor", "codi", "omniflow", "crossflow"]


def planned_rules(output: str) -> set[str]:
    """Rule names of a dry run's job table."""
    lines = output.split("Job stats:")[-1].splitlines()
    rows = [ln.split() for ln in lines[3:]]
    return {r[0] for r in rows if len(r) == 2 and r[1].isdigit() and r[0] != "total"}


def dry_run(workdir: Path, config: str, *targets: str) -> set[str]:
    """The rules a dry run of ``targets`` with workflow/config/<config>.yaml plans."""
    result = snakemake(
        workdir, "-n", "--cores", "2", *targets, "--configfile", str(CONFIGS / f"{config}.yaml")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return planned_rules(result.stdout)


@pytest.mark.parametrize("config", ["default", "tiny"])
def test_every_documented_target_plans(tmp_path, config):
    rules = dry_run(tmp_path, config, *TARGETS)
    assert {"train", "generate_one_to_one", "evaluate_one_to_one", "metric_table"} <= rules
    assert {"generate_multi", "evaluate_multi", "solver", "table4"} <= rules
    assert {"budget_curve", "data_curve", "conflict"} <= rules


POINT_RULES = {"data_points", "encode_points", "generate_points", "evaluate_points", "cost_scaling"}


def test_the_fourth_modality_is_planned_only_where_it_is_switched_on(tmp_path):
    """The default config's modalities are the paper's three: its default target plans none of
    the fourth modality's jobs, and `snakemake fourth_modality` stops and says how to switch
    it on; the tiny config has it on, and its target plans those jobs."""
    assert not dry_run(tmp_path, "default", "all") & POINT_RULES
    result = snakemake(tmp_path, "-n", "--cores", "2", "fourth_modality")
    assert result.returncode != 0
    assert "the fourth modality is off" in result.stdout + result.stderr
    assert "modalities=[text,image,audio,points]" in result.stdout + result.stderr
    rules = dry_run(tmp_path, "tiny", "fourth_modality")
    assert POINT_RULES | {"train", "metric_table", "codec", "evaluator"} <= rules
    assert not rules & {"generate_one_to_one", "generate_multi", "encode_tables"}


def test_table2_waits_only_for_the_one_to_one_tasks(tmp_path):
    """Tables 2 and 3 are one-to-one: generating the other families would only cost time."""
    rules = dry_run(tmp_path, "default", "results/table2.csv")
    assert {"train", "generate_one_to_one", "evaluate_one_to_one", "metric_table"} <= rules
    assert not rules & {"generate_multi", "evaluate_multi"}


def test_snakemake_finds_the_default_profile_in_the_repository_root():
    """`snakemake ablations` with no flags needs profiles/default (it supplies `cores: all`).

    A dry run with --forceall plans every job, so the check holds in a checkout whose results/
    already holds a finished run."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--forceall", "ablations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "profiles/default" in result.stdout + result.stderr
    assert "rule solver" in result.stdout + result.stderr


def test_lint_is_clean():
    result = snakemake(ROOT, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_every_schema_key_has_a_description_and_a_default():
    def walk(schema, path):
        for key, sub in schema.get("properties", {}).items():
            assert "description" in sub, f"{path}{key} has no description"
            assert "default" in sub, f"{path}{key} has no default"
            walk(sub, f"{path}{key}.")

    walk(yaml.safe_load(SCHEMA.read_text()), "")


def test_configs_validate_and_defaults_fill_in():
    for name in ("default", "tiny", "paper", "paper_tiny"):
        validate_config(yaml.safe_load((CONFIGS / f"{name}.yaml").read_text()), SCHEMA)
    filled = validate_config({}, SCHEMA)
    assert filled["train"]["steps"] == 1500
    assert filled["methods"] == ["flowbind", "text_anchor", "codi", "omniflow", "crossflow"]
    assert filled["baselines"]["codi"]["guidance_scale"] == 2.0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda c: c.update(methods=["flowbind", "codi_typo"]), "methods[1]"),
        (lambda c: c["train"].update(steps=-5), "train.steps"),
        (lambda c: c["ablations"]["solvers"][0].pop("method"), "ablations.solvers[0]"),
        (lambda c: c["model"].update(hidden_dims=8), "model"),
        (
            lambda c: c["ablations"]["objectives"]["official-no-stop-grad"].pop("scheme"),
            "objectives.official-no-stop-grad",
        ),
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, change, key):
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    change(config)
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        validate_config(config, SCHEMA)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert result.returncode != 0
    assert key in result.stdout + result.stderr
    assert not (tmp_path / "results").exists(), "a job ran despite the bad config"


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def metric_columns(header: list[str]) -> list[str]:
    return [c for c in header if not c.endswith((" low", " high", " sd"))]


def method_rows(methods: list[str]) -> list[str]:
    return [label(m) for m in [*methods, "codec_ceiling"]]


def check_finite(name: str, header: list[str], rows: list[dict[str, str]]) -> None:
    """Every metric cell and interval bound of a table is a finite number."""
    for row in rows:
        for column in header:
            if column.endswith((" low", " high")) or column in METRIC_TABLES.get(name, {}):
                assert math.isfinite(float(row[column])), (name, column, row[column])


def test_tiny_run_writes_every_table_with_the_papers_columns(tiny_run):
    results = tiny_run / "results"
    for name in TABLES:
        header, rows = read_csv(results / f"{name}.csv")
        paper_header, paper_rows = read_csv(ROOT / "results" / "paper" / f"{name}.csv")
        if name in METRIC_TABLES:
            assert header[1] == "Seeds" and metric_columns(header[2:]) == paper_header[1:], name
            assert metric_columns(header)[0] == paper_header[0] == "Method"
            assert [r["Method"] for r in rows] == method_rows(TINY["methods"])
            # every trained method pooled over the config's seeds, the codec ceiling has one
            seeds = [r["Seeds"] for r in rows]
            assert seeds == [str(len(TINY["seeds"]))] * len(TINY["methods"]) + ["1"], name
            first = metric_columns(header)[2]
            assert rows[0][f"{first} sd"] and not rows[-1][f"{first} sd"], name
        check_finite(name, header, rows)
    header, rows = read_csv(results / "attributes.csv")
    assert {r["Task"] for r in rows} >= {"T->I", "(I+A)->T", "A->(T+I)"}
    for file in ABLATION_FILES:
        header, rows = read_csv(results / file)
        assert rows and all(math.isfinite(float(r[metric_columns(header)[-1]])) for r in rows)
    header, rows = read_csv(results / "table4.csv")
    assert [r["Method"] for r in rows][:2] == ["Text-anchoring", "FlowBind without I-A pairs"]
    assert all(r["Seeds"] == str(len(TINY["seeds"])) for r in rows)  # Table 4: the main seeds
    header, rows = read_csv(results / "objective.csv")
    assert all(r["Seeds"] == "1" for r in rows)  # ablations.seeds: null, the main seed alone
    for figure in ("ia_fraction.png", "solver.png"):
        assert (results / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the curves: every trained method at every budget and data share of the config
    header, rows = read_csv(results / "budget_curve.csv")
    expected = [(label(m), str(s)) for m in TINY["methods"] for s in TINY["curves"]["steps"]]
    assert [(r["Method"], r["Steps"]) for r in rows] == expected
    check_finite("budget_curve", header, rows)
    flops = {(r["Method"], int(r["Steps"])): float(r["Training TFLOP"]) for r in rows}
    first, *others = TINY["curves"]["steps"]
    for m in TINY["methods"]:  # one stage each: FLOPs grow with the steps, in proportion
        for steps in others:  # to the CSV's 4 significant digits
            ratio = flops[label(m), steps] / flops[label(m), first]
            assert ratio == pytest.approx(steps / first, rel=1e-3)
    # the shortest budget is the main run's snapshot, not a training of its own: the longest
    # budget run continues the main run, which keeps the snapshots below its budget
    assert first < TINY["train"]["steps"] < max(others)
    fit = json.loads((results / "train/flowbind" / f"steps{first}" / "seed0/fit.json").read_text())
    assert fit["snapshot_of"].endswith("main/seed0") and fit["steps"] == first
    header, rows = read_csv(results / "budget_fraction.csv")
    assert {r["Past the knee"] for r in rows} <= {"yes", "no"} and rows
    header, rows = read_csv(results / "data_curve.csv")
    pairs = {(r["Method"], r["Pairs kept (%)"]): int(r["Training pairs"]) for r in rows}
    assert pairs[label("flowbind"), "50"] * 2 == pytest.approx(
        pairs[label("flowbind"), "100"], abs=2
    )
    header, rows = read_csv(results / "conflict.csv")
    assert [r["Condition"] for r in rows] == [
        "T->I",
        "A->I",
        "(T+A)->I, same scene",
        "(T+A)->I, conflicting",
        "chance",
    ]
    assert "colour: caption's scene (%)" in header and "count: audio's scene (%)" in header
    manifest = results / "generate" / "flowbind" / "seed0" / "t2ia" / "manifest.csv"
    header, rows = read_csv(manifest)
    assert header == ["id", "split", "task", "sources", "image", "audio"]
    assert (manifest.parent / rows[0]["image"]).is_file()


def test_tiny_run_scores_the_fourth_modality_and_counts_its_cost(tiny_run):
    """Table 9: every seen, unseen and many-to-one point-cloud task; text anchoring never
    learnt point clouds (they are paired with images only), so its cells are blank and the
    report says why. The cost table counts every trained method at 3 to 10 modalities."""
    results = tiny_run / "results"
    header, rows = read_csv(results / "table9.csv")
    assert metric_columns(header[2:]) == list(TABLE9)
    assert [r["Method"] for r in rows] == method_rows(TINY["methods"])
    flowbind, text_anchor, ceiling = rows
    for column in TABLE9:
        for row in (flowbind, ceiling):
            low, value, high = (float(row[column + k]) for k in (" low", "", " high"))
            assert math.isfinite(value) and low <= value <= high, (row["Method"], column)
        assert text_anchor[column] == "" and text_anchor[f"{column} low"] == "", column
    assert flowbind["Seeds"] == str(len(TINY["seeds"])) and ceiling["Seeds"] == "1"
    fit = json.loads((results / "train/flowbind/points/seed1/fit.json").read_text())
    assert fit["pairs"] == {"text-image": 310, "text-audio": 96, "image-audio": 180,
                            "image-points": 180}  # fmt: skip
    main = json.loads((results / "train/flowbind/main/seed1/fit.json").read_text())
    assert "image-points" not in main["pairs"]
    assert not (results / "embedded/data/train_ip").exists()
    assert (results / "embedded/data_points/train_ip/SHA256SUMS").is_file()
    header, rows = read_csv(results / "cost_scaling.csv")
    counts = [3, 4, 5, 6, 8, 10]
    expected = [(label(m), str(k)) for m in TINY["methods"] for k in counts]
    assert [(r["Method"], r["Modalities"]) for r in rows] == expected
    for r in rows:
        if r["Method"] == "FlowBind":  # one drift and one encoder head per modality
            assert float(r["Parameters (x 3 modalities)"]) == pytest.approx(
                int(r["Modalities"]) / 3, abs=0.006
            )
        timed = r["Modalities"] in ("3", "4")
        assert (r["Step ms (CPU, measured)"] != "") == timed
    assert (results / "cost_scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header, rows = read_csv(results / "claims.csv")
    unseen = [r for r in rows if r["Claim"] == "unseen_points"]
    assert [r["Metric"] for r in unseen] == [
        "T->P Attr (%)",
        "P->T Attr (%)",
        "A->P Attr (%)",
        "P->A Attr (%)",
    ]
    assert [r["Other value"] for r in unseen] == ["37.5", "37.5", "29.1667", "29.1667"]
    report = (results / "report.html").read_text()
    assert "The fourth modality" in report and "Cost against the number of modalities" in report
    tasks = "I→P, P→I, T→P, P→T, A→P, P→A, (T+I)→P"
    assert f"Text-anchoring on {tasks}: points appears in none of the pair tables" in report


def test_ablation_scores_of_the_main_run_equal_generating_them_again(tiny_run, tmp_path):
    """ablation_main copies the main run's scores; ablation_eval on that run gives the same.

    Equal to the bit: the workflow's generation and scoring jobs run torch on one thread (their
    rules ask for no more), so the regeneration here does too. On another thread count the
    matrix products split their sums differently, and the scores move in the last float32 digits.
    """
    import numpy as np
    import torch

    from bench.ablations import evaluate_run, read_run
    from bench.benchmark import EmbeddedBenchmark
    from bench.methods import load_method
    from bench.tasks import FAMILIES

    results = tiny_run / "results"
    tiny = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    solver = tiny["generation"]
    copied = read_run(results / "ablations" / "evaluate" / "flowbind" / "main" / "seed0.json")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        records, items, _ = evaluate_run(
            load_method(results / "train" / "flowbind" / "main" / "seed0"),
            list(FAMILIES["one_to_one"]),
            results / "latents",
            EmbeddedBenchmark(results / "embedded"),
            tmp_path / "generated",
            solver,
            tiny["evaluation"]["bootstrap_resamples"],
        )
    finally:
        torch.set_num_threads(threads)
    assert sorted(copied) == sorted(records)
    for task, (copied_records, copied_items) in copied.items():
        assert copied_records == records[task], task
        fresh = {k.split("|", 1)[1]: v for k, v in items.items() if k.startswith(f"{task}|")}
        assert sorted(copied_items) == sorted(fresh)
        for name, values in fresh.items():
            np.testing.assert_array_equal(copied_items[name], values)


def test_a_generation_change_reruns_generation_and_scoring_never_a_training(tiny_run, tmp_path):
    """The ODE solver is a generation setting: no training job may depend on it."""
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    config["generation"] = {"method": "midpoint", "steps": config["generation"]["steps"] + 1}
    changed = tmp_path / "tiny-midpoint.yaml"
    changed.write_text(yaml.safe_dump(config))
    result = snakemake(tiny_run, "-n", "--cores", "2", "--configfile", str(changed))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = planned_rules(result.stdout)
    assert {"generate_one_to_one", "evaluate_one_to_one", "metric_table"} <= rules
    assert not rules & {"train", "codec", "evaluator", "encode"}, rules
    model_config = json.loads(
        (tiny_run / "results/train/flowbind/main/seed0/model/config.json").read_text()
    )
    assert not {"solver", "solver_steps"} & set(model_config["config"])


def test_switching_the_fourth_modality_redoes_nothing_of_the_main_tables(tiny_run, tmp_path):
    """The tiny run has the fourth modality on; with it off, only the pages that show it (the
    report, the claims, the resolved config) are redone: no data, network, run or table. (Before
    the rerun test below, which leaves the report behind its retrained runs.)"""
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    config["modalities"] = ["text", "image", "audio"]
    (tmp_path / "three.yaml").write_text(yaml.safe_dump(config))
    plans = {}
    for name, path in (("three", tmp_path / "three.yaml"), ("four", CONFIGS / "tiny.yaml")):
        result = snakemake(tiny_run, "-n", "--cores", "2", "--configfile", str(path))
        assert result.returncode == 0, result.stdout + result.stderr
        plans[name] = planned_rules(result.stdout)
    assert plans["three"] - plans["four"] <= {"report", "claims", "resolved_config", "all"}


def test_tiny_rerun_is_byte_identical_and_config_changes_rerun_only_dependents(tiny_run):
    results = tiny_run / "results"
    before = {n: (results / f"{n}.csv").read_bytes() for n in ("table2", "table3", "table7")}
    # Retrain from scratch: the training runs and everything the tables need from them rerun.
    targets = [f"results/{n}.csv" for n in before]
    result = snakemake(
        tiny_run,
        "--cores",
        "2",
        *targets,
        "--forcerun",
        "train",
        "--configfile",
        str(CONFIGS / "tiny.yaml"),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert {"train", "generate_one_to_one", "evaluate_one_to_one", "metric_table"} <= planned_rules(
        result.stdout + result.stderr
    )
    for name, content in before.items():
        assert (results / f"{name}.csv").read_bytes() == content, f"{name}.csv changed on rerun"

    changed = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    changed["evaluation"]["bootstrap_resamples"] = 50
    (tiny_run / "changed.yaml").write_text(yaml.safe_dump(changed))
    plan = snakemake(tiny_run, "-n", "--cores", "2", "--configfile", "changed.yaml")
    assert plan.returncode == 0, plan.stderr
    rules = planned_rules(plan.stdout)
    assert {"evaluate_one_to_one", "ablation_eval", "metric_table"} <= rules
    assert not rules & {"data", "codec", "evaluator", "encode", "train"}
    assert not any(rule.startswith("generate") for rule in rules)


def test_generation_does_not_wait_for_the_evaluators(tmp_path):
    """Generation needs the codecs and a trained run; the evaluators train beside it."""
    rules = dry_run(tmp_path, "tiny", "results/generate/flowbind/seed0/t2i/manifest.csv")
    assert {"codec", "train", "generate_one_to_one"} <= rules
    assert not rules & {"evaluator", "codecs_ready"}


@pytest.mark.slow
def test_tiny_tables_with_every_method_and_ablation_seeds(tmp_path):
    """The tiny config runs two methods, and its ablations one seed; here the baselines' rows of
    Tables 2, 3, 7 and 8 with one seed and their data curve (each baseline through
    ablation_eval), then, in the same folder, Table 4 over the tiny config's two seeds and the I-A
    fraction curve over two ablation seeds, with their seed spread, through the same rules (about
    4 minutes). The main tables' pooling of two seeds is the tiny run's own."""

    def run(name: str, overrides: dict, *targets: str) -> None:
        (tmp_path / name).write_text(yaml.safe_dump({"methods": EVERY_METHOD, **overrides}))
        tiny = str(CONFIGS / "tiny.yaml")
        result = snakemake(tmp_path, "--cores", "2", *targets, "--configfile", tiny, name)
        assert result.returncode == 0, result.stderr[-4000:]

    tables = [f"results/{n}.csv" for n in ("table2", "table3", "table7", "table8", "table9")]
    run("every_method.yaml", {"seeds": [0]}, *tables, "results/data_curve.csv")
    results = tmp_path / "results"
    for name in ("table2", "table3", "table7", "table8"):
        header, rows = read_csv(results / f"{name}.csv")
        assert [r["Method"] for r in rows] == method_rows(EVERY_METHOD), name
        check_finite(name, header, rows)
    # Table 9: the methods that learn from image-point-cloud pairs serve every point-cloud
    # task (CrossFlow through image); text anchoring and CoDi, which learn from text pairs
    # only, serve none, and say why
    header, rows = read_csv(results / "table9.csv")
    assert [r["Method"] for r in rows] == method_rows(EVERY_METHOD)
    for row in rows:
        served = row["Method"] not in ("Text-anchoring", "CoDi (latent)")
        for column in TABLE9:
            assert (row[column] != "") == served, (row["Method"], column)
            if served:
                assert math.isfinite(float(row[column])), (row["Method"], column)
    why = json.loads((results / "evaluate/codi/seed0/t2p.json").read_text())["unsupported"]
    assert why.startswith("points appears in none of the pair tables codi learnt from")
    header, rows = read_csv(results / "data_curve.csv")
    kept = [str(p) for p in TINY["curves"]["data_percent"]]
    assert [(r["Method"], r["Pairs kept (%)"]) for r in rows] == [
        (label(m), p) for m in EVERY_METHOD for p in kept
    ]
    check_finite("data_curve", header, rows)

    two_seeds = {"ablations": {"seeds": [0, 1]}}  # and the tiny config's two main seeds
    run("ablation_seeds.yaml", two_seeds, "results/table4.csv", "results/ia_fraction.csv")
    for file in ("table4.csv", "ia_fraction.csv"):  # trained ablations, pooled over two seeds
        header, rows = read_csv(results / file)
        spread = [c for c in header if c.endswith(" sd")]
        assert rows and spread, file
        for row in rows:
            if row.get("Seeds") == "2":
                assert all(math.isfinite(float(row[c])) for c in spread), (file, row)
    header, rows = read_csv(results / "table4.csv")
    assert all(r["Seeds"] == "2" for r in rows)
