"""How the engine tells the outside world what happens: log lines, progress, metrics.

`Reporter` writes plain timestamped lines (to stderr and `train.log`); the CLI passes a subclass
that draws a rich progress bar on a terminal. Only rank 0 reports.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path
from typing import IO, Any


class SmoothedStats:
    """Median over the last `window` values per key, as PaddleOCR's training log shows."""

    def __init__(self, window: int) -> None:
        self.window = max(1, int(window))
        self.values: dict[str, collections.deque] = {}

    def update(self, stats: dict[str, float]) -> None:
        for key, value in stats.items():
            self.values.setdefault(key, collections.deque(maxlen=self.window)).append(float(value))

    def get(self) -> dict[str, float]:
        out = {}
        for key, values in self.values.items():
            ordered = sorted(values)
            n = len(ordered)
            mid = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
            out[key] = round(mid, 6)
        return out


def format_stats(stats: dict[str, float]) -> str:
    return ", ".join(f"{key}: {value:.6f}" for key, value in stats.items())


class Reporter:
    """Plain-text reporting; subclasses may draw progress. Disabled on ranks other than 0."""

    def __init__(self, log_file: Path | None = None, enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._file: IO[str] | None = None
        if log_file is not None:
            self.open_log(log_file)

    def open_log(self, log_file: Path) -> None:
        """Also append every line to `log_file` (rank 0's `train.log`)."""
        if not self.enabled or self._file is not None:
            return
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(log_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed in close()

    # -- lines -------------------------------------------------------------------
    def _line(self, level: str, message: str) -> str:
        stamp = time.strftime("%Y/%m/%d %H:%M:%S")
        return f"[{stamp}] ocrrec {level}: {message}"

    def info(self, message: str) -> None:
        self._emit("INFO", message)

    def warning(self, message: str) -> None:
        self._emit("WARNING", message)

    def _emit(self, level: str, message: str) -> None:
        if not self.enabled:
            return
        line = self._line(level, message)
        if self._file is not None:
            self._file.write(line + "\n")
        self.write_console(line, level)

    def write_console(self, line: str, level: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    # -- progress (no-ops for plain output) -----------------------------------------
    def start_progress(self, description: str, total: int, completed: int = 0) -> None:
        pass

    def advance(self, completed: int, fields: dict[str, Any] | None = None) -> None:
        pass

    def stop_progress(self) -> None:
        pass

    def close(self) -> None:
        self.stop_progress()
        if self._file is not None:
            self._file.close()
            self._file = None
