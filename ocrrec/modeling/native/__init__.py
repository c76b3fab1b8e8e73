"""Fast CPU kernels (Paddle custom operators, built on first use) for depthwise convolution and
hard-swish, wrapped in drop-in layers that fall back to Paddle's own ops whenever they cannot run.

`OCRREC_NATIVE_OPS=0` turns them off; `OCRREC_CACHE_DIR` moves the build cache (default
`~/.cache/ocrrec/ops/<key>`).
"""

from ocrrec.modeling.native.build import (
    NativeBuildError,
    NativeOps,
    cache_root,
    ensure_built,
    load_native_ops,
    native_ops_enabled,
    native_ops_status,
)
from ocrrec.modeling.native.layers import DepthwiseConv2D, Hardswish, depthwise_geometry, hardswish

__all__ = [
    "DepthwiseConv2D",
    "Hardswish",
    "NativeBuildError",
    "NativeOps",
    "cache_root",
    "depthwise_geometry",
    "ensure_built",
    "hardswish",
    "load_native_ops",
    "native_ops_enabled",
    "native_ops_status",
]
