"""File-name patterns of media files: checked when an adapter is built, and against the disk.

A pattern is a path relative to the data set's root with ``str.format`` fields, e.g.
``audio/{split}/{youtube_id}.wav``. ``check_pattern`` refuses unknown fields, absolute paths,
"..", and suffixes the loaders cannot read; ``no_file_matches`` refuses a pattern under which not
one item's file exists (a wrong pattern, not a few missing files).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from bench.paper.datasets.base import DataLayoutError, Item

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def check_pattern(
    pattern: str,
    fields: Mapping[str, object],
    key: str,
    suffixes: Sequence[str],
    what: str,
) -> str:
    """``pattern`` if it is a usable relative file pattern, else ValueError saying why.

    Args:
        pattern: e.g. ``"audio/{split}/{youtube_id}.wav"``.
        fields: the fields it may use, with example values.
        key: the field it must use (one file per item).
        suffixes: the file suffixes allowed.
        what: the option's name, for the message.
    """
    try:
        used = _fields(pattern)
        example = pattern.format(**fields)
    except (ValueError, KeyError, IndexError) as error:
        known = ", ".join("{" + f + "}" for f in fields)
        raise ValueError(
            f"{what} {pattern!r} does not format ({error!r}); fields: {known}"
        ) from None
    problems = []
    if key not in used:
        problems.append(f"it must contain {{{key}}} (one file per item)")
    path = PurePosixPath(example)
    if path.is_absolute() or ".." in path.parts:
        problems.append("it must be a path relative to root, without '..'")
    if path.suffix.lower() not in suffixes:
        problems.append(f"it must end in one of {', '.join(suffixes)}")
    if problems:
        raise ValueError(f"{what} {pattern!r}: {'; '.join(problems)}")
    return pattern


def pattern_folder(root: Path, pattern: str, **fields: object) -> Path:
    """The folder of ``pattern`` down to its first part that needs a field not in ``fields``."""
    folder = root
    for part in PurePosixPath(pattern).parent.parts:
        if not _fields(part) <= set(fields):
            break
        folder = folder / part.format(**fields)
    return folder


def no_file_matches(items: Sequence[Item], view: str, pattern: str, what: str) -> None:
    """DataLayoutError when not one of ``items``' ``view`` files exists: a wrong ``pattern``."""
    if not items or any(getattr(it, view).is_file() for it in items):
        return
    first = getattr(items[0], view)
    held = sorted(p.name for p in first.parent.iterdir())[:5] if first.parent.is_dir() else []
    raise DataLayoutError(
        f"none of the {len(items)} {view} files matches {what}={pattern!r} (the first would be "
        f"{first}); {first.parent} holds {held or 'nothing'}{' ...' if len(held) == 5 else ''}; "
        f"set {what} to the files' names"
    )
