"""results/report.html: tables with bold bests and intervals, escaped text, inlined media, and a
page that renders in a browser at desktop and phone widths.

The unit tests build pieces of the report from small hand-made CSVs and outputs. The others
check the report the tiny workflow run wrote (the session's `tiny_run`, tests/conftest.py); set
FLOWBIND_TINY_RUN to the work folder of a finished tiny run to check that one instead. The
browser test needs Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`).
"""

import csv
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from bench.config import validate_config
from bench.embedded.storage import write_png
from bench.embedded.world import ATTRIBUTE_NAMES
from bench.report import ReportFiles, build_report, duration, figures_body, header
from bench.report_gallery import task_gallery
from bench.report_provenance import Provenance, collect, config_digest, stage_wall_times
from bench.report_tables import pivot_attributes, render_paper_table, render_table
from bench.report_text import ABLATION_TABLES, CURVE_TABLES, MAIN_TABLES, POINT_TABLES
from bench.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = "needs Chromium at /usr/bin/chromium; on Debian: apt-get install chromium"
SCRIPT = '<script>alert("x")</script>'
# As Jinja2's autoescape (markupsafe) writes it: &#34; for a double quote, &#39; for a single one.
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
# A value with a tag, quotes and an ampersand, for every kind of field the templates print.
EVIL = '<script>alert("x")</script> & co'
EVIL_ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co"
# The methods of the tiny run the report tests read (workflow/config/tiny.yaml).
METHODS = [
    *yaml.safe_load((ROOT / "workflow" / "config" / "tiny.yaml").read_text())["methods"],
    "codec_ceiling",
]


def cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html)


def assert_escaped(html: str, times: int) -> None:
    """EVIL appears ``times`` times, escaped each time, and never as markup."""
    assert "<script" not in html and " & co" not in html
    assert html.count(EVIL_ESCAPED) == times, html


# -- fast: tables, gallery, provenance -------------------------------------------------------


def test_tables_bold_the_best_by_direction_skip_the_ceiling_and_show_half_widths():
    header = ["Method", "T->I FID", "T->I FID low", "T->I FID high"]
    header += ["I->T CLIP", "I->T CLIP low", "I->T CLIP high"]
    rows = [
        {
            "Method": "A",
            "T->I FID": "10.00",
            "T->I FID low": "8.00",
            "T->I FID high": "13.00",
            "I->T CLIP": "30.5",
            "I->T CLIP low": "29.5",
            "I->T CLIP high": "31.5",
        },
        {
            "Method": "B",
            "T->I FID": "12.00",
            "T->I FID low": "11.00",
            "T->I FID high": "15.00",
            "I->T CLIP": "31.0",
            "I->T CLIP low": "30.0",
            "I->T CLIP high": "32.0",
        },
        {
            "Method": "Codec ceiling",
            "T->I FID": "1.00",
            "T->I FID low": "0.50",
            "T->I FID high": "1.50",
            "I->T CLIP": "90.0",
            "I->T CLIP low": "89.0",
            "I->T CLIP high": "91.0",
        },
    ]
    html = render_table(header, rows)
    assert "T→I FID ↓" in html and "I→T CLIP ↑" in html
    assert "low" not in html.split("<tbody>")[0], "companion columns are folded into the cells"
    a, b, ceiling = (cells(row) for row in html.split("<tbody>")[1].split("</tr>")[:3])
    assert a[1].startswith("<strong>10.00 ") and "± 2.50" in a[1]  # lower FID wins
    assert not b[1].startswith("<strong>") and "± 2.00" in b[1]
    assert b[2].startswith("<strong>31.0 ") and "± 1.0" in b[2]  # higher CLIP wins
    assert not any("<strong>" in c for c in ceiling), "the codec ceiling is never bolded"
    assert 'title="95 % interval [8.00, 13.00]"' in html


def test_tables_mark_values_outside_their_interval_show_sd_and_escape_text():
    header = ["Method", "Seeds", "X CKNNA", "X CKNNA sd", "X CKNNA low", "X CKNNA high"]
    rows = [
        {
            "Method": SCRIPT,
            "Seeds": "2",
            "X CKNNA": "0.0900",
            "X CKNNA sd": "0.0100",
            "X CKNNA low": "0.1100",
            "X CKNNA high": "0.1800",
        },
        {
            "Method": "tie",
            "Seeds": "2",
            "X CKNNA": "0.0900",
            "X CKNNA sd": "",
            "X CKNNA low": "0.0800",
            "X CKNNA high": "0.1000",
        },
    ]
    html = render_table(header, rows)
    assert SCRIPT not in html and ESCAPED in html
    first, second = (cells(row) for row in html.split("<tbody>")[1].split("</tr>")[:2])
    assert "± 0.0350" in first[2] and "†" in first[2] and "sd 0.0100" in first[2]
    assert "†" not in second[2] and "sd" not in second[2]
    assert first[2].startswith("<strong>") and second[2].startswith("<strong>"), "ties both bold"


def test_paper_table_and_attribute_pivot():
    paper = render_paper_table(
        ["Method", "T->A FAD", "A->T CIDEr"],
        [
            {"Method": "CoDi", "T->A FAD": "9.84", "A->T CIDEr": ""},
            {"Method": "FlowBind", "T->A FAD": "4.19", "A->T CIDEr": "55.11"},
        ],
        ["T->A FAD", "A->T CIDEr"],
    )
    assert "T→A FAD ↓" in paper and "<strong>4.19</strong>" in paper and "–" in paper
    header = ["Method", "Task", "Target", "Attribute", "Conveyed by source"]
    header += ["Accuracy (%)", "Accuracy (%) low", "Accuracy (%) high", "Chance (%)"]
    rows = [
        dict(zip(header, [m, "I->A", "audio", a, c, v, "0.0", "100.0", "33.3"], strict=True))
        for m, a, c, v in [
            ("FlowBind", "count", "yes", "62.0"),
            ("Text-anchoring", "count", "yes", "34.0"),
            ("Codec ceiling", "count", "yes", "92.0"),
            ("FlowBind", "pitch", "no", "30.0"),
            ("Text-anchoring", "pitch", "no", "35.0"),
            ("Codec ceiling", "pitch", "no", "99.0"),
        ]
    ]
    pivot_header, pivot_rows, classes = pivot_attributes(header, rows)
    assert [r["Attribute"] for r in pivot_rows] == ["count", "pitch"]
    assert classes == {1: "muted"}
    html = render_table(pivot_header, pivot_rows, best_by="row", row_class=classes)
    count, pitch = (cells(row) for row in html.split("<tbody>")[1].split("</tr>")[:2])
    assert count[0] == "I→A" and count[5].startswith("<strong>62.0")
    assert pitch[6].startswith("<strong>35.0") and "<strong>" not in pitch[7]


def gallery_inputs(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """(results, data) of two i2t items whose captions and outputs are ``text`` plus a suffix.

    The manifests list the items in reverse id order; flowbind gets every attribute of the
    first manifest row right, the codec ceiling every one wrong.
    """
    task, ids = TASKS["i2t"], ["test-ti-00000", "test-ti-00001"]
    data, results = tmp_path / "data", tmp_path / "results"
    split = data / task.split
    (split / "image").mkdir(parents=True)
    with (split / "attributes.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *ATTRIBUTE_NAMES])
        writer.writerows([[i, "disc", "red", "small", "low", "short", "1"] for i in ids])
    (split / "captions.json").write_text(json.dumps({i: [text] for i in ids}))
    for i in ids:
        write_png(split / "image" / f"{i}.png", np.zeros((64, 64, 3), np.uint8))
    for method, right in (("flowbind", 100.0), ("codec_ceiling", 0.0)):
        folder = results / "generate" / method / "seed0" / task.key
        folder.mkdir(parents=True)
        with (folder / "manifest.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "split", "task", "sources", "text"])
            for i in reversed(ids):  # manifest order, not id order, indexes the per-item arrays
                writer.writerow([i, task.split, task.name, "image", f"{text} {method} {i}"])
        per_item = {
            f"attribute/accuracy/image/text/{a}": np.array([right, 100.0 - right])
            for a in ("kind", "colour", "size", "pitch", "envelope")
        }
        (results / "evaluate" / method / "seed0").mkdir(parents=True)
        np.savez(results / "evaluate" / method / "seed0" / f"{task.key}.npz", **per_item)
    return results, data


def test_gallery_escapes_text_follows_manifest_order_and_inlines_media(tmp_path):
    results, data = gallery_inputs(tmp_path, SCRIPT)
    html = task_gallery(TASKS["i2t"], results, data, ["flowbind", "codec_ceiling"], n_items=1)
    assert "<script" not in html and ESCAPED in html
    assert "test-ti-00001" in html and "test-ti-00000" not in html, "first manifest row only"
    flowbind, ceiling = re.split(r'<div class="card[ "]', html)[2:4]
    assert flowbind.count("✓") == 5 and ceiling.count("✗") == 5
    assert 'class="chip ok nc"' in flowbind, "pitch and envelope: no image shows them"
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', html)


def test_every_kind_of_field_is_escaped(tmp_path):
    """A tag, quotes and & in a table cell, a header, an sd, a caption, a figure caption and
    each provenance field come out as text, never as markup."""
    header_ = ["Method", EVIL, "X CKNNA", "X CKNNA sd", "X CKNNA low", "X CKNNA high"]
    row = dict(zip(header_, [EVIL, EVIL, "0.5", EVIL, "0.4", "0.6"], strict=True))
    assert_escaped(render_table(header_, [row]), 4)  # a cell, a header, a plain cell, an sd
    assert_escaped(render_paper_table(["Method", "X"], [{"Method": EVIL, "X": "1"}], ["X"]), 1)
    results, data = gallery_inputs(tmp_path / "gallery", EVIL)
    html = task_gallery(TASKS["i2t"], results, data, ["flowbind", "codec_ceiling"], n_items=1)
    assert "<script" not in html and " & co" not in html
    assert html.count(f'<p class="caption">{EVIL_ESCAPED} ') == 2, "one output per method"
    provenance = Provenance(
        benchmark=EVIL,
        size=EVIL,
        digest=EVIL,
        seeds=[0],
        methods=[EVIL],
        commit=EVIL,
        versions={"python": EVIL},
        device=EVIL,
        date=EVIL,
        wall_times={EVIL: (1.0, 1)},
    )
    assert_escaped(header(provenance), 9)  # every field but the seeds, and a stage's name
    png = tmp_path / "loss.png"
    write_png(png, np.zeros((8, 8, 3), np.uint8))
    files = ReportFiles(results=tmp_path, data=tmp_path, paper=tmp_path, losses={EVIL: png})
    html = figures_body(files)
    assert_escaped(html, 2)  # the caption and the image's alt text
    assert f"<figcaption>{EVIL_ESCAPED}: every loss term" in html


def test_provenance_digest_and_wall_times(tmp_path):
    assert config_digest({"a": 1, "b": [1, 2]}) == config_digest({"b": [1, 2], "a": 1})
    assert config_digest({"a": 1}) != config_digest({"a": 2})
    logs = tmp_path / "logs"
    (logs / "train" / "flowbind").mkdir(parents=True)
    (logs / "codec_text.log").write_text("...\nwall time: 2.5 s on 1 thread(s)\n")
    (logs / "codec_image.log").write_text("wall time: 1.5 s on 1 thread(s)\n")
    (logs / "train" / "flowbind" / "seed0.log").write_text("step 10\nwall time: 60.0 s\n")
    (logs / "train" / "running.log").write_text("step 10\n")  # unfinished: not counted
    assert stage_wall_times(logs) == {"codec": (4.0, 2), "train": (60.0, 1)}
    assert duration(4.0) == "4.0 s" and duration(125) == "2 min 05 s"


# -- slow: the report of a tiny workflow run ------------------------------------------------


@pytest.fixture(scope="session")
def report_run(request) -> Path:
    """A finished tiny run's work folder: FLOWBIND_TINY_RUN, else the session's own run."""
    given = os.environ.get("FLOWBIND_TINY_RUN")
    return Path(given) if given else request.getfixturevalue("tiny_run")


def table_blocks(html: str) -> dict[str, str]:
    """Table name -> the HTML of its block (this run's table and the paper's)."""
    parts = re.split(r'<div class="table-block" id="([a-z0-9_]+)">', html)
    names, blocks = parts[1::2], parts[2::2]
    return {n: b.split("</section>")[0] for n, b in zip(names, blocks, strict=True)}


def test_tiny_run_report_has_every_table_and_only_inlined_media(report_run):
    path = report_run / "results" / "report.html"
    html = path.read_text(encoding="utf-8")
    size_mb = path.stat().st_size / 1e6
    print(f"report size: {size_mb:.1f} MB")
    assert size_mb < 15
    blocks = table_blocks(html)
    # the tiny config has the fourth modality on: its tables are shown too
    tables = {*MAIN_TABLES, *ABLATION_TABLES, *CURVE_TABLES, *POINT_TABLES}
    assert set(blocks) == tables
    for name, block in blocks.items():
        ours = block.split('<div class="paper">')[0]
        values = [
            re.sub(r"<[^>]+>", " ", c).split()
            for c in re.findall(r'<td class="num"[^>]*>(.*?)</td>', ours)
        ]
        assert values, f"{name}: no numbers"
        # a dash: a blank cell, a task text anchoring cannot serve or a step time not measured
        blank = [v for v in values if v[0] == "–"]
        assert not blank or name in ("table9", "cost_scaling"), name
        assert all(math.isfinite(float(v[0])) for v in values if v[0] != "–"), name
        if name not in ("table1", "table6", "budget_fraction", "cost_scaling"):  # intervals
            assert "<strong>" in ours and 'class="pm">± ' in ours, name
    assert "reported numbers: its own benchmark, not comparable" in blocks["table2"]
    for attribute in re.findall(r"<(?:img|audio)\b[^>]*>", html):
        assert re.search(r'src="data:(image/png|audio/wav);base64,', attribute), attribute[:80]
    assert html.count("<audio controls") >= 50 and "<script" not in html
    references = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert not [r for r in references if r.startswith(("http:", "https:", "//"))]
    assert "url(" not in html and "@import" not in html
    for gallery in ("one-to-one", "one-to-many", "many-to-one"):
        assert f'id="gallery-{gallery}"' in html
    for stage in ("train", "generate", "evaluate"):
        assert re.search(rf"<td>{stage}</td>", html), f"no wall time for {stage}"
    assert "git commit" in html and "sha256:" in html


def injected_report_files(
    report_run: Path, tmp_path: Path, caption: str, method: str | None = None
) -> tuple[dict, ReportFiles]:
    """(config, files) of the tiny run with ``caption`` as flowbind's first i2t output and, if
    given, ``method`` as the name of table2's first row and of a loss curve."""
    run = report_run / "results"
    results = tmp_path / "results"
    results.mkdir()
    for entry in run.iterdir():
        if entry.name == "table2.csv" and method is not None:
            with entry.open(newline="") as f:
                rows = list(csv.reader(f))
            rows[1][0] = method
            with (results / entry.name).open("w", newline="") as f:
                csv.writer(f).writerows(rows)
        elif entry.name != "generate":
            (results / entry.name).symlink_to(entry)
    for method_dir in (run / "generate").iterdir():
        if method_dir.name != "flowbind":
            (results / "generate" / method_dir.name).parent.mkdir(exist_ok=True)
            (results / "generate" / method_dir.name).symlink_to(method_dir)
    for task in (run / "generate" / "flowbind" / "seed0").iterdir():
        target = results / "generate" / "flowbind" / "seed0" / task.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if task.name == "i2t":
            shutil.copytree(task, target)
            with (target / "manifest.csv").open(newline="") as f:
                rows = list(csv.reader(f))
            rows[1][-1] = caption
            with (target / "manifest.csv").open("w", newline="") as f:
                csv.writer(f).writerows(rows)
        else:
            target.symlink_to(task)
    config = validate_config(
        yaml.safe_load((ROOT / "workflow" / "config" / "tiny.yaml").read_text()),
        ROOT / "workflow" / "schemas" / "config.schema.yaml",
    )
    figures = {n: run / "report" / f"{n}.png" for n in ("anchors", "interpolation")}
    figures |= {n: run / f"{n}.png" for n in ("ia_fraction", "solver")}
    losses = {m: run / "report" / f"loss_{m}.png" for m in config["methods"]}
    if method is not None:
        losses[method] = losses["flowbind"]
    files = ReportFiles(
        results=results,
        data=run / "embedded" / "data",
        paper=ROOT / "results" / "paper",
        losses=losses,
        figures=figures,
    )
    return config, files


def test_tiny_run_report_escapes_an_injected_caption(report_run, tmp_path):
    config, files = injected_report_files(report_run, tmp_path, SCRIPT)
    logs = report_run / "results" / "logs"
    html = build_report(collect(config, tmp_path, logs), files, METHODS)
    assert "<script" not in html and ESCAPED in html


def test_tiny_run_report_escapes_injected_cells_captions_and_provenance(report_run, tmp_path):
    config, files = injected_report_files(report_run, tmp_path, EVIL, method=EVIL)
    provenance = collect(config, tmp_path, report_run / "results" / "logs")
    provenance.benchmark = provenance.commit = provenance.device = EVIL
    html = build_report(provenance, files, METHODS)
    assert "<script" not in html and " & co" not in html
    assert f"<title>FlowBind benchmark report · {EVIL_ESCAPED}</title>" in html
    assert f"<td>{EVIL_ESCAPED}</td>" in table_blocks(html)["table2"]
    assert f'<p class="caption">{EVIL_ESCAPED}</p>' in html
    assert f"<figcaption>{EVIL_ESCAPED}: every loss term" in html
    assert f'<span class="mono">{EVIL_ESCAPED}</span>' in html  # the git commit
    assert f"<dd>{EVIL_ESCAPED}</dd>" in html  # the device
    assert f"<dd>{EVIL_ESCAPED} (size " in html  # the benchmark


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


# The report has no JavaScript; this probe page loads it in an iframe of the given width and
# records whether anything sticks out sideways (tables scroll inside their own wrappers).
PROBE = """<!DOCTYPE html><html><body>
<iframe src="{page}" style="width:{width}px;height:900px;border:0"></iframe>
<script>window.addEventListener("load", function () {{
  var d = document.querySelector("iframe").contentDocument.documentElement;
  document.body.setAttribute("data-widths", d.clientWidth + " " + d.scrollWidth);
}});</script></body></html>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
@pytest.mark.parametrize("width", [1280, 400])
def test_report_renders_in_headless_chromium(report_run, tmp_path, width):
    page = report_run / "results" / "report.html"
    shot = tmp_path / f"report_{width}.png"
    result = chromium(
        f"--window-size={width},1600", f"--screenshot={shot}", page.as_uri(), tmp=tmp_path
    )
    assert shot.is_file(), result.stderr[-2000:]
    console = [ln for ln in result.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    with Image.open(shot) as image:
        assert image.size == (width, 1600)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "a blank or near-blank page"
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.format(page=page.as_uri(), width=width))
    dom = chromium(
        "--allow-file-access-from-files",
        "--window-size=1400,1000",
        "--dump-dom",
        probe.as_uri(),
        tmp=tmp_path,
    ).stdout
    client, scroll = map(int, re.search(r'data-widths="(\d+) (\d+)"', dom).groups())
    assert scroll <= client, f"the page is {scroll} px wide in a {client} px window"
