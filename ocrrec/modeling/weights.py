"""Load pretrained weights (PaddleOCR `.pdparams` or ours) into a model, keeping every tensor whose
name and shape fit and reporting the rest, so a changed dictionary re-initialises only the head.

PaddleOCR's distillation checkpoints (keys `Student.…` / `Teacher.…`, e.g. the published
ch_PP-OCRv3_rec_train) load into a plain model: the matching prefix is found and stripped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import paddle
from paddle import nn

from ocrrec.errors import UserError

# Preferred when several key prefixes fit equally well (PaddleOCR fine-tunes from the student).
_PREFIX_PREFERENCE = ("", "Student.", "Student2.", "Teacher.")


@dataclass
class LoadReport:
    """What `load_weights` did. Tensor names are the model's `state_dict()` keys; a tensor
    reachable under two names (LSTM weights) is listed once."""

    source: str
    loaded: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    prefix: str = ""

    @property
    def total(self) -> int:
        return len(self.loaded) + len(self.mismatched) + len(self.missing)

    def class_change(self) -> tuple[int, int] | None:
        """(classes in the weights, classes in the model) when only head tensors differ in shape.

        Read from the first mismatched head tensor in model order, which is the CTC classifier
        whenever the model has one.
        """
        if not self.mismatched or not all(name.startswith("head.") for name, _, _ in self.mismatched):
            return None
        _, old, new = self.mismatched[0]
        if len(old) != len(new):
            return None
        for old_dim, new_dim in zip(old, new, strict=True):
            if old_dim != new_dim:
                return old_dim, new_dim
        return None

    def dictionary_change_message(self) -> str | None:
        """The one warning for a fine-tune with another dictionary, or None if that is not the case:
        "re-initialising N head tensors because the dictionary size changed (97 → 40 classes): …"."""
        change = self.class_change()
        if change is None:
            return None
        names = ", ".join(name for name, _, _ in self.mismatched)
        count = len(self.mismatched)
        noun = "tensor" if count == 1 else "tensors"
        return (
            f"re-initialising {count} head {noun} because the dictionary size changed "
            f"({change[0]} → {change[1]} classes): {names}"
        )

    def warnings(self) -> list[str]:
        """One line per kind of problem (empty when every tensor loaded)."""
        lines = []
        message = self.dictionary_change_message()
        if message:
            lines.append(message)
        elif self.mismatched:
            shown = ", ".join(f"{n} {list(a)} vs {list(b)}" for n, a, b in self.mismatched[:8])
            more = f" and {len(self.mismatched) - 8} more" if len(self.mismatched) > 8 else ""
            lines.append(
                f"re-initialising {len(self.mismatched)} tensors whose shape in {self.source} differs "
                f"(weights vs model): {shown}{more}"
            )
        if self.missing:
            shown = ", ".join(self.missing[:8]) + (
                f" and {len(self.missing) - 8} more" if len(self.missing) > 8 else ""
            )
            lines.append(
                f"{len(self.missing)} model tensors are not in {self.source} and keep their initial values: {shown}"
            )
        if self.unexpected:
            shown = ", ".join(self.unexpected[:8])
            shown += f" and {len(self.unexpected) - 8} more" if len(self.unexpected) > 8 else ""
            lines.append(
                f"{len(self.unexpected)} tensors in {self.source} are not used by this model: {shown}"
            )
        return lines

    def summary(self) -> str:
        via = f" (keys under `{self.prefix}`)" if self.prefix else ""
        return f"loaded {len(self.loaded)} of {self.total} tensors from {self.source}{via}"


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def _unique_model_tensors(model: nn.Layer) -> dict[str, paddle.Tensor]:
    """state_dict() without aliases (the first name of each tensor object wins)."""
    seen: set[int] = set()
    out: dict[str, paddle.Tensor] = {}
    for name, tensor in model.state_dict().items():
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        out[name] = tensor
    return out


def _choose_prefix(model_names: list[str], source_keys: set[str]) -> str:
    candidates = {""} | {key.split(".", 1)[0] + "." for key in source_keys if "." in key}

    def score(prefix: str) -> tuple[int, int]:
        hits = sum(1 for name in model_names if prefix + name in source_keys)
        rank = _PREFIX_PREFERENCE.index(prefix) if prefix in _PREFIX_PREFERENCE else len(_PREFIX_PREFERENCE)
        return hits, -rank

    return max(sorted(candidates), key=score)


def _as_model_value(value: Any, target: paddle.Tensor) -> paddle.Tensor:
    tensor = value if isinstance(value, paddle.Tensor) else paddle.to_tensor(np.asarray(value))
    return tensor if tensor.dtype == target.dtype else tensor.astype(target.dtype)


def load_weights(
    model: nn.Layer, state_dict: Mapping[str, Any], source: str, prefix: str | None = None
) -> LoadReport:
    """Copy every tensor of `state_dict` whose name and shape match into `model`.

    Mismatched shapes (the classifier after a dictionary change) and absent names keep the
    model's initial values; see the returned report. `prefix` selects keys like
    `Student.backbone…`; by default the prefix that matches most names is used.
    Raises UserError when not a single tensor fits (weights of another architecture).
    """
    if not isinstance(state_dict, Mapping):
        raise UserError(f"{source}: not a weights file (expected a mapping of tensor names)")
    model_tensors = _unique_model_tensors(model)
    source_keys = set(state_dict)
    if prefix is None:
        prefix = _choose_prefix(list(model_tensors), source_keys)
    report = LoadReport(source=source, prefix=prefix)
    all_model_names = set(model.state_dict())
    used_keys: set[str] = set()
    to_copy: list[tuple[paddle.Tensor, Any]] = []
    for name, tensor in model_tensors.items():
        key = prefix + name
        if key not in state_dict:
            report.missing.append(name)
            continue
        used_keys.add(key)
        value = state_dict[key]
        if _shape(value) != _shape(tensor):
            report.mismatched.append((name, _shape(value), _shape(tensor)))
            continue
        to_copy.append((tensor, value))
        report.loaded.append(name)
    report.unexpected = sorted(
        key
        for key in source_keys
        if key.startswith(prefix) and key not in used_keys and key[len(prefix) :] not in all_model_names
    )
    if not report.loaded:
        example = next(iter(sorted(source_keys)), None)
        first_name, first_tensor = next(iter(model_tensors.items()))
        detail = (
            f"it has e.g. `{example}` {list(_shape(state_dict[example]))}, "
            f"the model expects `{first_name}` {list(_shape(first_tensor))}"
            if example is not None
            else "it is empty"
        )
        raise UserError(
            f"{source}: none of its {len(source_keys)} tensors fit this model ({detail})",
            "these weights come from another architecture: use the config the model was trained with "
            "(e.g. PP-OCRv3 vs PP-OCRv4), or drop pretrained_model",
        )
    with paddle.no_grad():
        for tensor, value in to_copy:
            tensor.set_value(_as_model_value(value, tensor))
    return report


def load_weights_file(model: nn.Layer, path: str | Path, prefix: str | None = None) -> LoadReport:
    """`load_weights` from a `.pdparams` file; like PaddleOCR, the suffix may be left out."""
    path = Path(path)
    candidates = [path] if path.suffix == ".pdparams" else [path.with_name(path.name + ".pdparams"), path]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise UserError(
            f"pretrained weights not found: {candidates[0]}",
            "give the .pdparams file (or its path without the suffix, as PaddleOCR configs do)",
        )
    try:
        state = paddle.load(str(found))
    except Exception as exc:  # paddle raises many types for a corrupt or foreign file
        raise UserError(
            f"{found}: cannot be read as Paddle weights ({type(exc).__name__}: {exc})",
            "the file may be truncated or not a .pdparams file; download or save it again",
        ) from None
    return load_weights(model, state, str(found), prefix=prefix)
