# Each trained method's one-to-one scores against its training budget and against the share of
# training pairs kept (bench.curves). A point is a run of its own: the `train` rule with the
# variant steps<n> or data<percent>, scored by ablation_eval; train.steps and 100 % reuse the
# main runs.


if SNAPSHOT_METHODS:

    ruleorder: snapshot_run > train

    rule snapshot_run:
        """A budget run taken from the snapshot a longer run kept at its step: the main run
        below the main budget where the longest budget run continues it, that run above.
        """
        input:
            run=snapshot_source,
        output:
            run=directory("results/train/{method}/steps{steps}/seed{seed}"),
        log:
            "results/logs/train/{method}/steps{steps}/seed{seed}.log",
        wildcard_constraints:
            method="|".join(SNAPSHOT_METHODS),
            steps="|".join(map(str, SNAPSHOT_STEPS)),
        localrule: True
        conda:
            "../../environment.yml"
        script:
            "../scripts/snapshot_run.py"


rule budget_curve:
    """Scores against training steps and training FLOPs, and the budget criterion."""
    input:
        [ablation_runs(m, f"steps{n}") for m in CURVED for n in CURVE_STEPS],
    output:
        table=report(
            "results/budget_curve.csv",
            category="Curves",
            labels={"table": "budget_curve"},
        ),
        fraction=report(
            "results/budget_fraction.csv",
            category="Curves",
            labels={"table": "budget_fraction"},
        ),
        figure=report(
            "results/budget_curve.png",
            category="Curves",
            labels={"figure": "budget_curve"},
        ),
        flops_figure=report(
            "results/budget_flops.png",
            category="Curves",
            labels={"figure": "budget_flops"},
        ),
    log:
        "results/logs/curves/budget_curve.log",
    conda:
        "../../environment.yml"
    params:
        runs={
            m: {n: ablation_runs(m, f"steps{n}") for n in CURVE_STEPS} for m in CURVED
        },
        fits={
            m: {n: ablation_train(m, f"steps{n}") for n in CURVE_STEPS} for m in CURVED
        },
        table_steps=config["train"]["steps"],
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/budget_curve.py"


rule data_curve:
    """Scores against the share of every training pair table kept."""
    input:
        [ablation_runs(m, f"data{p}") for m in CURVED for p in CURVE_DATA],
    output:
        table=report(
            "results/data_curve.csv", category="Curves", labels={"table": "data_curve"}
        ),
        figure=report(
            "results/data_curve.png",
            category="Curves",
            labels={"figure": "data_curve"},
        ),
    log:
        "results/logs/curves/data_curve.log",
    conda:
        "../../environment.yml"
    params:
        runs={m: {p: ablation_runs(m, f"data{p}") for p in CURVE_DATA} for m in CURVED},
        fits={m: {p: ablation_train(m, f"data{p}") for p in CURVE_DATA} for m in CURVED},
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/data_curve.py"


rule curves:
    """The budget and data curves of every trained method."""
    input:
        rules.budget_curve.output,
        rules.data_curve.output,
