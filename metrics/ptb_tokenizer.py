"""COCO caption tokenisation: Stanford's PTBTokenizer (Java) and a pure-Python equivalent.

As pycocoevalcap's PTBTokenizer: captions one a line, ``java -cp stanford-corenlp-3.4.1.jar
edu.stanford.nlp.process.PTBTokenizer -preserveLines -lowerCase FILE``, then the tokens of
:data:`PUNCTUATIONS` dropped. The temporary file goes to the system temporary folder, never into
the package folder, so read-only installs work; every line break inside a caption becomes a
space (pycocoevalcap replaces only ``\\n``, and any other line break shifts every later caption
onto the wrong id). ``tokenize(captions, backend="auto")`` uses Java when ``java`` and the jar
are present, else :func:`python_tokenize`; :func:`tokenizer_backend` says which.

The Python tokenizer, :func:`python_tokenize`, lives in :mod:`metrics.ptb_lexer` and is
imported on first use: building its rules takes a few tenths of a second.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

from metrics.validation import MetricInputError

__all__ = [
    "PUNCTUATIONS",
    "java_tokenizer_available",
    "ptb_tokenize",
    "python_tokenize",
    "tokenize",
    "tokenizer_backend",
]

#: Tokens pycocoevalcap's PTBTokenizer removes after tokenising (compared with the
#: lower-cased tokens, so ``-lrb-`` and friends are kept).
PUNCTUATIONS = frozenset(
    [
        "''",
        "'",
        "``",
        "`",
        "-LRB-",
        "-RRB-",
        "-LCB-",
        "-RCB-",
        ".",
        "?",
        "!",
        ",",
        ":",
        "-",
        "--",
        "...",
        ";",
    ]
)

PTB_JAR = "stanford-corenlp-3.4.1.jar"
PTB_CLASS = "edu.stanford.nlp.process.PTBTokenizer"
PTB_OPTIONS = ("-preserveLines", "-lowerCase")

#: Line breaks replaced by a space before tokenising (one caption must stay one line).
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x0b\x0c]")


# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------


def _jar_path() -> Path | None:
    """The PTBTokenizer jar shipped with pycocoevalcap, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec("pycocoevalcap")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.submodule_search_locations is None:
        return None
    for location in spec.submodule_search_locations:
        jar = Path(location) / "tokenizer" / PTB_JAR
        if jar.is_file():
            return jar
    return None


def java_tokenizer_available() -> bool:
    """True when ``java`` is on the PATH and pycocoevalcap's PTBTokenizer jar is installed."""
    return shutil.which("java") is not None and _jar_path() is not None


def tokenizer_backend(backend: str = "auto") -> str:
    """The backend ``backend`` resolves to: ``"java"`` or ``"python"``.

    ``"auto"`` gives ``"java"`` when :func:`java_tokenizer_available`, else ``"python"``.
    """
    if backend == "auto":
        return "java" if java_tokenizer_available() else "python"
    if backend not in ("java", "python"):
        raise ValueError(f"backend must be 'auto', 'java' or 'python', got {backend!r}")
    return backend


def _flatten(captions: Mapping[Hashable, Sequence[str]]) -> tuple[list[Hashable], list[str]]:
    """(id of each line, line) in mapping order; line breaks inside a caption become spaces."""
    ids: list[Hashable] = []
    lines: list[str] = []
    for key, texts in captions.items():
        if isinstance(texts, str):
            raise MetricInputError(f"captions of id {key!r} must be a list of strings, got a str")
        for text in texts:
            if not isinstance(text, str):
                raise MetricInputError(f"caption of id {key!r} is not a string: {text!r}")
            ids.append(key)
            lines.append(_LINE_BREAKS.sub(" ", text))
    return ids, lines


def _regroup(
    captions: Mapping[Hashable, Sequence[str]], ids: list[Hashable], token_lines: list[str]
) -> dict[Hashable, list[str]]:
    """pycocoevalcap's post-processing: drop PUNCTUATIONS tokens, regroup lines by id."""
    out: dict[Hashable, list[str]] = {key: [] for key in captions}
    for key, line in zip(ids, token_lines, strict=True):
        words = [w for w in line.rstrip().split(" ") if w not in PUNCTUATIONS]
        out[key].append(" ".join(words))
    return out


def ptb_tokenize(captions: Mapping[Hashable, Sequence[str]]) -> dict[Hashable, list[str]]:
    """Tokenise with the Stanford PTBTokenizer jar, as pycocoevalcap's ``PTBTokenizer`` does.

    ``captions`` maps an id to a list of caption strings; the result maps the same ids to the
    tokenised captions (space-joined tokens, punctuation removed), in the same order. The
    captions are written one a line (line breaks inside a caption replaced by spaces) to a
    temporary file in :func:`tempfile.gettempdir`, never in the package folder; the jar runs
    with ``-preserveLines -lowerCase`` on it; the file is deleted afterwards.
    """
    jar = _jar_path()
    java = shutil.which("java")
    if jar is None or java is None:
        raise RuntimeError(
            "the Java PTB tokenizer needs `java` on the PATH and pycocoevalcap installed; "
            "use backend='python' (or 'auto') instead"
        )
    ids, lines = _flatten(captions)
    if not lines:
        return {key: [] for key in captions}
    handle, path = tempfile.mkstemp(prefix="ptb-tokenize-", suffix=".txt")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write("\n".join(lines).encode("utf-8"))
        result = subprocess.run(
            [java, "-cp", str(jar), PTB_CLASS, *PTB_OPTIONS, path],
            cwd=os.path.dirname(path),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    finally:
        os.remove(path)
    if result.returncode != 0:
        raise RuntimeError(
            f"PTBTokenizer failed (exit {result.returncode}): "
            f"{result.stderr.decode('utf-8', 'replace')[-2000:]}"
        )
    token_lines = result.stdout.decode("utf-8").split("\n")
    if len(token_lines) > len(lines):
        raise RuntimeError(
            f"PTBTokenizer returned {len(token_lines)} lines for {len(lines)} captions"
        )
    # A last caption that yields no token leaves no trailing line: pad with empty lines.
    token_lines += [""] * (len(lines) - len(token_lines))
    return _regroup(captions, ids, token_lines)


def python_tokenize(captions: Mapping[Hashable, Sequence[str]]) -> dict[Hashable, list[str]]:
    """Tokenise like :func:`ptb_tokenize` without Java (see the module docstring).

    The captions are joined with newlines exactly as for the jar and lexed as one text, so the
    result matches the Java path caption for caption, context across lines included.
    """
    ids, lines = _flatten(captions)
    if not lines:
        return {key: [] for key in captions}
    from metrics.ptb_lexer import lex_lines

    token_lines = lex_lines("\n".join(lines))
    if len(token_lines) != len(lines):  # pragma: no cover - the lexer keeps line structure
        raise RuntimeError(f"lexer returned {len(token_lines)} lines for {len(lines)} captions")
    return _regroup(captions, ids, token_lines)


def tokenize(
    captions: Mapping[Hashable, Sequence[str]], backend: str = "auto"
) -> dict[Hashable, list[str]]:
    """Tokenise with the backend :func:`tokenizer_backend` resolves ``backend`` to."""
    if tokenizer_backend(backend) == "java":
        return ptb_tokenize(captions)
    return python_tokenize(captions)
