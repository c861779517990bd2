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


def row(name, key="Method", **cells):
    out = {key: name}
    for column, (value, low, high) in cells.items():
        column = column.replace("_", "->").replace("AIS", " AIS")
        out.update({column: str(value), f"{column} low": str(low), f"{column} high": str(high)})
    return out


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
