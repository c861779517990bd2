"""Adapter of the `audio_autoencoder` rule: the 512 <-> 768 autoencoder on CLAP embeddings."""

import torch

from bench.job import job
from bench.paper.audio_codec import (
    INPUT_SAMPLE_RATE,
    clap_embeddings,
    save_audio_autoencoder,
    train_audio_autoencoder,
)
from bench.paper.codecs import clap_embedder
from bench.paper.datasets import BadItems, load_audio, open_dataset, read_batches
from bench.paper.extract import split_items

sm = snakemake  # noqa: F821 (injected by Snakemake)
paper = sm.config["paper"]
with job(sm.log[0], sm.threads):
    data = paper["data"]
    names = {"audiocaps", "vggsound"}
    datasets = {n: open_dataset(n, data[n]["root"], **data[n]["options"]) for n in names}
    items = [i for s in ("train_ta", "train_ia") for i in split_items(s, datasets)]
    clap = clap_embedder(paper)
    bad = BadItems(len(items), paper["max_bad_fraction"])
    parts = []
    for batch in read_batches(items, lambda it: load_audio(it, INPUT_SAMPLE_RATE), 32, bad):
        parts.append(clap_embeddings(clap, batch.values))
    embeddings = torch.cat(parts).float()
    model, losses = train_audio_autoencoder(embeddings, steps=sm.params.steps, seed=0)
    print(f"{len(embeddings)} clips ({len(bad)} bad); loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    save_audio_autoencoder(model, sm.output[0])
