"""Drift fields with closed-form flows, integrated by every solver."""

import math

import pytest
import torch

from flowbind.solver import integrate, solver_options

FIXED_GRID = ("euler", "midpoint", "rk4")
ALL = (*FIXED_GRID, "dopri5")


def x0() -> torch.Tensor:
    return torch.randn(5, 3, dtype=torch.float64)


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize(("t_start", "t_end"), [(0.0, 1.0), (1.0, 0.0), (0.2, 0.7)])
def test_constant_drift_moves_by_c_times_duration(method, t_start, t_end):
    c = torch.tensor([0.5, -2.0, 3.0], dtype=torch.float64)
    x = x0()
    out = integrate(lambda x, t: c.expand_as(x), x, t_start, t_end, method=method, steps=7)
    torch.testing.assert_close(out, x + c * (t_end - t_start), rtol=0, atol=1e-10)


# Relative error allowed at 200 steps: Euler is first order (error about a^2 h / 2 = 4.2e-3).
EXP_RTOL = {"euler": 5e-3, "midpoint": 1e-4, "rk4": 1e-8, "dopri5": 1e-8}


@pytest.mark.parametrize("method", ALL)
def test_linear_field_matches_exponential(method):
    a, x = -1.3, x0()
    out = integrate(
        lambda x, t: a * x, x, 0.0, 1.0, method=method, steps=200, atol=1e-12, rtol=1e-12
    )
    torch.testing.assert_close(out, x * math.exp(a), rtol=EXP_RTOL[method], atol=0)


# One step of each fixed-grid method on dx/dt = a x multiplies x by a truncated Taylor series.
TAYLOR_TERMS = {"euler": 2, "midpoint": 3, "rk4": 5}


@pytest.mark.parametrize("method", FIXED_GRID)
def test_fixed_grid_methods_give_their_exact_discrete_solution(method):
    a, steps, x = 2.0, 10, x0()
    h = 1.0 / steps
    growth = sum((a * h) ** k / math.factorial(k) for k in range(TAYLOR_TERMS[method])) ** steps
    out = integrate(lambda x, t: a * x, x, 0.0, 1.0, method=method, steps=steps)
    torch.testing.assert_close(out, x * growth, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ("midpoint", "rk4", "dopri5"))
def test_time_dependent_drift_integrates_exactly(method):
    # dx/dt = t  =>  x(1) = x(0) + 1/2; midpoint and RK4 are exact for a drift linear in t.
    x = x0()
    out = integrate(lambda x, t: t[:, None].expand_as(x), x, 0.0, 1.0, method=method, steps=4)
    torch.testing.assert_close(out, x + 0.5, rtol=0, atol=1e-9)


def test_euler_on_time_dependent_drift_is_the_left_riemann_sum():
    steps, x = 10, x0()
    left_sum = sum(k / steps for k in range(steps)) / steps  # 0.45, not the exact 0.5
    out = integrate(lambda x, t: t[:, None].expand_as(x), x, 0.0, 1.0, method="euler", steps=steps)
    torch.testing.assert_close(out, x + left_sum, rtol=0, atol=1e-12)


def test_euler_costs_one_drift_evaluation_per_step():
    calls = []

    def drift(x, t):
        calls.append(t.clone())
        return torch.zeros_like(x)

    integrate(drift, x0(), 1.0, 0.0, method="euler", steps=10)
    assert len(calls) == 10
    assert all(c.shape == (5,) for c in calls)
    assert calls[0][0].item() == pytest.approx(1.0) and calls[-1][0].item() == pytest.approx(0.1)


def test_unknown_solver_is_refused_by_name():
    with pytest.raises(ValueError, match="'heun'.*euler"):
        integrate(lambda x, t: x, x0(), 0.0, 1.0, method="heun")
    with pytest.raises(ValueError, match="unknown ODE solver options \\['step'\\]"):
        integrate(lambda x, t: x, x0(), 0.0, 1.0, step=3)
    with pytest.raises(ValueError, match="integer >= 1, got 2.0"):
        integrate(lambda x, t: x, x0(), 0.0, 1.0, steps=2.0)


def test_solver_options_fill_the_defaults_in_one_place():
    assert solver_options() == {"method": "euler", "steps": 10, "atol": 1e-5, "rtol": 1e-5}
    assert solver_options(steps=4)["steps"] == 4 and solver_options(steps=4)["method"] == "euler"
