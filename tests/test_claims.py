"""The rule that decides whether a paper claim holds on a run's tables (bench/claims.py)."""

import pytest

from bench.claims import (
    FAILS,
    HOLDS,
    OVERLAP,
    README_END,
    README_START,
    Comparison,
    Estimate,
    evaluate_claims,
    main,
    replace_block,
)
from bench.tables import write_csv


def comparison(a, b, higher=True) -> Comparison:
    return Comparison("m", "A", Estimate(*a), "B", Estimate(*b), higher)


def test_a_comparison_holds_fails_or_is_inconclusive_by_its_intervals():
    assert comparison((10, 9, 11), (5, 4, 6)).verdict == HOLDS
    assert comparison((5, 4, 6), (10, 9, 11)).verdict == FAILS
    assert comparison((10, 8, 12), (9, 7, 10)).verdict == OVERLAP  # touching counts as overlap
    assert comparison((9, 8.5, 9.5), (10, 9.6, 10.4)).verdict == FAILS
    # lower is better (a distance): the smaller one wins
    assert comparison((5, 4, 6), (10, 9, 11), higher=False).verdict == HOLDS


def estimate_columns(**cells):
    """Value, low and high columns; keyword I_AAIS names the column "I->A AIS" (T_ICLIP: CLIP)."""
    out = {}
    for column, (value, low, high) in cells.items():
        column = column.replace("_", "->").replace("AIS", " AIS").replace("CLIP", " CLIP")
        out.update({column: str(value), f"{column} low": str(low), f"{column} high": str(high)})
    return out


def row(name, key="Method", **cells):
    return {key: name, **estimate_columns(**cells)}


def test_claims_are_read_from_the_tables_and_combine_their_comparisons(tmp_path):
    write_csv(
        tmp_path / "table3.csv",
        [
            row("FlowBind", I_AAIS=(70, 68, 72), A_IAIS=(82, 80, 84)),
            row("Text-anchoring", I_AAIS=(61, 59, 63), A_IAIS=(63, 61, 65)),
        ],
    )
    write_csv(
        tmp_path / "ia_fraction.csv",
        [
            row("0", key="I-A pairs (%)", I_AAIS=(60, 58, 62), A_IAIS=(61, 59, 63)),
            row("100", key="I-A pairs (%)", I_AAIS=(69, 67, 71), A_IAIS=(62, 60, 64)),
        ],
    )
    claims = {c.key: c for c in evaluate_claims(tmp_path)}
    assert sorted(claims) == ["ia_fraction", "learned_anchor_image_audio"]  # no table4/5 here
    assert claims["learned_anchor_image_audio"].verdict == HOLDS
    # one comparison holds, the other overlaps: the claim is inconclusive
    fraction = claims["ia_fraction"]
    assert [c.verdict for c in fraction.comparisons] == [HOLDS, OVERLAP]
    assert fraction.verdict == OVERLAP
    sentence = fraction.sentence()
    assert "**inconclusive (intervals overlap)**" in sentence
    assert "I->A AIS 69.0 [67.0, 71.0] vs 60.0 [58.0, 62.0] (holds)" in sentence
    assert "ia_fraction.csv" in sentence


def test_a_table_without_the_compared_row_names_it(tmp_path):
    write_csv(tmp_path / "table3.csv", [row("FlowBind", I_AAIS=(1, 0, 2), A_IAIS=(1, 0, 2))])
    with pytest.raises(ValueError, match=r"no row Method = 'Text-anchoring'.*\['FlowBind'\]"):
        evaluate_claims(tmp_path)


def test_the_command_writes_the_csv_and_the_readme_block(tmp_path):
    write_csv(
        tmp_path / "table5.csv",
        [
            row("Encoder latents", key="Latent", **{"T-A CKNNA": (0.03, 0.02, 0.04)},
                **{"A-I CKNNA": (0.04, 0.03, 0.05)}),
            row("Shared latent", key="Latent", **{"T-A CKNNA": (0.2, 0.18, 0.22)},
                **{"A-I CKNNA": (0.01, 0.0, 0.02)}),
        ],
    )  # fmt: skip
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold text\n{README_END}\nrest\n")
    (claim,) = main(["--results", str(tmp_path), "--readme", str(readme)])
    assert claim.verdict == FAILS  # A-I: the shared latent is below
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{README_END}\nrest\n")
    assert "old text" not in text and "**does not hold**" in text and "at commit" in text
    assert (tmp_path / "claims.csv").read_text().count("table5.csv") == 2
    with pytest.raises(ValueError, match="exactly one pair of lines"):
        replace_block("no markers", "x", readme)


def curve_row(method, steps, tflop, **scores):
    return {
        "Method": method,
        "Steps": str(steps),
        "Training TFLOP": str(tflop),
        **estimate_columns(**scores),
    }


def test_the_compute_claim_pairs_flowbind_with_a_baseline_given_at_least_its_compute(tmp_path):
    write_csv(
        tmp_path / "budget_curve.csv",
        [
            curve_row("FlowBind", 250, 1.0, T_ICLIP=(40, 38, 42)),
            curve_row("FlowBind", 500, 2.0, T_ICLIP=(50, 48, 52)),
            curve_row("FlowBind", 1000, 4.0, T_ICLIP=(55, 53, 57)),
            curve_row("Cheap", 1000, 0.5, T_ICLIP=(30, 28, 32)),
            curve_row("Cheap", 3000, 2.5, T_ICLIP=(45, 43, 47)),
            curve_row("Costly", 250, 5.0, T_ICLIP=(60, 58, 62)),
        ],
    )
    claims = {c.key: c for c in evaluate_claims(tmp_path)}
    # FlowBind's largest budget that Cheap's curve reaches: 2.0 TFLOP, against Cheap's 2.5
    (cheap,) = claims["compute_Cheap"].comparisons
    assert cheap.claimed == "FlowBind (500 steps, 2 TFLOP)"
    assert cheap.other == "Cheap (3000 steps, 2.5 TFLOP)"
    assert claims["compute_Cheap"].verdict == HOLDS
    # every FlowBind budget is within Costly's smallest: its largest against that one
    (costly,) = claims["compute_Costly"].comparisons
    assert (costly.claimed, costly.other) == (
        "FlowBind (1000 steps, 4 TFLOP)",
        "Costly (250 steps, 5 TFLOP)",
    )
    assert claims["compute_Costly"].verdict == FAILS


def test_no_compute_claim_where_the_baselines_curve_never_reaches_flowbinds_compute(tmp_path):
    write_csv(
        tmp_path / "budget_curve.csv",
        [
            curve_row("FlowBind", 250, 1.0, T_ICLIP=(40, 38, 42)),
            curve_row("Cheap", 250, 0.1, T_ICLIP=(30, 28, 32)),
        ],
    )
    assert evaluate_claims(tmp_path) == []


def test_the_data_claim_sets_flowbinds_smallest_share_against_a_baseline_with_every_pair(
    tmp_path,
):
    rows = []
    for method, cells in (("FlowBind", [(10, 40), (100, 50)]), ("Other", [(10, 20), (100, 39)])):
        for percent, value in cells:
            row = curve_row(method, 1, 1, T_ICLIP=(value, value - 1, value + 1))
            row["Pairs kept (%)"] = str(percent)
            rows.append(row)
    write_csv(tmp_path / "data_curve.csv", rows)
    (claim,) = evaluate_claims(tmp_path)
    assert claim.key == "data_Other"
    assert claim.comparisons[0].claimed == "FlowBind (10 % of the pairs)"
    assert claim.comparisons[0].other == "Other (100 %)"
    assert claim.verdict == OVERLAP  # 40 [39, 41] against 39 [38, 40]


def test_the_conflict_claim_sets_each_single_source_attribute_against_chance(tmp_path):
    columns = (
        "colour: caption's scene (%)",
        "size: caption's scene (%)",
        "count: audio's scene (%)",
    )
    conflicting = {"Condition": "(T+A)->I, conflicting"}
    chance = {"Condition": "chance"}
    for column, (value, low, high), level in zip(
        columns, [(40, 35, 45), (70, 60, 80), (30, 25, 36)], (16.67, 50.0, 33.33), strict=True
    ):
        conflicting.update(
            {column: str(value), f"{column} low": str(low), f"{column} high": str(high)}
        )
        chance.update({column: str(level), f"{column} low": "", f"{column} high": ""})
    write_csv(tmp_path / "conflict.csv", [conflicting, chance])
    (claim,) = evaluate_claims(tmp_path)
    assert claim.key == "conflict"
    assert [c.verdict for c in claim.comparisons] == [HOLDS, HOLDS, OVERLAP]  # count: chance in
    assert claim.verdict == OVERLAP


def test_the_cost_claims_set_flowbinds_growth_against_the_joint_models(tmp_path):
    """Counts, not samples: each side's interval is its value, lower growth is better, and
    without the joint model in the table there is no claim to decide."""
    growth = {"FlowBind": (1.0, 1.33, 3.33), "OmniFlow (latent)": (1.0, 1.06, 1.39)}
    flops = {"FlowBind": (1.0, 1.33, 3.33), "OmniFlow (latent)": (1.0, 1.39, 4.33)}
    rows = [
        {
            "Method": method,
            "Modalities": str(k),
            "Parameters (x 3 modalities)": str(growth[method][i]),
            "Step GFLOP (x 3 modalities)": str(flops[method][i]),
        }
        for method in growth
        for i, k in enumerate((3, 4, 10))
    ]
    write_csv(tmp_path / "cost_scaling.csv", rows)
    claims = {c.key: c for c in evaluate_claims(tmp_path)}
    assert claims["scaling_flops"].verdict == HOLDS
    assert claims["scaling_parameters"].verdict == FAILS
    metrics = [c.metric for c in claims["scaling_flops"].comparisons]
    assert metrics == ["Step GFLOP (x 3 modalities), K = 4", "Step GFLOP (x 3 modalities), K = 10"]
    write_csv(tmp_path / "cost_scaling.csv", [r for r in rows if r["Method"] == "FlowBind"])
    assert not evaluate_claims(tmp_path)


def test_the_unseen_claim_sets_flowbinds_unseen_translations_against_chance(tmp_path):
    from bench.tables import TABLE9

    cells = {c: (50.0, 48.0, 52.0) for c in TABLE9}
    cells["P->T Attr (%)"] = (30.0, 28.0, 32.0)  # below the 37.5 % of kind and size
    flowbind = {"Method": "FlowBind"}
    for column, (value, low, high) in cells.items():
        flowbind.update(
            {column: str(value), f"{column} low": str(low), f"{column} high": str(high)}
        )
    write_csv(tmp_path / "table9.csv", [flowbind])
    (claim,) = evaluate_claims(tmp_path)
    assert claim.key == "unseen_points" and claim.verdict == FAILS
    chance = {c.metric: c.other_estimate.value for c in claim.comparisons}
    assert chance == pytest.approx(
        {
            "T->P Attr (%)": 37.5,
            "P->T Attr (%)": 37.5,
            "A->P Attr (%)": 175 / 6,
            "P->A Attr (%)": 175 / 6,
        }
    )
    assert [c.verdict for c in claim.comparisons] == [HOLDS, FAILS, HOLDS, HOLDS]
