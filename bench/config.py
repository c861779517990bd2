"""Validation of the workflow's configuration against its JSON schema, with defaults filled in.

Errors name the offending key as a dotted path (``train.steps``, ``ablations.solvers[2].method``)
and say what was expected, before any job runs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from bench.methods import METHODS


class ConfigError(ValueError):
    """The workflow configuration is invalid."""


def _with_defaults(cls):
    check_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(cls, {"properties": set_defaults})


def key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def validate_config(config: Mapping[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """The config with defaults filled in; raises ConfigError naming every bad key."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    filled = copy.deepcopy(dict(config))
    validator = _with_defaults(Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  {key_path(e.absolute_path)}: {e.message}" for e in errors]
        raise ConfigError(
            "invalid workflow configuration:\n"
            + "\n".join(lines)
            + f"\nSee {schema_path} for every key, its meaning and its default."
        )
    problems = [
        f"  methods[{i}]: {name!r} is not a registered method; known: {sorted(METHODS)}"
        for i, name in enumerate(filled["methods"])
        if name not in METHODS
    ]
    problems += [
        f"  baselines.{name}: {name!r} is not a registered method; known: {sorted(METHODS)}"
        for name in filled.get("baselines", {})
        if name not in METHODS
    ]
    if filled["train"]["checkpoint_every"] % filled["train"]["log_every"]:
        problems.append(
            "  train.checkpoint_every: must be a multiple of "
            f"train.log_every ({filled['train']['log_every']})"
        )
    if problems:
        raise ConfigError("invalid workflow configuration:\n" + "\n".join(problems))
    return _sorted(filled)


def _sorted(value: Any) -> Any:
    """Mappings with sorted keys, recursively: Snakemake compares rule params by their text,
    so the same config written in another key order must not look like a change."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
