"""Data transforms, registered in `ocrrec.data.registry.DATA_OPS` under PaddleOCR's names."""

from ocrrec.data.ops import augment, image, label_encode, resize  # noqa: F401
