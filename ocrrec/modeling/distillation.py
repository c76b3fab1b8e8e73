"""Knowledge distillation: `DistillationModel` trains several recognizers side by side (PaddleOCR's
`Architecture: {name: DistillationModel, Models: {Teacher: ..., Student: ...}}`), plus the helpers
the engine uses to decode each sub-model's predictions.

Sub-models are registered under their config names, so parameter names are PaddleOCR's
(`Teacher.backbone.conv1._conv.weight`, `Student.head.ctc_head.fc.weight`, ...).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paddle
from paddle import nn

from ocrrec.errors import ConfigError, UserError
from ocrrec.modeling.layers import DropPath
from ocrrec.modeling.model import RecModel, build_model
from ocrrec.modeling.registry import ARCHITECTURES
from ocrrec.modeling.weights import LoadReport, load_weights

if TYPE_CHECKING:
    from ocrrec.charset import Charset

# Per-model keys that configure the distillation, not the network (PaddleOCR's names).
_MODEL_OPTIONS = ("pretrained", "freeze_params", "return_all_feats")
_MODEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Layers whose training mode only means "update running statistics" or "drop at random";
# a frozen sub-model keeps them in inference behaviour (see DistillationModel).
_STOCHASTIC_OR_STATISTICAL = (
    nn.layer.norm._BatchNormBase,
    nn.BatchNorm,
    nn.Dropout,
    nn.Dropout2D,
    nn.Dropout3D,
    nn.AlphaDropout,
    nn.layer.rnn.RNNBase,
    DropPath,
)


class DistillationOutput(dict):
    """What `DistillationModel.forward` returns: sub-model name → that model's output.

    A plain dict in every respect; the type only lets `per_model_predictions` tell a
    distillation output from a single model's dict of branches.
    """


def forward_all_feats(
    model: RecModel, x: paddle.Tensor, batch: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Run `model` keeping its intermediate features, as PaddleOCR's `return_all_feats` does.

    Training: {"backbone_out", "neck_out" (the neck's output, or a MultiHead's CTC-branch
    neck), "head_out"}; a head that returns a dict without a CTC neck has its entries merged
    in instead of "head_out". Eval: the head's dict as is, or {"head_out": tensor}
    ({"neck_out"/"backbone_out": ...} is impossible: a RecModel always has a head).
    """
    feats: dict[str, Any] = {}
    if model.use_transform:
        x = model.transform(x)
    x = model.backbone(x)
    if isinstance(x, Mapping):
        feats.update(x)
    else:
        feats["backbone_out"] = x
    if model.use_neck:
        x = model.neck(x)
        if isinstance(x, Mapping):
            feats.update(x)
        else:
            feats["neck_out"] = x
    out = model.head(x, batch)
    if isinstance(out, Mapping) and "ctc_neck" in out:
        feats["neck_out"] = out["ctc_neck"]
        feats["head_out"] = out
    elif isinstance(out, Mapping):
        feats.update(out)
    else:
        feats["head_out"] = out
    if model.training:
        return feats
    return dict(out) if isinstance(out, Mapping) else {"head_out": out}


@ARCHITECTURES.register()
class DistillationModel(nn.Layer):
    """Several `RecModel`s run on the same batch; the output maps each name to its model's output.

    `model_dict` (name → RecModel, in config order) is what export and evaluation pick a
    sub-model from; each RecModel on its own behaves exactly like a single-model config.

    Per model (`Architecture.Models.<name>`):
    - `return_all_feats: true` makes its output the feature dict of `forward_all_feats`
      (needed by losses that read `backbone_out` / `head_out`).
    - `pretrained: PATH` loads weights into it when built (keys `<name>.…` of a distillation
      checkpoint are preferred, else the best-matching prefix); reports in `load_reports`.
    - `freeze_params: true` stops its gradients (PaddleOCR's `trainable = False`) and, unlike
      PaddleOCR, also keeps its BatchNorm statistics and dropout in inference behaviour while
      the others train, so a frozen teacher is really fixed and gives its inference-time
      predictions. Heads still produce their training outputs (logits for the losses).
    """

    def __init__(
        self,
        models: Mapping[str, RecModel],
        return_all_feats: Iterable[str] = (),
        frozen: Iterable[str] = (),
    ) -> None:
        super().__init__()
        if not models:
            raise ConfigError("Architecture.Models: needs at least one model (e.g. Teacher and Student)")
        self.algorithm = "Distillation"
        self.model_dict: dict[str, RecModel] = {}
        for name, model in models.items():
            _check_model_name(name)
            self.add_sublayer(name, model)
            self.model_dict[name] = model
        frozen = set(frozen)
        self.return_all_feats = frozenset(return_all_feats)
        self.frozen = tuple(name for name in self.model_dict if name in frozen)
        unknown = (self.return_all_feats | frozen) - set(self.model_dict)
        if unknown:
            raise ConfigError(f"Architecture.Models: no model named {', '.join(sorted(unknown))}")
        self._fixed_layers: list[nn.Layer] = []
        for name in self.frozen:
            model = self.model_dict[name]
            for param in model.parameters():
                param.trainable = False
            self._fixed_layers.extend(
                layer
                for layer in model.sublayers(include_self=True)
                if isinstance(layer, _STOCHASTIC_OR_STATISTICAL)
            )
        self.load_reports: dict[str, LoadReport] = {}

    # -- construction from a config ----------------------------------------------
    @classmethod
    def from_config(cls, arch: Mapping[str, Any], charset: Charset | None = None) -> DistillationModel:
        """Build from an `Architecture` section with `Models: {name: {<RecModel section> + options}}`."""
        models_spec = arch.get("Models")
        if not isinstance(models_spec, Mapping) or not models_spec:
            raise ConfigError(
                "Architecture.Models: DistillationModel needs a mapping of named models",
                "e.g. Models: {Teacher: {Backbone: ..., Head: ...}, Student: {...}}",
            )
        models: dict[str, RecModel] = {}
        all_feats: list[str] = []
        frozen: list[str] = []
        pretrained: dict[str, str] = {}
        for name, spec in models_spec.items():
            where = f"Architecture.Models.{name}"
            _check_model_name(name)
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{where}: must be a model section (Backbone, Neck, Head), got {spec!r}")
            section = copy.deepcopy(dict(spec))
            options = {key: section.pop(key, None) for key in _MODEL_OPTIONS}
            if section.get("name") not in (None, "BaseModel"):
                raise ConfigError(
                    f"{where}.name: `{section['name']}` cannot be nested in a DistillationModel",
                    "each entry of Models is a plain recognizer (Transform/Backbone/Neck/Head)",
                )
            section.setdefault("model_type", arch.get("model_type", "rec"))
            for key in ("freeze_params", "return_all_feats"):
                if options[key] is not None and not isinstance(options[key], bool):
                    raise ConfigError(f"{where}.{key}: must be true or false, got {options[key]!r}")
            if options["freeze_params"]:
                frozen.append(name)
            if options["return_all_feats"]:
                all_feats.append(name)
            if options["pretrained"] not in (None, ""):
                if not isinstance(options["pretrained"], (str, Path)):
                    raise ConfigError(
                        f"{where}.pretrained: must be a path to a .pdparams file, got {options['pretrained']!r}"
                    )
                pretrained[name] = str(options["pretrained"])
            try:
                models[name] = build_model(section, charset)
            except ConfigError as exc:
                raise _relocated(exc, where) from None
        if frozen and len(frozen) == len(models):
            raise ConfigError(
                "Architecture.Models: every model has freeze_params: true, so nothing would be trained",
                "set freeze_params: false on the student",
            )
        # Weights are loaded before freezing, as PaddleOCR does (freezing does not touch values).
        reports = {
            name: load_sub_model_weights(models[name], name, path) for name, path in pretrained.items()
        }
        model = cls(models, return_all_feats=all_feats, frozen=frozen)
        model.load_reports = reports
        return model

    # -- the RecModel-like interface ------------------------------------------------
    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(self.model_dict)

    @property
    def batch_keys(self) -> tuple[str, ...]:
        """Batch entries (besides `image`) any sub-model's head reads in training."""
        return tuple(dict.fromkeys(key for model in self.model_dict.values() for key in model.batch_keys))

    def forward(
        self, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None = None
    ) -> DistillationOutput:
        if self.training:
            # `train()` switches every sublayer back on; frozen statistics stay off.
            for layer in self._fixed_layers:
                layer.training = False
        out = DistillationOutput()
        for name, model in self.model_dict.items():
            out[name] = (
                forward_all_feats(model, x, batch) if name in self.return_all_feats else model(x, batch)
            )
        return out

    def reparameterize(self) -> int:
        """Fold re-parameterisable layers of every sub-model (see `RecModel.reparameterize`)."""
        return sum(model.reparameterize() for model in self.model_dict.values())


# Attribute names a sub-model must not take (it becomes an attribute of the DistillationModel).
_RESERVED_NAMES = frozenset(dir(nn.Layer())) | {
    "algorithm",
    "model_dict",
    "model_names",
    "return_all_feats",
    "frozen",
    "load_reports",
    "batch_keys",
    "reparameterize",
    "from_config",
}


def _check_model_name(name: Any) -> None:
    if not isinstance(name, str) or not _MODEL_NAME.match(name):
        raise ConfigError(
            f"Architecture.Models: model name {name!r} must be a simple identifier (letters, digits, _)",
            "it prefixes the parameter names, e.g. Student.backbone...",
        )
    if name in _RESERVED_NAMES or name.startswith("_"):
        raise ConfigError(
            f"Architecture.Models: `{name}` is a reserved name",
            "name the models like PaddleOCR does, e.g. Teacher, Student, Student2",
        )


def _relocated(exc: ConfigError, where: str) -> ConfigError:
    """The same error with `Architecture.` locations pointed at the sub-model's section."""
    message = exc.message
    if message.startswith("Architecture"):
        message = where + message[len("Architecture") :]
    else:
        message = f"{where}: {message}"
    return ConfigError(message, exc.hint)


def load_sub_model_weights(model: nn.Layer, name: str, path: str | Path) -> LoadReport:
    """Load `.pdparams` weights into one sub-model: a single-model file, or the `<name>.` part of
    a distillation checkpoint (else whichever prefix fits best). The suffix may be left out."""
    path = Path(path)
    candidates = [path] if path.suffix == ".pdparams" else [path.with_name(path.name + ".pdparams"), path]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise UserError(
            f"Architecture.Models.{name}.pretrained: {candidates[0]} not found",
            "give the .pdparams file (or its path without the suffix, as PaddleOCR configs do)",
        )
    try:
        state = paddle.load(str(found))
    except Exception as exc:  # paddle raises many types for a corrupt or foreign file
        raise UserError(
            f"Architecture.Models.{name}.pretrained: {found} cannot be read as Paddle weights "
            f"({type(exc).__name__}: {exc})",
            "the file may be truncated or not a .pdparams file",
        ) from None
    if not isinstance(state, Mapping):
        raise UserError(f"Architecture.Models.{name}.pretrained: {found} is not a weights file")
    own = f"{name}."
    prefix = own if any(str(key).startswith(own) for key in state) else None
    return load_weights(model, state, str(found), prefix=prefix)


# -- decoding helpers for the engine ----------------------------------------------------


def ctc_prediction(output: Any) -> Any:
    """The CTC prediction inside one sub-model's output: the tensor itself, `head_out`, or a
    MultiHead's `ctc` branch (probabilities in eval mode, logits in training)."""
    while isinstance(output, Mapping):
        for key in ("ctc", "head_out"):
            if key in output:
                output = output[key]
                break
        else:
            raise ValueError(
                f"no CTC prediction in this model output (it has: {', '.join(map(str, output))})"
            )
    if isinstance(output, (list, tuple)):
        return output[-1]
    return output


def per_model_predictions(preds: Any, model_names: Sequence[str] | None = None) -> dict[str, Any] | None:
    """Each sub-model's CTC prediction from a `DistillationModel` output, or None for a single model.

    `model_names` restricts (and orders) the result, e.g. a DistillationCTCLabelDecode's
    `model_names`; names absent from a `DistillationOutput` are an error. Without it every
    sub-model is returned, in config order. Single-model outputs (tensors, a MultiHead's
    branch dict) give None, so callers keep their usual path. A plain dict (the output after
    a dict-rebuilding step such as an AMP cast) counts as a distillation output when it holds
    every one of `model_names`.
    """
    if not isinstance(preds, DistillationOutput):
        if not (model_names and isinstance(preds, Mapping) and all(name in preds for name in model_names)):
            return None
    names = list(preds) if model_names is None else list(model_names)
    missing = [name for name in names if name not in preds]
    if missing:
        raise ConfigError(
            f"PostProcess.model_name: {', '.join(missing)} not in the model (it has: {', '.join(preds)})",
            "use the names of Architecture.Models",
        )
    return {name: ctc_prediction(preds[name]) for name in names}
