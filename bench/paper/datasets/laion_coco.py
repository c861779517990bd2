"""LAION-COCO's aesthetic subset: text-image training pairs, as img2dataset writes them.

Two output formats of img2dataset, both read in place (one split, ``train``):

    webdataset  ``<root>/00000.tar, 00001.tar, ...``, each holding ``<key>.jpg`` (the image),
                ``<key>.txt`` (the caption) and ``<key>.json`` (metadata). Only successful
                downloads are in the tars; the ``<shard>.parquet`` files img2dataset writes next
                to them are its download statistics and are not read.
    parquet     ``<root>/00000.parquet, ...`` with columns ``key``, a caption column (``txt``,
                else ``caption``, ``top_caption``, ``TEXT`` or ``text``), the encoded image
                (``jpg``) and metadata; rows whose ``status`` is not "success" are img2dataset's
                record of failed downloads, not samples, and are left out (counted in
                ``download_failures``). Needs pyarrow.

The subset (aesthetic score above 5.0, 242k pairs in the paper) is chosen before the download;
every shard under ``root`` is read. Tar members are located by byte range when the shards are
listed, so loading one image reads only its bytes. Ids are ``laion_<key>``.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable
from pathlib import Path

from bench.paper.datasets.base import (
    DataLayoutError,
    Item,
    PaperDataset,
    ParquetCell,
    TarMember,
    make_id,
)
from bench.paper.datasets.media import pyarrow_parquet

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
CAPTION_COLUMNS = ("txt", "caption", "top_caption", "TEXT", "text")


class LaionCoco(PaperDataset):
    """img2dataset shards of LAION-COCO's aesthetic subset.

    Args:
        root: the img2dataset output folder.
        output_format: img2dataset's ``--output_format``: "webdataset", "parquet", or "auto"
            (tars if there are any, else parquet).
        caption_column: parquet only: the caption column; None takes the first of
            ``CAPTION_COLUMNS`` present.
        image_column: parquet only: the encoded image column; None takes the first of
            ``IMAGE_EXTENSIONS`` present.
    """

    name = "laion_coco"
    modalities = ("text", "image")
    splits = ("train",)
    paper_splits = ("train",)
    layout = """
  <root>/                  img2dataset output, either format:
    00000.tar, ...         webdataset: <key>.jpg, <key>.txt (caption), <key>.json
    00000.parquet, ...     parquet: key, txt or caption, jpg (bytes), status, ...
"""

    def __init__(
        self,
        root: str | Path,
        output_format: str = "auto",
        caption_column: str | None = None,
        image_column: str | None = None,
    ) -> None:
        super().__init__(root)
        if output_format not in ("auto", "webdataset", "parquet"):
            raise ValueError(
                "laion_coco: output_format must be 'auto', 'webdataset' or 'parquet', got "
                f"{output_format!r}"
            )
        self.output_format = output_format
        self.caption_column = caption_column
        self.image_column = image_column
        self._download_failures = 0

    @property
    def download_failures(self) -> int:
        """Parquet rows of failed downloads left out by the last ``items()``."""
        return self._download_failures

    def required(self, split: str) -> list[Path]:
        return [self.root]

    def shards(self) -> list[Path]:
        """The shard files read, sorted by name."""
        tars = sorted(self.root.glob("*.tar"))
        if self.output_format == "webdataset" or (self.output_format == "auto" and tars):
            return tars
        return sorted(self.root.glob("*.parquet"))

    def check(self, splits: Iterable[str] | None = None) -> None:
        """As ``PaperDataset.check``; also refuses a folder without shards of the format."""
        super().check(splits)
        if not self.shards():
            wanted = {"webdataset": "*.tar", "parquet": "*.parquet"}
            pattern = wanted.get(self.output_format, "*.tar or *.parquet")
            raise self.layout_error(f"no {pattern} shards in {self.root}")

    def _items(self, split: str) -> list[Item]:
        shards = self.shards()
        if shards[0].suffix == ".tar":
            return [item for shard in shards for item in tar_items(shard)]
        self._download_failures = 0
        items = []
        for shard in shards:
            found, failures = self._parquet_items(shard)
            items += found
            self._download_failures += failures
        return items

    def _parquet_items(self, shard: Path) -> tuple[list[Item], int]:
        pq = pyarrow_parquet()
        try:
            file = pq.ParquetFile(shard)
            names = file.schema_arrow.names
        except (OSError, ValueError) as error:
            raise DataLayoutError(f"{shard}: unreadable parquet shard ({error})") from None
        caption = self.caption_column or next((c for c in CAPTION_COLUMNS if c in names), None)
        image = self.image_column or next((c for c in IMAGE_EXTENSIONS if c in names), None)
        lacking = [
            f"{what} ({want})"
            for what, column, want in (
                ("caption", caption, self.caption_column or " or ".join(CAPTION_COLUMNS)),
                ("image", image, self.image_column or " or ".join(IMAGE_EXTENSIONS)),
            )
            if column not in names
        ]
        if lacking:
            raise DataLayoutError(
                f"{shard}: no {', '.join(lacking)} column (has {names}); set caption_column / "
                "image_column, or check that img2dataset saved captions and images"
            )
        columns = [c for c in ("key", caption, "status") if c in names]
        items, failures, first = [], 0, 0
        for group in range(file.metadata.num_row_groups):
            table = file.read_row_group(group, columns=columns).to_pydict()
            rows = len(table[caption])
            # without a key column, a row's place in the shard names it
            keys = table.get("key") or [f"{shard.stem}_{first + i:06d}" for i in range(rows)]
            first += rows
            status = table.get("status") or ["success"] * rows
            for row in range(rows):
                if status[row] != "success":
                    failures += 1
                    continue
                text = table[caption][row]
                items.append(
                    Item(
                        id=make_id("laion", keys[row]),
                        captions=(text.strip(),) if isinstance(text, str) else (),
                        image=ParquetCell(shard, image, group, row),
                        meta={"shard": shard.name, "source": str(shard)},
                    )
                )
        return items, failures


def tar_items(shard: Path) -> list[Item]:
    """The samples of one webdataset tar shard, in the shard's order.

    The key is a member's name up to the first dot of its base name (the webdataset rule), so
    ``000000123.jpg`` and ``000000123.txt`` are one sample.
    """
    samples: dict[str, dict[str, tarfile.TarInfo]] = {}
    captions: dict[str, str] = {}
    try:
        with tarfile.open(shard, "r:") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                folder, _, base = info.name.rpartition("/")
                stem, _, extension = base.partition(".")
                key = f"{folder}/{stem}" if folder else stem
                samples.setdefault(key, {})[extension.lower()] = info
                if extension.lower() == "txt":
                    captions[key] = _read_caption(tar, info)
    except (tarfile.TarError, OSError) as error:
        raise DataLayoutError(
            f"{shard}: unreadable tar shard ({error}); an uncompressed .tar is expected; "
            "download the shard again"
        ) from None
    items = []
    for key, members in samples.items():
        info = next((members[e] for e in IMAGE_EXTENSIONS if e in members), None)
        image = (
            TarMember(shard, info.name, info.offset_data, info.size)
            if info
            else TarMember(shard, f"{key}.jpg", None)
        )
        caption = captions.get(key, "")
        items.append(
            Item(
                id=make_id("laion", key),
                captions=(caption,) if caption else (),
                image=image,
                meta={"shard": shard.name, "source": str(shard)},
            )
        )
    return items


def _read_caption(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    """A sample's caption, or "" when its bytes are not UTF-8 (the item then has no text)."""
    data = tar.extractfile(info)
    try:
        return data.read().decode("utf-8").strip() if data else ""
    except UnicodeDecodeError:
        return ""
