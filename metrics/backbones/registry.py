"""One registry of the pretrained weight files the paper benchmark's metric backbones load.

Nothing is downloaded at run time. Each entry names the official file, where to get it and, when
it is published, its sha256. Files live in one folder: ``$FLOWBIND_WEIGHTS`` if set, otherwise
``~/.cache/flowbind/weights``; an entry's file is ``<folder>/<filename>``.

    weight_path(name)   the file's path, or MissingWeightsError saying where to put it
    verify(name)        sha256 of the file: True when it matches, False when no checksum is known,
                        WeightsChecksumError when it differs
    download(name)      fetch (urllib), verify, then move into place atomically

Command line (on a machine with internet for ``download``)::

    python -m metrics.backbones.registry list
    python -m metrics.backbones.registry download [NAME ...]
    python -m metrics.backbones.registry verify [NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class WeightEntry:
    """One official weight file: local file name, download URLs (tried in order), sha256."""

    name: str
    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    description: str

    @property
    def path(self) -> Path:
        """Where the file must be: ``weights_dir() / filename`` (whether present or not)."""
        return weights_dir() / self.filename


# Checksums. Sources of the full sha256 values:
# - OpenAI CLIP: the download URL's folder is the file's sha256; OpenAI's own loader checks it.
# - pytorch-fid Inception and torchvggish VGGish: torch.hub names a file ``<stem>-<first 8 hex
#   of its sha256>.pth``; the full digests below are the ones pinned for these URLs by several
#   independent public projects, and each starts with the 8 hex of its file name.
# - LAION-CLAP and wav2clip publish no checksum: None, and verify() says it cannot verify.
REGISTRY: dict[str, WeightEntry] = {
    entry.name: entry
    for entry in (
        WeightEntry(
            name="inception-fid",
            filename="pt_inception-2015-12-05-6726825d.pth",
            urls=(
                "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                "pt_inception-2015-12-05-6726825d.pth",
            ),
            sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
            description="Inception-v3 of TensorFlow's FID (2015-12-05), pytorch-fid port",
        ),
        WeightEntry(
            name="vggish",
            filename="vggish-10086976.pth",
            urls=(
                "https://github.com/harritaylor/torchvggish/releases/download/v0.1/"
                "vggish-10086976.pth",
            ),
            sha256="10086976245803799d9194e9a73d9b6c1549c71d1b80106f5cade5608a561f4b",
            description="VGGish (AudioSet), torchvggish port; FAD backbone",
        ),
        WeightEntry(
            name="clip-vit-b-32-openai",
            filename="ViT-B-32.pt",
            urls=(
                "https://openaipublic.azureedge.net/clip/models/"
                "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
            ),
            sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
            description="OpenAI CLIP ViT-B/32 (TorchScript archive); CLIP score, AIS image side",
        ),
        WeightEntry(
            name="wav2clip",
            filename="Wav2CLIP.pt",
            urls=(
                "https://github.com/descriptinc/lyrebird-wav2clip/releases/download/"
                "v0.1.0-alpha/Wav2CLIP.pt",
            ),
            sha256=None,  # not published
            description="wav2clip audio encoder (v0.1.0-alpha); AIS audio side",
        ),
        WeightEntry(
            name="clap-630k-audioset",
            filename="630k-audioset-best.pt",
            urls=("https://huggingface.co/lukewys/laion_clap/resolve/main/630k-audioset-best.pt",),
            sha256=None,  # not published in the laion_clap sources
            description="LAION-CLAP HTSAT-tiny, non-fusion, LAION-630k + AudioSet; CLAP score",
        ),
        WeightEntry(
            name="clap-music-audioset",
            filename="music_audioset_epoch_15_esc_90.14.pt",
            urls=(
                "https://huggingface.co/lukewys/laion_clap/resolve/main/"
                "music_audioset_epoch_15_esc_90.14.pt",
            ),
            sha256=None,  # not published in the laion_clap sources
            description="LAION-CLAP HTSAT-base, non-fusion, music + AudioSet",
        ),
        WeightEntry(
            name="clap-flowbind",
            filename="flowbind-clap.pt",
            urls=("https://huggingface.co/yeonwoo378/flowbind/resolve/main/clap.pt",),
            sha256=None,  # not published
            description="LAION-CLAP HTSAT-base checkpoint of FlowBind's public code (audio codec)",
        ),
    )
}


def weights_dir() -> Path:
    """The weights folder: ``$FLOWBIND_WEIGHTS``, else ``~/.cache/flowbind/weights``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR).expanduser()


def get_entry(name: str) -> WeightEntry:
    """The registry entry called ``name`` (KeyError listing the known names otherwise)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no weight entry {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def _command(verb: str, name: str) -> str:
    return f"python -m metrics.backbones.registry {verb} {name}"


def weight_path(name: str) -> Path:
    """Path of entry ``name``'s file; MissingWeightsError saying how to get it when absent."""
    entry = get_entry(name)
    path = entry.path
    if path.is_file():
        return path
    urls = "\n".join(f"    {url}" for url in entry.urls)
    checksum = f"sha256 {entry.sha256}" if entry.sha256 else "no published sha256"
    raise MissingWeightsError(
        f"weights {name!r} ({entry.description}) are missing.\n"
        f"  Put the file at:\n    {path}\n"
        f"  (the folder is ${ENV_VAR}, default {DEFAULT_DIR}). Get it from:\n{urls}\n"
        f"  ({checksum}). On a machine with internet:\n    {_command('download', name)}"
    )


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(entry: WeightEntry, path: Path, actual: str) -> WeightsChecksumError:
    return WeightsChecksumError(
        f"weights {entry.name!r} at {path} have sha256 {actual}, expected {entry.sha256}: the "
        f"file is corrupt, truncated or a different release. Delete it and get it again "
        f"({_command('download', entry.name)} or from {entry.urls[0]})"
    )


def verify(name: str) -> bool:
    """Check entry ``name``'s file against its published sha256.

    True when it matches; False when the entry has no known checksum (the file cannot be
    verified); WeightsChecksumError when it differs; MissingWeightsError when it is absent.
    """
    entry = get_entry(name)
    path = weight_path(name)
    if entry.sha256 is None:
        return False
    actual = sha256_file(path)
    if actual != entry.sha256.lower():
        raise _mismatch(entry, path, actual)
    return True


_CHECKED: dict[tuple[str, int, int], bool] = {}


def checked_path(name: str) -> Path:
    """weight_path(name), verified once per process per file version (path, size, mtime).

    A file without a published checksum is used as it is, with a warning that it is unverified.
    """
    path = weight_path(name)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKED:
        _CHECKED[key] = verify(name)
        if not _CHECKED[key]:
            warnings.warn(
                f"weights {name!r} at {path} are not verified: no published sha256",
                stacklevel=2,
            )
    return path


def _fetch(url: str, dest: Path, expected: str | None, timeout: float) -> None:
    """Stream ``url`` into a temporary file next to ``dest``; check it; rename into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        request = urllib.request.Request(url, headers={"User-Agent": "flowbind-bench"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length") if resp.headers else None
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if length is not None and length.isdigit() and int(length) != received:
            raise WeightsDownloadError(f"{url}: got {received} of {length} bytes")
        actual = digest.hexdigest()
        if expected is not None and actual != expected.lower():
            raise WeightsChecksumError(f"{url}: sha256 {actual}, expected {expected}")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def download(name: str, *, force: bool = False, timeout: float = 60.0) -> Path:
    """Download entry ``name`` into the weights folder and return its path.

    Each URL is streamed into a temporary file in the same folder, its sha256 checked (when
    known), then renamed over the destination, so an interrupted or failed download never leaves
    a partial file under the entry's name. An existing file is verified and kept unless ``force``.
    """
    entry = get_entry(name)
    dest = entry.path
    if dest.is_file() and not force:
        verify(name)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in entry.urls:
        try:
            _fetch(url, dest, entry.sha256, timeout)
            return dest
        except (OSError, urllib.error.URLError, WeightsChecksumError, WeightsDownloadError) as exc:
            errors.append(f"    {url}: {exc}")
    raise WeightsDownloadError(
        f"could not download weights {name!r}:\n" + "\n".join(errors) + "\n"
        f"  Without internet, copy the file to {dest} by hand."
    )


def _describe(entry: WeightEntry) -> str:
    present = entry.path.is_file()
    state = "present" if present else "missing"
    checksum = "sha256 known" if entry.sha256 else "no sha256"
    return f"{entry.name:22s} {state:8s} {checksum:13s} {entry.path}\n    {entry.description}"


def main(argv: Sequence[str] | None = None) -> int:
    """``list`` | ``download [NAME ...]`` | ``verify [NAME ...]`` (no names: every entry)."""
    parser = argparse.ArgumentParser(
        prog="python -m metrics.backbones.registry",
        description=f"Weight files of the paper-benchmark metric backbones (folder: ${ENV_VAR}, "
        f"default {DEFAULT_DIR}).",
    )
    parser.add_argument("command", choices=("list", "download", "verify"))
    parser.add_argument("names", nargs="*", metavar="NAME", help="entries (default: all)")
    parser.add_argument("--force", action="store_true", help="download even if present")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per connection")
    args = parser.parse_args(argv)

    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown entries {unknown}; known: {', '.join(sorted(REGISTRY))}")
    names = list(args.names) or list(REGISTRY)

    if args.command == "list":
        print(f"weights folder: {weights_dir()}")
        for name in names:
            print(_describe(REGISTRY[name]))
        return 0

    failed = False
    for name in names:
        try:
            if args.command == "download":
                path = download(name, force=args.force, timeout=args.timeout)
                verified = REGISTRY[name].sha256 is not None
                print(f"{name}: {path} ({'verified' if verified else 'no sha256 to verify'})")
            elif verify(name):
                print(f"{name}: OK (sha256 matches)")
            else:
                print(f"{name}: present, CANNOT VERIFY (no published sha256)")
        except MissingWeightsError as exc:
            if args.command == "verify" and not args.names:
                print(f"{name}: missing ({REGISTRY[name].path})")
                continue
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
        except (WeightsChecksumError, WeightsDownloadError) as exc:
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
