"""A compact VGG-style backbone, the CNN of the original CRNN, for fast CPU training.

Plain 3x3 convolutions run as dense matrix products, which Paddle's CPU kernels execute far
faster than depthwise convolutions, so this is the backbone of the CPU demo config. Pooling
halves the height every stage and the width only in the first `width_pools` stages, then the
remaining height is averaged away: [B, C, H, W] -> [B, channels[-1], 1, W / 2**width_pools].
"""

from __future__ import annotations

from collections.abc import Sequence

import paddle
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.registry import BACKBONES


class _ConvBNReLU(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2D(in_channels, out_channels, 3, padding=1, bias_attr=False),
            nn.BatchNorm2D(out_channels),
            nn.ReLU(),
        )


@BACKBONES.register("VGG")
class VGG(nn.Layer):
    """`channels` per stage (each stage: `convs_per_stage` convs, then a 2x pool)."""

    def __init__(
        self,
        in_channels: int = 3,
        channels: Sequence[int] = (32, 64, 128, 192),
        convs_per_stage: Sequence[int] = (1, 1, 2, 2),
        width_pools: int = 2,
    ) -> None:
        super().__init__()
        if len(channels) != len(convs_per_stage):
            raise ConfigError(
                f"VGG: `channels` ({len(channels)} stages) and `convs_per_stage` ({len(convs_per_stage)}) differ in length"
            )
        if not 0 <= width_pools <= len(channels):
            raise ConfigError(f"VGG: width_pools must be between 0 and {len(channels)}, got {width_pools}")
        layers: list[nn.Layer] = []
        previous = in_channels
        for stage, (width, convs) in enumerate(zip(channels, convs_per_stage, strict=True)):
            for _ in range(int(convs)):
                layers.append(_ConvBNReLU(previous, int(width)))
                previous = int(width)
            pool = (2, 2) if stage < width_pools else (2, 1)
            layers.append(nn.MaxPool2D(kernel_size=pool, stride=pool))
        self.features = nn.Sequential(*layers)
        self.out_channels = previous

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.features(x).mean(axis=2, keepdim=True)
