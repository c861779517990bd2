"""The method registry: every method of the benchmark by name, built and loaded on demand.

    method = build_method("codi", model={"hidden_dim": 128}, train={"steps": 1500})
    again = load_method("results/train/codi/main/seed0")

Adding a method is one module with a ``flowbind.method.Method`` subclass plus one line in
``METHODS``; the workflow config's ``methods`` list is checked against this registry.
"""

from __future__ import annotations

import importlib
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


def method_class(name: str) -> type[Method]:
    """The Method subclass registered under ``name``; ValueError listing the names if none is."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {sorted(METHODS)}")
    module, cls = METHODS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_method(name: str, **options: Any) -> Method:
    """A new, untrained method by name; ``options`` go to its constructor."""
    return method_class(name)(**options)


def load_method(folder: str | Path) -> Method:
    """Restore whichever method was trained into ``folder``."""
    from flowbind.checkpoint import CheckpointError, read_json
    from flowbind.method import METHOD_FILE

    path = Path(folder) / METHOD_FILE
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; train a method into {folder} first")
    return method_class(read_json(path)["method"]).load(folder)
