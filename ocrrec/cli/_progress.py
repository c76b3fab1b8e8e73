"""Rich progress for long commands on a terminal; plain lines when output is not a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ocrrec.engine.reporting import Reporter


def new_progress(console: Console, extra: str = "") -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn(extra),
        console=console,
        transient=False,
    )


class RichReporter(Reporter):
    """Log lines go above a live progress bar (stderr is a terminal)."""

    def __init__(self, console: Console, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.console = console
        self._progress: Progress | None = None
        self._task = None

    def write_console(self, line: str, level: str) -> None:
        style = "yellow" if level == "WARNING" else None
        self.console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)

    def start_progress(self, description: str, total: int, completed: int = 0) -> None:
        if not self.enabled:
            return
        self.stop_progress()
        self._progress = new_progress(self.console, "{task.fields[info]}")
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, completed=completed, info="")

    def advance(self, completed: int, fields: dict[str, Any] | None = None) -> None:
        if self._progress is None:
            return
        info = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in (fields or {}).items())
        self._progress.update(self._task, completed=completed, info=info)

    def stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def make_reporter(console: Console) -> Reporter:
    """A RichReporter on a terminal, else plain lines on stderr."""
    if console.is_terminal:
        return RichReporter(console)
    return Reporter()
