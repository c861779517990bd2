"""Every public module, class and function of the method, the metrics and the method interface
has a docstring, and every public function that takes a tensor or an array names it and gives a
shape, so that the API reference (docs/reference, built by mkdocstrings) says what to pass.

Public: not starting with an underscore, in a module whose path has no part that does. Inside
a public class, its public methods count (``__init__`` is documented by the class docstring).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the method, the metrics and the interface every method (FlowBind and each baseline) offers
DOCUMENTED = ("flowbind", "metrics", "bench/methods.py")
# annotations that mean "an array of some shape"
ARRAY = re.compile(r"\b(Tensor|ndarray|ArrayLike|NDArray)\b")
# a shape as the docstrings write one: (N, D), (B,), (N, K, 3), (..., D_m)
_DIM = r"(?:\.\.\.|\d+|[A-Za-z_][A-Za-z0-9_]*(?:\s*[+*\-/]\s*[A-Za-z0-9_]+)*)"
# at least one comma: (N,) or (N, D); "(optional)" and "(see below)" are not shapes
SHAPE = re.compile(rf"\({_DIM}(?:\s*,\s*{_DIM})*\s*,\s*(?:{_DIM})?\s*\)")


def modules(root: Path, documented: tuple[str, ...]) -> list[Path]:
    files = []
    for entry in documented:
        path = root / entry
        found = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in found:
            parts = file.relative_to(root).with_suffix("").parts
            if not any(p.startswith("_") and p != "__init__" for p in parts):
                files.append(file)
    return files


def public_definitions(tree: ast.Module):
    """(qualified name, node) of every public class, function and public method."""

    def walk(body, prefix):
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if node.name.startswith("_"):
                continue
            yield f"{prefix}{node.name}", node
            if isinstance(node, ast.ClassDef):
                yield from walk(node.body, f"{prefix}{node.name}.")

    yield from walk(tree.body, "")


def array_parameters(node: ast.FunctionDef) -> list[str]:
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    return [
        a.arg for a in every if a.annotation is not None and ARRAY.search(ast.unparse(a.annotation))
    ]


def problems(root: Path = ROOT, documented: tuple[str, ...] = DOCUMENTED) -> list[str]:
    found = []
    for file in modules(root, documented):
        where = file.relative_to(root)
        tree = ast.parse(file.read_text(), filename=str(file))
        if not ast.get_docstring(tree):
            found.append(f"{where}: the module has no docstring")
        for name, node in public_definitions(tree):
            doc = ast.get_docstring(node)
            if not doc:
                found.append(f"{where}:{node.lineno} {name} has no docstring")
                continue
            if isinstance(node, ast.ClassDef):
                continue
            arrays = array_parameters(node)
            unnamed = [a for a in arrays if not re.search(rf"\b{re.escape(a)}\b", doc)]
            if unnamed:
                found.append(f"{where}:{node.lineno} {name}'s docstring does not name {unnamed}")
            elif arrays and not SHAPE.search(doc):
                found.append(
                    f"{where}:{node.lineno} {name}'s docstring gives no shape, e.g. (N, D)"
                )
    return found


def test_every_public_definition_is_documented_with_shapes():
    missing = problems()
    assert not missing, f"{len(missing)} public definitions lack documentation:\n" + "\n".join(
        missing
    )


def test_the_check_finds_an_undocumented_function_and_a_missing_shape(tmp_path):
    """The check itself: an undocumented function, and a tensor argument without a shape."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""A package."""\n')
    (package / "mod.py").write_text(
        '"""A module."""\n'
        "import torch\n\n"
        "def bare(x): return x\n\n"
        "def no_shape(x: torch.Tensor) -> torch.Tensor:\n"
        '    """Doubles x."""\n'
        "    return 2 * x\n\n"
        "def shaped(x: torch.Tensor) -> torch.Tensor:\n"
        '    """Doubles x, of shape (N, D)."""\n'
        "    return 2 * x\n\n"
        "def _private(x): return x\n"
    )
    found = problems(tmp_path, ("pkg",))
    assert any("bare has no docstring" in p for p in found), found
    assert any("no_shape's docstring gives no shape" in p for p in found), found
    assert not any("shaped" in p and "no_shape" not in p for p in found), found
    assert not any("_private" in p for p in found), found


@pytest.mark.parametrize(
    "text, ok",
    [
        ("x: (N, D) latents", True),
        ("(B,) times", True),
        ("(N, K, 3) points", True),
        ("(..., D_m)", True),
        ("a tensor", False),
    ],
)
def test_shape_pattern(text, ok):
    assert bool(SHAPE.search(text)) is ok
