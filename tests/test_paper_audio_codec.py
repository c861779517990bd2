"""The paper benchmark's audio codec on its tiny instance: offline, random weights.

The tiny CLAP is laion_clap's HTSAT class with small widths; its call and clip padding are
re-implemented (laion_clap's modules that hold them fetch tokenizers from the hub at import), so
one test runs laion_clap's own code for both, compiled from the installed source files, on the
same weights. Not covered offline: ``laion_clap.CLAP_Module`` itself and loading clap.pt.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from bench.paper import audio_codec
from bench.paper.audio_codec import (
    AUTOENCODER_FILE,
    TINY_AUDIOLDM_DIR,
    AudioAutoencoder,
    load_audio_autoencoder,
    load_audio_codec,
    save_audio_autoencoder,
    tiny_audio_codec,
    tiny_clap_audio,
    train_audio_autoencoder,
)
from bench.paper.codec import LATENT_DIM, OUTPUT_SAMPLE_RATE
from metrics.backbones.common import BackboneUnavailableError

TINY_LENGTH = 64  # samples: the tiny pipeline's default length at 16 kHz


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One intra-op thread: on networks this small, more threads only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def codec() -> audio_codec.AudioCodec:
    return tiny_audio_codec(seed=0, steps=2, batch_size=2)


def _clips() -> list[np.ndarray]:
    """A 1 s clip (repeat-padded), an exact 10 s clip and a longer one (cropped)."""
    rng = np.random.default_rng(0)
    return [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in (48000, 480000, 500000)]


# ----------------------------------------------------------------------------- encode


def test_encode_gives_raw_768_d_latents_deterministically(codec) -> None:
    clips = _clips()
    numpy_state = np.random.get_state()[1].copy()
    z = codec.encode(clips)
    assert z.shape == (3, LATENT_DIM) and z.dtype == torch.float32 and z.device.type == "cpu"
    assert torch.equal(codec.encode(clips[2:]), z[2:])  # the long clip's crop is seeded ...
    assert torch.equal(codec.encode([torch.from_numpy(clips[2])]), z[2:])  # tensors work too
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # ... and the seeding is local
    clap = codec.encode_clap(clips)
    assert clap.shape == (3, 512) and torch.allclose(clap.norm(dim=1), torch.ones(3), atol=1e-5)
    # raw: the autoencoder's code of the CLAP embedding, not z-scored
    assert torch.allclose(z, codec.autoencoder.encode(clap), atol=1e-6)
    assert codec.sample_rate == 48000 and codec.modality == "audio"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros(4800, np.int16), r"audio\[1\]: expected a float32 waveform .*int16"),
        (np.zeros(4800, np.float64), r"audio\[1\]: expected a float32 waveform .*float64"),
        (np.zeros((2, 4800), np.float32), r"audio\[1\]: expected a mono 1-D .*\(2, 4800\)"),
        (np.full(4800, np.nan, np.float32), r"audio\[1\]: the waveform has NaN or inf"),
        (np.full(4800, 2.0, np.float32), r"audio\[1\]: values must lie in \[-1, 1\]"),
        (np.zeros(0, np.float32), r"audio\[1\]: the waveform is empty"),
    ],
)
def test_encode_rejects_bad_waveforms(codec, bad: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        codec.encode([np.zeros(4800, np.float32), bad])


# ----------------------------------------------------------------------------- tiny CLAP


def _laion_clap_code(relative: str, names: tuple[str, ...], namespace: dict) -> dict:
    """Functions (or methods of a class) compiled from an installed laion_clap source file."""
    root = Path(importlib.util.find_spec("laion_clap").submodule_search_locations[0])
    tree = ast.parse((root / relative).read_text())
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in names]
    assert sorted(n.name for n in nodes) == sorted(names)
    exec(compile(ast.Module(nodes, type_ignores=[]), str(root / relative), "exec"), namespace)
    return namespace


def test_tiny_clap_runs_the_same_as_laion_clap_code() -> None:
    """The stand-in's call equals CLAP_Module.get_audio_embedding_from_data on the same HTSAT."""
    names = ("get_audio_features", "int16_to_float32", "float32_to_int16")
    shared = {"torch": torch, "np": np, "F": F, "suppress": contextlib.suppress}
    data = _laion_clap_code("training/data.py", names, shared)
    hook = _laion_clap_code("hook.py", ("get_audio_embedding_from_data",), dict(data))
    model_module = audio_codec._laion_clap_part("model")
    tiny = tiny_clap_audio(seed=1)
    clap = model_module.CLAP.__new__(model_module.CLAP)  # laion_clap's CLAP, tiny audio parts
    nn.Module.__init__(clap)
    clap.audio_branch, clap.audio_projection = tiny.audio_branch, tiny.audio_projection
    module = types.SimpleNamespace(
        model=clap, enable_fusion=False, model_cfg={"audio_cfg": tiny.audio_cfg}
    )
    clips = _clips()[::2]  # one repeat-padded, one cropped
    with torch.no_grad():
        for use_tensor in (True, False):
            x = [torch.from_numpy(c) for c in clips] if use_tensor else clips
            np.random.seed(3)
            expected = hook["get_audio_embedding_from_data"](module, x, use_tensor=use_tensor)
            np.random.seed(3)
            got = tiny.get_audio_embedding_from_data(x, use_tensor=use_tensor)
            assert np.allclose(np.asarray(got), np.asarray(expected), atol=1e-6)


# ----------------------------------------------------------------------------- autoencoder


class _PublicLightWeightAE(nn.Module):
    """The public code's LightWeightAE(input_dim=512, hidden_dim=768, output_dim=768)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(512, 768), nn.ReLU(), nn.Linear(768, 768))
        self.decoder = nn.Sequential(nn.Linear(768, 768), nn.ReLU(), nn.Linear(768, 512))


def test_public_autoencoder_state_dict_loads(tmp_path: Path) -> None:
    public = _PublicLightWeightAE()
    torch.save(public.state_dict(), tmp_path / "ae.pth")
    model = load_audio_autoencoder(tmp_path / "ae.pth")
    assert set(model.state_dict()) == set(public.state_dict())
    x, z = torch.randn(4, 512), torch.randn(4, 768)
    assert torch.equal(model.encode(x), public.encoder(x))
    assert torch.equal(model.decode(z), public.decoder(z))
    wrapped = {f"module.{k}": v for k, v in public.state_dict().items()}  # saved from DDP
    torch.save(wrapped, tmp_path / "ddp.pth")
    assert torch.equal(load_audio_autoencoder(tmp_path / "ddp.pth").encode(x), model.encode(x))


def test_training_reduces_reconstruction_loss(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    toy = torch.randn(64, 8, generator=generator) @ torch.randn(8, 512, generator=generator) / 8
    model, losses = train_audio_autoencoder(toy, steps=30, lr=1e-3, batch_size=32, seed=0)
    assert len(losses) == 30
    with torch.no_grad():
        final = F.mse_loss(model(toy), toy).item()
    assert final < 0.2 * losses[0] and np.mean(losses[-5:]) < 0.3 * losses[0]
    again = load_audio_autoencoder(save_audio_autoencoder(model, tmp_path / "ae.pth"))
    assert torch.equal(again.encode(toy), model.encode(toy))
    assert train_audio_autoencoder(toy, steps=3, batch_size=32, seed=0)[1] == losses[:3]


class _Note:
    """A Python object that a weights-only load must refuse."""


def test_autoencoder_file_refuses_other_pickled_objects(tmp_path: Path) -> None:
    state = {**AudioAutoencoder().state_dict(), "note": _Note()}
    torch.save(state, tmp_path / "pickled.pth")
    with pytest.raises(ValueError, match=r"pickled.pth holds pickled Python objects.*weights_only"):
        load_audio_autoencoder(tmp_path / "pickled.pth")
    torch.save({"encoder.0.weight": torch.zeros(768, 512)}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match=r"missing \['decoder.0.bias'"):
        load_audio_autoencoder(tmp_path / "partial.pth")


# ----------------------------------------------------------------------------- decode


def test_decode_gives_int16_16khz_waveforms_reproducibly(codec) -> None:
    z = torch.randn(3, LATENT_DIM)
    waves = codec.decode(z)
    assert len(waves) == 3
    assert all(w.dtype == np.int16 and w.shape == (TINY_LENGTH,) for w in waves)
    assert codec.output_sample_rate == OUTPUT_SAMPLE_RATE == 16000
    assert all(np.abs(w).max() > 0 for w in waves)  # the tiny vocoder is audible in int16
    assert all(np.array_equal(a, b) for a, b in zip(codec.decode(z), waves, strict=True))
    # item i's noise comes from seed + i: the batch size does not change a latent's audio
    parts = (codec.clap, codec.autoencoder, codec.pipeline)
    whole = audio_codec.AudioCodec(*parts, steps=2, batch_size=3).decode(z)
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(whole, waves, strict=True))
    other = audio_codec.AudioCodec(*parts, steps=2, seed=5, audio_length_s=0.008).decode(z[:1])
    assert other[0].shape == (128,) and not np.array_equal(other[0][:TINY_LENGTH], waves[0])
    with pytest.raises(ValueError, match=r"latents must have shape \(N, 768\)"):
        codec.decode(torch.zeros(2, 512))
    with pytest.raises(ValueError, match="'float8' is not a torch dtype"):
        audio_codec.AudioCodec(*parts, dtype="float8")


# ----------------------------------------------------------------------------- loading


def test_tiny_folder_round_trip_gives_identical_codec(codec, tmp_path: Path) -> None:
    saved = tiny_audio_codec(seed=0, folder=tmp_path, steps=2, batch_size=2)
    assert (tmp_path / TINY_AUDIOLDM_DIR / "model_index.json").is_file()
    loaded = load_audio_codec(
        None,
        tmp_path / AUTOENCODER_FILE,
        tmp_path / TINY_AUDIOLDM_DIR,
        clap=tiny_clap_audio(seed=0),
        steps=2,
        batch_size=2,
    )
    z, clips = torch.randn(2, LATENT_DIM), _clips()[:2]
    assert torch.equal(loaded.encode(clips), codec.encode(clips))
    for a, b, c in zip(loaded.decode(z), saved.decode(z), codec.decode(z), strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    files = loaded.describe()["files"]["autoencoder_file"]
    ae_file = str(tmp_path / AUTOENCODER_FILE)
    assert files[ae_file] == hashlib.sha256((tmp_path / AUTOENCODER_FILE).read_bytes()).hexdigest()
    description = loaded.describe()
    assert description["steps"] == 2 and description["output_sample_rate"] == 16000
    assert description["audio_length_s"] == pytest.approx(TINY_LENGTH / 16000)


def test_missing_files_raise_file_not_found_naming_them(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_audio_codec(tmp_path / "clap.pt", tmp_path / "ae.pth", tmp_path / "audioldm")
    message = str(info.value)
    for path in ("clap.pt", "ae.pth", "audioldm"):
        assert str(tmp_path / path) in message
    assert AUTOENCODER_FILE in message and "cvssp/audioldm-m-full" in message
    with pytest.raises(FileNotFoundError, match="lightweight_audio_ae.pth"):
        load_audio_autoencoder(tmp_path / "ae.pth")
    # the defaults are the weight folder's copies, by registry name
    monkeypatch.setenv("FLOWBIND_WEIGHTS", str(tmp_path / "weights"))
    with pytest.raises(FileNotFoundError, match="'flowbind-audio-ae'") as info:
        load_audio_codec()
    assert str(tmp_path / "weights") in str(info.value)


def test_missing_laion_clap_hub_files_are_named(tmp_path: Path, monkeypatch) -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    (tmp_path / "clap.pt").write_bytes(b"not read")
    save_audio_autoencoder(AudioAutoencoder(), tmp_path / AUTOENCODER_FILE)
    (tmp_path / "audioldm").mkdir()
    (tmp_path / "audioldm" / "model_index.json").write_text(json.dumps({}))
    imported_before = "laion_clap" in sys.modules
    with pytest.raises(BackboneUnavailableError, match="roberta-base/vocab.json"):
        load_audio_codec(tmp_path / "clap.pt", tmp_path / AUTOENCODER_FILE, tmp_path / "audioldm")
    assert ("laion_clap" in sys.modules) == imported_before  # refused before importing it
