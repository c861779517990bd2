"""Stand-in for OmniFlow's OmniFlowPipeline: same names, canned outputs."""

import types
import wave

import numpy as np
from PIL import Image

ONE_TO_ONE = ("t2i", "i2t", "a2t", "t2a", "i2a", "a2i")  # the released __call__'s assert


class OmniFlowPipeline:
    def __init__(self, path: str, device: str):
        self.loaded_with, self.cfg_mode, self.calls = (path, device), "old", []

    @staticmethod
    def load_pretrained(path, device="cuda", weight_dtype=None, load_ema=False):
        return OmniFlowPipeline(path, device)

    def __call__(
        self,
        prompt=None,
        height=None,
        width=None,
        num_inference_steps=28,
        guidance_scale=7.0,
        add_token_embed=False,
        task="t2i",
        input_img=None,
        input_aud=None,
    ):
        assert task in ONE_TO_ONE, f"released __call__ rejects {task}"
        call = {k: v for k, v in locals().items() if k != "self"} | {"cfg_mode": self.cfg_mode}
        if input_aud is not None:  # read while the adapter's file exists
            with wave.open(input_aud, "rb") as f:
                call["audio"] = np.frombuffer(f.readframes(f.getnframes()), "<i2")
        self.calls.append(call)
        if task in ("t2i", "a2i"):
            return types.SimpleNamespace(images=[Image.new("RGB", (height, width), (200, 10, 10))])
        if task in ("i2t", "a2t"):
            return [f"<s> caption {len(self.calls)} </s>[PAD]"], ["unconditional"]
        return np.zeros((1, 1, 1024, 64), np.float32), None
