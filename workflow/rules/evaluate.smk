# One scoring job per method and task group, as for generation.
for group, group_tasks in TASK_GROUPS.items():

    rule:
        """Every metric of a task group of one seed of a method:
        results/evaluate/<method>/seed<seed>/<task>.json, and .npz (per-item values).
        """
        name:
            f"evaluate_{group}"
        input:
            generated=expand(
                "results/generate/{{method}}/seed{{seed}}/{task}/manifest.csv",
                task=group_tasks,
            ),
            evaluators=EVALUATOR_FILES
            + (POINT_EVALUATOR_FILES if group == "points" else []),
        output:
            records=expand(
                "results/evaluate/{{method}}/seed{{seed}}/{task}.json",
                task=group_tasks,
            ),
            per_item=expand(
                "results/evaluate/{{method}}/seed{{seed}}/{task}.npz", task=group_tasks
            ),
        log:
            f"results/logs/evaluate/{{method}}/seed{{seed}}/{group}.log",
        conda:
            "../../environment.yml"
        params:
            tasks=list(group_tasks),
            resamples=config["evaluation"]["bootstrap_resamples"],
        script:
            "../scripts/evaluate.py"


rule cknna:
    """CKNNA of encoder latents and of FlowBind's shared anchors (Table 5)."""
    input:
        latents=LATENT_FILES,
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
