"""The paper's reported tables (results/paper/) line up with the tables the suite computes.

The report shows each paper table beside the run's own; these tests check the files against
the suite's column definitions and the ablation code, so that a renamed column or a damaged
file shows here instead of as an empty column in the report.
"""

import csv
from pathlib import Path

import pytest

from bench.ablations import TABLE4
from bench.tables import METRIC_TABLES

PAPER = Path(__file__).resolve().parents[1] / "results" / "paper"


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (PAPER / f"{name}.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.parametrize("path", sorted(PAPER.glob("table*.csv")), ids=lambda p: p.name)
def test_every_row_has_every_column(path):
    with path.open() as f:
        rows = list(csv.reader(f))
    assert len(rows) >= 3, "a header and at least two rows"
    assert len({len(r) for r in rows}) == 1, f"ragged rows in {path.name}"


@pytest.mark.parametrize(
    ("name", "columns"), [*METRIC_TABLES.items(), ("table4", TABLE4)], ids=lambda v: str(v)[:6]
)
def test_a_paper_metric_table_has_the_suites_columns_and_numbers_in_them(name, columns):
    header, rows = read(name)
    assert header == ["Method", *columns], f"{name}.csv does not match the suite's columns"
    for row in rows:
        for column in columns:
            if row[column]:  # a method the paper did not score on a task leaves it empty
                float(row[column])  # raises on anything that is not a number
    assert any(row["Method"].startswith("FlowBind") for row in rows)
