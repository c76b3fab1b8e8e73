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

    last_args: list[str] = []

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        args = expand_override_args(list(sys.argv[1:] if args is None else args))
        OcrrecGroup.last_args = list(args)
        return super().main(args, *a, **kw)

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


DeviceOpt = Annotated[
    str | None,
    typer.Option("--device", help="cpu, gpu or gpu:N (default: Global.use_gpu of the config).", show_default=False),
]
GpusOpt = Annotated[
    str | None,
    typer.Option("--gpus", help="Train on these GPUs, one rank each, e.g. 0,1,2,3.", rich_help_panel="Distributed", show_default=False),
]
IpsOpt = Annotated[
    str | None,
    typer.Option("--ips", help="Machines of a multi-node job, e.g. 10.0.0.1,10.0.0.2 (run the same command on each).", rich_help_panel="Distributed", show_default=False),
]
NnodesOpt = Annotated[
    int | None,
    typer.Option("--nnodes", help="Number of machines (with --master and --rank).", rich_help_panel="Distributed", show_default=False),
]
MasterOpt = Annotated[
    str | None,
    typer.Option("--master", help="HOST:PORT of the rank-0 machine, the same on every machine.", rich_help_panel="Distributed", show_default=False),
]
RankOpt = Annotated[
    int | None,
    typer.Option("--rank", help="This machine's rank: 0 on the master, 1.. on the others.", rich_help_panel="Distributed", show_default=False),
]
NprocOpt = Annotated[
    int | None,
    typer.Option("--nproc", help="CPU ranks per machine (gloo backend).", rich_help_panel="Distributed", show_default=False),
]
LogDirOpt = Annotated[
    Path | None,
    typer.Option("--log-dir", help="Where each worker writes workerlog.N (default ./log).", rich_help_panel="Distributed", show_default=False),
]


def invocation_args() -> list[str]:
    """The arguments of the running `ocrrec` invocation (after `-o` expansion)."""
    return list(OcrrecGroup.last_args)


def run_or_launch(options, announce=info) -> int | None:
    """Re-run this command under paddle.distributed.launch if several ranks are asked for.

    Returns the job's exit code when it was launched (the caller exits with it), None to run here.
    """
    from ocrrec.launcher import maybe_launch

    result = maybe_launch(options, invocation_args(), announce)
    if result is None:
        return None
    if result.exit_code != 0:
        detail = result.failure or f"see {result.log_dir}/workerlog.*"
        err.print(f"[bold red]error:[/] distributed job failed (exit {result.exit_code}): {detail}", highlight=False)
    return result.exit_code
