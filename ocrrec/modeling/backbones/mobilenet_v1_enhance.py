"""MobileNetV1Enhance: the PP-OCRv2/v3 recognition backbone (depthwise-separable convs, SE in the tail).

Layer and parameter names follow PaddleOCR (`conv1`, `block_list.N._depthwise_conv._conv`, ...)
so its published weights load unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import paddle
from paddle import ParamAttr, nn
from paddle.nn.initializer import KaimingNormal

from ocrrec.errors import ConfigError
from ocrrec.modeling.layers import SqueezeExcite, no_decay_attr
from ocrrec.modeling.native import DepthwiseConv2D, hardswish
from ocrrec.modeling.registry import BACKBONES


class ConvBNHardSwish(nn.Layer):
    """Conv (no bias, Kaiming init) → BatchNorm without weight decay → hard-swish."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int | Sequence[int],
        padding: int,
        groups: int = 1,
    ) -> None:
        super().__init__()
        conv_type = DepthwiseConv2D if groups > 1 else nn.Conv2D
        self._conv = conv_type(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            groups=groups,
            weight_attr=ParamAttr(initializer=KaimingNormal()),
            bias_attr=False,
        )
        self._batch_norm = nn.BatchNorm2D(
            out_channels, weight_attr=no_decay_attr(), bias_attr=no_decay_attr()
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return hardswish(self._batch_norm(self._conv(x)))


class DepthwiseSeparable(nn.Layer):
    """Depthwise conv (+ optional SE) followed by a pointwise conv."""

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        out_channels: int,
        stride: int | Sequence[int],
        kernel_size: int = 3,
        use_se: bool = False,
    ) -> None:
        super().__init__()
        self.use_se = use_se
        self._depthwise_conv = ConvBNHardSwish(
            in_channels, mid_channels, kernel_size, stride, padding=kernel_size // 2, groups=mid_channels
        )
        if use_se:
            self._se = SqueezeExcite(mid_channels)
        self._pointwise_conv = ConvBNHardSwish(mid_channels, out_channels, 1, 1, padding=0)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self._depthwise_conv(x)
        if self.use_se:
            x = self._se(x)
        return self._pointwise_conv(x)


# Unscaled (depthwise channels, output channels, stride, kernel, SE) of the 13 separable blocks.
# The last block's stride comes from `last_conv_stride`.
_BLOCKS: tuple[tuple[int, int, object, int, bool], ...] = (
    (32, 64, 1, 3, False),
    (64, 128, 1, 3, False),
    (128, 128, 1, 3, False),
    (128, 256, (2, 1), 3, False),
    (256, 256, 1, 3, False),
    (256, 512, (2, 1), 3, False),
    *((512, 512, 1, 5, False),) * 5,
    (512, 1024, (2, 1), 5, True),
    (1024, 1024, "last", 5, True),
)


@BACKBONES.register()
class MobileNetV1Enhance(nn.Layer):
    """PP-OCRv3 backbone; for a 3x48x320 input and PP-OCRv3's settings the output is C x 1 x 40.

    `last_pool_type="avg"` pools with `last_pool_kernel_size` (stride = kernel); anything
    else uses a 2x2 max-pool, as PaddleOCR does.
    """

    def __init__(
        self,
        in_channels: int = 3,
        scale: float = 0.5,
        last_conv_stride: int | Sequence[int] = 1,
        last_pool_type: str = "max",
        last_pool_kernel_size: Sequence[int] = (3, 2),
    ) -> None:
        super().__init__()
        if not float(scale) > 0:
            raise ConfigError(f"MobileNetV1Enhance: scale must be positive, got {scale}")
        self.scale = scale

        def ch(n: int) -> int:
            return int(n * scale)

        self.conv1 = ConvBNHardSwish(in_channels, ch(32), 3, stride=2, padding=1)
        blocks = []
        in_ch = ch(32)
        for mid, out, stride, kernel, use_se in _BLOCKS:
            if stride == "last":
                stride = last_conv_stride if isinstance(last_conv_stride, int) else tuple(last_conv_stride)
            blocks.append(
                DepthwiseSeparable(in_ch, ch(mid), ch(out), stride, kernel_size=kernel, use_se=use_se)
            )
            in_ch = ch(out)
        self.block_list = nn.Sequential(*blocks)
        if last_pool_type == "avg":
            kernel = list(last_pool_kernel_size)
            self.pool = nn.AvgPool2D(kernel_size=kernel, stride=kernel, padding=0)
        else:
            self.pool = nn.MaxPool2D(kernel_size=2, stride=2, padding=0)
        self.out_channels = ch(1024)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.pool(self.block_list(self.conv1(x)))
