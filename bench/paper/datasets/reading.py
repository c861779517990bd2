"""Reading items in batches: a bad item is skipped, counted and logged, never dropped silently.

    bad = BadItems(total=len(items), max_bad_fraction=0.01, log=print)
    for batch in read_batches(items, load_image, batch_size=64, bad=bad):
        latents = codec.encode(batch.values)      # batch.ids name the rows
    bad.write(out / "bad_items.tsv")

An item whose ``load`` raises BadItemError (MissingItemError, CorruptItemError) is left out of
its batch, and its id and reason go to the job log. Once more than ``max_bad_fraction`` of all
the items are bad the read stops with TooManyBadItemsError: a data set that broken would score
a different test set than the paper's. Any other exception is a bug and propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.paper.datasets.base import BadItemError, Item, PaperDataError

DEFAULT_MAX_BAD_FRACTION = 0.01
SHOWN = 5  # bad items quoted in TooManyBadItemsError


class TooManyBadItemsError(PaperDataError):
    """More than the allowed fraction of a read's items could not be read."""


@dataclass(frozen=True)
class BadItem:
    """One skipped item: its id, the file and what is wrong."""

    id: str
    path: str
    reason: str


@dataclass(frozen=True)
class Batch:
    """Up to ``batch_size`` items that were read, in input order, with what ``load`` gave."""

    items: list[Item]
    values: list[Any]

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    def __len__(self) -> int:
        return len(self.items)


class BadItems:
    """Counts the bad items of one read of ``total`` items; stops it past the limit.

    Args:
        total: how many items the read covers (the fraction's denominator).
        max_bad_fraction: the largest tolerated fraction of bad items, in [0, 1].
        log: where each bad item is reported: a callable taking one line (``print`` writes to
            the job log under ``bench.job``) or a logging.Logger (warning level).
    """

    def __init__(
        self,
        total: int,
        max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
        log: Callable[[str], Any] | logging.Logger = print,
    ) -> None:
        if not 0.0 <= max_bad_fraction <= 1.0:
            raise ValueError(f"max_bad_fraction must be in [0, 1], got {max_bad_fraction}")
        self.total = int(total)
        self.max_bad_fraction = float(max_bad_fraction)
        self._log = log.warning if isinstance(log, logging.Logger) else log
        self.items: list[BadItem] = []

    def __len__(self) -> int:
        return len(self.items)

    @property
    def fraction(self) -> float:
        return len(self.items) / max(self.total, 1)

    def add(self, error: BadItemError) -> None:
        """Record and log one bad item; TooManyBadItemsError once past the limit."""
        self.items.append(BadItem(error.item_id, error.path, error.reason))
        self._log(f"bad item skipped: {error.item_id}: {error.reason}: {error.path}")
        # Stop as soon as the final fraction must exceed the limit, not at the end of the read.
        if self.fraction > self.max_bad_fraction:
            shown = "\n".join(f"  {b.id}: {b.reason}: {b.path}" for b in self.items[:SHOWN])
            raise TooManyBadItemsError(
                f"{len(self.items)} of {self.total} items are bad ({self.fraction:.2%}), more "
                f"than the limit max_bad_fraction={self.max_bad_fraction:g} "
                f"({self.max_bad_fraction:.2%}); the first bad items:\n{shown}\n"
                "Fix or re-download those files, or raise max_bad_fraction to skip them."
            )

    def write(self, path: str | Path) -> Path:
        """Write the bad items as a tab-separated table (id, reason, path) with a header."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["id\treason\tpath"] + [
            "\t".join(_one_line(v) for v in (b.id, b.reason, b.path)) for b in self.items
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def read_batches(
    items: Sequence[Item],
    load: Callable[[Item], Any],
    batch_size: int,
    bad: BadItems | None = None,
    workers: int = 0,
) -> Iterator[Batch]:
    """Apply ``load`` to every item, yielding batches of the items it could read.

    Args:
        items: the items, e.g. ``dataset.items("test")``.
        load: item -> value, e.g. ``load_image`` or ``lambda it: load_audio(it, 48000)``;
            raises BadItemError for an item that cannot be read.
        batch_size: items per batch before bad ones are left out (the last may be short;
            a batch whose items were all bad is not yielded).
        bad: the counter to fill (pass one to read the list afterwards); default: a new one
            with the default limit, logging with ``print``.
        workers: threads decoding in parallel (0: in this thread). Order is kept either way.

    Yields:
        Batch: the good items of each slice of ``items`` and their loaded values.

    Raises:
        TooManyBadItemsError: more than ``bad.max_bad_fraction`` of ``items`` are bad.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    bad = BadItems(len(items)) if bad is None else bad

    def attempt(item: Item) -> tuple[bool, Any]:
        try:
            return True, load(item)
        except BadItemError as error:
            return False, error

    pool = ThreadPoolExecutor(workers) if workers > 0 else None
    try:
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            results = list(pool.map(attempt, chunk) if pool else map(attempt, chunk))
            kept, values = [], []
            for item, (ok, value) in zip(chunk, results, strict=True):
                if ok:
                    kept.append(item)
                    values.append(value)
                else:
                    bad.add(value)
            if kept:
                yield Batch(kept, values)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
