"""The report's HTML comes from Jinja2 templates (bench/templates/*.html.j2); media are data URIs.

The environment autoescapes: every value a template prints is HTML-escaped (quotes too, so it is
safe inside attributes) unless it is ``markupsafe.Markup``, which only the suite's own prose
(bench/report_text.py) and the templates' own output are. Undefined names are errors
(``StrictUndefined``), so a misspelt field fails the build instead of printing nothing. Media are
inlined as base64 data URIs, so the report is one file with no requests.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

MIME = {".png": "image/png", ".wav": "audio/wav"}

ENV = Environment(
    loader=PackageLoader("bench", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(template: str, **context: Any) -> str:
    """A whole template of bench/templates, rendered with ``context``."""
    return ENV.get_template(template).render(**context)


def render_macro(template: str, name: str, *args: Any) -> str:
    """One macro of a template, called with ``args`` (a fragment of the page, for tests)."""
    return str(getattr(ENV.get_template(template).module, name)(*args))


def data_uri(content: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def file_uri(path: str | Path) -> str:
    """A data URI of a PNG or WAV file, by its suffix."""
    path = Path(path)
    if path.suffix not in MIME:
        raise ValueError(f"cannot inline {path}: expected one of {sorted(MIME)}")
    return data_uri(path.read_bytes(), MIME[path.suffix])


def png_uri(path: str | Path) -> str:
    """A data URI of a PNG, recompressed at the highest zlib level (thumbnails stay small)."""
    from PIL import Image

    with Image.open(path) as image:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    return data_uri(buffer.getvalue(), "image/png")
