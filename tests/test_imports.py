"""What importing costs: the workflow's light jobs must not start torch (about 2 s each)."""

import subprocess
import sys

import pytest

import flowbind

# Modules the table, ablation-summary and report jobs import (workflow/scripts/).
LIGHT = [
    "flowbind",
    "bench.ablations",
    "bench.config",
    "bench.job",
    "bench.methods",
    "bench.report",
    "bench.report_provenance",
    "bench.tables",
    "bench.embedded",
    "flowbind.files",
    "metrics.cider",
]


def imported_after(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


@pytest.mark.parametrize("module", LIGHT)
def test_light_modules_do_not_import_torch(module):
    assert "torch" not in imported_after(f"import {module}")


def test_cider_loads_the_python_lexer_only_when_it_tokenises():
    modules = imported_after("import metrics.cider")
    assert "metrics.ptb_lexer" not in modules
    modules = imported_after(
        "from metrics.ptb_tokenizer import python_tokenize\npython_tokenize({0: ['A dog.']})"
    )
    assert "metrics.ptb_lexer" in modules


def test_package_names_resolve_on_first_use():
    from flowbind import FlowBind, train
    from flowbind.model import FlowBind as ModelClass
    from flowbind.training import train as train_function

    assert FlowBind is ModelClass and train is train_function
    assert callable(flowbind.train)  # the function, not the flowbind.training module
    assert sorted(flowbind.__all__) == sorted(flowbind._EXPORTS)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        flowbind.Nope  # noqa: B018
