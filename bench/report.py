"""results/report.html: one self-contained page with what was run, every table, the figures and
galleries of outputs.

    html = build_report(collect(config, basedir, "results/logs"), ReportFiles(...), methods)
    write_report("results/report.html", html)

Images and audio are inlined as data URIs and the stylesheet is inline, so the file opens
anywhere without a network; it needs no JavaScript. Text from data or outputs is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.report_gallery import FAMILIES, gallery_body
from bench.report_html import esc, figure, png_uri, scroll, section
from bench.report_provenance import Provenance
from bench.report_tables import tables_body
from bench.report_text import (
    ABLATION_INTRO,
    ABLATION_TABLES,
    FIGURE_CAPTIONS,
    FIGURE_TITLES,
    LEGEND,
    MAIN_TABLES,
    PAPER_NOTE,
    SUMMARY,
    TABLE_INTRO,
    WALL_TIME_NOTE,
)
from bench.tables import label
from flowbind.files import atomic_file

STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0969da;
  --ok: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.5; font-size: 15px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; margin: .5rem 0 .25rem; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 .5rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.75rem 0 .25rem; }
h4 { font-size: .95rem; margin: .75rem 0 .35rem; }
h5 { font-size: .8rem; margin: 0 0 .3rem; }
p { margin: .35rem 0 .6rem; max-width: 75ch; }
.intro, .note, figcaption, .legend { color: var(--muted); font-size: .875rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .85em; overflow-wrap: anywhere; }
nav ul { display: flex; flex-wrap: wrap; gap: .2rem 1rem; padding: 0; margin: .5rem 0 1rem;
  list-style: none; }
nav.top { border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
nav.top ul { margin: .4rem 0; }
nav.toc { font-size: .875rem; }
a { color: var(--accent); }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr));
  gap: .5rem 2rem; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .15rem 1rem;
  margin: .25rem 0; font-size: .9rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; margin: .25rem 0 .5rem; }
table { border-collapse: collapse; font-size: .85rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .55rem; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; vertical-align: top; }
th.num, td.num { text-align: right; }
th { background: var(--soft); font-weight: 600; }
th:first-child, td:first-child { position: sticky; left: 0; background: #fff; }
th:first-child { background: var(--soft); }
td .pm { color: var(--muted); }
td .sd { display: block; color: var(--muted); font-size: .75rem; }
.dagger { color: var(--muted); line-height: 0; }
tr.ceiling td { font-style: italic; color: var(--muted); border-top: 1px dashed var(--muted); }
tr.muted td { color: var(--muted); }
td.na { color: var(--muted); text-align: center; }
.pair { display: flex; flex-wrap: wrap; gap: .5rem 2rem; align-items: flex-start; }
.pair > div { min-width: 0; max-width: 100%; }
.paper { background: var(--soft); border-left: 3px solid var(--line); padding: 0 .75rem .25rem; }
.paper h4 { color: var(--muted); }
.paper td:first-child, .paper th:first-child { background: var(--soft); }
figure { margin: .5rem 0 1.25rem; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { margin-top: .25rem; max-width: 80ch; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 34rem), 1fr));
  gap: 0 1.5rem; }
.item { margin: .75rem 0 1.25rem; }
.truth { font-size: .85rem; margin: 0 0 .35rem; }
.cards { display: flex; flex-wrap: wrap; gap: .5rem; }
.card { width: 9.6rem; border: 1px solid var(--line); border-radius: 6px; padding: .4rem;
  background: #fff; }
.card.cond { background: var(--soft); border-color: var(--muted); }
.card.ceiling { border-style: dashed; }
.thumb { width: 96px; height: 96px; image-rendering: pixelated; display: block;
  margin-bottom: .25rem; }
audio { width: 100%; height: 2rem; display: block; margin-bottom: .25rem; }
.caption { font-size: .8rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
.chips { display: flex; flex-wrap: wrap; gap: .2rem; }
.chip { font-size: .7rem; padding: 0 .3rem; border-radius: 3px; border: 1px solid;
  white-space: nowrap; display: inline-block; }
.chip.ok { color: var(--ok); border-color: var(--ok); }
.chip.bad { color: var(--bad); border-color: var(--bad); }
.chip.nc { border-style: dashed; opacity: .75; }
@media (max-width: 600px) {
  body { font-size: 14px; }
  main { padding: .75rem .6rem 2rem; }
  .card { width: calc(50% - .25rem); }
  .thumb { width: 100%; height: auto; max-width: 96px; }
}
"""


@dataclass
class ReportFiles:
    """Where the report reads from.

    Attributes:
        results: the run's results/ folder (tables, generate/, evaluate/).
        data: the benchmark's data folder (results/embedded/data).
        paper: the paper's numbers (results/paper of the repository).
        losses: method -> its loss-curve PNG.
        figures: "ia_fraction", "solver", "anchors", "interpolation" -> PNG.
    """

    results: Path
    data: Path
    paper: Path
    losses: Mapping[str, Path] = field(default_factory=dict)
    figures: Mapping[str, Path] = field(default_factory=dict)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def dl(items: Sequence[tuple[str, str]]) -> str:
    """A definition list; values are trusted HTML (escape them before)."""
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def header(p: Provenance) -> str:
    run = dl(
        [
            ("benchmark", f"{esc(p.benchmark)} (size {esc(p.size)})"),
            ("config digest", f'<span class="mono">sha256:{esc(p.digest)}</span>'),
            ("seeds", esc(", ".join(map(str, p.seeds)))),
            ("methods", esc(", ".join(label(m) for m in p.methods))),
        ]
    )
    where = dl(
        [
            ("git commit", f'<span class="mono">{esc(p.commit)}</span>'),
            ("versions", esc(" · ".join(f"{k} {v}" for k, v in p.versions.items()))),
            ("device", esc(p.device)),
            ("built", esc(p.date)),
        ]
    )
    rows = "".join(
        f'<tr><td>{esc(stage)}</td><td class="num">{jobs}</td>'
        f'<td class="num">{duration(s)}</td></tr>'
        for stage, (s, jobs) in p.wall_times.items()
    )
    total = f'<tr><th>total</th><th></th><th class="num">{duration(p.total_seconds)}</th></tr>'
    times = scroll(
        '<table><thead><tr><th>stage</th><th class="num">jobs</th>'
        f'<th class="num">wall time</th></tr></thead><tbody>{rows}</tbody>'
        f"<tfoot>{total}</tfoot></table>"
    )
    return (
        f'<div class="facts"><div><h4>What was run</h4>{run}<h4>Provenance</h4>{where}</div>'
        f"<div><h4>Wall time per stage</h4>{times}{WALL_TIME_NOTE}</div></div>"
    )


def figures_body(files: ReportFiles) -> str:
    losses = "".join(
        figure(png_uri(path), f"{esc(label(m))}: every loss term of the main run, log scale")
        for m, path in files.losses.items()
    )
    blocks = [
        f'<div><h3 id="fig-{name}">{esc(title)}</h3>'
        f"{figure(png_uri(files.figures[name]), FIGURE_CAPTIONS[name], title)}</div>"
        for name, title in FIGURE_TITLES.items()
        if name in files.figures
    ]
    return (
        f'<h3 id="fig-loss">Training loss</h3><div class="grid">{losses}</div>'
        f'<div class="grid">{"".join(blocks[:-1])}</div>{"".join(blocks[-1:])}'
    )


def contents(tables: Mapping[str, tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="#{esc(n)}">{esc(t)}</a></li>' for n, (t, _) in tables.items())
    return f'<nav class="toc"><ul>{links}</ul></nav>'


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
    paper_note = f'<p class="intro">{PAPER_NOTE}</p>'
    sections = [
        (
            "tables",
            "Tables",
            paper_note
            + contents(MAIN_TABLES)
            + tables_body(MAIN_TABLES, files.results, files.paper),
            TABLE_INTRO,
        ),
        (
            "ablations",
            "Ablations",
            contents(ABLATION_TABLES) + tables_body(ABLATION_TABLES, files.results, files.paper),
            ABLATION_INTRO,
        ),
        ("figures", "Figures", figures_body(files), ""),
    ]
    for key, (title, _) in FAMILIES.items():
        body = gallery_body(key, files.results, files.data, methods, n_items)
        intro = f"The first {n_items} test items of each {title.lower()} task. {LEGEND}"
        sections.append((f"gallery-{key}", f"Gallery: {title.lower()}", body, intro))
    nav = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t, _, _ in sections)
    body = "".join(section(a, t, b, intro) for a, t, b, intro in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>FlowBind benchmark report · {esc(provenance.benchmark)}</title>"
        f"<style>{STYLE}</style></head><body><main>"
        f'<h1>FlowBind benchmark report</h1><p class="intro">{SUMMARY}</p>'
        f'<nav class="top"><ul>{nav}</ul></nav>{header(provenance)}{body}</main></body></html>\n'
    )


def write_report(path: str | Path, html: str) -> Path:
    """Write the report atomically."""
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
