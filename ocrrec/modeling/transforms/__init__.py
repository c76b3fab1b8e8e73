"""Input transforms (the config's `Architecture.Transform` slot); importing this package registers
them: `TPS` (thin-plate-spline rectification of PaddleOCR's STARNet configs).

A transform registers with `@TRANSFORMS.register()` and exposes `out_channels`.
"""

from ocrrec.modeling.transforms import tps  # noqa: F401
