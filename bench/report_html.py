"""Small HTML building blocks of the report: escaping, data URIs, media tags, scroll wrappers.

Every string that comes from data or outputs goes through ``esc`` before it reaches the page;
media are inlined as base64 data URIs so that the report is one file with no requests.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

MIME = {".png": "image/png", ".wav": "audio/wav"}


def esc(text: object) -> str:
    """HTML-escaped text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


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


def img(uri: str, alt: str, cls: str = "") -> str:
    klass = f' class="{esc(cls)}"' if cls else ""
    return f'<img src="{uri}" alt="{esc(alt)}"{klass}>'


def audio(uri: str, label: str) -> str:
    """An ``<audio controls>`` player; ``preload="none"`` keeps the page light to open."""
    return f'<audio controls preload="none" src="{uri}" aria-label="{esc(label)}"></audio>'


def scroll(inner: str) -> str:
    """A wrapper that scrolls sideways instead of letting a wide table overflow the page."""
    return f'<div class="scroll">{inner}</div>'


def figure(uri: str, caption: str, alt: str | None = None) -> str:
    """A figure with a caption; ``caption`` is trusted HTML written by the report itself."""
    return f"<figure>{img(uri, alt or caption)}<figcaption>{caption}</figcaption></figure>"


def section(anchor: str, title: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="intro">{intro}</p>' if intro else ""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{intro_html}{body}</section>'
