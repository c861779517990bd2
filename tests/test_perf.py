"""The benchmarks' arithmetic (perf/): FLOPs counted from layer shapes, and the training
benchmark's CSV row. Speeds themselves are measured by running the scripts, not here."""

import csv

import pytest
from torch import nn

from bench.flops import bf16_peak, step_flops, translation_flops
from flowbind import FlowBind, FlowBindConfig
from flowbind.objective import ObjectiveConfig
from perf.scaling import rows as scaling_rows

CONFIG = FlowBindConfig(latent_dim=8, hidden_dim=16, depth=2, encoder_hidden_dim=16)


def linear_flops(module: nn.Module, rows: int) -> int:
    """2 x rows x in x out for every Linear: a forward's matrix-product FLOPs."""
    return sum(2 * rows * m.in_features * m.out_features for m in module.modules()
               if isinstance(m, nn.Linear))  # fmt: skip


def test_a_translation_counts_every_drift_layer_and_the_time_layers_once_per_step():
    model = FlowBind(CONFIG)
    drift = model.drifts["text"]
    time_layers = [drift.time_embed] + [b.modulation for b in drift.blocks]
    per_row = linear_flops(drift, 1) - sum(linear_flops(m, 1) for m in time_layers)
    once = sum(linear_flops(m, 1) for m in time_layers)
    # Euler 10 + 10: each of 20 evaluations runs the row layers on 64 rows, the time layers once
    expected = 20 * (64 * per_row + once)
    assert translation_flops(model, "text", "image", rows=64, steps=10) == expected


def test_a_training_step_counts_forward_and_backward_of_every_drift_row():
    model = FlowBind(CONFIG)
    flops = step_flops(model, [(("text", "image"), 32)], ObjectiveConfig())
    drift_rows = 2 * 2 * 32  # two modalities, main and t = 0 terms
    drift_forward = linear_flops(model.drifts["text"], drift_rows)
    encoder_forward = linear_flops(model.anchor_encoder.heads["text"], 2 * 32)
    # backward costs two forwards (but the first layers' input gradients are not needed)
    assert 2.5 * (drift_forward + encoder_forward) < flops <= 3 * (drift_forward + encoder_forward)


def test_flowbind_grows_linearly_and_the_joint_model_faster():
    config = {"model": {"hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16},
              "latent_dim": 8, "objective": {}}  # fmt: skip
    table = scaling_rows(config, 6, batch=60, draws=1)
    flowbind = [r["flowbind_parameters"] for r in table]
    steps = {b - a for a, b in zip(flowbind, flowbind[1:], strict=False)}
    assert len(steps) == 1  # one drift and one head per modality
    joint = [r["joint_parameters"] for r in table]
    assert joint[0] == flowbind[0] or abs(joint[0] - flowbind[0]) / flowbind[0] < 0.1
    assert joint[-1] / joint[0] > flowbind[-1] / flowbind[0]
    assert table[-1]["joint_tflop_per_step"] > 2 * table[0]["joint_tflop_per_step"]


def test_peaks_are_known_for_the_data_centre_gpus_and_not_for_a_cpu():
    assert bf16_peak("NVIDIA H100 80GB HBM3") == 989.4e12
    assert bf16_peak("NVIDIA H100 PCIe") == 756.0e12
    assert bf16_peak("NVIDIA H200") == 989.4e12 and bf16_peak("cpu") is None


def test_the_training_benchmark_writes_a_row_with_its_figures(tmp_path):
    from perf.train import main

    out = tmp_path / "train.csv"
    row = main(["--config", "workflow/config/tiny.yaml", "--device", "cpu", "--steps", "3",
                "--warmup", "1", "--pairs", "300", "--csv", str(out)])  # fmt: skip
    with out.open() as f:
        (written,) = list(csv.DictReader(f))
    assert written["device"] == "cpu" and written["config"] == "tiny.yaml" and written["mfu"] == ""
    assert float(written["steps_per_s"]) > 0 and float(written["tflop_per_step"]) > 0
    tiny = FlowBindConfig(latent_dim=32, hidden_dim=32, depth=1, encoder_hidden_dim=32)
    assert row["parameters"] == FlowBind(tiny).num_parameters()


def test_the_training_benchmark_times_the_fast_path_at_log_steps(tmp_path):
    from perf.train import main

    out = tmp_path / "train.csv"
    for path in ("--fast", "--no-fast"):
        main(["--config", "workflow/config/tiny.yaml", "--device", "cpu", "--steps", "4",
              "--warmup", "2", "--pairs", "300", path, "--csv", str(out)])  # fmt: skip
    with out.open() as f:
        fast, plain = list(csv.DictReader(f))
    assert (fast["fast"], plain["fast"]) == ("True", "False")
    assert float(fast["steps_per_s"]) > 0 and fast["tflop_per_step"] == plain["tflop_per_step"]


def test_the_fast_path_comparison_flags_a_curve_outside_the_seed_noise():
    import numpy as np

    from perf.fast_path import compare

    rng = np.random.default_rng(0)
    plain = 1 + 0.01 * rng.standard_normal((4, 5))
    same = compare(plain, 1 + 0.01 * rng.standard_normal((4, 5)), z=4)
    shifted = compare(plain, 1.1 + 0.01 * rng.standard_normal((4, 5)), z=4)
    assert same["within"].all() and not shifted["within"].any()
    assert np.allclose(shifted["diff"], shifted["fast_mean"] - shifted["plain_mean"])


def test_the_gpu_sync_check_says_it_needs_a_gpu(capsys):
    import torch

    from perf.gpu_sync import main

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: the check measures (perf/gpu_checks.sh runs it)")
    assert main(["--steps", "2"]) == 2
    assert "needs a CUDA device" in capsys.readouterr().out


def test_the_griffin_lim_benchmark_prints_both_timings(capsys):
    from perf.griffin_lim import main

    figures = main(["--clips", "2", "--iterations", "2", "--repeats", "1"])
    assert figures["suite_s"] > 0 and figures["torchaudio_s"] > 0
    assert figures["speedup"] == pytest.approx(figures["torchaudio_s"] / figures["suite_s"])
    assert "2 clips, 2 iterations" in capsys.readouterr().out
