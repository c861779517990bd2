"""CLAP score: the CLIP-score function on CLAP audio and text embeddings, x100.

Paper benchmark: LAION-CLAP; embedded benchmark: the text_audio contrastive pair. The paper's
tables report the cosine x100; like the CLIP score, negative cosines are clipped to 0.
"""

from metrics.clip_score import ClipScore, clip_score, clip_score_ci, clip_score_per_item

clap_score = clip_score
clap_score_ci = clip_score_ci
clap_score_per_item = clip_score_per_item
ClapScore = ClipScore

__all__ = ["ClapScore", "clap_score", "clap_score_ci", "clap_score_per_item"]
