# The paper benchmark's inputs: tiny stand-ins (paper_tiny), the trained codec parts, the
# latents of every split and the real-item features of every test split.


rule tiny_inputs:
    """paper_tiny: tiny copies of the six data sets and tiny random codecs of the paper's
    architectures (nothing measured on them means anything)."""
    output:
        "results/tiny_inputs.json",
    log:
        "results/logs/tiny_inputs.log",
    conda:
        "../../environment.yml"
    params:
        data="results/tiny_data",
        codecs=f"{PAPER_CODECS}/tiny",
        n_items=24,
    script:
        "../scripts/paper_tiny.py"


rule text_decoder:
    """The text decoder (prefix projector + LM), trained to rebuild the training captions."""
    input:
        TINY_INPUTS,
    output:
        f"{PAPER_CODECS}/text_decoder.pt",
    log:
        "results/logs/text_decoder.log",
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        codecs=PAPER_CODECS,
        steps=config["paper"]["text_decoder_steps"],
        batch_size=32,
    script:
        "../scripts/text_decoder.py"


rule audio_autoencoder:
    """The 512 <-> 768 audio autoencoder, trained on the training clips' CLAP embeddings."""
    input:
        TINY_INPUTS,
    output:
        f"{PAPER_CODECS}/audio_autoencoder.pth",
    log:
        "results/logs/audio_autoencoder.log",
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        steps=config["paper"]["audio_autoencoder_steps"],
    script:
        "../scripts/audio_autoencoder.py"


rule triplet_images:
    """The triplet test set's images: FLUX.1-schnell from each AudioCaps test caption, into
    the triplets' image folder (paper.triplet_images: generate); made ones are kept."""
    output:
        "results/triplet_images.json",
    log:
        "results/logs/triplet_images.log",
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        seed=config["data_seed"],
    script:
        "../scripts/triplet_images.py"


rule extract:
    """One split's latents (results/latents/<split>.npz) and record of its items
    (results/splits/<split>.json), batched and sharded; a rerun resumes from its shards in
    results/extract/<split>/, which Snakemake leaves alone."""
    input:
        extract_inputs,
    output:
        latents="results/latents/{split}.npz",
        record="results/splits/{split}.json",
    log:
        "results/logs/extract/{split}.log",
    wildcard_constraints:
        split="|".join(PAPER_SPLITS),
    priority: 2
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    params:
        codecs=PAPER_CODECS,
        work="results/extract/{split}",
    script:
        "../scripts/paper_extract.py"


rule reference:
    """A test split's real-item features under the metric backbones, computed once."""
    input:
        "results/splits/{split}.json",
    output:
        "results/reference/{split}/ready.json",
    log:
        "results/logs/reference/{split}.log",
    wildcard_constraints:
        split="|".join(PAPER_TEST_SPLITS),
    conda:
        "../../environment.yml"
    resources:
        local_gpu=GPU_JOBS,
    script:
        "../scripts/paper_reference.py"


rule download_weights:
    """Fetch and verify every pretrained file this config loads (needs internet)."""
    output:
        touch("results/logs/download_weights.done"),
    log:
        "results/logs/download_weights.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        entries=needed_entries(config),
    script:
        "../scripts/download_weights.py"
