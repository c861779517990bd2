# The fourth modality (the config's `modalities` with points; the paper's Appendix J): its data,
# its latents, Table 9 and the cost table against the number of modalities. Its codec and
# evaluators are the `codec` and `evaluator` rules' (codecs.smk), its runs the `train` rule's
# variant points, its outputs and scores the `generate_points` and `evaluate_points` jobs'.


rule data_points:
    """The point-cloud splits, in a data folder of their own beside data/ (which they leave as
    it is)."""
    output:
        manifest=f"{EMBEDDED}/data_points/dataset.json",
    log:
        "results/logs/data_points.log",
    conda:
        "../../environment.yml"
    params:
        size=config["size"],
        seed=config["data_seed"],
        points=True,
    script:
        "../scripts/data.py"


rule encode_points:
    """Latents of the fourth modality's training and test splits under the frozen codecs."""
    input:
        manifest=rules.data_points.output.manifest,
        codecs=CODEC_FILES + POINT_CODEC_FILES,
    output:
        POINT_LATENT_FILES,
    log:
        "results/logs/encode_points.log",
    priority: 2
    conda:
        "../../environment.yml"
    script:
        "../scripts/encode.py"


rule cost_scaling:
    """results/cost_scaling.csv: parameters and training FLOPs per step of every trained method
    at 3 to 10 modalities, counted from the implementations, and measured CPU step times at 3
    and 4 (bench.scaling)."""
    output:
        table=report(
            "results/cost_scaling.csv",
            category="Fourth modality",
            labels={"table": "cost_scaling"},
        ),
        figure=report(
            "results/cost_scaling.png",
            category="Fourth modality",
            labels={"figure": "cost_scaling"},
        ),
    log:
        "results/logs/tables/cost_scaling.log",
    conda:
        "../../environment.yml"
    params:
        settings={m: train_settings(config, m) for m in CURVED},
        base=SIZES[config["size"]].pair_rows(),
        counts=[3, 4, 5, 6, 8, 10],
        timed=[3, 4],
    script:
        "../scripts/cost_scaling.py"


rule fourth_modality:
    """The fourth modality's results: Table 9 and the cost table with its figure."""
    input:
        "results/table9.csv",
        rules.cost_scaling.output,
