rule evaluate:
    """Every metric of every task of a method: results/evaluate/<method>/<task>.json (+ .npz)."""
    input:
        generated=expand("results/generate/{{method}}/{task}/manifest.csv", task=TASKS),
        quality=rules.codecs_ready.output,
    output:
        expand("results/evaluate/{{method}}/{task}.json", task=TASKS),
    log:
        "results/logs/evaluate/{method}.log",
    conda:
        "../../environment.yml"
    params:
        tasks=list(TASKS),
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/evaluate.py"


rule cknna:
    """CKNNA of encoder latents and of FlowBind's shared anchors (Table 5)."""
    input:
        latents=rules.encode.output,
        run=main_run("flowbind"),
    output:
        "results/evaluate/flowbind/cknna.json",
    log:
        "results/logs/evaluate/cknna.log",
    conda:
        "../../environment.yml"
    params:
        resamples=config["evaluation"]["cknna_resamples"],
    script:
        "../scripts/cknna.py"
