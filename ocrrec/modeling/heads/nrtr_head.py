"""NRTR transformer-decoder head, as PP-OCRv4's MultiHead uses it for its GTC branch.

Classes: "blank", "<unk>", "<s>" (2), "</s>" (3), then the N characters: N + 4. Like
PaddleOCR, the embedding and output projection have one more row (N + 5), which is never a
target. Training is teacher-forced on `batch["label_gtc"]` (cut to the batch's longest
label via `batch["length"]`) and returns logits [B, L, N + 5]; eval decodes greedily and
returns (token ids [B, <=L], their probabilities).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn
from paddle.nn.initializer import Constant, Normal, TruncatedNormal, XavierNormal

from ocrrec.errors import ConfigError
from ocrrec.modeling.heads.base import MultiHeadBranch, RecHead, batch_entry
from ocrrec.modeling.layers import Mlp
from ocrrec.modeling.registry import HEADS

if TYPE_CHECKING:
    from ocrrec.charset import Charset

START_TOKEN = 2
END_TOKEN = 3


class MultiheadAttention(nn.Layer):
    """Scaled dot-product attention; self-attention packs q/k/v in `qkv`, cross-attention
    has `q` and `kv`; output through `out_proj`."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, self_attn: bool = False) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ConfigError(f"NRTRHead: nrtr_dim {embed_dim} must be divisible by {num_heads} heads")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.scale = self.head_dim**-0.5
        self.self_attn = self_attn
        if self_attn:
            self.qkv = nn.Linear(embed_dim, embed_dim * 3)
        else:
            self.q = nn.Linear(embed_dim, embed_dim)
            self.kv = nn.Linear(embed_dim, embed_dim * 2)
        self.attn_drop = nn.Dropout(dropout)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(
        self, query: paddle.Tensor, key: paddle.Tensor | None = None, attn_mask: paddle.Tensor | None = None
    ) -> paddle.Tensor:
        q_len = query.shape[1]
        if self.self_attn:
            qkv = (
                self.qkv(query)
                .reshape([0, q_len, 3, self.num_heads, self.head_dim])
                .transpose([2, 0, 3, 1, 4])
            )
            q, k, v = qkv[0], qkv[1], qkv[2]
        else:
            k_len = key.shape[1]
            q = self.q(query).reshape([0, q_len, self.num_heads, self.head_dim]).transpose([0, 2, 1, 3])
            kv = self.kv(key).reshape([0, k_len, 2, self.num_heads, self.head_dim]).transpose([2, 0, 3, 1, 4])
            k, v = kv[0], kv[1]
        attn = (q @ k.transpose([0, 1, 3, 2])) * self.scale
        if attn_mask is not None:
            attn = attn + attn_mask
        attn = self.attn_drop(F.softmax(attn, axis=-1))
        out = (attn @ v).transpose([0, 2, 1, 3]).reshape([0, q_len, self.embed_dim])
        return self.out_proj(out)


class TransformerBlock(nn.Layer):
    """Post-norm decoder layer: masked self-attention, cross-attention to the image, ReLU MLP."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        attention_dropout_rate: float = 0.0,
        residual_dropout_rate: float = 0.1,
        with_self_attn: bool = True,
        with_cross_attn: bool = False,
        epsilon: float = 1e-5,
    ) -> None:
        super().__init__()
        self.with_self_attn = with_self_attn
        if with_self_attn:
            self.self_attn = MultiheadAttention(
                d_model, nhead, dropout=attention_dropout_rate, self_attn=True
            )
            self.norm1 = nn.LayerNorm(d_model, epsilon=epsilon)
            self.dropout1 = nn.Dropout(residual_dropout_rate)
        self.with_cross_attn = with_cross_attn
        if with_cross_attn:
            self.cross_attn = MultiheadAttention(d_model, nhead, dropout=attention_dropout_rate)
            self.norm2 = nn.LayerNorm(d_model, epsilon=epsilon)
            self.dropout2 = nn.Dropout(residual_dropout_rate)
        self.mlp = Mlp(d_model, dim_feedforward, act_layer=nn.ReLU, drop=residual_dropout_rate)
        self.norm3 = nn.LayerNorm(d_model, epsilon=epsilon)
        self.dropout3 = nn.Dropout(residual_dropout_rate)

    def forward(
        self, tgt: paddle.Tensor, memory: paddle.Tensor | None = None, self_mask: paddle.Tensor | None = None
    ) -> paddle.Tensor:
        if self.with_self_attn:
            tgt = self.norm1(tgt + self.dropout1(self.self_attn(tgt, attn_mask=self_mask)))
        if self.with_cross_attn:
            tgt = self.norm2(tgt + self.dropout2(self.cross_attn(tgt, key=memory)))
        return self.norm3(tgt + self.dropout3(self.mlp(tgt)))


def sinusoid_table(max_len: int, dim: int) -> np.ndarray:
    """Sine/cosine position table [max_len, 1, dim], float32 arithmetic as PaddleOCR's."""
    position = np.arange(max_len, dtype=np.float32)[:, None]
    rate = np.exp(np.arange(0, dim, 2, dtype=np.float32) * np.float32(-math.log(10000.0) / dim))
    angles = (position * rate).astype(np.float32)
    table = np.zeros([max_len, dim], dtype=np.float32)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return table[:, None, :]


class PositionalEncoding(nn.Layer):
    """Adds the sinusoid table (buffer `pe`, [max_len, 1, dim], saved with the weights)."""

    def __init__(self, dropout: float, dim: int, max_len: int = 5000) -> None:
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        self.register_buffer("pe", paddle.to_tensor(sinusoid_table(max_len, dim)))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        positions = self.pe[: x.shape[1]].transpose([1, 0, 2])  # [1, L, dim]
        return self.dropout(x + positions)


class Embeddings(nn.Layer):
    """Token embedding (`embedding`, index 0 = padding) scaled by sqrt(d_model)."""

    def __init__(self, d_model: int, vocab: int, padding_idx: int = 0, scale_embedding: bool = True) -> None:
        super().__init__()
        self.embedding = nn.Embedding(
            vocab,
            d_model,
            padding_idx=padding_idx,
            weight_attr=paddle.ParamAttr(initializer=Normal(0.0, d_model**-0.5)),
        )
        self.d_model = d_model
        self.scale_embedding = scale_embedding

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.embedding(x)
        return x * math.sqrt(self.d_model) if self.scale_embedding else x


def causal_mask(size: int) -> paddle.Tensor:
    """[1, 1, size, size] additive mask: 0 on and below the diagonal, -inf above."""
    mask = paddle.triu(paddle.full([size, size], float("-inf"), dtype="float32"), diagonal=1)
    return mask.reshape([1, 1, size, size])


@HEADS.register()
class NRTRHead(RecHead):
    """Transformer decoder over an image sequence [B, N, nrtr_dim] (or a [B, nrtr_dim, H, W] map,
    flattened). Heads = nrtr_dim / 32, feed-forward width 4 * nrtr_dim, residual dropout 0.1
    — the values PaddleOCR's MultiHead fixes. `max_text_length` bounds greedy decoding."""

    label_decoder = "NRTRLabelDecode"
    batch_keys = ("label_gtc", "length")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        nrtr_dim: int = 256,
        max_text_length: int = 25,
        num_decoder_layers: int = 4,
    ) -> None:
        super().__init__()
        if in_channels != nrtr_dim:
            raise ConfigError(
                f"NRTRHead: its input has {in_channels} channels but nrtr_dim is {nrtr_dim}",
                "set nrtr_dim to the neck's output width, or use NRTRHead inside MultiHead (which projects)",
            )
        self.out_channels = out_channels + 1
        self.max_len = max_text_length
        self.d_model = nrtr_dim
        self.embedding = Embeddings(nrtr_dim, self.out_channels, padding_idx=0)
        self.positional_encoding = PositionalEncoding(dropout=0.1, dim=nrtr_dim)
        self.decoder = nn.LayerList(
            [
                TransformerBlock(
                    nrtr_dim,
                    nrtr_dim // 32,
                    dim_feedforward=nrtr_dim * 4,
                    attention_dropout_rate=0.0,
                    residual_dropout_rate=0.1,
                    with_self_attn=True,
                    with_cross_attn=True,
                )
                for _ in range(num_decoder_layers)
            ]
        )
        self.tgt_word_prj = nn.Linear(nrtr_dim, self.out_channels, bias_attr=False)
        self.apply(_xavier_linear)

    @classmethod
    def num_classes(cls, charset: Charset) -> int:
        return len(charset) + 4

    def _decode(self, tokens: paddle.Tensor, memory: paddle.Tensor) -> paddle.Tensor:
        tgt = self.positional_encoding(self.embedding(tokens))
        mask = causal_mask(tgt.shape[1])
        for layer in self.decoder:
            tgt = layer(tgt, memory, self_mask=mask)
        return tgt

    def forward(
        self, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None = None
    ) -> paddle.Tensor | tuple[paddle.Tensor, paddle.Tensor]:
        if x.ndim == 4:
            x = x.flatten(2).transpose([0, 2, 1])
        if self.training:
            label = batch_entry(batch, "label_gtc", "NRTRHead")
            length = batch_entry(batch, "length", "NRTRHead")
            tokens = label[:, : 1 + length.max()]  # <s> + longest label; the final </s> is only a target
            return self.tgt_word_prj(self._decode(tokens, x))
        return self.greedy_decode(x)

    def greedy_decode(self, memory: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        """Token ids and probabilities, each [B, steps + 1], starting with <s> (probability 1);
        stops early once every sample predicts </s>."""
        batch = memory.shape[0]
        ids = paddle.full([batch, 1], START_TOKEN, dtype="int64")
        probs = paddle.full([batch, 1], 1.0, dtype="float32")
        for _ in range(1, self.max_len):
            last = self._decode(ids, memory)[:, -1, :]
            word_prob = F.softmax(self.tgt_word_prj(last), axis=-1)
            next_id = word_prob.argmax(axis=-1)
            if bool((next_id == END_TOKEN).all()):
                break
            ids = paddle.concat([ids, next_id.reshape([-1, 1])], axis=1)
            probs = paddle.concat([probs, word_prob.max(axis=-1).reshape([-1, 1])], axis=1)
        return ids, probs

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
        nrtr_dim = int(args.get("nrtr_dim", 256))
        head = cls.build_for_branch(nrtr_dim, out_channels_list, args, where)
        before: list[nn.Layer] = [nn.Flatten(2), FCTranspose(in_channels, nrtr_dim)]
        if options.get("use_pos"):
            before.append(AddPos(nrtr_dim, 80))
        return MultiHeadBranch(
            layers={"before_gtc": nn.Sequential(*before), "gtc_head": head},
            run=_run_gtc_branch,
            batch_keys=cls.batch_keys,
        )


class FCTranspose(nn.Layer):
    """[B, C, N] → [B, N, C] → linear (no bias) to the decoder width."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_channels, out_channels, bias_attr=False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(x.transpose([0, 2, 1]))


class AddPos(nn.Layer):
    """Learned position embedding `dec_pos_embed` [1, max_positions, dim] added to a sequence."""

    def __init__(self, dim: int, max_positions: int) -> None:
        super().__init__()
        self.dec_pos_embed = self.create_parameter(
            shape=[1, max_positions, dim], default_initializer=TruncatedNormal(std=0.02)
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x + self.dec_pos_embed[:, : x.shape[1], :]


def _xavier_linear(layer: nn.Layer) -> None:
    if isinstance(layer, nn.Linear):
        XavierNormal()(layer.weight)
        if layer.bias is not None:
            Constant(0.0)(layer.bias)


def _run_gtc_branch(
    multi_head: nn.Layer, x: paddle.Tensor, batch: Mapping[str, paddle.Tensor] | None
) -> dict[str, paddle.Tensor]:
    return {"gtc": multi_head.gtc_head(multi_head.before_gtc(x), batch)}
