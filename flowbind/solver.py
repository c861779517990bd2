"""ODE integration of a drift field with torchdiffeq.

Fixed-grid solvers (euler, midpoint, rk4) take ``steps`` equal steps between the two times;
the public code uses Euler with 10 steps per direction, so a one-to-one translation costs
20 drift evaluations. dopri5 is adaptive and uses ``atol`` / ``rtol`` instead of ``steps``.

The solver is a generation setting, not part of a model: ``solver_options`` is the one place
where the defaults meet what a translation asks for, for FlowBind and every baseline alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from flowbind.checks import count_problem, problems_of, real_problem

SOLVERS = ("euler", "midpoint", "rk4", "dopri5")

Drift = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class SolverConfig:
    """How a translation integrates the drifts.

    Attributes:
        method: one of SOLVERS.
        steps: equal steps per direction of the fixed-grid methods (the public code: Euler, 10).
        atol: absolute tolerance of dopri5.
        rtol: relative tolerance of dopri5.
    """

    method: str = "euler"
    steps: int = 10
    atol: float = 1e-5
    rtol: float = 1e-5

    def __post_init__(self) -> None:
        if self.method not in SOLVERS:
            raise ValueError(f"ODE solver {self.method!r} is unknown; choose one of {SOLVERS}")
        problems = problems_of(
            count_problem("steps", self.steps, 1),
            *(real_problem(n, getattr(self, n), 0, low_open=True) for n in ("atol", "rtol")),
        )
        if problems:
            raise ValueError("invalid ODE solver settings: " + "; ".join(problems))


def solver_config(**requested: Any) -> SolverConfig:
    """SolverConfig's defaults overridden by ``requested``: the one merge every translation uses.

    Raises:
        ValueError: naming an unknown option or a bad value.
    """
    known = [f.name for f in dataclasses.fields(SolverConfig)]
    unknown = sorted(set(requested) - set(known))
    if unknown:
        raise ValueError(f"unknown ODE solver options {unknown}; known: {known}")
    return SolverConfig(**requested)


def solver_options(**requested: Any) -> dict[str, Any]:
    """``solver_config`` as the keyword arguments ``integrate`` takes."""
    return dataclasses.asdict(solver_config(**requested))


def integrate(drift: Drift, x: Tensor, t_start: float, t_end: float, **solver: Any) -> Tensor:
    """Solve dx/dt = drift(x, t) from t_start to t_end, batched over rows.

    Args:
        drift: callable (x of shape (N, D), t of shape (N,)) -> velocity of shape (N, D).
        x: the state at t_start, shape (N, D).
        t_start: initial time (may exceed t_end: integration runs backwards).
        t_end: final time.
        **solver: SolverConfig fields (``method``, ``steps``, ``atol``, ``rtol``); the ones not
            given take SolverConfig's defaults.

    Returns:
        The state at t_end, shape (N, D).
    """
    # Imported here: torchdiffeq pulls in scipy.integrate, about half a second for every
    # workflow job that imports flowbind but never integrates.
    from torchdiffeq import odeint

    options = solver_config(**solver)
    assert x.ndim == 2, f"x must have shape (N, D), got {tuple(x.shape)}"
    n = x.shape[0]

    def func(t: Tensor, state: Tensor) -> Tensor:
        return drift(state, t.to(state.dtype).expand(n))

    if options.method == "dopri5":
        grid = torch.tensor([t_start, t_end], dtype=torch.float64, device=x.device)
        extra = {"atol": options.atol, "rtol": options.rtol}
    else:
        grid = torch.linspace(
            t_start, t_end, options.steps + 1, dtype=torch.float64, device=x.device
        )
        extra = {}
    return odeint(func, x, grid.to(x.dtype), method=options.method, **extra)[-1]
