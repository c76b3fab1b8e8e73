"""MultiHead: PP-OCRv3/v4's CTC branch (with its own neck) trained together with an attention
branch (SARHead or NRTRHead) that guides the backbone and is dropped at inference.

Training returns {"ctc": logits, "ctc_neck": features, "sar" | "gtc": logits}; eval returns
only the CTC probabilities. Each `head_list` entry's class builds its own branch
(`RecHead.multi_head_branch`), so a new branch type is a new head file, not an edit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import paddle
from paddle import nn

from ocrrec.errors import ConfigError
from ocrrec.modeling.heads.base import MultiHeadBranch, RecHead
from ocrrec.modeling.registry import HEADS

if TYPE_CHECKING:
    from ocrrec.charset import Charset


def parse_head_list(head_list: Any, where: str) -> list[tuple[str, type, dict[str, Any]]]:
    """[(name, head class, its arguments)] from `[{"CTCHead": {...}}, {"SARHead": {...}}]`."""
    if not isinstance(head_list, Sequence) or isinstance(head_list, str) or not head_list:
        raise ConfigError(
            f"{where}.head_list: needs a list like [{{CTCHead: {{Neck: ..., Head: ...}}}}, {{SARHead: ...}}]"
        )
    entries = []
    for index, item in enumerate(head_list):
        item_where = f"{where}.head_list[{index}]"
        if not isinstance(item, Mapping) or len(item) != 1:
            raise ConfigError(
                f"{item_where}: each entry is one `HeadName: {{arguments}}` mapping, got {item!r}"
            )
        name, args = next(iter(item.items()))
        head_cls = HEADS.get(name, item_where)
        if not (isinstance(head_cls, type) and issubclass(head_cls, RecHead)):
            raise ConfigError(f"{item_where}: {name} cannot be used inside MultiHead")
        if args is not None and not isinstance(args, Mapping):
            raise ConfigError(f"{item_where}.{name}: arguments must be a mapping, got {args!r}")
        entries.append((name, head_cls, dict(args or {})))
    return entries


@HEADS.register()
class MultiHead(RecHead):
    """CTC + attention heads on the backbone output.

    `out_channels_list` maps PaddleOCR decoder names ("CTCLabelDecode", "SARLabelDecode",
    "NRTRLabelDecode") to class counts; `build_model` fills it from the dictionary.
    `use_pool` average-pools SVTR-style token maps first; `use_pos` adds a learned position
    embedding before the NRTR branch.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels_list: Mapping[str, int],
        head_list: Sequence[Mapping[str, Any]],
        use_pool: bool = False,
        use_pos: bool = False,
    ) -> None:
        super().__init__()
        where = "MultiHead"
        self.in_channels = in_channels
        self.use_pool = use_pool
        self.use_pos = use_pos
        self.out_channels_list = dict(out_channels_list)
        if use_pool:
            self.pool = nn.AvgPool2D(kernel_size=[3, 2], stride=[3, 2], padding=0)
        branches: list[MultiHeadBranch] = []
        for index, (name, head_cls, args) in enumerate(parse_head_list(head_list, where)):
            branch = head_cls.multi_head_branch(
                in_channels,
                self.out_channels_list,
                args,
                f"{where}.head_list[{index}].{name}",
                {"use_pos": use_pos},
            )
            for attr, layer in branch.layers.items():
                if attr in self._sub_layers:
                    raise ConfigError(f"{where}.head_list[{index}]: a second {name} branch is not supported")
                setattr(self, attr, layer)
            branches.append(branch)
        primaries = [b for b in branches if b.primary]
        if len(primaries) != 1:
            raise ConfigError(
                f"{where}.head_list: needs exactly one CTCHead entry (the branch used for inference), "
                f"found {len(primaries)}"
            )
        self._primary = primaries[0]
        self._auxiliary = [b for b in branches if not b.primary]
        self.batch_keys = tuple(dict.fromkeys(key for b in branches for key in b.batch_keys))

    @classmethod
    def out_channel_args(cls, spec: Mapping[str, Any], charset: Charset | None, where: str) -> dict[str, Any]:
        if charset is None and spec.get("out_channels_list") is not None:
            return {}
        if charset is None:
            raise ConfigError(
                f"{where}: no `out_channels_list` and no dictionary to compute it from",
                "set Global.character_dict_path (or pass a charset to build_model)",
            )
        return {
            "out_channels_list": {
                head_cls.label_decoder: head_cls.num_classes(charset)
                for _, head_cls, _ in parse_head_list(spec.get("head_list"), where)
            }
        }

    def forward(
        self, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None = None
    ) -> paddle.Tensor | dict[str, paddle.Tensor]:
        if self.use_pool:
            x = self.pool(x.reshape([0, 3, -1, self.in_channels]).transpose([0, 3, 1, 2]))
        outputs = self._primary.run(self, x, batch)
        if not self.training:
            return outputs[self._primary.eval_key]
        for branch in self._auxiliary:
            outputs.update(branch.run(self, x, batch))
        return outputs
