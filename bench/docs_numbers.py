"""The documentation's measured numbers, written from a run's CSVs and logs, never by hand.

    python -m bench.docs_numbers                     # results/ -> docs/generated/*.md
    python -m bench.docs_numbers --readme README.md  # and the README's claims block
    python -m bench.docs_numbers --results other/ --quality /tmp/emb/quality.json

Each page of docs/ that shows measured results includes one of the files written here
(``--8<-- "docs/generated/table2.md"``). Every file ends with where its numbers came from: the
source file, when the run wrote it, and the commit the numbers were generated at. A file whose
source is absent from ``--results`` is left as it is, so a partial run (only the main tables,
say) refreshes what it has and keeps the rest with their own provenance; a file that was never
generated says which command fills it.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import statistics
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.claims import evaluate_claims, markdown, replace_block
from bench.report_provenance import WALL_TIME, stage_wall_times
from bench.report_tables import Cell, pivot_attributes, read_csv, table_model
from bench.report_text import (
    ABLATION_TABLES,
    CURVE_TABLES,
    FIGURE_CAPTIONS,
    MAIN_TABLES,
    POINT_TABLES,
)
from flowbind.files import atomic_file

GENERATOR = "python -m bench.docs_numbers"
# the figure at the top of the README and the documentation's home page (docs/assets/)
HEADLINE = "budget_flops.png"
# a table wider than this many columns is shown transposed: one row per column, methods across
WIDEST = 9


@dataclass(frozen=True)
class Snippet:
    """One generated file: what it shows, where its numbers come from, how to make them."""

    name: str
    source: str  # relative to the results folder
    make: str  # the command that writes the source
    render: Callable[[Path], str]
    # the files whose times date the numbers (default: the source, or its newest file)
    dated: Callable[[Path], list[Path]] | None = None


def markdown_table(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; ``|`` inside a cell is escaped."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(heads), line(["---"] * len(heads)), *(line(r) for r in rows)])


def cell_text(cell: Cell) -> str:
    """``value ± half`` (bold when best of its column); a dash for no number."""
    if cell.na:
        return "–"
    text = f"{cell.text} ± {cell.half}" if cell.half else cell.text
    return f"**{text}**" if cell.bold else text


def result_table(path: Path) -> str:
    """A result CSV as the report shows it: ``value ± half-width of the 95 % interval``, the
    best of each metric column in bold; wide tables transposed (attributes.csv is shown as the
    report pivots it: a row per task and attribute, a column per method)."""
    header, rows = read_csv(path)
    if path.stem == "attributes":
        header, rows, _ = pivot_attributes(header, rows)
        table = table_model(header, rows, best_by="row")
    else:
        table = table_model(header, rows)
    heads = [h.text for h in table.heads]
    body = [[cell_text(c) for c in row.cells] for row in table.rows]
    if path.stem != "attributes" and len(heads) > WIDEST and body:
        heads, body = (
            [heads[0], *(r[0] for r in body)],
            [[heads[j], *(r[j] for r in body)] for j in range(1, len(heads))],
        )
    return markdown_table(heads, body)


def claims_list(results: Path) -> str:
    """Every claim whose table is in ``results``, with its verdict and comparisons."""
    return "\n".join(f"- {claim.sentence()}" for claim in evaluate_claims(results))


def claim_tables(results: Path) -> list[Path]:
    return sorted({results / claim.source for claim in evaluate_claims(results)})


def stage_times(path: Path) -> str:
    """Summed job time and job count per workflow stage, from every job log's last line."""
    times = stage_wall_times(path)
    if not times:
        return ""
    rows = [[stage, str(jobs), f"{seconds:.0f}"] for stage, (seconds, jobs) in times.items()]
    total = sum(s for s, _ in times.values())
    rows.append(["**all**", str(sum(j for _, j in times.values())), f"**{total:.0f}**"])
    return markdown_table(["stage", "jobs", "job time (s)"], rows)


def train_times(path: Path) -> str:
    """Training wall time per method and variant, over seeds, from results/logs/train/.

    Only logs of a training count (they print its FitReport): a budget below a curve's longest
    is a snapshot of that run, copied in no time, not a training of its own.
    """
    found: dict[tuple[str, str], list[float]] = {}
    for log in sorted(path.rglob("*.log")):
        parts = log.relative_to(path).parts
        text = log.read_text(errors="replace")
        times = WALL_TIME.findall(text)
        if len(parts) != 3 or not times or "FitReport(" not in text:
            continue
        found.setdefault((parts[0], parts[1]), []).append(float(times[-1]))
    rows = [
        [
            method,
            variant,
            str(len(t)),
            f"{statistics.median(t):.0f}",
            f"{min(t):.0f}–{max(t):.0f}",
        ]
        for (method, variant), t in sorted(found.items())
    ]
    return markdown_table(["method", "variant", "runs", "median (s)", "range (s)"], rows)


def flatten(value: object, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [kv for k, v in value.items() for kv in flatten(v, f"{prefix}{k} / ")]
    if isinstance(value, float):
        return [(prefix[:-3], f"{value:.4g}")]
    return [(prefix[:-3], str(value))]


def quality(path: Path) -> str:
    """quality.json of ``python -m bench.embedded``: every measured figure, one row each."""
    return markdown_table(["measured", "value"], flatten(json.loads(path.read_text())))


def headline(path: Path, assets: Path) -> str:
    """Copy the run's headline figure into ``assets`` and show it with the report's caption."""
    assets.mkdir(parents=True, exist_ok=True)
    with atomic_file(assets / "headline.png") as tmp:
        tmp.write_bytes(path.read_bytes())
    caption = FIGURE_CAPTIONS[path.stem]
    return f"![{caption}](assets/headline.png)\n\n{caption}"


def plain_csv(path: Path) -> str:
    header, rows = read_csv(path)
    return markdown_table(header, [[r.get(c, "") for c in header] for r in rows])


def table_snippets() -> list[Snippet]:
    targets = {
        **{name: "snakemake --cores all tables" for name in MAIN_TABLES},
        **{name: "snakemake ablations" for name in ABLATION_TABLES},
        **{name: "snakemake curves" for name in CURVE_TABLES},
        **{
            name: "snakemake fourth_modality --config 'modalities=[text,image,audio,points]'"
            for name in POINT_TABLES
        },
    }
    return [Snippet(name, f"{name}.csv", make, result_table) for name, make in targets.items()]


SNIPPETS = [
    *table_snippets(),
    Snippet("claims", ".", "snakemake claims", claims_list, claim_tables),
    Snippet("stage_times", "logs", "any workflow run", stage_times),
    Snippet("train_times", "logs/train", "any workflow run that trains", train_times),
    Snippet(
        "codec_quality", "embedded/quality.json", "snakemake results/embedded/quality.json", quality
    ),
    Snippet("perf_train", "perf/train.csv", "python -m perf.train", plain_csv),
]


def git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


@functools.cache
def commit() -> str:
    """The short commit, marked when tracked files differ from it; read once per process,
    before the first file is written, so that the files written here do not mark it."""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} (with uncommitted changes)" if git("status", "--porcelain", "-uno") else head


def written_at(paths: Sequence[Path]) -> str:
    """When the run wrote the newest of ``paths`` (a folder: its newest file), in UTC."""
    files = [f for p in paths for f in (p.rglob("*") if p.is_dir() else [p]) if f.is_file()]
    stamp = max(p.stat().st_mtime for p in files)
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def provenance(dated: Sequence[Path], shown: str) -> str:
    return (
        f"<small>Generated by `{GENERATOR}` from `{shown}` (written {written_at(dated)}) "
        f"at commit {commit()} on {datetime.date.today().isoformat()}.</small>"
    )


def placeholder(snippet: Snippet) -> str:
    return (
        f"*Not generated yet: run `{snippet.make}`, then `make docs-numbers` "
        f"(`{GENERATOR}`) writes this from `results/{snippet.source.strip('.')}`.*"
    )


def generate(
    results: str | Path, out: str | Path, sources: Mapping[str, Path] | None = None
) -> dict[str, str]:
    """Write ``out/<name>.md`` for every snippet whose source is in ``results``.

    Args:
        results: a run's results folder (results/).
        out: the folder of generated files (docs/generated/).
        sources: name -> path, overriding where a snippet's source is read from.

    Returns:
        name -> "written", "kept" (an earlier file, its source absent) or "placeholder".
    """
    results, out = Path(results), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    assets = out.parent / "assets"
    snippets = [
        *SNIPPETS,
        Snippet("headline", HEADLINE, "snakemake curves", lambda p: headline(p, assets)),
    ]
    done = {}
    for snippet in snippets:
        source = (sources or {}).get(snippet.name, results / snippet.source)
        target = out / f"{snippet.name}.md"
        body = snippet.render(source) if source.exists() else ""
        if body:
            shown = source if snippet.name in (sources or {}) else results / snippet.source
            dated = snippet.dated(source) if snippet.dated else [source]
            note = provenance(dated, str(shown).removesuffix("/."))
            text, done[snippet.name] = f"{body}\n\n{note}\n", "written"
        elif target.is_file() and not is_placeholder(target.read_text()):
            done[snippet.name] = "kept"
            continue
        else:
            text, done[snippet.name] = f"{placeholder(snippet)}\n", "placeholder"
        with atomic_file(target) as tmp:
            tmp.write_text(text)
    return done


def is_placeholder(text: str) -> bool:
    return text.startswith("*Not generated yet")


def main(argv: Sequence[str] | None = None) -> dict[str, str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--out", type=Path, default=Path("docs/generated"))
    parser.add_argument(
        "--quality", type=Path, help="quality.json of `python -m bench.embedded` to show"
    )
    parser.add_argument("--readme", type=Path, help="rewrite this file's claims block too")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        parser.error(f"{args.results} is not a folder: pass --results with a run's results")
    if args.quality is not None and not args.quality.is_file():
        parser.error(f"{args.quality} does not exist: run `python -m bench.embedded --out DIR`")
    sources = {"codec_quality": args.quality} if args.quality else {}
    done = generate(args.results, args.out, sources)
    for name, what in done.items():
        print(f"{what:>11}  {args.out / name}.md")
    if args.readme is not None:
        write_readme_claims(args.readme, args.results)
    return done


def write_readme_claims(readme: Path, results: Path) -> None:
    """The README's claims block, from the same claims as docs/generated/claims.md."""
    claims = evaluate_claims(results)
    if not claims:
        print(f"no claims in {results}: {readme}'s claims block left as it is")
        return
    note = provenance(claim_tables(results), str(results))
    text = replace_block(readme.read_text(), markdown(claims, note), readme)
    with atomic_file(readme) as tmp:
        tmp.write_text(text)
    print(f"    written  {readme} (claims block)")


if __name__ == "__main__":
    main()
