"""The paper benchmark's image codec: OpenAI CLIP ViT-L/14 image embeddings, Stable UnCLIP 2.1.

As in FlowBind's public code (FACTS section 7):

    encode  OpenAI CLIP ViT-L/14 ``encode_image`` after OpenAI's preprocessing: a 768-d
            embedding, raw (not normalised, not z-scored)
    decode  Stable UnCLIP 2.1 small (``stabilityai/stable-diffusion-2-1-unclip-small``),
            ``pipe(prompt=[""] * B, image_embeds=z)`` with the pipeline's defaults (20 steps,
            guidance 10, noise level 0): 768 x 768 uint8 images

CLIP is built as open_clip ``ViT-L-14-quickgelu`` (its architecture read from the checkpoint's
shapes, as OpenAI's loader does) and OpenAI's file is loaded into it strictly. Both models run in
float16 on CUDA, as in the public code (``clip.load`` keeps OpenAI's float16 weights on a GPU and
the pipeline is loaded in float16), and in float32 on the CPU.

    codec = load_image_codec("weights/ViT-L-14.pt", "weights/stable-diffusion-2-1-unclip-small",
                             device="cuda")
    z = codec.encode(images)      # (N, 768) float32, CPU
    images = codec.decode(z)      # N uint8 (768, 768, 3) arrays

``tiny_image_codec`` builds the same architectures with tiny random weights, offline.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from bench.paper.codec import LATENT_DIM, PaperCodec, check_latents
from metrics.backbones.clip import CLIP_MEAN, CLIP_STD, _quiet_logging, read_openai_clip_state
from metrics.backbones.common import _load_strict
from metrics.backbones.registry import sha256_file

if TYPE_CHECKING:
    from diffusers import StableUnCLIPImg2ImgPipeline

CLIP_MODEL = "OpenAI CLIP ViT-L/14 (open_clip ViT-L-14-quickgelu)"
CLIP_SHA256 = "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836"
CLIP_URL = f"https://openaipublic.azureedge.net/clip/models/{CLIP_SHA256}/ViT-L-14.pt"
UNCLIP_MODEL = "stabilityai/stable-diffusion-2-1-unclip-small"
DEFAULT_STEPS = 20  # the pipeline's default, which the public code keeps
TINY_CLIP_FILE = "clip.pt"  # the tiny folder's layout, read back by load_image_codec
TINY_UNCLIP_DIR = "unclip"


# -- encoder ---------------------------------------------------------------------------------


def openai_preprocess(image: Image.Image, size: int = 224) -> Tensor:
    """OpenAI CLIP's ``_transform(size)`` on a PIL image: float32 (3, size, size).

    Shorter side resized to ``size`` with PIL bicubic (on the uint8 image, as torchvision's
    ``Resize`` does for PIL input), centre crop, RGB, then CLIP's mean and std. The released
    latents were made by this PIL path; a tensor resize gives slightly different pixels.
    """
    w, h = image.size
    short, long = min(w, h), max(w, h)
    new_long = int(size * long / short)  # torchvision's rounding of the longer side
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    image = image.resize((new_w, new_h), Image.Resampling.BICUBIC)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    image = image.crop((left, top, left + size, top + size)).convert("RGB")
    x = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div(255)
    mean, std = torch.tensor(CLIP_MEAN), torch.tensor(CLIP_STD)
    return (x - mean[:, None, None]) / std[:, None, None]


def as_pil_image(item: Any, index: int) -> Image.Image:
    """A PIL image as it is, a uint8 (H, W, 3) array as an RGB image; ValueError otherwise."""
    if isinstance(item, Image.Image):
        return item
    array = item.numpy() if isinstance(item, Tensor) else np.asarray(item)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
        raise ValueError(
            f"image {index}: expected a uint8 (H, W, 3) RGB array or a PIL image, got dtype "
            f"{array.dtype} shape {array.shape} (turn [0, 1] floats into uint8 with "
            "(x * 255).round().astype(np.uint8); give grey images three channels)"
        )
    return Image.fromarray(np.ascontiguousarray(array))  # uint8 (H, W, 3): an RGB image


def clip_config_from_state(state: dict[str, Tensor]) -> dict[str, Any]:
    """open_clip model config of an OpenAI ViT CLIP state dict, read from its shapes.

    As OpenAI's ``build_model``: heads are width / 64 and the activation is QuickGELU. For the
    official ViT-L/14 file this is open_clip's ``ViT-L-14-quickgelu`` config.
    """
    needed = ("visual.conv1.weight", "visual.positional_embedding", "text_projection")
    needed += ("positional_embedding", "token_embedding.weight", "ln_final.weight")
    missing = [key for key in needed if key not in state]
    if missing:
        raise ValueError(f"not an OpenAI ViT CLIP state dict: it lacks {', '.join(missing)}")
    conv = state["visual.conv1.weight"]
    grid = round((state["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    text_width = state["ln_final.weight"].shape[0]
    return {
        "embed_dim": state["text_projection"].shape[1],
        "quick_gelu": True,
        "vision_cfg": {
            "image_size": conv.shape[-1] * grid,
            "layers": len({k.split(".")[3] for k in state if k.startswith("visual.transformer.")}),
            "width": conv.shape[0],
            "patch_size": conv.shape[-1],
        },
        "text_cfg": {
            "context_length": state["positional_embedding"].shape[0],
            "vocab_size": state["token_embedding.weight"].shape[0],
            "width": text_width,
            "heads": text_width // 64,
            "layers": len({k.split(".")[2] for k in state if k.startswith("transformer.")}),
        },
    }


def build_clip(config: dict[str, Any], dtype: torch.dtype = torch.float32) -> nn.Module:
    """A randomly initialised open_clip CLIP; float16 / bfloat16 as open_clip's ``precision``
    (layer norms in float32, like OpenAI's float16 models)."""
    from open_clip.model import CLIP, convert_weights_to_lp

    low = dtype in (torch.float16, torch.bfloat16)
    model = CLIP(**config, cast_dtype=dtype if low else None)
    if low:
        convert_weights_to_lp(model, dtype)
    return model


def load_clip(path: Path, dtype: torch.dtype = torch.float32) -> nn.Module:
    """OpenAI CLIP file (TorchScript archive or plain state dict) as an open_clip CLIP."""
    state = read_openai_clip_state(path)
    try:
        config = clip_config_from_state(state)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}; it must be OpenAI's ViT-L-14.pt ({CLIP_URL})") from None
    with _quiet_logging():
        model = build_clip(config, dtype)
    _load_strict(model, state, path)
    return model


# -- codec -----------------------------------------------------------------------------------


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class ImageCodec(PaperCodec):
    """CLIP image embeddings and Stable UnCLIP decoding (the paper's image codec).

    Args:
        clip: open_clip CLIP whose ``encode_image`` gives the latents (its ``embed_dim`` is the
            latent size).
        pipeline: StableUnCLIPImg2ImgPipeline conditioned on latents of that size.
        batch_size: images per encoder or decoder call.
        steps: denoising steps of the decoder (default: the pipeline's, as the public code).
        seed: decoding seed; item ``i`` of ``decode(z, first_index=k)`` draws its noise from a
            CPU ``torch.Generator`` seeded with ``seed + k + i``, whatever the batch size.
        size: decoded height and width in pixels (a multiple of 8); None: the pipeline's default
            (768 for Stable UnCLIP 2.1 small).
        clip_file, unclip_dir: where the weights came from (for ``describe``).
        clip_model, unclip_model: model names (for ``describe``).
    """

    modality: ClassVar[str] = "image"

    def __init__(
        self,
        clip: nn.Module,
        pipeline: StableUnCLIPImg2ImgPipeline,
        *,
        batch_size: int = 16,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        size: int | None = None,
        clip_file: str | Path | None = None,
        unclip_dir: str | Path | None = None,
        clip_model: str = CLIP_MODEL,
        unclip_model: str = UNCLIP_MODEL,
    ) -> None:
        self.clip = clip.eval().requires_grad_(False)
        self.pipeline = pipeline
        pipeline.set_progress_bar_config(disable=True)
        self.latent_dim = clip.visual.output_dim
        self.image_size = clip.visual.image_size[0]
        conditioning = pipeline.unet.config.projection_class_embeddings_input_dim
        if conditioning != 2 * self.latent_dim:  # the latent, then its noise-level embedding
            raise ValueError(
                f"the decoder takes {conditioning // 2}-d image embeddings but CLIP gives "
                f"{self.latent_dim}-d ones: the two models do not belong together"
            )
        self.batch_size = _positive(batch_size, "batch_size")
        self.steps = _positive(steps, "steps")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        default = pipeline.unet.config.sample_size * pipeline.vae_scale_factor
        self.size = default if size is None else _positive(size, "size")
        multiple = max(8, pipeline.vae_scale_factor)
        if self.size % multiple:
            raise ValueError(f"size must be a multiple of {multiple}, got {self.size}")
        self.clip_file = None if clip_file is None else Path(clip_file)
        self.unclip_dir = None if unclip_dir is None else Path(unclip_dir)
        self.clip_model, self.unclip_model = clip_model, unclip_model
        self._clip_sha256: str | None = None

    def to(self, device: str | torch.device) -> ImageCodec:
        self.clip.to(device)
        self.pipeline.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return self.clip.visual.conv1.weight.device

    def preprocess(self, batch: Sequence[Any]) -> Tensor:
        """OpenAI's preprocessing of each image: float32 (N, 3, S, S), S the CLIP input size."""
        single = isinstance(batch, Image.Image) or (
            isinstance(batch, np.ndarray) and batch.ndim < 4
        )
        if single or not isinstance(batch, Sequence | np.ndarray):
            raise ValueError(
                f"images: expected a sequence of images or an (N, H, W, 3) array, got "
                f"{type(batch).__name__} (wrap a single image in a list)"
            )
        size = self.image_size
        pixels = [openai_preprocess(as_pil_image(x, i), size) for i, x in enumerate(batch)]
        return torch.stack(pixels) if pixels else torch.empty(0, 3, size, size)

    @torch.no_grad()
    def encode(self, batch: Sequence[Any]) -> Tensor:
        """Raw CLIP image embeddings of uint8 (H, W, 3) arrays or PIL images: (N, D) float32 CPU."""
        pixels = self.preprocess(batch)
        if not len(pixels):
            return torch.empty(0, self.latent_dim)
        dtype = self.clip.visual.conv1.weight.dtype
        chunks = pixels.split(self.batch_size)
        return torch.cat(
            [self.clip.encode_image(x.to(self.device, dtype)).float() for x in chunks]
        ).cpu()

    def decode(self, latents: Tensor, first_index: int = 0) -> list[np.ndarray]:
        """uint8 (size, size, 3) images of raw CLIP embeddings (N, D).

        ``first_index``: the position of ``latents[0]`` in the whole set being decoded, so that
        decoding a set in chunks gives every item its own seed (``seed + first_index + i``).
        """
        latents = check_latents(latents, self.latent_dim, "image decode")
        if isinstance(first_index, bool) or not isinstance(first_index, int) or first_index < 0:
            raise ValueError(f"first_index must be a non-negative integer, got {first_index!r}")
        dtype = self.pipeline.unet.dtype
        images: list[np.ndarray] = []
        for start in range(0, len(latents), self.batch_size):
            chunk = latents[start : start + self.batch_size]
            first_seed = self.seed + first_index + start
            seeds = range(first_seed, first_seed + len(chunk))
            result = self.pipeline(
                prompt=[""] * len(chunk),
                image_embeds=chunk.to(self.device, dtype),
                num_inference_steps=self.steps,
                height=self.size,
                width=self.size,
                generator=[torch.Generator("cpu").manual_seed(s) for s in seeds],
                output_type="np",
            )
            # diffusers' own float -> uint8 conversion (numpy_to_pil)
            images.extend(np.round(result.images * 255).clip(0, 255).astype(np.uint8))
        return images

    def describe(self) -> dict[str, Any]:
        if self.clip_file is not None and self._clip_sha256 is None:
            self._clip_sha256 = sha256_file(self.clip_file)
        return {
            "modality": self.modality,
            "latent_dim": self.latent_dim,
            "latents": "raw CLIP image embeddings (not normalised, not z-scored)",
            "encoder": {
                "model": self.clip_model,
                "file": None if self.clip_file is None else str(self.clip_file),
                "sha256": self._clip_sha256,
                "official_file": self._clip_sha256 == CLIP_SHA256,
                "dtype": str(self.clip.visual.conv1.weight.dtype),
                "preprocessing": f"OpenAI CLIP: PIL bicubic resize of the shorter side to "
                f"{self.image_size}, centre crop {self.image_size}, RGB, CLIP mean and std",
            },
            "decoder": {
                "model": self.unclip_model,
                "folder": None if self.unclip_dir is None else str(self.unclip_dir),
                "pipeline": type(self.pipeline).__name__,
                "dtype": str(self.pipeline.unet.dtype),
                "prompt": "",
                "num_inference_steps": self.steps,
                "size": self.size,
                "seed": self.seed,
            },
        }


def _default_dtype(device: str | torch.device) -> torch.dtype:
    return torch.float16 if torch.device(device).type == "cuda" else torch.float32


def load_image_codec(
    clip_file: str | Path,
    unclip_dir: str | Path,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    **options: Any,
) -> ImageCodec:
    """The paper's image codec from local files; nothing is downloaded.

    Args:
        clip_file: OpenAI's ``ViT-L-14.pt`` (TorchScript archive) or a plain state dict in
            OpenAI's layout (what ``tiny_image_codec(folder=...)`` writes).
        unclip_dir: local snapshot of ``stabilityai/stable-diffusion-2-1-unclip-small``
            (the folder holding ``model_index.json``).
        device: where both models run.
        dtype: both models' precision; None: float16 on CUDA, float32 elsewhere.
        **options: ``ImageCodec`` options (batch_size, steps, seed, size).

    Returns:
        The codec, on ``device``.
    """
    clip_file, unclip_dir = Path(clip_file).expanduser(), Path(unclip_dir).expanduser()
    if not clip_file.is_file():
        raise FileNotFoundError(
            f"CLIP file {clip_file} does not exist: it must be OpenAI's CLIP ViT-L/14 checkpoint "
            f"ViT-L-14.pt (890 MB, sha256 {CLIP_SHA256}), from {CLIP_URL}"
        )
    if not (unclip_dir / "model_index.json").is_file():
        raise FileNotFoundError(
            f"decoder folder {unclip_dir} has no model_index.json: it must be a local snapshot "
            f"of {UNCLIP_MODEL} (on a machine with internet: huggingface-cli download "
            f"{UNCLIP_MODEL} --local-dir {unclip_dir})"
        )
    dtype = dtype or _default_dtype(device)
    clip = load_clip(clip_file, dtype)
    pipeline = _load_pipeline(unclip_dir, dtype)
    options = {**_tiny_defaults(unclip_dir), **options}
    codec = ImageCodec(clip, pipeline, clip_file=clip_file, unclip_dir=unclip_dir, **options)
    return codec.to(device)


def _load_pipeline(folder: Path, dtype: torch.dtype) -> StableUnCLIPImg2ImgPipeline:
    from diffusers import DiffusionPipeline, StableUnCLIPImg2ImgPipeline
    from diffusers.utils import logging as diffusers_logging

    shown = diffusers_logging.is_progress_bar_enabled()
    diffusers_logging.disable_progress_bar()  # "Loading pipeline components" on every load
    try:
        pipeline = DiffusionPipeline.from_pretrained(
            folder, torch_dtype=dtype, local_files_only=True
        )
    finally:
        if shown:
            diffusers_logging.enable_progress_bar()
    if not isinstance(pipeline, StableUnCLIPImg2ImgPipeline):
        raise ValueError(
            f"{folder} holds a {type(pipeline).__name__}, not a StableUnCLIPImg2ImgPipeline: it "
            f"must be a snapshot of {UNCLIP_MODEL}"
        )
    return pipeline


# -- tiny instance ---------------------------------------------------------------------------

# In a tiny folder's decoder folder: the models' names and the tiny decoding defaults, so that
# load_image_codec gives back the codec tiny_image_codec built.
_TINY_MARK = "tiny_image_codec.json"
TINY_DEFAULTS = {
    "clip_model": "tiny random CLIP",
    "unclip_model": "tiny random Stable UnCLIP",
    "steps": 2,
}


def _tiny_defaults(unclip_dir: Path) -> dict[str, Any]:
    mark = unclip_dir / _TINY_MARK
    return json.loads(mark.read_text()) if mark.is_file() else {}


def _tiny_tokenizer(max_length: int) -> Any:
    """CLIP's BPE tokenizer over the 256 byte symbols alone (no merges), built offline."""
    from transformers import CLIPTokenizer
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab = ["<|startoftext|>", "<|endoftext|>", *symbols, *(s + "</w>" for s in symbols)]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
        (Path(folder) / "merges.txt").write_text("#version: 0.2\n")
        return CLIPTokenizer(
            str(Path(folder) / "vocab.json"),
            str(Path(folder) / "merges.txt"),
            model_max_length=max_length,
        )


def _tiny_pipeline(latent_dim: int) -> StableUnCLIPImg2ImgPipeline:
    """Stable UnCLIP img2img from tiny random parts: 32 x 32 images, 16-64 channels."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableUnCLIPImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import (
        StableUnCLIPImageNormalizer,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    text_width, max_length = 32, 8
    tokenizer = _tiny_tokenizer(max_length)
    text_encoder = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=text_width,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    image_encoder = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        projection_dim=latent_dim,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(16, 32),
        norm_num_groups=8,
        attention_head_dim=(2, 4),
        cross_attention_dim=text_width,
        use_linear_projection=True,
        upcast_attention=True,
        class_embed_type="projection",
        projection_class_embeddings_input_dim=2 * latent_dim,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(16, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=8,
        sample_size=32,
    )
    return StableUnCLIPImg2ImgPipeline(
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
        image_encoder=CLIPVisionModelWithProjection(image_encoder).eval(),
        image_normalizer=StableUnCLIPImageNormalizer(embedding_dim=latent_dim).eval(),
        image_noising_scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"),
        tokenizer=tokenizer,
        text_encoder=CLIPTextModel(text_encoder).eval(),
        unet=unet.eval(),
        scheduler=DDIMScheduler(  # Stable UnCLIP 2.1's scheduler settings
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
            prediction_type="v_prediction",
            set_alpha_to_one=False,
            steps_offset=1,
        ),
        vae=vae.eval(),
    )


TINY_CLIP_CONFIG = {  # patch 32 at OpenAI's 224 px input: the same preprocessing path
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 64, "patch_size": 32},
    "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 64, "heads": 1, "layers": 1},
}


def tiny_image_codec(
    seed: int = 0, folder: str | Path | None = None, latent_dim: int = LATENT_DIM, **options: Any
) -> ImageCodec:
    """The codec's architectures with tiny random weights, built offline; outputs mean nothing.

    CLIP: one 64-wide layer, patch 32 at 224 px, ``embed_dim = latent_dim``. Decoder: a tiny
    StableUnCLIPImg2ImgPipeline giving 32 x 32 images, 2 denoising steps by default.

    Args:
        seed: the weights' seed (the decoding seed is ``options["seed"]``, default 0).
        folder: if given, the weights are written there for ``load_image_codec``:
            ``folder / TINY_CLIP_FILE`` (CLIP in OpenAI's state-dict layout) and
            ``folder / TINY_UNCLIP_DIR`` (the pipeline's ``save_pretrained``).
        latent_dim: the embedding size.
        **options: ``ImageCodec`` options (batch_size, steps, seed, size).
    """
    with torch.random.fork_rng(devices=[]), _quiet_logging():
        torch.manual_seed(seed)
        clip = build_clip({"embed_dim": latent_dim, **TINY_CLIP_CONFIG})
        pipeline = _tiny_pipeline(latent_dim)
    files: dict[str, Path] = {}
    if folder is not None:
        folder = Path(folder)
        files = {"clip_file": folder / TINY_CLIP_FILE, "unclip_dir": folder / TINY_UNCLIP_DIR}
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(clip.state_dict(), files["clip_file"])
        pipeline.save_pretrained(files["unclip_dir"])
        (files["unclip_dir"] / _TINY_MARK).write_text(json.dumps(TINY_DEFAULTS))
    return ImageCodec(clip, pipeline, **{**TINY_DEFAULTS, **options}, **files)
