"""Training-time image augmentation ops with PaddleOCR's names, arguments and defaults.

`RecAug` (TIA warps + `BaseDataAugmentation`) and `RecConAug` (horizontal concatenation of
samples). Like PaddleOCR they draw from Python's and NumPy's global RNGs in the same order, so
seeding both reproduces a run. Images stay uint8 and keep their channel layout.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from ocrrec.data.ops.warp import tia_distort, tia_perspective, tia_stretch
from ocrrec.data.registry import DATA_OPS

# Geometric ops (TIA, crop) only run on images at least this many pixels high and wide.
MIN_SIDE_FOR_GEOMETRY = 20


def _sign() -> int:
    return 1 if random.random() > 0.5000001 else -1


def hsv_aug(image: np.ndarray) -> np.ndarray:
    """Scale the HSV value channel by 1 +/- up to 0.1 % (PaddleOCR's tiny brightness nudge).

    The scaled channel is truncated back to uint8, so the change is at most 1 level plus the
    rounding of the uint8 HSV round trip. Images that are not 3-channel pass through.
    """
    delta = 0.001 * random.random() * _sign()
    if image.ndim != 3 or image.shape[2] != 3:
        return image
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    value = hsv[:, :, 2].astype(np.float64) * (1.0 + delta)
    hsv[:, :, 2] = np.clip(value, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def jitter(image: np.ndarray) -> np.ndarray:
    """Shift the image down-right by up to 1 % of its smaller side, smearing the top-left edge.

    Pixel (y, x) takes the source pixel (y - k, x - k) with k = min(shift, y, x); images of
    10 px or less on a side are left alone.
    """
    rows, cols = image.shape[:2]
    if rows <= 10 or cols <= 10:
        return image
    steps = int(random.random() * min(rows, cols) * 0.01)
    if steps <= 1:
        return image
    shift = steps - 1
    ys = np.arange(rows)
    xs = np.arange(cols)
    k = np.minimum(shift, np.minimum.outer(ys, xs))
    return image[ys[:, None] - k, xs[None, :] - k]


def add_gaussian_noise(image: np.ndarray, mean: float = 0.0, var: float = 0.1) -> np.ndarray:
    """Add half of N(mean, var) noise per pixel and channel; truncate back to uint8."""
    noisy = np.random.normal(mean, var**0.5, image.shape)
    noisy *= 0.5
    noisy += image
    np.clip(noisy, 0, 255, out=noisy)
    return noisy.astype(np.uint8)


def random_crop_rows(image: np.ndarray) -> np.ndarray:
    """Cut 1-8 rows (never all of them) off either the top or the bottom."""
    h = image.shape[0]
    rows = min(random.randint(1, 8), h - 1)
    from_top = random.randint(0, 1)
    if rows <= 0:
        return image
    return image[rows:].copy() if from_top else image[: h - rows].copy()


_BLUR_KERNEL = cv2.getGaussianKernel(ksize=5, sigma=1, ktype=cv2.CV_32F)


def gaussian_blur(image: np.ndarray) -> np.ndarray:
    """5-tap separable Gaussian blur, sigma 1."""
    out = cv2.sepFilter2D(image, -1, _BLUR_KERNEL, _BLUR_KERNEL)
    if image.ndim == 3 and out.ndim == 2:
        out = out[:, :, None]
    return out


def _check_image(data: dict[str, Any], op: str) -> np.ndarray:
    image = data.get("image")
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        shape = getattr(image, "shape", type(image).__name__)
        raise ValueError(
            f"{op}: data['image'] must be a decoded HxW or HxWxC uint8 image (got {shape}); "
            "put DecodeImage before it in the transforms"
        )
    return image


@DATA_OPS.register()
class BaseDataAugmentation:
    """Random row crop, blur, HSV nudge, jitter, Gaussian noise and colour reverse.

    Each step runs with its own probability (0.4 by default), in that order.
    """

    def __init__(
        self,
        crop_prob: float = 0.4,
        reverse_prob: float = 0.4,
        noise_prob: float = 0.4,
        jitter_prob: float = 0.4,
        blur_prob: float = 0.4,
        hsv_aug_prob: float = 0.4,
        **kwargs: Any,
    ) -> None:
        self.crop_prob = crop_prob
        self.reverse_prob = reverse_prob
        self.noise_prob = noise_prob
        self.jitter_prob = jitter_prob
        self.blur_prob = blur_prob
        self.hsv_aug_prob = hsv_aug_prob

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        image = _check_image(data, type(self).__name__)
        h, w = image.shape[:2]
        if random.random() <= self.crop_prob and h >= MIN_SIDE_FOR_GEOMETRY and w >= MIN_SIDE_FOR_GEOMETRY:
            image = random_crop_rows(image)
        if random.random() <= self.blur_prob:
            image = gaussian_blur(image)
        if random.random() <= self.hsv_aug_prob:
            image = hsv_aug(image)
        if random.random() <= self.jitter_prob:
            image = jitter(image)
        if random.random() <= self.noise_prob:
            image = add_gaussian_noise(image)
        if random.random() <= self.reverse_prob:
            image = 255 - image
        data["image"] = image
        return data


@DATA_OPS.register()
class RecAug:
    """PaddleOCR's default recognition augmentation.

    With probability `tia_prob` (and if the image is at least 20x20) the TIA distort, stretch
    and perspective warps run in turn, each with 3-6 random segments; then
    `BaseDataAugmentation` with the remaining probabilities.
    """

    def __init__(
        self,
        tia_prob: float = 0.4,
        crop_prob: float = 0.4,
        reverse_prob: float = 0.4,
        noise_prob: float = 0.4,
        jitter_prob: float = 0.4,
        blur_prob: float = 0.4,
        hsv_aug_prob: float = 0.4,
        **kwargs: Any,
    ) -> None:
        self.tia_prob = tia_prob
        self.bda = BaseDataAugmentation(crop_prob, reverse_prob, noise_prob, jitter_prob, blur_prob, hsv_aug_prob)

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        image = _check_image(data, type(self).__name__)
        h, w = image.shape[:2]
        if random.random() <= self.tia_prob and h >= MIN_SIDE_FOR_GEOMETRY and w >= MIN_SIDE_FOR_GEOMETRY:
            image = tia_distort(image, random.randint(3, 6))
            image = tia_stretch(image, random.randint(3, 6))
            image = tia_perspective(image)
        data["image"] = image
        return self.bda(data)


def _as_channels(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Give `image` the channel layout of `like` (grey <-> BGR) so the two can be concatenated."""
    want = 1 if like.ndim == 2 else like.shape[2]
    have = 1 if image.ndim == 2 else image.shape[2]
    if want == have:
        return image if image.ndim == like.ndim else image.reshape(image.shape[:2] + like.shape[2:])
    grey = image if have == 1 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if have == 3 else cv2.COLOR_BGRA2GRAY)
    grey = grey.reshape(grey.shape[:2])
    if want == 1:
        return grey if like.ndim == 2 else grey[:, :, None]
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR if want == 3 else cv2.COLOR_GRAY2BGRA)


@DATA_OPS.register()
class RecConAug:
    """Append other samples (`data["ext_data"]`) to the right of this one, as PaddleOCR does.

    With probability `prob`, each extra sample in turn is resized to the target height
    `image_shape[0]` and concatenated, with its label appended, as long as the combined label
    stays within `max_text_length` and the combined width/height ratio within
    image_shape[1] / image_shape[0]; the first sample that does not fit stops the merging.
    `image_shape` is [H, W, C]. The dataset fills `ext_data` (a list of dicts with decoded
    "image" and "label"); it is removed from the sample either way (PaddleOCR leaves it in
    when the probability draw skips the merge; KeepKeys drops it anyway).
    """

    def __init__(
        self,
        prob: float = 0.5,
        image_shape: Sequence[int] = (32, 320, 3),
        max_text_length: int = 25,
        ext_data_num: int = 1,
        **kwargs: Any,
    ) -> None:
        if len(image_shape) < 2 or image_shape[0] <= 0 or image_shape[1] <= 0:
            raise ValueError(f"RecConAug: image_shape must be [H, W, C] with positive sizes, got {image_shape}")
        self.prob = prob
        self.image_shape = list(image_shape)
        self.max_text_length = int(max_text_length)
        self.ext_data_num = int(ext_data_num)
        self.max_wh_ratio = image_shape[1] / image_shape[0]

    def _resize_to_height(self, image: np.ndarray) -> np.ndarray:
        target_h = int(self.image_shape[0])
        target_w = max(1, round(image.shape[1] / image.shape[0] * target_h))
        out = cv2.resize(image, (target_w, target_h))
        if image.ndim == 3 and out.ndim == 2:
            out = out[:, :, None]
        return out

    def merge(self, data: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """Concatenate `extra`'s image to the right of `data`'s (both at the target height)."""
        left = self._resize_to_height(data["image"])
        right = self._resize_to_height(_as_channels(extra["image"], data["image"]))
        data["image"] = np.concatenate([left, right], axis=1)
        data["label"] = data["label"] + extra["label"]
        return data

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        extras = data.pop("ext_data", None) or []
        if random.random() > self.prob:
            return data
        _check_image(data, type(self).__name__)
        for extra in extras:
            if len(data["label"]) + len(extra["label"]) > self.max_text_length:
                break
            image, other = data["image"], extra["image"]
            ratio = image.shape[1] / image.shape[0] + other.shape[1] / other.shape[0]
            if ratio > self.max_wh_ratio:
                break
            data = self.merge(data, extra)
        return data
