"""Data transforms, registered in `ocrrec.data.registry.DATA_OPS` under PaddleOCR's names."""

import importlib.util

from ocrrec.data.ops import image, label_encode, resize  # noqa: F401

# Augmentation ops (RecAug, RecConAug) live in `augment.py`, written separately.
if importlib.util.find_spec("ocrrec.data.ops.augment") is not None:
    from ocrrec.data.ops import augment  # noqa: F401
