"""results/report.html: one self-contained page with what was run, every table, the figures and
galleries of outputs.

    html = build_report(collect(config, basedir, "results/logs"), ReportFiles(...), methods)
    write_report("results/report.html", html)

Images and audio are inlined as data URIs and the stylesheet is inline, so the file opens
anywhere without a network; it needs no JavaScript. The page is bench/templates/report.html.j2
(and the templates it imports), autoescaped: text from data or outputs is escaped there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from bench.claims import Claim, evaluate_claims
from bench.report_gallery import FAMILIES, Item, gallery_items
from bench.report_html import png_uri, render, render_macro
from bench.report_provenance import Provenance
from bench.report_tables import TableBlock, table_blocks
from bench.report_text import (
    ABLATION_INTRO,
    ABLATION_TABLES,
    CLAIMS_INTRO,
    CURVE_TABLES,
    CURVES_INTRO,
    FIGURE_CAPTIONS,
    FIGURE_TITLES,
    LEGEND,
    MAIN_TABLES,
    PAPER_MAIN_TABLES,
    PAPER_NOTE,
    POINT_INTRO,
    POINT_TABLES,
    STAND_IN_NOTE,
    SUMMARY,
    TABLE_INTRO,
    WALL_TIME_NOTE,
)
from bench.tables import label
from flowbind.files import atomic_file


@dataclass
class ReportFiles:
    """Where the report reads from.

    Attributes:
        results: the run's results/ folder (tables, generate/, evaluate/).
        data: the benchmark's data folder (results/embedded/data).
        paper: the paper's numbers (results/paper of the repository).
        losses: method -> its loss-curve PNG.
        figures: name -> PNG, for the names of report_text.FIGURE_TITLES ("ia_fraction",
            "budget_curve", ...); absent ones are left out.
        seed: the training seed whose outputs the galleries show (the main seed).
    """

    results: Path
    data: Path
    paper: Path
    losses: Mapping[str, Path] = field(default_factory=dict)
    figures: Mapping[str, Path] = field(default_factory=dict)
    seed: int = 0


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


@dataclass(frozen=True)
class Figure:
    """An inlined PNG with its caption and alt text (the caption by default), plain text;
    ``name`` and ``title`` give a figure other than a loss curve its own heading."""

    uri: str
    caption: str
    alt: str = ""
    name: str = ""
    title: str = ""


@dataclass(frozen=True)
class Figures:
    """The loss curves, then the other figures (the last one full width)."""

    losses: list[Figure]
    blocks: list[Figure]


@dataclass(frozen=True)
class TablesBody:
    """A section of tables: a note above the contents (if any), then the tables' blocks."""

    note: str
    blocks: list[TableBlock]


@dataclass(frozen=True)
class Section:
    """One section of the page; ``body`` is TablesBody, Figures or a gallery's items by kind."""

    anchor: str
    title: str
    intro: str
    kind: str
    body: TablesBody | Figures | list[Item] | list[Claim]


def facts(p: Provenance) -> dict[str, Any]:
    """The header's facts as plain text."""
    return {
        "benchmark": p.benchmark,
        "size": p.size,
        "digest": p.digest,
        "seeds": ", ".join(map(str, p.seeds)),
        "methods": ", ".join(label(m) for m in p.methods),
        "commit": p.commit,
        "versions": " · ".join(f"{k} {v}" for k, v in p.versions.items()),
        "device": p.device,
        "date": p.date,
        "times": [(stage, jobs, duration(s)) for stage, (s, jobs) in p.wall_times.items()],
        "total": duration(p.total_seconds),
    }


def header(p: Provenance) -> str:
    """The HTML of the report's header: what was run, provenance, wall time per stage."""
    return render_macro("provenance.html.j2", "header", facts(p), WALL_TIME_NOTE)


def figures(files: ReportFiles) -> Figures:
    losses = [
        Figure(png_uri(path), f"{label(m)}: every loss term of the main run, log scale")
        for m, path in files.losses.items()
    ]
    blocks = [
        Figure(png_uri(files.figures[name]), FIGURE_CAPTIONS[name], title, name=name, title=title)
        for name, title in FIGURE_TITLES.items()
        if name in files.figures
    ]
    return Figures(losses, blocks)


def figures_body(files: ReportFiles) -> str:
    """The HTML of the figures section: loss curves, then the other figures."""
    return render_macro("figures.html.j2", "figures", figures(files))


def build_report(
    provenance: Provenance, files: ReportFiles, methods: Sequence[str], n_items: int = 3
) -> str:
    """The report's HTML.

    Args:
        provenance: what was run (report_provenance.collect).
        files: where the tables, figures, outputs and data are.
        methods: the scored methods, in table order, the codec ceiling last.
        n_items: test items per task in the galleries.
    """
    tables = PAPER_MAIN_TABLES if provenance.benchmark == "paper" else MAIN_TABLES
    main = table_blocks(tables, files.results, files.paper)

    def present(tables: Mapping[str, tuple[str, str]]) -> list[TableBlock]:
        """The blocks of those ``tables`` the run wrote."""
        written = {k: v for k, v in tables.items() if (files.results / f"{k}.csv").is_file()}
        return table_blocks(written, files.results, files.paper)

    ablations, curves, points = map(present, (ABLATION_TABLES, CURVE_TABLES, POINT_TABLES))
    claims = evaluate_claims(files.results)
    sections = [
        *(
            [Section("claims", "The paper's claims", CLAIMS_INTRO, "claims", claims)]
            if claims
            else []
        ),
        Section("tables", "Tables", TABLE_INTRO, "tables", TablesBody(PAPER_NOTE, main)),
        Section("ablations", "Ablations", ABLATION_INTRO, "tables", TablesBody("", ablations)),
        *(
            [Section("curves", "Curves", CURVES_INTRO, "tables", TablesBody("", curves))]
            if curves
            else []
        ),
        *(
            [
                Section(
                    "points", "The fourth modality", POINT_INTRO, "tables", TablesBody("", points)
                )
            ]
            if points
            else []
        ),
        Section("figures", "Figures", "", "figures", figures(files)),
    ]
    for key, (title, _) in FAMILIES.items():
        items = gallery_items(key, files.results, files.data, methods, n_items, files.seed)
        # Markup.format escapes its arguments; LEGEND is the suite's own Markup (report_text).
        intro = Markup("The first {} test items of each {} task. {}").format(
            n_items, title.lower(), LEGEND
        )
        sections.append(
            Section(f"gallery-{key}", f"Gallery: {title.lower()}", intro, "gallery", items)
        )
    return render(
        "report.html.j2",
        benchmark=provenance.benchmark,
        summary=f"{SUMMARY} {STAND_IN_NOTE}" if provenance.stand_ins else SUMMARY,
        facts=facts(provenance),
        wall_time_note=WALL_TIME_NOTE,
        sections=sections,
    )


def write_report(path: str | Path, html: str) -> Path:
    """Write the report atomically."""
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
