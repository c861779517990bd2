"""The method registry: every method of the benchmark by name, built and loaded on demand.

    method = build_method("codi", model={"hidden_dim": 128}, train={"steps": 1500})
    again = load_method("results/train/codi/main/seed0")

Adding a method is one module with a ``flowbind.method.Method`` subclass plus one line in
``METHODS``; the workflow config's ``methods`` list is checked against this registry.

``OFFICIAL`` names the adapters of the authors' released baseline models
(``baselines.official``). They are not trained and translate no latents: they run the official
code on the test items and write the generation layout themselves, so the workflow gives them
a generation job and no training job, and a task they have no call for is a blank table cell.

    adapter = build_adapter("omniflow_official", {"checkpoint": "ckpts/v0.5"}, fixed_size=False)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported on use: the workflow checks names against METHODS
    from flowbind.method import Method

# name -> "module:Class"; imported on use so that a method's dependencies stay optional.
METHODS: dict[str, str] = {
    "flowbind": "flowbind.method:FlowBindMethod",
    "text_anchor": "baselines.text_anchor:TextAnchorMethod",
    "codi": "baselines.codi:CoDiMethod",
    "omniflow": "baselines.omniflow:OmniFlowMethod",
    "crossflow": "baselines.crossflow:CrossFlowMethod",
    # the authors' released weights, loaded instead of trained (the paper benchmark's latents)
    "flowbind_released": "bench.paper.released:FlowBindReleasedMethod",
}


# Methods whose fit loads released weights instead of training: they have no budget or data curve.
LOADED = frozenset({"flowbind_released"})

# name -> "module:Class" of an OfficialAdapter; options are the config's baselines.<name>.
OFFICIAL: dict[str, str] = {
    "codi_official": "baselines.official.codi:CoDiAdapter",
    "omniflow_official": "baselines.official.omniflow:OmniFlowAdapter",
}


def is_official(name: str) -> bool:
    """Whether ``name`` is a released baseline model run through its adapter."""
    return name in OFFICIAL


def trained_from_scratch(methods: Sequence[str]) -> list[str]:
    """The methods of ``methods``, in order, that train from initial weights: neither released
    baseline models nor methods whose fit loads released weights (they have budget curves)."""
    return [m for m in methods if not is_official(m) and m not in LOADED]


def build_adapter(name: str, options: Mapping[str, Any], fixed_size: bool = True) -> Any:
    """The adapter registered as ``name``, built from its config options.

    Args:
        name: a key of ``OFFICIAL``.
        options: the adapter's constructor arguments (the config's ``baselines.<name>``).
        fixed_size: outputs are brought to the embedded benchmark's image side and clip
            length; False keeps the model's own (the paper benchmark).
    """
    if name not in OFFICIAL:
        raise ValueError(f"unknown released baseline {name!r}; known: {sorted(OFFICIAL)}")
    module, cls = OFFICIAL[name].split(":")
    sizes = {} if fixed_size else {"image_size": None, "audio_length": None}
    return getattr(importlib.import_module(module), cls)(**{**options, **sizes})


def unavailable_official(config: Mapping[str, Any]) -> list[str]:
    """One message per released baseline of ``config`` whose package or weights are missing,
    found without importing the official code (the workflow checks this before any job)."""
    problems = []
    for name in config["methods"]:
        if is_official(name):
            problem = build_adapter(name, config.get("baselines", {}).get(name, {})).unavailable()
            if problem:
                problems.append(f"{problem} (its options: baselines.{name} of the config)")
    return problems


def method_class(name: str) -> type[Method]:
    """The Method subclass registered under ``name``; ValueError listing the names if none is."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {sorted(METHODS)}")
    module, cls = METHODS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_method(name: str, **options: Any) -> Method:
    """A new, untrained method by name; ``options`` go to its constructor."""
    return method_class(name)(**options)


def stage_count(name: str, options: Mapping[str, Any]) -> int:
    """How many training stages ``name``'s fit runs with its config ``options``, known without
    importing it (the workflow plans with it; tests/test_curves.py checks it against every
    method's training_stages)."""
    if name == "codi":
        return 2
    if name == "omniflow" and options.get("pretrain_fraction", 0.0) > 0:
        return 2
    return 1


def load_method(folder: str | Path) -> Method:
    """Restore whichever method was trained into ``folder``."""
    from flowbind.checkpoint import CheckpointError, read_json
    from flowbind.method import METHOD_FILE

    path = Path(folder) / METHOD_FILE
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; train a method into {folder} first")
    return method_class(read_json(path)["method"]).load(folder)
