"""The paper's reported tables are well-formed and hold the numbers of its abstract claims."""

import csv
from pathlib import Path

import pytest

PAPER = Path(__file__).resolve().parents[1] / "results" / "paper"


@pytest.mark.parametrize("path", sorted(PAPER.glob("table*.csv")), ids=lambda p: p.name)
def test_every_row_has_every_column(path):
    with path.open() as f:
        rows = list(csv.reader(f))
    assert len(rows) >= 3, "a header and at least two rows"
    assert len({len(r) for r in rows}) == 1, f"ragged rows in {path.name}"


def test_flowbind_row_of_table2_reads_as_reported():
    with (PAPER / "table2.csv").open() as f:
        rows = {r["Method"]: r for r in csv.DictReader(f)}
    assert float(rows["FlowBind"]["T->I FID"]) == 17.39
    assert float(rows["FlowBind"]["I->A FAD"]) < float(rows["OmniFlow"]["I->A FAD"])
