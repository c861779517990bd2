rule codec:
    """A frozen codec (encoder and decoder) of one modality, trained on the codec split (the
    point-cloud codec on codec_points)."""
    input:
        manifest=lambda w: data_manifest(w.modality in POINT_CODEC_MODALITIES),
    output:
        f"{EMBEDDED}/codecs/{{modality}}/config.json",
    log:
        "results/logs/codec_{modality}.log",
    wildcard_constraints:
        modality="|".join((*CODEC_MODALITIES, *POINT_CODEC_MODALITIES)),
    # Codecs before evaluators: training needs only the codecs' latents, so it can start while
    # the evaluators still train.
    priority: 2
    conda:
        "../../environment.yml"
    params:
        size=config["size"],
        seed=config["data_seed"],
        latent_dim=config["latent_dim"],
    script:
        "../scripts/codec.py"


rule evaluator:
    """An evaluator network (classifier or contrastive pair), trained on the evaluator split
    (the point-cloud classifier and the image-point pair on evaluator_points)."""
    input:
        manifest=lambda w: data_manifest(w.name in POINT_EVALUATORS),
    output:
        f"{EMBEDDED}/evaluators/{{name}}/config.json",
    log:
        "results/logs/evaluator_{name}.log",
    wildcard_constraints:
        name="|".join((*TRAINED_EVALUATORS, *POINT_EVALUATORS)),
    conda:
        "../../environment.yml"
    params:
        size=config["size"],
        seed=config["data_seed"],
    script:
        "../scripts/evaluator.py"


rule codecs_ready:
    """Codec and evaluator quality on held-out splits (quality.json), once all are trained."""
    input:
        codecs=CODEC_FILES,
        evaluators=EVALUATOR_FILES,
    output:
        f"{EMBEDDED}/quality.json",
    log:
        "results/logs/quality.log",
    conda:
        "../../environment.yml"
    params:
        size=config["size"],
        seed=config["data_seed"],
        latent_dim=config["latent_dim"],
    script:
        "../scripts/quality.py"
