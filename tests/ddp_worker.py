"""One training run of a tiny FlowBind, alone or as one rank under torchrun (imported by no
test; tests/test_distributed.py runs it):

    python tests/ddp_worker.py OUT STEPS [BATCHING [PATH]]
    torchrun --standalone --nproc-per-node 2 tests/ddp_worker.py OUT STEPS [BATCHING [PATH]]

PATH is "plain" (the default) or "fast" (TrainConfig.fast).

Writes what ``train`` writes into OUT, and OUT/rows.<rank>.json: per step, the sums of the
rows this rank's text drift was given, so a test can tell which rows each rank drew.
"""

import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from tiny_pairs import tiny_pairs  # noqa: E402

from flowbind import FlowBind, FlowBindConfig, TrainConfig, train  # noqa: E402

out, steps = Path(sys.argv[1]), int(sys.argv[2])
batching = sys.argv[3] if len(sys.argv) > 3 else "per_table"
fast = len(sys.argv) > 4 and sys.argv[4] == "fast"
torch.set_num_threads(1)
latents, pairs = tiny_pairs(dim=8)
torch.manual_seed(0)
model = FlowBind(FlowBindConfig(latent_dim=8, hidden_dim=16, depth=1, encoder_hidden_dim=16))
seen: list[list[float]] = []
drift_forward = model.drifts["text"].forward


def recording(x_t, t):
    seen.append([float(x.sum()) for x in x_t])
    return drift_forward(x_t, t)


model.drifts["text"].forward = recording
config = TrainConfig(
    steps=steps, batch_size=7, batching=batching, lr=1e-2, warmup_steps=2, log_every=2,
    checkpoint_every=4, seed=3, device="cpu", fast=fast,
)  # fmt: skip
train(model, latents, pairs, config, out, progress=False)
rank = int(os.environ.get("RANK", "0"))
(out / f"rows.{rank}.json").write_text(json.dumps(seen))
