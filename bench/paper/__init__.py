"""The paper benchmark: the paper's codecs, data sets, metric backbones and released model.

It sits beside ``bench.embedded`` and offers the same interfaces (``bench.benchmark``), so the
workflow runs either by config alone (``benchmark: paper``; workflow/config/paper.yaml):

    codec.py        the codec contract: encode to raw (N, 768) latents, decode to data
    text_codec.py   EmbeddingGemma-300m; prefix projector + Gemma-3-1B, greedy, 64 tokens
    image_codec.py  OpenAI CLIP ViT-L/14 image embeddings; Stable unCLIP 2.1 small
    audio_codec.py  LAION-CLAP HTSAT-base + the 512 -> 768 autoencoder; AudioLDM-m-full
    codecs.py       the three codecs as the config says (registry files, trained parts, tiny)
    datasets/       COCO, Flickr30k, LAION-COCO, AudioCaps, VGGSound and the triplets: lazy
                    items, layout checks, batched reads that skip, count and list bad items
    splits.py       which data sets feed which split; the test splits as the metrics read them
    extract.py      feature extraction: batched, sharded, resumable
    backbones.py    Inception, VGGish, CLIP ViT-B/32, LAION-CLAP, wav2clip behind the
                    evaluators' interface, with cached real-item features
    released.py     ``flowbind_released``: the authors' released weights as a method
    preflight.py    every missing weight file and data path, listed before any job runs
    tiny_data.py    tiny copies of the six data sets in their real layouts (paper_tiny)

Pretrained files come from the weight registry (``metrics.backbones.registry`` and
``metrics.backbones.hub``); nothing is downloaded at run time. Every codec has a ``tiny``
constructor of the same architectures with random weights, which the tests and the paper_tiny
config use.
"""
