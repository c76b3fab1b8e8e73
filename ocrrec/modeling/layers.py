"""Small building blocks shared by several parts: channel rounding, FC init attrs, MLP, drop-path.

Only generic pieces live here; a block that belongs to one network stays in that network's file.
"""

from __future__ import annotations

import math

import paddle
from paddle import ParamAttr, nn
from paddle.regularizer import L2Decay


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a scaled channel count to a multiple of `divisor`, never dropping more than 10 %."""
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def uniform_fc_attrs(l2_decay: float, fan_in: int) -> tuple[ParamAttr, ParamAttr]:
    """Weight and bias attrs of PaddleOCR's recognition FC layers.

    Both are drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and carry their own L2
    coefficient, which overrides the optimizer's global regularizer for them.
    """
    bound = 1.0 / math.sqrt(float(fan_in))

    def attr() -> ParamAttr:
        return ParamAttr(regularizer=L2Decay(l2_decay), initializer=nn.initializer.Uniform(-bound, bound))

    return attr(), attr()


def no_decay_attr(learning_rate: float = 1.0) -> ParamAttr:
    """ParamAttr with L2 coefficient 0 (excluded from weight decay), e.g. for BatchNorm scale/shift."""
    return ParamAttr(regularizer=L2Decay(0.0), learning_rate=learning_rate)


class Mlp(nn.Layer):
    """Two linear layers with an activation between, dropout after each (`fc1`, `fc2`)."""

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        act_layer: type[nn.Layer] = nn.GELU,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))


class DropPath(nn.Layer):
    """Stochastic depth: zero a whole sample's residual branch with probability `drop_prob`."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask_shape = [x.shape[0]] + [1] * (x.ndim - 1)
        mask = paddle.floor(keep + paddle.rand(mask_shape, dtype=x.dtype))
        return x / keep * mask
