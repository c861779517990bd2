"""Adapter of the `generate` rule: every task's outputs of one method (or the codec ceiling)."""

from pathlib import Path

from bench.embedded.prepare import benchmark_root, load_codec
from bench.generate import translate_task, write_outputs
from bench.job import job
from bench.latents import read_latents
from bench.methods import load_method
from bench.tasks import get_task

sm = snakemake  # noqa: F821 (injected by Snakemake)
latent_dir = Path(sm.input.latents[0]).parent
root = benchmark_root(sm.input.codecs[0])
with job(sm.log[0], sm.threads):
    codecs = {m: load_codec(root, m) for m in ("text", "image", "audio")}
    method = None if sm.wildcards.method == "codec_ceiling" else load_method(sm.input.run)
    for key, manifest in zip(sm.params.tasks, sm.output, strict=True):
        task = get_task(key)
        test = read_latents(latent_dir / f"{task.split}.npz")
        if method is None:  # decode(encode(x)) of the real targets
            latents = {m: test[m] for m in task.targets}
        else:
            latents = translate_task(method, task, test, **sm.params.solver)
        write_outputs(Path(manifest).parent, task, test["ids"], latents, codecs)
        print(f"{task.name}: {len(test['ids'])} items -> {Path(manifest).parent}")
