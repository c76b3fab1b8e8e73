"""The root `ocrrec` command: registers each subcommand module.

Nothing here imports paddle; commands import it lazily when they run.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ocrrec import __version__
from ocrrec.cli import dataset, dicts, evaluate, export, infer, synth, train
from ocrrec.cli._common import OcrrecGroup

app = typer.Typer(
    cls=OcrrecGroup,
    name="ocrrec",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    help="Train, evaluate, export and run PaddleOCR-compatible text recognizers.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

dataset.app.command("synth")(synth.synth)
app.add_typer(dataset.app, name="dataset")
app.add_typer(dicts.app, name="dict")
app.command("train")(train.train)
app.command("resume")(train.resume)
app.command("eval")(evaluate.evaluate)
app.command("export")(export.export)
app.command("infer")(infer.infer)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ocrrec {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Train, evaluate, export and run PaddleOCR-compatible text recognizers."""


def main() -> None:
    app(prog_name="ocrrec")
