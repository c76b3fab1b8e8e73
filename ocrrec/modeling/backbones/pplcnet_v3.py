"""PPLCNetV3: the PP-OCRv4 recognition backbone (re-parameterisable convs + learnable affine blocks).

In training each `LearnableRepLayer` sums several conv-BN branches (kxk, 1x1, identity BN);
`rep()` folds them into one conv for export. Names, shapes and per-parameter learning rates
follow PaddleOCR (`blocksN.M.dw_conv.conv_kxk.K.conv`, `...lab.scale`, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import ParamAttr, nn
from paddle.nn.initializer import Constant, KaimingNormal
from paddle.regularizer import L2Decay

from ocrrec.errors import ConfigError
from ocrrec.modeling.layers import SqueezeExcite, make_divisible
from ocrrec.modeling.native import DepthwiseConv2D, Hardswish
from ocrrec.modeling.registry import BACKBONES

# Recognition layout per stage: (kernel, in, out, stride, SE). Strides keep width early and
# halve it once in blocks5, so a 48x320 image gives a 3x80 map before the final pooling.
_REC_STAGES: dict[str, tuple[tuple[int, int, int, object, bool], ...]] = {
    "blocks2": ((3, 16, 32, 1, False),),
    "blocks3": ((3, 32, 64, 1, False), (3, 64, 64, 1, False)),
    "blocks4": ((3, 64, 128, (2, 1), False), (3, 128, 128, 1, False)),
    "blocks5": (
        (3, 128, 256, (1, 2), False),
        (5, 256, 256, 1, False),
        (5, 256, 256, 1, False),
        (5, 256, 256, 1, False),
        (5, 256, 256, 1, False),
    ),
    "blocks6": (
        (5, 256, 512, (2, 1), True),
        (5, 512, 512, 1, True),
        (5, 512, 512, (2, 1), False),
        (5, 512, 512, 1, False),
    ),
}


def _lcnet_divisible(value: float) -> int:
    return make_divisible(value, divisor=16)


class LearnableAffineBlock(nn.Layer):
    """y = scale * x + bias with two scalar parameters trained at `lr_mult * lab_lr`."""

    def __init__(
        self, scale_value: float = 1.0, bias_value: float = 0.0, lr_mult: float = 1.0, lab_lr: float = 0.1
    ) -> None:
        super().__init__()
        self.scale = self.create_parameter(
            shape=[1],
            attr=ParamAttr(learning_rate=lr_mult * lab_lr),
            default_initializer=Constant(scale_value),
        )
        self.bias = self.create_parameter(
            shape=[1],
            attr=ParamAttr(learning_rate=lr_mult * lab_lr),
            default_initializer=Constant(bias_value),
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.scale * x + self.bias


class ConvBNLayer(nn.Layer):
    """Conv (no bias, Kaiming init) → BatchNorm without weight decay; all at `lr_mult`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int | Sequence[int],
        groups: int = 1,
        lr_mult: float = 1.0,
    ) -> None:
        super().__init__()
        conv_type = DepthwiseConv2D if groups > 1 else nn.Conv2D
        self.conv = conv_type(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=(kernel_size - 1) // 2,
            groups=groups,
            weight_attr=ParamAttr(initializer=KaimingNormal(), learning_rate=lr_mult),
            bias_attr=False,
        )
        self.bn = nn.BatchNorm2D(
            out_channels,
            weight_attr=ParamAttr(regularizer=L2Decay(0.0), learning_rate=lr_mult),
            bias_attr=ParamAttr(regularizer=L2Decay(0.0), learning_rate=lr_mult),
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.bn(self.conv(x))


class Act(nn.Layer):
    """Hard-swish (or ReLU) followed by a learnable affine block."""

    def __init__(self, act: str = "hswish", lr_mult: float = 1.0, lab_lr: float = 0.1) -> None:
        super().__init__()
        if act not in ("hswish", "relu"):
            raise ConfigError(f"PPLCNetV3: unknown activation `{act}` (hswish or relu)")
        self.act = Hardswish() if act == "hswish" else nn.ReLU()
        self.lab = LearnableAffineBlock(lr_mult=lr_mult, lab_lr=lab_lr)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.lab(self.act(x))


def _fold_bn(kernel: paddle.Tensor, bn: nn.BatchNorm2D) -> tuple[paddle.Tensor, paddle.Tensor]:
    """Kernel and bias of conv-then-BN (inference statistics) as one conv."""
    std = paddle.sqrt(bn._variance + bn._epsilon)
    factor = bn.weight / std
    return kernel * factor.reshape([-1, 1, 1, 1]), bn.bias - bn._mean * factor


class LearnableRepLayer(nn.Layer):
    """Sum of `num_conv_branches` kxk conv-BNs, a 1x1 conv-BN (k > 1) and an identity BN
    (same shape, stride 1), then an affine block and (unless stride 2) an activation.

    `rep()` replaces the branches by a single biased conv with the same inference output.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int | Sequence[int] = 1,
        groups: int = 1,
        num_conv_branches: int = 1,
        lr_mult: float = 1.0,
        lab_lr: float = 0.1,
    ) -> None:
        super().__init__()
        self.is_repped = False
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.groups = groups
        self.padding = (kernel_size - 1) // 2
        if in_channels == out_channels and stride == 1:
            self.identity = nn.BatchNorm2D(
                in_channels,
                weight_attr=ParamAttr(learning_rate=lr_mult),
                bias_attr=ParamAttr(learning_rate=lr_mult),
            )
        else:
            self.identity = None
        self.conv_kxk = nn.LayerList(
            [
                ConvBNLayer(in_channels, out_channels, kernel_size, stride, groups=groups, lr_mult=lr_mult)
                for _ in range(num_conv_branches)
            ]
        )
        if kernel_size > 1:
            self.conv_1x1 = ConvBNLayer(in_channels, out_channels, 1, stride, groups=groups, lr_mult=lr_mult)
        else:
            self.conv_1x1 = None
        self.lab = LearnableAffineBlock(lr_mult=lr_mult, lab_lr=lab_lr)
        self.act = Act(lr_mult=lr_mult, lab_lr=lab_lr)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.is_repped:
            out = self.lab(self.reparam_conv(x))
        else:
            out = 0
            if self.identity is not None:
                out += self.identity(x)
            if self.conv_1x1 is not None:
                out += self.conv_1x1(x)
            for conv in self.conv_kxk:
                out += conv(x)
            out = self.lab(out)
        if self.stride != 2:
            out = self.act(out)
        return out

    @paddle.no_grad()
    def rep(self) -> None:
        """Fold all branches into `reparam_conv` (idempotent); used before export."""
        if self.is_repped:
            return
        kernel, bias = self._folded_kernel_bias()
        self.reparam_conv = nn.Conv2D(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            groups=self.groups,
        )
        self.reparam_conv.weight.set_value(kernel)
        self.reparam_conv.bias.set_value(bias)
        self.is_repped = True

    def _folded_kernel_bias(self) -> tuple[paddle.Tensor, paddle.Tensor]:
        k = self.kernel_size
        kernel = paddle.zeros([self.out_channels, self.in_channels // self.groups, k, k], dtype="float32")
        bias = paddle.zeros([self.out_channels], dtype="float32")
        for branch in self.conv_kxk:
            w, b = _fold_bn(branch.conv.weight, branch.bn)
            kernel, bias = kernel + w, bias + b
        if self.conv_1x1 is not None:
            w, b = _fold_bn(self.conv_1x1.conv.weight, self.conv_1x1.bn)
            kernel, bias = kernel + F.pad(w, [k // 2] * 4), bias + b
        if self.identity is not None:
            per_group = self.in_channels // self.groups
            eye = np.zeros([self.in_channels, per_group, k, k], dtype="float32")
            channels = np.arange(self.in_channels)
            eye[channels, channels % per_group, k // 2, k // 2] = 1.0
            w, b = _fold_bn(paddle.to_tensor(eye), self.identity)
            kernel, bias = kernel + w, bias + b
        return kernel, bias


class LCNetV3Block(nn.Layer):
    """Depthwise rep-layer (+SE) then pointwise rep-layer."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int | Sequence[int],
        dw_size: int,
        use_se: bool = False,
        conv_kxk_num: int = 4,
        lr_mult: float = 1.0,
        lab_lr: float = 0.1,
    ) -> None:
        super().__init__()
        self.use_se = use_se
        self.dw_conv = LearnableRepLayer(
            in_channels,
            in_channels,
            dw_size,
            stride=stride,
            groups=in_channels,
            num_conv_branches=conv_kxk_num,
            lr_mult=lr_mult,
            lab_lr=lab_lr,
        )
        if use_se:
            self.se = SqueezeExcite(in_channels, lr_mult=lr_mult)
        self.pw_conv = LearnableRepLayer(
            in_channels,
            out_channels,
            1,
            stride=1,
            num_conv_branches=conv_kxk_num,
            lr_mult=lr_mult,
            lab_lr=lab_lr,
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.dw_conv(x)
        if self.use_se:
            x = self.se(x)
        return self.pw_conv(x)


@BACKBONES.register()
class PPLCNetV3(nn.Layer):
    """PP-OCRv4 recognition backbone. Output C x 1 x 40 for 48x320 input: adaptive average
    pooling to 1x40 while training (any input height works, e.g. multi-scale batches),
    a fixed 3x2 average pool in eval/export, exactly as PaddleOCR.

    `lr_mult_list` gives learning-rate multipliers for [stem, blocks2..blocks6];
    `det=True` (the detection variant) is not part of a recognizer and is refused.
    """

    def __init__(
        self,
        in_channels: int = 3,
        scale: float = 1.0,
        conv_kxk_num: int = 4,
        lr_mult_list: Sequence[float] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        lab_lr: float = 0.1,
        det: bool = False,
    ) -> None:
        super().__init__()
        if det:
            raise ConfigError(
                "PPLCNetV3: det=True builds the text-detection variant, which ocrrec does not train",
                "remove `det` from Architecture.Backbone",
            )
        if len(lr_mult_list) != 6:
            raise ConfigError(
                f"PPLCNetV3: lr_mult_list needs 6 values (stem + 5 stages), got {list(lr_mult_list)}"
            )
        if not float(scale) > 0:
            raise ConfigError(f"PPLCNetV3: scale must be positive, got {scale}")
        self.scale = scale
        self.lr_mult_list = list(lr_mult_list)
        self.conv1 = ConvBNLayer(
            in_channels, _lcnet_divisible(16 * scale), 3, stride=2, lr_mult=self.lr_mult_list[0]
        )
        for stage_index, (stage_name, rows) in enumerate(_REC_STAGES.items(), start=1):
            blocks = [
                LCNetV3Block(
                    _lcnet_divisible(in_c * scale),
                    _lcnet_divisible(out_c * scale),
                    stride=stride,
                    dw_size=kernel,
                    use_se=use_se,
                    conv_kxk_num=conv_kxk_num,
                    lr_mult=self.lr_mult_list[stage_index],
                    lab_lr=lab_lr,
                )
                for kernel, in_c, out_c, stride, use_se in rows
            ]
            setattr(self, stage_name, nn.Sequential(*blocks))
        self.out_channels = _lcnet_divisible(512 * scale)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.conv1(x)
        x = self.blocks2(x)
        x = self.blocks3(x)
        x = self.blocks4(x)
        x = self.blocks5(x)
        x = self.blocks6(x)
        if self.training:
            return F.adaptive_avg_pool2d(x, [1, 40])
        return F.avg_pool2d(x, [3, 2])
