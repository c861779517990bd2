"""Baseline methods trained on the same latents and budget as FlowBind.

Empty so far: the CoDi-, OmniFlow- and CrossFlow-style recipes and text anchoring are yet to be
added, each as one module behind the method interface the workflow uses.
"""
