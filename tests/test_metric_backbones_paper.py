"""Paper-profile metric backbones and the weight registry, offline and randomly initialised."""

from __future__ import annotations

import hashlib
import io
import re
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from metrics.backbones import registry
from metrics.backbones.common import _load_strict
from metrics.backbones.registry import (
    MissingWeightsError,
    WeightEntry,
    WeightsChecksumError,
    WeightsDownloadError,
)
from metrics.validation import MetricInputError

paper = pytest.importorskip("metrics.backbones.paper")


@pytest.fixture
def weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "weights"
    monkeypatch.setenv(registry.ENV_VAR, str(folder))
    return folder


def _fake_entry(
    monkeypatch: pytest.MonkeyPatch, url: str, sha256: str | None, name: str = "fake"
) -> WeightEntry:
    entry = WeightEntry(name, "fake.bin", (url,), sha256, "a test file")
    monkeypatch.setitem(registry.REGISTRY, name, entry)
    return entry


# ----------------------------------------------------------------------------- registry


def test_registry_entries_are_well_formed() -> None:
    for name, entry in registry.REGISTRY.items():
        assert entry.name == name
        assert entry.urls and all(u.startswith("https://") for u in entry.urls)
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    # torch.hub file names carry the first 8 hex of the sha256; OpenAI's folder is the sha256
    assert registry.REGISTRY["inception-fid"].sha256.startswith("6726825d")
    assert registry.REGISTRY["vggish"].sha256.startswith("10086976")
    clip = registry.REGISTRY["clip-vit-b-32-openai"]
    assert f"/{clip.sha256}/ViT-B-32.pt" in clip.urls[0]


def test_missing_weights_error_says_where_and_how(weights_dir: Path) -> None:
    with pytest.raises(MissingWeightsError) as info:
        registry.weight_path("inception-fid")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(weights_dir / "pt_inception-2015-12-05-6726825d.pth") in message
    assert "python -m metrics.backbones.registry download inception-fid" in message
    assert registry.REGISTRY["inception-fid"].urls[0] in message
    with pytest.raises(MissingWeightsError, match="download vggish"):
        paper.VGGishEmbeddings()  # the default loads from the registry


def test_verify_matches_detects_mismatch_and_admits_unknown(
    weights_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = b"weights" * 1000
    good = hashlib.sha256(content).hexdigest()
    entry = _fake_entry(monkeypatch, "https://example.invalid/fake.bin", good)
    weights_dir.mkdir()
    entry.path.write_bytes(content)
    assert registry.verify("fake") is True
    entry.path.write_bytes(content + b"x")
    with pytest.raises(WeightsChecksumError, match="expected " + good):
        registry.verify("fake")
    _fake_entry(monkeypatch, "https://example.invalid/fake.bin", None)
    assert registry.verify("fake") is False  # no known checksum: cannot verify


def test_download_of_unreachable_url_leaves_no_file(
    weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _fake_entry(monkeypatch, (tmp_path / "absent.bin").as_uri(), None)
    with pytest.raises(WeightsDownloadError, match="could not download"):
        registry.download("fake")
    assert not entry.path.exists()
    assert list(weights_dir.iterdir()) == []


def test_interrupted_download_leaves_no_file(
    weights_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(io.BytesIO):
        headers = None

        def read(self, size: int = -1) -> bytes:
            if self.tell():
                raise ConnectionResetError("connection dropped")
            return super().read(10)

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Broken(b"0123456789" * 9))
    entry = _fake_entry(monkeypatch, "https://example.invalid/fake.bin", None)
    with pytest.raises(WeightsDownloadError, match="connection dropped"):
        registry.download("fake")
    assert not entry.path.exists()
    assert list(weights_dir.iterdir()) == []


def test_download_verifies_then_moves_into_place(
    weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"abc" * 100)
    good = hashlib.sha256(source.read_bytes()).hexdigest()
    entry = _fake_entry(monkeypatch, source.as_uri(), "0" * 64)
    with pytest.raises(WeightsDownloadError, match="sha256"):
        registry.download("fake")
    assert not entry.path.exists() and list(weights_dir.iterdir()) == []
    entry = _fake_entry(monkeypatch, source.as_uri(), good)
    assert registry.download("fake") == entry.path
    assert entry.path.read_bytes() == source.read_bytes()
    assert registry.main(["verify", "fake"]) == 0


def test_cli_lists_entries_and_reports(
    weights_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert registry.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "inception-fid" in out and "missing" in out and str(weights_dir) in out
    entry = _fake_entry(monkeypatch, "https://example.invalid/fake.bin", None)
    assert registry.main(["verify", "fake"]) == 1  # named and missing
    weights_dir.mkdir()
    entry.path.write_bytes(b"x")
    assert registry.main(["verify", "fake"]) == 0
    assert "CANNOT VERIFY" in capsys.readouterr().out


# ----------------------------------------------------------------------------- Inception


@pytest.fixture(scope="module")
def inception():
    pytest.importorskip("torchvision", reason="Inception blocks come from torchvision")
    return paper.InceptionFeatures(weights=None)


def test_inception_state_dict_matches_pytorch_fid_checkpoint(inception) -> None:
    import torchvision

    # pytorch-fid loads its checkpoint strictly into this torchvision layout
    reference = torchvision.models.inception_v3(
        weights=None, aux_logits=False, num_classes=1008, init_weights=False
    )
    ours = {k: tuple(v.shape) for k, v in inception.state_dict().items()}
    assert ours == {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert len(ours) == 566
    assert ours["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
    assert ours["fc.weight"] == (1008, 2048)
    assert ours["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert ours["Mixed_6e.branch7x7dbl_5.bn.running_var"] == (192,)
    assert inception.Mixed_7c.max_pool and not inception.Mixed_7b.max_pool


def test_inception_features(inception, tmp_path: Path) -> None:
    images = torch.rand(2, 3, 64, 64)
    feats = inception(images)
    assert feats.shape == (2, 2048) and torch.isfinite(feats).all()
    as_uint8 = (images.permute(0, 2, 3, 1) * 255).round().to(torch.uint8)
    assert torch.allclose(inception(as_uint8), inception(as_uint8.numpy()))
    assert inception([torch.rand(3, 40, 50), as_uint8[0].numpy()]).shape == (2, 2048)
    with pytest.raises(MetricInputError, match=r"\[0, 1\]"):
        inception(images * 2 - 1)
    inception.train()
    assert not inception.training

    # a checkpoint without num_batches_tracked (older torch) loads strictly otherwise
    state = {k: v for k, v in inception.state_dict().items() if "num_batches" not in k}
    torch.save(state, tmp_path / "inception.pth")
    reloaded = paper.InceptionFeatures(weights=tmp_path / "inception.pth")
    assert torch.equal(reloaded(images), feats)


# ----------------------------------------------------------------------------- VGGish


def _reference_log_mel(wave: np.ndarray) -> np.ndarray:
    """The AudioSet mel_features recipe in numpy: framing by strides, then examples."""

    def frame(data: np.ndarray, length: int, hop: int) -> np.ndarray:
        count = 1 + (data.shape[0] - length) // hop
        shape = (count, length) + data.shape[1:]
        strides = (data.strides[0] * hop,) + data.strides
        return np.lib.stride_tricks.as_strided(data, shape=shape, strides=strides)

    window = 0.5 - 0.5 * np.cos(2 * np.pi / 400 * np.arange(400))
    spectrum = np.abs(np.fft.rfft(frame(wave, 400, 160) * window, 512))
    hz_to_mel = lambda f: 1127.0 * np.log(1.0 + f / 700.0)  # noqa: E731
    bins = hz_to_mel(np.linspace(0.0, 8000.0, 257))
    edges = np.linspace(hz_to_mel(125.0), hz_to_mel(7500.0), 66)
    mel = np.empty((257, 64))
    for i in range(64):
        lo, mid, hi = edges[i : i + 3]
        mel[:, i] = np.maximum(0.0, np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)))
    mel[0, :] = 0.0
    log_mel = np.log(spectrum @ mel + 0.01)
    return frame(log_mel, 96, 96)


@pytest.fixture(scope="module")
def vggish():
    return paper.VGGishEmbeddings(weights=None)


def test_vggish_front_end_matches_reference_recipe(vggish) -> None:
    wave = np.random.default_rng(0).uniform(-1, 1, 16000 * 2 + 1234)
    ours = vggish.log_mel_examples(torch.from_numpy(wave)).numpy()
    reference = _reference_log_mel(wave)
    assert ours.shape == reference.shape == (2, 96, 64)
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-10)


def test_vggish_embeddings(vggish, tmp_path: Path) -> None:
    clips = torch.rand(2, 16000) * 2 - 1
    emb = vggish(clips)
    assert emb.shape == (2, 128) and torch.isfinite(emb).all()
    as_int16 = (clips * 32767).round().to(torch.int16)
    assert torch.allclose(vggish(as_int16), vggish(as_int16.double() / 32768.0))
    per_clip = vggish.embed_clips([torch.zeros(4000), torch.rand(16000 * 3) - 0.5])
    assert [tuple(e.shape) for e in per_clip] == [(1, 128), (3, 128)]  # short clip: zero-padded
    assert sorted({k.rsplit(".", 1)[0] for k in vggish.state_dict()}) == [
        "embeddings.0",
        "embeddings.2",
        "embeddings.4",
        "features.0",
        "features.11",
        "features.13",
        "features.3",
        "features.6",
        "features.8",
    ]
    torch.save(vggish.state_dict(), tmp_path / "vggish.pth")
    reloaded = paper.VGGishEmbeddings(weights=str(tmp_path / "vggish.pth"))
    assert torch.equal(reloaded(clips), emb)


# ----------------------------------------------------------------------------- CLIP


@pytest.fixture(scope="module")
def clip():
    pytest.importorskip("open_clip", reason="CLIP ViT-B/32 is built by open_clip")
    pytest.importorskip("torchvision", reason="CLIP preprocessing uses torchvision")
    return paper.ClipViTB32(weights=None)


def test_clip_embeddings(clip) -> None:
    images = torch.rand(2, 3, 64, 80)
    emb = clip(images)
    assert emb.shape == (2, 512) and torch.isfinite(emb).all()
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2))
    as_uint8 = (images.permute(0, 2, 3, 1) * 255).round().to(torch.uint8)
    assert clip.encode_images(as_uint8).shape == (2, 512)
    text = clip.encode_texts(["a dog barking", "rain on a tin roof " * 30])  # long: cut to 77
    assert text.shape == (2, 512) and torch.allclose(text.norm(dim=-1), torch.ones(2))
    with pytest.raises(MetricInputError):
        clip.encode_texts(["a dog", ""])


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_clip_loads_openai_style_checkpoints(clip, tmp_path: Path) -> None:
    state = clip.model.state_dict()
    saved = {f"module.{k}": v.half() for k, v in state.items()}  # OpenAI keeps fp16 weights
    saved["input_resolution"] = torch.tensor(224)
    torch.save(saved, tmp_path / "plain.pt")
    read = paper.read_openai_clip_state(tmp_path / "plain.pt")
    assert set(read) == set(state)
    _load_strict(clip.model, {k: v.float() for k, v in state.items()}, tmp_path)

    class Archive(torch.nn.Module):  # the official file is a TorchScript archive
        def __init__(self) -> None:
            super().__init__()
            self.token_embedding = torch.nn.Embedding(4, 2)
            self.register_buffer("context_length", torch.tensor(77))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.token_embedding(x)

    torch.jit.save(torch.jit.script(Archive()), str(tmp_path / "archive.pt"))
    assert list(paper.read_openai_clip_state(tmp_path / "archive.pt")) == ["token_embedding.weight"]


# ----------------------------------------------------------------------------- wav2clip


def test_wav2clip_embeddings_do_not_depend_on_the_batch() -> None:
    pytest.importorskip("wav2clip", reason="wav2clip is an optional paper-benchmark package")
    model = paper.Wav2ClipAudio(weights=None)
    clips = torch.rand(2, 16000) * 2 - 1
    emb = model(clips)
    assert emb.shape == (2, 512) and torch.isfinite(emb).all()
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2))
    assert torch.allclose(model(clips[:1]), emb[:1], atol=1e-6)
    with pytest.raises(MetricInputError, match="at least 512"):
        model([torch.zeros(100)])


# ----------------------------------------------------------------------------- CLAP


def test_clap_offline_error_names_what_is_missing(
    weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    imported_before = "laion_clap" in sys.modules
    with pytest.raises(paper.BackboneUnavailableError) as info:
        paper.ClapAudioText()
    message = str(info.value)
    assert "roberta-base" in message and "Hugging Face" in message
    assert str(weights_dir / "630k-audioset-best.pt") in message
    assert "python -m metrics.backbones.registry download clap-630k-audioset" in message
    assert ("laion_clap" in sys.modules) == imported_before  # failed before importing it


# ----------------------------------------------------------------------------- lookup


def test_load_backbone_by_name() -> None:
    assert isinstance(paper.load_backbone("vggish", weights=None), paper.VGGishEmbeddings)
    assert set(paper.BACKBONES) == {"inception", "vggish", "clip", "wav2clip", "clap"}
    with pytest.raises(ValueError, match="unknown backbone"):
        paper.load_backbone("resnet")
