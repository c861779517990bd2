rule demo:
    """A short FlowBind training and every kind of translation on the toy latent problem."""
    output:
        table="results/demo/translation.csv",
    log:
        "results/logs/demo.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/demo.py"
