"""The paper benchmark's text codec on its tiny instance: encode, greedy decode, files, training."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import torch
from torch import nn

from bench.paper.codec import PaperCodec
from bench.paper.text_codec import (
    PrefixProjector,
    TextCodec,
    caption_tokens,
    load_text_codec,
    read_text_decoder,
    reconstruction_loss,
    save_text_decoder,
    teacher_forced_logits,
    tiny_text_codec,
    tiny_text_files,
    train_text_decoder,
)

FAST = 8  # new tokens per decode: enough to compare outputs, much faster than the paper's 64
CAPTIONS = [
    "a big red disc making a low short sound",
    "the bar is small and green and its tone is high and long",
    "a dog on the grass",
    "two people walking in the street",
    "you can see a huge azure pillar and hear a deep clipped note",
    "a shrill sustained sound comes from a little pink slash",
    "a man playing music",
    "a cat sitting on a table",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny_text")


@pytest.fixture(scope="module")
def codec(folder) -> TextCodec:
    """The tiny codec, saved to ``folder``; tests must not change it."""
    return tiny_text_codec(seed=0, folder=folder, max_new_tokens=FAST)


def with_options(codec: TextCodec, **options) -> TextCodec:
    """The same modules in a new codec with other options."""
    options.setdefault("max_new_tokens", codec.max_new_tokens)
    return TextCodec(codec.encoder, codec.projector, codec.lm, codec.tokenizer, **options)


# -- encode ----------------------------------------------------------------------------------


def test_encode_gives_raw_float32_cpu_latents(codec):
    z = codec.encode(CAPTIONS)
    assert isinstance(codec, PaperCodec) and codec.modality == "text"
    assert z.shape == (len(CAPTIONS), 768) and z.dtype == torch.float32 and z.device.type == "cpu"
    assert torch.equal(z, codec.encode(CAPTIONS))
    direct = codec.encoder.encode(CAPTIONS, convert_to_tensor=True, normalize_embeddings=False)
    assert torch.equal(z, direct.float())
    one_by_one = with_options(codec, batch_size=1).encode(CAPTIONS)
    torch.testing.assert_close(one_by_one, z, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(z[0], z[1])


def test_encode_adds_no_normalisation(codec):
    """EmbeddingGemma ends in Normalize; without it the latents are not unit vectors."""
    from sentence_transformers import SentenceTransformer

    modules = list(codec.encoder)
    assert type(modules[-1]).__name__ == "Normalize"
    bare = SentenceTransformer(modules=modules[:-1], device="cpu")
    raw = TextCodec(bare, codec.projector, codec.lm, codec.tokenizer).encode(CAPTIONS)
    norms = raw.norm(dim=1)
    assert (norms - 1).abs().min() > 1e-2
    torch.testing.assert_close(codec.encode(CAPTIONS), raw / norms[:, None])


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ("a dog", "list of caption strings"),
        (["a dog", ""], "item 1 is an empty caption"),
        (["   "], "item 0 is an empty caption"),
        (["a dog", 3], "item 1 is a int"),
        (["a dog", None], "item 1 is a NoneType"),
    ],
)
def test_encode_refuses_bad_captions(codec, batch, message):
    with pytest.raises(ValueError, match=message):
        codec.encode(batch)


# -- decode ----------------------------------------------------------------------------------


def test_decode_is_greedy_and_deterministic(codec):
    z = codec.encode(CAPTIONS[:3])
    texts = codec.decode(z)
    assert len(texts) == 3 and all(isinstance(t, str) and t == t.strip() for t in texts)
    assert texts == codec.decode(z)
    assert texts == with_options(codec, batch_size=2).decode(z)
    assert codec.decode(torch.zeros(0, 768)) == []


def test_max_new_tokens_caps_generation(codec):
    z = codec.encode(CAPTIONS[:4])
    short = with_options(codec, max_new_tokens=3).generate(z)
    long = with_options(codec, max_new_tokens=12).generate(z)
    assert all(len(ids) <= 3 for ids in short)
    assert max(len(ids) for ids in long) > 3
    for a, b in zip(short, long, strict=True):  # greedy: the short run is the long one's start
        assert torch.equal(a, b[: len(a)])
    words = with_options(codec, max_new_tokens=3).decode(z)
    assert all(len(text.split()) <= 3 for text in words)


@pytest.mark.parametrize(
    ("latents", "message"),
    [(torch.zeros(2, 7), r"shape \(N, 768\)"), (torch.full((1, 768), float("nan")), "NaN")],
)
def test_decode_refuses_bad_latents(codec, latents, message):
    with pytest.raises(ValueError, match=message):
        codec.decode(latents)


def test_bf16_autocast_path_runs_on_the_cpu(codec):
    """The CUDA setting (bf16 autocast) still returns float32 latents and strings."""
    bf16 = with_options(codec, dtype=torch.bfloat16, max_new_tokens=2)
    z = bf16.encode(CAPTIONS[:2])
    assert z.dtype == torch.float32 and z.shape == (2, 768)
    torch.testing.assert_close(z, codec.encode(CAPTIONS[:2]), atol=0.05, rtol=0)
    assert len(bf16.decode(z)) == 2


# -- projector and files ---------------------------------------------------------------------


class PublicPrefixProjector(nn.Module):
    """The public code's class, as in its utils/utils.py (the reference for the key layout)."""

    def __init__(self, in_dim: int, out_dim: int, prefix_len: int):
        super().__init__()
        hid = max(in_dim, out_dim)
        self.net = nn.Sequential(
            nn.Linear(in_dim, hid), nn.Tanh(), nn.Linear(hid, prefix_len * out_dim)
        )
        self.ln = nn.LayerNorm(out_dim)
        self.prefix_len, self.out_dim = prefix_len, out_dim

    def forward(self, x):
        return self.ln(self.net(x).view(x.size(0), self.prefix_len, self.out_dim))


@pytest.mark.parametrize(("in_dim", "out_dim"), [(48, 40), (16, 40)])
def test_projector_loads_the_public_layout(in_dim, out_dim):
    public = PublicPrefixProjector(in_dim, out_dim, 3)
    with torch.no_grad():
        for param in public.parameters():
            param.normal_()  # LayerNorm's weight and bias too, so they are checked
    state = public.state_dict()
    ours = PrefixProjector(in_dim, out_dim, 3)
    assert (
        set(ours.state_dict())
        == set(state)
        == {
            "net.0.weight",
            "net.0.bias",
            "net.2.weight",
            "net.2.bias",
            "ln.weight",
            "ln.bias",
        }
    )
    ours.load_state_dict(state)
    inferred = PrefixProjector.from_state_dict(state)
    assert (inferred.in_dim, inferred.out_dim, inferred.prefix_len) == (in_dim, out_dim, 3)
    x = torch.randn(5, in_dim)
    expected = public(x)
    assert expected.shape == (5, 3, out_dim)
    assert torch.equal(ours(x), expected) and torch.equal(inferred(x), expected)


def test_tiny_folder_loads_back_the_same_codec(codec, folder):
    loaded = load_text_codec(**tiny_text_files(folder), device="cpu", max_new_tokens=FAST)
    z = codec.encode(CAPTIONS)
    assert torch.equal(loaded.encode(CAPTIONS), z)
    assert loaded.decode(z[:3]) == codec.decode(z[:3])
    info = loaded.describe()
    checkpoint = tiny_text_files(folder)["decoder_checkpoint"]
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert info["decoder_checkpoint"] == {"path": str(checkpoint), "sha256": digest}
    assert info["encoder"]["snapshot_of"] == "google/embeddinggemma-300m"
    assert "model.safetensors" in info["lm"]["sha256"]


def test_trained_decoder_round_trips_through_its_checkpoint(tmp_path):
    trained = tiny_text_codec(seed=1, folder=tmp_path / "tiny", max_new_tokens=FAST)
    z = trained.encode(CAPTIONS[:3])
    before = trained.decode(z)
    train_text_decoder(trained, CAPTIONS, steps=5, lr=3e-3, batch_size=8, seed=0)
    after = trained.decode(z)
    assert after != before  # the LM and projector changed, so the checkpoint must carry both
    path = save_text_decoder(trained, tmp_path / "decoder.pt")
    state = torch.load(path, weights_only=True)
    assert set(state) == {"prefix_proj", "model"}
    assert set(state["model"]) == set(trained.lm.state_dict())
    files = tiny_text_files(tmp_path / "tiny") | {"decoder_checkpoint": path}
    loaded = load_text_codec(**files, device="cpu", max_new_tokens=FAST)
    assert loaded.decode(z) == after
    stale = load_text_codec(**tiny_text_files(tmp_path / "tiny"), device="cpu", max_new_tokens=FAST)
    assert stale.decode(z) == before


def test_missing_folders_and_files_say_what_goes_there(codec, folder, tmp_path):
    files = tiny_text_files(folder)
    nowhere = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="google/embeddinggemma-300m") as error:
        load_text_codec(nowhere, files["lm_dir"])
    assert str(nowhere) in str(error.value) and "does not exist" in str(error.value)
    assert "metrics.backbones.registry download embeddinggemma-300m" in str(error.value)
    with pytest.raises(FileNotFoundError, match="google/gemma-3-1b-pt"):
        load_text_codec(files["encoder_dir"], nowhere)
    with pytest.raises(FileNotFoundError, match="has no modules.json"):
        load_text_codec(files["lm_dir"], files["lm_dir"])
    with pytest.raises(FileNotFoundError, match="gemmae_3.pt of the Hugging Face repo"):
        load_text_codec(files["encoder_dir"], files["lm_dir"], nowhere / "gemmae_3.pt")


def test_snapshot_names_resolve_in_the_weight_folder(codec, folder, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWBIND_WEIGHTS", str(tmp_path))
    files = tiny_text_files(folder)
    with pytest.raises(FileNotFoundError, match="'embeddinggemma-300m'") as error:
        load_text_codec("embeddinggemma-300m", files["lm_dir"])
    assert str(tmp_path / "hub" / "google--embeddinggemma-300m") in str(error.value)
    shutil.copytree(files["encoder_dir"], tmp_path / "hub" / "google--embeddinggemma-300m")
    shutil.copytree(files["lm_dir"], tmp_path / "hub" / "google--gemma-3-1b-pt")
    loaded = load_text_codec(
        "embeddinggemma-300m", "gemma-3-1b-pt", files["decoder_checkpoint"], max_new_tokens=FAST
    )
    z = codec.encode(CAPTIONS[:2])
    assert torch.equal(loaded.encode(CAPTIONS[:2]), z)
    assert loaded.decode(z) == codec.decode(z)
    assert loaded.describe()["lm"]["dir"] == str(tmp_path / "hub" / "google--gemma-3-1b-pt")


UNPICKLED = []


def _record_unpickling():
    UNPICKLED.append(True)
    return "ran"


class Payload:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return (_record_unpickling, ())


def test_checkpoints_with_python_objects_are_refused(codec, tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"prefix_proj": codec.projector.state_dict(), "extra": Payload()}, path)
    with pytest.raises(ValueError, match="not unpickled for safety"):
        read_text_decoder(path)
    assert not UNPICKLED
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="no 'prefix_proj'"):
        read_text_decoder(tmp_path / "other.pt")


def test_prefix_len_must_match_the_checkpoint(folder):
    with pytest.raises(ValueError, match="pass prefix_len=3"):
        load_text_codec(**tiny_text_files(folder), prefix_len=2)


def test_tiny_latent_size_is_a_parameter():
    small = tiny_text_codec(seed=0, latent_dim=64, max_new_tokens=FAST)
    assert small.encode(CAPTIONS[:2]).shape == (2, 64)
    with pytest.raises(ValueError, match="multiple of 4"):
        tiny_text_codec(latent_dim=30)


# -- training --------------------------------------------------------------------------------


def test_teacher_forcing_sees_what_greedy_decoding_sees(codec):
    """Fed its own greedy output, the training forward pass puts that output at the top."""
    z = codec.encode(CAPTIONS[:3])
    generated = codec.generate(z)
    tokens = torch.nn.utils.rnn.pad_sequence(generated, batch_first=True)
    logits = teacher_forced_logits(codec, z, tokens)
    eos = codec.tokenizer.eos_token_id
    for row, ids in enumerate(generated):
        ends = (ids == eos).nonzero()
        n = int(ends[0]) + 1 if len(ends) else len(ids)  # up to the first EOS
        picked = logits[row, torch.arange(n), ids[:n]]
        assert torch.all(picked >= logits[row, :n].max(dim=-1).values - 1e-4)
    assert any(len(set(ids.tolist())) > 1 for ids in generated)  # the check has teeth


def test_caption_tokens_end_in_eos_within_the_budget(codec):
    long = " ".join(["red"] * 20)
    tokens, valid = caption_tokens(codec, ["a dog", long])
    eos = codec.tokenizer.eos_token_id
    assert valid.sum(1).tolist() == [3, FAST]
    assert tokens[0, :3].tolist() == [
        *codec.tokenizer("a dog", add_special_tokens=False)["input_ids"],
        eos,
    ]
    assert tokens[1, FAST - 1] == eos


def test_training_reduces_the_reconstruction_loss():
    codec = tiny_text_codec(seed=2, max_new_tokens=FAST)
    with torch.no_grad():
        start = reconstruction_loss(codec, CAPTIONS).item()
    history = train_text_decoder(codec, CAPTIONS, steps=15, lr=1e-2, batch_size=8, seed=0)
    with torch.no_grad():
        end = reconstruction_loss(codec, CAPTIONS).item()
    assert len(history["loss"]) == 15
    assert history["loss"][0] == pytest.approx(start, rel=1e-4)  # one batch holds all captions
    assert end < 0.6 * start
    assert not codec.projector.training and not codec.lm.training


def test_projector_only_training_leaves_the_lm_alone():
    codec = tiny_text_codec(seed=3, max_new_tokens=FAST)
    lm_before = {k: v.clone() for k, v in codec.lm.state_dict().items()}
    projector_before = codec.projector.net[0].weight.clone()
    history = train_text_decoder(
        codec, CAPTIONS, steps=10, lr=3e-3, batch_size=4, finetune_lm=False, seed=0
    )
    assert all(torch.equal(v, lm_before[k]) for k, v in codec.lm.state_dict().items())
    assert not torch.equal(codec.projector.net[0].weight, projector_before)
    assert all(p.requires_grad for p in codec.lm.parameters())  # flags restored
    assert min(history["loss"][-3:]) < history["loss"][0]
