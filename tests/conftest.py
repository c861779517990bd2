"""Shared test settings: fixed seeds and a single-threaded, deterministic CPU."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
