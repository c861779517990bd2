"""The report's tables: CSV rows as HTML, best value in bold, intervals as value ± half-width.

A metric column ``X`` is one with companions ``X low`` and ``X high`` (its 95 % interval); the
ablations add ``X sd``, the spread across seeds, shown under the value. FID, FAD, FPD and the
Chamfer distance are lower-is-better, every other metric higher-is-better; headers carry the
paper's arrows. The ``Codec ceiling`` row is an upper bound, not a competitor, so it is never
bolded. Beside each table the paper's own numbers (results/paper/<table>.csv) are shown,
labelled as a different benchmark.

The functions here build plain-text table models (Table, Row, Cell); the autoescaping template
bench/templates/tables.html.j2 lays them out, so no cell is ever pasted into HTML unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.report_html import render_macro
from bench.report_text import PAPER_LABEL
from bench.tables import (
    ALL_METRIC_TABLES,
    evaluation_folder,
    label,
    read_rows,
    read_unsupported,
    seeds_in,
    table_tasks,
)
from bench.tasks import ALL_TASKS

CEILING = "Codec ceiling"
LOWER_IS_BETTER = ("FID", "FAD", "FPD", "Chamfer")
COMPANIONS = (" low", " high", " sd")


@dataclass(frozen=True)
class Cell:
    """One table cell as plain text; bench/templates/tables.html.j2 escapes and lays it out.

    Attributes:
        text: the value as written ("–" for an empty plain cell).
        numeric: right-aligned.
        bold: the best of its column (or row).
        na: a metric cell with no number: a centred dash.
        half: the half-width of the 95 % interval, as ``± half``.
        interval: (low, high) as written, for the tooltip.
        dagger: the value lies outside its own interval.
        sd: the spread across seeds, shown below the value.
    """

    text: str
    numeric: bool = False
    bold: bool = False
    na: bool = False
    half: str = ""
    interval: tuple[str, str] | None = None
    dagger: bool = False
    sd: str = ""


@dataclass(frozen=True)
class Head:
    text: str
    numeric: bool = False


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    classes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    heads: list[Head]
    rows: list[Row]


@dataclass(frozen=True)
class TableBlock:
    """One table's block: this run's table and, beside it, the paper's (if it has one)."""

    name: str
    title: str
    description: str
    ours: Table
    paper: Table | None = None
    paper_label: str = PAPER_LABEL


def read_csv(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """A result table's header and rows, every cell a string (bench.tables.read_rows)."""
    return read_rows(path, "run the workflow target that writes it")


def metric_columns(header: Sequence[str]) -> list[str]:
    """Columns with an interval: ``X`` such that ``X low`` and ``X high`` are in the header."""
    return [c for c in header if f"{c} low" in header and f"{c} high" in header]


def lower_is_better(column: str) -> bool:
    return any(m in column.split() for m in LOWER_IS_BETTER)


def display(text: str) -> str:
    """Text with the paper's arrows (→ for ->); the template escapes it."""
    return text.replace("->", "→")


def heading(column: str, metric: bool) -> str:
    """The header text, with ↑ / ↓ on metrics."""
    if not metric:
        return display(column)
    return display(column) + (" ↓" if lower_is_better(column) else " ↑")


def number(text: str | None) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def numeric_columns(header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> set[str]:
    """Columns whose every non-empty cell is a number (right-aligned)."""
    return {
        c
        for c in header
        if any(r.get(c) for r in rows)
        and all(number(r.get(c)) is not None for r in rows if r.get(c))
    }


def decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def interval_cell(row: Mapping[str, str], column: str, bold: bool = False) -> Cell:
    """``value ± half-width`` with the interval in a tooltip, sd (if any) on a second line.

    A dagger marks a value outside its own interval, which no interval of metrics/ gives (the
    Frechet distances and CKNNA use the delete-half jackknife for that reason; see docs/metrics.md).
    """
    value, low, high = row.get(column, ""), row.get(f"{column} low"), row.get(f"{column} high")
    v, lo, hi = number(value), number(low), number(high)
    if v is None:
        return Cell("–", na=True)
    half, interval, dagger = "", None, False
    if lo is not None and hi is not None:
        half = f"{(hi - lo) / 2:.{decimals(value)}f}"
        interval = (str(low), str(high))
        dagger = not lo <= v <= hi
    sd = row.get(f"{column} sd", "")
    return Cell(value, True, bold, half=half, interval=interval, dagger=dagger, sd=sd)


def plain_cell(text: str, numeric: bool, bold: bool = False) -> Cell:
    return Cell(display(text) if text else "–", numeric, bold)


def best(values: Sequence[float | None], lower: bool) -> set[int]:
    """Indices of the best value (all of them on a tie); none if no value is a number."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return set()
    target = min(numbers) if lower else max(numbers)
    return {i for i, v in enumerate(values) if v == target}


def is_ceiling(row: Mapping[str, str]) -> bool:
    return CEILING in row.values()


def table_of(
    columns: Sequence[str], heads: Sequence[str], numeric: set[str], rows: Sequence[Row]
) -> Table:
    """A table; numeric columns' headers align right."""
    return Table([Head(h, c in numeric) for c, h in zip(columns, heads, strict=True)], list(rows))


def render(table: Table) -> str:
    """The HTML of a table, in a wrapper that scrolls sideways instead of overflowing the page."""
    return render_macro("tables.html.j2", "table", table)


def table_model(
    header: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    best_by: str = "column",
    row_class: Mapping[int, str] | None = None,
) -> Table:
    """A table of CSV rows, metric columns as ``value ± half-width``.

    Args:
        header: the CSV header.
        rows: the CSV rows.
        best_by: "column" bolds the best row of each metric column (the paper's tables);
            "row" bolds the best metric column of each row (a pivot, methods as columns).
        row_class: extra CSS class per row index.
    """
    assert best_by in ("column", "row"), f"best_by must be 'column' or 'row', got {best_by!r}"
    metrics = metric_columns(header)
    shown = [c for c in header if not (c.endswith(COMPANIONS) and c.rsplit(" ", 1)[0] in metrics)]
    numeric = numeric_columns(shown, rows) | set(metrics)
    bold: set[tuple[int, str]] = set()
    if best_by == "column":
        for c in metrics:
            eligible = [None if is_ceiling(r) else number(r.get(c)) for r in rows]
            bold |= {(i, c) for i in best(eligible, lower_is_better(c))}
    else:
        for i, r in enumerate(rows):
            cols = [c for c in metrics if c != CEILING]
            found = best([number(r.get(c)) for c in cols], lower=False)
            bold |= {(i, cols[j]) for j in found}
    heads = [heading(c, best_by == "column" and c in metrics) for c in shown]
    body = []
    for i, r in enumerate(rows):
        classes = [k for k in ("ceiling" if is_ceiling(r) else "", (row_class or {}).get(i)) if k]
        cells = [
            interval_cell(r, c, (i, c) in bold)
            if c in metrics
            else plain_cell(r.get(c, ""), c in numeric)
            for c in shown
        ]
        body.append(Row(cells, classes))
    return table_of(shown, heads, numeric, body)


def render_table(
    header: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    best_by: str = "column",
    row_class: Mapping[int, str] | None = None,
) -> str:
    """The HTML of ``table_model(header, rows, best_by, row_class)``."""
    return render(table_model(header, rows, best_by, row_class))


def paper_table_model(
    header: Sequence[str], rows: Sequence[Mapping[str, str]], metrics: Sequence[str]
) -> Table:
    """The paper's table (no intervals), its best value per metric column in bold."""
    metrics = [c for c in metrics if c in header]
    numeric = numeric_columns(header, rows) | set(metrics)
    bold = set()
    for c in metrics:
        bold |= {(i, c) for i in best([number(r.get(c)) for r in rows], lower_is_better(c))}
    body = [
        Row([plain_cell(r.get(c, ""), c in numeric, (i, c) in bold) for c in header])
        for i, r in enumerate(rows)
    ]
    return table_of(header, [heading(c, c in metrics) for c in header], numeric, body)


def render_paper_table(
    header: Sequence[str], rows: Sequence[Mapping[str, str]], metrics: Sequence[str]
) -> str:
    """The HTML of ``paper_table_model(header, rows, metrics)``."""
    return render(paper_table_model(header, rows, metrics))


def pivot_attributes(
    header: Sequence[str], rows: Sequence[Mapping[str, str]]
) -> tuple[list[str], list[dict[str, str]], dict[int, str]]:
    """attributes.csv with one column per method: (header, rows, row classes).

    Rows are (task, target, attribute) in first-seen order; rows whose attribute no source
    shows get the class "muted".
    """
    keys = ("Task", "Target", "Attribute", "Conveyed by source", "Chance (%)")
    missing = [k for k in (*keys, "Method", "Accuracy (%)") if k not in header]
    assert not missing, f"attributes.csv lacks columns {missing}"
    methods = list(dict.fromkeys(r["Method"] for r in rows))
    names = {**dict(zip(keys, keys, strict=True)), "Conveyed by source": "Conveyed"}
    out: dict[tuple[str, ...], dict[str, str]] = {}
    for r in rows:
        row = out.setdefault(tuple(r[k] for k in keys), {names[k]: r[k] for k in keys})
        for suffix in ("", " low", " high"):
            row[r["Method"] + suffix] = r[f"Accuracy (%){suffix}"]
    pivot_header = [names[k] for k in keys]
    pivot_header += [m + s for m in methods for s in ("", " low", " high")]
    pivot_rows = list(out.values())
    muted = {i: "muted" for i, r in enumerate(pivot_rows) if r["Conveyed"] == "no"}
    return pivot_header, pivot_rows, muted


def blank_cells_note(name: str, results: Path) -> str:
    """Why a metric table has blank cells: the tasks a method cannot serve, a released model's
    that it has no call for or a modality a method never learnt (their evaluation records say
    why); "" when it has none."""
    folder = results / "evaluate"
    if name not in ALL_METRIC_TABLES or not folder.is_dir():
        return ""
    tasks = table_tasks(ALL_METRIC_TABLES[name])
    methods = sorted(
        d.name
        for d in folder.iterdir()
        if (seeds := seeds_in(folder, d.name))
        and all(
            (evaluation_folder(folder, d.name, seeds[0]) / f"{t}.json").is_file() for t in tasks
        )
    )
    reasons = read_unsupported(folder, methods, tasks)
    if not reasons:
        return ""
    grouped: dict[tuple[str, str], list[str]] = {}  # (method, reason) -> its tasks, in order
    for task in tasks:
        for method in methods:
            if (method, task) in reasons:
                grouped.setdefault((method, reasons[method, task]), []).append(task)
    parts = [
        f"{label(m)} on {', '.join(display(ALL_TASKS[t].name) for t in group)}: {why}"
        for (m, why), group in grouped.items()
    ]
    return " Blank cells are tasks a method cannot serve (" + "; ".join(parts) + ")."


def table_block(name: str, title: str, description: str, results: Path, paper: Path) -> TableBlock:
    """One table's block: heading, description, our table and, beside it, the paper's."""
    description += blank_cells_note(name, results)
    header, rows = read_csv(results / f"{name}.csv")
    if name == "attributes":
        header, rows, classes = pivot_attributes(header, rows)
        ours = table_model(header, rows, best_by="row", row_class=classes)
    else:
        ours = table_model(header, rows)
    paper_table = None
    if (paper / f"{name}.csv").is_file():
        p_header, p_rows = read_csv(paper / f"{name}.csv")
        paper_table = paper_table_model(p_header, p_rows, metric_columns(header))
    return TableBlock(name, title, description, ours, paper_table)


def table_blocks(
    tables: Mapping[str, tuple[str, str]], results: str | Path, paper: str | Path
) -> list[TableBlock]:
    """The blocks of ``tables`` (name -> (title, description)), in order."""
    return [
        table_block(name, title, description, Path(results), Path(paper))
        for name, (title, description) in tables.items()
    ]


def tables_body(
    tables: Mapping[str, tuple[str, str]], results: str | Path, paper: str | Path
) -> str:
    """The HTML of the blocks of ``tables``."""
    return render_macro("tables.html.j2", "table_blocks", table_blocks(tables, results, paper))
