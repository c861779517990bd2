"""Shared test settings: every test starts from the same torch seed; one tiny workflow run."""

import pytest
import torch
from workflow_run import ROOT, snakemake


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session", autouse=True)
def _offline():
    """Nothing may reach the Hugging Face hub (the loaders also pass local_files_only)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The tiny config's whole DAG (report included), run once for every test that needs it."""
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake(
        workdir, "--cores", "2", "--configfile", str(ROOT / "workflow" / "config" / "tiny.yaml")
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir
