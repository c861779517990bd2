# One generation job per method and task family, so that a table waits only for its own tasks
# (Tables 2 and 3: one-to-one; Table 8: one-to-many; Table 7: many-to-one).
for family, family_tasks in FAMILIES.items():

    rule:
        """A task family's outputs of a method's main run: results/generate/<method>/<task>/."""
        name:
            f"generate_{family}"
        input:
            unpack(generation_input),
        output:
            expand("results/generate/{{method}}/{task}/manifest.csv", task=family_tasks),
        log:
            f"results/logs/generate/{{method}}/{family}.log",
        conda:
            "../../environment.yml"
        resources:
            gpu=GPU_JOBS,
        params:
            tasks=list(family_tasks),
            solver={
                "method": config["model"]["solver"],
                "steps": config["model"]["solver_steps"],
            },
        script:
            "../scripts/generate.py"
