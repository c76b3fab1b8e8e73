"""CTC head: one (or two, with `mid_channels`) linear layers over the sequence.

Training returns logits [B, T, C]; eval returns softmax probabilities. C = characters + 1
(index 0 is the CTC blank). Inside MultiHead it brings its own neck (`Neck:` in its config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.heads.base import MultiHeadBranch, RecHead, channels_for
from ocrrec.modeling.layers import uniform_fc_attrs
from ocrrec.modeling.necks.sequence_encoder import SequenceEncoder
from ocrrec.modeling.registry import HEADS
from ocrrec.registry import check_arguments

if TYPE_CHECKING:
    from ocrrec.charset import Charset


@HEADS.register()
class CTCHead(RecHead):
    """Linear CTC classifier; `fc_decay` is the per-parameter L2 coefficient of its weights.

    With `return_feats=True` training returns {"ctc": logits, "ctc_feats": features}
    (the features before the last layer, for PaddleOCR's center loss).
    """

    label_decoder = "CTCLabelDecode"
    batch_keys = ()

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        fc_decay: float = 0.0004,
        mid_channels: int | None = None,
        return_feats: bool = False,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.mid_channels = mid_channels
        self.return_feats = return_feats
        if mid_channels is None:
            weight_attr, bias_attr = uniform_fc_attrs(fc_decay, in_channels)
            self.fc = nn.Linear(in_channels, out_channels, weight_attr=weight_attr, bias_attr=bias_attr)
        else:
            weight_attr, bias_attr = uniform_fc_attrs(fc_decay, in_channels)
            self.fc1 = nn.Linear(in_channels, mid_channels, weight_attr=weight_attr, bias_attr=bias_attr)
            weight_attr, bias_attr = uniform_fc_attrs(fc_decay, mid_channels)
            self.fc2 = nn.Linear(mid_channels, out_channels, weight_attr=weight_attr, bias_attr=bias_attr)

    @classmethod
    def num_classes(cls, charset: Charset) -> int:
        return len(charset) + 1

    def forward(
        self, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None = None
    ) -> paddle.Tensor | dict[str, paddle.Tensor]:
        if self.mid_channels is None:
            feats, logits = x, self.fc(x)
        else:
            feats = self.fc1(x)
            logits = self.fc2(feats)
        if not self.training:
            return F.softmax(logits, axis=2)
        if self.return_feats:
            return {"ctc": logits, "ctc_feats": feats}
        return logits

    @classmethod
    def multi_head_branch(
        cls,
        in_channels: int,
        out_channels_list: Mapping[str, int],
        args: Mapping[str, Any],
        where: str,
        options: Mapping[str, Any],
    ) -> MultiHeadBranch:
        args = dict(args or {})
        neck_spec = args.pop("Neck", None)
        head_args = dict(args.pop("Head", None) or {})
        if args:
            raise ConfigError(
                f"{where}: unexpected key `{next(iter(args))}`; a CTCHead branch takes `Neck` and `Head`"
            )
        if not isinstance(neck_spec, Mapping) or "name" not in neck_spec:
            raise ConfigError(
                f"{where}.Neck: needs a `name` (the encoder type: svtr, rnn, fc, reshape, cascadernn)"
            )
        neck_args = dict(neck_spec)
        neck_args["encoder_type"] = neck_args.pop("name")
        neck_args["in_channels"] = in_channels
        check_arguments(SequenceEncoder, neck_args, f"{where}.Neck")
        try:
            encoder = SequenceEncoder(**neck_args)
        except ConfigError as exc:
            raise ConfigError(f"{where}.Neck: {exc.message}", exc.hint) from None
        head_args["in_channels"] = encoder.out_channels
        head_args["out_channels"] = channels_for(out_channels_list, cls.label_decoder, where)
        check_arguments(cls, head_args, f"{where}.Head")
        head = cls(**head_args)

        return MultiHeadBranch(
            layers={"ctc_encoder": encoder, "ctc_head": head},
            run=_run_ctc_branch,
            batch_keys=cls.batch_keys,
            primary=True,
            eval_key="ctc",
        )


def _run_ctc_branch(
    multi_head: nn.Layer, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None
) -> dict[str, paddle.Tensor]:
    feats = multi_head.ctc_encoder(x)
    out = multi_head.ctc_head(feats, batch)
    if isinstance(out, dict):
        return {**out, "ctc_neck": feats}
    return {"ctc": out, "ctc_neck": feats}
