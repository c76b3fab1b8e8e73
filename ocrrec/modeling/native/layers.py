"""Drop-in layers that run ocrrec's CPU kernels in dynamic-graph training and Paddle's ops otherwise.

`DepthwiseConv2D` is an `nn.Conv2D` (same constructor, parameters, names and attrs, so state dicts
stay PaddleOCR's); `hardswish` / `Hardswish` match `F.hardswish` / `nn.Hardswish`. The custom
operators are used only in dynamic mode, outside any `paddle.jit.to_static` trace, for float32
tensors on the CPU; traced and exported programs therefore contain only Paddle's standard ops.
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.modeling.native.build import NativeOps, load_native_ops

try:  # present in every Paddle 3.x seen so far; without them, only plain dynamic mode is checked
    from paddle.base.dygraph.base import in_sot_simulation_mode, in_to_static_mode
except ImportError:  # pragma: no cover - depends on the Paddle build

    def in_sot_simulation_mode() -> bool:
        return False

    def in_to_static_mode() -> bool:
        return False

_MAX_TAPS = 256  # kernel height * width the C++ kernel accepts


def _eager_cpu_float32(x: paddle.Tensor) -> bool:
    """True when `x` is a concrete float32 CPU tensor of an eager (non-traced) computation."""
    if not paddle.in_dynamic_mode() or in_to_static_mode() or in_sot_simulation_mode():
        return False
    return x.dtype == paddle.float32 and x.place.is_cpu_place()


def native_ops_for(x: paddle.Tensor) -> NativeOps | None:
    """The loaded operators if `x` may take the fast path, else None (building them on first use)."""
    if not _eager_cpu_float32(x):
        return None
    return load_native_ops()


def hardswish(x: paddle.Tensor, name: str | None = None) -> paddle.Tensor:
    """`F.hardswish` (Paddle's defaults) with ocrrec's CPU kernel in eager float32 CPU mode."""
    ops = native_ops_for(x)
    if ops is None:
        return F.hardswish(x, name=name)
    return ops.hardswish(x)


class Hardswish(nn.Hardswish):
    """`nn.Hardswish` that uses `hardswish` above (no parameters, same repr)."""

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return hardswish(x, name=self._name)


def depthwise_geometry(conv: nn.Conv2D) -> tuple[tuple[int, int], tuple[int, int], int] | None:
    """((stride_h, stride_w), (pad_h, pad_w), channels) when the native kernel can run `conv`, else None.

    Supported: groups == in == out channels, no bias, NCHW, zero padding given explicitly and the
    same on both sides of each axis, dilation 1, kernel area up to 256.
    """
    weight = getattr(conv, "weight", None)
    if weight is None or conv.bias is not None or conv._data_format != "NCHW" or conv._padding_mode != "zeros":
        return None
    channels = conv._in_channels
    if not (conv._groups == channels == conv._out_channels) or list(weight.shape[:2]) != [channels, 1]:
        return None
    if conv._padding_algorithm != "EXPLICIT" or len(conv._updated_padding) != 2:
        return None
    if any(int(d) != 1 for d in conv._dilation) or len(conv._stride) != 2:
        return None
    kernel_h, kernel_w = (int(k) for k in weight.shape[2:])
    if kernel_h * kernel_w > _MAX_TAPS:
        return None
    stride = (int(conv._stride[0]), int(conv._stride[1]))
    padding = (int(conv._updated_padding[0]), int(conv._updated_padding[1]))
    return stride, padding, channels


class DepthwiseConv2D(nn.Conv2D):
    """`nn.Conv2D` for depthwise convolutions with a fast CPU training path.

    Construct it exactly like `nn.Conv2D`. When the configuration is one the native kernel supports
    (see `depthwise_geometry`) and the call is an eager float32 CPU one, forward and backward run
    ocrrec's OpenMP kernels; every other case, including `paddle.jit.to_static` tracing and export,
    runs `nn.Conv2D.forward` unchanged.
    """

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - nn.Conv2D's signature
        super().__init__(*args, **kwargs)
        self._native_geometry = depthwise_geometry(self)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self._native_geometry is not None and x.ndim == 4 and self.weight.dtype == paddle.float32:
            ops = native_ops_for(x)
            if ops is not None:
                stride, padding, _ = self._native_geometry
                return ops.depthwise_conv2d(x, self.weight, stride, padding)
        return super().forward(x)
