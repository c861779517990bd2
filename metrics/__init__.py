"""Evaluation metrics of the FlowBind benchmark: one module each, its protocol in its docstring.

    fid.py          Frechet distance (float64, streaming statistics), FID
    fad.py          FAD: the same Frechet core on audio embeddings
    cider.py        CIDEr-D via pycocoevalcap, x100
    ptb_tokenizer.py  COCO's PTB tokenisation: the Java jar, or a pure-Python equivalent
    ptb_lexer.py    the pure-Python PTB lexer (imported only when Java is absent)
    clip_score.py   100 * mean max(cos, 0) of paired embeddings
    clap_score.py   the same on CLAP embeddings
    ais.py          audio-image similarity (SonicDiffusion), both directions, x100
    cknna.py        CKNNA (platonic-rep), 0..1
    attributes.py   ground-truth attribute accuracy (the embedded benchmark's addition)
    chamfer.py      Chamfer distance between paired point clouds, x1000
    bootstrap.py    95 % bootstrap intervals over test items (Score)
    validation.py   input checks (MetricInputError)
    backbones/      feature extractors: embedded evaluators, the paper's pretrained networks

Every metric has a functional form and a class with update() / compute(); every one can give a
bootstrap interval (``*_score`` / ``*_ci`` functions returning a Score).
"""
