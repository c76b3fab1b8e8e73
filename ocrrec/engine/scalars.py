"""Optional scalar logging for dashboards: VisualDL (`Global.use_visualdl`) or TensorBoard
(`Global.use_tensorboard`, via tensorboardX). Imported only when a flag is on; rank 0 only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ocrrec.errors import UserError


class ScalarWriter:
    """Writes `TRAIN/<key>` and `EVAL/<key>` scalars to every enabled backend."""

    def __init__(self, writers: list[Any]) -> None:
        self.writers = writers

    @classmethod
    def from_settings(cls, use_visualdl: bool, use_tensorboard: bool, log_dir: Path) -> ScalarWriter | None:
        writers: list[Any] = []
        if use_visualdl:
            try:
                from visualdl import LogWriter
            except ImportError:
                raise UserError("Global.use_visualdl is True but VisualDL is not installed", "pip install visualdl, or set it to False") from None
            writers.append(LogWriter(logdir=str(log_dir / "vdl")))
        if use_tensorboard:
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                raise UserError(
                    "Global.use_tensorboard is True but tensorboardX is not installed", "pip install tensorboardX, or set it to False"
                ) from None
            writers.append(SummaryWriter(logdir=str(log_dir / "tensorboard")))
        return cls(writers) if writers else None

    def add(self, prefix: str, values: dict[str, float], step: int) -> None:
        for writer in self.writers:
            for key, value in values.items():
                if isinstance(value, (int, float)):
                    # both VisualDL's LogWriter and tensorboardX take (tag, value, step) positionally
                    writer.add_scalar(f"{prefix}/{key}", float(value), step)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
