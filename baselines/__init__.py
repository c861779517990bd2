"""Baseline methods trained on the same latents, pairs and budget as FlowBind.

Each module is one recipe behind the method interface of ``flowbind.method``: ``text_anchor``
(the paper's text-anchoring ablation), ``codi``, ``omniflow`` and ``crossflow`` (CoDi-,
OmniFlow- and CrossFlow-style recipes re-implemented on the suite's latents). ``budget`` sizes
them to FlowBind's parameter count; ``nets`` holds the networks they share; ``official/`` adapts
the released OmniFlow and CoDi checkpoints.
"""
