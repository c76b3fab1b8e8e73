"""`SequenceEncoder` neck: turns a [B, C, 1, W] feature map into a [B, W, D] sequence.

`encoder_type` picks what runs on it: `reshape` (nothing), `fc`, `rnn` (2-layer BiLSTM),
`cascadernn` (stacked BiLSTMs with optional projections) or `svtr` (SVTR blocks, run on the
map before reshaping). Parameter names follow PaddleOCR (`encoder.lstm...`, `encoder.fc...`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import paddle
from paddle import nn

from ocrrec.errors import ConfigError, UserError
from ocrrec.modeling.layers import uniform_fc_attrs
from ocrrec.modeling.necks.svtr import EncoderWithSVTR
from ocrrec.modeling.registry import NECKS
from ocrrec.registry import check_arguments


class Im2Seq(nn.Layer):
    """[B, C, 1, W] → [B, W, C]; the map must be one row high."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.out_channels = in_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        height = x.shape[2]
        if isinstance(height, int) and height > 1:  # -1 / None: unknown while tracing for export
            raise UserError(
                f"the backbone's feature map is {height} rows high where the sequence neck needs 1",
                "the input image height does not suit this backbone: check Global / RecResizeImg image_shape",
            )
        return x.squeeze(axis=2).transpose([0, 2, 1])


class EncoderWithRNN(nn.Layer):
    """Two-layer bidirectional LSTM; output width 2 * hidden_size."""

    def __init__(self, in_channels: int, hidden_size: int) -> None:
        super().__init__()
        self.out_channels = hidden_size * 2
        self.lstm = nn.LSTM(in_channels, hidden_size, direction="bidirectional", num_layers=2)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.lstm(x)[0]


class EncoderWithFC(nn.Layer):
    """One linear layer (L2 1e-5, uniform init)."""

    def __init__(self, in_channels: int, hidden_size: int) -> None:
        super().__init__()
        self.out_channels = hidden_size
        weight_attr, bias_attr = uniform_fc_attrs(1e-5, in_channels)
        self.fc = nn.Linear(in_channels, hidden_size, weight_attr=weight_attr, bias_attr=bias_attr)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(x)


class BidirectionalLSTM(nn.Layer):
    """One BiLSTM stack (`rnn`) with an optional projection (`linear`)."""

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int | None = None, with_linear: bool = False
    ) -> None:
        super().__init__()
        self.with_linear = with_linear
        self.rnn = nn.LSTM(input_size, hidden_size, num_layers=1, direction="bidirectional")
        if with_linear:
            self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.rnn(x)[0]
        return self.linear(x) if self.with_linear else x


class EncoderWithCascadeRNN(nn.Layer):
    """`num_layers` BiLSTMs in a row; layer i feeds `out_channels[i]` features to the next."""

    def __init__(
        self,
        in_channels: int,
        hidden_size: int,
        out_channels: Sequence[int],
        num_layers: int = 2,
        with_linear: bool = False,
    ) -> None:
        super().__init__()
        out_channels = list(out_channels)
        if len(out_channels) < num_layers:
            raise ConfigError(
                f"cascadernn neck: out_channels needs {num_layers} values (one per layer), got {out_channels}"
            )
        self.out_channels = out_channels[num_layers - 1]
        self.encoder = nn.LayerList(
            [
                BidirectionalLSTM(
                    in_channels if i == 0 else out_channels[i - 1],
                    hidden_size,
                    output_size=out_channels[i],
                    with_linear=with_linear,
                )
                for i in range(num_layers)
            ]
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        for layer in self.encoder:
            x = layer(x)
        return x


# encoder_type -> (class, whether it takes `hidden_size`). `reshape` has no encoder.
_ENCODERS: dict[str, tuple[type[nn.Layer] | None, bool]] = {
    "reshape": (None, False),
    "fc": (EncoderWithFC, True),
    "rnn": (EncoderWithRNN, True),
    "cascadernn": (EncoderWithCascadeRNN, True),
    "svtr": (EncoderWithSVTR, False),
}


@NECKS.register()
class SequenceEncoder(nn.Layer):
    """Feature map → sequence, optionally encoded; see the module docstring for `encoder_type`.

    Extra keys are the chosen encoder's arguments (e.g. `dims`, `depth`, `hidden_dims`,
    `use_guide`, `kernel_size` for `svtr`); a key the encoder does not take is a ConfigError.
    """

    def __init__(
        self, in_channels: int, encoder_type: str, hidden_size: int = 48, **encoder_args: Any
    ) -> None:
        super().__init__()
        if encoder_type not in _ENCODERS:
            raise ConfigError(
                f"SequenceEncoder: unknown encoder_type `{encoder_type}`; known: {', '.join(_ENCODERS)}"
            )
        self.encoder_type = encoder_type
        self.encoder_reshape = Im2Seq(in_channels)
        encoder_cls, takes_hidden = _ENCODERS[encoder_type]
        if encoder_cls is None:
            if encoder_args:
                raise ConfigError(
                    f"SequenceEncoder (reshape): unexpected argument `{next(iter(encoder_args))}`; "
                    "encoder_type reshape takes no arguments"
                )
            self.encoder = None
            self.out_channels = in_channels
            return
        args = dict(encoder_args)
        if takes_hidden:
            args["hidden_size"] = hidden_size
        check_arguments(
            encoder_cls, {"in_channels": in_channels, **args}, f"SequenceEncoder ({encoder_type})"
        )
        self.encoder = encoder_cls(in_channels, **args)
        self.out_channels = self.encoder.out_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.encoder_type == "svtr":
            return self.encoder_reshape(self.encoder(x))
        x = self.encoder_reshape(x)
        return x if self.encoder is None else self.encoder(x)
