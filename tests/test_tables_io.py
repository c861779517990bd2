"""Result tables in and out through pandas: the same bytes as the csv module, text read as text."""

import csv
import io

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
    from bench.tables import TABLE2, metric_table, read_evaluations, read_unsupported

    folder = tmp_path / "evaluate"
    for method in ("flowbind", "omniflow_official"):
        (folder / method).mkdir(parents=True)
        for task, metric, _, target in TABLE2.values():
            record = {"metric": metric, "source": "", "target": target, "attribute": ""}
            records = [{**record, "value": 1.5, "low": 1.0, "high": 2.0}]
            data = {"task": task, "records": records}
            if method == "omniflow_official" and task == "t2a":
                data = {"task": task, "records": [], "unsupported": "no call for it"}
            (folder / method / f"{task}.json").write_text(json.dumps(data))
    methods, tasks = ["flowbind", "omniflow_official"], ["t2i", "i2t", "t2a", "a2t", "i2a", "a2i"]
    records = read_evaluations(folder, methods, tasks)
    unsupported = read_unsupported(folder, methods, tasks)
    assert unsupported == {("omniflow_official", "t2a"): "no call for it"}
    ours, theirs = metric_table(TABLE2, records, unsupported)
    assert ours["T->A FAD"] == "1.50" and theirs["Method"] == "OmniFlow (released)"
    assert (theirs["T->A FAD"], theirs["T->A FAD low"], theirs["T->A FAD high"]) == ("", "", "")
    assert theirs["A->T CIDEr"] == "1.50"
    with pytest.raises(KeyError, match="expected one FAD record"):  # blank only when marked
        metric_table(TABLE2, records)
    note = blank_cells_note("table2", tmp_path)
    assert "OmniFlow (released), T->A: no call for it" in note
    assert blank_cells_note("table3", tmp_path) == note  # the same tasks
    assert blank_cells_note("table7", tmp_path) == ""  # no method scored its tasks here
    assert blank_cells_note("table6", tmp_path) == ""  # not a metric table
