"""Images/s of RecAug (and of the TIA warp alone) with the vectorised MLS warp vs a loop reference.

The reference below solves MLS node by node and resamples cell by cell in Python loops, the way
the original Text-Image-Augmentation code (and PaddleOCR's copy of it) does; it is written here
only to measure against. Run:

    PYTHONPATH=. python bench/augment_speed.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import numpy as np

from ocrrec.data.ops import warp
from ocrrec.data.ops.augment import RecAug


def loop_warp_mls(image, src_pts, dst_pts, dst_w, dst_h, trans_ratio=1.0, grid_size=100):
    """Reference MLS warp with per-node and per-cell Python loops (float output truncated)."""
    p = [np.asarray(pt, dtype=np.float64) for pt in dst_pts]
    q = [np.asarray(pt, dtype=np.float64) for pt in src_pts]
    xs = warp.grid_nodes(dst_w, grid_size).astype(int)
    ys = warp.grid_nodes(dst_h, grid_size).astype(int)
    dx = np.zeros((dst_h, dst_w))
    dy = np.zeros((dst_h, dst_w))
    for x in xs:
        for y in ys:
            v = np.array([x, y], dtype=np.float64)
            hit = next((k for k in range(len(p)) if p[k][0] == x and p[k][1] == y), None)
            if hit is not None:
                mapped = q[hit]
            else:
                weights = [1.0 / float(((v - pk) ** 2).sum()) for pk in p]
                total = sum(weights)
                p_star = sum(wk * pk for wk, pk in zip(weights, p, strict=True)) / total
                q_star = sum(wk * qk for wk, qk in zip(weights, q, strict=True)) / total
                mu = sum(wk * float(((pk - p_star) ** 2).sum()) for wk, pk in zip(weights, p, strict=True))
                rel = v - p_star
                rel_perp = np.array([-rel[1], rel[0]])
                mapped = q_star.copy()
                for wk, pk, qk in zip(weights, p, q, strict=True):
                    ph = pk - p_star
                    ph_perp = np.array([-ph[1], ph[0]])
                    mapped[0] += wk / mu * ((ph @ rel) * qk[0] - (ph_perp @ rel) * qk[1])
                    mapped[1] += wk / mu * (-(ph @ rel_perp) * qk[0] + (ph_perp @ rel_perp) * qk[1])
            dx[y, x] = mapped[0] - x
            dy[y, x] = mapped[1] - y
    src_h, src_w = image.shape[:2]
    out = np.zeros(image.shape, dtype=np.float32)
    for y0 in range(0, dst_h, grid_size):
        for x0 in range(0, dst_w, grid_size):
            y1 = y0 + grid_size if y0 + grid_size < dst_h else dst_h - 1
            x1 = x0 + grid_size if x0 + grid_size < dst_w else dst_w - 1
            h = grid_size if y0 + grid_size < dst_h else dst_h - y0
            w = grid_size if x0 + grid_size < dst_w else dst_w - x0
            ty = (np.arange(h) / h)[:, None]
            tx = (np.arange(w) / w)[None, :]

            def lerp(field, ty=ty, tx=tx, y0=y0, y1=y1, x0=x0, x1=x1):
                top = field[y0, x0] * (1 - tx) + field[y0, x1] * tx
                bottom = field[y1, x0] * (1 - tx) + field[y1, x1] * tx
                return top * (1 - ty) + bottom * ty

            sx = np.clip(x0 + np.arange(w)[None, :] + lerp(dx) * trans_ratio, 0, src_w - 1)
            sy = np.clip(y0 + np.arange(h)[:, None] + lerp(dy) * trans_ratio, 0, src_h - 1)
            ix0, iy0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
            ix1, iy1 = np.ceil(sx).astype(int), np.ceil(sy).astype(int)
            fx, fy = (sx - ix0)[..., None], (sy - iy0)[..., None]
            top = image[iy0, ix0] * (1 - fx) + image[iy0, ix1] * fx
            bottom = image[iy1, ix0] * (1 - fx) + image[iy1, ix1] * fx
            out[y0 : y0 + h, x0 : x0 + w] = top * (1 - fy) + bottom * fy
    return np.clip(out, 0, 255).astype(np.uint8)


def word_image(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A light background with dark vertical strokes: a cheap stand-in for a word crop."""
    img = np.full((h, w, 3), 220, np.uint8)
    for x in rng.integers(2, w - 4, size=w // 6):
        img[h // 5 : h - h // 5, x : x + 2] = rng.integers(0, 80)
    return img


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    fast_warp = warp.warp_mls
    print(f"{'case':34s} {'vectorised':>12s} {'loop ref':>12s} {'speed-up':>9s}")
    for h, w in [(32, 100), (48, 320)]:
        image = word_image(h, w, rng)
        for label, make in [
            ("TIA distort+stretch+persp.", lambda: RecAug(tia_prob=1.0, crop_prob=0, reverse_prob=0, noise_prob=0,
                                                           jitter_prob=0, blur_prob=0, hsv_aug_prob=0)),
            ("RecAug defaults", RecAug),
        ]:
            op = make()
            results = []
            for impl in (fast_warp, loop_warp_mls):
                warp.warp_mls = impl
                random.seed(0)
                np.random.seed(0)
                results.append(rate(lambda op=op, image=image: op({"image": image}), args.seconds))
            warp.warp_mls = fast_warp
            print(f"{label + f' {w}x{h}':34s} {results[0]:10.0f}/s {results[1]:10.0f}/s {results[0] / results[1]:8.1f}x")


if __name__ == "__main__":
    main()
