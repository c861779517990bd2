# A seed of an unchanged setting (FlowBind's and text anchoring's main runs) is generated and
# scored by the evaluate rules; ablation_main copies those scores instead of generating the
# same outputs again.
ruleorder: ablation_main > ablation_eval


rule ablation_main:
    """The main run's one-to-one scores, in the layout of ablation_eval."""
    input:
        records=expand(
            "results/evaluate/{{method}}/seed{{seed}}/{task}.json", task=ONE_TO_ONE
        ),
        per_item=expand(
            "results/evaluate/{{method}}/seed{{seed}}/{task}.npz", task=ONE_TO_ONE
        ),
    output:
        records="results/ablations/evaluate/{method}/main/seed{seed}.json",
        per_item="results/ablations/evaluate/{method}/main/seed{seed}.npz",
    log:
        "results/logs/ablations/{method}/main/seed{seed}.log",
    conda:
        "../../environment.yml"
    params:
        tasks=ONE_TO_ONE,
    script:
        "../scripts/ablation_main.py"


rule ablation_eval:
    """One-to-one tasks of one ablation run, generated and scored."""
    input:
        run="results/train/{method}/{variant}/seed{seed}",
        latents=LATENT_FILES,
        codecs=CODEC_FILES,
        evaluators=EVALUATOR_FILES,
    output:
        records="results/ablations/evaluate/{method}/{variant}/seed{seed}.json",
        per_item="results/ablations/evaluate/{method}/{variant}/seed{seed}.npz",
        generated=directory("results/ablations/generate/{method}/{variant}/seed{seed}"),
    log:
        "results/logs/ablations/{method}/{variant}/seed{seed}.log",
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        tasks=ONE_TO_ONE,
        solver=config["generation"],
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/ablation_eval.py"


rule table4:
    """Table 4: text anchoring vs FlowBind trained without image-audio pairs, over the main
    tables' seeds."""
    input:
        text_anchor=ablation_runs("text_anchor", "main", SEEDS),
        without_ia=ablation_runs("flowbind", "ia0", SEEDS),
        flowbind=ablation_runs("flowbind", "main", SEEDS),
    output:
        report("results/table4.csv", category="Ablations", labels={"table": "table4"}),
    log:
        "results/logs/ablations/table4.log",
    conda:
        "../../environment.yml"
    params:
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/table4.py"


rule ia_fraction:
    """I->A and A->I alignment against the fraction of image-audio pairs (Figure 11)."""
    input:
        [ablation_runs("flowbind", f"ia{p}") for p in config["ablations"]["ia_percent"]],
    output:
        table=report(
            "results/ia_fraction.csv",
            category="Ablations",
            labels={"table": "ia_fraction"},
        ),
        figure=report(
            "results/ia_fraction.png",
            category="Ablations",
            labels={"figure": "ia_fraction"},
        ),
    log:
        "results/logs/ablations/ia_fraction.log",
    conda:
        "../../environment.yml"
    params:
        runs={
            p: ablation_runs("flowbind", f"ia{p}")
            for p in config["ablations"]["ia_percent"]
        },
        fits={
            p: ablation_train("flowbind", f"ia{p}")
            for p in config["ablations"]["ia_percent"]
        },
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/ia_fraction.py"


rule objective:
    """The official vs the paper objective, with and without stop-gradient."""
    input:
        [ablation_runs("flowbind", f"objective-{name}") for name in OBJECTIVES],
    output:
        report(
            "results/objective.csv",
            category="Ablations",
            labels={"table": "objective"},
        ),
    log:
        "results/logs/ablations/objective.log",
    conda:
        "../../environment.yml"
    params:
        runs={
            name: ablation_runs("flowbind", f"objective-{name}") for name in OBJECTIVES
        },
        objectives=OBJECTIVES,
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/objective.py"


rule anchor_variance:
    """FlowBind with each fixed anchor variance of ablations.anchor_variance."""
    input:
        [ablation_runs("flowbind", name) for name in VARIANCES],
    output:
        table=report(
            "results/anchor_variance.csv",
            category="Ablations",
            labels={"table": "anchor_variance"},
        ),
        figure=report(
            "results/anchor_variance.png",
            category="Ablations",
            labels={"figure": "anchor_variance"},
        ),
    log:
        "results/logs/ablations/anchor_variance.log",
    conda:
        "../../environment.yml"
    params:
        runs={v: ablation_runs("flowbind", name) for name, v in VARIANCES.items()},
        main=config["model"]["anchor_variance"],
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/anchor_variance.py"


rule solver:
    """Quality against drift evaluations for each ODE solver, on FlowBind's main run."""
    input:
        run=main_run("flowbind"),
        latents=LATENT_FILES,
        codecs=CODEC_FILES,
        evaluators=EVALUATOR_FILES,
    output:
        table=report(
            "results/solver.csv", category="Ablations", labels={"table": "solver"}
        ),
        figure=report(
            "results/solver.png", category="Ablations", labels={"figure": "solver"}
        ),
        generated=directory("results/ablations/solver"),
    log:
        "results/logs/ablations/solver.log",
    # The longest scoring job: run it beside the trainings rather than alone at the end.
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        solvers=config["ablations"]["solvers"],
        tasks=["t2i", "a2t", "i2a"],
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/solver.py"


rule conflict:
    """(T+A)->I with caption and audio from different scenes (the paper's Appendix H)."""
    input:
        run=main_run("flowbind"),
        latents=LATENT_FILES,
        codecs=CODEC_FILES,
        evaluators=EVALUATOR_FILES,
    output:
        table=report(
            "results/conflict.csv", category="Ablations", labels={"table": "conflict"}
        ),
        per_item="results/ablations/conflict.npz",
    log:
        "results/logs/ablations/conflict.log",
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        solver=config["generation"],
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/conflict.py"


rule ablations:
    """Every ablation: Table 4, the I-A fraction curve, the objective, the anchor variance,
    the ODE solver and, where attributes have ground truth, conflicting conditions."""
    input:
        rules.table4.output,
        rules.ia_fraction.output,
        rules.objective.output,
        rules.anchor_variance.output,
        rules.solver.output.table,
        rules.solver.output.figure,
        [] if PAPER else rules.conflict.output.table,
