"""Result tables in and out through pandas: the same bytes as the csv module, text read as text."""

import csv
import io

import numpy as np
import pytest

from bench.tables import read_rows, write_csv

# Cells that need quoting or that pandas would turn into NaN or numbers if it were allowed to.
ROWS = [
    {"Method": "FlowBind", "T->I FID": "12.3 [10.1, 14.2]", "Note": 'said "hi", left', "N": ""},
    {"Method": "A, B", "T->I FID": "", "Note": "NA", "N": "007"},
    {"Method": "", "T->I FID": "nan", "Note": "two\nlines", "N": "1e3"},
    {"Method": "Codec ceiling", "T->I FID": "1.00", "Note": " padded ", "N": "→ ±"},
]


def csv_module(rows, fields=None) -> bytes:
    """What write_csv wrote before pandas: csv.DictWriter with "\\n" line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields or list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    "rows",
    [
        ROWS,
        [{"only": ""}, {"only": "x"}],  # a lone empty cell is written as ""
        [{"a": "1", "b": "2"}, {"a": "3"}],  # a missing key is an empty cell
    ],
)
def test_write_csv_writes_the_csv_modules_bytes(tmp_path, rows):
    path = write_csv(tmp_path / "out" / "table.csv", rows)
    assert path.read_bytes() == csv_module(rows)
    assert [p.name for p in path.parent.iterdir()] == ["table.csv"], "no temporary file left"


def test_write_csv_refuses_no_rows_and_unknown_columns(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        write_csv(tmp_path / "t.csv", [])
    with pytest.raises(ValueError, match=r"\['c'\]"):
        write_csv(tmp_path / "t.csv", [{"a": "1"}, {"a": "2", "c": "3"}])
    assert not (tmp_path / "t.csv").exists()


def test_read_rows_reads_every_cell_as_the_text_written(tmp_path):
    path = write_csv(tmp_path / "t.csv", ROWS)
    header, rows = read_rows(path)
    assert header == list(ROWS[0])
    assert rows == ROWS, "NA, nan, empty cells, leading zeros and padding stay as written"
    assert all(type(v) is str for r in rows for v in r.values())


def test_read_rows_short_rows_header_only_and_missing_files(tmp_path):
    (tmp_path / "short.csv").write_text("a,b,c\n1,NA\n")
    assert read_rows(tmp_path / "short.csv") == (["a", "b", "c"], [{"a": "1", "b": "NA", "c": ""}])
    (tmp_path / "header.csv").write_text("a,b\n")
    assert read_rows(tmp_path / "header.csv") == (["a", "b"], [])
    (tmp_path / "empty.csv").write_text("")
    assert read_rows(tmp_path / "empty.csv") == ([], [])
    with pytest.raises(FileNotFoundError, match="missing.csv is missing; run the generate step"):
        read_rows(tmp_path / "missing.csv", "run the generate step")


def test_loss_logs_read_through_the_shared_reader(tmp_path):
    from bench.report_figures import loss_logs

    (tmp_path / "stage1").mkdir()
    (tmp_path / "stage1" / "loss.csv").write_text(
        "step,lr,loss,extra\n10,0.001,2.5,\n20,0.001,1.5,0.5\n"
    )
    [(stage, rows)] = loss_logs(tmp_path)
    assert stage == "stage1"
    assert rows == [
        {"step": 10.0, "lr": 0.001, "loss": 2.5},
        {"step": 20.0, "lr": 0.001, "loss": 1.5, "extra": 0.5},
    ]


def test_a_task_a_released_model_cannot_run_is_a_blank_cell_with_its_reason(tmp_path):
    import json

    from bench.report_tables import blank_cells_note
    from bench.tables import TABLE2, metric_table, read_seed_runs, read_unsupported

    folder = tmp_path / "evaluate"
    for method in ("flowbind", "omniflow_official"):
        (folder / method / "seed0").mkdir(parents=True)
        for task, metric, _, target in TABLE2.values():
            record = {"kind": "fidelity", "metric": metric, "source": "", "target": target}
            record["attribute"] = ""
            records = [{**record, "value": 1.5, "low": 1.0, "high": 2.0}]
            data = {"task": task, "records": records}
            if method == "omniflow_official" and task == "t2a":
                data = {"task": task, "records": [], "unsupported": "no call for it"}
            (folder / method / "seed0" / f"{task}.json").write_text(json.dumps(data))
    methods, tasks = ["flowbind", "omniflow_official"], ["t2i", "i2t", "t2a", "a2t", "i2a", "a2i"]
    runs = read_seed_runs(folder, {m: [0] for m in methods}, tasks)
    unsupported = read_unsupported(folder, methods, tasks)
    assert unsupported == {("omniflow_official", "t2a"): "no call for it"}
    ours, theirs = metric_table(TABLE2, runs, unsupported)
    assert ours["T->A FAD"] == "1.50" and theirs["Method"] == "OmniFlow (released)"
    assert (theirs["T->A FAD"], theirs["T->A FAD low"], theirs["T->A FAD high"]) == ("", "", "")
    assert theirs["A->T CIDEr"] == "1.50" and theirs["Seeds"] == "1"
    with pytest.raises(KeyError, match="expected one FAD record"):  # blank only when marked
        metric_table(TABLE2, runs)
    note = blank_cells_note("table2", tmp_path)
    assert "OmniFlow (released) on T→A: no call for it" in note
    assert blank_cells_note("table3", tmp_path) == note  # the same tasks
    assert blank_cells_note("table7", tmp_path) == ""  # no method scored its tasks here
    assert blank_cells_note("table6", tmp_path) == ""  # not a metric table


def test_a_table_cell_is_the_seed_mean_with_its_spread_and_the_item_interval_of_the_mean(tmp_path):
    """Per-item metrics: items averaged over seeds, then resampled; Frechet distances: the
    seeds' delete-half subsample values averaged. One seed gives that seed's own record."""
    import json

    from bench.pooling import HALVES
    from bench.tables import metric_table, read_seed_runs
    from flowbind.files import write_npz
    from metrics.bootstrap import bootstrap_mean
    from metrics.fid import frechet_halves, frechet_score

    rng = np.random.default_rng(0)
    real = rng.standard_normal((40, 3))
    columns = {
        "T->I FID": ("t2i", "FID", "", "image"),
        "T->I CLIP": ("t2i", "CLIP", "text", "image"),
    }
    clip_items, fids = [], []
    for seed in (0, 1, 2):
        base = tmp_path / "flowbind" / f"seed{seed}"
        base.mkdir(parents=True)
        generated = rng.standard_normal((40, 3)) + 0.2 * seed
        clip = rng.uniform(20, 80, 40)
        value, halves = frechet_halves(generated, real, 200)
        fid, score = frechet_score(generated, real, 200), bootstrap_mean(clip, 200)
        records = [
            {
                "kind": "fidelity",
                "metric": "FID",
                "source": "",
                "target": "image",
                "attribute": "",
                "value": value,
                "low": fid.low,
                "high": fid.high,
            },
            {
                "kind": "alignment",
                "metric": "CLIP",
                "source": "text",
                "target": "image",
                "attribute": "",
                "value": score.value,
                "low": score.low,
                "high": score.high,
            },
        ]
        (base / "t2i.json").write_text(json.dumps({"task": "t2i", "records": records}))
        write_npz(
            base / "t2i.npz",
            {
                "fidelity/FID//image/" + HALVES: halves,
                "alignment/CLIP/text/image/": clip,
            },
        )
        clip_items.append(clip)
        fids.append(value)
    one = metric_table(columns, read_seed_runs(tmp_path, {"flowbind": [0]}, ["t2i"]), None, 200)
    first = json.loads((tmp_path / "flowbind" / "seed0" / "t2i.json").read_text())["records"]
    for name, record in zip(columns, first, strict=True):
        cells = [one[0][f"{name}{s}"] for s in ("", " low", " high", " sd")]
        assert cells == [f"{record[k]:.2f}" for k in ("value", "low", "high")] + [""]
    (row,) = metric_table(
        columns, read_seed_runs(tmp_path, {"flowbind": [0, 1, 2]}, ["t2i"]), None, 200
    )
    assert row["Seeds"] == "3"
    assert (
        row["T->I FID"] == f"{np.mean(fids):.2f}"
        and row["T->I FID sd"] == f"{np.std(fids, ddof=1):.2f}"
    )
    mean_clip = bootstrap_mean(np.mean(clip_items, axis=0), 200)
    assert (row["T->I CLIP low"], row["T->I CLIP high"]) == (
        f"{mean_clip.low:.2f}",
        f"{mean_clip.high:.2f}",
    )
    for name in columns:
        assert float(row[f"{name} low"]) <= float(row[name]) <= float(row[f"{name} high"])
