"""Feature extractors behind the metrics.

    embedded.py   the embedded benchmark's evaluators (trained by ``bench.embedded``)
    paper.py      the paper benchmark's pretrained networks: Inception-v3 (FID), VGGish (FAD),
                  CLIP ViT-B/32, wav2clip, LAION-CLAP; loaded from the weight registry
                  (one module each: inception, vggish, clip, wav2clip_audio, clap; common.py)
    registry.py   the weight files: URLs, sha256, local folder ($FLOWBIND_WEIGHTS); nothing is
                  downloaded at run time (``python -m metrics.backbones.registry download``)

Submodules are imported on use, so importing this package needs none of the optional packages.
"""
