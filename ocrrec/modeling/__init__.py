"""Recognition networks: `build_model(arch, charset)` → `RecModel`, plus weight loading.

Importing this package imports paddle and registers every backbone, neck and head under
its PaddleOCR config name (see `ocrrec.modeling.registry`).
"""

from ocrrec.modeling import backbones, heads, necks, transforms  # noqa: F401  (fill the registries)
from ocrrec.modeling.model import RecModel, build_model
from ocrrec.modeling.weights import LoadReport, load_weights, load_weights_file

__all__ = ["LoadReport", "RecModel", "build_model", "load_weights", "load_weights_file"]
