"""One registry of the pretrained files the paper benchmark loads: backbones, codecs, models.

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

from metrics.backbones.weights import (
    _CHUNK,
    DEFAULT_DIR,
    ENV_VAR,
    MissingWeightsError,
    WeightsChecksumError,
    WeightsDownloadError,
    sha256_file,
    weights_dir,
)

__all__ = [
    "DEFAULT_DIR",
    "ENV_VAR",
    "REGISTRY",
    "MissingWeightsError",
    "WeightEntry",
    "WeightsChecksumError",
    "WeightsDownloadError",
    "checked_path",
    "download",
    "get_entry",
    "sha256_file",
    "verify",
    "weight_path",
    "weights_dir",
]


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
# The authors' released files (Hugging Face) and latent statistics (their repository, pinned to a
# commit; the sha256 values are those of the files at that commit).
_FLOWBIND_HF = "https://huggingface.co/yeonwoo378/flowbind/resolve/main"
_FLOWBIND_GITHUB = (
    "https://raw.githubusercontent.com/yeonwoo378/flowbind/b4ee332a3f5d3ed20f23b592a49bfb8a6ed1a37f"
)
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
            name="clip-vit-l-14-openai",
            filename="ViT-L-14.pt",
            urls=(
                "https://openaipublic.azureedge.net/clip/models/"
                "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt",
            ),
            sha256="b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
            description="OpenAI CLIP ViT-L/14 (TorchScript archive); the image encoder",
        ),
        WeightEntry(
            name="flowbind-model",
            filename="flowbind-model.pth",
            urls=(f"{_FLOWBIND_HF}/model.pth",),
            sha256=None,  # not published
            description="released FlowBind drifts and encoder heads (one state dict per modality)",
        ),
        WeightEntry(
            name="flowbind-config",
            filename="flowbind-config.json",
            urls=(f"{_FLOWBIND_HF}/config.json",),
            sha256=None,  # not published
            description="released FlowBind model config (hidden_dim, num_layers, prior, t_cond)",
        ),
        WeightEntry(
            name="flowbind-text-decoder",
            filename="flowbind-gemmae_3.pt",
            urls=(f"{_FLOWBIND_HF}/gemmae_3.pt",),
            sha256=None,  # not published
            description="released text decoder: prefix projector and fine-tuned Gemma-3-1B",
        ),
        WeightEntry(
            name="flowbind-audio-ae",
            filename="flowbind-lightweight_audio_ae.pth",
            urls=(f"{_FLOWBIND_HF}/lightweight_audio_ae.pth",),
            sha256=None,  # not published
            description="released 512 <-> 768 audio autoencoder on CLAP embeddings",
        ),
        WeightEntry(
            name="flowbind-text-mean",
            filename="flowbind-gemmae_text_mean.pt",
            urls=(f"{_FLOWBIND_GITHUB}/samples/gemmae_text_mean.pt",),
            sha256="c8f0cc71ce23cc86062e809f4b75bf532c288fac62094e7cf6f201817570453e",
            description="released text latent mean (1, 768) of the public repository",
        ),
        WeightEntry(
            name="flowbind-text-std",
            filename="flowbind-gemmae_text_std.pt",
            urls=(f"{_FLOWBIND_GITHUB}/samples/gemmae_text_std.pt",),
            sha256="c218e72712ba716576ae7d4bd9a63acdffde7ef4c17b7f1093d4033158fadf45",
            description="released text latent std (1, 768) of the public repository",
        ),
        WeightEntry(
            name="flowbind-image-mean",
            filename="flowbind-unclip_img_mean.pt",
            urls=(f"{_FLOWBIND_GITHUB}/samples/unclip_img_mean.pt",),
            sha256="c527e28857926ac5e46ea28aa7362600d582685d10dafcf58d1fb45b9b2ab357",
            description="released image latent mean (1, 768) of the public repository",
        ),
        WeightEntry(
            name="flowbind-image-std",
            filename="flowbind-unclip_img_std.pt",
            urls=(f"{_FLOWBIND_GITHUB}/samples/unclip_img_std.pt",),
            sha256="e02f59a07ebd5df04425f0243e48283375bda00aeba33e62987f108d46a49763",
            description="released image latent std (1, 768) of the public repository",
        ),
        WeightEntry(
            name="flowbind-audio-mean",
            filename="flowbind-clap_audio_mean.pt",
            urls=(f"{_FLOWBIND_GITHUB}/samples/clap_audio_mean.pt",),
            sha256="06514c7041255a2402b84936002b15cef8be3a9fca958e7415400a2c6048d82b",
            description="released audio latent mean (1, 768) of the public repository",
        ),
        WeightEntry(
            name="flowbind-audio-std",
            filename="flowbind-clap_audio_std.pt",
            urls=(f"{_FLOWBIND_GITHUB}/samples/clap_audio_std.pt",),
            sha256="170a4b223d309e98104ad19dbd40327136a2871066ebb67ccda31f410d9b06c2",
            description="released audio latent std (1, 768) of the public repository",
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


def _run_one(command: str, name: str, force: bool, timeout: float) -> str:
    """One entry's line of ``download`` / ``verify``: a weight file or a hub snapshot."""
    from metrics.backbones import hub

    if name in hub.SNAPSHOTS:
        if command == "download":
            if force or not _snapshot_present(name):
                path = hub.download_snapshot(name)
            else:
                path = hub.snapshot_path(name)
            return (
                f"{name}: {path} (MANIFEST {'matches' if hub.verify_snapshot(name) else 'absent'})"
            )
        if hub.verify_snapshot(name):
            return f"{name}: OK (every file matches its MANIFEST)"
        return f"{name}: present, CANNOT VERIFY (no MANIFEST: it was not fetched by download)"
    if command == "download":
        path = download(name, force=force, timeout=timeout)
        verified = REGISTRY[name].sha256 is not None
        return f"{name}: {path} ({'verified' if verified else 'no sha256 to verify'})"
    if verify(name):
        return f"{name}: OK (sha256 matches)"
    return f"{name}: present, CANNOT VERIFY (no published sha256)"


def _snapshot_present(name: str) -> bool:
    from metrics.backbones import hub

    try:
        hub.snapshot_path(name)
    except MissingWeightsError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``list`` | ``download [NAME ...]`` | ``verify [NAME ...]`` (no names: every entry).

    Entries are the weight files of REGISTRY and the hub model folders of
    ``metrics.backbones.hub.SNAPSHOTS``.
    """
    from metrics.backbones import hub

    parser = argparse.ArgumentParser(
        prog="python -m metrics.backbones.registry",
        description=f"Pretrained files and model folders of the paper benchmark (folder: "
        f"${ENV_VAR}, default {DEFAULT_DIR}).",
    )
    parser.add_argument("command", choices=("list", "download", "verify"))
    parser.add_argument("names", nargs="*", metavar="NAME", help="entries (default: all)")
    parser.add_argument("--force", action="store_true", help="download even if present")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per connection")
    args = parser.parse_args(argv)

    known = [*REGISTRY, *hub.SNAPSHOTS]
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown entries {unknown}; known: {', '.join(sorted(known))}")
    names = list(args.names) or known

    if args.command == "list":
        print(f"weights folder: {weights_dir()}")
        for name in names:
            if name in REGISTRY:
                print(_describe(REGISTRY[name]))
            else:
                snap = hub.SNAPSHOTS[name]
                state = "present" if _snapshot_present(name) else "missing"
                print(
                    f"{name:22s} {state:8s} {'hub folder':13s} {snap.path}\n    "
                    f"{snap.description} ({snap.repo_id}, about {snap.size_gb:g} GB)"
                )
        return 0

    failed = False
    for name in names:
        try:
            print(_run_one(args.command, name, args.force, args.timeout))
        except MissingWeightsError as exc:
            if args.command == "verify" and not args.names:
                path = REGISTRY[name].path if name in REGISTRY else hub.SNAPSHOTS[name].path
                print(f"{name}: missing ({path})")
                continue
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
        except (WeightsChecksumError, WeightsDownloadError, OSError) as exc:
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
