rule toy:
    """A one-minute FlowBind on the toy latent problem (no codecs): every kind of translation."""
    output:
        table="results/toy/translation.csv",
    log:
        "results/logs/toy.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/toy.py"
