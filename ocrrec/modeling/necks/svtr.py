"""SVTR pieces used by the PP-OCRv3/v4 CTC neck: conv-BN-act, global self-attention blocks,
and `EncoderWithSVTR` (conv reduce → transformer blocks → conv expand, concatenated with the input).

Names match PaddleOCR's `svtr_block.N.{norm1,mixer.qkv,mixer.proj,norm2,mlp.fc1,mlp.fc2}`.
"""

from __future__ import annotations

from collections.abc import Sequence

import paddle
import paddle.nn.functional as F
from paddle import ParamAttr, nn
from paddle.nn.initializer import Constant, KaimingUniform, TruncatedNormal

from ocrrec.errors import ConfigError
from ocrrec.modeling.layers import DropPath, Mlp

_trunc_normal = TruncatedNormal(std=0.02)
_zeros = Constant(0.0)
_ones = Constant(1.0)


class ConvBNLayer(nn.Layer):
    """Conv (Kaiming-uniform init) → BatchNorm → activation; names `conv`, `norm`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int] = 3,
        stride: int = 1,
        padding: int | Sequence[int] = 0,
        bias_attr: bool | None = False,
        groups: int = 1,
        act: type[nn.Layer] = nn.GELU,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2D(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            groups=groups,
            weight_attr=ParamAttr(initializer=KaimingUniform()),
            bias_attr=bias_attr,
        )
        self.norm = nn.BatchNorm2D(out_channels)
        self.act = act()

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.norm(self.conv(x)))


class GlobalAttention(nn.Layer):
    """Multi-head self-attention over all tokens (SVTR's "Global" mixer); `qkv`, `proj`."""

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ConfigError(f"SVTR attention: width {dim} is not divisible by num_heads {num_heads}")
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = qk_scale or self.head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias_attr=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        qkv = self.qkv(x).reshape([0, -1, 3, self.num_heads, self.head_dim]).transpose([2, 0, 3, 1, 4])
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = F.softmax(q @ k.transpose([0, 1, 3, 2]), axis=-1)
        attn = self.attn_drop(attn)
        x = (attn @ v).transpose([0, 2, 1, 3]).reshape([0, -1, self.dim])
        return self.proj_drop(self.proj(x))


class Block(nn.Layer):
    """Transformer block (global mixer). `prenorm=True` is PaddleOCR's post-add norm
    (norm(x + f(x))); `prenorm=False` is the usual x + f(norm(x))."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
        act_layer: type[nn.Layer] = nn.GELU,
        epsilon: float = 1e-6,
        prenorm: bool = True,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, epsilon=epsilon)
        self.mixer = GlobalAttention(
            dim,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            attn_drop=attn_drop,
            proj_drop=drop,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, epsilon=epsilon)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)
        self.prenorm = prenorm

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.prenorm:
            x = self.norm1(x + self.drop_path(self.mixer(x)))
            return self.norm2(x + self.drop_path(self.mlp(x)))
        x = x + self.drop_path(self.mixer(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def init_transformer_weights(layer: nn.Layer) -> None:
    """SVTR init: Linear weights ~ truncated normal(0.02), biases 0; LayerNorm scale 1, shift 0."""
    if isinstance(layer, nn.Linear):
        _trunc_normal(layer.weight)
        if layer.bias is not None:
            _zeros(layer.bias)
    elif isinstance(layer, nn.LayerNorm):
        _zeros(layer.bias)
        _ones(layer.weight)


class EncoderWithSVTR(nn.Layer):
    """SVTR neck on a [B, C, H, W] map; output [B, dims, H, W].

    `use_guide=True` detaches the input so the CTC branch does not train the backbone
    (PP-OCRv3/v4's guided training: the backbone learns from the attention branch).
    """

    def __init__(
        self,
        in_channels: int,
        dims: int = 64,
        depth: int = 2,
        hidden_dims: int = 120,
        use_guide: bool = False,
        num_heads: int = 8,
        qkv_bias: bool = True,
        mlp_ratio: float = 2.0,
        drop_rate: float = 0.1,
        attn_drop_rate: float = 0.1,
        drop_path: float = 0.0,
        kernel_size: Sequence[int] = (3, 3),
        qk_scale: float | None = None,
    ) -> None:
        super().__init__()
        kernel = list(kernel_size)
        if len(kernel) != 2:
            raise ConfigError(f"svtr neck: kernel_size needs 2 values [kh, kw], got {kernel_size}")
        pad = [kernel[0] // 2, kernel[1] // 2]
        reduced = in_channels // 8
        self.depth = depth
        self.use_guide = use_guide
        self.conv1 = ConvBNLayer(in_channels, reduced, kernel_size=kernel, padding=pad, act=nn.Swish)
        self.conv2 = ConvBNLayer(reduced, hidden_dims, kernel_size=1, act=nn.Swish)
        self.svtr_block = nn.LayerList(
            [
                Block(
                    hidden_dims,
                    num_heads,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    qk_scale=qk_scale,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=drop_path,
                    act_layer=nn.Swish,
                    epsilon=1e-5,
                    prenorm=False,
                )
                for _ in range(depth)
            ]
        )
        self.norm = nn.LayerNorm(hidden_dims, epsilon=1e-6)
        self.conv3 = ConvBNLayer(hidden_dims, in_channels, kernel_size=1, act=nn.Swish)
        self.conv4 = ConvBNLayer(2 * in_channels, reduced, kernel_size=kernel, padding=pad, act=nn.Swish)
        self.conv1x1 = ConvBNLayer(reduced, dims, kernel_size=1, act=nn.Swish)
        self.out_channels = dims
        self.apply(init_transformer_weights)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        shortcut = x.detach() if self.use_guide else x
        z = self.conv2(self.conv1(shortcut))
        _, channels, height, width = z.shape
        z = z.flatten(2).transpose([0, 2, 1])
        for block in self.svtr_block:
            z = block(z)
        z = self.norm(z)
        z = z.reshape([0, height, width, channels]).transpose([0, 3, 1, 2])
        z = self.conv3(z)
        z = paddle.concat([shortcut, z], axis=1)
        return self.conv1x1(self.conv4(z))
