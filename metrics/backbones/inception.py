"""FID backbone: Inception-v3 pool3 features (2048-d) in the pytorch-fid convention."""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metrics.backbones.common import (
    Weights,
    _Frozen,
    _image_groups,
    _load_strict,
    _load_tensors,
    _resolve,
    _unprefixed,
)


@functools.cache
def _fid_blocks() -> tuple[type[nn.Module], ...]:
    """torchvision's Inception-v3 blocks, and the three FID variants built on them."""
    from torchvision.models import inception as tv

    def tf_avg_pool(x: Tensor) -> Tensor:  # TensorFlow's average pool: padding not counted
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class FIDInceptionA(tv.InceptionA):
        """InceptionA with TensorFlow's average pool."""

        def forward(self, x: Tensor) -> Tensor:
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([b1, b5, b3, self.branch_pool(tf_avg_pool(x))], 1)

    class FIDInceptionC(tv.InceptionC):
        """InceptionC with TensorFlow's average pool."""

        def forward(self, x: Tensor) -> Tensor:
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            d = self.branch7x7dbl_2(self.branch7x7dbl_1(x))
            d = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(d)))
            return torch.cat([b1, b7, d, self.branch_pool(tf_avg_pool(x))], 1)

    class FIDInceptionE(tv.InceptionE):
        """InceptionE; pool branch: TensorFlow's average pool, or a 3x3 max pool (Mixed_7c)."""

        def __init__(self, in_channels: int, max_pool: bool) -> None:
            super().__init__(in_channels)
            self.max_pool = max_pool

        def forward(self, x: Tensor) -> Tensor:
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
            if self.max_pool:
                pool = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            else:
                pool = tf_avg_pool(x)
            return torch.cat([b1, b3, d, self.branch_pool(pool)], 1)

    return tv.BasicConv2d, FIDInceptionA, tv.InceptionB, FIDInceptionC, tv.InceptionD, FIDInceptionE


class InceptionFeatures(_Frozen):
    """Inception-v3 pool3 features (2048-d) for FID, in the pytorch-fid convention.

    The network of TensorFlow's FID code (inception-2015-12-05) as ported by pytorch-fid: the
    torchvision Inception-v3 layout with FID-specific blocks (average pools that exclude padding,
    a max pool in the pool branch of Mixed_7c) and a 1008-class ``fc`` kept only so that the
    checkpoint loads unchanged (it is not used). Module names match the checkpoint
    ``pt_inception-2015-12-05-6726825d.pth``.

    Input: float images (N, 3, H, W) in [0, 1], uint8 images (N, H, W, 3), or a list of such
    images / PIL images (each processed alone, so sizes may differ). Each image is resized to
    299 x 299 (bilinear, align_corners=False, no antialias), scaled to [-1, 1] (2x - 1), passed
    through the network up to the final average pool. Output: (N, 2048).
    """

    entry = "inception-fid"
    dim = 2048

    def __init__(self, weights: Weights = "registry") -> None:
        super().__init__()
        path = _resolve(weights, self.entry)  # before building: a missing file fails fast
        conv, block_a, block_b, block_c, block_d, block_e = _fid_blocks()
        self.Conv2d_1a_3x3 = conv(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = conv(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = conv(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = conv(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = conv(80, 192, kernel_size=3)
        self.Mixed_5b = block_a(192, pool_features=32)
        self.Mixed_5c = block_a(256, pool_features=64)
        self.Mixed_5d = block_a(288, pool_features=64)
        self.Mixed_6a = block_b(288)
        self.Mixed_6b = block_c(768, channels_7x7=128)
        self.Mixed_6c = block_c(768, channels_7x7=160)
        self.Mixed_6d = block_c(768, channels_7x7=160)
        self.Mixed_6e = block_c(768, channels_7x7=192)
        self.Mixed_7a = block_d(768)
        self.Mixed_7b = block_e(1280, max_pool=False)
        self.Mixed_7c = block_e(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)
        if path is not None:
            state = _unprefixed(_load_tensors(path))
            _load_strict(self, state, path, optional=("num_batches_tracked",))
        self._freeze()

    def features(self, x: Tensor) -> Tensor:
        """Pool3 features of a float batch already in [-1, 1] at 299 x 299.

        Args:
            x: (N, 3, 299, 299) images.

        Returns:
            (N, 2048) features.
        """
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b):
            x = block(x)
        for block in (self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b):
            x = block(x)
        x = self.Mixed_7c(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    @torch.no_grad()
    def forward(self, images: Any) -> Tensor:
        """(N, 2048) pool3 features of N images (class docstring for the layouts)."""
        out = []
        for batch in _image_groups(images):
            x = batch.to(self.device)
            x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            out.append(self.features(2 * x - 1))
        return torch.cat(out)
