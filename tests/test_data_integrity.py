"""Damaged, edited or hostile files are refused before use, with the command that fixes them.

Data folders (bench.embedded.storage) carry a SHA256SUMS per split that dataset.json pins;
generation folders (bench.generate) carry one of their own. Ids become file names only after
``check_id`` accepts them.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.embedded import prepare
from bench.embedded.build import DataSize, build_dataset
from bench.embedded.storage import (
    REBUILD,
    DatasetError,
    load_split,
    read_attributes,
    read_png,
    read_references,
    read_wav,
    write_png,
    write_wav,
)
from bench.embedded.world import ATTRIBUTE_NAMES
from bench.generate import read_outputs, write_decoded
from bench.tasks import get_task

TINY = DataSize(6, 4, 4, 3, 4, 2, 4, 2)
ESCAPE = "../../../../escaped"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("integrity") / "data"
    build_dataset(root, TINY, seed=5, progress=False)
    return root


@pytest.fixture
def data(built, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(built, target)
    return target


def first(root: Path, split: str, kind: str, ext: str) -> Path:
    return sorted((root / split / kind).glob(f"*.{ext}"))[0]


# -- captions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (["a red disc", 7], "caption 1 is 7, not a string"),
        (["a red disc", None], "caption 1 is None, not a string"),
        ("a red disc", "is 'a red disc', not a list of caption strings"),
        ({"caption": "a red disc"}, "not a list of caption strings"),
    ],
)
def test_caption_that_is_not_a_string_is_named_with_its_item(tmp_path, entry, message):
    path = tmp_path / "captions.json"
    path.write_text(json.dumps({"scene-0": ["a blue square"], "scene-1": entry}))
    with pytest.raises(DatasetError, match=re.escape(f"{path}: scene-1: ") + ".*" + message):
        read_references(path, ["scene-0", "scene-1"])


def test_captions_that_are_not_an_object_are_refused(tmp_path):
    path = tmp_path / "captions.json"
    path.write_text(json.dumps([["a red disc"]]))
    with pytest.raises(DatasetError, match=re.escape(str(path)) + ".*not an object"):
        read_references(path, ["scene-0"])


# -- ids -----------------------------------------------------------------------------------


def attribute_table(path: Path, ids: list[str]) -> None:
    rows = [",".join(["id", *ATTRIBUTE_NAMES])]
    rows += [f"{i},disc,red,small,low,short,1" for i in ids]
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("bad", [ESCAPE, "sub/item", "sub\\item", "..", ".hidden", "/abs"])
def test_ids_that_are_not_plain_names_are_refused_in_the_attribute_table(tmp_path, bad):
    path = tmp_path / "attributes.csv"
    attribute_table(path, ["scene-0", bad])
    with pytest.raises(DatasetError, match=re.escape(f"{path} line 3: id {bad!r} is not a plain")):
        read_attributes(path)


def test_an_id_listed_twice_is_refused(tmp_path):
    path = tmp_path / "attributes.csv"
    attribute_table(path, ["scene-0", "scene-0"])
    with pytest.raises(DatasetError, match=re.escape(f"{path} line 3: id 'scene-0' is listed")):
        read_attributes(path)


def test_write_decoded_writes_nothing_outside_its_folder(tmp_path):
    folder = tmp_path / "results" / "generate" / "flowbind" / "t2i"
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(DatasetError, match=re.escape(repr(ESCAPE)) + " is not a plain"):
        write_decoded(folder, get_task("t2i"), ["scene-0", ESCAPE], {"image": [image, image]})
    assert not list(tmp_path.rglob("escaped*"))
    assert not folder.exists()


# -- generated outputs ---------------------------------------------------------------------

IDS = ["test-ti-00000", "test-ti-00001"]
RNG = np.random.default_rng(0)
IMAGES = [RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in IDS]
AUDIO = [RNG.integers(-3000, 3000, 16_000, dtype=np.int16) for _ in IDS]


def generated(tmp_path: Path, key: str) -> Path:
    """A generation folder results/generate/flowbind/<key>/ as write_decoded leaves it."""
    task = get_task(key)
    outputs = {"image": IMAGES, "audio": AUDIO, "text": ["a red disc", "a blue square"]}
    folder = tmp_path / "results" / "generate" / "flowbind" / key
    return write_decoded(folder, task, IDS, {t: outputs[t] for t in task.targets})


def regenerate(folder: Path) -> str:
    return re.escape(f"`snakemake --cores all --force {folder / 'manifest.csv'}`")


def rewrite_sums(folder: Path) -> None:
    """Make SHA256SUMS agree with the folder again, as a deliberate edit would."""
    sums = folder / "SHA256SUMS"
    if sums.is_file():
        names = [line.split("  ", 1)[1] for line in sums.read_text().splitlines()]
        digests = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}
        sums.write_text("".join(f"{d}  {n}\n" for n, d in sorted(digests.items())))


def test_generated_folders_read_back(tmp_path):
    out = read_outputs(generated(tmp_path, "t2ia"), get_task("t2ia"))
    assert out["ids"] == IDS
    np.testing.assert_array_equal(out["image"], np.stack(IMAGES))
    np.testing.assert_array_equal(out["audio"], np.stack(AUDIO))
    assert read_outputs(generated(tmp_path, "i2t"), get_task("i2t"))["text"] == [
        "a red disc",
        "a blue square",
    ]


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:40])


def repaint(path: Path) -> None:
    write_png(path, np.full((64, 64, 3), 9, np.uint8))


def resample(path: Path) -> None:
    write_wav(path, np.zeros(16_000, np.int16))


@pytest.mark.parametrize(
    ("key", "name", "damage"),
    [
        ("t2i", "image/test-ti-00000.png", truncate),
        ("t2i", "image/test-ti-00001.png", repaint),
        ("t2a", "audio/test-ti-00000.wav", truncate),
        ("t2a", "audio/test-ti-00001.wav", resample),
        ("i2t", "text.json", lambda p: p.write_text(json.dumps({IDS[0]: "a red disc"}))),
        ("i2t", "manifest.csv", lambda p: p.write_text("id,split\ntest-ti-00000,test_ti\n")),
    ],
)
def test_damaged_generated_file_names_the_generate_rule_and_its_command(
    tmp_path, key, name, damage
):
    folder = generated(tmp_path, key)
    damage(folder / name)
    with pytest.raises(DatasetError) as info:
        read_outputs(folder, get_task(key))
    message = str(info.value)
    assert message.startswith(str(folder / name)), message
    assert re.search(
        "the workflow's `generate` rule: regenerate it with " + regenerate(folder), message
    )
    assert "python -m bench.embedded" not in message


@pytest.mark.parametrize(
    ("key", "edit", "message"),
    [
        ("i2t", lambda rows: rows[1].__setitem__(4, "a green star"), "disagrees with text.json"),
        ("i2t", lambda rows: rows[1].__setitem__(0, "test-ti-00009"), "text.json"),
        ("t2i", lambda rows: rows[2].__setitem__(1, "test_ta"), "line 3: split is 'test_ta'"),
        ("t2i", lambda rows: rows[0].pop(), "has columns"),
        ("t2i", lambda rows: rows[2].__setitem__(0, rows[1][0]), "listed twice"),
    ],
)
def test_consistently_edited_manifest_is_refused(tmp_path, key, edit, message):
    """Even with SHA256SUMS rewritten to match, the manifest must describe the task's outputs."""
    folder = generated(tmp_path, key)
    manifest = folder / "manifest.csv"
    rows = [line.split(",") for line in manifest.read_text().splitlines()]
    edit(rows)
    manifest.write_text("\n".join(",".join(r) for r in rows) + "\n")
    rewrite_sums(folder)
    with pytest.raises(DatasetError, match=re.escape(message) + ".*" + regenerate(folder)):
        read_outputs(folder, get_task(key))


def test_manifest_ids_that_are_paths_are_refused(tmp_path):
    folder = generated(tmp_path, "t2i")
    outside = folder.parents[2] / "escaped.png"  # image/../../../../escaped.png
    shutil.copy(folder / "image" / f"{IDS[0]}.png", outside)
    manifest = folder / "manifest.csv"
    text = manifest.read_text().replace(IDS[0], ESCAPE)
    manifest.write_text(text)
    rewrite_sums(folder)
    with pytest.raises(DatasetError, match=re.escape(f"{manifest} line 2: id {ESCAPE!r}")):
        read_outputs(folder, get_task("t2i"))


def test_outputs_of_other_items_than_the_split_are_refused(tmp_path):
    folder = generated(tmp_path, "t2i")
    with pytest.raises(DatasetError, match="not the items of test_ti.*" + regenerate(folder)):
        read_outputs(folder, get_task("t2i"), ids=list(reversed(IDS)))


def test_generated_folder_without_checksums_is_refused(tmp_path):
    folder = generated(tmp_path, "t2i")
    (folder / "SHA256SUMS").unlink()
    with pytest.raises(DatasetError, match="SHA256SUMS is missing.*" + regenerate(folder)):
        read_outputs(folder, get_task("t2i"))


def test_readers_take_the_fix_they_report(tmp_path):
    png, wav = tmp_path / "x.png", tmp_path / "x.wav"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    wav.write_bytes(b"RIFF")
    with pytest.raises(DatasetError, match=r"not a readable PNG .*; rerun X$"):
        read_png(png, fix="rerun X")
    with pytest.raises(DatasetError, match=r"not a readable WAV file .*; rerun X$"):
        read_wav(wav, fix="rerun X")
    with pytest.raises(DatasetError, match=re.escape(REBUILD) + "$"):
        read_png(png)


# -- checksums of the data -----------------------------------------------------------------


def change_pixel(path: Path) -> None:
    image = read_png(path, sha256=None).copy()
    image[0, 0] ^= 1
    write_png(path, image)


def change_sample(path: Path) -> None:
    audio = read_wav(path).copy()
    audio[100] ^= 1
    write_wav(path, audio)


def change_attribute(path: Path) -> None:
    lines = path.read_text().splitlines()
    fields = lines[1].split(",")
    fields[-1] = "1" if fields[-1] != "1" else "2"  # another valid count
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")


def change_caption(path: Path) -> None:
    captions = json.loads(path.read_text())
    item = sorted(captions)[0]
    captions[item][0], captions[item][1] = captions[item][1], captions[item][0]
    path.write_text(json.dumps(captions, indent=1) + "\n")


@pytest.mark.parametrize(
    ("split", "name", "change"),
    [
        ("test_ti", "image/test-ti-00000.png", change_pixel),
        ("test_ta", "audio/test-ta-00001.wav", change_sample),
        ("test_ia", "attributes.csv", change_attribute),
        ("test_triplet", "captions.json", change_caption),
    ],
)
def test_a_valid_but_changed_file_is_named_before_it_is_used(data, split, name, change):
    path = data / split / name
    change(path)
    with pytest.raises(
        DatasetError, match=re.escape(f"{path} has changed since it was written") + ".*rebuild"
    ):
        load_split(data, split)
    load_split(data, split, verify=False)  # it decodes: only the checksum sees the change


def test_extra_and_missing_files_are_named(data):
    extra = data / "test_ti" / "image" / "extra.png"
    shutil.copy(first(data, "test_ti", "image", "png"), extra)
    with pytest.raises(DatasetError, match=re.escape(str(extra)) + " is not listed in .*rebuild"):
        load_split(data, "test_ti")
    extra.unlink()
    missing = first(data, "test_ta", "audio", "wav")
    missing.unlink()
    with pytest.raises(DatasetError, match=re.escape(str(missing)) + " is missing.*rebuild"):
        load_split(data, "test_ta")


def test_an_edited_checksum_list_is_named(data):
    sums = data / "test_ti" / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("a", "b", 1))
    with pytest.raises(
        DatasetError,
        match=re.escape(f"{sums} has changed since it was written") + ".*dataset.json.*rebuild",
    ):
        load_split(data, "test_ti")


def test_a_folder_of_an_older_format_asks_for_a_rebuild(data):
    path = data / "dataset.json"
    manifest = json.loads(path.read_text())
    manifest["version"] = "embedded-data/1"
    for entry in manifest["splits"].values():
        entry.pop("sha256sums")
    path.write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match=re.escape(f"{path}") + ".*embedded-data/1.*rebuild"):
        load_split(data, "test_ti")


def test_prepare_rebuilds_a_damaged_folder_and_keeps_an_intact_one(data, monkeypatch):
    built = []
    monkeypatch.setattr(prepare, "build_dataset", lambda folder, *args: built.append(folder))
    out = data.parent
    prepare.prepare_data(out, "custom", 5, False)
    assert built == []
    change_pixel(first(data, "codec", "image", "png"))
    prepare.prepare_data(out, "custom", 5, False)
    assert built == [data]


def test_checksum_lists_are_part_of_the_byte_stable_build(built, tmp_path):
    again = tmp_path / "again"
    build_dataset(again, TINY, seed=5, progress=False)
    lists = sorted(built.glob("*/SHA256SUMS"))
    assert len(lists) == len(json.loads((built / "dataset.json").read_text())["splits"])
    for sums in lists:
        assert sums.read_bytes() == (again / sums.relative_to(built)).read_bytes()
    assert (built / "dataset.json").read_bytes() == (again / "dataset.json").read_bytes()


def test_the_regenerate_command_forces_the_output_the_generate_rule_declares():
    """The command names a file the `generate` rules declare, so `--force` selects their job
    (checked end to end on the tiny config: it reruns exactly one generate job)."""
    from bench.generate import regenerate as hint

    rule = (Path(__file__).parents[1] / "workflow" / "rules" / "generate.smk").read_text()
    assert '"results/generate/{{method}}/seed{{seed}}/{task}/manifest.csv"' in rule
    folder = Path("results/generate/flowbind/seed0/t2i")
    command = re.search(r"`(snakemake [^`]*)`", hint(folder))[1]
    assert command == f"snakemake --cores all --force {folder}/manifest.csv"
