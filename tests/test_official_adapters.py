"""Plumbing of baselines/official, offline, with stand-ins for the official packages.

The stand-ins have the call signatures read from the authors' code and record their calls. The
tests check the arguments each adapter passes per task, the generation layout and its manifest,
and the messages for a missing package, weights or task. They never run the official models.
"""

import csv
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from baselines.official.codi import MODULE, PAD_SECONDS, WEIGHTS, CoDiAdapter
from baselines.official.common import BaselineUnavailableError, UnsupportedTaskError
from baselines.official.omniflow import OmniFlowAdapter
from bench.generate import read_outputs, write_decoded, write_outputs
from bench.tasks import TASKS, get_task

IDS = ["s0", "s1"]
SOURCES = {
    "text": ["a red disc", "two blue bars"],
    "image": np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8),
    "audio": np.random.default_rng(1).integers(-3000, 3000, (2, 16_000), dtype=np.int16),
}
# (add_token_embed, guidance_scale, num_inference_steps) as the authors call each OmniFlow task.
AUTHORS = dict(t2i=(0, 7.0, 28), i2t=(1, 2, 28), a2t=(1, 4, 28), t2a=(1, 4, 50))
AUTHORS |= dict(i2a=(1, 7.0, 28), a2i=(1, 7.0, 28))
ONE_TO_ONE = tuple(AUTHORS)
ARGS = ("task", "height", "width", "cfg_mode", "add_token_embed", "guidance_scale")


STANDINS = Path(__file__).parent / "standins"  # the official packages' stand-ins (README there)


@pytest.fixture(autouse=True)
def fresh_imports(monkeypatch):
    """Each test imports the stand-ins afresh, and leaves sys.path and sys.modules as it found
    them."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    ours = ("omniflow", "core", "standin_vocoder")
    before = {n for n in sys.modules if n.split(".")[0] in ours}
    for name in before:
        monkeypatch.delitem(sys.modules, name)
    yield
    for name in [n for n in sys.modules if n.split(".")[0] in ours]:
        del sys.modules[name]


@pytest.fixture
def omniflow(tmp_path) -> OmniFlowAdapter:
    (tmp_path / "ckpt" / "transformer").mkdir(parents=True)
    (tmp_path / "ckpt" / "transformer" / "diffusion_pytorch_model.bin").touch()
    return OmniFlowAdapter(
        checkpoint=tmp_path / "ckpt",
        device="cpu",
        vocoder="standin_vocoder:vocode",
        repo_dir=STANDINS / "omniflow",
    )


def check_layout(folder: Path, key: str) -> dict[str, Any]:
    """The folder is results/generate/<method>/<key>/ and its manifest links ids to outputs."""
    task = get_task(key)
    assert folder.name == key and folder.parent.parent.name == "generate"
    with (folder / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row, item in zip(rows, IDS, strict=True):
        assert (row["split"], row["task"]) == (task.split, task.name)
        assert row["sources"] == "+".join(task.sources)
        for target in task.targets:
            if target != "text":
                assert row[target] == f"{target}/{item}.{'png' if target == 'image' else 'wav'}"
    assert not (folder / "latents.npz").exists()
    out = read_outputs(folder, task)  # the evaluate step's reader accepts the folder
    assert out["ids"] == IDS
    return out


@pytest.mark.parametrize("key", ONE_TO_ONE)
def test_omniflow_calls_and_layout(omniflow, tmp_path, key):
    task = get_task(key)
    folder = omniflow.generate(key, SOURCES, IDS, results=tmp_path / "results")
    assert folder == tmp_path / "results" / "generate" / "omniflow_official" / key
    pipeline = omniflow.load()
    assert pipeline.loaded_with == (str(tmp_path / "ckpt"), "cpu")
    assert len(pipeline.calls) == len(IDS)
    for row, call in enumerate(pipeline.calls):
        args = tuple(call[name] for name in (*ARGS, "num_inference_steps"))
        assert args == (key, 512, 512, "new", *AUTHORS[key])
        assert call["prompt"] == (SOURCES["text"][row] if "text" in task.sources else "")
        assert (call["input_img"] is None) == ("image" not in task.sources)
        if "image" in task.sources:
            np.testing.assert_array_equal(np.asarray(call["input_img"]), SOURCES["image"][row])
        assert (call["input_aud"] is None) == ("audio" not in task.sources)
        if "audio" in task.sources:
            np.testing.assert_array_equal(call["audio"], SOURCES["audio"][row])
    out = check_layout(folder, key)  # read_outputs checks 64x64 images and 16000-sample clips
    if "image" in task.targets:
        assert (out["image"][..., 0] == 200).all()
    if "audio" in task.targets:
        assert np.abs(out["audio"].astype(int) - round(0.25 * 32767)).max() <= 1
    if "text" in task.targets:
        assert out["text"] == ["caption 1", "caption 2"]


@pytest.mark.parametrize("key", ["t2ia", "i2ta", "a2ti", "ta2i", "ti2a", "ia2t"])
def test_omniflow_refuses_tasks_it_lacks(omniflow, key):
    with pytest.raises(UnsupportedTaskError, match=f"omniflow_official cannot run {key}"):
        omniflow.generate(key, SOURCES, IDS)


def test_omniflow_unreleased_tasks_reach_the_pipeline_under_their_names(omniflow):
    omniflow = OmniFlowAdapter(
        omniflow.checkpoint, "cpu", omniflow.vocoder, True, repo_dir=omniflow.repo_dir
    )
    with pytest.raises(AssertionError, match="rejects at2i"):
        omniflow.generate("ta2i", SOURCES, IDS)


@pytest.fixture
def codi(tmp_path) -> CoDiAdapter:
    for name in WEIGHTS:
        (tmp_path / name).touch()
    return CoDiAdapter(repo_dir=STANDINS / "codi", checkpoint_dir=tmp_path, device="cpu")


@pytest.mark.parametrize("key", list(TASKS))
def test_codi_calls_and_layout(codi, tmp_path, key):
    task = get_task(key)
    folder = codi.generate(key, SOURCES, IDS, results=tmp_path / "results")
    model = codi.load()
    assert model.loaded_with == (str(tmp_path), list(WEIGHTS), False) and model.device == "cpu"
    assert len(model.calls) == len(IDS)
    for row, call in enumerate(model.calls):
        sampling = dict(n_samples=1, image_size=256, ddim_steps=50, scale=7.5)
        assert {name: call[name] for name in sampling} == sampling
        assert (call["xtype"], call["condition_types"]) == (list(task.targets), list(task.sources))
        assert call["mix_weight"] == {"video": 1, "audio": 1, "text": 1, "image": 1}
        for modality, value in zip(task.sources, call["condition"], strict=True):
            if modality == "text":
                assert value == SOURCES["text"][row]
            elif modality == "image":
                np.testing.assert_array_equal(np.asarray(value), SOURCES["image"][row])
            else:  # 1-D float waveform, zero-padded to the demo's 10.23 s
                assert value.shape == (int(16_000 * PAD_SECONDS),) and value.dtype == torch.float32
                assert (value[:16_000].numpy() * 32768 == SOURCES["audio"][row]).all()
                assert not value[16_000:].any()
    out = check_layout(folder, key)
    if "image" in task.targets:
        assert (out["image"][..., 1] == 200).all()
    if "audio" in task.targets:
        assert (out["audio"] == round(-0.5 * 32767)).all()
    if "text" in task.targets:
        assert out["text"] == ["caption 1", "caption 2"]


def test_missing_weights_say_where_they_go(omniflow, codi, tmp_path):
    omniflow.checkpoint = tmp_path / "elsewhere"
    with pytest.raises(BaselineUnavailableError, match="OmniFlow-v0.5 --local-dir .*elsewhere"):
        omniflow.load()
    (tmp_path / "CoDi_audio_diffuser_m.pth").unlink()
    with pytest.raises(BaselineUnavailableError, match="main/CoDi_audio_diffuser_m.pth -P"):
        codi.load()


def test_missing_packages_name_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "omniflow", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, MODULE, None)
    monkeypatch.setattr(sys, "path", list(sys.path))
    omniflow, codi = OmniFlowAdapter(tmp_path), CoDiAdapter(repo_dir=tmp_path / "i-Code-V3")
    assert not omniflow.available() and not codi.available()
    with pytest.raises(BaselineUnavailableError, match="pip install -e OmniFlows"):
        omniflow.load()
    with pytest.raises(BaselineUnavailableError, match="github.com/microsoft/i-Code &&"):
        codi.load()
    assert str(tmp_path / "i-Code-V3") in sys.path


def test_write_outputs_is_write_decoded_plus_latents(tmp_path):
    """The split of write_outputs keeps its files: decoded outputs, manifest, latents.npz."""
    codec = types.SimpleNamespace(decode=lambda z: [f"caption {v:.0f}" for v in z[:, 0]])
    task, latents = get_task("i2t"), {"text": np.array([[1.0], [2.0]], np.float32)}
    write_outputs(tmp_path / "a", task, np.array(IDS), latents, {"text": codec})
    write_decoded(tmp_path / "b", task, IDS, {"text": ["caption 1", "caption 2"]})
    for name in ("text.json", "manifest.csv"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    assert (tmp_path / "a" / "latents.npz").is_file()


# -- the workflow's side: registry, up-front check, unsupported tasks, native sizes ----------


def test_locate_finds_package_and_weights_without_importing(codi, omniflow, tmp_path):
    assert codi.unavailable() is None and omniflow.unavailable() is None
    assert "core" not in sys.modules and "omniflow" not in sys.modules  # found, not imported
    codi.repo_dir = tmp_path / "empty-clone"
    assert "core/models/model_module_infer.py" in codi.unavailable()
    omniflow.checkpoint = tmp_path / "nowhere"
    assert "diffusion_pytorch_model.bin is missing" in omniflow.unavailable()


def test_the_config_names_released_models_and_the_check_lists_what_is_missing(tmp_path):
    from bench.methods import build_adapter, unavailable_official

    options = {"repo_dir": str(STANDINS / "codi"), "checkpoint_dir": str(tmp_path)}
    adapter = build_adapter("codi_official", options, fixed_size=False)
    assert isinstance(adapter, CoDiAdapter) and adapter.image_size is None
    assert adapter.audio_length is None and adapter.checkpoint_dir == tmp_path
    config = {
        "methods": ["flowbind", "codi_official", "omniflow_official"],
        "baselines": {"codi_official": options},
    }
    problems = unavailable_official(config)
    assert len(problems) == 2  # CoDi's weights; OmniFlow's package (installed nowhere)
    assert "CoDi weights" in problems[0] and "baselines.codi_official" in problems[0]
    assert "pip install -e OmniFlows" in problems[1]
    for name in WEIGHTS:
        (tmp_path / name).touch()
    assert len(unavailable_official(config)) == 1


def test_a_task_without_a_call_is_marked_and_its_folder_refused(omniflow, tmp_path):
    from bench.embedded.storage import DatasetError
    from bench.generate import generate_official, unsupported_reason

    task = get_task("ti2a")
    folder = generate_official(omniflow, task, split=None, folder=tmp_path / "ti2a")
    assert unsupported_reason(folder) == "its __call__ has no it2a denoising branch"
    assert omniflow._model is None  # nothing was loaded for it
    with pytest.raises(DatasetError, match=r"cannot run \(T\+I\)->A"):
        read_outputs(folder, task)
    assert unsupported_reason(tmp_path) is None


def test_paper_splits_keep_the_models_own_sizes(codi, tmp_path):
    """On the paper benchmark, outputs keep CoDi's 256 px and 10.24 s; the task's own split
    (T->I: test_t2i) goes to the manifest, and images of any size are read on access."""
    import dataclasses

    class LazySplit:  # PaperSplit's interface: modalities, ids, captions, lazily read media
        modalities = ("text", "image")
        ids = IDS
        captions = SOURCES["text"]
        image = [np.zeros((300, 200, 3), np.uint8), np.zeros((90, 120, 3), np.uint8)]

    from bench.generate import generate_official

    codi.image_size = codi.audio_length = None
    task = dataclasses.replace(get_task("t2i"), split="test_t2i")
    generate_official(codi, task, LazySplit(), tmp_path / "t2i")
    out = read_outputs(tmp_path / "t2i", task, IDS, fixed_size=False)
    assert [im.shape for im in out["image"]] == [(256, 256, 3)] * 2
    generate_official(codi, get_task("i2a"), LazySplit(), tmp_path / "i2a")
    waves = read_outputs(tmp_path / "i2a", get_task("i2a"), IDS, fixed_size=False)["audio"]
    assert [len(w) for w in waves] == [163_840] * 2
    conditions = [c["condition"][0] for c in codi.load().calls[-2:]]
    assert [im.size for im in conditions] == [(200, 300), (120, 90)]  # sources as they are
