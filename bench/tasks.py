"""The translation tasks of the benchmark, named as in the paper.

One-to-one tasks are scored on the test split of their pair type; one-to-many and many-to-one
tasks on the test triplets (the paper scores them on AudioCaps triplets).

``POINT_TASKS`` are the fourth modality's (the paper's Appendix J): I->P and P->I on the one pair
type that is trained, the never-paired T->P, P->T, A->P and P->A, and (T+I)->P. They are kept
apart from ``TASKS`` and its families, which are the paper's main tables.
"""

from __future__ import annotations

from dataclasses import dataclass

SHORT = {"text": "T", "image": "I", "audio": "A", "points": "P"}


@dataclass(frozen=True)
class Task:
    """A translation from ``sources`` to ``targets``.

    Attributes:
        key: the path-safe name used in results/, e.g. "t2i", "ta2i", "t2ia".
        sources: source modalities.
        targets: target modalities.
        split: the test split it is scored on.
    """

    key: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    split: str

    @property
    def name(self) -> str:
        """The paper's notation: T->I, T->(I+A), (T+A)->I."""

        def side(modalities: tuple[str, ...]) -> str:
            joined = "+".join(SHORT[m] for m in modalities)
            return f"({joined})" if len(modalities) > 1 else joined

        return f"{side(self.sources)}->{side(self.targets)}"

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.sources + self.targets


def _task(sources: str, targets: str, split: str) -> Task:
    letters = {v.lower(): k for k, v in SHORT.items()}
    src = tuple(letters[c] for c in sources)
    tgt = tuple(letters[c] for c in targets)
    return Task(f"{sources}2{targets}", src, tgt, split)


TASKS: dict[str, Task] = {
    t.key: t
    for t in (
        _task("t", "i", "test_ti"),
        _task("i", "t", "test_ti"),
        _task("t", "a", "test_ta"),
        _task("a", "t", "test_ta"),
        _task("i", "a", "test_ia"),
        _task("a", "i", "test_ia"),
        _task("t", "ia", "test_triplet"),
        _task("i", "ta", "test_triplet"),
        _task("a", "ti", "test_triplet"),
        _task("ta", "i", "test_triplet"),
        _task("ti", "a", "test_triplet"),
        _task("ia", "t", "test_triplet"),
    )
}


POINT_TASKS: dict[str, Task] = {
    t.key: t
    for t in (
        _task("i", "p", "test_ip"),
        _task("p", "i", "test_ip"),
        _task("t", "p", "test_tp"),
        _task("p", "t", "test_tp"),
        _task("a", "p", "test_ap"),
        _task("p", "a", "test_ap"),
        _task("ti", "p", "test_tip"),
    )
}
# The translations between modalities never paired in training: they go through the anchor.
UNSEEN_POINT_TASKS = ("t2p", "p2t", "a2p", "p2a")


def _family(task: Task) -> str:
    if len(task.sources) > 1:
        return "many_to_one"
    return "one_to_many" if len(task.targets) > 1 else "one_to_one"


# The tasks by kind: Tables 2 and 3 are one-to-one, Table 8 one-to-many, Table 7 many-to-one.
FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(key for key, task in TASKS.items() if _family(task) == family)
    for family in ("one_to_one", "one_to_many", "many_to_one")
}


# Every task by key: the main tables' and the fourth modality's.
ALL_TASKS: dict[str, Task] = {**TASKS, **POINT_TASKS}


def get_task(key: str) -> Task:
    """The task ``key`` names, the fourth modality's included; ValueError listing the keys."""
    if key not in ALL_TASKS:
        raise ValueError(f"unknown task {key!r}; tasks are {list(ALL_TASKS)}")
    return ALL_TASKS[key]
