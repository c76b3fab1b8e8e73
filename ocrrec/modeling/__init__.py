"""Recognition networks: `build_model(arch, charset)` → `RecModel` (or a `DistillationModel` of
several), plus weight loading.

Importing this package imports paddle and registers every backbone, neck and head under
its PaddleOCR config name (see `ocrrec.modeling.registry`).
"""

# fill the registries (parts, plus CombinedLoss and the Distillation* losses)
from ocrrec.modeling import backbones, distillation_losses, heads, necks, transforms  # noqa: F401
from ocrrec.modeling.distillation import DistillationModel, per_model_predictions
from ocrrec.modeling.model import RecModel, build_model
from ocrrec.modeling.weights import LoadReport, load_weights, load_weights_file

__all__ = [
    "DistillationModel",
    "LoadReport",
    "RecModel",
    "build_model",
    "load_weights",
    "load_weights_file",
    "per_model_predictions",
]
