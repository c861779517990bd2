"""The paper benchmark's text codec: EmbeddingGemma-300m latents, Gemma-3-1B prefix decoding.

As in FlowBind's public code (``utils/utils.py``, ``load_text_enc_and_dec``):

    encode  SentenceTransformer("google/embeddinggemma-300m").encode(texts,
            normalize_embeddings=False) under bf16 autocast: (N, 768). The model's own last module
            is Normalize, so the raw latents are unit vectors all the same (the released latent
            statistics agree: the squared means and variances sum to 1).
    decode  PrefixProjector (768 -> max(768, 1152) -> Tanh -> 3 x 1152, LayerNorm) gives a 3-token
            prefix; the BOS token's input embedding follows; Gemma-3-1b-pt (eager attention)
            generates greedily, 64 new tokens at most; ``decode(skip_special_tokens=True)``.

The released ``gemmae_3.pt`` (Hugging Face ``yeonwoo378/flowbind``) holds ``{"prefix_proj": the
projector's state dict, "model": the fine-tuned Gemma-3-1B state dict}``; ``save_text_decoder``
writes the same layout (``torch.save`` of plain tensors, read back with ``weights_only=True``).
Latents are raw at this boundary: the public code z-scores inside its codec, here the methods do.

    codec = load_text_codec("embeddinggemma-300m", "gemma-3-1b-pt", "flowbind-text-decoder")
    codec = tiny_text_codec(folder="tiny")  # same architectures, tiny random weights, offline
    codec = load_text_codec(**tiny_text_files("tiny"))  # ... and back from disk

``train_text_decoder`` fits the projector (and optionally the LM) by teacher-forced caption
reconstruction from the frozen encoder's latents.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bench.paper.codec import LATENT_DIM, PaperCodec, check_latents
from metrics.backbones.hub import get_snapshot, snapshot_path
from metrics.backbones.registry import checked_path, sha256_file

ENCODER_REPO = "google/embeddinggemma-300m"
LM_REPO = "google/gemma-3-1b-pt"
ENCODER_SNAPSHOT, LM_SNAPSHOT = "embeddinggemma-300m", "gemma-3-1b-pt"  # metrics.backbones.hub
DECODER_REPO, DECODER_FILE = "yeonwoo378/flowbind", "gemmae_3.pt"
DECODER_ENTRY = "flowbind-text-decoder"  # the released file's entry in the weight registry
PREFIX_LEN = 3
MAX_NEW_TOKENS = 64
_PAPER_EXTRAS = "pip install -e '.[paper]' (transformers, sentence-transformers)"


class PrefixProjector(nn.Module):
    """Latent -> ``prefix_len`` LM input embeddings; the public code's keys ``net.0, net.2, ln``.

    Args:
        in_dim: latent size (768).
        out_dim: the LM's hidden size (1152 for Gemma-3-1B).
        prefix_len: prefix tokens (3).
        hidden_dim: inner width; the public code's is ``max(in_dim, out_dim)``.
    """

    def __init__(
        self, in_dim: int, out_dim: int, prefix_len: int = PREFIX_LEN, hidden_dim: int | None = None
    ) -> None:
        super().__init__()
        hidden_dim = hidden_dim or max(in_dim, out_dim)
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, prefix_len * out_dim)
        )
        self.ln = nn.LayerNorm(out_dim)
        self.in_dim, self.out_dim, self.prefix_len = in_dim, out_dim, prefix_len

    def forward(self, z: Tensor) -> Tensor:
        """(N, in_dim) latents -> (N, prefix_len, out_dim) prefix embeddings."""
        return self.ln(self.net(z).view(z.shape[0], self.prefix_len, self.out_dim))

    @classmethod
    def from_state_dict(cls, state: dict[str, Tensor]) -> PrefixProjector:
        """A projector shaped by ``state`` (its sizes read from the weights), loaded strictly."""
        hidden_dim, in_dim = state["net.0.weight"].shape
        out_dim = state["ln.weight"].shape[0]
        prefix_len = state["net.2.weight"].shape[0] // out_dim
        projector = cls(in_dim, out_dim, prefix_len, hidden_dim)
        projector.load_state_dict(state)
        return projector


class TextCodec(PaperCodec):
    """EmbeddingGemma encoder and prefix-projector + causal-LM decoder (see the module docstring).

    Args:
        encoder: a ``sentence_transformers.SentenceTransformer``; its output size is latent_dim.
        projector: maps latents to the LM's input embeddings.
        lm: a transformers causal LM (Gemma3ForCausalLM) whose hidden size is the projector's
            ``out_dim``.
        tokenizer: the LM's tokenizer (bos and eos tokens required).
        dtype: compute dtype of encode/decode (autocast); None: bf16 on CUDA as the public code,
            float32 elsewhere.
        batch_size: texts or latents per forward pass.
        max_new_tokens: generation budget of ``decode`` (64 in the public code).
        sources: what was loaded (folders, files, sha256), returned by ``describe``.
    """

    modality = "text"

    def __init__(
        self,
        encoder: Any,
        projector: PrefixProjector,
        lm: Any,
        tokenizer: Any,
        *,
        dtype: torch.dtype | None = None,
        batch_size: int = 32,
        max_new_tokens: int = MAX_NEW_TOKENS,
        sources: dict[str, Any] | None = None,
    ) -> None:
        hidden = lm.get_input_embeddings().embedding_dim
        latent_dim = _embedding_dim(encoder)
        if projector.out_dim != hidden or projector.in_dim != latent_dim:
            raise ValueError(
                f"the prefix projector maps {projector.in_dim} -> {projector.out_dim}, but the "
                f"encoder gives {latent_dim}-d latents and the LM's hidden size is {hidden}"
            )
        if tokenizer.bos_token_id is None or tokenizer.eos_token_id is None:
            raise ValueError("the LM's tokenizer needs a bos and an eos token")
        if batch_size < 1 or max_new_tokens < 1:
            raise ValueError(
                f"batch_size ({batch_size}) and max_new_tokens ({max_new_tokens}) must be positive"
            )
        self.encoder, self.projector, self.lm, self.tokenizer = encoder, projector, lm, tokenizer
        self.latent_dim = latent_dim
        self.batch_size, self.max_new_tokens = batch_size, max_new_tokens
        self.dtype = dtype or (torch.bfloat16 if self.device.type == "cuda" else torch.float32)
        self.sources = dict(sources or {})
        for module in (encoder, projector, lm):
            module.eval()

    @property
    def prefix_len(self) -> int:
        return self.projector.prefix_len

    @property
    def device(self) -> torch.device:
        return next(self.projector.parameters()).device

    def to(self, device: str | torch.device) -> TextCodec:
        """Move the three models (the compute dtype stays what it is)."""
        for module in (self.encoder, self.projector, self.lm):
            module.to(device)
        return self

    def autocast(self) -> contextlib.AbstractContextManager:
        """The public code's bf16 autocast; nothing in float32."""
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def encode(self, batch: Sequence[str]) -> Tensor:
        """Captions -> raw (N, latent_dim) float32 CPU latents (no normalisation added)."""
        texts = check_captions(batch, "text codec encode")
        if not texts:
            return torch.zeros(0, self.latent_dim)
        with torch.no_grad(), self.autocast():
            latents = self.encoder.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_tensor=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            )
        return latents.float().cpu().clone()  # clone: a normal tensor, not an inference one

    def prefix_embeds(self, z: Tensor) -> Tensor:
        """(N, latent_dim) latents -> (N, prefix_len + 1, H): the prefix, then BOS's embedding."""
        prefix = self.projector(z.to(self.device))
        bos_ids = torch.full((z.shape[0], 1), self.tokenizer.bos_token_id, device=self.device)
        bos = self.lm.get_input_embeddings()(bos_ids).to(self.dtype)
        return torch.cat([prefix, bos], dim=1)  # promoted as in the public code

    def generate(self, latents: Tensor) -> list[Tensor]:
        """Greedy new token ids per latent, ``max_new_tokens`` at most (padded after EOS)."""
        latents = check_latents(latents, self.latent_dim, "text codec decode")
        ids: list[Tensor] = []
        pad = self.tokenizer.pad_token_id
        with torch.no_grad(), self.autocast():
            for start in range(0, len(latents), self.batch_size):
                inputs = self.prefix_embeds(latents[start : start + self.batch_size])
                out = self.lm.generate(
                    inputs_embeds=inputs,
                    attention_mask=torch.ones(
                        inputs.shape[:2], dtype=torch.long, device=self.device
                    ),
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    top_p=None,
                    top_k=None,
                    eos_token_id=self.tokenizer.eos_token_id,
                    pad_token_id=self.tokenizer.eos_token_id if pad is None else pad,
                    use_cache=True,
                )
                ids.extend(out.cpu())
        return ids

    def decode(self, latents: Tensor) -> list[str]:
        """Raw (N, latent_dim) latents -> N captions (greedy, special tokens dropped, stripped)."""
        return [
            self.tokenizer.decode(ids, skip_special_tokens=True).strip()
            for ids in self.generate(latents)
        ]

    def describe(self) -> dict[str, Any]:
        """Settings and provenance: model folders and files with their sha256."""
        return {
            "modality": self.modality,
            "latent_dim": self.latent_dim,
            "encode": "SentenceTransformer.encode(normalize_embeddings=False)",
            "decode": f"prefix {self.prefix_len} + BOS, greedy, {self.max_new_tokens} new tokens",
            "dtype": str(self.dtype).removeprefix("torch."),
            **self.sources,
        }


def _embedding_dim(encoder: Any) -> int:
    """The encoder's output size (newer Sentence-Transformers renamed the method)."""
    method = getattr(encoder, "get_embedding_dimension", None)
    return (method or encoder.get_sentence_embedding_dimension)()


def check_captions(batch: Any, what: str) -> list[str]:
    """``batch`` as a list of non-empty strings, or ValueError naming the first bad item."""
    if isinstance(batch, str | bytes) or not isinstance(batch, Sequence):
        raise ValueError(f"{what}: pass a list of caption strings, got {type(batch).__name__}")
    for i, text in enumerate(batch):
        if not isinstance(text, str):
            raise ValueError(f"{what}: item {i} is a {type(text).__name__}, not a caption string")
        if not text.strip():
            raise ValueError(f"{what}: item {i} is an empty caption")
    return list(batch)


# -- files ---------------------------------------------------------------------------------


def read_text_decoder(path: str | Path) -> dict[str, dict[str, Tensor]]:
    """The ``{"prefix_proj", "model"}`` state dicts of a decoder checkpoint (tensors only).

    ``model`` may be absent (the LM stays as loaded from its folder). Anything that is not plain
    tensors is refused by ``torch.load(weights_only=True)``, never unpickled.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"text decoder checkpoint {path} does not exist: put the released {DECODER_FILE} of "
            f"the Hugging Face repo {DECODER_REPO} there (registry entry {DECODER_ENTRY!r}) or "
            "one written by save_text_decoder"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} holds Python objects besides tensors (or is no torch checkpoint) and is not "
            f"unpickled for safety: use the released {DECODER_FILE} or a save_text_decoder file"
        ) from exc
    if not isinstance(state, dict) or not isinstance(state.get("prefix_proj"), dict):
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{path} is no text decoder checkpoint: no 'prefix_proj' in {keys}")
    return state


def save_text_decoder(codec: TextCodec, path: str | Path, include_lm: bool = True) -> Path:
    """Write the codec's projector (and LM) in the released file's layout; atomic replace.

    Args:
        codec: the codec whose decoder is saved.
        path: the ``.pt`` file (``torch.save`` of plain CPU tensors).
        include_lm: also save the LM's state dict under ``model`` (needed after fine-tuning).

    Returns:
        The path written.
    """
    path = Path(path)
    state = {"prefix_proj": _cpu_state(codec.projector)}
    if include_lm:
        state["model"] = _cpu_state(codec.lm)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    return path


def _cpu_state(module: nn.Module) -> dict[str, Tensor]:
    """State dict on the CPU; tied weights (Gemma's embedding and LM head) stay one tensor."""
    copies: dict[tuple, Tensor] = {}
    out = {}
    for key, value in module.state_dict().items():
        tag = (value.device, value.data_ptr(), value.shape, value.stride(), value.dtype)
        if tag not in copies:
            copies[tag] = value.detach().cpu()
        out[key] = copies[tag]
    return out


def _model_folder(folder: str | Path, snapshot: str, what: str, marker: str) -> Path:
    """``folder``, or the weight folder's copy when it is the snapshot's name; checked."""
    if str(folder) == snapshot:
        return snapshot_path(snapshot)  # MissingWeightsError says where it goes and how
    path = Path(folder).expanduser()
    if not (path / marker).is_file():
        repo = get_snapshot(snapshot).repo_id
        state = "has no " + marker if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"{what} folder {path} {state}: put a local snapshot of the Hugging Face repo {repo} "
            f"there (hf download {repo} --local-dir {path}), or pass {snapshot!r} for the "
            f"weight folder's copy (python -m metrics.backbones.registry download {snapshot})"
        )
    return path


def _import_paper_extras() -> tuple[Any, Any, Any]:
    try:
        from sentence_transformers import SentenceTransformer
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ImportError(f"the paper text codec needs {_PAPER_EXTRAS}: {exc}") from exc
    return SentenceTransformer, AutoModelForCausalLM, AutoTokenizer


def load_text_codec(
    encoder_dir: str | Path,
    lm_dir: str | Path,
    decoder_checkpoint: str | Path | None = None,
    device: str | torch.device | None = None,
    *,
    dtype: torch.dtype | None = None,
    batch_size: int = 32,
    max_new_tokens: int = MAX_NEW_TOKENS,
    prefix_len: int = PREFIX_LEN,
    seed: int = 0,
) -> TextCodec:
    """The text codec from local folders; nothing is downloaded.

    Args:
        encoder_dir: Sentence-Transformers snapshot of google/embeddinggemma-300m, or the hub
            snapshot name ``"embeddinggemma-300m"`` (the weight folder's copy).
        lm_dir: snapshot of google/gemma-3-1b-pt (model and tokenizer), or ``"gemma-3-1b-pt"``.
        decoder_checkpoint: the released gemmae_3.pt (a path, or the registry entry name
            ``"flowbind-text-decoder"``) or a ``save_text_decoder`` file; None: a fresh projector
            (seeded by ``seed``) over the LM as it is, to be trained with ``train_text_decoder``.
        device: None: CUDA when available, else the CPU.
        dtype: None: bf16 on CUDA (the public code), float32 elsewhere.
        batch_size, max_new_tokens: as in ``TextCodec``.
        prefix_len: prefix tokens of a fresh projector; a checkpoint's must equal it.
        seed: initial weights of a fresh projector.

    Returns:
        The codec on ``device`` in eval mode.
    """
    encoder_dir = _model_folder(encoder_dir, ENCODER_SNAPSHOT, "text encoder", "modules.json")
    lm_dir = _model_folder(lm_dir, LM_SNAPSHOT, "text decoder LM", "config.json")
    sentence_transformer, auto_lm, auto_tokenizer = _import_paper_extras()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    sources = {
        "encoder": _folder_source(encoder_dir, ENCODER_REPO),
        "lm": _folder_source(lm_dir, LM_REPO),
        "decoder_checkpoint": None,
    }
    state = None
    if decoder_checkpoint is not None:
        is_entry = str(decoder_checkpoint) == DECODER_ENTRY
        path = checked_path(DECODER_ENTRY) if is_entry else Path(decoder_checkpoint)
        state = read_text_decoder(path)
        sources["decoder_checkpoint"] = {"path": str(path), "sha256": sha256_file(path)}

    encoder = sentence_transformer(
        str(encoder_dir), device=str(device), local_files_only=True, model_kwargs={"dtype": dtype}
    )
    lm = auto_lm.from_pretrained(
        lm_dir, dtype=dtype, attn_implementation="eager", local_files_only=True
    )
    tokenizer = auto_tokenizer.from_pretrained(lm_dir, local_files_only=True)
    hidden = lm.get_input_embeddings().embedding_dim
    latent_dim = _embedding_dim(encoder)
    if state is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            projector = PrefixProjector(latent_dim, hidden, prefix_len)
    else:
        projector = _projector_from(state["prefix_proj"], path, prefix_len)
        if "model" in state:
            _load_lm_state(lm, state["model"], path)
    return TextCodec(
        encoder,
        projector,
        lm.to(device),
        tokenizer,
        dtype=dtype,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        sources=sources,
    ).to(device)


def _folder_source(folder: Path, repo: str) -> dict[str, Any]:
    """Provenance of a model folder: the repo it stands for and its weight files' sha256."""
    weights = sorted(folder.rglob("*.safetensors")) + sorted(folder.rglob("*.bin"))
    hashes = {str(p.relative_to(folder)): sha256_file(p) for p in weights}
    return {"snapshot_of": repo, "dir": str(folder), "sha256": hashes}


def _projector_from(state: dict[str, Tensor], path: Path, prefix_len: int) -> PrefixProjector:
    try:
        projector = PrefixProjector.from_state_dict(state)
    except (KeyError, RuntimeError) as exc:
        raise ValueError(f"{path}: 'prefix_proj' is no PrefixProjector state dict: {exc}") from exc
    if projector.prefix_len != prefix_len:
        raise ValueError(
            f"{path} holds a {projector.prefix_len}-token prefix projector, prefix_len is "
            f"{prefix_len}: pass prefix_len={projector.prefix_len}"
        )
    return projector


def _load_lm_state(lm: nn.Module, state: dict[str, Tensor], path: Path) -> None:
    result = lm.load_state_dict(state, strict=False)
    tied = getattr(lm.config, "tie_word_embeddings", False)
    missing = [k for k in result.missing_keys if not (tied and k == "lm_head.weight")]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{path}: 'model' does not fit the LM ({type(lm).__name__}): missing {missing[:5]} "
            f"({len(missing)}), unexpected {result.unexpected_keys[:5]} "
            f"({len(result.unexpected_keys)}); is lm_dir a snapshot of {LM_REPO}?"
        )


# -- tiny instance -------------------------------------------------------------------------

SPECIAL_TOKENS = ("<pad>", "<eos>", "<bos>", "<unk>")  # Gemma's ids 0, 1, 2, 3
_EXTRA_WORDS = (  # common caption words, beside the embedded grammar's
    ". , a an the of on in with and at is are two man woman person people dog cat bird car "
    "street water grass table playing sitting standing walking running music sound noise"
)


def _tiny_words() -> list[str]:
    from bench.embedded.captions import vocabulary

    return sorted({*vocabulary(), *_EXTRA_WORDS.split()})


def tiny_text_files(folder: str | Path) -> dict[str, Path]:
    """Where ``tiny_text_codec(folder=...)`` saves: ``load_text_codec(**tiny_text_files(f))``."""
    folder = Path(folder)
    return {
        "encoder_dir": folder / "encoder",
        "lm_dir": folder / "lm",
        "decoder_checkpoint": folder / "text_decoder.pt",
    }


def tiny_text_codec(
    seed: int = 0,
    folder: str | Path | None = None,
    latent_dim: int = LATENT_DIM,
    words: Sequence[str] | None = None,
    hidden: int = 32,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> TextCodec:
    """The same architectures with tiny random weights, built offline (outputs mean nothing).

    Encoder: a 2-layer bidirectional Gemma3TextModel -> Pooling(mean) -> Dense(hidden ->
    4 latent_dim) -> Dense(-> latent_dim), both without bias or activation -> Normalize, as
    EmbeddingGemma. Decoder: PrefixProjector(latent_dim -> hidden) and a 2-layer
    Gemma3ForCausalLM. One word-level tokenizer (``tokenizers``) over ``words`` serves both.

    Args:
        seed: the random weights.
        folder: if given, save there in the real models' on-disk formats (SentenceTransformer
            and save_pretrained folders, a decoder checkpoint); see ``tiny_text_files``.
        latent_dim: the latent size (a multiple of 4).
        words: the vocabulary (lower case); default the embedded captions' words and a few more.
        hidden: both transformers' hidden size.
        max_new_tokens: the decoding budget (fewer than the paper's 64 make a faster tiny run).
    """
    if latent_dim < 4 or latent_dim % 4:
        raise ValueError(f"latent_dim must be a positive multiple of 4, got {latent_dim}")
    sentence_transformer, _, _ = _import_paper_extras()
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, Gemma3TextModel

    modules = _st_modules()
    tokenizer = _tiny_tokenizer(words or _tiny_words())
    # EmbeddingGemma's config halves sliding_window at every load (transformers' bidirectional
    # fix-up); a window far beyond max_seq_length keeps the attention the same through reloads.
    config = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": hidden // 2,
        "query_pre_attn_scalar": hidden // 2,
        "max_position_embeddings": 256,
        "sliding_window": 512,
        "layer_types": ["sliding_attention", "full_attention"],
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
    }
    with torch.random.fork_rng(devices=[]), tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(seed)
        backbone = Gemma3TextModel(Gemma3TextConfig(**config, use_bidirectional_attention=True))
        backbone.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        identity = nn.Identity()
        encoder = sentence_transformer(
            modules=[
                modules.Transformer(tmp, max_seq_length=64),
                modules.Pooling(hidden, pooling_mode="mean"),
                modules.Dense(hidden, 4 * latent_dim, bias=False, activation_function=identity),
                modules.Dense(4 * latent_dim, latent_dim, bias=False, activation_function=identity),
                modules.Normalize(),
            ],
            device="cpu",
        )
        lm = Gemma3ForCausalLM(Gemma3TextConfig(**config, attn_implementation="eager"))
        projector = PrefixProjector(latent_dim, hidden, PREFIX_LEN)
    sources = {
        "encoder": {"tiny": f"random EmbeddingGemma architecture, seed {seed}"},
        "lm": {"tiny": f"random Gemma3ForCausalLM, seed {seed}"},
    }
    codec = TextCodec(
        encoder,
        projector,
        lm,
        tokenizer,
        dtype=torch.float32,
        max_new_tokens=max_new_tokens,
        sources=sources,
    )
    if folder is not None:
        files = tiny_text_files(folder)
        encoder.save(str(files["encoder_dir"]))
        lm.save_pretrained(files["lm_dir"])
        tokenizer.save_pretrained(files["lm_dir"])
        save_text_decoder(codec, files["decoder_checkpoint"])
        codec.sources["saved_to"] = {name: str(path) for name, path in files.items()}
    return codec


def _st_modules() -> Any:
    """Sentence-Transformers' module classes (newer releases moved them out of ``models``)."""
    try:
        from sentence_transformers.sentence_transformer import modules
    except ImportError:
        from sentence_transformers import models as modules
    return modules


def _tiny_tokenizer(words: Sequence[str]) -> Any:
    """Word-level tokenizer: lower-cased, split on whitespace and punctuation, BOS prepended."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word in words:
        vocab.setdefault(word.lower(), len(vocab))
    pad, eos, bos, unk = SPECIAL_TOKENS
    tok = Tokenizer(WordLevel(vocab, unk_token=unk))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab[bos])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, pad_token=pad, unk_token=unk
    )


# -- training the decoder ------------------------------------------------------------------


def caption_tokens(codec: TextCodec, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
    """The decoder's targets: each caption's tokens then EOS, right-padded.

    Captions are cut to ``max_new_tokens - 1`` tokens, so a target fits the generation budget.

    Returns:
        tokens (N, T) long and valid (N, T) bool, on the codec's device.
    """
    eos, pad = codec.tokenizer.eos_token_id, codec.tokenizer.pad_token_id
    ids = codec.tokenizer(list(captions), add_special_tokens=False)["input_ids"]
    ids = [row[: codec.max_new_tokens - 1] + [eos] for row in ids]
    length = max(len(row) for row in ids)
    tokens = torch.full((len(ids), length), eos if pad is None else pad, dtype=torch.long)
    valid = torch.zeros(len(ids), length, dtype=torch.bool)
    for i, row in enumerate(ids):
        tokens[i, : len(row)] = torch.tensor(row)
        valid[i, : len(row)] = True
    return tokens.to(codec.device), valid.to(codec.device)


def teacher_forced_logits(
    codec: TextCodec, z: Tensor, tokens: Tensor, valid: Tensor | None = None
) -> Tensor:
    """Logits (N, T, V) where position t predicts ``tokens[:, t]``, as greedy decoding sees it.

    The LM reads [prefix(z), BOS, tokens[:, :t]]: the same inputs ``generate`` starts from.

    Args:
        z: (N, latent_dim) raw latents.
        tokens: (N, T) target token ids.
        valid: (N, T) mask of real (not padding) tokens; None: all.
    """
    valid = torch.ones_like(tokens, dtype=torch.bool) if valid is None else valid
    with codec.autocast():
        head = codec.prefix_embeds(z)
        x = torch.cat([head, codec.lm.get_input_embeddings()(tokens).to(head.dtype)], dim=1)
        ones = torch.ones(head.shape[:2], dtype=torch.long, device=head.device)
        mask = torch.cat([ones, valid.long()], dim=1)
        logits = codec.lm(inputs_embeds=x, attention_mask=mask, use_cache=False).logits
    start = codec.prefix_len  # BOS's position predicts the first token
    return logits[:, start : start + tokens.shape[1]]


def reconstruction_loss(codec: TextCodec, captions: Sequence[str]) -> Tensor:
    """Teacher-forced cross-entropy of the captions' tokens and EOS given their latents.

    The encoder is frozen; gradients reach the projector and the LM.
    """
    texts = check_captions(captions, "text decoder training")
    tokens, valid = caption_tokens(codec, texts)
    logits = teacher_forced_logits(codec, codec.encode(texts), tokens, valid)
    return F.cross_entropy(logits[valid].float(), tokens[valid])


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless batches of indices: one shuffled pass after another."""
    while True:
        order = rng.permutation(n)
        for begin in range(0, n, batch_size):
            yield order[begin : begin + batch_size]


def train_text_decoder(
    codec: TextCodec,
    captions: Sequence[str],
    steps: int,
    lr: float = 1e-4,
    batch_size: int = 32,
    finetune_lm: bool = True,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Fit the projector (and the LM if ``finetune_lm``) by caption reconstruction; Adam.

    The LM is updated in the dtype it was loaded in: load it in float32 to fine-tune it in full
    precision. The codec is left in eval mode.

    Args:
        codec: the codec to train in place.
        captions: training captions (non-empty strings).
        steps: optimisation steps.
        lr: Adam's learning rate.
        batch_size: captions per step.
        finetune_lm: also train the LM (the released checkpoint holds a fine-tuned one).
        seed: the order of the captions.

    Returns:
        ``{"loss": [the training loss of every step]}``.
    """
    captions = check_captions(captions, "text decoder training")
    if not captions or steps < 1 or batch_size < 1:
        raise ValueError(
            f"training needs captions ({len(captions)}), steps ({steps}) and batch_size "
            f"({batch_size}) >= 1"
        )
    lm_flags = [p.requires_grad for p in codec.lm.parameters()]
    for param in codec.lm.parameters():
        param.requires_grad_(finetune_lm)
    params = [*codec.projector.parameters(), *(codec.lm.parameters() if finetune_lm else ())]
    optimizer = torch.optim.Adam(params, lr=lr)
    codec.projector.train()
    codec.lm.train(finetune_lm)
    losses = []
    try:
        batches = _batches(len(captions), batch_size, np.random.default_rng(seed))
        for _, rows in zip(range(steps), batches, strict=False):
            loss = reconstruction_loss(codec, [captions[i] for i in rows])
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"text decoder loss is {loss.item()} at step {len(losses)}"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    finally:
        for param, flag in zip(codec.lm.parameters(), lm_flags, strict=True):
            param.requires_grad_(flag)
        codec.projector.eval()
        codec.lm.eval()
    return {"loss": losses}
