"""What every recognition head declares: its class count for a dictionary, the batch entries it
reads while training, and how it plugs into `MultiHead` as a branch.

No central table of head names: `build_model` and `MultiHead` ask the head class itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import paddle
from paddle import nn

from ocrrec.errors import ConfigError, UserError

if TYPE_CHECKING:
    from ocrrec.charset import Charset


@dataclass
class MultiHeadBranch:
    """One branch of a MultiHead.

    `layers` become attributes of the MultiHead under exactly these names, which are the
    parameter-name prefixes PaddleOCR uses (`ctc_encoder`, `ctc_head`, `sar_head`, ...).
    `run(multi_head, features, batch)` returns this branch's training outputs;
    the primary branch's `eval_key` output is what the MultiHead returns in eval mode.
    """

    layers: dict[str, nn.Layer]
    run: Callable[[nn.Layer, paddle.Tensor, Mapping[str, paddle.Tensor] | None], dict[str, Any]]
    batch_keys: tuple[str, ...] = ()
    primary: bool = False
    eval_key: str | None = None


class RecHead(nn.Layer):
    """Base class of heads that know their output size from a dictionary.

    Subclasses set `label_decoder` (PaddleOCR's post-process name, also the key in
    MultiHead's `out_channels_list`) and implement `num_classes`; heads usable inside
    MultiHead implement `multi_head_branch`.
    """

    label_decoder: ClassVar[str] = ""
    batch_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def num_classes(cls, charset: Charset) -> int:
        raise NotImplementedError(f"{cls.__name__} does not define its class count")

    @classmethod
    def out_channel_args(cls, spec: Mapping[str, Any], charset: Charset | None, where: str) -> dict[str, Any]:
        """The output-size argument for this head: computed from `charset` when one is given
        (PaddleOCR's training script does the same, so a stale value in a saved config is
        harmless); otherwise the config's own value, which must then be present."""
        if charset is None and spec.get("out_channels") is not None:
            return {}
        if charset is None:
            raise ConfigError(
                f"{where}: no `out_channels` and no dictionary to compute it from",
                "set Global.character_dict_path (or pass a charset to build_model)",
            )
        return {"out_channels": cls.num_classes(charset)}

    @classmethod
    def multi_head_branch(
        cls,
        in_channels: int,
        out_channels_list: Mapping[str, int],
        args: Mapping[str, Any],
        where: str,
        options: Mapping[str, Any],
    ) -> MultiHeadBranch:
        raise ConfigError(f"{where}: {cls.__name__} cannot be used inside MultiHead")


def batch_entry(batch: Mapping[str, paddle.Tensor] | None, key: str, head: str) -> paddle.Tensor:
    """`batch[key]`, or a UserError saying which KeepKeys entry the head needs."""
    if batch is None or key not in batch:
        have = ", ".join(batch) if batch else "nothing"
        raise UserError(
            f"{head} needs `{key}` in the training batch, which has {have}",
            f"add `{key}` to the dataset's KeepKeys.keep_keys (and the label encoder that makes it)",
        )
    return batch[key]


def channels_for(out_channels_list: Mapping[str, int], key: str, where: str) -> int:
    if key not in out_channels_list:
        raise ConfigError(
            f"{where}: out_channels_list has no `{key}` entry (has {', '.join(out_channels_list) or 'none'})",
            "remove out_channels_list from the config to have it computed from the dictionary",
        )
    return int(out_channels_list[key])
