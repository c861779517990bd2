"""The weights folder and what every pretrained file of the paper benchmark shares.

``$FLOWBIND_WEIGHTS`` if set, otherwise ``~/.cache/flowbind/weights``: the single files of
``metrics.backbones.registry`` and the hub model folders of ``metrics.backbones.hub`` live there.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_VAR = "FLOWBIND_WEIGHTS"
DEFAULT_DIR = Path("~/.cache/flowbind/weights")
_CHUNK = 1 << 20


class MissingWeightsError(FileNotFoundError):
    """A registry entry's weight file is not in the weights folder."""


class WeightsChecksumError(RuntimeError):
    """A weight file's sha256 differs from the published one."""


class WeightsDownloadError(RuntimeError):
    """No URL of an entry gave a complete file."""


def weights_dir() -> Path:
    """The weights folder: ``$FLOWBIND_WEIGHTS``, else ``~/.cache/flowbind/weights``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR).expanduser()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
