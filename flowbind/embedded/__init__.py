"""The embedded default profile: codecs and evaluators trained inside the suite.

    nets.py        conv trunks, the seeded trainer, save/load of frozen networks by name
    codecs.py      image, audio and text codecs (encode -> (N, D) latents, decode -> data)
    evaluators.py  attribute classifiers, the caption parser, contrastive pairs
    prepare.py     builds data, codecs and evaluators and measures their quality

The world they are trained on is in flowbind.datasets.
"""
