"""CLAP score: the CLIP-score function on CLAP audio and text embeddings, x100.

Paper benchmark: LAION-CLAP; embedded benchmark: the text_audio contrastive pair. The paper's
tables report the cosine x100. As in the CLIP score, each pair's cosine is clamped at 0 before
the mean, 100 * mean_i max(cos_i, 0) (Hessel et al.'s CLIP-S convention with weight 1, x100), not
torchmetrics' max(mean_i 100 * cos_i, 0): the per-item values are what the bootstrap intervals
and the pooling over seeds resample.
"""

from metrics.clip_score import ClipScore, clip_score, clip_score_ci, clip_score_per_item

clap_score = clip_score
clap_score_ci = clip_score_ci
clap_score_per_item = clip_score_per_item
ClapScore = ClipScore

__all__ = ["ClapScore", "clap_score", "clap_score_ci", "clap_score_per_item"]
