rule train:
    """One training run of a method: results/train/<method>/<variant>/seed<seed>/.

    The run trains and checkpoints in results/checkpoints/train/..., which Snakemake never
    deletes, so a killed or retried job resumes from its newest checkpoint; the finished run
    is copied to the output atomically (bench.train_run). The longest budget run of a
    one-stage method continues the main run of its seed (bench.train_run.continues_main).
    """
    input:
        unpack(train_inputs),
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
        local_gpu=GPU_JOBS,
    params:
        settings=run_settings,
        work="results/checkpoints/train/{method}/{variant}/seed{seed}",
    script:
        "../scripts/train.py"
