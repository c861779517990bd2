"""The paper benchmark: the paper's codecs, data sets and metric backbones (not wired yet).

It sits beside ``bench.embedded`` and offers the same interfaces: splits and pair tables, frozen
codecs (encode to (N, D) latents, decode to data) and the metrics' backbones. Its pretrained
metric backbones already live in ``metrics.backbones`` (loaded from the weight registry);
``workflow/config/paper.yaml`` selects it with ``benchmark: paper``, which the workflow refuses
until its codecs and data sets are here.
"""
