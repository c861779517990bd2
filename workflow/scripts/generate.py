"""Adapter of the `generate` rule: every task's outputs of one method (or the codec ceiling).

A released baseline model (bench.methods.OFFICIAL) runs its official code on the test items
instead of translating latents; a task it has no call for is marked unsupported, as is a task
of a trained method with a modality it never learnt (``Method.why_not``).
"""

from pathlib import Path

from bench.benchmark import open_benchmark
from bench.generate import generate_official, translate_task, write_outputs, write_unsupported
from bench.job import job
from bench.latents import read_latents
from bench.methods import build_adapter, is_official, load_method

sm = snakemake  # noqa: F821 (injected by Snakemake)
name = sm.wildcards.method
with job(sm.log[0], sm.threads):
    benchmark = open_benchmark(sm.config)
    if is_official(name):
        options = sm.config["baselines"].get(name, {})
        adapter = build_adapter(name, options, fixed_size=benchmark.fixed_size)
        for key, manifest in zip(sm.params.tasks, sm.output, strict=True):
            task = benchmark.task(key)
            folder = generate_official(
                adapter, task, benchmark.test_split(task.split), Path(manifest).parent
            )
            why = "" if adapter.supports(key) else f" (not run: {adapter.why_not(key)})"
            print(f"{task.name} -> {folder}{why}")
    else:
        tasks = [benchmark.task(key) for key in sm.params.tasks]
        targets = dict.fromkeys(m for t in tasks for m in t.targets)  # each codec loaded once
        codecs = {m: benchmark.codec(m) for m in targets}
        method = None if name == "codec_ceiling" else load_method(sm.input.run)
        latent_dir = Path(sm.input.latents[0]).parent
        for task, manifest in zip(tasks, sm.output, strict=True):
            reason = None if method is None else method.why_not(task.sources, task.targets)
            if reason is not None:  # a modality it never learnt: marked, not guessed
                write_unsupported(Path(manifest).parent, task, name, reason)
                print(f"{task.name}: not run ({reason})")
                continue
            test = read_latents(latent_dir / f"{task.split}.npz")
            if method is None:  # decode(encode(x)) of the real targets
                latents = {m: test[m] for m in task.targets}
            else:
                latents = translate_task(method, task, test, **sm.params.solver)
            write_outputs(Path(manifest).parent, task, test["ids"], latents, codecs)
            print(f"{task.name}: {len(test['ids'])} items -> {Path(manifest).parent}")
