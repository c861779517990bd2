"""Checks of the numbers in the library's settings: whole counts and finite reals in range.

Every settings dataclass (FlowBindConfig, TrainConfig, ObjectiveConfig, SolverConfig) checks
its fields here, so that ``steps=60.0`` or ``lr=float("inf")`` stops at construction with the
field's name instead of crashing inside a loop or training on a NaN loss.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def count_problem(name: str, value: Any, minimum: int) -> str | None:
    """Why ``value`` is not an integer >= ``minimum`` (bools and 60.0 are not), or None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return f"{name} must be an integer >= {minimum}, got {value!r}"
    if value < minimum:
        return f"{name} must be >= {minimum}, got {value}"
    return None


def real_problem(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> str | None:
    """Why ``value`` is not a finite number in the interval from ``low`` to ``high``, or None.

    ``low_open`` / ``high_open`` exclude the bound itself; None leaves that side unbounded.
    """
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return f"{name} must be a finite number in {interval}, got {value!r}"
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        return f"{name} must lie in {interval}, got {value}"
    return None


def problems_of(*found: str | None) -> list[str]:
    """The problems found, dropping the Nones of the checks that passed."""
    return [p for p in found if p is not None]
