"""The embedded benchmark: a procedural text-image-audio world (with an optional point-cloud
view), its codecs and its evaluators.

The world (numpy only; importing this package does not import torch):

    world.py        attributes, which modalities show them, sampling
    captions.py     the caption grammar and its exact parser
    images.py       64x64 RGB rendering
    audio.py        16 kHz synthesis
    points.py       256-point clouds of the scene's solids
    build.py        splits and their sizes, generation from a seed
    storage.py      PNG / WAV / NPY / JSON / CSV files and their checked readers

Its networks, trained inside the suite (``python -m bench.embedded --out results/embedded``):

    spectrogram.py  log-mel and Griffin-Lim
    nets.py         conv trunks, the seeded trainer, save/load of frozen networks by name
    codecs.py       image, audio and text codecs (encode -> (N, D) latents, decode -> data)
    evaluators.py   attribute classifiers, the caption parser, contrastive pairs
    backbones.py    the evaluators behind the metrics' backbone interface
    prepare.py      builds data, codecs and evaluators and measures their quality
"""

from bench.embedded.build import IA_FRACTIONS, SIZES, build_dataset, generate_split, ia_subset
from bench.embedded.storage import DatasetError, Split, load_split
from bench.embedded.world import ATTRIBUTES, attributes_shown_by, shared_attributes

__all__ = [
    "ATTRIBUTES",
    "IA_FRACTIONS",
    "SIZES",
    "DatasetError",
    "Split",
    "attributes_shown_by",
    "build_dataset",
    "generate_split",
    "ia_subset",
    "load_split",
    "shared_attributes",
]
