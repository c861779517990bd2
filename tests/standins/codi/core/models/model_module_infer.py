"""Stand-in for CoDi's core.models.model_module_infer.model_module: same names, canned outputs."""

import numpy as np
from PIL import Image


class model_module:  # noqa: N801 (the official name)
    def __init__(self, data_dir="pretrained", pth=("CoDi_encoders.pth",), fp16=False):
        self.loaded_with, self.calls = (data_dir, pth, fp16), []

    def to(self, device):
        self.device = device
        return self

    def eval(self):
        return self

    def inference(
        self,
        xtype=(),
        condition=(),
        condition_types=(),
        n_samples=1,
        mix_weight=None,
        image_size=256,
        ddim_steps=50,
        scale=7.5,
        num_frames=8,
    ):
        call = {k: v for k, v in locals().items() if k != "self"}
        self.calls.append(call)
        outputs = {
            "image": [Image.new("RGB", (image_size, image_size), (10, 200, 10))] * n_samples,
            "text": [f"caption {len(self.calls)}"] * n_samples,
            "audio": np.full((n_samples, 1, 163_840), -0.5, np.float32),  # 10.24 s at 16 kHz
        }
        return [outputs[x] for x in xtype]
