"""The report's figures: training loss per term, FlowBind's shared anchors, an anchor interpolation.

    loss_<method>.png    every loss term of a method's main run against the step (loss.csv;
                         multi-stage recipes, e.g. CoDi, one stage after the other)
    anchors.png          a 2-D PCA of FlowBind's anchors of the test triplets, one marker per
                         source modality, coloured by a ground-truth attribute (paper Fig. 3)
    interpolation.png    images decoded through FlowBind's image drift and the image codec from
                         anchors on the segment between two test scenes' shared anchors
                         (paper Figs. 11, 13)
    anchor_map.png       the same anchors in a PCA beside a t-SNE, one row per ground-truth
                         attribute (paper Appendix I)
    anchor_purity.csv    per attribute: how often an anchor's nearest neighbours share its
    anchor_purity.png    value, among all anchors and among other modalities' only, with chance

PNGs are written without timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.tables import read_rows

MARKERS = {"text": "o", "image": "s", "audio": "^"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None}, bbox_inches="tight")
    _pyplot().close(fig)


def _plain_log_formatter():
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        """Log-axis labels as plain numbers (0.01, 3, 10), only where LogFormatter puts one."""

        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    return Plain


def loss_logs(run: str | Path) -> list[tuple[str, list[dict[str, float]]]]:
    """(stage, rows of loss.csv) of a training run: its own loss.csv, else stage*/loss.csv."""
    run = Path(run)
    paths = [run / "loss.csv"] if (run / "loss.csv").is_file() else sorted(run.glob("*/loss.csv"))
    if not paths:
        raise FileNotFoundError(f"{run} holds no loss.csv; train the method first")
    out = []
    for path in paths:
        _, table = read_rows(path, "train the method first")
        rows = [{k: float(v) for k, v in r.items() if v != ""} for r in table]
        out.append(("" if path.parent == run else path.parent.name, rows))
    return out


def plot_loss(run: str | Path, path: str | Path, title: str) -> None:
    """Each loss term (and the total, in black) against the optimizer step, log scale."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.4), dpi=110)
    offset = 0.0
    for stage, rows in loss_logs(run):
        if not rows:
            continue
        steps = np.array([r["step"] for r in rows]) + offset
        terms = [k for k in rows[0] if k not in ("step", "lr")]
        if len(terms) > 10:  # tab10 would repeat colours
            ax.set_prop_cycle(color=plt.get_cmap("tab20").colors)
        prefix = f"{stage} " if stage else ""
        for term in terms:
            values = [r.get(term, np.nan) for r in rows]
            style = {"color": "black", "lw": 2} if term == "loss" else {"lw": 1}
            name = "total" if term == "loss" else term
            ax.plot(steps, values, marker=".", label=prefix + name, **style)
        if offset:
            ax.axvline(offset, color="grey", ls="--", lw=0.8)
        offset = steps[-1]
    ax.set_yscale("log")
    plain = _plain_log_formatter()
    ax.yaxis.set_major_formatter(plain(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(plain(labelOnlyBase=False, minor_thresholds=(1, 0.5)))
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _save(fig, path)


def pca_2d(x: np.ndarray) -> np.ndarray:
    """The first two principal components of the rows of ``x`` (N, D) -> (N, 2)."""
    centred = x - x.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def anchor_figure(
    model: Any,
    latents: Mapping[str, np.ndarray],
    values: Sequence[str],
    attribute: str,
    path: str | Path,
    **solver: Any,
) -> None:
    """A PCA of each modality's anchors of the test triplets, coloured by ``attribute``.

    Args:
        model: a FlowBind model (``encode(modality, z)`` gives anchors).
        latents: modality -> raw test-triplet latents (N, D).
        values: the ground-truth value of ``attribute`` for each of the N triplets.
        attribute: its name, for the legend.
        path: the PNG to write.
        **solver: ODE solver settings (method, steps).
    """
    modalities = [m for m in MARKERS if m in latents]
    anchors = {
        m: model.encode(m, torch.from_numpy(latents[m]), **solver).numpy() for m in modalities
    }
    points = pca_2d(np.concatenate([anchors[m] for m in modalities]))
    n = len(values)
    levels = list(dict.fromkeys(sorted(values)))
    colours = _pyplot().get_cmap("tab10")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.2), dpi=110)
    for k, m in enumerate(modalities):
        xy = points[k * n : (k + 1) * n]
        for j, level in enumerate(levels):
            rows = [i for i, v in enumerate(values) if v == level]
            ax.scatter(*xy[rows].T, s=14, marker=MARKERS[m], color=colours(j), alpha=0.75)
    handles = [
        plt.Line2D([], [], ls="", marker="o", color=colours(j), label=level)
        for j, level in enumerate(levels)
    ]
    handles += [
        plt.Line2D([], [], ls="", marker=MARKERS[m], color="grey", label=m) for m in modalities
    ]
    ax.legend(
        handles=handles,
        title=f"{attribute} / modality",
        fontsize=7,
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("FlowBind's anchors of the test triplets (PCA)")
    ax.grid(alpha=0.3)
    _save(fig, path)


def pick_pair(codes: Mapping[str, np.ndarray], attributes: Sequence[str]) -> tuple[int, int]:
    """The first item and the first later one that differs from it in every given attribute."""
    n = len(next(iter(codes.values())))
    for j in range(1, n):
        if all(codes[a][j] != codes[a][0] for a in attributes):
            return 0, j
    return 0, min(1, n - 1)


def interpolation_figure(
    model: Any,
    codec: Any,
    latents: Mapping[str, np.ndarray],
    real: Sequence[np.ndarray],
    names: Sequence[str],
    pair: tuple[int, int],
    path: str | Path,
    points: int = 8,
    **solver: Any,
) -> None:
    """Decoded images along the segment between two test scenes' shared anchors.

    Args:
        model: a FlowBind model.
        codec: the image codec (``decode`` of (N, D) latents -> uint8 (N, H, W, 3)).
        latents: modality -> raw test-triplet latents (N, D); the shared anchor of a scene is
            the mean of its modalities' anchors, as in many-to-one translation.
        real: the real images of the two scenes, uint8 (H, W, 3) each.
        names: a short description of each scene, for the end panels.
        pair: the two scenes' rows.
        path: the PNG to write.
        points: anchors on the segment, ends included.
        **solver: ODE solver settings (method, steps).
    """
    rows = list(pair)
    sources = {m: torch.from_numpy(z[rows]) for m, z in latents.items()}
    ends = model.shared_anchor(sources, **solver)
    lam = torch.linspace(0, 1, points)[:, None]
    anchors = (1 - lam) * ends[0] + lam * ends[1]
    images = codec.decode(model.decode(anchors, "image", **solver))
    plt = _pyplot()
    fig, axes = plt.subplots(1, points + 2, figsize=(0.95 * (points + 2), 1.55), dpi=150)
    panels = [(real[0], f"real A\n{names[0]}")]
    panels += [(im, f"λ = {float(x):.2f}") for im, x in zip(images, lam[:, 0], strict=True)]
    panels += [(real[1], f"real B\n{names[1]}")]
    for ax, (image, title) in zip(axes, panels, strict=True):
        ax.imshow(image)
        ax.set_title(title, fontsize=6)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in (axes[0], axes[-1]):
        for spine in ax.spines.values():
            spine.set_edgecolor("tab:blue")
            spine.set_linewidth(2)
    _save(fig, path)


PURITY_K = 10


def neighbour_purity(
    anchors: Mapping[str, np.ndarray], labels: Mapping[str, Sequence[str]], k: int = PURITY_K
) -> list[dict[str, str]]:
    """Nearest-neighbour purity of the anchors per attribute.

    Args:
        anchors: modality -> anchors of the same N test items, (N, D) each.
        labels: attribute -> its value for each of the N items; "item" is added (each item its
            own value: the share of neighbours that are the same scene from another modality).
        k: neighbours per anchor (Euclidean, itself excluded).

    Returns:
        Rows of attribute, purity among all anchors, among other modalities' anchors only, and
        chance (the purity of neighbours drawn at random: the sum of squared value shares).
    """
    modalities = list(anchors)
    n = len(next(iter(anchors.values())))
    points = np.concatenate([anchors[m] for m in modalities]).astype(np.float64)
    owner = np.repeat(np.arange(len(modalities)), n)
    squared = (points**2).sum(1)
    distance = squared[:, None] + squared[None, :] - 2 * points @ points.T  # (3N, 3N)
    np.fill_diagonal(distance, np.inf)
    nearest = np.argsort(distance, axis=1)[:, :k]
    cross = distance.copy()
    cross[owner[:, None] == owner[None, :]] = np.inf
    nearest_cross = np.argsort(cross, axis=1)[:, :k]
    columns = {**labels, "item": [str(i) for i in range(n)]}
    rows = []
    for name, values in columns.items():
        value = np.tile(np.asarray(values), len(modalities))
        _, counts = np.unique(values, return_counts=True)
        chance = float(((counts / n) ** 2).sum())
        rows.append(
            {
                "Attribute": name,
                "k": str(k),
                "Purity (%)": f"{100 * (value[nearest] == value[:, None]).mean():.1f}",
                "Cross-modal purity (%)": (
                    f"{100 * (value[nearest_cross] == value[:, None]).mean():.1f}"
                ),
                "Chance (%)": f"{100 * chance:.1f}",
            }
        )
    return rows


def tsne_2d(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE of the rows of ``x`` (scikit-learn, PCA initialisation, seeded)."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(x) - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def anchor_map_figure(
    anchors: Mapping[str, np.ndarray], labels: Mapping[str, Sequence[str]], path: str | Path
) -> None:
    """PCA and t-SNE of every modality's anchors, one row per attribute colouring them."""
    modalities = list(anchors)
    n = len(next(iter(anchors.values())))
    points = np.concatenate([anchors[m] for m in modalities])
    maps = {"PCA": pca_2d(points), "t-SNE": tsne_2d(points)}
    rows = labels or {"modality": ["all"] * n}
    plt = _pyplot()
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(len(rows), 2, figsize=(8.4, 3.3 * len(rows)), dpi=100, squeeze=False)
    for r, (attribute, values) in enumerate(rows.items()):
        levels = list(dict.fromkeys(sorted(values)))
        for c, (name, xy) in enumerate(maps.items()):
            ax = axes[r][c]
            for k, m in enumerate(modalities):
                part = xy[k * n : (k + 1) * n]
                for j, level in enumerate(levels):
                    keep = [i for i, v in enumerate(values) if v == level]
                    ax.scatter(*part[keep].T, s=8, marker=MARKERS.get(m, "o"),
                               color=colours(j % 10), alpha=0.7)  # fmt: skip
            ax.set_title(f"{name}, coloured by {attribute}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        handles = [
            plt.Line2D([], [], ls="", marker="o", color=colours(j % 10), label=level)
            for j, level in enumerate(levels)
        ]
        axes[r][1].legend(handles=handles, fontsize=7, loc="upper left",
                          bbox_to_anchor=(1.01, 1.0), frameon=False)  # fmt: skip
    markers = [
        plt.Line2D([], [], ls="", marker=MARKERS.get(m, "o"), color="grey", label=m)
        for m in modalities
    ]
    fig.legend(handles=markers, loc="lower center", ncol=len(modalities), fontsize=8,
               frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    _save(fig, path)


def purity_figure(rows: Sequence[Mapping[str, str]], path: str | Path) -> None:
    """Bars of neighbour purity per attribute (all and cross-modal) with chance marked."""
    plt = _pyplot()
    names = [r["Attribute"] for r in rows]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(5.8, 3.4), dpi=110)
    for offset, column in ((-0.2, "Purity (%)"), (0.2, "Cross-modal purity (%)")):
        ax.bar(x + offset, [float(r[column]) for r in rows], 0.4, label=column.removesuffix(" (%)"))
    ax.scatter(x, [float(r["Chance (%)"]) for r in rows], marker="_", s=400, color="black",
               label="chance", zorder=3)  # fmt: skip
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylabel(f"share of {rows[0]['k']} nearest neighbours with the same value (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    _save(fig, path)


def flowbind_figures(
    run: str | Path,
    latent_dir: str | Path,
    benchmark: Any,
    anchors_path: str | Path,
    interpolation_path: str | Path,
    map_path: str | Path | None = None,
    purity_csv: str | Path | None = None,
    purity_path: str | Path | None = None,
    **solver: Any,
) -> None:
    """The anchor projection and the interpolation strip of FlowBind's main run.

    Args:
        run: the run folder (results/train/flowbind/main/seed<seed>).
        latent_dir: results/latents (test_triplet.npz).
        benchmark: the benchmark (``bench.benchmark``): its test triplets and image codec; the
            embedded one colours the projection by a ground-truth attribute.
        anchors_path: where to write anchors.png.
        interpolation_path: where to write interpolation.png.
        map_path, purity_csv, purity_path: where to write anchor_map.png, anchor_purity.csv
            and anchor_purity.png (each skipped when None).
        **solver: ODE solver settings (method, steps).
    """
    from bench.latents import read_latents
    from bench.methods import load_method

    model = load_method(run).model
    test = read_latents(Path(latent_dir) / "test_triplet.npz")
    split = benchmark.test_split("test_triplet")
    assert list(test["ids"]) == list(split.ids), "test_triplet latents and items differ"
    latents = {m: test[m] for m in MARKERS if m in test}
    attribute, values, pair, names = benchmark.figure_labels(split)
    anchor_figure(model, latents, values, attribute, anchors_path, **solver)
    if map_path is not None or purity_csv is not None:
        anchors = {
            m: model.encode(m, torch.from_numpy(z), **solver).numpy() for m, z in latents.items()
        }
        labels = benchmark.attribute_labels(split)
        if map_path is not None:
            anchor_map_figure(anchors, labels, map_path)
        if purity_csv is not None:
            from bench.tables import write_csv

            rows = neighbour_purity(anchors, labels)
            write_csv(purity_csv, rows)
            if purity_path is not None:
                purity_figure(rows, purity_path)
    real = [split.image[i] for i in pair]
    codec = benchmark.codec("image")
    interpolation_figure(model, codec, latents, real, names, pair, interpolation_path, **solver)
