# One generation job per method and task group (TASK_GROUPS in common.smk), so that a table
# waits only for its own tasks.
for group, group_tasks in TASK_GROUPS.items():

    rule:
        """A task group's outputs of one seed of a method (its main run; the fourth
        modality's tasks: its run on all four): results/generate/<method>/seed<seed>/<task>/.
        """
        name:
            f"generate_{group}"
        input:
            unpack(generation_inputs(group)),
        output:
            expand(
                "results/generate/{{method}}/seed{{seed}}/{task}/manifest.csv",
                task=group_tasks,
            ),
        log:
            f"results/logs/generate/{{method}}/seed{{seed}}/{group}.log",
        conda:
            "../../environment.yml"
        resources:
            local_gpu=GPU_JOBS,
        params:
            tasks=list(group_tasks),
            solver=config["generation"],
        script:
            "../scripts/generate.py"
