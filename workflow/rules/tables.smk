rule metric_table:
    """Tables 2, 3, 7, 8 and 9: one row per method plus the codec ceiling, each cell the mean
    over the method's seeds with their spread and the 95 % interval of the mean."""
    input:
        table_evaluations,
    output:
        report("results/{table}.csv", category="Tables", labels={"table": "{table}"}),
    log:
        "results/logs/tables/{table}.log",
    wildcard_constraints:
        table="table2|table3|table7|table8|table9",
    conda:
        "../../environment.yml"
    params:
        seeds=SCORED_SEEDS,
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/metric_table.py"


rule table1:
    """Table 1: parameters, training time and device, training pairs, joint training, stages."""
    input:
        runs=[main_run(m) for m in TRAINED],
    output:
        report("results/table1.csv", category="Tables", labels={"table": "table1"}),
    log:
        "results/logs/tables/table1.log",
    conda:
        "../../environment.yml"
    params:
        methods=TRAINED,
    script:
        "../scripts/table1.py"


rule table5:
    """Table 5: CKNNA of encoder latents vs FlowBind's shared anchors."""
    input:
        rules.cknna.output,
    output:
        report("results/table5.csv", category="Tables", labels={"table": "table5"}),
    log:
        "results/logs/tables/table5.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/table5.py"


rule table6:
    """Table 6: the data, pairs per pair type."""
    input:
        DATA_FILES,
    output:
        report("results/table6.csv", category="Tables", labels={"table": "table6"}),
    log:
        "results/logs/tables/table6.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/table6.py"


rule attributes:
    """Ground-truth attribute accuracy per method, task, target and attribute."""
    input:
        EVALUATIONS,
    output:
        report(
            "results/attributes.csv", category="Tables", labels={"table": "attributes"}
        ),
    log:
        "results/logs/tables/attributes.log",
    conda:
        "../../environment.yml"
    params:
        seeds=SCORED_SEEDS,
        resamples=config["evaluation"]["bootstrap_resamples"],
    script:
        "../scripts/attributes.py"


rule tables:
    """Every main table of the paper on the configured profile."""
    input:
        expand("results/table{n}.csv", n=[1, 2, 3, 5, 6, 7, 8]),
        # ground-truth attributes exist only in the embedded world
        [] if PAPER else "results/attributes.csv",
