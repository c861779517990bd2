"""A training checkpoint's optimizer state: it round-trips, and another model's is refused."""

import pytest
import torch
from torch import nn

from flowbind.checkpoint import CheckpointError
from flowbind.train_state import optimizer_tensors, restore_optimizer


def stepped_adam(model: nn.Module) -> torch.optim.Adam:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(5, model.in_features)).square().sum().backward()
        optimizer.step()
    return optimizer


def test_the_state_round_trips_and_the_next_step_is_the_same():
    model = nn.Linear(4, 3)
    optimizer = stepped_adam(model)
    tensors, groups = optimizer_tensors(optimizer)
    tensors = {k: v.clone() for k, v in tensors.items()}  # as read back from the file
    twin = nn.Linear(4, 3)
    twin.load_state_dict(model.state_dict())
    again = torch.optim.Adam(twin.parameters(), lr=1.0, fused=True)
    restore_optimizer(again, tensors, groups)
    assert again.param_groups[0]["lr"] == 1e-2  # the saved group, not the new one
    x = torch.randn(5, 4)
    for m, opt in ((model, optimizer), (twin, again)):
        opt.zero_grad()
        m(x).square().sum().backward()
        opt.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_state_of_another_model_is_refused():
    tensors, groups = optimizer_tensors(stepped_adam(nn.Linear(4, 3)))
    other = torch.optim.Adam(nn.Linear(5, 3).parameters(), fused=True)
    with pytest.raises(CheckpointError, match=r"exp_avg of parameter 0 has shape \(3, 4\)"):
        restore_optimizer(other, tensors, groups)
    fewer = torch.optim.Adam([nn.Parameter(torch.zeros(3, 4))], fused=True)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        restore_optimizer(fewer, tensors, groups)
