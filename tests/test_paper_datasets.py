"""The paper data set adapters on tiny copies written in each data set's real on-disk format."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import shutil

import numpy as np
import paper_fixtures as fx
import pytest
import soundfile
from PIL import Image

from bench.embedded.storage import PLAIN_ID
from bench.paper.datasets import (
    DATASETS,
    PAPER_SPLITS,
    BadItems,
    CorruptItemError,
    DataLayoutError,
    MissingItemError,
    TarMember,
    TooManyBadItemsError,
    load_audio,
    load_image,
    load_text,
    open_dataset,
    read_batches,
)

HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# -- each adapter on its fixture ---------------------------------------------------------


def test_coco_karpathy_test_split_holds_every_reference(tmp_path):
    expected = fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path).items("test")
    assert [it.id for it in items] == expected["test_ids"]
    assert [it.captions for it in items] == expected["test_captions"]  # stripped
    assert items[0].text == "k391895 caption 0"
    image = load_image(items[0])
    assert image.dtype == np.uint8 and image.shape == (*fx.IMAGE_SIZE, 3)
    assert np.array_equal(image, decoded(items[0].image.read_bytes()))
    assert [it.id for it in open_dataset("coco", tmp_path).items("train")] == ["coco_57870"]


def test_coco_val2014_is_sorted_by_image_id_and_captions_by_annotation_id(tmp_path):
    expected = fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path).items("val2014")
    assert {it.id: it.captions for it in items} == expected["val2014"]
    assert [it.id for it in items] == list(expected["val2014"])


@pytest.mark.parametrize("seed", [0, 3])
def test_mscoco30k_draw_follows_the_documented_protocol(tmp_path, seed):
    expected = fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path, sample_size=4, seed=seed).items("mscoco30k")
    ids, captions = list(expected["val2014"]), list(expected["val2014"].values())
    rng = np.random.default_rng(seed)  # independently: images without replacement, then one
    rows = sorted(rng.choice(len(ids), size=4, replace=False))  # caption each, same generator
    want = [(ids[r], (captions[r][rng.integers(len(captions[r]))],)) for r in rows]
    assert [(it.id, it.captions) for it in items] == want
    again = open_dataset("coco", tmp_path, sample_size=4, seed=seed).items("mscoco30k")
    assert [it.captions for it in again] == [it.captions for it in items]
    assert all(it.image.is_file() for it in items)


def test_mscoco30k_sample_size_options(tmp_path):
    fx.write_coco(tmp_path)
    assert len(open_dataset("coco", tmp_path, sample_size=None).items("mscoco30k")) == 6
    with pytest.raises(DataLayoutError, match=r"draws 7 images .* lists 6"):
        open_dataset("coco", tmp_path, sample_size=7).items("mscoco30k")
    with pytest.raises(ValueError, match="sample_size"):
        open_dataset("coco", tmp_path, sample_size=0)


@pytest.mark.parametrize("fmt", ["karpathy", "hf"])
def test_flickr30k_reads_both_annotation_formats_alike(tmp_path, fmt):
    expected = fx.write_flickr30k(tmp_path, fmt)
    dataset = open_dataset("flickr30k", tmp_path)
    assert dataset.format == fmt
    items = dataset.items("all")
    assert [it.id for it in items] == expected["ids"]
    assert [it.captions for it in items] == expected["captions"]
    assert [it.id for it in dataset.items("val")] == ["flickr_1000268201"]
    assert len(dataset.items("train")) == 3
    assert load_image(items[4]).shape == (*fx.IMAGE_SIZE, 3)  # "10010 52.jpg"


def test_laion_coco_tar_shards(tmp_path):
    expected = fx.write_laion_tars(tmp_path)
    dataset = open_dataset("laion_coco", tmp_path)
    items = dataset.items("train")
    assert [it.id for it in items] == expected["ids"]  # 2 shards, the stats parquet unread
    assert [it.captions for it in items] == expected["captions"]
    assert isinstance(items[4].image, TarMember) and items[4].image.shard.name == "00001.tar"
    for item in (items[0], items[4]):
        image = load_image(item)
        assert image.dtype == np.uint8 and image.shape == (*fx.IMAGE_SIZE, 3)
        assert np.array_equal(image, decoded(expected["jpg"][item.id]))
    assert load_text(items[1]) == "laion shard 0 sample 1"


def test_laion_coco_tar_sample_without_image_or_caption_is_a_bad_item(tmp_path):
    fx.write_laion_tars(tmp_path, shards=1)
    shard = tmp_path / "00000.tar"
    fx.add_tar_sample(shard, "000009998", {"txt": b"a caption, no image"})
    fx.add_tar_sample(shard, "000009999", {"jpg": fx.image_bytes(5)})
    items = {it.id: it for it in open_dataset("laion_coco", tmp_path).items("train")}
    with pytest.raises(MissingItemError, match="000009998.jpg"):
        load_image(items["laion_000009998"])
    with pytest.raises(MissingItemError, match="no caption"):
        load_text(items["laion_000009999"])
    assert load_image(items["laion_000009999"]).shape == (*fx.IMAGE_SIZE, 3)


def test_laion_coco_shard_cut_after_listing_is_a_corrupt_item(tmp_path):
    fx.write_laion_tars(tmp_path, shards=1)
    items = open_dataset("laion_coco", tmp_path).items("train")
    fx.truncate(tmp_path / "00000.tar", keep=0.3)
    with pytest.raises(CorruptItemError, match="truncated shard"):
        load_image(items[-1])


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow is not installed: no parquet engine")
def test_laion_coco_parquet_output(tmp_path):
    expected = fx.write_laion_parquet(tmp_path)
    dataset = open_dataset("laion_coco", tmp_path)
    items = dataset.items("train")
    assert [it.id for it in items] == expected["ids"]  # the failed download left out
    assert [it.captions for it in items] == expected["captions"]
    assert dataset.download_failures == 1
    assert load_image(items[2]).shape == (*fx.IMAGE_SIZE, 3)


@pytest.mark.skipif(HAS_PYARROW, reason="pyarrow is installed")
def test_laion_coco_parquet_without_pyarrow_names_the_fix(tmp_path):
    (tmp_path / "00000.parquet").write_bytes(b"PAR1")
    with pytest.raises(ImportError, match="pip install pyarrow"):
        open_dataset("laion_coco", tmp_path, output_format="parquet").items("train")


def test_audiocaps_clips_hold_every_caption_and_rows_mode_gives_pairs(tmp_path):
    expected = fx.write_audiocaps(tmp_path)
    dataset = open_dataset("audiocaps", tmp_path)
    for split in ("train", "val", "test"):
        items = dataset.items(split)
        assert [it.id for it in items] == expected[split]["ids"]
        assert [it.captions for it in items] == expected[split]["captions"]
    rows = open_dataset("audiocaps", tmp_path, only_first_caption=False).items("test")
    assert len(rows) == 15 and all(len(it.captions) == 1 for it in rows)
    assert [it.captions[0] for it in rows[:5]] == list(expected["test"]["captions"][0])
    assert rows[0].audio == dataset.items("test")[0].audio


def test_load_audio_is_float32_mono_at_the_rate_asked(tmp_path):
    fx.write_audiocaps(tmp_path)
    item = open_dataset("audiocaps", tmp_path).items("test")[0]  # a stereo file
    same = load_audio(item, fx.AUDIO_RATE)
    assert same.dtype == np.float32 and same.ndim == 1
    np.testing.assert_allclose(same, fx.tone(0, channels=2).mean(1), atol=1e-4)  # 16-bit PCM
    up = load_audio(item, 48000)
    assert up.dtype == np.float32 and up.shape == (3 * len(same),)
    assert np.abs(up).max() <= 1.0


@pytest.mark.parametrize(
    "pattern",
    [
        "audio/{split}/Y{youtube_id}.wav",
        "{youtube_id}_{start_time}.wav",
        "{split}/{youtube_id}.flac",
    ],
)
def test_audiocaps_audio_patterns(tmp_path, pattern):
    fx.write_audiocaps(tmp_path, pattern=pattern)
    dataset = open_dataset("audiocaps", tmp_path, audio_pattern=pattern)
    dataset.check()
    for item in dataset.items("test"):
        assert load_audio(item, fx.AUDIO_RATE).shape == (int(fx.AUDIO_SECONDS * fx.AUDIO_RATE),)


def test_audiocaps_pattern_matching_no_file_is_a_layout_error(tmp_path):
    fx.write_audiocaps(tmp_path)
    dataset = open_dataset("audiocaps", tmp_path, audio_pattern="audio/{split}/Y{youtube_id}.wav")
    with pytest.raises(DataLayoutError) as error:
        dataset.check()
    message = str(error.value)
    assert "Y{youtube_id}.wav" in message and "-0DLPzsiXXE.wav" in message  # what is there
    assert "Expected layout" in message


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("audio/{split}.wav", "must contain {youtube_id}"),
        ("audio/{speaker}/{youtube_id}.wav", "does not format"),
        ("../{youtube_id}.wav", "relative to root"),
        ("/data/{youtube_id}.wav", "relative to root"),
        ("audio/{youtube_id}.mp4", "must end in one of"),
    ],
)
def test_unusable_audio_patterns_are_refused(tmp_path, pattern, why):
    with pytest.raises(ValueError, match=why.replace("{", r"\{").replace("}", r"\}")):
        open_dataset("audiocaps", tmp_path, audio_pattern=pattern)


def test_vggsound_clips_pair_a_frame_with_audio(tmp_path):
    expected = fx.write_vggsound(tmp_path)
    dataset = open_dataset("vggsound", tmp_path)
    dataset.check()
    for split in ("train", "test"):
        items = dataset.items(split)
        assert [it.id for it in items] == expected[split]["ids"]
        assert [it.meta["label"] for it in items] == expected[split]["labels"]  # "a, b" kept
        assert all(it.captions == () and it.text is None for it in items)
    item = dataset.items("test")[0]
    assert item.id == "vgg_-0DLPzsiXXE_000100"
    assert load_image(item).shape == (*fx.IMAGE_SIZE, 3)
    assert load_audio(item, 8000).shape == (int(fx.AUDIO_SECONDS * 8000),)


def test_vggsound_csv_row_with_an_unknown_split_is_refused(tmp_path):
    fx.write_vggsound(tmp_path)
    with (tmp_path / "vggsound.csv").open("a") as f:
        f.write("abcdefghijk,5,cat,valid\n")
    with pytest.raises(DataLayoutError, match=r"vggsound.csv: line 8: .*'valid'"):
        open_dataset("vggsound", tmp_path).items("train")


def test_triplets_add_the_generated_image_to_audiocaps_test(tmp_path):
    expected = fx.write_triplets(tmp_path)
    items = open_dataset("triplets", tmp_path).items("test")
    assert [it.id for it in items] == expected["ids"]
    assert [it.captions for it in items] == expected["captions"]
    assert items[0].image.name == "-0DLPzsiXXE.png"
    assert load_image(items[0]).shape == (*fx.IMAGE_SIZE, 3)
    assert load_audio(items[0], fx.AUDIO_RATE).ndim == 1


# -- layout errors -------------------------------------------------------------------------


def _remove(path):
    shutil.rmtree(path) if path.is_dir() else path.unlink()


LAYOUTS = {
    "coco": (fx.write_coco, ["dataset_coco.json", "val2014"], {}),
    "flickr30k": (
        lambda root: fx.write_flickr30k(root, "hf"),
        ["flickr_annotations_30k.csv", "flickr30k-images"],
        {},
    ),
    "laion_coco": (fx.write_laion_tars, [""], {}),  # the whole output folder
    "audiocaps": (fx.write_audiocaps, ["test.csv", "audio/train"], {}),
    "vggsound": (fx.write_vggsound, ["vggsound.csv", "frames"], {}),
    "triplets": (fx.write_triplets, ["test.csv", "triplet_images"], {}),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_missing_annotations_and_folders_are_all_named_with_the_layout(tmp_path, name):
    write, removed, options = LAYOUTS[name]
    root = tmp_path / "data"
    write(root)
    for part in removed:
        _remove(root / part)
    with pytest.raises(DataLayoutError) as error:
        open_dataset(name, root, **options).check()
    message = str(error.value)
    for part in removed:
        assert f"  {root / part}".rstrip("/") + "\n" in message  # every one, not the first
    assert "Expected layout:\n  <root>/" in message
    if name == "flickr30k":  # no annotation file: both alternatives are named
        assert f"  {root / 'dataset_flickr30k.json'}\n" in message
        assert "3 path(s) missing" in message and "Either annotation file will do" in message
    else:
        assert f"{len(removed)} path(s) missing" in message


def test_malformed_annotation_files_are_layout_errors(tmp_path):
    fx.write_coco(tmp_path / "coco")
    (tmp_path / "coco" / "dataset_coco.json").write_text('{"images": [')
    with pytest.raises(DataLayoutError, match="dataset_coco.json: not readable JSON"):
        open_dataset("coco", tmp_path / "coco").items("test")
    fx.write_audiocaps(tmp_path / "ac")
    (tmp_path / "ac" / "test.csv").write_text("youtube_id,caption\nabc,a dog\n")
    with pytest.raises(DataLayoutError, match=r"test.csv: lacks the column\(s\)"):
        open_dataset("audiocaps", tmp_path / "ac").items("test")


def test_unknown_split_names_the_known_ones(tmp_path):
    fx.write_vggsound(tmp_path)
    with pytest.raises(ValueError, match="unknown split 'val'; choose one of train, test"):
        open_dataset("vggsound", tmp_path).items("val")


# -- bad items -----------------------------------------------------------------------------


def test_corrupt_and_missing_images_are_skipped_counted_and_listed(tmp_path):
    fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path).items("val2014")
    fx.truncate(items[1].image)
    fx.garble(items[3].image)
    items[4].image.unlink()
    lines = []
    bad = BadItems(len(items), max_bad_fraction=0.5, log=lines.append)
    batches = list(read_batches(items, load_image, batch_size=4, bad=bad))
    assert [b.ids for b in batches] == [[items[0].id, items[2].id], [items[5].id]]
    assert all(v.shape == (*fx.IMAGE_SIZE, 3) for b in batches for v in b.values)
    assert [b.id for b in bad.items] == [items[i].id for i in (1, 3, 4)]
    assert [b.reason.split(" (")[0] for b in bad.items] == [
        "unreadable image",
        "unreadable image",
        "file not found",
    ]
    assert len(lines) == 3 and all(
        items[i].id in line for i, line in zip((1, 3, 4), lines, strict=True)
    )
    table = bad.write(tmp_path / "out" / "bad_items.tsv").read_text().splitlines()
    assert table[0] == "id\treason\tpath" and table[3].startswith(f"{items[4].id}\tfile not found")


def _empty_wav(path):
    soundfile.write(path, np.zeros((0, 1), np.float32), fx.AUDIO_RATE)


def _nan_wav(path):
    soundfile.write(path, np.full((100, 1), np.nan, np.float32), fx.AUDIO_RATE, subtype="FLOAT")


@pytest.mark.parametrize(
    ("breaks", "error", "reason"),
    [
        (fx.garble, CorruptItemError, "unreadable audio"),
        (fx.truncate, CorruptItemError, "truncated WAV"),
        (_empty_wav, CorruptItemError, "holds no samples"),
        (_nan_wav, CorruptItemError, "NaN or inf"),
        (lambda p: p.unlink(), MissingItemError, "file not found"),
    ],
)
def test_broken_audio_raises_a_specific_error_naming_the_file(tmp_path, breaks, error, reason):
    fx.write_audiocaps(tmp_path)
    items = open_dataset("audiocaps", tmp_path).items("test")
    breaks(items[1].audio)
    with pytest.raises(error, match=reason) as raised:
        load_audio(items[1], fx.AUDIO_RATE)
    assert raised.value.item_id == items[1].id and str(items[1].audio) in str(raised.value)
    bad = BadItems(len(items), max_bad_fraction=0.5, log=lambda line: None)
    read = [
        i for b in read_batches(items, lambda it: load_audio(it, 16000), 2, bad=bad) for i in b.ids
    ]
    assert read == [items[0].id, items[2].id] and [b.id for b in bad.items] == [items[1].id]


def test_truncated_flac_is_a_corrupt_item(tmp_path):
    pattern = "{split}/{youtube_id}.flac"
    fx.write_audiocaps(tmp_path, pattern=pattern)
    item = open_dataset("audiocaps", tmp_path, audio_pattern=pattern).items("test")[2]
    fx.truncate(item.audio, keep=0.4)
    with pytest.raises(CorruptItemError, match="unreadable audio"):
        load_audio(item, fx.AUDIO_RATE)


def test_too_many_bad_items_stop_the_read_early_with_the_counts(tmp_path):
    fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path).items("val2014")
    items[0].image.unlink()
    items[1].image.unlink()
    loads = []

    def load(item):
        loads.append(item.id)
        return load_image(item)

    bad = BadItems(len(items), max_bad_fraction=0.2, log=lambda line: None)
    with pytest.raises(TooManyBadItemsError) as error:
        list(read_batches(items, load, batch_size=1, bad=bad))
    message = str(error.value)
    assert "2 of 6 items are bad (33.33%)" in message
    assert "max_bad_fraction=0.2 (20.00%)" in message
    assert f"  {items[0].id}: file not found" in message and items[1].id in message
    assert loads == [items[0].id, items[1].id]  # stopped at once, not after every item
    with pytest.raises(TooManyBadItemsError, match="1 of 6 items"):  # default limit: 1 %
        list(read_batches(items[1:] + items[:1], load_image, batch_size=6))


def test_bad_items_go_to_a_logger_and_other_errors_propagate(tmp_path, caplog):
    fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path).items("test")
    items[0].image.unlink()
    bad = BadItems(3, max_bad_fraction=0.5, log=logging.getLogger("paper-data"))
    with caplog.at_level(logging.WARNING, logger="paper-data"):
        list(read_batches(items, load_image, 2, bad=bad))
    assert f"bad item skipped: {items[0].id}: file not found" in caplog.text

    def buggy(item):
        raise KeyError("not a data problem")

    with pytest.raises(KeyError):
        list(read_batches(items, buggy, 2, bad=BadItems(3, 1.0, log=lambda line: None)))


def test_threads_keep_the_order(tmp_path):
    fx.write_coco(tmp_path)
    items = open_dataset("coco", tmp_path).items("val2014")
    plain = list(read_batches(items, load_image, 4))
    threaded = list(read_batches(items, load_image, 4, workers=2))
    assert [b.ids for b in threaded] == [b.ids for b in plain]
    assert all(
        np.array_equal(x, y)
        for a, b in zip(plain, threaded, strict=True)
        for x, y in zip(a.values, b.values, strict=True)
    )


# -- ids and the registry ------------------------------------------------------------------


WRITERS = {
    "coco": fx.write_coco,
    "flickr30k": lambda root: fx.write_flickr30k(root, "karpathy"),
    "laion_coco": fx.write_laion_tars,
    "audiocaps": fx.write_audiocaps,
    "vggsound": fx.write_vggsound,
    "triplets": fx.write_triplets,
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_ids_are_unique_plain_file_names(tmp_path, name):
    WRITERS[name](tmp_path)
    dataset = open_dataset(name, tmp_path, **({"sample_size": 4} if name == "coco" else {}))
    for split in dataset.splits:
        ids = [it.id for it in dataset.items(split)]
        assert ids and len(set(ids)) == len(ids)
        assert all(PLAIN_ID.fullmatch(i) for i in ids), ids


def test_an_image_listed_twice_is_a_layout_error(tmp_path):
    fx.write_coco(tmp_path)
    path = tmp_path / "dataset_coco.json"
    data = json.loads(path.read_text())
    data["images"].append(data["images"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match="listed twice: coco_391895"):
        open_dataset("coco", tmp_path).items("test")


def test_registry_and_roles(tmp_path):
    assert set(DATASETS) == {"coco", "flickr30k", "laion_coco", "audiocaps", "vggsound", "triplets"}
    for pairs in PAPER_SPLITS.values():
        for name, split in pairs:
            assert split in DATASETS[name].splits
    with pytest.raises(ValueError, match="unknown data set 'mscoco'; choose one of coco, "):
        open_dataset("mscoco", tmp_path)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['pattern'\]; .* audio_pattern"):
        open_dataset("audiocaps", tmp_path, pattern="x")
    described = open_dataset("coco", tmp_path, seed=5).describe()
    assert described == {"dataset": "coco", "root": str(tmp_path), "sample_size": 30000, "seed": 5}
