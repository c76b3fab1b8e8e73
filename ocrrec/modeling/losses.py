"""Recognition losses under PaddleOCR's config names: CTCLoss, SARLoss, NRTRLoss, MultiLoss.

Every loss is called as `loss_fn(preds, batch)` with the batch as a dict of tensors
named by `KeepKeys.keep_keys`, and returns a dict whose "loss" entry is what gets
back-propagated.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.registry import LOSSES

LossOutput = dict[str, paddle.Tensor]


def _batch_tensor(batch: Mapping[str, Any], key: str, loss_name: str) -> paddle.Tensor:
    """Fetch `batch[key]`, failing with a message that names the missing keep_keys entry."""
    if key not in batch:
        raise ConfigError(
            f"{loss_name} needs `{key}` in the batch, but the batch has: {', '.join(sorted(batch))}",
            f"add `{key}` to the dataset's KeepKeys.keep_keys (and the label encoder that produces it)",
        )
    value = batch[key]
    return value if isinstance(value, paddle.Tensor) else paddle.to_tensor(value)


def _pick_branch(preds: Any, key: str) -> paddle.Tensor:
    """A head may return one tensor, a list (last item is the logits) or a dict of branches."""
    if isinstance(preds, Mapping):
        if key not in preds:
            raise ValueError(f"the model output has no `{key}` branch (it has: {', '.join(preds)})")
        return preds[key]
    if isinstance(preds, (list, tuple)):
        return preds[-1]
    return preds


def _as_float32(x: paddle.Tensor) -> paddle.Tensor:
    # Losses are computed in float32 even under AMP: warpctc has no fp16 kernel and
    # log-softmax in half precision is where AMP NaNs usually come from.
    return x if x.dtype == paddle.float32 else x.astype("float32")


@LOSSES.register()
class CTCLoss(nn.Layer):
    """CTC over the whole sequence: blank 0, every sample uses all T steps, mean of per-sample losses.

    `use_focal_loss` re-weights each sample's loss by (1 - exp(-loss))**2, so easy
    samples count less.
    """

    def __init__(self, use_focal_loss: bool = False) -> None:
        super().__init__()
        self.use_focal_loss = bool(use_focal_loss)
        # MultiLoss points this at "label_ctc"; alone the CTC labels are "label".
        self.label_key = "label"

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        logits = _as_float32(_pick_branch(preds, "ctc"))
        labels = _batch_tensor(batch, self.label_key, "CTCLoss").astype("int32")
        label_lengths = _batch_tensor(batch, "length", "CTCLoss").astype("int64").reshape([-1])
        steps_first = logits.transpose([1, 0, 2])  # [T, B, C], the layout warpctc wants
        num_steps, batch_size = steps_first.shape[0], steps_first.shape[1]
        # Host-side lengths, as PaddleOCR passes them (the kernel reads them on the CPU).
        input_lengths = paddle.to_tensor([num_steps] * batch_size, dtype="int64", place=paddle.CPUPlace())
        per_sample = F.ctc_loss(steps_first, labels, input_lengths, label_lengths, blank=0, reduction="none")
        if self.use_focal_loss:
            per_sample = per_sample * paddle.square(1.0 - paddle.exp(-per_sample))
        return {"loss": per_sample.mean()}


@LOSSES.register()
class SARLoss(nn.Layer):
    """Cross entropy of the SAR decoder against the label shifted by one (start token dropped).

    Padding positions are ignored. `ignore_index=None` means "the padding index",
    which PaddleOCR's trainer always injects: <PAD> is the last SAR class and the
    SAR head predicts every class except it, so it equals the logits' width.
    """

    def __init__(self, ignore_index: int | None = None) -> None:
        super().__init__()
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.label_key = "label"

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        logits = _as_float32(_pick_branch(preds, "sar"))
        labels = _batch_tensor(batch, self.label_key, "SARLoss").astype("int64")
        # Step t of the decoder predicts label position t + 1; the last step has no target.
        logits = logits[:, :-1, :]
        targets = labels[:, 1:]
        if logits.shape[1] != targets.shape[1]:
            raise ValueError(
                f"SARLoss: the decoder made {logits.shape[1] + 1} steps but labels are "
                f"{targets.shape[1] + 1} long; the head's max_text_length must equal Global.max_text_length"
            )
        num_classes = logits.shape[-1]
        ignore = num_classes if self.ignore_index is None else self.ignore_index
        loss = F.cross_entropy(
            logits.reshape([-1, num_classes]),
            targets.reshape([-1]),
            ignore_index=ignore,
            reduction="mean",
        )
        return {"loss": loss}


@LOSSES.register()
class NRTRLoss(nn.Layer):
    """Cross entropy of the NRTR (transformer) decoder, with label smoothing by default.

    Targets are `label[:, 1 : 2 + max(length)]` (start token dropped, end token kept).
    With `smoothing`, the true class gets 0.9 and every other class 0.1 / (C - 1), and
    padding positions (index 0) are left out of the mean; without it, plain cross
    entropy ignoring `ignore_index`.
    """

    smoothing_eps = 0.1

    def __init__(self, smoothing: bool = True, ignore_index: int = 0) -> None:
        super().__init__()
        self.smoothing = bool(smoothing)
        self.ignore_index = int(ignore_index)
        self.label_key = "label"

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        logits = _as_float32(_pick_branch(preds, "gtc"))
        labels = _batch_tensor(batch, self.label_key, "NRTRLoss").astype("int64")
        lengths = _batch_tensor(batch, "length", "NRTRLoss")
        longest = int(lengths.max())
        targets = labels[:, 1 : 2 + longest].reshape([-1])
        num_classes = logits.shape[-1]
        flat = logits.reshape([-1, num_classes])
        if flat.shape[0] != targets.shape[0]:
            raise ValueError(
                f"NRTRLoss: the decoder made {logits.shape[1]} steps but the labels need {longest + 1} "
                "(longest label + end token)"
            )
        if not self.smoothing:
            ignore = self.ignore_index if self.ignore_index >= 0 else -100
            return {"loss": F.cross_entropy(flat, targets, ignore_index=ignore, reduction="mean")}
        eps = self.smoothing_eps
        one_hot = F.one_hot(targets, num_classes)
        soft_targets = one_hot * (1.0 - eps) + (1.0 - one_hot) * (eps / (num_classes - 1))
        per_position = -(soft_targets * F.log_softmax(flat, axis=1)).sum(axis=1)
        keep = targets != 0
        loss = paddle.masked_select(per_position, keep).mean()
        return {"loss": loss}


# Which model-output branch and which label key each MultiLoss member reads, and
# which weight (PaddleOCR's names) scales it.
_MULTI_BRANCHES: dict[str, tuple[str, str, str]] = {
    "CTCLoss": ("ctc", "label_ctc", "weight_1"),
    "SARLoss": ("sar", "label_sar", "weight_2"),
    "NRTRLoss": ("gtc", "label_gtc", "weight_2"),
}


def _accepted_args(cls: type) -> set[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return {
        p.name for p in params if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


@LOSSES.register()
class MultiLoss(nn.Layer):
    """Sum of the CTC branch loss and the SAR or NRTR branch loss of a MultiHead model.

    `loss_config_list` is PaddleOCR's list of one-key dicts, e.g.
    `[{"CTCLoss": None}, {"NRTRLoss": {"smoothing": True}}]`. The CTC loss is scaled
    by `weight_1`, the SAR/NRTR loss by `weight_2`. Any other keyword is handed to
    every member loss that accepts it (as PaddleOCR does). The output has one
    (weighted) entry per member, named by its class, plus "loss", their sum.
    """

    def __init__(
        self,
        loss_config_list: Sequence[Mapping[str, Mapping[str, Any] | None]],
        weight_1: float = 1.0,
        weight_2: float = 1.0,
        **shared: Any,
    ) -> None:
        super().__init__()
        if (
            not isinstance(loss_config_list, Sequence)
            or isinstance(loss_config_list, str)
            or not loss_config_list
        ):
            raise ConfigError(
                "Loss.loss_config_list must be a non-empty list such as [{CTCLoss: null}, {SARLoss: null}]"
            )
        self.weights = {"weight_1": float(weight_1), "weight_2": float(weight_2)}
        self.members: dict[str, nn.Layer] = {}
        used_shared: set[str] = set()
        for position, entry in enumerate(loss_config_list):
            where = f"Loss.loss_config_list[{position}]"
            if not isinstance(entry, Mapping) or len(entry) != 1:
                raise ConfigError(f"{where} must be a one-key mapping like `CTCLoss:` or `SARLoss: {{...}}`")
            ((name, params),) = entry.items()
            if name not in _MULTI_BRANCHES:
                raise ConfigError(
                    f"{where}: MultiLoss cannot combine `{name}`",
                    f"use {', '.join(_MULTI_BRANCHES)}",
                )
            if name in self.members:
                raise ConfigError(f"{where}: `{name}` is listed twice")
            if params is not None and not isinstance(params, Mapping):
                raise ConfigError(f"{where}: the arguments of {name} must be a mapping, got {params!r}")
            cls = LOSSES.get(name, where)
            accepted = _accepted_args(cls)
            args = {k: v for k, v in shared.items() if k in accepted}
            used_shared.update(args)
            args.update(params or {})
            member = LOSSES.build({"name": name, **args}, where)
            member.label_key = _MULTI_BRANCHES[name][1]
            self.members[name] = member
            self.add_sublayer(name, member)
        unused = sorted(set(shared) - used_shared)
        if unused:
            raise ConfigError(
                f"Loss (MultiLoss): unexpected argument `{unused[0]}`; no member loss "
                f"({', '.join(self.members)}) accepts it"
            )

    def forward(self, preds: Any, batch: Mapping[str, Any]) -> LossOutput:
        if not isinstance(preds, Mapping):
            raise ValueError("MultiLoss needs the MultiHead training output (a dict of branches)")
        out: LossOutput = {}
        total = None
        for name, member in self.members.items():
            branch, _, weight_name = _MULTI_BRANCHES[name]
            value = member(_pick_branch(preds, branch), batch)["loss"] * self.weights[weight_name]
            out[name] = value
            total = value if total is None else total + value
        out["loss"] = total
        return out


def build_loss(loss_cfg: Mapping[str, Any]) -> nn.Layer:
    """Build the `Loss` section of a config (`{"name": "CTCLoss", ...}`)."""
    return LOSSES.build(dict(loss_cfg), where="Loss")
