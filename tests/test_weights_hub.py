"""Hub model folders of the weight registry: where they go, what is missing, their MANIFEST."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.backbones import hub, registry
from metrics.backbones.registry import MissingWeightsError, WeightsChecksumError


@pytest.fixture
def weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "weights"))
    return tmp_path / "weights"


def fill(snapshot: hub.HubSnapshot) -> Path:
    for name in snapshot.required:
        (snapshot.path / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot.path / name).write_text(f"contents of {name}")
    return snapshot.path


def test_missing_folder_names_its_place_its_missing_files_and_the_command(weights_dir):
    snapshot = hub.SNAPSHOTS["audioldm-m-full"]
    (snapshot.path / "unet").mkdir(parents=True)
    (snapshot.path / "unet" / "config.json").write_text("{}")
    with pytest.raises(MissingWeightsError) as info:
        hub.snapshot_path("audioldm-m-full")
    message = str(info.value)
    assert str(weights_dir / "hub" / "cvssp--audioldm-m-full") in message
    assert "missing there: model_index.json, vocoder/config.json" in message
    assert "python -m metrics.backbones.registry download audioldm-m-full" in message
    assert "gated" not in message  # AudioLDM asks for no licence; Gemma does
    with pytest.raises(MissingWeightsError, match="hf auth login"):
        hub.snapshot_path("gemma-3-1b-pt")


def test_manifest_detects_a_changed_or_removed_file(weights_dir):
    snapshot = hub.SNAPSHOTS["stable-unclip-small"]
    folder = fill(snapshot)
    assert hub.snapshot_path(snapshot.name) == folder
    assert hub.verify_snapshot(snapshot.name) is False  # put there by hand: nothing to check
    hub.write_manifest(folder)
    assert hub.verify_snapshot(snapshot.name) is True
    (folder / "unet" / "config.json").write_text("changed")
    with pytest.raises(WeightsChecksumError, match=r"1 file\(s\) differ.*unet/config.json"):
        hub.verify_snapshot(snapshot.name)


def test_registry_cli_lists_and_verifies_hub_folders(weights_dir, capsys):
    fill(hub.SNAPSHOTS["embeddinggemma-300m"])
    assert registry.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "embeddinggemma-300m    present" in listing
    assert "audioldm-m-full        missing" in listing
    assert registry.main(["verify", "embeddinggemma-300m"]) == 0
    assert "CANNOT VERIFY (no MANIFEST" in capsys.readouterr().out
    assert registry.main(["verify", "audioldm-m-full"]) == 1
    assert "missing there" in capsys.readouterr().err
