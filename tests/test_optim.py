"""flowbind.optim.Adam against torch.optim.Adam: the same parameters, bit for bit."""

import copy
import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from flowbind.optim import Adam


def models() -> tuple[nn.Module, nn.Module]:
    """Two identical networks; the last layer never gets a gradient (Adam must skip it)."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(5, 7), nn.LayerNorm(7), nn.SiLU(), nn.Linear(7, 3), nn.Linear(3, 2)
    )
    return model, copy.deepcopy(model)


def run_steps(model, optimizer, steps, start=0, lr=3e-3):
    for step in range(start, start + steps):
        optimizer.param_groups[0]["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / 40))
        x = torch.randn(16, 5, generator=torch.Generator().manual_seed(step))
        loss = model[:4](x).pow(2).mean() + 0.1 * model[0].weight.abs().sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("foreach", [True, False], ids=["foreach", "single-tensor"])
def test_steps_equal_torch_adam_bit_for_bit(foreach):
    ours_model, torch_model = models()
    ours = Adam(ours_model.parameters(), lr=3e-3)
    reference = torch.optim.Adam(torch_model.parameters(), lr=3e-3, foreach=foreach)
    for chunk in range(4):
        run_steps(ours_model, ours, 10, start=10 * chunk)
        run_steps(torch_model, reference, 10, start=10 * chunk)
        for (name, a), b in zip(
            ours_model.named_parameters(), torch_model.parameters(), strict=True
        ):
            assert torch.equal(a, b), (chunk, name)
    assert ours_model[4].weight.grad is None and ours_model[4].weight not in ours.state


def test_state_dict_moves_between_torch_adam_and_ours():
    ours_model, torch_model = models()
    reference = torch.optim.Adam(torch_model.parameters(), lr=3e-3, foreach=True)
    run_steps(torch_model, reference, 7)
    ours_model.load_state_dict(torch_model.state_dict())
    ours = Adam(ours_model.parameters(), lr=1.0)
    ours.load_state_dict(reference.state_dict())
    assert ours.param_groups[0]["lr"] == reference.param_groups[0]["lr"]
    run_steps(ours_model, ours, 9, start=7)
    run_steps(torch_model, reference, 9, start=7)
    for a, b in zip(ours_model.parameters(), torch_model.parameters(), strict=True):
        assert torch.equal(a, b)
    # ... and back: torch.optim.Adam accepts our state dict.
    again = torch.optim.Adam(torch_model.parameters(), lr=1.0, foreach=True)
    again.load_state_dict(ours.state_dict())
    saved = ours.state_dict()["state"]
    assert sorted(again.state_dict()["state"]) == sorted(saved)
    for index, entry in again.state_dict()["state"].items():
        for key, value in entry.items():
            assert torch.equal(value, saved[index][key]), (index, key)


def test_a_state_of_another_model_is_refused():
    small = Adam(nn.Linear(3, 2).parameters())
    big_model = nn.Linear(4, 2)
    big = Adam(big_model.parameters())
    big_model(torch.randn(2, 4)).sum().backward()
    big.step()
    with pytest.raises(ValueError, match="has shape"):
        small.load_state_dict(big.state_dict())
    with pytest.raises(ValueError, match="parameters; this model has 1 group of 1"):
        Adam([nn.Parameter(torch.zeros(2))]).load_state_dict(big.state_dict())
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])


def test_training_in_a_fresh_process_does_not_import_dynamo():
    code = (
        "import sys, numpy as np, torch\n"
        "from bench.embedded.nets import fit\n"
        "net = torch.nn.Linear(3, 1)\n"
        "x = torch.randn(8, 3)\n"
        "fit(net, lambda rows: net(x[rows]).pow(2).mean(), 8, 3, 4, 1e-2, 0, 't', False)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
