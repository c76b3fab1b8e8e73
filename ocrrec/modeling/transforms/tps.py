"""TPS (thin-plate-spline) rectification, the `Transform` of PaddleOCR's STARNet configs
(`rec_*_tps_bilstm_ctc.yml`): a small CNN predicts F fiducial points, the image is resampled so
that they map onto a straight two-line layout. Names follow PaddleOCR (`loc_net.loc_conv0`, ...).
"""

from __future__ import annotations

import math

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import ParamAttr, nn

from ocrrec.errors import ConfigError, UserError
from ocrrec.modeling.registry import TRANSFORMS


class ConvBNReLU(nn.Layer):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2D(in_channels, out_channels, 3, padding=1, bias_attr=False)
        self.bn = nn.BatchNorm2D(out_channels)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.relu(self.bn(self.conv(x)))


def initial_fiducials(num_fiducial: int) -> np.ndarray:
    """Start points [F, 2]: a top row rising from y=0 to y=-1 and a bottom row from 1 to 0 (RARE, Fig. 6a)."""
    half = num_fiducial // 2
    xs = np.linspace(-1.0, 1.0, half)
    top = np.stack([xs, np.linspace(0.0, -1.0, half)], axis=1)
    bottom = np.stack([xs, np.linspace(1.0, 0.0, half)], axis=1)
    return np.concatenate([top, bottom], axis=0)


class LocalizationNetwork(nn.Layer):
    """Four conv-BN-ReLU blocks (max-pools between, global average at the end) → fc1 → ReLU → fc2
    giving F (x, y) points. fc2 starts at zero weight with the initial fiducials as bias."""

    def __init__(self, in_channels: int, num_fiducial: int, loc_lr: float, model_name: str) -> None:
        super().__init__()
        widths, fc_dim = ([64, 128, 256, 512], 256) if model_name == "large" else ([16, 32, 64, 128], 64)
        self.num_fiducial = num_fiducial
        self.block_list: list[nn.Layer] = []
        for index, width in enumerate(widths):
            conv = self.add_sublayer(f"loc_conv{index}", ConvBNReLU(in_channels, width))
            last = index == len(widths) - 1
            pool = nn.AdaptiveAvgPool2D(1) if last else nn.MaxPool2D(kernel_size=2, stride=2, padding=0)
            self.block_list += [conv, pool]
            in_channels = width
        bound = 1.0 / math.sqrt(float(widths[-1]))
        self.fc1 = nn.Linear(
            in_channels,
            fc_dim,
            weight_attr=ParamAttr(learning_rate=loc_lr, initializer=nn.initializer.Uniform(-bound, bound)),
        )
        self.fc2 = nn.Linear(
            fc_dim,
            num_fiducial * 2,
            weight_attr=ParamAttr(
                learning_rate=loc_lr,
                initializer=nn.initializer.Assign(np.zeros([fc_dim, num_fiducial * 2], dtype="float32")),
            ),
            bias_attr=ParamAttr(
                learning_rate=loc_lr,
                initializer=nn.initializer.Assign(
                    initial_fiducials(num_fiducial).reshape(-1).astype("float32")
                ),
            ),
        )
        self.out_channels = num_fiducial * 2

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        for block in self.block_list:
            x = block(x)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x).reshape([-1, self.num_fiducial, 2])


def _tps_kernel(r: np.ndarray) -> np.ndarray:
    return np.square(r) * np.log(r)


def tps_matrices(
    num_fiducial: int, height: int, width: int, eps: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """(inverse of the TPS system matrix [F+3, F+3], lifted output grid [H*W, F+3]) in float64.

    Target points: F/2 evenly spaced on y=-1 and on y=1. Output grid: pixel centres in [-1, 1].
    """
    half = num_fiducial // 2
    xs = np.linspace(-1.0, 1.0, half)
    target = np.concatenate([np.stack([xs, -np.ones(half)], 1), np.stack([xs, np.ones(half)], 1)], axis=0)
    pairwise = np.linalg.norm(target[None, :, :] - target[:, None, :], axis=2) + np.eye(num_fiducial)
    system = np.zeros([num_fiducial + 3, num_fiducial + 3])
    system[:num_fiducial, 0] = 1.0
    system[:num_fiducial, 1:3] = target
    system[:num_fiducial, 3:] = _tps_kernel(pairwise)
    system[num_fiducial : num_fiducial + 2, 3:] = target.T
    system[num_fiducial + 2, 3:] = 1.0
    grid_x = (np.arange(-width, width, 2, dtype=np.float64) + 1.0) / width
    grid_y = (np.arange(-height, height, 2, dtype=np.float64) + 1.0) / height
    gx, gy = np.meshgrid(grid_x, grid_y)
    points = np.stack([gx, gy], axis=2).reshape(-1, 2)
    distance = np.linalg.norm(points[:, None, :] - target[None, :, :], axis=2)
    lifted = np.concatenate(
        [np.ones([len(points), 1]), points, np.square(distance) * np.log(distance + eps)], 1
    )
    return np.linalg.inv(system), lifted


class GridGenerator(nn.Layer):
    """Sampling grid [B, H*W, 2] from predicted fiducials. `fc` (frozen at zero, learning rate 0)
    supplies the three affine rows PaddleOCR appends; it is kept for checkpoint compatibility."""

    def __init__(self, in_channels: int, num_fiducial: int) -> None:
        super().__init__()
        self.num_fiducial = num_fiducial
        zero = nn.initializer.Constant(0.0)
        self.fc = nn.Linear(
            in_channels,
            6,
            weight_attr=ParamAttr(learning_rate=0.0, initializer=zero),
            bias_attr=ParamAttr(learning_rate=0.0, initializer=zero),
        )
        # numpy, not tensors: a tensor made while tracing for export must not leak into eager runs
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def forward(self, fiducials: paddle.Tensor, height: int, width: int) -> paddle.Tensor:
        if (height, width) not in self._cache:
            inverse, lifted = tps_matrices(self.num_fiducial, height, width)
            self._cache[(height, width)] = (inverse.astype("float32"), lifted.astype("float32"))
        inverse, lifted = (paddle.to_tensor(m) for m in self._cache[(height, width)])
        affine_rows = self.fc(fiducials.reshape([fiducials.shape[0], -1])).reshape([-1, 3, 2]).detach()
        transform = inverse @ paddle.concat([fiducials, affine_rows], axis=1)
        return lifted @ transform


@TRANSFORMS.register()
class TPS(nn.Layer):
    """Thin-plate-spline rectification with `num_fiducial` points (even); `loc_lr` scales the
    localisation network's learning rate; `model_name` small/large sizes it. Needs a fixed
    input size (also when exported), as in PaddleOCR."""

    def __init__(
        self, in_channels: int = 3, num_fiducial: int = 20, loc_lr: float = 0.1, model_name: str = "small"
    ) -> None:
        super().__init__()
        if num_fiducial < 4 or num_fiducial % 2:
            raise ConfigError(f"TPS: num_fiducial must be an even number >= 4, got {num_fiducial}")
        if model_name not in ("small", "large"):
            raise ConfigError(f"TPS: model_name must be `small` or `large`, got `{model_name}`")
        self.loc_net = LocalizationNetwork(in_channels, num_fiducial, loc_lr, model_name)
        self.grid_generator = GridGenerator(self.loc_net.out_channels, num_fiducial)
        self.out_channels = in_channels

    def forward(self, image: paddle.Tensor) -> paddle.Tensor:
        height, width = image.shape[2], image.shape[3]
        if not (isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0):
            raise UserError(
                "TPS needs a fixed input size, got a variable height/width",
                "export TPS models with the training image_shape (fixed width)",
            )
        grid = self.grid_generator(self.loc_net(image), height, width).reshape([-1, height, width, 2])
        if image.stop_gradient and not grid.stop_gradient:
            # Paddle's grid_sample backward crashes (CPU segfault) when the image has no gradient:
            # give it one on a detached copy, leaving the caller's tensor alone.
            image = image.detach()
            image.stop_gradient = False
        if grid.dtype != paddle.float32:  # grid_sample has no float16 kernel: run it in float32
            return F.grid_sample(image.astype("float32"), grid.astype("float32")).astype(image.dtype)
        return F.grid_sample(image, grid)
