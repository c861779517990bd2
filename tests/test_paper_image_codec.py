"""The paper benchmark's image codec (CLIP ViT-L/14 + Stable UnCLIP) on its tiny instance."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("open_clip")
pytest.importorskip("diffusers")

from bench.paper.image_codec import (  # noqa: E402
    DEFAULT_STEPS,
    TINY_CLIP_CONFIG,
    TINY_CLIP_FILE,
    TINY_UNCLIP_DIR,
    UNCLIP_MODEL,
    ImageCodec,
    clip_config_from_state,
    load_clip,
    load_image_codec,
    openai_preprocess,
    tiny_image_codec,
)
from metrics.backbones.clip import CLIP_MEAN, CLIP_STD, read_openai_clip_state  # noqa: E402


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, ImageCodec]:
    """The tiny codec, also written to a folder for load_image_codec."""
    folder = tmp_path_factory.mktemp("tiny_image_codec")
    return folder, tiny_image_codec(seed=0, folder=folder)


@pytest.fixture(scope="module")
def codec(saved) -> ImageCodec:
    return saved[1]


@pytest.fixture(scope="module")
def images() -> list:
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(40, 61), (301, 200)]]
    pil = Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8))
    return [*arrays, pil, rng.integers(0, 256, (230, 500, 3), dtype=np.uint8)]


def _clip_transform():
    """OpenAI CLIP's ``_transform(224)``, written with torchvision as OpenAI's package does."""
    from torchvision import transforms as T

    return T.Compose(
        [
            T.Resize(224, interpolation=T.InterpolationMode.BICUBIC),
            T.CenterCrop(224),
            lambda image: image.convert("RGB"),
            T.ToTensor(),
            T.Normalize(CLIP_MEAN, CLIP_STD),
        ]
    )


# -- encoder ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "mode"),
    [((300, 200), "RGB"), ((201, 457), "RGB"), ((224, 224), "RGB"), ((57, 31), "RGB"),
     ((333, 225), "L"), ((240, 260), "RGBA")],
)  # fmt: skip
def test_preprocessing_is_openai_recipe(size, mode) -> None:
    rng = np.random.default_rng(sum(size))
    channels = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
    pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode=mode)
    ours = openai_preprocess(image)
    assert ours.shape == (3, 224, 224) and ours.dtype == torch.float32
    assert torch.equal(ours, _clip_transform()(image))


def test_arrays_and_pil_images_are_preprocessed_alike(codec, images) -> None:
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    array = images[1]
    ours = codec.preprocess([array])[0]
    assert torch.equal(ours, openai_preprocess(Image.fromarray(array)))
    # a tensor bicubic resize (not what made the released latents) gives other pixels
    tensor = torch.from_numpy(array).permute(2, 0, 1)
    tensor = TF.resize(tensor, [224], interpolation=InterpolationMode.BICUBIC, antialias=True)
    tensor = TF.center_crop(tensor, [224, 224]).float() / 255
    tensor = (tensor - torch.tensor(CLIP_MEAN)[:, None, None]) / torch.tensor(CLIP_STD)[
        :, None, None
    ]
    assert tensor.shape == ours.shape and not torch.allclose(tensor, ours, atol=1e-3)


def test_encode_gives_raw_clip_image_embeddings(codec, images) -> None:
    z = codec.encode(images)
    assert z.shape == (len(images), 768) and z.dtype == torch.float32 and z.device.type == "cpu"
    assert torch.equal(z, codec.encode(images))
    pixels = torch.stack([openai_preprocess(_pil(x)) for x in images])
    with torch.no_grad():
        expected = codec.clip.encode_image(pixels)
    torch.testing.assert_close(z, expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(z.norm(dim=1), torch.ones(len(images)))  # not normalised
    one_by_one = ImageCodec(codec.clip, codec.pipeline, batch_size=1).encode(images)
    torch.testing.assert_close(one_by_one, z, rtol=1e-5, atol=1e-5)
    assert codec.encode([]).shape == (0, 768)


def _pil(item) -> Image.Image:
    return item if isinstance(item, Image.Image) else Image.fromarray(item)


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (np.zeros((32, 32, 3), np.float32), "dtype float32"),
        (np.zeros((32, 32), np.uint8), r"shape \(32, 32\)"),
        (np.zeros((32, 32, 4), np.uint8), r"shape \(32, 32, 4\)"),
        (np.zeros((0, 32, 3), np.uint8), r"shape \(0, 32, 3\)"),
        ("a caption", "dtype <U9"),
    ],
)
def test_bad_images_are_named_by_index(codec, images, bad, what) -> None:
    with pytest.raises(ValueError, match=rf"image 1: expected a uint8 \(H, W, 3\).*{what}"):
        codec.encode([images[0], bad])


def test_a_single_image_must_be_wrapped_in_a_list(codec, images) -> None:
    for single in (images[0], images[2]):
        with pytest.raises(ValueError, match="wrap a single image in a list"):
            codec.encode(single)


def test_clip_architecture_is_read_from_the_checkpoint(codec) -> None:
    import open_clip

    with torch.device("meta"):  # shapes only: no memory, no initialisation
        official = open_clip.create_model("ViT-L-14-quickgelu", pretrained=None, device="meta")
    config = clip_config_from_state(official.state_dict())
    assert config == open_clip.get_model_config("ViT-L-14-quickgelu")
    tiny = clip_config_from_state(codec.clip.state_dict())
    assert tiny == {"embed_dim": 768, **TINY_CLIP_CONFIG}


def test_float16_clip_keeps_openai_precision(saved, images) -> None:
    folder, codec = saved
    clip16 = load_clip(folder / TINY_CLIP_FILE, torch.float16)
    visual = clip16.visual
    assert visual.conv1.weight.dtype == visual.proj.dtype == torch.float16
    assert visual.ln_pre.weight.dtype == visual.class_embedding.dtype == torch.float32
    z16 = ImageCodec(clip16, codec.pipeline).encode(images)
    assert z16.dtype == torch.float32
    torch.testing.assert_close(z16, codec.encode(images), rtol=0.02, atol=0.02)


# -- decoder ---------------------------------------------------------------------------------


def test_decode_gives_reproducible_uint8_images(codec, images) -> None:
    z = codec.encode(images[:3])
    out = codec.decode(z)
    assert len(out) == 3
    assert all(x.dtype == np.uint8 and x.shape == (32, 32, 3) for x in out)
    assert all(x.std() > 0 for x in out)
    assert all(np.array_equal(a, b) for a, b in zip(out, codec.decode(z), strict=True))
    reseeded = ImageCodec(codec.clip, codec.pipeline, steps=2, seed=1).decode(z)
    assert not any(np.array_equal(a, b) for a, b in zip(out, reseeded, strict=True))
    # each item has its own seed: chunking changes float rounding only, the position matters
    chunked = [*codec.decode(z[:1]), *codec.decode(z[1:], first_index=1)]
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(out, chunked, strict=True))
    assert np.abs(codec.decode(z[1:2])[0].astype(int) - out[1]).max() > 1


def test_decode_options_and_bad_latents(codec, images) -> None:
    z = codec.encode(images[:2])
    larger = ImageCodec(codec.clip, codec.pipeline, steps=1, size=48).decode(z)
    assert [x.shape for x in larger] == [(48, 48, 3)] * 2
    for bad in ({"size": 36}, {"steps": 0}, {"batch_size": 2.0}, {"seed": "0"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ImageCodec(codec.clip, codec.pipeline, **bad)
    for latents in (torch.zeros(2, 767), torch.full((1, 768), float("nan"))):
        with pytest.raises(ValueError, match="image decode"):
            codec.decode(latents)
    with pytest.raises(ValueError, match="first_index"):
        codec.decode(z, first_index=-1)
    assert codec.decode(torch.zeros(0, 768)) == []


def test_default_steps_are_the_pipelines() -> None:
    from diffusers import StableUnCLIPImg2ImgPipeline

    call = inspect.signature(StableUnCLIPImg2ImgPipeline.__call__)
    assert call.parameters["num_inference_steps"].default == DEFAULT_STEPS


def test_latent_size_is_clips_and_must_fit_the_decoder(codec, images) -> None:
    small = tiny_image_codec(latent_dim=64)
    z = small.encode(images[:2])
    assert z.shape == (2, 64)
    assert [x.shape for x in small.decode(z)] == [(32, 32, 3)] * 2
    with pytest.raises(ValueError, match="do not belong together"):
        ImageCodec(small.clip, codec.pipeline)


# -- files -----------------------------------------------------------------------------------


def test_saved_tiny_folder_loads_back_identically(saved, images) -> None:
    folder, codec = saved
    clip_file = folder / TINY_CLIP_FILE
    state = read_openai_clip_state(clip_file)  # OpenAI's layout: visual.*, text tower, scale
    assert {"visual.conv1.weight", "text_projection", "logit_scale"} <= set(state)
    loaded = load_image_codec(clip_file, folder / TINY_UNCLIP_DIR)
    assert torch.equal(loaded.encode(images), codec.encode(images))
    z = codec.encode(images[:2])
    for a, b in zip(loaded.decode(z), codec.decode(z), strict=True):
        assert np.array_equal(a, b)
    info = loaded.describe()
    assert info["encoder"]["sha256"] == hashlib.sha256(clip_file.read_bytes()).hexdigest()
    assert not info["encoder"]["official_file"]
    assert info["decoder"]["num_inference_steps"] == 2
    assert info["decoder"]["folder"] == str(folder / TINY_UNCLIP_DIR)
    assert codec.describe()["encoder"]["model"] == info["encoder"]["model"] == "tiny random CLIP"


def test_missing_files_say_what_goes_there(saved, tmp_path) -> None:
    folder, _ = saved
    missing = tmp_path / "ViT-L-14.pt"
    with pytest.raises(FileNotFoundError, match=rf"{missing}.*CLIP ViT-L/14.*ViT-L-14\.pt"):
        load_image_codec(missing, folder / TINY_UNCLIP_DIR)
    for unclip_dir in (tmp_path / "absent", tmp_path):  # absent, or without model_index.json
        with pytest.raises(FileNotFoundError, match=rf"{unclip_dir} has no model_index.*"):
            load_image_codec(folder / TINY_CLIP_FILE, unclip_dir)
        with pytest.raises(FileNotFoundError, match=UNCLIP_MODEL):
            load_image_codec(folder / TINY_CLIP_FILE, unclip_dir)


def test_a_file_that_is_not_clip_is_refused(saved, tmp_path) -> None:
    folder, _ = saved
    bad = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(2)}, bad)
    with pytest.raises(ValueError, match=rf"{bad}: not an OpenAI ViT CLIP"):
        load_image_codec(bad, folder / TINY_UNCLIP_DIR)
