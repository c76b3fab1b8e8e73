"""Registries of the four swappable network parts, plus losses.

Configs name parts as PaddleOCR does (`Backbone: {name: MobileNetV1Enhance, ...}`).
A new part is one file with `@BACKBONES.register()` plus one import line in
its package's `__init__.py`.
"""

from ocrrec.registry import Registry

TRANSFORMS = Registry("transform")
BACKBONES = Registry("backbone")
NECKS = Registry("neck")
HEADS = Registry("head")
LOSSES = Registry("loss")
