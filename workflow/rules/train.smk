rule train:
    """One training run of a method: results/train/<method>/<variant>/seed<seed>/."""
    input:
        latents=rules.encode.output,
    output:
        run=directory("results/train/{method}/{variant}/seed{seed}"),
    log:
        "results/logs/train/{method}/{variant}/seed{seed}.log",
    # Trainings, the longest jobs, before generation and scoring, so that none is left to run
    # alone at the end.
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        gpu=GPU_JOBS,
    params:
        settings=run_settings,
    script:
        "../scripts/train.py"
