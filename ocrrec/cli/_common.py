"""What every command shares: the root group (error handling), consoles, common options."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from ocrrec.config import expand_override_args
from ocrrec.errors import UserError

# Results go to stdout (tables, JSON); messages, warnings and progress to stderr.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def print_error(exc: UserError) -> None:
    err.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False)
    if exc.hint:
        err.print(f"[dim]hint:[/] {exc.hint}", markup=True, highlight=False)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)


def info(message: str) -> None:
    err.print(message, markup=True, highlight=False)


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class OcrrecGroup(TyperGroup):
    """Root group: accepts PaddleOCR's `-o A=1 B=2` and turns UserError into one clean line."""

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        return super().main(expand_override_args(args), *a, **kw)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None


ConfigOpt = Annotated[
    Path | None,
    typer.Option("-c", "--config", help="PaddleOCR-style YAML config.", show_default=False),
]
OverrideOpt = Annotated[
    list[str] | None,
    typer.Option(
        "-o",
        "--override",
        help="Override a config key: KEY.PATH=VALUE (repeatable; several pairs may follow one -o).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output.")]


def load_config_for_cli(path: Path | None, overrides: list[str] | None):
    """Load a config and show its warnings (unknown keys) on stderr."""
    from ocrrec.config import load_config

    config = load_config(path, overrides or [])
    for message in config.warnings:
        warn(message)
    return config
