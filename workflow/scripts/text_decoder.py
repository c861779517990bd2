"""Adapter of the `text_decoder` rule: the prefix projector and LM, trained to rebuild captions."""

from bench.job import job
from bench.paper.codecs import load_codec
from bench.paper.datasets import load_text, open_dataset
from bench.paper.extract import split_items
from bench.paper.text_codec import save_text_decoder, train_text_decoder

sm = snakemake  # noqa: F821 (injected by Snakemake)
paper = sm.config["paper"]
with job(sm.log[0], sm.threads):
    data = paper["data"]
    names = {"laion_coco", "flickr30k", "audiocaps"}
    datasets = {n: open_dataset(n, data[n]["root"], **data[n]["options"]) for n in names}
    captions = [load_text(i) for s in ("train_ti", "train_ta") for i in split_items(s, datasets)]
    codec = load_codec("text", paper, sm.params.codecs, trained_parts=False)
    losses = train_text_decoder(
        codec, captions, steps=sm.params.steps, batch_size=sm.params.batch_size, seed=0
    )["loss"]
    print(f"{len(captions)} captions; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    save_text_decoder(codec, sm.output[0])
