"""ODE integration of a drift field with torchdiffeq.

Fixed-grid solvers (euler, midpoint, rk4) take ``steps`` equal steps between the two times;
the public code uses Euler with 10 steps per direction, so a one-to-one translation costs
20 drift evaluations. dopri5 is adaptive and uses ``atol`` / ``rtol`` instead of ``steps``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from flowbind.config import SOLVERS

Drift = Callable[[Tensor, Tensor], Tensor]


def integrate(
    drift: Drift,
    x: Tensor,
    t_start: float,
    t_end: float,
    *,
    method: str = "euler",
    steps: int = 10,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> Tensor:
    """Solve dx/dt = drift(x, t) from t_start to t_end, batched over rows.

    Args:
        drift: callable (x of shape (N, D), t of shape (N,)) -> velocity of shape (N, D).
        x: the state at t_start, shape (N, D).
        t_start: initial time (may exceed t_end: integration runs backwards).
        t_end: final time.
        method: one of "euler", "midpoint", "rk4", "dopri5".
        steps: number of equal steps for the fixed-grid methods.
        atol: absolute tolerance of dopri5.
        rtol: relative tolerance of dopri5.

    Returns:
        The state at t_end, shape (N, D).
    """
    # Imported here: torchdiffeq pulls in scipy.integrate, about half a second for every
    # workflow job that imports flowbind but never integrates.
    from torchdiffeq import odeint

    if method not in SOLVERS:
        raise ValueError(f"ODE solver {method!r} is unknown; choose one of {SOLVERS}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    assert x.ndim == 2, f"x must have shape (N, D), got {tuple(x.shape)}"
    n = x.shape[0]

    def func(t: Tensor, state: Tensor) -> Tensor:
        return drift(state, t.to(state.dtype).expand(n))

    if method == "dopri5":
        grid = torch.tensor([t_start, t_end], dtype=torch.float64, device=x.device)
        options = {"atol": atol, "rtol": rtol}
    else:
        grid = torch.linspace(t_start, t_end, steps + 1, dtype=torch.float64, device=x.device)
        options = {}
    return odeint(func, x, grid.to(x.dtype), method=method, **options)[-1]
