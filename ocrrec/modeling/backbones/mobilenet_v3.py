"""MobileNetV3 for recognition (CRNN and the multi-language "lite" models).

Down-sampling after the stem is vertical only (stride (s, 1)), so a 32x100 input gives a
1x25 feature map. Names follow PaddleOCR: `conv1`, `blocks.N.{expand,bottleneck,linear}_conv`,
`blocks.N.mid_se`, `conv2`.
"""

from __future__ import annotations

from collections.abc import Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.layers import SqueezeExcite, make_divisible
from ocrrec.modeling.native import DepthwiseConv2D, hardswish
from ocrrec.modeling.registry import BACKBONES


class ConvBNAct(nn.Layer):
    """Conv (no bias) → BatchNorm → optional ReLU / hard-swish."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int | Sequence[int] = 1,
        groups: int = 1,
        act: str | None = None,
    ) -> None:
        super().__init__()
        if act not in (None, "relu", "hardswish"):
            raise ConfigError(f"MobileNetV3: unknown activation `{act}` (relu or hardswish)")
        self.act = act
        conv_type = DepthwiseConv2D if groups > 1 else nn.Conv2D
        self.conv = conv_type(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=(kernel_size - 1) // 2,
            groups=groups,
            bias_attr=False,
        )
        self.bn = nn.BatchNorm2D(out_channels)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.bn(self.conv(x))
        if self.act == "relu":
            return F.relu(x)
        if self.act == "hardswish":
            return hardswish(x)
        return x


class ResidualUnit(nn.Layer):
    """Inverted residual: 1x1 expand → depthwise kxk (+SE) → 1x1 linear, shortcut when shapes allow."""

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int | Sequence[int],
        use_se: bool,
        act: str,
    ) -> None:
        super().__init__()
        self.use_shortcut = stride == 1 and in_channels == out_channels
        self.use_se = use_se
        self.expand_conv = ConvBNAct(in_channels, mid_channels, 1, act=act)
        self.bottleneck_conv = ConvBNAct(
            mid_channels, mid_channels, kernel_size, stride=stride, groups=mid_channels, act=act
        )
        if use_se:
            self.mid_se = SqueezeExcite(mid_channels, slope=0.2)
        self.linear_conv = ConvBNAct(mid_channels, out_channels, 1, act=None)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.bottleneck_conv(self.expand_conv(x))
        if self.use_se:
            y = self.mid_se(y)
        y = self.linear_conv(y)
        return x + y if self.use_shortcut else y


def _stage_table(
    model_name: str, large_stride: Sequence[int], small_stride: Sequence[int]
) -> tuple[list, int]:
    """(kernel, expansion, out, SE, activation, stride) rows and the last conv's width."""
    if model_name == "large":
        s = large_stride
        rows = [
            (3, 16, 16, False, "relu", s[0]),
            (3, 64, 24, False, "relu", (s[1], 1)),
            (3, 72, 24, False, "relu", 1),
            (5, 72, 40, True, "relu", (s[2], 1)),
            (5, 120, 40, True, "relu", 1),
            (5, 120, 40, True, "relu", 1),
            (3, 240, 80, False, "hardswish", 1),
            (3, 200, 80, False, "hardswish", 1),
            (3, 184, 80, False, "hardswish", 1),
            (3, 184, 80, False, "hardswish", 1),
            (3, 480, 112, True, "hardswish", 1),
            (3, 672, 112, True, "hardswish", 1),
            (5, 672, 160, True, "hardswish", (s[3], 1)),
            (5, 960, 160, True, "hardswish", 1),
            (5, 960, 160, True, "hardswish", 1),
        ]
        return rows, 960
    s = small_stride
    rows = [
        (3, 16, 16, True, "relu", (s[0], 1)),
        (3, 72, 24, False, "relu", (s[1], 1)),
        (3, 88, 24, False, "relu", 1),
        (5, 96, 40, True, "hardswish", (s[2], 1)),
        (5, 240, 40, True, "hardswish", 1),
        (5, 240, 40, True, "hardswish", 1),
        (5, 120, 48, True, "hardswish", 1),
        (5, 144, 48, True, "hardswish", 1),
        (5, 288, 96, True, "hardswish", (s[3], 1)),
        (5, 576, 96, True, "hardswish", 1),
        (5, 576, 96, True, "hardswish", 1),
    ]
    return rows, 576


@BACKBONES.register()
class MobileNetV3(nn.Layer):
    """MobileNetV3 small/large for recognition; any positive `scale` (PaddleOCR ships 0.35-1.25).

    `large_stride` / `small_stride` are the four vertical strides of the stages
    (defaults [1, 2, 2, 2] and [2, 2, 2, 2]); `disable_se` turns every SE block off.
    """

    def __init__(
        self,
        in_channels: int = 3,
        model_name: str = "small",
        scale: float = 0.5,
        large_stride: Sequence[int] | None = None,
        small_stride: Sequence[int] | None = None,
        disable_se: bool = False,
    ) -> None:
        super().__init__()
        if model_name not in ("large", "small"):
            raise ConfigError(f"MobileNetV3: model_name must be `large` or `small`, got `{model_name}`")
        if not float(scale) > 0:
            raise ConfigError(f"MobileNetV3: scale must be positive, got {scale}")
        large_stride = [1, 2, 2, 2] if large_stride is None else list(large_stride)
        small_stride = [2, 2, 2, 2] if small_stride is None else list(small_stride)
        for key, value in (("large_stride", large_stride), ("small_stride", small_stride)):
            if len(value) != 4:
                raise ConfigError(f"MobileNetV3: {key} needs 4 values, got {value}")
        rows, last_width = _stage_table(model_name, large_stride, small_stride)

        width = make_divisible(16 * scale)
        self.conv1 = ConvBNAct(in_channels, width, 3, stride=2, act="hardswish")
        blocks = []
        for kernel, expansion, out, use_se, act, stride in rows:
            out_width = make_divisible(scale * out)
            blocks.append(
                ResidualUnit(
                    width,
                    make_divisible(scale * expansion),
                    out_width,
                    kernel,
                    stride,
                    use_se=use_se and not disable_se,
                    act=act,
                )
            )
            width = out_width
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = make_divisible(scale * last_width)
        self.conv2 = ConvBNAct(width, self.out_channels, 1, act="hardswish")
        self.pool = nn.MaxPool2D(kernel_size=2, stride=2, padding=0)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.pool(self.conv2(self.blocks(self.conv1(x))))
