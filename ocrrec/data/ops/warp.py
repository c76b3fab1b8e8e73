"""Moving-least-squares (similarity) image warping and the three TIA text distortions built on it.

Same maths and random draws as PaddleOCR's `text_image_aug` (distort / stretch / perspective), but
vectorised: the MLS solve runs on all grid nodes at once and the image is resampled with cv2.remap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

# PaddleOCR solves MLS only every `grid_size` pixels (plus the last row/column) and interpolates
# the displacement bilinearly in between; 100 px is its value and keeps outputs comparable.
DEFAULT_GRID_SIZE = 100


def grid_nodes(size: int, step: int) -> np.ndarray:
    """Node coordinates along one axis: multiples of `step` below `size`, plus `size - 1`."""
    nodes = list(range(0, size, step))
    if nodes[-1] != size - 1:
        nodes.append(size - 1)
    return np.asarray(nodes, dtype=np.float64)


def node_interpolation_matrix(size: int, step: int, n_nodes: int) -> np.ndarray:
    """(size, n_nodes) weights that spread node values over every pixel of one axis.

    A pixel in the cell starting at node m gets (1 - t) of node m and t of the next node, with
    t = offset / cell length; the last cell's length counts its end pixel (PaddleOCR's layout),
    so its fraction stays just below 1.
    """
    pixels = np.arange(size)
    lo = pixels // step
    start = lo * step
    last_cell = start + step >= size
    length = np.where(last_cell, size - start, step)
    frac = (pixels - start) / length
    hi = np.minimum(lo + 1, n_nodes - 1)
    weights = np.zeros((size, n_nodes), dtype=np.float64)
    weights[pixels, lo] += 1.0 - frac
    weights[pixels, hi] += frac
    return weights


def mls_similarity(points: np.ndarray, dst_pts: np.ndarray, src_pts: np.ndarray) -> np.ndarray:
    """Map `points` (M, 2; output-image x, y) to source positions by similarity MLS.

    Control point k moves from `src_pts[k]` to `dst_pts[k]`; the returned (M, 2) positions are
    where each output point samples the source. A point lying exactly on a control point maps to
    that control point's source position.
    """
    points = np.asarray(points, dtype=np.float64)
    p = np.asarray(dst_pts, dtype=np.float64)
    q = np.asarray(src_pts, dtype=np.float64)
    if len(p) < 2:
        return points.copy()
    dist2 = ((p[None, :, :] - points[:, None, :]) ** 2).sum(-1)  # (M, N)
    on_point = dist2 == 0.0
    weights = np.where(on_point, 0.0, 1.0 / np.where(on_point, 1.0, dist2))
    weight_sum = weights.sum(1, keepdims=True)
    # Complex numbers make the 2x2 similarity blocks a product: x + iy.
    pc = p[:, 0] + 1j * p[:, 1]
    qc = q[:, 0] + 1j * q[:, 1]
    vc = points[:, 0] + 1j * points[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_star = (weights * pc[None, :]).sum(1) / weight_sum[:, 0]
        q_star = (weights * qc[None, :]).sum(1) / weight_sum[:, 0]
        p_hat = pc[None, :] - p_star[:, None]  # (M, N)
        mu = (weights * np.abs(p_hat) ** 2).sum(1)
        v = vc - p_star
        mapped = q_star + (weights * qc[None, :] * np.conj(p_hat)).sum(1) * v / mu
    mapped = np.where(np.isfinite(mapped), mapped, q_star)
    rows = on_point.any(1)
    if rows.any():
        mapped[rows] = qc[on_point[rows].argmax(1)]
    return np.stack([mapped.real, mapped.imag], axis=1)


@lru_cache(maxsize=512)
def _grid_layout(dst_w: int, dst_h: int, grid_size: int):
    """Node coordinates (x, y) and the row/column spreading matrices for one output size."""
    xs = grid_nodes(dst_w, grid_size)
    ys = grid_nodes(dst_h, grid_size)
    gx, gy = np.meshgrid(xs, ys)
    nodes = np.stack([gx.ravel(), gy.ravel()], axis=1)
    rows = node_interpolation_matrix(dst_h, grid_size, len(ys)).astype(np.float32)
    cols = node_interpolation_matrix(dst_w, grid_size, len(xs)).astype(np.float32)
    for array in (nodes, rows, cols):
        array.flags.writeable = False
    return nodes, len(ys), len(xs), rows, cols


def warp_mls(
    image: np.ndarray,
    src_pts: Sequence[Sequence[float]] | np.ndarray,
    dst_pts: Sequence[Sequence[float]] | np.ndarray,
    dst_w: int,
    dst_h: int,
    trans_ratio: float = 1.0,
    grid_size: int = DEFAULT_GRID_SIZE,
) -> np.ndarray:
    """Warp `image` so that each `src_pts[k]` lands on `dst_pts[k]`; output is dst_h x dst_w.

    The MLS displacement is solved on a `grid_size` node grid and interpolated bilinearly;
    source pixels are sampled bilinearly with coordinates clamped to the image (edge pixels
    repeat). Works for HxW and HxWxC images of any dtype cv2.remap accepts.
    """
    src_h, src_w = image.shape[:2]
    nodes, n_rows, n_cols, rows, cols = _grid_layout(int(dst_w), int(dst_h), int(grid_size))
    mapped = mls_similarity(nodes, np.asarray(dst_pts, np.float64), np.asarray(src_pts, np.float64))
    delta = (mapped - nodes).astype(np.float32) * np.float32(trans_ratio)
    map_x = rows @ delta[:, 0].reshape(n_rows, n_cols) @ cols.T
    map_y = rows @ delta[:, 1].reshape(n_rows, n_cols) @ cols.T
    map_x += np.arange(dst_w, dtype=np.float32)[None, :]
    map_y += np.arange(dst_h, dtype=np.float32)[:, None]
    np.clip(map_x, 0, src_w - 1, out=map_x)
    np.clip(map_y, 0, src_h - 1, out=map_y)
    out = cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if image.ndim == 3 and out.ndim == 2:  # cv2 drops a single channel axis
        out = out[:, :, None]
    return out


def tia_distort(image: np.ndarray, segment: int = 4) -> np.ndarray:
    """Jitter the 4 corners and `segment - 1` top/bottom points per cut independently."""
    h, w = image.shape[:2]
    cut = w // segment
    thresh = cut // 3
    half = thresh * 0.5
    rand = np.random.randint
    src = [[0, 0], [w, 0], [w, h], [0, h]]
    dst = [
        [rand(thresh), rand(thresh)],
        [w - rand(thresh), rand(thresh)],
        [w - rand(thresh), h - rand(thresh)],
        [rand(thresh), h - rand(thresh)],
    ]
    for idx in range(1, segment):
        x = cut * idx
        src += [[x, 0], [x, h]]
        top = [x + rand(thresh) - half, rand(thresh) - half]
        bottom = [x + rand(thresh) - half, h + rand(thresh) - half]
        dst += [top, bottom]
    return warp_mls(image, src, dst, w, h)


def tia_stretch(image: np.ndarray, segment: int = 4) -> np.ndarray:
    """Shift each of the `segment - 1` vertical cut lines left or right; corners stay put."""
    h, w = image.shape[:2]
    cut = w // segment
    thresh = cut * 4 // 5
    half = thresh * 0.5
    corners = [[0, 0], [w, 0], [w, h], [0, h]]
    src = [list(c) for c in corners]
    dst = [list(c) for c in corners]
    for idx in range(1, segment):
        x = cut * idx
        move = np.random.randint(thresh) - half
        src += [[x, 0], [x, h]]
        dst += [[x + move, 0], [x + move, h]]
    return warp_mls(image, src, dst, w, h)


def tia_perspective(image: np.ndarray) -> np.ndarray:
    """Move the corners vertically by up to half the height (a keystone-like squeeze)."""
    h, w = image.shape[:2]
    thresh = h // 2
    rand = np.random.randint
    src = [[0, 0], [w, 0], [w, h], [0, h]]
    dst = [[0, rand(thresh)], [w, rand(thresh)], [w, h - rand(thresh)], [0, h - rand(thresh)]]
    return warp_mls(image, src, dst, w, h)
