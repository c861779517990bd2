"""Adapter of the `generate` rule: every task's outputs of one method (or the codec ceiling)."""

from pathlib import Path

from bench.benchmark import open_benchmark
from bench.generate import translate_task, write_outputs
from bench.job import job
from bench.latents import read_latents
from bench.methods import load_method

sm = snakemake  # noqa: F821 (injected by Snakemake)
latent_dir = Path(sm.input.latents[0]).parent
with job(sm.log[0], sm.threads):
    benchmark = open_benchmark(sm.config)
    codecs = benchmark.codecs()
    method = None if sm.wildcards.method == "codec_ceiling" else load_method(sm.input.run)
    for key, manifest in zip(sm.params.tasks, sm.output, strict=True):
        task = benchmark.task(key)
        test = read_latents(latent_dir / f"{task.split}.npz")
        if method is None:  # decode(encode(x)) of the real targets
            latents = {m: test[m] for m in task.targets}
        else:
            latents = translate_task(method, task, test, **sm.params.solver)
        write_outputs(Path(manifest).parent, task, test["ids"], latents, codecs)
        print(f"{task.name}: {len(test['ids'])} items -> {Path(manifest).parent}")
