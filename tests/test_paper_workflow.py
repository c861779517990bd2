"""The workflow with the paper benchmark: planning, the up-front check of weights and data,
and the whole DAG on paper_tiny (tiny data sets, tiny random codecs and backbones)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image
from workflow_run import ROOT, snakemake

from bench.report_text import STAND_IN_NOTE
from bench.tables import METRIC_TABLES

CONFIGS = ROOT / "workflow" / "config"
PAPER = str(CONFIGS / "paper.yaml")
PAPER_TINY = str(CONFIGS / "paper_tiny.yaml")
PAPER_OFFICIAL = str(CONFIGS / "paper_official.yaml")
STANDINS = ROOT / "tests" / "standins"  # the official CoDi and OmniFlow code's stand-ins


def job_counts(output: str) -> dict[str, int]:
    lines = output.split("Job stats:")[-1].splitlines()
    return {
        ln.split()[0]: int(ln.split()[1])
        for ln in lines[3:]
        if len(ln.split()) == 2 and ln.split()[1].isdigit()
    }


@pytest.fixture
def empty_weights(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    monkeypatch.setenv("FLOWBIND_WEIGHTS", str(folder))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return folder


def test_the_papers_config_plans_its_whole_dag(tmp_path, empty_weights):
    result = snakemake(tmp_path, "-n", "--configfile", PAPER)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_counts(result.stdout)
    assert jobs["extract"] == 8 and jobs["reference"] == 5  # every split; every test split
    assert jobs["train"] >= 6 and {"solver", "table4", "report"} <= set(jobs)
    assert "attributes" not in jobs  # ground truth exists only in the embedded world
    # planning runs nothing, so the missing files are a warning
    assert "WARNING: the paper benchmark cannot start" in result.stderr


def test_a_run_stops_before_any_job_naming_every_missing_file(tmp_path, empty_weights):
    # the forms docs/paper.md shows: the target before --configfile, or -- after it
    for args in (["results/table2.csv", "--configfile", PAPER], ["--configfile", PAPER, "--"]):
        result = snakemake(tmp_path, "--cores", "1", *args)
        assert result.returncode != 0
        message = result.stdout + result.stderr
        assert "the paper benchmark cannot start" in message
        for expected in (
            str(empty_weights / "ViT-L-14.pt"),
            str(empty_weights / "hub" / "cvssp--audioldm-m-full"),
            "flowbind-model.pth",  # methods: flowbind_released
            "data set 'coco'",
            "dataset_coco.json",
            "data set 'vggsound'",
            "roberta-base",  # LAION-CLAP's import-time hub files
            "snakemake download_weights",
        ):
            assert expected in message, expected
        assert not (tmp_path / "results").exists()


def test_the_released_baseline_models_add_generation_jobs_and_no_training(tmp_path, empty_weights):
    result = snakemake(tmp_path, "-n", "--configfile", PAPER, PAPER_OFFICIAL)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("codi_official", "omniflow_official"):
        assert f"results/generate/{name}/seed0/t2i/manifest.csv" in result.stdout
        assert f"results/evaluate/{name}/seed0/ta2i.json" in result.stdout
        assert f"results/train/{name}/" not in result.stdout
    assert "codi_official: third_party/i-Code/i-Code-V3 holds no" in result.stderr
    assert "huggingface-cli download jacklishufan/OmniFlow-v0.5" not in result.stderr  # code first


def test_download_weights_plans_the_entries_of_the_config(tmp_path, empty_weights):
    result = snakemake(tmp_path, "-n", "download_weights", "--configfile", PAPER)
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout) == {"download_weights": 1, "total": 1}
    assert "cannot start" not in result.stderr


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return list(rows[0]), rows


def released_models(folder: Path) -> Path:
    """A config adding the stand-ins of the released CoDi and OmniFlow models, with weight
    files where their options say."""
    (folder / "codi").mkdir()
    for name in ("encoders", "text_diffuser", "audio_diffuser_m", "video_diffuser_8frames"):
        (folder / "codi" / f"CoDi_{name}.pth").touch()
    (folder / "omniflow" / "transformer").mkdir(parents=True)
    (folder / "omniflow" / "transformer" / "diffusion_pytorch_model.bin").touch()
    codi = {"repo_dir": str(STANDINS / "codi"), "checkpoint_dir": str(folder / "codi")}
    omniflow = {"repo_dir": str(STANDINS / "omniflow"), "checkpoint": str(folder / "omniflow")}
    config = {
        "methods": ["flowbind", "text_anchor", "codi_official", "omniflow_official"],
        "baselines": {
            "codi_official": {**codi, "device": "cpu"},
            "omniflow_official": {**omniflow, "device": "cpu", "vocoder": "standin_vocoder:vocode"},
        },
    }
    (folder / "released.yaml").write_text(json.dumps(config))
    return folder / "released.yaml"


@pytest.mark.slow
def test_paper_tiny_runs_the_whole_dag_and_says_its_numbers_mean_nothing(tmp_path):
    released = str(released_models(tmp_path))
    result = snakemake(tmp_path, "--cores", "2", "--configfile", PAPER_TINY, released)
    assert result.returncode == 0, result.stderr[-4000:]
    results = tmp_path / "results"
    methods = ["FlowBind", "Text-anchoring", "CoDi (released)", "OmniFlow (released)"]
    for name, columns in METRIC_TABLES.items():
        header, rows = read_csv(results / f"{name}.csv")
        assert [r["Method"] for r in rows] == [*methods, "Codec ceiling"]
        assert set(columns) <= set(header)
        codi, omniflow = rows[2], rows[3]
        assert all(codi[c] for c in columns)  # CoDi runs every task
        # OmniFlow's pipeline runs the one-to-one tasks only; the others are blank cells
        assert all(bool(omniflow[c]) == (name in ("table2", "table3")) for c in columns)
    _, budget = read_csv(results / "table1.csv")
    assert [r["Method"] for r in budget] == ["FlowBind", "Text-anchoring"]  # trained ones
    _, data = read_csv(results / "table6.csv")
    assert [r["Dataset"] for r in data][:3] == [
        "laion_coco train + flickr30k all",
        "audiocaps train",
        "vggsound train",
    ]
    for name in ("table1", "table4", "table5", "ia_fraction", "objective", "solver"):
        assert (results / f"{name}.csv").is_file(), name
    assert not (results / "attributes.csv").exists()
    report = (results / "report.html").read_text()
    assert str(escape(STAND_IN_NOTE)) in report and "Gallery: one-to-one" in report
    assert "Blank cells are tasks a method cannot serve" in report
    assert re.search(
        r"OmniFlow \(released\) on T→\(I\+A\)[^:]*: the pipeline generates one modality", report
    )
    # the latents are the paper's 768-d, and every test split has its cached reference
    record = json.loads((results / "splits" / "test_t2i.json").read_text())
    assert len(record["items"]) == 24 and record["bad_items"] == []
    assert (results / "reference" / "test_t2i" / "fid.npz").is_file()
    # released models' outputs keep their own sizes: CoDi's 256 px images
    first = record["items"][0]["id"]
    image = results / "generate" / "codi_official" / "seed0" / "t2i" / "image" / f"{first}.png"
    assert Image.open(image).size == (256, 256)
