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
from PIL import Image

from baselines.official.codi import MODULE, PAD_SECONDS, WEIGHTS, CoDiAdapter
from baselines.official.common import BaselineUnavailableError, UnsupportedTaskError
from baselines.official.omniflow import OmniFlowAdapter
from bench.embedded.storage import read_wav
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


class FakeOmniFlowPipeline:
    """Stand-in for omniflow.OmniFlowPipeline: same names, canned outputs."""

    def __init__(self, path: str, device: str):
        self.loaded_with, self.cfg_mode, self.calls = (path, device), "old", []

    @staticmethod
    def load_pretrained(path, device="cuda", weight_dtype=None, load_ema=False):
        return FakeOmniFlowPipeline(path, device)

    def __call__(
        self,
        prompt=None,
        height=None,
        width=None,
        num_inference_steps=28,
        guidance_scale=7.0,
        add_token_embed=False,
        task="t2i",
        input_img=None,
        input_aud=None,
    ):
        assert task in ONE_TO_ONE, f"released __call__ rejects {task}"
        call = {k: v for k, v in locals().items() if k != "self"} | {"cfg_mode": self.cfg_mode}
        if input_aud is not None:  # read while the adapter's file exists
            call["audio"] = read_wav(Path(input_aud))
        self.calls.append(call)
        if task in ("t2i", "a2i"):
            return types.SimpleNamespace(images=[Image.new("RGB", (512, 512), (200, 10, 10))])
        if task in ("i2t", "a2t"):
            return [f"<s> caption {len(self.calls)} </s>[PAD]"], ["unconditional"]
        return np.zeros((1, 1, 1024, 64), np.float32), None


def fake_vocoder(spec: np.ndarray) -> tuple[np.ndarray, int]:
    """A constant 0.25 clip at 22.05 kHz, so resampling to 16 kHz is checkable."""
    assert spec.shape == (1024, 64)
    return np.full(int(22_050 * 10.24), 0.25), 22_050


@pytest.fixture
def omniflow(tmp_path, monkeypatch) -> OmniFlowAdapter:
    module = types.ModuleType("omniflow")
    module.OmniFlowPipeline = FakeOmniFlowPipeline
    monkeypatch.setitem(sys.modules, "omniflow", module)
    (tmp_path / "ckpt" / "transformer").mkdir(parents=True)
    (tmp_path / "ckpt" / "transformer" / "diffusion_pytorch_model.bin").touch()
    return OmniFlowAdapter(checkpoint=tmp_path / "ckpt", device="cpu", vocoder=fake_vocoder)


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
    omniflow = OmniFlowAdapter(omniflow.checkpoint, "cpu", fake_vocoder, unreleased_tasks=True)
    with pytest.raises(AssertionError, match="rejects at2i"):
        omniflow.generate("ta2i", SOURCES, IDS)


class FakeCoDiModule:
    """Stand-in for CoDi's core.models.model_module_infer.model_module."""

    def __init__(self, data_dir="pretrained", pth=("CoDi_encoders.pth",), fp16=False):
        self.loaded_with, self.calls = (data_dir, pth, fp16), []

    def to(self, device):
        self.device = device
        return self

    def eval(self):
        return self

    def inference(
        self,
        xtype=(),
        condition=(),
        condition_types=(),
        n_samples=1,
        mix_weight=None,
        image_size=256,
        ddim_steps=50,
        scale=7.5,
        num_frames=8,
    ):
        call = {k: v for k, v in locals().items() if k != "self"}
        self.calls.append(call)
        outputs = {
            "image": [Image.new("RGB", (image_size, image_size), (10, 200, 10))] * n_samples,
            "text": [f"caption {len(self.calls)}"] * n_samples,
            "audio": np.full((n_samples, 1, 163_840), -0.5, np.float32),
        }
        return [outputs[x] for x in xtype]


@pytest.fixture
def codi(tmp_path, monkeypatch) -> CoDiAdapter:
    monkeypatch.setitem(sys.modules, MODULE, types.SimpleNamespace(model_module=FakeCoDiModule))
    for name in WEIGHTS:
        (tmp_path / name).touch()
    return CoDiAdapter(checkpoint_dir=tmp_path, device="cpu")


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
