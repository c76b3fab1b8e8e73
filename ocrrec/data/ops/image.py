"""Image decoding and generic ops: DecodeImage, NormalizeImage, ToCHWImage, KeepKeys.

Images stay uint8 numpy arrays (HxWx3, BGR unless told otherwise) until the
final resize-normalise op turns them into float32 CHW.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ocrrec.data.registry import DATA_OPS
from ocrrec.errors import ConfigError

IMG_MODES = ("BGR", "RGB", "GRAY")


def decode_image_bytes(raw: Any, flags: int = cv2.IMREAD_COLOR) -> np.ndarray | None:
    """cv2.imdecode of encoded bytes; None when empty or not an image."""
    if raw is None:
        return None
    if isinstance(raw, np.ndarray):
        buf = raw.reshape(-1).view(np.uint8) if raw.dtype != np.uint8 else raw.reshape(-1)
    else:
        buf = np.frombuffer(raw, dtype=np.uint8)
    if buf.size == 0:
        return None
    img = cv2.imdecode(buf, flags)
    if img is None or img.size == 0:
        return None
    return img


@DATA_OPS.register()
class DecodeImage:
    """Encoded bytes -> uint8 image. `img_mode`: BGR (default of the rec configs), RGB or GRAY.

    GRAY decodes to one channel and replicates it to three (HxWx3), which is
    what PaddleOCR's GRAY branch intends. Returns None (sample dropped and
    replaced) when the bytes do not decode.
    """

    def __init__(
        self, img_mode: str = "RGB", channel_first: bool = False, ignore_orientation: bool = False, **kwargs: Any
    ) -> None:
        if img_mode not in IMG_MODES:
            raise ConfigError(f"DecodeImage.img_mode must be one of {', '.join(IMG_MODES)}, got {img_mode!r}")
        self.img_mode = img_mode
        self.channel_first = bool(channel_first)
        self.ignore_orientation = bool(ignore_orientation)

    def from_array(self, img: np.ndarray) -> np.ndarray:
        """The same conversion for an image already decoded as BGR (inference reads files itself)."""
        if self.img_mode == "GRAY":
            img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        elif self.img_mode == "RGB":
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        if self.channel_first:
            img = np.ascontiguousarray(img.transpose((2, 0, 1)))
        return img

    def __call__(self, data: dict) -> dict | None:
        flags = cv2.IMREAD_GRAYSCALE if self.img_mode == "GRAY" else cv2.IMREAD_COLOR
        if self.ignore_orientation:
            flags |= cv2.IMREAD_IGNORE_ORIENTATION
        img = decode_image_bytes(data["image"], flags)
        if img is None:
            return None
        if self.img_mode == "GRAY":
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif self.img_mode == "RGB":
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        if self.channel_first:
            img = np.ascontiguousarray(img.transpose((2, 0, 1)))
        data["image"] = img
        return data


@DATA_OPS.register()
class NormalizeImage:
    """(img * scale - mean) / std as float32; `order` chw or hwc says where channels are."""

    def __init__(
        self,
        scale: float | str | None = None,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        order: str = "chw",
        **kwargs: Any,
    ) -> None:
        if isinstance(scale, str):
            scale = _parse_fraction(scale)
        self.scale = np.float32(scale if scale is not None else 1.0 / 255.0)
        mean = mean if mean is not None else [0.485, 0.456, 0.406]
        std = std if std is not None else [0.229, 0.224, 0.225]
        shape = (3, 1, 1) if order == "chw" else (1, 1, 3)
        self.mean = np.array(mean, dtype=np.float32).reshape(shape)
        self.std = np.array(std, dtype=np.float32).reshape(shape)

    def __call__(self, data: dict) -> dict:
        img = np.asarray(data["image"])
        data["image"] = (img.astype(np.float32) * self.scale - self.mean) / self.std
        return data


def _parse_fraction(text: str) -> float:
    """PaddleOCR writes scales like `1./255.`; accept a number or a/b without eval."""
    parts = text.replace(" ", "").split("/")
    try:
        if len(parts) == 1:
            return float(parts[0])
        if len(parts) == 2:
            return float(parts[0]) / float(parts[1])
    except ValueError:
        pass
    raise ConfigError(f"NormalizeImage.scale must be a number like 1./255., got {text!r}")


@DATA_OPS.register()
class ToCHWImage:
    """HxWxC -> CxHxW."""

    def __init__(self, **kwargs: Any) -> None:
        """No settings; Global items arrive as keyword arguments and are ignored."""

    def __call__(self, data: dict) -> dict:
        data["image"] = np.asarray(data["image"]).transpose((2, 0, 1))
        return data


@DATA_OPS.register()
class KeepKeys:
    """End of every pipeline: the sample becomes a tuple of the listed keys' values, in order.

    The dataset exposes the list as `dataset.keep_keys`; the engine names the
    batch fields with it. Scalars become 0-d numpy arrays.
    """

    def __init__(self, keep_keys: list[str], **kwargs: Any) -> None:
        if isinstance(keep_keys, str) or not keep_keys:
            raise ConfigError(f"KeepKeys.keep_keys must be a non-empty list of names, got {keep_keys!r}")
        self.keep_keys = [str(k) for k in keep_keys]

    def __call__(self, data: dict) -> tuple:
        missing = [k for k in self.keep_keys if k not in data]
        if missing:
            raise KeyError(
                f"KeepKeys: the sample has no {', '.join(missing)} (it has: {', '.join(sorted(data))}); "
                "check the transforms before KeepKeys"
            )
        return tuple(_as_array(data[k]) for k in self.keep_keys)


def _as_array(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, bool):
        return np.array(value)
    if isinstance(value, int):
        return np.array(value, dtype=np.int64)
    if isinstance(value, float):
        return np.array(value, dtype=np.float32)
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value
