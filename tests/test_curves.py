"""The budget and data curves: subsets of the training pairs, run variants, training FLOPs, the
budget criterion (bench/curves.py, bench/flops.py, bench/train_run.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

from bench.config import resolve_config
from bench.curves import budget_fraction_rows, reached
from bench.embedded.build import ia_subset, nested_subset
from bench.flops import group_sizes, sized_pairs, step_flops, training_flops
from bench.latents import training_data
from bench.methods import build_method
from bench.train_run import run_settings
from flowbind.files import write_npz
from metrics.bootstrap import bootstrap_mean, stratified_bootstrap_mean


def test_nested_subsets_shrink_inside_each_other_and_ia_subset_keeps_its_rows():
    small, large = nested_subset(1000, 0.1, 0, 7), nested_subset(1000, 0.3, 0, 7)
    assert len(small) == 100 and len(large) == 300
    assert set(small) <= set(large)
    assert not np.array_equal(nested_subset(1000, 0.1, 0, 8), small)  # streams differ
    # the image-audio fraction's subsets are the ones it always drew
    order = np.random.default_rng(np.random.SeedSequence([0, 0x1A])).permutation(50)
    np.testing.assert_array_equal(ia_subset(50, 0.2), np.sort(order[:10]))


def write_pairs(folder, n=40, dim=3):
    rng = np.random.default_rng(0)
    for split, modalities in {
        "train_ti": ("text", "image"),
        "train_ta": ("text", "audio"),
        "train_ia": ("image", "audio"),
    }.items():
        arrays = {m: rng.standard_normal((n, dim)).astype(np.float32) for m in modalities}
        write_npz(
            folder / f"{split}.npz", {"ids": np.array([f"{split}{i}" for i in range(n)]), **arrays}
        )


def test_a_data_fraction_keeps_that_share_of_every_pair_table(tmp_path):
    write_pairs(tmp_path)
    _, every = training_data(tmp_path)
    latents, tenth = training_data(tmp_path, data_fraction=0.25)
    assert [len(p) for p in every] == [40, 40, 40]
    assert [len(p) for p in tenth] == [10, 10, 10]
    assert {m: len(z) for m, z in latents.items()} == {"text": 20, "image": 20, "audio": 20}
    # with an image-audio fraction on top, that one applies to what the data fraction kept
    _, both = training_data(tmp_path, ia_fraction=0.5, data_fraction=0.25)
    assert [len(p) for p in both] == [10, 10, 5]
    with pytest.raises(ValueError, match="keeps none of the 40 pairs of train_ti"):
        training_data(tmp_path, data_fraction=0.01)


def test_the_image_point_cloud_table_is_added_after_the_three_and_changes_none(tmp_path):
    from bench.embedded.build import PAIR_SPLITS, POINT_PAIR_SPLITS

    write_pairs(tmp_path)
    rng = np.random.default_rng(1)
    arrays = {m: rng.standard_normal((30, 3)).astype(np.float32) for m in ("image", "points")}
    write_npz(tmp_path / "train_ip.npz", {"ids": np.array([f"ip{i}" for i in range(30)]), **arrays})
    three_latents, three = training_data(tmp_path, data_fraction=0.5)
    latents, four = training_data(
        tmp_path, data_fraction=0.5, pair_splits={**PAIR_SPLITS, **POINT_PAIR_SPLITS}
    )
    assert [p.modalities for p in four] == [p.modalities for p in three] + [("image", "points")]
    for a, b in zip(three, four, strict=False):  # the same rows of the three tables
        np.testing.assert_array_equal(a.index, b.index)
    assert len(four[-1]) == 15 and len(latents["points"]) == 15
    np.testing.assert_array_equal(latents["audio"], three_latents["audio"])


def test_curve_variants_change_only_their_setting_and_the_main_runs_settings_stay():
    config = resolve_config([], {})
    main = run_settings(config, "flowbind")
    assert "data_fraction" not in main  # the runs trained before the curves keep their settings
    steps = run_settings(config, "flowbind", "steps250")
    assert steps["train"]["steps"] == 250
    # only the budget and where checkpoints are kept (for the snapshots) differ
    bookkeeping = {"steps", "checkpoint_every", "keep_checkpoints"}
    assert {k: v for k, v in steps["train"].items() if k not in bookkeeping} == {
        k: v for k, v in main["train"].items() if k not in bookkeeping
    }
    data = run_settings(config, "codi", "data10")
    assert data["data_fraction"] == 0.1 and data["train"] == run_settings(config, "codi")["train"]
    with pytest.raises(ValueError, match="steps<n>, data<percent> or points"):
        run_settings(config, "flowbind", "budget9")


def test_the_fourth_modality_adds_runs_and_leaves_the_main_runs_settings_as_they_were():
    three = resolve_config([], {})
    four = resolve_config([], {"modalities": ["text", "image", "audio", "points"]})
    for name in ("flowbind", "codi", "crossflow"):
        assert run_settings(four, name) == run_settings(three, name)
        points = run_settings(four, name, "points")
        assert points["model"]["modalities"] == ["text", "image", "audio", "points"]
        assert points["pair_splits"] == ["train_ti", "train_ta", "train_ia", "train_ip"]
        main = run_settings(four, name)
        for key in ("method", "objective", "options", "ia_fraction"):
            assert points[key] == main[key], key
        assert points["train"]["steps"] == main["train"]["steps"]
        assert {k: v for k, v in points["model"].items() if k != "modalities"} == main["model"]
    with pytest.raises(ValueError, match=r"add points to the config's modalities"):
        run_settings(three, "flowbind", "points")


def method(name, **train):
    config = resolve_config([], {})
    return build_method(
        name,
        model={**config["model"], "latent_dim": config["latent_dim"]},
        train={**config["train"], **train},
        objective=config["objective"],
        options=config["baselines"].get(name, {}),
    )


PAIRS = {"text-image": 400, "text-audio": 400, "image-audio": 400}


def test_training_flops_are_the_steps_times_a_steps_flops_for_a_one_stage_recipe():
    flowbind = method("flowbind", steps=300)
    pairs = sized_pairs(PAIRS)
    sizes = group_sizes(pairs, 128, "per_table")
    assert sizes == [(("text", "image"), 128), (("text", "audio"), 128), (("image", "audio"), 128)]
    per_step = step_flops(flowbind.build(), sizes, flowbind.train_config.objective)
    assert training_flops(flowbind, pairs) == 300 * per_step
    assert training_flops(method("flowbind", steps=600), pairs) == 600 * per_step


def test_codis_training_flops_count_its_cheaper_alignment_stage_apart():
    pairs = sized_pairs(PAIRS)
    codi = method("codi", steps=1000)
    stage1, stage2 = codi.training_stages(codi.checked_pairs(pairs))
    assert (stage1.steps, stage2.steps) == (200, 800)
    assert [p.name for p in stage1.pairs] == ["text-image", "text-audio"]  # no I-A pairs
    model = codi.build()
    sizes = group_sizes(stage1.pairs, 128, "per_table")
    per_step = []
    for stage in (stage1, stage2):
        stage.prepare(model)
        per_step.append(step_flops(model, sizes, codi.train_config.objective))
    assert per_step[0] < per_step[1]  # aligning prompt encoders is cheaper than the flows
    assert training_flops(codi, pairs) == 200 * per_step[0] + 800 * per_step[1]


def test_proportional_batching_splits_a_batch_by_table_size():
    pairs = sized_pairs({"text-image": 300, "text-audio": 100})
    assert group_sizes(pairs, 128, "proportional") == [
        (("text", "image"), 96),
        (("text", "audio"), 32),
    ]


def test_a_stratified_bootstrap_of_one_group_is_the_plain_bootstrap():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(200)
    assert stratified_bootstrap_mean([x], 300, seed=4) == bootstrap_mean(x, 300, seed=4)
    two = stratified_bootstrap_mean([x, x[:50] + 10], 300, seed=4)
    assert two.value == pytest.approx((x.mean() + x[:50].mean() + 10) / 2)
    assert two.low < two.value < two.high


def cells(value, low, high):
    return {"value": value, "low": low, "high": high, "sd": None}


def test_the_budget_criterion_reports_the_share_of_the_best_score_the_tables_budget_reaches():
    curve = {
        "M": [
            (500, {"CLIP": cells(40, 39, 41), "T->I FID": cells(300, 290, 310)}),
            (1500, {"CLIP": cells(45, 44, 46), "T->I FID": cells(200, 190, 210)}),
            (3000, {"CLIP": cells(50, 49, 51), "T->I FID": cells(205, 195, 215)}),
        ]
    }
    rows = {r["Score"]: r for r in budget_fraction_rows(curve, 1500)}
    assert rows["CLIP"]["Best steps"] == "3000" and rows["CLIP"]["Reached (%)"] == "90.0"
    assert rows["CLIP"]["Past the knee"] == "no"  # 90 % and disjoint intervals
    fid = rows["T->I FID"]  # lower is better: 1500 steps is itself the best
    assert (fid["Best steps"], fid["Reached (%)"], fid["Past the knee"]) == ("1500", "100.0", "yes")
    assert reached(250, 200, "T->I FID") == pytest.approx(80.0)
    # within the best point's interval it passes whatever the share
    curve["M"][1][1]["CLIP"] = cells(45, 44, 49.5)
    assert budget_fraction_rows(curve, 1500)[0]["Past the knee"] == "yes"


def test_the_registrys_stage_counts_match_every_methods_training_stages():
    from bench.methods import stage_count

    pairs = sized_pairs(PAIRS)
    config = resolve_config([], {})
    for name in config["methods"]:
        for options in ({}, {"pretrain_fraction": 0.3}) if name == "omniflow" else ({},):
            m = method(name)
            m.options = m.check_options({**m.options, **options})
            m.configure(pairs)
            stages = m.training_stages(m.checked_pairs(pairs))
            assert stage_count(name, m.options) == len(stages), (name, options)


def test_budget_runs_are_snapshots_and_continuations_of_the_main_run(tmp_path):
    """After warm-up the learning rate is constant: a 30-step run's weights are those of the
    60-step main run at step 30, and the 120-step run that continues the main run from its
    final checkpoint is the 120-step run trained from scratch, to the bit."""
    import torch

    from bench.methods import load_method
    from bench.train_run import continues_main, publish_snapshot, snapshot_steps, train_run

    config = resolve_config([Path("workflow/config/tiny.yaml")], {})
    assert snapshot_steps(config, "flowbind") == [30] and snapshot_steps(config, "codi") == []
    assert continues_main(config, "flowbind") and not continues_main(config, "codi")
    write_pairs(tmp_path / "latents", dim=config["latent_dim"])
    main = run_settings(config, "flowbind", "main")
    assert main["snapshots"] == [30] and main["keep_state"]
    assert main["train"]["checkpoint_every"] == 30
    other_seed = run_settings(config, "flowbind", "main", seed=1)  # trains no curve
    assert "keep_state" not in other_seed and "snapshots" not in other_seed
    longest = run_settings(config, "flowbind", "steps120")
    assert longest["continues"] == "main" and "snapshots" not in longest
    assert "continues" not in run_settings(config, "codi", "steps120")
    for variant in ("steps30", "data10", "ia50", "variance-1"):  # only the longest continues
        other = run_settings(config, "flowbind", variant)
        assert "continues" not in other and "keep_state" not in other, variant
    scratch = {k: v for k, v in longest.items() if k != "continues"}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_run(main, tmp_path / "latents", tmp_path / "work60", tmp_path / "main")
        with pytest.raises(FileNotFoundError, match="continues a shorter run's final state"):
            train_run(longest, tmp_path / "latents", tmp_path / "bad", tmp_path / "bad_out")
        train_run(
            longest,
            tmp_path / "latents",
            tmp_path / "work120",
            tmp_path / "steps120",
            start=tmp_path / "main",
        )
        train_run(scratch, tmp_path / "latents", tmp_path / "work120s", tmp_path / "scratch")
        alone = run_settings(config, "flowbind", "steps30")
        assert "snapshots" not in alone and "continues" not in alone
        train_run(alone, tmp_path / "latents", tmp_path / "work30", tmp_path / "steps30")
    finally:
        torch.set_num_threads(threads)
    weights = "model/model.safetensors"

    def same(a, b, name=weights):
        return (tmp_path / a / name).read_bytes() == (tmp_path / b / name).read_bytes()

    assert same("steps120", "scratch") and same("steps120", "scratch", "loss.csv")
    assert not same("steps120", "main")
    publish_snapshot(tmp_path / "main", 30, tmp_path / "snapshot30")
    assert same("snapshot30", "steps30") and same("snapshot30", "steps30", "loss.csv")
    fit = json.loads((tmp_path / "snapshot30" / "fit.json").read_text())
    assert fit["steps"] == 30 and fit["wall_time_s"] is None
    assert load_method(tmp_path / "snapshot30").train_config.steps == 30
    assert load_method(tmp_path / "steps120").train_config.steps == 120
    with pytest.raises(FileNotFoundError, match="kept no snapshot at step 60"):
        publish_snapshot(tmp_path / "steps120", 60, tmp_path / "snapshot60")
