"""`RecModel` (transform → backbone → neck → head) and `build_model`, which builds one from a
config's `Architecture` section, threading channel counts part to part as PaddleOCR does.

Parts are looked up by name in the registries; nothing here knows a part's name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import paddle
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.registry import ARCHITECTURES, BACKBONES, HEADS, NECKS, TRANSFORMS
from ocrrec.registry import Registry

if TYPE_CHECKING:
    from ocrrec.charset import Charset
    from ocrrec.modeling.distillation import DistillationModel


class RecModel(nn.Layer):
    """A recognizer: `transform` (optional) → `backbone` → `neck` (optional) → `head`.

    Submodule names are PaddleOCR's, so `state_dict()` keys match its checkpoints
    (`backbone.conv1...`, `head.ctc_head.fc.weight`, ...). `forward(x, batch)` passes the
    batch dict to the head, which reads its training targets from it (see `batch_keys`).
    """

    def __init__(
        self,
        backbone: nn.Layer,
        head: nn.Layer,
        transform: nn.Layer | None = None,
        neck: nn.Layer | None = None,
        algorithm: str | None = None,
    ) -> None:
        super().__init__()
        self.use_transform = transform is not None
        if transform is not None:
            self.transform = transform
        self.backbone = backbone
        self.use_neck = neck is not None
        if neck is not None:
            self.neck = neck
        self.head = head
        self.algorithm = algorithm

    @property
    def batch_keys(self) -> tuple[str, ...]:
        """Batch entries (besides `image`) the head reads in training, e.g. ("label_sar", "valid_ratio")."""
        return tuple(getattr(self.head, "batch_keys", ()))

    def forward(self, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None = None) -> Any:
        if self.use_transform:
            x = self.transform(x)
        x = self.backbone(x)
        if self.use_neck:
            x = self.neck(x)
        return self.head(x, batch)

    def reparameterize(self) -> int:
        """Fold re-parameterisable layers (PPLCNetV3) into single convs before export; returns
        how many were folded. Training after this is not supported."""
        folded = 0
        for layer in self.sublayers():
            rep = getattr(layer, "rep", None)
            if callable(rep) and not getattr(layer, "is_repped", False):
                rep()
                folded += 1
        return folded


def _build_part(registry: Registry, spec: Any, where: str, **extra: Any) -> nn.Layer:
    if not isinstance(spec, Mapping) or not spec.get("name"):
        raise ConfigError(f"{where}: needs a `name` key (one of: {', '.join(registry.names())})")
    try:
        return registry.build(spec, where, **extra)
    except ConfigError as exc:
        if exc.message.startswith(where):
            raise
        raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{where} ({spec['name']}): cannot build it from these arguments: {type(exc).__name__}: {exc}"
        ) from None


def build_model(arch: Mapping[str, Any], charset: Charset | None = None) -> RecModel | DistillationModel:
    """Build a recognizer from a config's `Architecture` mapping.

    `Architecture.name` (absent or `BaseModel` for a plain recognizer) may select another
    registered architecture, e.g. `DistillationModel`, which is then returned instead.

    A head's output size comes from `charset` when given (as PaddleOCR's training script
    recomputes it from the dictionary); without one, the config's `out_channels` /
    `out_channels_list` is used. The input `arch` is not modified.
    """
    if not isinstance(arch, Mapping):
        raise ConfigError(
            f"Architecture: must be a mapping with Backbone/Neck/Head, got {type(arch).__name__}"
        )
    arch = copy.deepcopy(dict(arch))
    model_type = arch.get("model_type", "rec")
    if model_type != "rec":
        raise ConfigError(
            f"Architecture.model_type: `{model_type}` is not supported",
            "ocrrec builds text recognizers: use `rec`",
        )
    name = arch.get("name")
    if name and name != "BaseModel":
        # a whole-model architecture other than transform→backbone→neck→head (DistillationModel)
        return ARCHITECTURES.get(name, "Architecture.name").from_config(arch, charset)
    if arch.get("algorithm") == "Distillation" or "Models" in arch:
        raise ConfigError(
            "Architecture: a distillation config (algorithm Distillation with Models) is not a single model",
            "add `name: DistillationModel` to the Architecture section",
        )
    try:
        in_channels = int(arch.get("in_channels", 3))
    except (TypeError, ValueError):
        raise ConfigError(
            f"Architecture.in_channels: must be an integer, got {arch.get('in_channels')!r}"
        ) from None

    transform = None
    if arch.get("Transform"):
        transform = _build_part(
            TRANSFORMS, arch["Transform"], "Architecture.Transform", in_channels=in_channels
        )
        in_channels = transform.out_channels
    if not arch.get("Backbone"):
        raise ConfigError("Architecture.Backbone: missing", f"name one of: {', '.join(BACKBONES.names())}")
    backbone = _build_part(BACKBONES, arch["Backbone"], "Architecture.Backbone", in_channels=in_channels)
    in_channels = backbone.out_channels
    neck = None
    if arch.get("Neck"):
        neck = _build_part(NECKS, arch["Neck"], "Architecture.Neck", in_channels=in_channels)
        in_channels = neck.out_channels

    where = "Architecture.Head"
    head_spec = arch.get("Head")
    if not isinstance(head_spec, Mapping) or not head_spec.get("name"):
        raise ConfigError(f"{where}: needs a `name` key (one of: {', '.join(HEADS.names())})")
    head_spec = dict(head_spec)
    head_cls = HEADS.get(head_spec["name"], where)
    channel_args = getattr(head_cls, "out_channel_args", None)
    if callable(channel_args):
        try:
            head_spec.update(channel_args(head_spec, charset, where))
        except ConfigError as exc:
            if exc.message.startswith(where):
                raise
            raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
    head = _build_part(HEADS, head_spec, where, in_channels=in_channels)
    return RecModel(backbone, head, transform=transform, neck=neck, algorithm=arch.get("algorithm"))
