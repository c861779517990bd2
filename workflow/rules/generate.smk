rule generate:
    """Every task's outputs of a method's main run: results/generate/<method>/<task>/."""
    input:
        unpack(generation_input),
    output:
        expand("results/generate/{{method}}/{task}/manifest.csv", task=TASKS),
    log:
        "results/logs/generate/{method}.log",
    conda:
        "../../environment.yml"
    resources:
        gpu=GPU_JOBS,
    params:
        tasks=list(TASKS),
        solver={
            "method": config["model"]["solver"],
            "steps": config["model"]["solver_steps"],
        },
    script:
        "../scripts/generate.py"
