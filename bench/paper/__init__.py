"""The paper benchmark: the paper's codecs, data sets, metric backbones and released model.

It sits beside ``bench.embedded`` and offers the same interfaces, so the workflow runs either by
config alone (``benchmark: paper`` in workflow/config/paper.yaml):

    codec.py        the codec contract: encode to raw (N, 768) latents, decode to data
    text_codec.py   EmbeddingGemma-300m; prefix projector + Gemma-3-1B, greedy, 64 tokens
    image_codec.py  OpenAI CLIP ViT-L/14 image embeddings; Stable unCLIP 2.1 small
    audio_codec.py  LAION-CLAP HTSAT-base + the 512 -> 768 autoencoder; AudioLDM-m-full
    datasets/       COCO, Flickr30k, LAION-COCO, AudioCaps, VGGSound and the triplets: lazy
                    items, layout checks, batched reads that skip, count and list bad items
    backbones.py    Inception, VGGish, CLIP ViT-B/32, LAION-CLAP, wav2clip behind the
                    evaluators' interface, with cached real-item features
    released.py     ``flowbind_released``: the authors' released weights as a method

Pretrained files come from the weight registry (``metrics.backbones.registry`` and
``metrics.backbones.hub``); nothing is downloaded at run time. Every codec has a ``tiny``
constructor of the same architectures with random weights, which the tests use.
"""
