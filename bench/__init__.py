"""The benchmark runner the workflow calls, one stage per module (no Snakemake inside).

    config.py      the workflow config: schema validation, registry-checked method names
    methods.py     the method registry: build and load FlowBind or a baseline by name
    tasks.py       the twelve translation tasks and their test splits
    latents.py     encoding splits with the frozen codecs; training pairs at an I-A fraction
    generate.py    translating test latents and decoding them to PNG, WAV and text
    evaluate.py    every metric of one task's outputs, with 95 % bootstrap intervals
    tables.py      the paper's tables from the evaluation records
    ablations.py   the anchor, I-A fraction, objective and solver ablations
    report*.py     the HTML report: provenance, tables, figures, galleries
    job.py         what every workflow job does first (threads, logging)
    embedded/      the embedded benchmark: a procedural text-image-audio world, its codecs and
                   its evaluators, all trained inside the suite
    paper/         the paper benchmark's place (its codecs and data sets); not wired yet

``flowbind``, ``metrics`` and the baseline recipes never import this package (only the adapters
of the released checkpoints, ``baselines.official``, write into its generation layout);
``tests/test_package_graph.py`` checks the whole graph.
"""
