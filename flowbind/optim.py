"""Adam, step for step the arithmetic of ``torch.optim.Adam``, without ``torch.optim``.

``torch.optim.Optimizer`` imports ``torch._dynamo`` the first time an optimizer is built or
stepped: about 1.5 s of CPU in every process that trains, more than a short training job of
the tiny workflow spends on its steps. This class keeps what the suite uses of Adam (one
parameter group, no weight decay, no AMSGrad) and performs the same tensor operations in the
same order as ``torch.optim.Adam``'s for-each path, so that the parameters after every step
are bit-identical (tests/test_optim.py checks this against ``torch.optim.Adam``). Its
``state_dict`` has ``torch.optim.Adam``'s layout, so checkpoints load either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

# torch.optim.Adam's options that this class fixes; kept in state_dict for compatibility.
_FIXED = {
    "weight_decay": 0.0,
    "amsgrad": False,
    "maximize": False,
    "foreach": True,
    "capturable": False,
    "differentiable": False,
    "fused": None,
    "decoupled_weight_decay": False,
}


class Adam:
    """Adam (Kingma and Ba, 2015) over one group of parameters; ``param_groups[0]["lr"]`` may
    be changed between steps, as with ``torch.optim``."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        params = list(params)
        if not params:
            raise ValueError("Adam got an empty parameter list")
        if not all(isinstance(p, Tensor) for p in params):
            raise TypeError("Adam takes an iterable of tensors (model.parameters())")
        if lr < 0.0 or eps < 0.0 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}")
        self.param_groups: list[dict[str, Any]] = [
            {"params": params, "lr": lr, "betas": tuple(betas), "eps": eps, **_FIXED}
        ]
        self.state: dict[Tensor, dict[str, Tensor]] = {}

    @property
    def params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_().zero_()

    def _state(self, p: Tensor) -> dict[str, Tensor]:
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {
                "step": torch.tensor(0.0, dtype=torch.float32),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return state

    @torch.no_grad()
    def step(self) -> None:
        group = self.param_groups[0]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        params = [p for p in self.params if p.grad is not None]
        if not params:
            return
        if any(p.grad.is_sparse for p in params):
            raise RuntimeError("Adam does not support sparse gradients")
        grads = [p.grad for p in params]
        states = [self._state(p) for p in params]
        steps = [s["step"] for s in states]
        exp_avgs = [s["exp_avg"] for s in states]
        exp_avg_sqs = [s["exp_avg_sq"] for s in states]
        # As torch.optim.Adam's _multi_tensor_adam (capturable=False), grouped by device/dtype
        # there; the for-each ops below work per tensor, so grouping changes no number.
        torch._foreach_add_(steps, torch.tensor(1.0), alpha=1.0)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        bias_correction1 = [1 - beta1 ** s.item() for s in steps]
        bias_correction2 = [1 - beta2 ** s.item() for s in steps]
        step_size = [(lr / bc) * -1 for bc in bias_correction1]
        bias_correction2_sqrt = [bc**0.5 for bc in bias_correction2]
        denom = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(params, exp_avgs, denom, step_size)

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim.Adam``'s layout: parameters by index, one group."""
        index = {p: i for i, p in enumerate(self.params)}
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        group["params"] = list(range(len(self.params)))
        return {
            "state": {index[p]: dict(s) for p, s in self.state.items()},
            "param_groups": [group],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state written by this class or by ``torch.optim.Adam`` (one group)."""
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError(
                f"optimizer state has {len(groups)} group(s) and "
                f"{sum(len(g['params']) for g in groups)} parameters; this model has 1 group "
                f"of {len(self.params)}"
            )
        for key, value in _FIXED.items():
            if key in groups[0] and key != "foreach" and groups[0][key] != value:
                raise ValueError(
                    f"optimizer state has {key}={groups[0][key]!r}; Adam here has {value!r}"
                )
        positions = {index: i for i, index in enumerate(groups[0]["params"])}
        state: dict[Tensor, dict[str, Tensor]] = {}
        for index, entry in state_dict["state"].items():
            p = self.params[positions[int(index)]]
            for key in ("exp_avg", "exp_avg_sq"):
                if entry[key].shape != p.shape:
                    raise ValueError(
                        f"optimizer state {key} of parameter {index} has shape "
                        f"{tuple(entry[key].shape)}; the parameter has {tuple(p.shape)}"
                    )
            state[p] = {
                "step": entry["step"].detach().to(torch.float32, copy=True).cpu(),
                "exp_avg": entry["exp_avg"].detach().to(p.device, p.dtype, copy=True),
                "exp_avg_sq": entry["exp_avg_sq"].detach().to(p.device, p.dtype, copy=True),
            }
        self.state = state
        self.param_groups[0].update(
            lr=groups[0]["lr"], betas=tuple(groups[0]["betas"]), eps=groups[0]["eps"]
        )
