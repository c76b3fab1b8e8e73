"""Resize + normalise ops for recognition: RecResizeImg, SVTRRecResizeImg, SARRecResizeImg.

`resize_norm_img` is PaddleOCR's: keep the aspect ratio, resize to the target
height, scale to [-1, 1], right-pad with zeros to the target width, and report
`valid_ratio` (the unpadded fraction). The uint8 -> float step uses a 256-entry
table computed with PaddleOCR's exact float32 arithmetic, so values match
bit for bit while skipping three full-image float passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from ocrrec.data.registry import DATA_OPS
from ocrrec.errors import ConfigError

# ((v / 255) - 0.5) / 0.5 in float32, for v = 0..255
_NORM_LUT = ((np.arange(256, dtype=np.float32) / 255) - np.float32(0.5)) / np.float32(0.5)


def _to_unit_range(img: np.ndarray) -> np.ndarray:
    """uint8 (or float) image -> float32 in [-1, 1], same shape."""
    if img.dtype == np.uint8:
        return cv2.LUT(img, _NORM_LUT) if img.ndim == 2 or img.shape[2] <= 4 else _NORM_LUT[img]
    out = img.astype(np.float32) / 255
    out -= 0.5
    out /= 0.5
    return out


def _channels_like(img: np.ndarray, channels: int) -> np.ndarray:
    """Make `img` HxW (channels 1) or HxWx3; a 3-channel image for a 1-channel model turns gray."""
    if channels == 1:
        if img.ndim == 3 and img.shape[2] == 3:
            return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if img.ndim == 3 and img.shape[2] == 1:
            return img[:, :, 0]
        return img
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img


def _shape3(image_shape: Sequence[int], where: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: image_shape must be [C, H, W], got {image_shape!r}") from None
    if c not in (1, 3) or h < 1 or w < 1:
        raise ConfigError(f"{where}: image_shape must be [C, H, W] with C 1 or 3, got {list(image_shape)}")
    return c, h, w


def resized_width(h: int, w: int, target_h: int, max_w: int) -> int:
    """Width after an aspect-keeping resize to `target_h`, capped at `max_w` (PaddleOCR's rule)."""
    ratio = w / float(h)
    return max_w if math.ceil(target_h * ratio) > max_w else max(1, int(math.ceil(target_h * ratio)))


def _pad_into(resized: np.ndarray, channels: int, target_h: int, target_w: int, fill: float = 0.0) -> np.ndarray:
    norm = _to_unit_range(resized)
    out = np.full((channels, target_h, target_w), fill, dtype=np.float32)
    width = norm.shape[1]
    if norm.ndim == 2:
        out[0, :, :width] = norm
    else:
        out[:, :, :width] = norm.transpose((2, 0, 1))
    return out


def resize_norm_img(
    img: np.ndarray,
    image_shape: Sequence[int],
    padding: bool = True,
    interpolation: int = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, float]:
    """(float32 CxHxW in [-1, 1], valid_ratio) as PaddleOCR's resize_norm_img."""
    c, target_h, target_w = (int(v) for v in image_shape)
    img = _channels_like(img, c)
    h, w = img.shape[:2]
    if not padding:
        resized = cv2.resize(img, (target_w, target_h), interpolation=interpolation)
        width = target_w
    else:
        width = resized_width(h, w, target_h, target_w)
        resized = cv2.resize(img, (width, target_h))
    return _pad_into(resized, c, target_h, target_w), min(1.0, float(width / target_w))


def resize_norm_img_dynamic(img: np.ndarray, image_shape: Sequence[int]) -> tuple[np.ndarray, float]:
    """PaddleOCR's `resize_norm_img_chinese`: the width grows to fit wide images instead of squeezing them."""
    c, target_h, target_w = (int(v) for v in image_shape)
    img = _channels_like(img, c)
    h, w = img.shape[:2]
    max_wh_ratio = max(target_w / target_h, w / h)
    canvas_w = int(target_h * max_wh_ratio)
    width = resized_width(h, w, target_h, canvas_w)
    resized = cv2.resize(img, (width, target_h))
    return _pad_into(resized, c, target_h, canvas_w), min(1.0, float(width / canvas_w))


@DATA_OPS.register()
class RecResizeImg:
    """Resize + normalise to `image_shape` [C, H, W]; sets `valid_ratio` (float32).

    `eval_mode`, or `infer_mode` with a dictionary, uses the dynamic-width variant
    (PaddleOCR's rule). `padding: False` stretches to the full width.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        infer_mode: bool = False,
        eval_mode: bool = False,
        character_dict_path: str | None = "./ppocr/utils/ppocr_keys_v1.txt",
        padding: bool = True,
        **kwargs: Any,
    ) -> None:
        self.image_shape = _shape3(image_shape, "RecResizeImg")
        self.infer_mode = bool(infer_mode)
        self.eval_mode = bool(eval_mode)
        self.character_dict_path = character_dict_path
        self.padding = bool(padding)

    def __call__(self, data: dict) -> dict:
        img = data["image"]
        if self.eval_mode or (self.infer_mode and self.character_dict_path is not None):
            norm, valid_ratio = resize_norm_img_dynamic(img, self.image_shape)
        else:
            norm, valid_ratio = resize_norm_img(img, self.image_shape, self.padding)
        data["image"] = norm
        data["valid_ratio"] = np.float32(valid_ratio)
        return data


@DATA_OPS.register()
class SVTRRecResizeImg:
    """Resize + normalise to `image_shape` (SVTR configs); `padding: False` stretches."""

    def __init__(self, image_shape: Sequence[int], padding: bool = True, **kwargs: Any) -> None:
        self.image_shape = _shape3(image_shape, "SVTRRecResizeImg")
        self.padding = bool(padding)

    def __call__(self, data: dict) -> dict:
        norm, valid_ratio = resize_norm_img(data["image"], self.image_shape, self.padding)
        data["image"] = norm
        data["valid_ratio"] = np.float32(valid_ratio)
        return data


def resize_norm_img_sar(
    img: np.ndarray, image_shape: Sequence[int], width_downsample_ratio: float = 0.25
) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...], float]:
    """PaddleOCR's SAR resize: width rounded to a multiple of 1/ratio, clamped to [min, max], pad -1."""
    c, target_h, min_w, max_w = image_shape
    c, target_h = int(c), int(target_h)
    img = _channels_like(img, c)
    h, w = img.shape[:2]
    divisor = int(1 / width_downsample_ratio)
    width = math.ceil(target_h * (w / float(h)))
    if width % divisor != 0:
        width = round(width / divisor) * divisor
    valid_ratio = 1.0
    if min_w is not None:
        width = max(int(min_w), width)
    if max_w is not None:
        valid_ratio = min(1.0, 1.0 * width / int(max_w))
        width = min(int(max_w), width)
    width = max(1, width)
    resized = cv2.resize(img, (width, target_h))
    out = _pad_into(resized, c, target_h, int(max_w), fill=-1.0)
    return out, (c, target_h, width), out.shape, valid_ratio


@DATA_OPS.register()
class SARRecResizeImg:
    """SAR configs: image_shape [C, H, W_min, W_max]; sets resized_shape, pad_shape, valid_ratio."""

    def __init__(self, image_shape: Sequence[int], width_downsample_ratio: float = 0.25, **kwargs: Any) -> None:
        if len(image_shape) != 4:
            raise ConfigError(f"SARRecResizeImg: image_shape must be [C, H, W_min, W_max], got {image_shape!r}")
        self.image_shape = list(image_shape)
        self.width_downsample_ratio = float(width_downsample_ratio)

    def __call__(self, data: dict) -> dict:
        norm, resized_shape, pad_shape, valid_ratio = resize_norm_img_sar(
            data["image"], self.image_shape, self.width_downsample_ratio
        )
        data["image"] = norm
        data["resized_shape"] = np.array(resized_shape, dtype=np.int64)
        data["pad_shape"] = np.array(pad_shape, dtype=np.int64)
        data["valid_ratio"] = np.float32(valid_ratio)
        return data
