"""The two benchmarks behind one interface, chosen by the workflow config's ``benchmark`` key.

    bench = open_benchmark(config)            # EmbeddedBenchmark or PaperBenchmark
    task = bench.task("t2i")                  # its test split differs between the two
    codecs = bench.codecs()                   # modality -> frozen codec (encode / decode)
    split = bench.test_split(task.split)      # ids, references, real images and audio
    backbones = bench.backbones()             # the metrics' networks (bench.evaluate)

Generation, scoring, the ablations and the report figures go through it, so a third benchmark
is one more class here plus its rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from bench.tasks import Task, get_task

RESULTS = Path("results")


class EmbeddedBenchmark:
    """The procedural world of ``bench.embedded``, prepared in ``root`` (results/embedded)."""

    name = "embedded"
    fixed_size = True  # outputs have the world's size: 64 x 64 images, 1 s clips

    def __init__(self, root: str | Path = RESULTS / "embedded") -> None:
        self.root = Path(root)

    def task(self, key: str) -> Task:
        return get_task(key)

    def codec(self, modality: str) -> Any:
        from bench.embedded.prepare import load_codec

        return load_codec(self.root, modality)

    def codecs(self) -> dict[str, Any]:
        return {m: self.codec(m) for m in ("text", "image", "audio")}

    def backbones(self) -> Any:
        from bench.embedded.backbones import EmbeddedBackbones

        return EmbeddedBackbones(self.root)

    def test_split(self, name: str) -> Any:
        from bench.embedded.build import data_folder
        from bench.embedded.storage import load_split

        return load_split(data_folder(self.root, name), name)

    def figure_labels(self, split: Any) -> tuple[str, list[str], tuple[int, int], list[str]]:
        """(attribute, a value per item to colour by, two items to interpolate, their names)."""
        from bench.embedded.world import BY_NAME
        from bench.report_figures import pick_pair

        codes = split.attributes
        values = [BY_NAME["kind"].values[c] for c in codes["kind"]]
        pair = pick_pair(codes, ("kind", "colour", "count"))
        names = [
            " ".join(BY_NAME[a].values[codes[a][i]] for a in ("colour", "kind", "count"))
            for i in pair
        ]
        return "kind", values, pair, names

    def attribute_labels(self, split: Any) -> dict[str, list[str]]:
        """Every ground-truth attribute of a split's items: name -> value per item."""
        from bench.embedded.world import ATTRIBUTES

        codes = split.attributes
        return {a.name: [a.values[c] for c in codes[a.name]] for a in ATTRIBUTES}


class PaperBenchmark:
    """The paper's codecs, data and backbones (``bench.paper``), as the ``paper`` config says."""

    name = "paper"
    fixed_size = False  # unCLIP's 768 px images, AudioLDM's 5.12 s clips

    def __init__(self, settings: Mapping[str, Any], results: str | Path = RESULTS) -> None:
        self.settings = dict(settings)
        self.results = Path(results)

    @property
    def tiny(self) -> bool:
        return self.settings["weights"] == "tiny"

    def task(self, key: str) -> Task:
        from bench.paper.splits import paper_tasks

        tasks = paper_tasks()
        if key not in tasks:
            raise ValueError(f"unknown task {key!r}; tasks are {list(tasks)}")
        return tasks[key]

    def codec(self, modality: str) -> Any:
        return self._codec(modality)

    def codecs(self) -> dict[str, Any]:
        return {m: self.codec(m) for m in ("text", "image", "audio")}

    @cache  # noqa: B019 (one benchmark object per job; the codecs are large)
    def _codec(self, modality: str) -> Any:
        from bench.paper.codecs import load_codec

        return load_codec(modality, self.settings, self.results / "codecs")

    def backbones(self) -> Any:
        from bench.paper.backbones import PaperBackbones

        return PaperBackbones(
            weights=None if self.tiny else "registry",
            clap_entry=self.settings["clap_entry"],
            reference_dir=self.results / "reference",
        )

    def test_split(self, name: str) -> Any:
        from bench.paper.splits import PaperSplit

        return PaperSplit(self.results / "splits" / f"{name}.json")

    def figure_labels(self, split: Any) -> tuple[str, list[str], tuple[int, int], list[str]]:
        names = [" ".join(c.split()[:4]) for c in split.captions]
        pair = (0, min(1, len(split) - 1))
        return "test item", ["all"] * len(split), pair, [names[i] for i in pair]

    def attribute_labels(self, split: Any) -> dict[str, list[str]]:
        """None: the paper's data sets have no ground-truth attributes."""
        return {}


def open_benchmark(config: Mapping[str, Any], results: str | Path = RESULTS) -> Any:
    """The benchmark a resolved workflow config names."""
    if config["benchmark"] == "paper":
        return PaperBenchmark(config["paper"], results)
    return EmbeddedBenchmark(Path(results) / "embedded")
