"""Captions: an English grammar over the text attributes, and its exact parser.

A caption names kind, colour, size, pitch and envelope through one of several templates, with
synonyms for every value and for the word "sound". It never names ``count``. Every scene gets
``N_REFERENCES`` distinct captions (COCO has five per image); the first one is the scene's text
view. ``parse_caption`` inverts the grammar exactly: it returns the attributes of any caption
the grammar can produce and ``None`` for anything else.
"""

from __future__ import annotations

import re

import numpy as np

from bench.embedded.world import BY_NAME

N_REFERENCES = 5

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "disc": ("disc", "circle", "dot"),
        "bar": ("bar", "plank", "beam"),
        "pillar": ("pillar", "column", "post"),
        "slash": ("slash", "slant", "stroke"),
    },
    "colour": {
        "red": ("red", "scarlet"),
        "green": ("green", "emerald"),
        "blue": ("blue", "azure"),
        "yellow": ("yellow", "golden"),
        "magenta": ("magenta", "pink"),
        "cyan": ("cyan", "turquoise"),
    },
    "size": {"small": ("small", "little", "tiny"), "large": ("large", "big", "huge")},
    "pitch": {"low": ("low", "deep"), "mid": ("medium", "middle"), "high": ("high", "shrill")},
    "envelope": {"short": ("short", "staccato", "clipped"), "long": ("long", "sustained")},
}
SOUND_WORDS = ("sound", "tone", "note")
TEXT_ATTRIBUTES = tuple(SYNONYMS)

# Slots: {kind} {colour} {size} {pitch} {envelope} {sound}. Articles are written "a" and turned
# into "an" before a vowel.
TEMPLATES: tuple[str, ...] = (
    "a {size} {colour} {kind} making a {pitch} {envelope} {sound}",
    "a {colour} {kind} of {size} size that sounds {pitch} and {envelope}",
    "the {kind} is {size} and {colour} and its {sound} is {pitch} and {envelope}",
    "{size} {colour} {kind} with a {envelope} {pitch} {sound}",
    "you can see a {size} {colour} {kind} and hear a {pitch} {envelope} {sound}",
    "a {pitch} {envelope} {sound} comes from a {size} {colour} {kind}",
    "there is a {colour} {kind} that is {size} and plays a {pitch} {envelope} {sound}",
    "a {envelope} {sound} at {pitch} pitch from a {colour} {kind} of {size} size",
)
_VOWELS = "aeiou"


def _fix_articles(words: list[str]) -> list[str]:
    return [
        "an" if w == "a" and i + 1 < len(words) and words[i + 1][0] in _VOWELS else w
        for i, w in enumerate(words)
    ]


def render_caption(template: str, words: dict[str, str]) -> str:
    return " ".join(_fix_articles(template.format(**words).split()))


def caption_choices(
    rng: np.random.Generator, values: dict[str, str], n: int = N_REFERENCES
) -> list[str]:
    """``n`` distinct captions of one scene (``values``: attribute -> value name)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        template = TEMPLATES[rng.integers(len(TEMPLATES))]
        words = {
            attr: SYNONYMS[attr][values[attr]][rng.integers(len(SYNONYMS[attr][values[attr]]))]
            for attr in TEXT_ATTRIBUTES
        }
        words["sound"] = SOUND_WORDS[rng.integers(len(SOUND_WORDS))]
        caption = render_caption(template, words)
        if caption not in seen:
            seen.add(caption)
            out.append(caption)
    return out


def make_captions(rng: np.random.Generator, attributes: dict[str, np.ndarray]) -> list[list[str]]:
    """Reference captions for every scene; element 0 of each list is the scene's text view."""
    n = len(next(iter(attributes.values())))
    refs = []
    for i in range(n):
        values = {a: BY_NAME[a].values[attributes[a][i]] for a in TEXT_ATTRIBUTES}
        refs.append(caption_choices(rng, values))
    return refs


def vocabulary() -> tuple[str, ...]:
    """Every word the grammar can write, sorted."""
    words = {"an"}
    for template in TEMPLATES:
        words.update(w for w in re.sub(r"\{\w+\}", " ", template).split())
    for table in SYNONYMS.values():
        for synonyms in table.values():
            words.update(synonyms)
    words.update(SOUND_WORDS)
    return tuple(sorted(words))


def max_caption_words() -> int:
    """Length in words of the longest caption the grammar can write."""
    longest = {
        slot: max(len(w.split()) for v in t.values() for w in v) for slot, t in SYNONYMS.items()
    }
    longest["sound"] = 1
    return max(sum(longest.get(tok[1:-1], 1) for tok in template.split()) for template in TEMPLATES)


def _slot_pattern(slot: str) -> str:
    if slot == "sound":
        return "(?:" + "|".join(SOUND_WORDS) + ")"
    alternatives = [
        f"(?P<{slot}__{value}>{re.escape(word)})"
        for value, words in SYNONYMS[slot].items()
        for word in words
    ]
    # Several alternatives per value share a name prefix; groups must be unique, so number them.
    numbered = [alt.replace(">", f"__{i}>", 1) for i, alt in enumerate(alternatives)]
    return "(?:" + "|".join(numbered) + ")"


def _compile(template: str) -> re.Pattern[str]:
    parts = []
    for token in template.split():
        if token.startswith("{"):
            parts.append(_slot_pattern(token[1:-1]))
        elif token == "a":
            parts.append("an?")
        else:
            parts.append(re.escape(token))
    return re.compile("^" + " ".join(parts) + "$")


_PATTERNS = tuple(_compile(t) for t in TEMPLATES)


def parse_caption(caption: str) -> dict[str, str] | None:
    """Attributes (name -> value) named by a caption, or None if the grammar cannot produce it."""
    text = " ".join(caption.lower().split())
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        found = {}
        for group, word in match.groupdict().items():
            if word is not None:
                slot, value, _ = group.split("__")
                found[slot] = value
        return found
    return None
