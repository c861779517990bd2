"""Evaluation metrics (FID, FAD, CIDEr, CLIP and CLAP scores, AIS, CKNNA, attribute accuracy).

Empty so far: each metric is yet to be added as one module with a functional form and an
update()/compute() class.
"""
