"""ResNet-vd for recognition (CRNN's ResNet34-vd and friends): deep stem, avg-pool shortcuts.

Stages after the first down-sample vertically only (stride (2, 1)). Structured names
(`conv1_1`, `bb_<stage>_<block>.conv0`, ...) and the explicit parameter names PaddleOCR
gives each tensor (`res2a_branch2a_weights`, `bn2a_branch2a_scale`, ...) are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import paddle
import paddle.nn.functional as F
from paddle import ParamAttr, nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.registry import BACKBONES


class ConvBNLayer(nn.Layer):
    """[avg-pool when `vd_pool`] → conv → BatchNorm (+ activation), with PaddleOCR's tensor names."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        name: str,
        stride: int | Sequence[int] = 1,
        vd_pool: bool = False,
        act: str | None = None,
    ) -> None:
        super().__init__()
        self.vd_pool = vd_pool
        self._pool2d_avg = nn.AvgPool2D(kernel_size=stride, stride=stride, padding=0, ceil_mode=True)
        self._conv = nn.Conv2D(
            in_channels,
            out_channels,
            kernel_size,
            stride=1 if vd_pool else stride,
            padding=(kernel_size - 1) // 2,
            weight_attr=ParamAttr(name=f"{name}_weights"),
            bias_attr=False,
        )
        bn_name = "bn_" + name if name == "conv1" else "bn" + name[3:]
        self._batch_norm = nn.BatchNorm(
            out_channels,
            act=act,
            param_attr=ParamAttr(name=f"{bn_name}_scale"),
            bias_attr=ParamAttr(name=f"{bn_name}_offset"),
            moving_mean_name=f"{bn_name}_mean",
            moving_variance_name=f"{bn_name}_variance",
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.vd_pool:
            x = self._pool2d_avg(x)
        return self._batch_norm(self._conv(x))


class BasicBlock(nn.Layer):
    """Two 3x3 convs plus shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self, in_channels: int, channels: int, stride: tuple[int, int], shortcut: bool, first: bool, name: str
    ) -> None:
        super().__init__()
        self.conv0 = ConvBNLayer(in_channels, channels, 3, f"{name}_branch2a", stride=stride, act="relu")
        self.conv1 = ConvBNLayer(channels, channels, 3, f"{name}_branch2b")
        self.shortcut = shortcut
        if not shortcut:
            self.short = ConvBNLayer(
                in_channels,
                channels,
                1,
                f"{name}_branch1",
                stride=stride,
                vd_pool=not first and stride[0] != 1,
            )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.conv1(self.conv0(x))
        short = x if self.shortcut else self.short(x)
        return F.relu(short + y)


class BottleneckBlock(nn.Layer):
    """1x1 → 3x3 → 1x1 (x4 channels) plus shortcut (ResNet-50 and deeper)."""

    expansion = 4

    def __init__(
        self, in_channels: int, channels: int, stride: tuple[int, int], shortcut: bool, first: bool, name: str
    ) -> None:
        super().__init__()
        self.conv0 = ConvBNLayer(in_channels, channels, 1, f"{name}_branch2a", act="relu")
        self.conv1 = ConvBNLayer(channels, channels, 3, f"{name}_branch2b", stride=stride, act="relu")
        self.conv2 = ConvBNLayer(channels, channels * 4, 1, f"{name}_branch2c")
        self.shortcut = shortcut
        if not shortcut:
            self.short = ConvBNLayer(
                in_channels,
                channels * 4,
                1,
                f"{name}_branch1",
                stride=stride,
                vd_pool=not first and stride[0] != 1,
            )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.conv2(self.conv1(self.conv0(x)))
        short = x if self.shortcut else self.short(x)
        return F.relu(short + y)


_DEPTHS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 12, 48, 3),
}


def _block_name(layers: int, stage: int, index: int) -> str:
    """PaddleOCR's names: res2a, res2b, ...; the long third stage of 101+ uses res4a, res4b1, ..."""
    if layers >= 101 and stage == 2:
        return f"res{stage + 2}a" if index == 0 else f"res{stage + 2}b{index}"
    return f"res{stage + 2}{chr(97 + index)}"


@BACKBONES.register()
class ResNet(nn.Layer):
    """ResNet-vd recognition backbone, `layers` in 18/34/50/101/152/200; 32x100 input → 1x25 output."""

    def __init__(self, in_channels: int = 3, layers: int = 50) -> None:
        super().__init__()
        if layers not in _DEPTHS:
            raise ConfigError(f"ResNet: layers must be one of {sorted(_DEPTHS)}, got {layers}")
        self.layers = layers
        block_cls = BottleneckBlock if layers >= 50 else BasicBlock
        widths = (64, 128, 256, 512)

        self.conv1_1 = ConvBNLayer(in_channels, 32, 3, "conv1_1", act="relu")
        self.conv1_2 = ConvBNLayer(32, 32, 3, "conv1_2", act="relu")
        self.conv1_3 = ConvBNLayer(32, 64, 3, "conv1_3", act="relu")
        self.pool2d_max = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)

        self.block_list = []
        in_ch = 64
        for stage, depth in enumerate(_DEPTHS[layers]):
            for index in range(depth):
                stride = (2, 1) if index == 0 and stage != 0 else (1, 1)
                block = block_cls(
                    in_ch,
                    widths[stage],
                    stride,
                    shortcut=index != 0,
                    first=stage == 0 and index == 0,
                    name=_block_name(layers, stage, index),
                )
                self.block_list.append(self.add_sublayer(f"bb_{stage}_{index}", block))
                in_ch = widths[stage] * block_cls.expansion
        self.out_channels = in_ch
        self.out_pool = nn.MaxPool2D(kernel_size=2, stride=2, padding=0)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.pool2d_max(self.conv1_3(self.conv1_2(self.conv1_1(x))))
        for block in self.block_list:
            x = block(x)
        return self.out_pool(x)
