"""The interface every method of the benchmark offers, and FlowBind behind it.

The benchmark treats FlowBind and each baseline alike: fit it on latents and pair tables,
translate any subset of modalities into any other, save and load it. A method is a ``Method``
subclass; the benchmark's registry (``bench.methods``) builds and loads them by name, so this
module knows of no baseline.

    method = FlowBindMethod(model={"hidden_dim": 128}, train={"steps": 1500})
    report = method.fit(latents, pairs, "results/train/flowbind")
    out = method.translate({"text": z_text}, ["image", "audio"])
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from flowbind import distributed
from flowbind.checkpoint import (
    CheckpointError,
    load_weights,
    read_json,
    read_model_config,
    save_model,
    write_json,
)
from flowbind.config import FlowBindConfig
from flowbind.data import Latents, PairTable
from flowbind.model import FlowBind
from flowbind.objective import ObjectiveConfig
from flowbind.training import TrainConfig, resolve_device, train

METHOD_FILE = "method.json"


@dataclass
class FitReport:
    """What fitting a method cost and used (the rows of the paper's Table 1).

    Attributes:
        method: the method's name.
        parameters: trainable parameters.
        wall_time_s: training wall-clock time in seconds.
        device: where it trained, e.g. "cpu" or the CUDA device name.
        steps: optimizer steps in total, over all stages.
        batch_size: ``TrainConfig.batch_size``: pairs per pair table per step, or per step
            in all with proportional batching.
        stages: number of training stages.
        joint: whether all modalities are trained together in one model.
        pairs: pair-table name (e.g. "text-image") -> pairs the method trained on.
    """

    method: str
    parameters: int
    wall_time_s: float
    device: str
    steps: int
    batch_size: int
    stages: int
    joint: bool
    pairs: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


class Method(ABC):
    """A trainable any-to-any translator between modality latents."""

    name: ClassVar[str]
    # False for a method whose ``fit`` loads released weights instead of training
    trainable: ClassVar[bool] = True

    @abstractmethod
    def fit(
        self, latents: Latents, pairs: Sequence[PairTable], out_dir: str | Path, progress: bool
    ) -> FitReport:
        """Train on raw latents and pair tables; write the trained method into ``out_dir``."""

    @abstractmethod
    def translate(
        self, sources: Mapping[str, Tensor], targets: Sequence[str], **solver: Any
    ) -> dict[str, Tensor]:
        """Raw latents of shape (N, D) per source -> raw latents of shape (N, D) per target.

        Args:
            sources: modality -> raw latents of shape (N, D), rows paired across sources.
            targets: the modalities to generate.
            **solver: ODE solver overrides (``flowbind.solver.SolverConfig`` fields), for the
                methods that integrate.

        Returns:
            target modality -> raw latents of shape (N, D).
        """

    @abstractmethod
    def num_parameters(self) -> int:
        """Trainable parameters."""

    def why_not(self, sources: Sequence[str], targets: Sequence[str]) -> str | None:
        """Why the method cannot translate ``sources`` into ``targets`` without guessing (a
        modality it never learnt, say); None when it can. The benchmark marks such a task
        unsupported instead of scoring it."""
        return None

    @classmethod
    @abstractmethod
    def load(cls, folder: str | Path) -> Method:
        """Restore a method that ``fit`` wrote into ``folder``."""


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else device.type


@dataclass(frozen=True)
class Stage:
    """One stage of a multi-stage training recipe.

    Attributes:
        name: its sub-folder of the run folder, e.g. "stage1".
        pairs: the pair tables it trains on.
        steps: its optimizer steps.
        prepare: called on the model before the stage starts, e.g. to switch its loss.
    """

    name: str
    pairs: Sequence[PairTable]
    steps: int
    prepare: Callable[[nn.Module], None] | None = None


def split_steps(steps: int, fraction: float) -> tuple[int, int]:
    """(first, second) stage steps: round(fraction * steps) first, each stage at least one."""
    if steps < 2:
        raise ValueError(f"a two-stage recipe needs train.steps >= 2, got {steps}")
    first = min(max(round(fraction * steps), 1), steps - 1)
    return first, steps - first


class FlowBindMethod(Method):
    """FlowBind: a learned shared anchor, one drift per modality, trained jointly in one stage.

    Baselines subclass it: they set ``name``, ``model_class`` or ``make_model``, the dataclass
    of their own settings ``options_class``, ``joint``, and ``usable_pairs``; a multi-stage
    recipe overrides ``fit`` with a call to ``fit_stages``.
    """

    name = "flowbind"
    model_class: ClassVar[type[nn.Module]] = FlowBind
    options_class: ClassVar[type | None] = None  # a dataclass of the method's own settings
    joint: ClassVar[bool] = True  # all modalities in one jointly trained model (Table 1)

    def __init__(
        self,
        model: Mapping[str, Any] | None = None,
        train: Mapping[str, Any] | None = None,
        objective: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.model_config = FlowBindConfig.from_dict(dict(model or {}))
        self.train_config = TrainConfig(
            **{**dict(train or {}), "objective": ObjectiveConfig(**dict(objective or {}))}
        )
        self.options = self.check_options(dict(options or {}))
        self.model: nn.Module | None = None
        # the modalities of each pair table the fit trained on; None: not known (not fitted,
        # or loaded from a method.json written before it was recorded)
        self.learned: list[list[str]] | None = None

    def check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The method's own settings with defaults filled in; raises ValueError naming a bad key."""
        if self.options_class is None:
            if options:
                raise ValueError(f"{self.name} takes no options, got {sorted(options)}")
            return options
        known = sorted(f.name for f in dataclasses.fields(self.options_class))
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"{self.name} options {unknown} are unknown; known: {known}")
        return dataclasses.asdict(self.options_class(**options))

    def make_model(
        self, config: FlowBindConfig, sized_for: FlowBindConfig | None = None
    ) -> nn.Module:
        """A new model of this method at the sizes of ``config``.

        ``sized_for``: the config whose FlowBind parameter count sizes the networks of a
        method matched to that budget (the baselines); None is ``config`` itself. FlowBind
        takes every size from ``config`` and ignores it. Counting costs against the number of
        modalities builds a model of K modalities sized for the three-modality config, so
        each network keeps its width and the recipe's own growth shows.
        """
        return self.model_class(config)

    def usable_pairs(self, pairs: Sequence[PairTable]) -> list[PairTable]:
        """The pair tables this method can learn from (FlowBind: all of them)."""
        return list(pairs)

    def build(self) -> nn.Module:
        """A new model at ``model_config``'s sizes, initialised from the training seed."""
        torch.manual_seed(self.train_config.seed)
        return self.make_model(self.model_config)

    def configure(self, pairs: Sequence[PairTable]) -> None:
        """Settings that depend on the training pairs, fixed before the model is built (none
        for FlowBind; CrossFlow records which pairs have data)."""

    def training_stages(self, used: Sequence[PairTable]) -> list[Stage]:
        """The stages ``fit`` trains through on the usable pair tables ``used``: FlowBind has
        one; a multi-stage recipe returns each with its pairs, steps and loss switch."""
        return [Stage("", list(used), self.train_config.steps)]

    def checked_pairs(self, pairs: Sequence[PairTable]) -> list[PairTable]:
        """``usable_pairs(pairs)``; ValueError if the method can use none of them."""
        used = self.usable_pairs(pairs)
        if not used:
            raise ValueError(
                f"{self.name} can use none of the pair tables {[p.name for p in pairs]}"
            )
        return used

    def fit(
        self,
        latents: Latents,
        pairs: Sequence[PairTable],
        out_dir: str | Path,
        progress: bool = True,
    ) -> FitReport:
        """Train on ``pairs`` into ``out_dir`` (checkpoints, loss.csv, model/, method.json),
        through ``training_stages``: one stage in ``out_dir`` itself, several each in
        ``out_dir/<stage.name>`` (``fit_stages``)."""
        out_dir = Path(out_dir)
        self.configure(pairs)
        used = self.checked_pairs(pairs)
        self.learned = [list(p.modalities) for p in used]
        stages = self.training_stages(used)
        if len(stages) > 1:
            return self.fit_stages(latents, used, stages, out_dir, progress)
        (stage,) = stages
        self.model = self.build()
        if stage.prepare is not None:
            stage.prepare(self.model)
        config = dataclasses.replace(self.train_config, steps=stage.steps)
        result = train(self.model, latents, stage.pairs, config, out_dir, progress=progress)
        self.model = result.model.cpu().eval()
        self.write_meta(out_dir)
        return self.report(used, wall_time_s=result.wall_time_s, steps=result.steps)

    def fit_stages(
        self,
        latents: Latents,
        used: Sequence[PairTable],
        stages: Sequence[Stage],
        out_dir: str | Path,
        progress: bool = True,
    ) -> FitReport:
        """Train one model through ``stages`` in turn, each into ``out_dir/<stage.name>``.

        The weights carry over from stage to stage; each stage restarts Adam and its warm-up,
        as a new training stage does. The final model goes to ``out_dir/model``.
        """
        out_dir = Path(out_dir)
        self.model = self.build()
        wall_time_s = 0.0
        for stage in stages:
            if stage.prepare is not None:
                stage.prepare(self.model)
            config = dataclasses.replace(self.train_config, steps=stage.steps)
            result = train(
                self.model, latents, stage.pairs, config, out_dir / stage.name, progress=progress
            )
            self.model, wall_time_s = result.model, wall_time_s + result.wall_time_s
        self.model = self.model.cpu().eval()
        if distributed.writes_files():  # under torchrun rank 0 alone, as train() does
            save_model(self.model, out_dir / "model")
        self.write_meta(out_dir)
        steps = sum(stage.steps for stage in stages)
        return self.report(used, wall_time_s=wall_time_s, steps=steps, stages=len(stages))

    def report(
        self,
        used: Sequence[PairTable],
        wall_time_s: float,
        steps: int,
        stages: int = 1,
    ) -> FitReport:
        """The FitReport of a finished fit that trained on the pair tables ``used``."""
        return FitReport(
            method=self.name,
            parameters=self.num_parameters(),
            wall_time_s=round(wall_time_s, 2),
            device=_device_name(resolve_device(self.train_config.device)),
            steps=steps,
            batch_size=self.train_config.batch_size,
            stages=stages,
            joint=self.joint,
            pairs={p.name: len(p) for p in used},
        )

    def write_meta(self, out_dir: Path) -> None:
        """Write method.json, from which ``load`` rebuilds the method (weights: out_dir/model).

        Under torchrun only rank 0 writes: another rank writing after rank 0 has published the
        run would race the move of the folder.
        """
        if not distributed.writes_files():
            return
        meta = {
            "method": self.name,
            "train": {k: v for k, v in self.train_config.to_dict().items() if k != "objective"},
            "objective": asdict(self.train_config.objective),
            "options": self.options,
        }
        if self.learned is not None:
            meta["learned"] = self.learned
        write_json(out_dir / METHOD_FILE, meta)

    def why_not(self, sources: Sequence[str], targets: Sequence[str]) -> str | None:
        """A modality in none of the pair tables the fit trained on has untrained networks:
        translating from or into it would be a guess."""
        if self.learned is None:
            return None
        seen = {m for group in self.learned for m in group}
        missing = [m for m in dict.fromkeys([*sources, *targets]) if m not in seen]
        if not missing:
            return None
        tables = ", ".join("-".join(group) for group in self.learned)
        return (
            f"{' and '.join(missing)} appear{'s' if len(missing) == 1 else ''} in none of the "
            f"pair tables {self.name} learnt from ({tables}), so its networks for "
            f"{' and '.join(missing)} never trained"
        )

    def translate(
        self, sources: Mapping[str, Tensor], targets: Sequence[str], **solver: Any
    ) -> dict[str, Tensor]:
        """Translate with the trained model (RuntimeError before ``fit`` or ``load``).

        Args:
            sources: modality -> raw latents of shape (N, D), rows paired across sources.
            targets: the modalities to generate.
            **solver: overrides of ``method``, ``steps``, ``atol``, ``rtol``.

        Returns:
            target modality -> raw latents of shape (N, D).
        """
        if self.model is None:
            raise RuntimeError(f"{self.name} is not trained; call fit() or load() first")
        return self.model.translate(sources, targets, **solver)

    def num_parameters(self) -> int:
        """Trainable parameters; before ``fit``, of a model built on the meta device."""
        model = self.model
        if model is None:
            with torch.device("meta"):
                model = self.make_model(self.model_config)
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    @classmethod
    def load(cls, folder: str | Path) -> FlowBindMethod:
        """Restore a method from method.json and model/ in ``folder`` (CheckpointError if not)."""
        folder = Path(folder)
        meta_path = folder / METHOD_FILE
        if not meta_path.is_file():
            raise CheckpointError(f"{meta_path} is missing; train the method into {folder} first")
        meta = read_json(meta_path)
        if meta.get("method") != cls.name:
            raise CheckpointError(f"{folder} holds method {meta.get('method')!r}, not {cls.name!r}")
        config = read_model_config(folder / "model")
        method = cls(config.to_dict(), meta["train"], meta["objective"], meta.get("options"))
        method.learned = meta.get("learned")
        method.model = method.make_model(config)
        load_weights(method.model, folder / "model" / "model.safetensors")
        method.model.eval()
        return method
