"""Input transforms (the config's `Architecture.Transform` slot, e.g. TPS rectification).

None are registered yet: PaddleOCR's supported recognition configs here use `Transform: null`.
A transform registers with `@TRANSFORMS.register()` and exposes `out_channels`.
"""
