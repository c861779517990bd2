rule report_figures:
    """Figures that need the training runs: loss curves, FlowBind's anchors, an interpolation."""
    input:
        runs=[main_run(m) for m in TRAINED],
        flowbind=main_run("flowbind"),
        latents=LATENT_FILES,
        codecs=CODEC_FILES,
    output:
        loss=[
            report(
                f"results/report/loss_{method}.png",
                category="Report",
                labels={"figure": f"loss {method}"},
            )
            for method in TRAINED
        ],
        anchors=report(
            "results/report/anchors.png",
            category="Report",
            labels={"figure": "anchors"},
        ),
        interpolation=report(
            "results/report/interpolation.png",
            category="Report",
            labels={"figure": "interpolation"},
        ),
        anchor_map=report(
            "results/report/anchor_map.png",
            category="Report",
            labels={"figure": "anchor map"},
        ),
        purity="results/report/anchor_purity.csv",
        purity_figure=report(
            "results/report/anchor_purity.png",
            category="Report",
            labels={"figure": "anchor purity"},
        ),
    log:
        "results/logs/report/figures.log",
    conda:
        "../../environment.yml"
    params:
        methods=TRAINED,
        solver=config["generation"],
    script:
        "../scripts/report_figures.py"


rule report:
    """results/report.html: provenance, every table, the figures and galleries, one file."""
    input:
        tables=rules.tables.input,
        ablations=rules.ablations.input,
        losses=rules.report_figures.output.loss,
        anchors=rules.report_figures.output.anchors,
        interpolation=rules.report_figures.output.interpolation,
        anchor_map=rules.report_figures.output.anchor_map,
        purity_figure=rules.report_figures.output.purity_figure,
        ia_fraction=rules.ia_fraction.output.figure,
        anchor_variance=rules.anchor_variance.output.figure,
        solver=rules.solver.output.figure,
        evaluations=EVALUATIONS,
        generated=expand(
            f"results/generate/{{method}}/seed{MAIN_SEED}/{{task}}/manifest.csv",
            method=SCORED,
            task=TASKS,
        ),
        data=DATA_FILES,
        quality=QUALITY_FILES,
        paper=expand(f"{workflow.basedir}/results/paper/table{{n}}.csv", n=range(1, 9)),
        claims="results/claims.csv",
        curves=list(CURVE_FIGURES.values()),
        # the fourth modality's tables and figure, when it is switched on
        points=rules.fourth_modality.input if POINTS else [],
    output:
        html=report("results/report.html", category="Report", labels={"page": "report"}),
    log:
        "results/logs/report/html.log",
    conda:
        "../../environment.yml"
    params:
        config=config,
        methods=SCORED,
        trained=TRAINED,
        curve_figures=list(CURVE_FIGURES),
        point_figures=(
            {"cost_scaling": str(rules.cost_scaling.output.figure)} if POINTS else {}
        ),
        logs="results/logs",
    script:
        "../scripts/report.py"


rule resolved_config:
    """results/config.yaml: the checked configuration of this run, every default filled in."""
    output:
        "results/config.yaml",
    log:
        "results/logs/config.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        config=dict(config),
    script:
        "../scripts/resolved_config.py"


rule claims:
    """results/claims.csv: whether each paper claim holds on this run, by one rule on the tables."""
    input:
        table3="results/table3.csv",
        table4=rules.table4.output,
        table5=rules.table5.output,
        ia_fraction=rules.ia_fraction.output.table,
        curves=CURVE_TABLES,
        conflict=[] if PAPER else rules.conflict.output.table,
        points=["results/table9.csv", rules.cost_scaling.output.table] if POINTS else [],
    output:
        report("results/claims.csv", category="Report", labels={"table": "claims"}),
    log:
        "results/logs/report/claims.log",
    localrule: True
    conda:
        "../../environment.yml"
    script:
        "../scripts/claims.py"
