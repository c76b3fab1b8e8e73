"""Distillation losses under PaddleOCR's config names: `CombinedLoss` (weighted sum of member losses)
and the `Distillation*Loss` members that supervise or compare the sub-models of a DistillationModel.

Each member reads `preds[model_name]` (optionally `[key]`, then a MultiHead branch) and returns a
dict of named terms with PaddleOCR's key names (`dml_ctc_0`, `loss_ctc_Student_0`,
`loss_distance_l2_Student_Teacher_0`, ...); CombinedLoss weights them and adds "loss".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.losses import CTCLoss, LossOutput, NRTRLoss, SARLoss, _as_float32
from ocrrec.modeling.registry import LOSSES
from ocrrec.registry import check_arguments

# Output keys that exist only when the sub-model has `return_all_feats: true`.
_FEATURE_KEYS = ("backbone_out", "neck_out", "head_out")
# Added to probabilities before taking logs (PaddleOCR's values).
_PROB_EPS = 1e-10
_JS_EPS = 1e-5


def _model_names(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.model_name_list: needs a list of model names such as [Student, Teacher]")
    return list(value)


def _model_pairs(value: Any, where: str) -> list[tuple[str, str]]:
    """[[a, b], ...] or a single [a, b] (PaddleOCR accepts both)."""
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, str) for v in value):
        value = [value]
    pairs = []
    if isinstance(value, Sequence) and not isinstance(value, str):
        for pair in value:
            if isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2:
                if all(isinstance(v, str) for v in pair):
                    pairs.append((pair[0], pair[1]))
                    continue
            pairs = []
            break
    if not pairs:
        raise ConfigError(
            f"{where}.model_name_pairs: needs a list of [model, model] pairs such as [[Student, Teacher]], got {value!r}"
        )
    return pairs


class _DistillationMember(nn.Layer):
    """Shared lookup of one sub-model's output (and its `key` entry) with clear errors."""

    def _setup(self, key: str | None, multi_head: bool, name: str) -> None:
        self.key = key
        self.multi_head = bool(multi_head)
        self.name = str(name)
        # CombinedLoss replaces this with the config location of the member.
        self.where = f"Loss ({type(self).__name__})"

    def _output(self, preds: Any, model_name: str) -> Any:
        if not isinstance(preds, Mapping) or model_name not in preds:
            have = ", ".join(map(str, preds)) if isinstance(preds, Mapping) else type(preds).__name__
            raise ConfigError(
                f"{self.where}: no model `{model_name}` in the model output (it has: {have})",
                "name the models of Architecture.Models (and use Architecture.name: DistillationModel)",
            )
        out = preds[model_name]
        if self.key is None:
            return out
        if not isinstance(out, Mapping) or self.key not in out:
            have = ", ".join(map(str, out)) if isinstance(out, Mapping) else "a single tensor"
            hint = (
                f"set Architecture.Models.{model_name}.return_all_feats: true"
                if self.key in _FEATURE_KEYS
                else "use a key the model produces"
            )
            raise ConfigError(
                f"{self.where}: `{model_name}` has no `{self.key}` output (it has {have})", hint
            )
        return out[self.key]

    def _branch(self, out: Any, branch: str, model_name: str) -> Any:
        if not isinstance(out, Mapping) or branch not in out:
            have = ", ".join(map(str, out)) if isinstance(out, Mapping) else "a single tensor"
            raise ConfigError(
                f"{self.where}: `{model_name}` has no `{branch}` head output (it has {have})",
                "multi_head: true needs a MultiHead model with that branch (ctc, sar or gtc)",
            )
        return out[branch]


def _activate(x: paddle.Tensor, act: str | None) -> paddle.Tensor:
    if act == "softmax":
        return F.softmax(x, axis=-1) + _PROB_EPS
    if act == "sigmoid":
        return F.sigmoid(x) + _PROB_EPS
    return x


def _batch_mean_kl(log_q: paddle.Tensor, p: paddle.Tensor) -> paddle.Tensor:
    """KL(p || q) summed over everything but the batch, averaged over the batch."""
    return (p * (paddle.log(p + _PROB_EPS) - log_q)).sum() / p.shape[0]


def mutual_kl(out1: paddle.Tensor, out2: paddle.Tensor, act: str | None, use_log: bool) -> paddle.Tensor:
    """Deep-mutual-learning distance between two predictions (symmetric KL).

    `use_log` (recognition): (KL(p2||p1) + KL(p1||p2)) / 2 of the activated outputs, summed
    over steps and classes, mean over the batch. Otherwise PaddleOCR's smoothed symmetric KL
    (eps 1e-5 inside the logs), averaged over every element.
    """
    p1 = _activate(_as_float32(out1), act)
    p2 = _activate(_as_float32(out2), act)
    if use_log:
        return (_batch_mean_kl(paddle.log(p1), p2) + _batch_mean_kl(paddle.log(p2), p1)) / 2.0
    forward = p2 * paddle.log((p2 + _JS_EPS) / (p1 + _JS_EPS) + _JS_EPS)
    backward = p1 * paddle.log((p1 + _JS_EPS) / (p2 + _JS_EPS) + _JS_EPS)
    return ((forward + backward) * 0.5).mean()


@LOSSES.register()
class DistillationDMLLoss(_DistillationMember):
    """Mutual KL between the outputs of each pair in `model_name_pairs` (see `mutual_kl`).

    With `multi_head`, the `dis_head` branch ("ctc", "sar", "gtc") of each output is compared.
    One term per pair, `{name}_{pair index}`, plus "loss" (their sum).
    """

    def __init__(
        self,
        model_name_pairs: Sequence[Any] = (),
        act: str | None = None,
        use_log: bool = False,
        key: str | None = None,
        multi_head: bool = False,
        dis_head: str = "ctc",
        maps_name: Any = None,
        name: str = "dml",
    ) -> None:
        super().__init__()
        self._setup(key, multi_head, name)
        where = "Loss (DistillationDMLLoss)"
        if act not in (None, "softmax", "sigmoid"):
            raise ConfigError(f"{where}.act: must be softmax, sigmoid or empty, got {act!r}")
        if maps_name is not None:
            raise ConfigError(
                f"{where}.maps_name: slices detection (DB) maps, which a recognizer does not produce",
                "remove maps_name from the recognition config",
            )
        self.pairs = _model_pairs(model_name_pairs, where)
        self.act = act
        self.use_log = bool(use_log)
        self.dis_head = str(dis_head)

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        out: LossOutput = {}
        for index, (first, second) in enumerate(self.pairs):
            out1, out2 = self._output(preds, first), self._output(preds, second)
            if self.multi_head:
                out1 = self._branch(out1, self.dis_head, first)
                out2 = self._branch(out2, self.dis_head, second)
            out[f"{self.name}_{index}"] = mutual_kl(out1, out2, self.act, self.use_log)
        out["loss"] = paddle.add_n(list(out.values()))
        return out


@LOSSES.register()
class DistillationDistanceLoss(_DistillationMember):
    """L2 (mean squared), L1 or smooth-L1 distance between paired outputs, e.g. `backbone_out`.

    Terms are named `{name}_l2_{a}_{b}_{index}` whatever the mode (PaddleOCR's naming).
    """

    _MODES = ("l2", "l1", "smooth_l1")

    def __init__(
        self,
        mode: str = "l2",
        model_name_pairs: Sequence[Any] = (),
        key: str | None = None,
        name: str = "loss_distance",
        reduction: str = "mean",
        delta: float = 1.0,
    ) -> None:
        super().__init__()
        where = "Loss (DistillationDistanceLoss)"
        if mode not in self._MODES:
            raise ConfigError(f"{where}.mode: must be one of {', '.join(self._MODES)}, got {mode!r}")
        if reduction not in ("mean", "sum"):
            raise ConfigError(f"{where}.reduction: must be mean or sum, got {reduction!r}")
        self._setup(key, False, f"{name}_l2")
        self.mode = mode
        self.reduction = reduction
        self.delta = float(delta)
        self.pairs = _model_pairs(model_name_pairs, where)

    def distance(self, x: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        x, y = _as_float32(x), _as_float32(y)
        if x.shape != y.shape:
            raise ConfigError(
                f"{self.where}: cannot compare outputs of shapes {list(x.shape)} and {list(y.shape)}",
                "compare features of the same size (same backbone scale), or drop this loss",
            )
        if self.mode == "l2":
            return F.mse_loss(x, y, reduction=self.reduction)
        if self.mode == "l1":
            return F.l1_loss(x, y, reduction=self.reduction)
        return F.smooth_l1_loss(x, y, reduction=self.reduction, delta=self.delta)

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        out: LossOutput = {}
        for index, (first, second) in enumerate(self.pairs):
            value = self.distance(self._output(preds, first), self._output(preds, second))
            out[f"{self.name}_{first}_{second}_{index}"] = value
        return out


class _SupervisedMember(_DistillationMember):
    """A ground-truth loss applied to each model of `model_name_list`: terms `{name}_{model}_{index}`."""

    #: MultiHead branch read with multi_head, and the batch key of its labels
    branch = ""
    multi_head_label = ""

    def _setup_models(self, model_name_list: Any, key: str | None, multi_head: bool, name: str) -> None:
        self._setup(key, multi_head, name)
        self.model_names = _model_names(model_name_list, f"Loss ({type(self).__name__})")
        # PaddleOCR hands a multi-head loss the branch's own labels; alone they are "label".
        self.label_key = self.multi_head_label if self.multi_head else "label"

    def _supervise(self, preds: Any, batch: Mapping[str, Any], single: Any) -> LossOutput:
        out: LossOutput = {}
        for index, model_name in enumerate(self.model_names):
            output = self._output(preds, model_name)
            if self.multi_head:
                output = self._branch(output, self.branch, model_name)
            out[f"{self.name}_{model_name}_{index}"] = single(output, batch)["loss"]
        return out


@LOSSES.register()
class DistillationCTCLoss(CTCLoss, _SupervisedMember):
    """CTCLoss on each listed model (its `ctc` branch with multi_head, labels `label_ctc`)."""

    branch = "ctc"
    multi_head_label = "label_ctc"

    def __init__(
        self,
        model_name_list: Sequence[str] = (),
        key: str | None = None,
        multi_head: bool = False,
        name: str = "loss_ctc",
    ) -> None:
        CTCLoss.__init__(self)
        self._setup_models(model_name_list, key, multi_head, name)

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        return self._supervise(preds, batch, super().forward)


@LOSSES.register()
class DistillationSARLoss(SARLoss, _SupervisedMember):
    """SARLoss on each listed model (its `sar` branch with multi_head, labels `label_sar`).

    `ignore_index` defaults to the padding class, as PaddleOCR's trainer sets it.
    """

    branch = "sar"
    multi_head_label = "label_sar"

    def __init__(
        self,
        model_name_list: Sequence[str] = (),
        key: str | None = None,
        multi_head: bool = False,
        name: str = "loss_sar",
        ignore_index: int | None = None,
    ) -> None:
        SARLoss.__init__(self, ignore_index=ignore_index)
        self._setup_models(model_name_list, key, multi_head, name)

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        return self._supervise(preds, batch, super().forward)


@LOSSES.register()
class DistillationNRTRLoss(NRTRLoss, _SupervisedMember):
    """NRTR cross entropy on each listed model (its `gtc` branch with multi_head, labels `label_gtc`).

    As in PaddleOCR, `smoothing: false` averages over every position, padding included
    (`ignore_index` -1); give `ignore_index: 0` to leave padding out.
    """

    branch = "gtc"
    multi_head_label = "label_gtc"

    def __init__(
        self,
        model_name_list: Sequence[str] = (),
        key: str | None = None,
        multi_head: bool = False,
        smoothing: bool = True,
        name: str = "loss_nrtr",
        ignore_index: int = -1,
    ) -> None:
        NRTRLoss.__init__(self, smoothing=smoothing, ignore_index=ignore_index)
        self._setup_models(model_name_list, key, multi_head, name)

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        return self._supervise(preds, batch, super().forward)


@LOSSES.register()
class CombinedLoss(nn.Layer):
    """Weighted sum of losses: `loss_config_list` is `[{LossName: {weight: w, ...args}}, ...]`.

    Every term a member returns is multiplied by its weight and kept under the member's key;
    "loss" is the sum over members of each member's "loss" (or of all its terms when it has
    none, as the Distillation CTC/SAR/NRTR/distance losses do).
    """

    def __init__(self, loss_config_list: Sequence[Mapping[str, Mapping[str, Any]]]) -> None:
        super().__init__()
        if (
            not isinstance(loss_config_list, Sequence)
            or isinstance(loss_config_list, str)
            or not loss_config_list
        ):
            raise ConfigError(
                "Loss.loss_config_list: CombinedLoss needs a non-empty list such as "
                "[{DistillationCTCLoss: {weight: 1.0, model_name_list: [Student]}}]"
            )
        self.members: list[nn.Layer] = []
        self.weights: list[float] = []
        for position, entry in enumerate(loss_config_list):
            where = f"Loss.loss_config_list[{position}]"
            if not isinstance(entry, Mapping) or len(entry) != 1:
                raise ConfigError(
                    f"{where}: must be a one-key mapping like `DistillationCTCLoss: {{weight: 1.0}}`"
                )
            ((name, params),) = entry.items()
            where = f"{where}.{name}"
            if not isinstance(params, Mapping) or "weight" not in params:
                raise ConfigError(f"{where}: needs a `weight` (e.g. weight: 1.0)")
            args = dict(params)
            try:
                weight = float(args.pop("weight"))
            except (TypeError, ValueError):
                raise ConfigError(f"{where}.weight: must be a number, got {params['weight']!r}") from None
            try:
                # not LOSSES.build: members take their own `name` argument (the term prefix)
                cls = LOSSES.get(name, where)
                check_arguments(cls, args, where)
                member = cls(**args)
            except ConfigError as exc:
                message = exc.message.replace(f"Loss ({name})", where)
                raise ConfigError(
                    message if message.startswith(where) else f"{where}: {message}", exc.hint
                ) from None
            if isinstance(member, _DistillationMember):
                member.where = where
            self.add_sublayer(f"member_{position}", member)
            self.members.append(member)
            self.weights.append(weight)

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        out: LossOutput = {}
        total = None
        for member, weight in zip(self.members, self.weights, strict=True):
            terms = member(preds, batch)
            if not isinstance(terms, Mapping):
                raise TypeError(
                    f"{type(member).__name__} returned {type(terms).__name__}, expected a dict of terms"
                )
            weighted = {key: value * weight for key, value in terms.items()}
            part = weighted["loss"] if "loss" in weighted else paddle.add_n(list(weighted.values()))
            total = part if total is None else total + part
            out.update(weighted)
        out["loss"] = total
        return out
