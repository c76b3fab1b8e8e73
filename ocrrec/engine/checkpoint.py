"""Checkpoints in PaddleOCR's layout (`PREFIX.pdparams`, `.pdopt`, `.states`), written crash-safely.

Each file is written under a temporary name and renamed into place; the `.states` file (renamed
last) records a digest of the other two, and the previous set is kept as `*.prev` hard links until
the new set is complete. A kill at any moment therefore leaves a loadable checkpoint: either the
new set or the previous one (`load_checkpoint` detects a torn set and falls back).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrrec.errors import UserError
from ocrrec.utils.io import atomic_write_with

EXTS = (".pdparams", ".pdopt", ".states")


def checkpoint_prefix(path: str | Path) -> Path:
    """`out/latest`, `out/latest.pdparams` and `out/latest/` all mean the prefix `out/latest`."""
    text = str(path).rstrip("/\\")
    for ext in EXTS:
        if text.endswith(ext):
            text = text[: -len(ext)]
    return Path(text)


def exists(prefix: str | Path) -> bool:
    return checkpoint_prefix(prefix).with_name(checkpoint_prefix(prefix).name + ".pdparams").is_file()


def _file(prefix: Path, ext: str, suffix: str = "") -> Path:
    return prefix.with_name(prefix.name + ext + suffix)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Checkpoint:
    """What a checkpoint holds once loaded (tensors stay as paddle loads them)."""

    prefix: Path
    params: dict[str, Any]
    optimizer: dict[str, Any] | None
    states: dict[str, Any] = field(default_factory=dict)
    used_previous: bool = False

    @property
    def epoch(self) -> int:
        return int(self.states.get("epoch", 0))

    @property
    def global_step(self) -> int:
        return int(self.states.get("global_step", 0))


def save_checkpoint(prefix: str | Path, model_state: dict, optimizer_state: dict | None, states: dict) -> Path:
    """Write `prefix.{pdparams,pdopt,states}` so that a kill never leaves a torn set."""
    import paddle

    prefix = checkpoint_prefix(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}
    try:
        for ext, obj in ((".pdparams", model_state), (".pdopt", optimizer_state or {})):
            tmp = _file(prefix, ext, f".tmp{os.getpid()}")
            atomic_write_with(tmp, lambda name, obj=obj: paddle.save(obj, name))
            staged[ext] = tmp
        record = dict(states)
        record["ocrrec_digests"] = {ext: _digest(path) for ext, path in staged.items()}
        tmp_states = _file(prefix, ".states", f".tmp{os.getpid()}")
        atomic_write_with(tmp_states, lambda name: _pickle_to(name, record))
        staged[".states"] = tmp_states
        # keep the previous set reachable until the new one is complete
        for ext in EXTS:
            current, backup = _file(prefix, ext), _file(prefix, ext, ".prev")
            with contextlib.suppress(FileNotFoundError):
                backup.unlink()
            if current.exists():
                os.link(current, backup)
        for ext in EXTS:
            os.replace(staged.pop(ext), _file(prefix, ext))
        for ext in EXTS:
            with contextlib.suppress(FileNotFoundError):
                _file(prefix, ext, ".prev").unlink()
    finally:
        for path in staged.values():
            with contextlib.suppress(OSError):
                path.unlink()
    return prefix


def _pickle_to(name: str, record: dict) -> None:
    with open(name, "wb") as handle:
        pickle.dump(record, handle, protocol=2)


def _read_set(prefix: Path, suffix: str) -> Checkpoint:
    import paddle

    params_path = _file(prefix, ".pdparams", suffix)
    states_path = _file(prefix, ".states", suffix)
    opt_path = _file(prefix, ".pdopt", suffix)
    if not params_path.is_file():
        raise FileNotFoundError(str(params_path))
    states: dict[str, Any] = {}
    if states_path.is_file():
        with open(states_path, "rb") as handle:
            states = pickle.load(handle, encoding="latin1")
        digests = states.get("ocrrec_digests") or {}
        for ext, expected in digests.items():
            path = _file(prefix, ext, suffix)
            if not path.is_file() or _digest(path) != expected:
                raise ValueError(f"{path} does not match {states_path} (the save was interrupted)")
    params = paddle.load(str(params_path))
    if not isinstance(params, dict):
        raise ValueError(f"{params_path} does not hold a parameter dictionary")
    optimizer = paddle.load(str(opt_path)) if opt_path.is_file() else None
    return Checkpoint(prefix, params, optimizer, states)


def load_checkpoint(prefix: str | Path) -> Checkpoint:
    """Load a checkpoint set; a torn or unreadable set falls back to the `.prev` set if there is one.

    Raises UserError when nothing loadable is there.
    """
    prefix = checkpoint_prefix(prefix)
    try:
        return _read_set(prefix, "")
    except FileNotFoundError:
        if not _file(prefix, ".pdparams", ".prev").is_file():
            raise UserError(
                f"checkpoint not found: {_file(prefix, '.pdparams')}",
                "give the path without extension, e.g. output/rec/latest",
            ) from None
        first_error: Exception = FileNotFoundError(str(_file(prefix, ".pdparams")))
    except Exception as exc:  # corrupt pickle, torn set, truncated file
        first_error = exc
    try:
        ckpt = _read_set(prefix, ".prev")
    except Exception:
        raise UserError(f"checkpoint {prefix} is corrupt: {first_error}") from None
    ckpt.used_previous = True
    return ckpt


def parameter_names(model: Any) -> dict[str, str]:
    """{structured name (`backbone.conv1.weight`): paddle's unique tensor name (`conv2d_3.w_0`)}."""
    return {name: param.name for name, param in model.named_parameters()}


def remap_optimizer_state(state: dict, saved_names: dict[str, str], model: Any) -> dict:
    """Re-key an optimizer state saved by another process for this model's parameters.

    Optimizer accumulators are keyed by paddle's unique tensor names (`conv2d_12.w_0_moment1_0`),
    which depend on how many layers the process had built before; `saved_names` (recorded at
    save time) maps them back to structured names, which are stable.
    """
    current = parameter_names(model)
    old_to_new = {old: current[structured] for structured, old in saved_names.items() if structured in current}

    def rename(key: str) -> str:
        cut = len(key)
        while cut > 0:
            cut = key.rfind("_", 0, cut)
            if cut <= 0:
                break
            if key[:cut] in old_to_new:
                return old_to_new[key[:cut]] + key[cut:]
        return old_to_new.get(key, key)

    out: dict = {}
    for key, value in state.items():
        if key == "master_weights" and isinstance(value, dict):
            out[key] = {old_to_new.get(k, k): v for k, v in value.items()}
        elif key == "LR_Scheduler":
            out[key] = value
        else:
            out[rename(key)] = value
    return out
