"""The embedded benchmark's world: procedurally generated text, image and audio with ground truth.

world.py     attributes, which modalities show them, sampling
captions.py  the caption grammar and its exact parser
images.py    64x64 RGB rendering
audio.py     16 kHz synthesis
spectrogram.py  log-mel and Griffin-Lim (torch)
build.py     splits and their sizes, generation from a seed
storage.py   PNG / WAV / JSON / CSV files and their checked readers
"""

from flowbind.datasets.build import IA_FRACTIONS, SIZES, build_dataset, generate_split, ia_subset
from flowbind.datasets.storage import DatasetError, Split, load_split
from flowbind.datasets.world import ATTRIBUTES, attributes_shown_by, shared_attributes

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
