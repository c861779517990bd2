rule data:
    """The embedded benchmark's splits, generated from the data seed."""
    output:
        manifest=f"{EMBEDDED}/data/dataset.json",
    log:
        "results/logs/data.log",
    conda:
        "../../environment.yml"
    params:
        size=config["size"],
        seed=config["data_seed"],
    script:
        "../scripts/data.py"


rule encode:
    """Latents of every training and test split under the frozen codecs."""
    input:
        manifest=rules.data.output.manifest,
        codecs=expand(
            f"{EMBEDDED}/codecs/{{modality}}/config.json", modality=CODEC_MODALITIES
        ),
    output:
        expand("results/latents/{split}.npz", split=LATENT_SPLITS),
    log:
        "results/logs/encode.log",
    # As the codecs: the trainings wait for these latents, not for the evaluators. One thread
    # (the latents are byte-identical to two), so that it starts as soon as a core is free
    # rather than waiting for every evaluator to finish.
    priority: 2
    conda:
        "../../environment.yml"
    script:
        "../scripts/encode.py"
