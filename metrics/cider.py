"""CIDEr-D (pycocoevalcap), reported x100, with the COCO caption tokenisation.

Protocol
--------
* Input: ``hypotheses`` maps each item id to exactly one caption (a string, or a sequence holding
  exactly one string); ``references`` maps the same ids to a non-empty list of reference
  captions (a bare string counts as one reference). Mismatched ids, empty or non-string captions,
  a hypothesis sequence whose length is not 1 and an id without references raise
  :class:`MetricInputError`.
* Tokenisation, as the COCO caption evaluation (``pycocoevalcap.eval.COCOEvalCap``) does it:
  references and hypotheses are tokenised in two separate calls; each call writes the captions,
  one a line, in ascending id order (ids sorted by ``str``), runs the Stanford PTBTokenizer of
  CoreNLP 3.4.1 (``java -cp stanford-corenlp-3.4.1.jar edu.stanford.nlp.process.PTBTokenizer
  -preserveLines -lowerCase FILE``) and drops the tokens listed in :data:`PUNCTUATIONS`
  (pycocoevalcap's list; it holds ``-LRB-`` etc. in upper case, so the lower-cased bracket
  tokens ``-lrb-``, ``-rrb-``, ... stay, as they do in pycocoevalcap). Two deliberate
  departures from pycocoevalcap's ``PTBTokenizer.tokenize``: the temporary file goes to the
  system temporary directory (:mod:`tempfile`), never into the package folder, so read-only
  installs work; and every line break a caption may contain (``\\r``, ``\\n``, U+2028, U+2029,
  vertical tab, form feed) becomes a space (pycocoevalcap replaces only ``\\n``, and any other
  line break shifts every later caption onto the wrong id).
* Tokeniser backends: ``"java"`` runs the jar above; ``"python"`` is :func:`python_tokenize`, a
  re-implementation of the same lexer (see below); ``"auto"`` picks Java when ``java`` is on the
  ``PATH`` and pycocoevalcap's jar is installed, else Python. :func:`tokenizer_backend` says which
  one ``"auto"`` resolves to, so reports can state it.
* Scoring: ``pycocoevalcap.cider.cider.Cider(n=4, sigma=6.0).compute_score(refs, hyps)`` on the
  tokenised captions. In pycocoevalcap 1.2 that class *is* CIDEr-D (Vedantam et al. 2015, the
  variant used by the COCO server): for n = 1..4, each caption is a vector of n-gram
  TF-IDF weights ``tf * (log(N) - log(max(1, df)))`` with ``N`` the number of evaluated items
  and ``df`` the number of items whose references contain the n-gram (the IDF therefore comes
  from the evaluated references, so a score depends on the whole evaluated set); the similarity
  to one reference is ``sum(min(h, r) * r) / (|h| |r|)`` (clipped hypothesis weights) times the
  Gaussian length penalty ``exp(-(l_h - l_r)^2 / (2 * 6^2))``, where pycocoevalcap's ``l`` is
  the number of *bigrams* of the caption (its code counts terms with ``n == 1``, an index that
  means bigrams: words - 1 for captions of two or more words, 0 for one-word captions); the item
  score is ``10 * mean_n(mean_refs(similarity))``. The corpus score is the mean over items, and
  this module reports it x100. With a single evaluated item every IDF weight is 0 and the score
  is 0.
* Interval (:func:`cider_score`): the IDF is computed once, on the whole evaluated set; the
  per-item scores (x100) are then resampled with replacement
  (:func:`metrics.bootstrap.bootstrap_mean`). Recomputing the IDF on every resample would
  change the metric being measured with each draw (duplicated items raise document
  frequencies), so the interval describes the sampling variability of the item mean under the
  full set's IDF.

Tokenisation lives in :mod:`metrics.ptb_tokenizer`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Score, bootstrap_mean
from metrics.ptb_tokenizer import (
    PUNCTUATIONS,
    java_tokenizer_available,
    ptb_tokenize,
    python_tokenize,
    tokenize,
    tokenizer_backend,
)
from metrics.validation import MetricInputError, check_same_ids, check_texts

__all__ = [
    "CIDEr",
    "PUNCTUATIONS",
    "cider",
    "cider_per_item",
    "cider_score",
    "java_tokenizer_available",
    "ptb_tokenize",
    "python_tokenize",
    "tokenize",
    "tokenizer_backend",
]

CIDER_N = 4
CIDER_SIGMA = 6.0
SCALE = 100.0


# ---------------------------------------------------------------------------------------------
# CIDEr-D
# ---------------------------------------------------------------------------------------------


def _normalise(
    hypotheses: Mapping[Hashable, str | Sequence[str]],
    references: Mapping[Hashable, str | Sequence[str]],
) -> tuple[list[Hashable], dict[Hashable, list[str]], dict[Hashable, list[str]]]:
    """Sorted ids, {id: [hypothesis]}, {id: [references]}; MetricInputError on bad input."""
    if not isinstance(hypotheses, Mapping) or not isinstance(references, Mapping):
        raise MetricInputError("hypotheses and references must be mappings from item id to text")
    ids = check_same_ids(hypotheses, references, ("hypotheses", "references"))
    hyps: dict[Hashable, list[str]] = {}
    refs: dict[Hashable, list[str]] = {}
    for key in ids:
        hyp = hypotheses[key]
        hyp_list = [hyp] if isinstance(hyp, str) else hyp
        if not isinstance(hyp_list, Sequence):
            raise MetricInputError(
                f"hypothesis of id {key!r} must be a caption (str), got {type(hyp).__name__}"
            )
        if len(hyp_list) != 1:
            raise MetricInputError(
                f"CIDEr needs exactly one hypothesis per id; id {key!r} has {len(hyp_list)}"
            )
        check_texts(list(hyp_list), f"hypothesis of id {key!r}")
        ref = references[key]
        ref_list = [ref] if isinstance(ref, str) else ref
        if not isinstance(ref_list, Sequence) or len(ref_list) == 0:
            raise MetricInputError(f"id {key!r} has no reference captions")
        check_texts(list(ref_list), f"references of id {key!r}")
        hyps[key] = [hyp_list[0]]
        refs[key] = list(ref_list)
    return ids, hyps, refs


def _cider_items(
    hyps: dict[Hashable, list[str]], refs: dict[Hashable, list[str]], backend: str
) -> np.ndarray:
    """Per-item CIDEr-D (pycocoevalcap scale, 0..10 per n-gram order) on raw captions."""
    from pycocoevalcap.cider.cider import Cider

    tokenised_refs = tokenize(refs, backend)
    tokenised_hyps = tokenize(hyps, backend)
    empty = [key for key, texts in tokenised_refs.items() if not any(t.split() for t in texts)]
    if empty:
        raise MetricInputError(
            f"{len(empty)} ids have no reference with a word left after tokenisation (only "
            f"punctuation), e.g. {empty[:5]}"
        )
    _, scores = Cider(n=CIDER_N, sigma=CIDER_SIGMA).compute_score(tokenised_refs, tokenised_hyps)
    return np.asarray(scores, dtype=np.float64)


def cider_per_item(
    hypotheses: Mapping[Hashable, str | Sequence[str]],
    references: Mapping[Hashable, str | Sequence[str]],
    backend: str = "auto",
) -> tuple[float, dict[Hashable, float]]:
    """(CIDEr-D x100, {id: item score x100}); ids in ascending order (sorted by ``str``).

    The mean of the item scores is the corpus score. Every item's score uses the IDF of the
    whole evaluated set (see the module docstring).
    """
    ids, hyps, refs = _normalise(hypotheses, references)
    scores = SCALE * _cider_items(hyps, refs, backend)
    return float(scores.mean()), {key: float(s) for key, s in zip(ids, scores, strict=True)}


def cider(
    hypotheses: Mapping[Hashable, str | Sequence[str]],
    references: Mapping[Hashable, str | Sequence[str]],
    backend: str = "auto",
) -> float:
    """CIDEr-D x100 of one hypothesis per id against its references (module docstring)."""
    return cider_per_item(hypotheses, references, backend)[0]


def cider_score(
    hypotheses: Mapping[Hashable, str | Sequence[str]],
    references: Mapping[Hashable, str | Sequence[str]],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    backend: str = "auto",
) -> Score:
    """CIDEr-D x100 with a bootstrap percentile interval over items.

    The IDF is computed once on the whole evaluated set; the per-item scores are resampled
    (``resamples`` draws from a generator seeded by ``seed``) and the interval is the
    ``level`` percentile interval of the resampled means.
    """
    _, per_item = cider_per_item(hypotheses, references, backend)
    return bootstrap_mean(
        np.fromiter(per_item.values(), dtype=np.float64, count=len(per_item)),
        resamples=resamples,
        seed=seed,
        level=level,
    )


class CIDEr:
    """Accumulating CIDEr-D x100 (torchmetrics-style ``update`` / ``compute`` / ``reset``).

    ``update(hypotheses, references)`` adds id-keyed captions (the same input rules as
    :func:`cider`; an id already added raises :class:`MetricInputError`). ``compute()`` scores
    everything added so far as one evaluated set (the IDF comes from all of it), so the result
    equals :func:`cider` on the union of the updates, whatever the batching.
    """

    def __init__(self, backend: str = "auto") -> None:
        tokenizer_backend(backend)  # validate early
        self.backend = backend
        self._hypotheses: dict[Hashable, list[str]] = {}
        self._references: dict[Hashable, list[str]] = {}

    def reset(self) -> None:
        """Forget every added item."""
        self._hypotheses = {}
        self._references = {}

    def update(
        self,
        hypotheses: Mapping[Hashable, str | Sequence[str]],
        references: Mapping[Hashable, str | Sequence[str]],
    ) -> None:
        """Add a batch of items (validated now, scored by :meth:`compute`)."""
        ids, hyps, refs = _normalise(hypotheses, references)
        repeated = [key for key in ids if key in self._hypotheses]
        if repeated:
            raise MetricInputError(
                f"{len(repeated)} ids were already added to this CIDEr (e.g. {repeated[:5]}); "
                "each item must be scored once"
            )
        self._hypotheses.update(hyps)
        self._references.update(refs)

    def compute(self) -> float:
        """CIDEr-D x100 of every item added since the last :meth:`reset`."""
        if not self._hypotheses:
            raise MetricInputError("CIDEr.compute() called before any update()")
        return cider(self._hypotheses, self._references, self.backend)

    def compute_score(
        self,
        resamples: int = DEFAULT_RESAMPLES,
        seed: int = 0,
        level: float = DEFAULT_LEVEL,
    ) -> Score:
        """:meth:`compute` with the bootstrap interval of :func:`cider_score`."""
        if not self._hypotheses:
            raise MetricInputError("CIDEr.compute_score() called before any update()")
        return cider_score(self._hypotheses, self._references, resamples, seed, level, self.backend)

    @property
    def tokenizer(self) -> str:
        """The tokenizer backend this metric resolves to (``"java"`` or ``"python"``)."""
        return tokenizer_backend(self.backend)
