"""SAR head (Show, Attend and Read): LSTM holistic encoder + LSTM decoder with 2-D attention.

Classes: characters 0..N-1, then `<UKN>`, `<BOS/EOS>`, `<PAD>` (N + 3 in all); the decoder
predicts N + 2 of them (never `<PAD>`). Training is teacher-forced on `batch["label_sar"]`
and masks the padded image width with `batch["valid_ratio"]`; eval decodes greedily for
`max_text_length` steps and returns per-step probabilities [B, L, N + 2].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.modeling.heads.base import MultiHeadBranch, RecHead, batch_entry
from ocrrec.modeling.registry import HEADS

if TYPE_CHECKING:
    from ocrrec.charset import Charset


def _rnn(gru: bool, size_in: int, size_out: int, dropout: float, bidirectional: bool) -> nn.Layer:
    rnn_cls = nn.GRU if gru else nn.LSTM
    return rnn_cls(
        input_size=size_in,
        hidden_size=size_out,
        num_layers=2,
        time_major=False,
        dropout=dropout,
        direction="bidirectional" if bidirectional else "forward",
    )


def _valid_steps(valid_ratios: paddle.Tensor, length: int) -> paddle.Tensor:
    """How many of `length` columns hold image (not padding), per sample: min(L, ceil(r * L)), >= 1."""
    steps = paddle.ceil(valid_ratios.reshape([-1]).astype("float32") * length).astype("int64")
    return paddle.clip(steps, min=1, max=length)


class SAREncoder(nn.Layer):
    """Max-pool the map over its height, run a 2-layer RNN along the width, take the state at
    the last valid column and pass it through `linear`: the holistic feature [B, d_enc]."""

    def __init__(
        self,
        enc_bi_rnn: bool = False,
        enc_drop_rnn: float = 0.1,
        enc_gru: bool = False,
        d_model: int = 512,
        d_enc: int = 512,
        mask: bool = True,
    ) -> None:
        super().__init__()
        self.mask = mask
        self.rnn_encoder = _rnn(enc_gru, d_model, d_enc, enc_drop_rnn, enc_bi_rnn)
        out_size = d_enc * (2 if enc_bi_rnn else 1)
        self.linear = nn.Linear(out_size, out_size)

    def forward(self, feat: paddle.Tensor, valid_ratios: paddle.Tensor | None = None) -> paddle.Tensor:
        columns = F.max_pool2d(feat, kernel_size=(feat.shape[2], 1), stride=1, padding=0)
        columns = columns.squeeze(2).transpose([0, 2, 1])  # [B, W, C]
        states = self.rnn_encoder(columns)[0]  # [B, W, d]
        if valid_ratios is not None and self.mask:
            last = _valid_steps(valid_ratios, states.shape[1]) - 1
            rows = paddle.arange(states.shape[0], dtype="int64")
            final = paddle.gather_nd(states, paddle.stack([rows, last], axis=1))
        else:
            final = states[:, -1, :]
        return self.linear(final)


class ParallelSARDecoder(nn.Layer):
    """Decoder RNN over [holistic, tokens...]; each step attends over the feature map."""

    def __init__(
        self,
        out_channels: int,
        enc_bi_rnn: bool = False,
        dec_bi_rnn: bool = False,
        dec_drop_rnn: float = 0.0,
        dec_gru: bool = False,
        d_model: int = 512,
        d_enc: int = 512,
        d_k: int = 64,
        pred_dropout: float = 0.1,
        max_text_length: int = 30,
        mask: bool = True,
        pred_concat: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes = out_channels
        self.start_idx = out_channels - 2
        self.padding_idx = out_channels - 1
        self.max_seq_len = max_text_length
        self.mask = mask
        self.pred_concat = pred_concat
        enc_size = d_enc * (2 if enc_bi_rnn else 1)
        dec_size = enc_size * (2 if dec_bi_rnn else 1)

        self.conv1x1_1 = nn.Linear(dec_size, d_k)  # query from the decoder state
        self.conv3x3_1 = nn.Conv2D(d_model, d_k, kernel_size=3, stride=1, padding=1)  # keys from the map
        self.conv1x1_2 = nn.Linear(d_k, 1)  # attention score
        self.rnn_decoder = _rnn(dec_gru, enc_size, enc_size, dec_drop_rnn, dec_bi_rnn)
        self.embedding = nn.Embedding(self.num_classes, enc_size, padding_idx=self.padding_idx)
        self.pred_dropout = nn.Dropout(pred_dropout)
        fc_in = dec_size + d_model + enc_size if pred_concat else d_model
        self.prediction = nn.Linear(fc_in, self.num_classes - 1)

    def _attend(
        self,
        decoder_input: paddle.Tensor,
        feat: paddle.Tensor,
        keys: paddle.Tensor,
        holistic: paddle.Tensor,
        valid_ratios: paddle.Tensor | None,
    ) -> paddle.Tensor:
        """Class scores [B, L, num_classes - 1] for every position of `decoder_input` [B, L, E]."""
        hidden = self.rnn_decoder(decoder_input)[0]
        query = self.conv1x1_1(hidden)  # [B, L, d_k]
        scores = self.conv1x1_2(paddle.tanh(keys.unsqueeze(1) + query.unsqueeze([2, 3])))  # [B, L, h, w, 1]
        batch, steps, height, width = scores.shape[:4]
        scores = scores.squeeze(-1)
        if valid_ratios is not None and self.mask:
            columns = paddle.arange(width, dtype="int64").reshape([1, 1, 1, width])
            padded = columns >= _valid_steps(valid_ratios, width).reshape([-1, 1, 1, 1])
            scores = paddle.where(padded, paddle.full_like(scores, float("-inf")), scores)
        weights = F.softmax(scores.reshape([batch, steps, height * width]), axis=-1)
        channels = feat.shape[1]
        glimpse = weights @ feat.reshape([batch, channels, height * width]).transpose([0, 2, 1])
        if self.pred_concat:
            context = holistic.unsqueeze(1).expand([batch, steps, holistic.shape[-1]])
            out = self.prediction(
                paddle.concat([hidden, glimpse.astype(hidden.dtype), context.astype(hidden.dtype)], 2)
            )
        else:
            out = self.prediction(glimpse)
        return out

    def _keys(self, feat: paddle.Tensor) -> paddle.Tensor:
        return self.conv3x3_1(feat).transpose([0, 2, 3, 1])  # [B, h, w, d_k]

    def forward_train(
        self,
        feat: paddle.Tensor,
        holistic: paddle.Tensor,
        label: paddle.Tensor,
        valid_ratios: paddle.Tensor | None,
    ) -> paddle.Tensor:
        tokens = self.embedding(label)
        decoder_input = paddle.concat([holistic.unsqueeze(1).astype(tokens.dtype), tokens], axis=1)
        out = self._attend(decoder_input, feat, self._keys(feat), holistic, valid_ratios)
        return self.pred_dropout(out)[:, 1:, :]

    def forward_test(
        self, feat: paddle.Tensor, holistic: paddle.Tensor, valid_ratios: paddle.Tensor | None
    ) -> paddle.Tensor:
        batch = feat.shape[0]
        keys = self._keys(feat)
        start = self.embedding(paddle.full([batch, 1], self.start_idx, dtype="int64"))  # [B, 1, E]
        # Position 0 holds the holistic feature, position 1 the start token, position i + 1
        # the embedding of the character predicted at step i; later positions stay "start".
        tokens = [start] * self.max_seq_len
        probs = []
        for step in range(1, self.max_seq_len + 1):
            decoder_input = paddle.concat([holistic.unsqueeze(1), *tokens], axis=1)
            scores = self._attend(decoder_input, feat, keys, holistic, valid_ratios)[:, step, :]
            step_probs = F.softmax(scores, axis=-1)
            probs.append(step_probs)
            if step < self.max_seq_len:
                tokens[step] = self.embedding(step_probs.argmax(axis=1, keepdim=True))
        return paddle.stack(probs, axis=1)


@HEADS.register()
class SARHead(RecHead):
    """SAR attention head (as PP-OCRv3's auxiliary branch or on its own)."""

    label_decoder = "SARLabelDecode"
    batch_keys = ("label_sar", "valid_ratio")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        enc_dim: int = 512,
        max_text_length: int = 30,
        enc_bi_rnn: bool = False,
        enc_drop_rnn: float = 0.1,
        enc_gru: bool = False,
        dec_bi_rnn: bool = False,
        dec_drop_rnn: float = 0.0,
        dec_gru: bool = False,
        d_k: int = 512,
        pred_dropout: float = 0.1,
        pred_concat: bool = True,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.encoder = SAREncoder(
            enc_bi_rnn=enc_bi_rnn,
            enc_drop_rnn=enc_drop_rnn,
            enc_gru=enc_gru,
            d_model=in_channels,
            d_enc=enc_dim,
        )
        self.decoder = ParallelSARDecoder(
            out_channels,
            enc_bi_rnn=enc_bi_rnn,
            dec_bi_rnn=dec_bi_rnn,
            dec_drop_rnn=dec_drop_rnn,
            dec_gru=dec_gru,
            d_model=in_channels,
            d_enc=enc_dim,
            d_k=d_k,
            pred_dropout=pred_dropout,
            max_text_length=max_text_length,
            pred_concat=pred_concat,
        )

    @classmethod
    def num_classes(cls, charset: Charset) -> int:
        return len(charset) + 3

    def forward(self, feat: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None = None) -> paddle.Tensor:
        if self.training:
            valid_ratios = batch_entry(batch, "valid_ratio", "SARHead")
            label = batch_entry(batch, "label_sar", "SARHead")
            holistic = self.encoder(feat, valid_ratios)
            return self.decoder.forward_train(feat, holistic, label, valid_ratios)
        valid_ratios = batch.get("valid_ratio") if batch else None
        holistic = self.encoder(feat, valid_ratios)
        return self.decoder.forward_test(feat, holistic, valid_ratios)

    @classmethod
    def multi_head_branch(
        cls,
        in_channels: int,
        out_channels_list: Mapping[str, int],
        args: Mapping[str, Any],
        where: str,
        options: Mapping[str, Any],
    ) -> MultiHeadBranch:
        head = cls.build_for_branch(in_channels, out_channels_list, args or {}, where)
        return MultiHeadBranch(layers={"sar_head": head}, run=_run_sar_branch, batch_keys=cls.batch_keys)


def _run_sar_branch(
    multi_head: nn.Layer, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None
) -> dict[str, paddle.Tensor]:
    return {"sar": multi_head.sar_head(x, batch)}
