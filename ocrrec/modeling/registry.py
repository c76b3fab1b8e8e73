"""Registries of the four swappable network parts, plus losses and whole-model architectures.

Configs name parts as PaddleOCR does (`Backbone: {name: MobileNetV1Enhance, ...}`).
A new part is one file with `@BACKBONES.register()` plus one import line in
its package's `__init__.py`. `ARCHITECTURES` holds the classes an `Architecture.name`
selects (e.g. `DistillationModel`); each has `from_config(arch, charset)`.
"""

from ocrrec.registry import Registry

TRANSFORMS = Registry("transform")
BACKBONES = Registry("backbone")
NECKS = Registry("neck")
HEADS = Registry("head")
LOSSES = Registry("loss")
ARCHITECTURES = Registry("architecture")
