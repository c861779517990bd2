"""``python -m bench.embedded``: build the embedded benchmark (data, codecs, evaluators)."""

from __future__ import annotations

import argparse
import sys

from bench.embedded.build import SIZES
from bench.embedded.codecs import DEFAULT_LATENT_DIM
from bench.embedded.prepare import format_quality, prepare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.embedded",
        description="Generate the embedded benchmark's data, train its codecs and evaluators, "
        "and report their quality (quality.json).",
    )
    parser.add_argument("--out", default="results/embedded", help="output folder")
    parser.add_argument("--size", default="default", choices=sorted(SIZES), help="data size")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and training")
    parser.add_argument(
        "--latent-dim",
        type=int,
        default=DEFAULT_LATENT_DIM,
        help="codec latent dimension D (a multiple of 4)",
    )
    parser.add_argument(
        "--points",
        action="store_true",
        help="add the fourth modality: point-cloud data, codec and evaluators",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.latent_dim <= 0 or args.latent_dim % 4:
        parser.error(f"--latent-dim must be a positive multiple of 4, got {args.latent_dim}")
    quality = prepare(
        args.out, args.size, args.seed, args.latent_dim, not args.no_progress, args.points
    )
    print(format_quality(quality))
    print(f"wrote {args.out}/quality.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
