"""What every data set adapter shares: the Item record, the errors and the layout check.

An adapter reads the annotation files of one data set under its ``root`` and lists its items;
it decodes nothing (``bench.paper.datasets.media`` does, on demand). Before any work,
``check(splits)`` stats every annotation file and folder those splits need and raises one
DataLayoutError naming all the missing ones and the expected layout; ``items(split)`` runs
that check for its split itself.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bench.embedded.storage import PLAIN_ID


class PaperDataError(RuntimeError):
    """Base of the paper data sets' errors."""


class DataLayoutError(PaperDataError):
    """Annotation files or media folders are missing or malformed: nothing can be read."""


class BadItemError(PaperDataError):
    """One item cannot be read; a batched read skips it and lists it.

    Attributes:
        item_id: the item's id.
        path: the file (or ``container[member]``) that failed.
        reason: what is wrong with it.
    """

    def __init__(self, item_id: str, path: object, reason: str) -> None:
        self.item_id, self.path, self.reason = item_id, str(path), reason
        super().__init__(f"item {item_id}: {reason}: {path}")


class MissingItemError(BadItemError):
    """An item's media file (or caption) is absent."""


class CorruptItemError(BadItemError):
    """An item's media file is there but cannot be decoded (truncated, garbage, empty)."""


@dataclass(frozen=True)
class TarMember:
    """A file stored in an uncompressed tar shard, found by its byte range (no re-scan).

    Attributes:
        shard: the ``.tar`` file.
        name: the member's name.
        offset: where its data starts in the shard; None when the shard lacks the member.
        size: its length in bytes.
    """

    shard: Path
    name: str
    offset: int | None
    size: int = 0

    def __str__(self) -> str:
        return f"{self.shard}[{self.name}]"


@dataclass(frozen=True)
class ParquetCell:
    """An image stored as bytes in a parquet shard: one cell of its image column.

    Attributes:
        shard: the ``.parquet`` file.
        column: the column holding encoded image bytes (img2dataset: "jpg").
        row_group: the row group of the cell.
        row: the row within that group.
    """

    shard: Path
    column: str
    row_group: int
    row: int

    def __str__(self) -> str:
        return f"{self.shard}[{self.column}, row group {self.row_group}, row {self.row}]"


Media = Path | TarMember | ParquetCell


@dataclass(frozen=True)
class Item:
    """One lazy record of a data set: paths to its media, never decoded data.

    Attributes:
        id: a plain file name (letters, digits, "_", ".", "-"), unique in its split, e.g.
            ``coco_391895`` or ``ac_-0DLPzsiXXE``; outputs are written to ``<folder>/<id>.png``.
        captions: the reference captions; the first is the item's text view. Empty when the
            data set has no text.
        image: the image file (or shard member), or None.
        audio: the audio file, or None.
        meta: anything else the data set records (start time, class label, split, source).
    """

    id: str
    captions: tuple[str, ...] = ()
    image: Media | None = None
    audio: Media | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        """The text view: the first caption, or None."""
        return self.captions[0] if self.captions else None


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def make_id(prefix: str, raw: object) -> str:
    """``<prefix>_<raw>`` as a plain file name; characters outside [A-Za-z0-9_.-] become "_"."""
    item_id = f"{prefix}_{_UNSAFE.sub('_', str(raw))}"
    assert PLAIN_ID.fullmatch(item_id), item_id
    return item_id


def unique(items: list[Item], where: str) -> list[Item]:
    """``items`` unchanged, or DataLayoutError naming the ids listed twice in ``where``."""
    seen: set[str] = set()
    twice: set[str] = set()
    for item in items:
        (twice if item.id in seen else seen).add(item.id)
    if twice:
        raise DataLayoutError(
            f"{where}: {len(twice)} id(s) listed twice: {', '.join(sorted(twice)[:5])}; each clip, "
            "image or key must appear once (after characters outside [A-Za-z0-9_.-] became '_')"
        )
    return items


class PaperDataset:
    """An adapter over one data set's local copy; subclasses list their splits and files.

    Subclasses set ``name``, ``modalities``, ``splits``, ``paper_splits`` (the ones the paper
    uses, which ``check()`` covers by default) and ``layout`` (the expected tree), and
    implement ``required(split)`` and ``_items(split)``.
    """

    name: ClassVar[str]
    modalities: ClassVar[tuple[str, ...]]
    splits: ClassVar[tuple[str, ...]]
    paper_splits: ClassVar[tuple[str, ...]]
    layout: ClassVar[str]

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._cache: dict[str, Any] = {}

    def required(self, split: str) -> list[Path]:
        """The annotation files and media folders ``split`` needs."""
        raise NotImplementedError

    def _items(self, split: str) -> list[Item]:
        raise NotImplementedError

    def check(self, splits: Iterable[str] | None = None) -> None:
        """Raise DataLayoutError naming every missing path of ``splits`` (default: the paper's).

        Args:
            splits: the splits about to be read; None checks ``paper_splits``.
        """
        paths: list[Path] = []
        for split in self.paper_splits if splits is None else splits:
            paths += [p for p in self.required(self._split(split)) if p not in paths]
        self.raise_missing([p for p in paths if not p.exists()])

    def raise_missing(self, missing: Sequence[Path], note: str = "") -> None:
        """DataLayoutError listing ``missing`` (every one) and the expected layout, if any."""
        if missing:
            listed = "\n".join(f"  {p}" for p in missing)
            fix = f"Give the folder that holds them as root: open_dataset({self.name!r}, root=...)"
            raise self.layout_error(f"{len(missing)} path(s) missing:\n{listed}\n{note}", fix)

    def layout_error(self, problem: str, fix: str = "") -> DataLayoutError:
        """A DataLayoutError stating ``problem``, the expected layout and ``fix``."""
        layout = self.layout.strip("\n")
        return DataLayoutError(
            f"{self.name} data set at {self.root}: {problem.rstrip()}\n"
            f"Expected layout:\n{layout}" + (f"\n{fix}" if fix else "")
        )

    def items(self, split: str) -> list[Item]:
        """Every item of ``split`` in a stable order (the annotation files' order).

        Raises:
            ValueError: ``split`` is not one of ``splits``.
            DataLayoutError: an annotation file or folder of the split is missing or malformed.
        """
        self.check([split])
        return unique(self._items(split), f"{self.name} split {split!r} under {self.root}")

    def describe(self) -> dict[str, Any]:
        """Name, root and options, for provenance records."""
        options = {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "root"}
        return {"dataset": self.name, "root": str(self.root), **_plain(options)}

    def _split(self, split: str) -> str:
        if split not in self.splits:
            raise ValueError(
                f"{self.name}: unknown split {split!r}; choose one of {', '.join(self.splits)}"
            )
        return split

    def _cached(self, key: str, read: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}


# -- annotation files ----------------------------------------------------------------------


def read_json(path: Path, keys: Sequence[str] = ()) -> Any:
    """The JSON object in ``path``; DataLayoutError if it does not parse or lacks ``keys``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataLayoutError(f"{path}: not readable JSON ({error}); download it again") from None
    lacking = [k for k in keys if not (isinstance(data, dict) and k in data)]
    if lacking:
        raise DataLayoutError(f"{path}: lacks the key(s) {lacking}; is it the right file?")
    return data


def read_csv(path: Path, columns: Sequence[str], header: bool = True) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts; DataLayoutError if a column is missing.

    Args:
        path: the CSV file.
        columns: the columns needed (with ``header``) or every column in order (without).
        header: whether the first row names the columns.
    """
    try:
        with path.open(newline="", encoding="utf-8") as f:
            if header:
                reader = csv.DictReader(f)
                lacking = [c for c in columns if c not in (reader.fieldnames or ())]
                if lacking:
                    raise DataLayoutError(
                        f"{path}: lacks the column(s) {lacking} (has {reader.fieldnames}); "
                        f"expected a header row with {', '.join(columns)}"
                    )
                return list(reader)
            rows = [r for r in csv.reader(f) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataLayoutError(f"{path}: not a readable CSV file ({error})") from None
    short = [i + 1 for i, r in enumerate(rows) if len(r) < len(columns)]
    if short:
        raise DataLayoutError(
            f"{path}: row(s) {short[:5]} have fewer than {len(columns)} fields; expected "
            f"rows of {', '.join(columns)} without a header"
        )
    return [dict(zip(columns, r, strict=False)) for r in rows]
