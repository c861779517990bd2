"""What the embedded benchmark trains and encodes, by name.

Torch-free, so that the workflow plans its jobs from these names (workflow/rules/common.smk)
without starting torch; the networks themselves (codecs.py, evaluators.py) are keyed by them.
"""

from __future__ import annotations

from bench.embedded.build import PAIR_SPLITS, POINT_PAIR_SPLITS

# One frozen codec per modality: encode to (N, D) latents, decode back to data.
CODEC_MODALITIES = ("image", "audio", "text")
# The contrastive pairs behind the CLIP score, the CLAP score and AIS: name -> (first, second).
CONTRASTIVE_PAIRS = {
    "text_image": ("text", "image"),
    "text_audio": ("text", "audio"),
    "audio_image": ("audio", "image"),
}
# Every evaluator, and those with weights: the text evaluator is the caption grammar's exact
# parser, so it has nothing to train.
EVALUATORS = ("image", "audio", "text", *CONTRASTIVE_PAIRS)
TRAINED_EVALUATORS = tuple(name for name in EVALUATORS if name != "text")
# The fourth modality's networks, trained only where it is switched on: its codec, its
# classifier (features for the Frechet PointNet Distance) and the image-point-cloud pair.
POINT_CODEC_MODALITIES = ("points",)
POINT_CONTRASTIVE_PAIRS = {"image_points": ("image", "points")}
POINT_EVALUATORS = ("points", *POINT_CONTRASTIVE_PAIRS)
ALL_CONTRASTIVE_PAIRS = {**CONTRASTIVE_PAIRS, **POINT_CONTRASTIVE_PAIRS}
ALL_EVALUATORS = (*EVALUATORS, *POINT_EVALUATORS)
# The test splits of the translation tasks, and every split the workflow encodes to latents.
TEST_SPLITS = ("test_ti", "test_ta", "test_ia", "test_triplet")
LATENT_SPLITS = (*PAIR_SPLITS, *TEST_SPLITS)
# The fourth modality's test splits, and its splits the workflow encodes to latents.
POINT_TEST_SPLITS = ("test_ip", "test_tp", "test_ap", "test_tip")
POINT_LATENT_SPLITS = (*POINT_PAIR_SPLITS, *POINT_TEST_SPLITS)
