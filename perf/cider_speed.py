"""Speed of the CIDEr-D pipeline on a synthetic captioning set.

Builds ``--items`` items (default 5,000), each with one hypothesis and ``--refs`` references
(default 5), from seeded templates and word lists (English captions with articles, numbers,
possessives, contractions, hyphenated words and end punctuation). Then times, in seconds:

* tokenisation of all captions (references in one call, hypotheses in another, as the COCO
  evaluation does) with the Java PTBTokenizer (when ``java`` is available) and with the
  pure-Python tokenizer, and whether the two give identical tokens;
* CIDEr-D scoring (pycocoevalcap's ``Cider`` on the tokenised captions);
* the bootstrap interval over items (1,000 resamples);

and prints the CIDEr-D x100 score with its interval.

Usage: ``python perf/cider_speed.py [--items 5000] [--refs 5] [--seed 0]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics.bootstrap import bootstrap_mean  # noqa: E402
from metrics.cider import (  # noqa: E402
    CIDER_N,
    CIDER_SIGMA,
    java_tokenizer_available,
    ptb_tokenize,
    python_tokenize,
)

SUBJECTS = ["man", "woman", "child", "dog", "cat", "boy", "girl", "player", "chef", "horse"]
ADJECTIVES = ["young", "old", "small", "large", "brown", "white", "happy", "tired", "well-known"]
VERBS = [
    "is riding",
    "is holding",
    "sits on",
    "stands next to",
    "looks at",
    "is eating",
    "isn't touching",
    "jumps over",
    "walks past",
    "plays with",
]
OBJECTS = [
    "bicycle",
    "surfboard",
    "pizza",
    "bench",
    "red ball",
    "kite",
    "laptop",
    "fence",
    "black-and-white sign",
    "frisbee",
]
PLACES = [
    "on the beach",
    "in a park",
    "near the river",
    "on a busy street",
    "in the kitchen",
    "at 5 p.m.",
    "under a tree",
    "in the snow",
    "on the U.S. coast",
    "in the rain",
]
ENDINGS = [".", "", " .", "!", "...", ", outside.", " (again)."]
NUMBERS = ["two", "three", "2", "3", "a few", "several", "10"]


def caption(rng: random.Random) -> str:
    """One synthetic English caption."""
    form = rng.random()
    if form < 0.45:
        text = (
            f"A {rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
            f"a {rng.choice(OBJECTS)} {rng.choice(PLACES)}"
        )
    elif form < 0.75:
        verb = rng.choice(VERBS).replace("is ", "are ").replace("isn't", "aren't")
        text = (
            f"{rng.choice(NUMBERS).capitalize()} {rng.choice(SUBJECTS)}s {verb} "
            f"the {rng.choice(OBJECTS)} {rng.choice(PLACES)}"
        )
    else:
        text = (
            f"The {rng.choice(SUBJECTS)}'s {rng.choice(OBJECTS)} {rng.choice(PLACES)}, "
            f"while a {rng.choice(SUBJECTS)} {rng.choice(VERBS)} it"
        )
    return text + rng.choice(ENDINGS)


def build(items: int, refs: int, seed: int) -> tuple[dict[int, str], dict[int, list[str]]]:
    """{id: hypothesis}, {id: [references]} for ``items`` ids."""
    rng = random.Random(seed)
    hypotheses = {i: caption(rng) for i in range(items)}
    references = {i: [caption(rng) for _ in range(refs)] for i in range(items)}
    return hypotheses, references


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--refs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from pycocoevalcap.cider.cider import Cider

    hypotheses, references = build(args.items, args.refs, args.seed)
    ids = sorted(hypotheses, key=str)
    hyp_lists = {i: [hypotheses[i]] for i in ids}
    ref_lists = {i: references[i] for i in ids}
    n_captions = len(ids) * (1 + args.refs)
    print(f"items: {len(ids)}, references per item: {args.refs}, captions: {n_captions}")

    tokenised = {}
    if java_tokenizer_available():
        java_refs, t_refs = timed(ptb_tokenize, ref_lists)
        java_hyps, t_hyps = timed(ptb_tokenize, hyp_lists)
        tokenised["java"] = (java_refs, java_hyps)
        print(f"tokenise, java PTBTokenizer:  {t_refs + t_hyps:8.2f} s")
    else:
        print("tokenise, java PTBTokenizer:  unavailable (no `java` or no pycocoevalcap jar)")
    py_refs, t_refs = timed(python_tokenize, ref_lists)
    py_hyps, t_hyps = timed(python_tokenize, hyp_lists)
    tokenised["python"] = (py_refs, py_hyps)
    print(f"tokenise, python tokenizer:   {t_refs + t_hyps:8.2f} s")
    if "java" in tokenised:
        java_refs, java_hyps = tokenised["java"]
        differ = sum(
            a != b
            for key in ids
            for a, b in zip(
                java_refs[key] + java_hyps[key], py_refs[key] + py_hyps[key], strict=True
            )
        )
        print(f"captions tokenised differently by the two backends: {differ} / {n_captions}")

    backend = "java" if "java" in tokenised else "python"
    refs_tok, hyps_tok = tokenised[backend]
    (score, per_item), t_score = timed(
        Cider(n=CIDER_N, sigma=CIDER_SIGMA).compute_score, refs_tok, hyps_tok
    )
    print(f"score, pycocoevalcap Cider-D:  {t_score:8.2f} s")
    per_item = 100 * np.asarray(per_item, dtype=np.float64)
    interval, t_boot = timed(bootstrap_mean, per_item, 1000, 0)
    print(f"bootstrap, 1000 resamples:    {t_boot:8.2f} s")
    if backend == "java":
        score_py, _ = Cider(n=CIDER_N, sigma=CIDER_SIGMA).compute_score(py_refs, py_hyps)
        print(f"CIDEr-D x100 (python tokens): {100 * score_py:.4f}")
    print(f"CIDEr-D x100 ({backend} tokens):   {100 * score:.4f}  95% CI {interval}")


if __name__ == "__main__":
    main()
