"""The embedded world: scenes made of latent attributes, seen through text, image and audio,
and, as a fourth modality, a point cloud.

A scene is one value per attribute below plus private nuisance drawn separately for each view.
Which views show an attribute is what the paper's claims are about, so every kind is present:

    attribute  values                               text  image  audio  points
    ---------  -----------------------------------  ----  -----  -----  ------
    kind       disc, bar, pillar, slash              yes   yes    yes    yes    noun / shape /
                                                                                timbre / solid
    colour     red, green, blue, yellow, magenta,    yes   yes    no     no     adjective / fill
               cyan                                                             colour
    size       small, large                          yes   yes    no     yes    adjective / size
    pitch      low, mid, high                        yes   no     yes    no     words / fundamental
    envelope   short, long                           yes   no     yes    no     words / envelope
    count      1, 2, 3                               no    yes    yes    yes    objects / notes /
                                                                                clusters

Nuisance, drawn independently per view so no other view predicts it:
    image   object positions (cell and +-2 px), shared rotation (+-10 degrees), colour shade,
            background level and gradient, pixel noise
    audio   loudness, onset time, note spacing, pitch jitter (+-3 %), noise level
    text    template, synonyms, article
    points  yaw and tilt, cell positions, size jitter, surface sampling, point jitter, order

The point cloud is the paper's Appendix J modality: it is only ever paired with images, so
every text or audio translation to or from it goes through the shared anchor.

``count`` is never named in a caption (no number words, no plurals): a method that anchors on
text cannot learn it, a method trained on image-audio pairs can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODALITIES = ("text", "image", "audio", "points")


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[str, ...]
    shown_by: tuple[str, ...]
    how: str

    @property
    def n(self) -> int:
        return len(self.values)


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "kind",
        ("disc", "bar", "pillar", "slash"),
        ("text", "image", "audio", "points"),
        "noun / shape / timbre / solid",
    ),
    Attribute(
        "colour",
        ("red", "green", "blue", "yellow", "magenta", "cyan"),
        ("text", "image"),
        "adjective / fill colour",
    ),
    Attribute("size", ("small", "large"), ("text", "image", "points"), "adjective / object size"),
    Attribute("pitch", ("low", "mid", "high"), ("text", "audio"), "words / fundamental"),
    Attribute("envelope", ("short", "long"), ("text", "audio"), "words / note envelope"),
    Attribute(
        "count",
        ("1", "2", "3"),
        ("image", "audio", "points"),
        "objects / notes (rhythm) / clusters",
    ),
)
ATTRIBUTE_NAMES = tuple(a.name for a in ATTRIBUTES)
BY_NAME = {a.name: a for a in ATTRIBUTES}


def attributes_shown_by(modality: str) -> tuple[str, ...]:
    """Names of the attributes a modality shows, in table order."""
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; expected one of {MODALITIES}")
    return tuple(a.name for a in ATTRIBUTES if modality in a.shown_by)


def shared_attributes(*modalities: str) -> tuple[str, ...]:
    """Attributes shown by every one of the given modalities."""
    shown = [set(attributes_shown_by(m)) for m in modalities]
    return tuple(n for n in ATTRIBUTE_NAMES if all(n in s for s in shown))


def sample_attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Uniform, independent attribute values (integer codes) for ``n`` scenes."""
    return {a.name: rng.integers(0, a.n, size=n).astype(np.int64) for a in ATTRIBUTES}


def attribute_table_markdown() -> str:
    """The attribute table as Markdown, for docs/embedded.md and the report."""
    lines = [
        "| attribute | values | text | image | audio | points | shown as |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in ATTRIBUTES:
        marks = " | ".join("yes" if m in a.shown_by else "-" for m in MODALITIES)
        lines.append(f"| {a.name} | {', '.join(a.values)} | {marks} | {a.how} |")
    return "\n".join(lines)
