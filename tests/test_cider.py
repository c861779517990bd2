"""CIDEr-D: equals pycocoevalcap on PTB-tokenised input; Python tokenizer equals the Java one."""

import itertools
import os
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from metrics import ptb_lexer as lexer_module
from metrics import ptb_tokenizer as tokenizer_module
from metrics.bootstrap import Score
from metrics.cider import (
    CIDEr,
    cider,
    cider_per_item,
    cider_score,
    ptb_tokenize,
    python_tokenize,
    tokenize,
    tokenizer_backend,
)
from metrics.validation import MetricInputError

pytest.importorskip("pycocoevalcap.cider.cider")
from pycocoevalcap.cider.cider import Cider  # noqa: E402

needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="the Stanford PTB tokenizer needs `java` on the PATH"
)

SUBJECTS = ["A man", "Two dogs", "The woman's cat", "A child", "Some people", "An old car"]
VERBS = ["is riding", "are playing with", "sits next to", "isn't watching", "can't reach"]
OBJECTS = ["a red ball", "the U.S. flag", "a 3.5-inch screen", "black-and-white photos", "$5"]
ENDINGS = [".", "!", "...", " (outside)", ", isn't it?", ' "quietly"', " at 10:30 a.m.", ""]

TRICKY = [
    "A man's dog isn't happy.",
    "Two dogs' bones lie on the grass",
    "They're playing; we'll watch, won't we?",
    "I'd say you've got it -- don't you think?",
    "It's 3.5 miles away, 1,000 feet up, at 12:55.",
    "A well-known, self-made man eats a 10-year-old cheese.",
    "An e-mail from the co-op about the x-ray",
    'A sign that reads "STOP" in red',
    "A sign that says 'no parking' near the curb",
    "A boy (age 5) and a girl [age 7] play {outside}",
    "A dog and/or a cat on a 24/7 shift, 50/50 odds",
    "AT&T, Q&A and R&D teams & a rock&roll band",
    "A café with a naïve résumé on the façade",
    "Jalapeño piñata in São Paulo, Zürich",
    "A CROWD OF People   in the   Street.",
    "Mr. Smith and Dr. Jones visit St. Louis, Mo. at 5 p.m.",
    "The U.S. team wins.",
    "The U.S. The end",
    "He cannot swim, gonna learn, wanna try",
    "'Tis the season; 'twas the night",
    "Rock'n'roll at o'clock with O'Brien, y'all",
    "Prices: $5, $3.50, 50% off, #1 seller, 5¢ each",
    "Hi... hi.... wait -- no --- yes",
    "A man — in a hat – walks…",
    "‘Curly’ and “double” quotes",
    "Temperature is 5°C and ½ cup of ¾ sugar",
    "Visit www.example.com or http://example.org/path today",
    "Email me at someone@example.com, please",
    "Tagged #sunset by @photographer",
    "A 1990s car, mid-1990s style, the '90s look",
    "Score 2-3, then 11-20, -5 degrees, +5 bonus",
    "A photo 10/12/2014 and 1 1/2 cups",
    "A letter A.",
    "The word is etc.",
    "vitamin C. The dog runs",
    "Items: a, b, and c; d: e",
    "What?! No!!! Really??",
    "A man with a :) face and a ;) wink",
    "a 5'6\" man",
    "A tab\tseparated caption",
    "An item -- with dashes - and hyphens",
    "Dogs playing in the park ",
    "  Leading spaces and trailing period .",
    "The T-shirt, the U-turn, the Wi-Fi",
    "PB&J sandwich, M&M's candy",
    "children's toys at Dr. Seuss's house",
    "Café AU LAIT at the Crème Brûlée stand",
    "A 6ft tall man with a 2x4 board",
    "A child holds a 1/4-inch bolt",
    "Mt. Everest vs. K2, approx. 8,848 m",
    "A man in a t-shirt; a woman in a sari.",
    "N/A w/o a doubt",
]


def caption_corpus() -> list[str]:
    """>= 200 caption-like strings: templates x fillers, plus hand-written tricky cases."""
    templated = [
        f"{s} {v} {o}{e}" for s, v, o, e in itertools.product(SUBJECTS, VERBS, OBJECTS, ENDINGS)
    ]
    rng = random.Random(0)
    return TRICKY + rng.sample(templated, 260)


def random_corpus(items: int, seed: int) -> tuple[dict, dict]:
    """Synthetic captioning results: one hypothesis and five references per item."""
    rng = random.Random(seed)
    nouns = ["dog", "cat", "man", "woman", "child", "bird", "car", "ball", "tree", "boat"]
    verbs = ["runs", "sits", "jumps", "plays", "stands", "waits", "looks"]
    places = ["in the park", "on the beach", "near a tree", "by the road", "at home"]
    adjectives = ["small", "big", "red", "white", "happy", "old", "young"]

    def caption() -> str:
        text = (
            f"a {rng.choice(adjectives)} {rng.choice(nouns)} {rng.choice(verbs)} "
            f"{rng.choice(places)}"
        )
        if rng.random() < 0.3:
            text += f" with a {rng.choice(nouns)}"
        return text + rng.choice([".", "", " .", "!"])

    hyps = {i: caption() for i in range(items)}
    refs = {i: [caption() for _ in range(5)] for i in range(items)}
    return hyps, refs


def direct_pycocoevalcap(hyps: dict, refs: dict, tokenizer) -> tuple[float, np.ndarray]:
    """pycocoevalcap's Cider on tokenised input, ids in sorted order, x100."""
    ids = sorted(hyps, key=str)
    res = tokenizer({i: [hyps[i]] for i in ids})
    gts = tokenizer({i: list(refs[i]) for i in ids})
    score, scores = Cider().compute_score(gts, res)
    return 100 * score, 100 * np.asarray(scores)


SMALL_HYPS = {
    "a": "A man riding a horse on the beach.",
    "b": "Two dogs play with a red ball",
    "c": "A plate of food",
}
SMALL_REFS = {
    "a": ["A man rides a horse along the beach.", "A person on a horse by the sea"],
    "b": ["Two dogs playing with a ball.", "A pair of dogs chase a red ball", "dogs at play"],
    "c": ["A plate with food on a table", "Some food served on a white plate."],
}


@pytest.mark.parametrize("backend", ["python", pytest.param("java", marks=needs_java)])
def test_cider_equals_pycocoevalcap_on_small_corpus(backend):
    tokenizer = python_tokenize if backend == "python" else ptb_tokenize
    expected, expected_items = direct_pycocoevalcap(SMALL_HYPS, SMALL_REFS, tokenizer)
    value, items = cider_per_item(SMALL_HYPS, SMALL_REFS, backend=backend)
    assert value == pytest.approx(expected, rel=1e-12)
    assert list(items) == ["a", "b", "c"]
    np.testing.assert_allclose(list(items.values()), expected_items, rtol=1e-12)
    assert cider(SMALL_HYPS, SMALL_REFS, backend=backend) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("backend", ["python", pytest.param("java", marks=needs_java)])
def test_cider_equals_pycocoevalcap_on_random_corpus(backend):
    hyps, refs = random_corpus(100, seed=3)
    tokenizer = python_tokenize if backend == "python" else ptb_tokenize
    expected, _ = direct_pycocoevalcap(hyps, refs, tokenizer)
    assert cider(hyps, refs, backend=backend) == pytest.approx(expected, rel=1e-12)
    assert 0 < expected < 1000


@needs_java
def test_backends_give_the_same_score():
    hyps, refs = random_corpus(60, seed=5)
    hyps[0] = "A \"quoted\" dog (big), isn't it? It's 3.5 ft... U.S."
    assert cider(hyps, refs, backend="python") == cider(hyps, refs, backend="java")


@needs_java
def test_python_tokenizer_equals_java_ptb_tokenizer():
    corpus = caption_corpus()
    assert len(corpus) >= 200
    # Several captions per id and one caption per id: both regroupings must agree, and the
    # lexing of the joined file (context across lines) is exercised as a whole.
    grouped = {f"id{k}": corpus[k * 4 : k * 4 + 4] for k in range((len(corpus) + 3) // 4)}
    single = {k: [text] for k, text in enumerate(corpus)}
    for captions in (grouped, single):
        java = ptb_tokenize(captions)
        python = python_tokenize(captions)
        assert list(java) == list(python)
        mismatches = [
            (j, p) for key in java for j, p in zip(java[key], python[key], strict=True) if j != p
        ]
        assert not mismatches, mismatches[:5]
    # Spot checks of the PTB conventions (after punctuation removal).
    out = python_tokenize(
        {0: ["A man's dog isn't happy (really)."], 1: ["Don't stop: 3.5 / 1,000"]}
    )
    assert out == {
        0: ["a man 's dog is n't happy -lrb- really -rrb-"],
        1: ["do n't stop 3.5 / 1,000"],
    }


@needs_java
def test_java_tokenizer_writes_nothing_into_the_package_folder(tmp_path, monkeypatch):
    jar = tokenizer_module._jar_path()
    assert jar is not None
    package_dir = jar.parent
    before = sorted(os.listdir(package_dir))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    created: list[str] = []
    real_mkstemp = tempfile.mkstemp

    def recording_mkstemp(*args, **kwargs):
        handle, path = real_mkstemp(*args, **kwargs)
        created.append(path)
        return handle, path

    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    out = ptb_tokenize({1: ["A dog runs."], 2: ["Two cats sleep!", "A cat"]})
    assert out == {1: ["a dog runs"], 2: ["two cats sleep", "a cat"]}
    assert created and all(Path(p).parent == scratch for p in created)
    assert not any(Path(p).exists() for p in created)  # removed afterwards
    assert sorted(os.listdir(package_dir)) == before


def test_tokenize_reports_its_backend():
    expected = "java" if tokenizer_module.java_tokenizer_available() else "python"
    assert tokenizer_backend() == expected
    assert tokenizer_backend("python") == "python"
    assert CIDEr(backend="python").tokenizer == "python"
    with pytest.raises(ValueError):
        tokenizer_backend("perl")
    assert tokenize({0: ["Hello, world!"]}, backend="python") == {0: ["hello world"]}


def test_line_breaks_inside_a_caption_keep_ids_aligned():
    captions = {0: ["a dog\nruns"], 1: ["a cat\r\nsleeps\u2028now"], 2: ["a bird"]}
    out = python_tokenize(captions)
    assert out == {0: ["a dog runs"], 1: ["a cat sleeps now"], 2: ["a bird"]}
    if shutil.which("java") is not None:
        assert ptb_tokenize(captions) == out


@pytest.mark.parametrize(
    ("hyps", "refs", "message"),
    [
        ({1: "a dog", 2: "a cat"}, {1: ["a dog"]}, "same ids"),
        ({1: "a dog"}, {1: ["a dog"], 2: ["a cat"]}, "same ids"),
        ({1: ""}, {1: ["a dog"]}, "empty"),
        ({1: "   "}, {1: ["a dog"]}, "empty"),
        ({1: "a dog"}, {1: ["a dog", ""]}, "empty"),
        ({1: ["a dog", "a cat"]}, {1: ["a dog"]}, "exactly one hypothesis"),
        ({1: []}, {1: ["a dog"]}, "exactly one hypothesis"),
        ({1: "a dog"}, {1: []}, "no reference"),
        ({1: 3}, {1: ["a dog"]}, "must be a caption"),
        ({1: "a dog"}, {1: ["..."]}, "no reference with a word"),
        ({}, {}, "empty"),
    ],
)
def test_bad_input_is_refused(hyps, refs, message):
    with pytest.raises(MetricInputError, match=message):
        cider(hyps, refs, backend="python")


def test_single_hypothesis_list_is_accepted():
    as_list = {k: [v] for k, v in SMALL_HYPS.items()}
    assert cider(as_list, SMALL_REFS, backend="python") == cider(
        SMALL_HYPS, SMALL_REFS, backend="python"
    )


def test_perfect_hypothesis_beats_a_wrong_one():
    hyps, refs = random_corpus(30, seed=7)
    refs[0] = ["a brown dog runs on the beach"] * 5
    perfect = {**hyps, 0: "a brown dog runs on the beach"}
    wrong = {**hyps, 0: "a plate of pasta with tomato sauce"}
    _, perfect_items = cider_per_item(perfect, refs, backend="python")
    _, wrong_items = cider_per_item(wrong, refs, backend="python")
    assert perfect_items[0] > wrong_items[0]
    assert wrong_items[0] == 0.0
    assert cider(perfect, refs, backend="python") > cider(wrong, refs, backend="python")


def test_identical_hypotheses_and_references_match_pycocoevalcap():
    # CIDEr-D of a hypothesis equal to all its references is not a fixed number: with a tiny
    # evaluated set the IDF (log of the number of items over document frequency) is small.
    hyps = dict(SMALL_HYPS)
    refs = {k: [v, v] for k, v in hyps.items()}
    expected, _ = direct_pycocoevalcap(hyps, refs, python_tokenize)
    value = cider(hyps, refs, backend="python")
    assert value == pytest.approx(expected, rel=1e-12)
    assert value > 0
    # A single item: every IDF weight is log(1) - log(1) = 0.
    assert cider({0: "a dog"}, {0: ["a dog"]}, backend="python") == 0.0


def test_bootstrap_interval_brackets_the_score():
    hyps, refs = random_corpus(80, seed=11)
    score = cider_score(hyps, refs, resamples=200, seed=1, backend="python")
    assert isinstance(score, Score)
    assert score.value == pytest.approx(cider(hyps, refs, backend="python"), rel=1e-12)
    assert score.low <= score.value <= score.high
    assert score.n == 80 and score.resamples == 200
    again = cider_score(hyps, refs, resamples=200, seed=1, backend="python")
    assert (again.low, again.high) == (score.low, score.high)


def test_class_accumulates_and_refuses_duplicates():
    hyps, refs = random_corpus(40, seed=2)
    metric = CIDEr(backend="python")
    with pytest.raises(MetricInputError, match="before any update"):
        metric.compute()
    ids = list(hyps)
    metric.update({i: hyps[i] for i in ids[:25]}, {i: refs[i] for i in ids[:25]})
    metric.update({i: hyps[i] for i in ids[25:]}, {i: refs[i] for i in ids[25:]})
    assert metric.compute() == pytest.approx(cider(hyps, refs, backend="python"), rel=1e-12)
    score = metric.compute_score(resamples=50)
    assert score.value == pytest.approx(metric.compute(), rel=1e-12)
    with pytest.raises(MetricInputError, match="already added"):
        metric.update({ids[0]: hyps[ids[0]]}, {ids[0]: refs[ids[0]]})
    metric.reset()
    metric.update({0: "a dog"}, {0: ["a dog"]})
    assert metric.compute() == 0.0


def test_rule_preselection_changes_nothing(monkeypatch):
    # The lexer only tries the rules that can start with the current character; trying every
    # rule everywhere must give the same tokens.
    rng = random.Random(4)
    pool = "abcXYZ019 .,;:!?'\"`-_()[]{}<>/\\@#$%^&*+=~|éü’“”–…½€"
    noise = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) for _ in range(300)]
    captions = {k: [text] for k, text in enumerate(caption_corpus() + noise)}
    selected = python_tokenize(captions)
    every_rule = tuple(lexer_module._RULES)
    monkeypatch.setattr(lexer_module, "_candidates", lambda char: every_rule)
    assert python_tokenize(captions) == selected
