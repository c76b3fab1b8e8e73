"""`ocrrec dataset convert` and `ocrrec dataset validate`: options -> library call -> table or JSON.

The work is done by `ocrrec.data.convert` and `ocrrec.data.validate`; nothing
here imports paddle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ocrrec.cli._common import (
    ConfigOpt,
    ForceOpt,
    JsonOpt,
    OverrideOpt,
    err,
    info,
    load_config_for_cli,
    out,
    print_json,
)
from ocrrec.errors import ConfigError, UsageError, UserError

app = typer.Typer(
    help="Prepare and check datasets: convert between formats, validate before training.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class InFormat(str, Enum):
    icdar = "icdar"
    txt = "txt"
    lmdb = "lmdb"


class OutFormat(str, Enum):
    txt = "txt"
    lmdb = "lmdb"


class ExecutorKind(str, Enum):
    thread = "thread"
    process = "process"
    serial = "serial"


DelimiterOpt = Annotated[
    str,
    typer.Option("--delimiter", help="Separator between image path and label: tab, space, or a literal string."),
]


def parse_delimiter(value: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "space": " ", "comma": ","}
    delimiter = named.get(value.lower(), value) if value else value
    if not delimiter:
        raise UsageError("--delimiter is empty", "use tab (the default), space or a literal string")
    return delimiter


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator:
    """A rich progress bar on stderr; yields a `(done, total)` callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update


@app.command()
def convert(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="ICDAR GT file, label file, or LMDB folder.", show_default=False)
    ],
    out_path: Annotated[
        Path, typer.Option("--out", help="Label file (--to txt) or LMDB folder (--to lmdb) to write.", show_default=False)
    ],
    src: Annotated[InFormat, typer.Option("--from", help="Input format.", case_sensitive=False, show_default=False)],
    dst: Annotated[OutFormat, typer.Option("--to", help="Output format.", case_sensitive=False)] = OutFormat.txt,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="icdar: folder of the images (default: the GT file's folder). txt: folder the label paths are "
            "relative to (default: the label file's folder). lmdb -> txt: where to write the images "
            "(default: OUT's folder/images).",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Written label paths are relative to this folder (default: the output label file's folder); "
            "use it as data_dir in the config.",
            show_default=False,
        ),
    ] = None,
    delimiter: DelimiterOpt = "tab",
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Convert ICDAR word GT, label files and LMDB into each other.

    Examples:
      ocrrec dataset convert --from icdar --input gt.txt --images ch4_train_words --out train.txt
      ocrrec dataset convert --from txt --input train.txt --to lmdb --out train_lmdb
      ocrrec dataset convert --from lmdb --input train_lmdb --to txt --out extracted/train.txt
    """
    from ocrrec.data.convert import SKIP_TEXT, convert_dataset

    with progress_bar(f"converting {input_path.name}", enabled=not json_out) as progress:
        report = convert_dataset(
            src.value,
            dst.value,
            input_path,
            out_path,
            images=images,
            data_dir=data_dir,
            delimiter=parse_delimiter(delimiter),
            force=force,
            progress=progress,
        )
    if json_out:
        print_json(report.to_dict())
        return
    table = Table(title=f"{src.value} -> {dst.value}", show_header=True, header_style="bold")
    table.add_column("result")
    table.add_column("count", justify="right")
    table.add_column("first examples", overflow="fold")
    table.add_row("[green]written[/]", str(report.written), ", ".join(report.outputs))
    for reason, count in report.skipped.most_common():
        table.add_row(f"[yellow]skipped: {SKIP_TEXT.get(reason, reason)}[/]", str(count), "; ".join(report.examples[reason]))
    if report.expanded_lines:
        table.add_row("multi-image lines expanded", str(report.expanded_lines), "each listed image became a sample")
    out.print(table)


@app.command()
def validate(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Label files or LMDB folders (instead of -c).", show_default=False),
    ] = None,
    config_path: ConfigOpt = None,
    overrides: OverrideOpt = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Folder the label paths are relative to (default: each label file's folder).",
                     show_default=False),
    ] = None,
    dict_spec: Annotated[
        str | None,
        typer.Option("--dict", help="Dictionary file or built-in name; without it characters are not checked.",
                     show_default=False),
    ] = None,
    use_space_char: Annotated[bool, typer.Option("--use-space-char", help="The space is a class (as the config key).")] = False,
    max_text_length: Annotated[int, typer.Option("--max-text-length", help="Longest usable label.", min=1)] = 25,
    delimiter: DelimiterOpt = "tab",
    max_aspect: Annotated[
        float, typer.Option("--max-aspect", help="Warn about images wider than this many times their height.", min=1.0)
    ] = 25.0,
    max_tall: Annotated[
        float,
        typer.Option("--max-tall", help="Warn about multi-character images taller than this many times their width.",
                     min=0.1),
    ] = 1.5,
    no_images: Annotated[bool, typer.Option("--no-images", help="Check labels only; do not open images.")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Parallel image decoders (default: CPU count).", min=1,
                                 show_default=False)
    ] = None,
    executor: Annotated[
        ExecutorKind, typer.Option("--executor", help="How images are decoded in parallel.", case_sensitive=False)
    ] = ExecutorKind.thread,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings also make the exit status 1.")] = False,
    show: Annotated[int, typer.Option("--show", help="Problems listed per kind in the table (0: all).", min=0)] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Find problems in a dataset before training: exit 0 clean, 1 problems found, 2 usage error.

    Errors (the sample breaks or is dropped): malformed lines, missing/unreadable/corrupt/0-byte
    images, empty or too long labels, labels with no dictionary character. Warnings: characters
    outside the dictionary, duplicate paths, images in both Train and Eval, extreme aspect ratios.

    Examples:
      ocrrec dataset validate -c configs/rec/en_PP-OCRv3_rec.yml
      ocrrec dataset validate train.txt --dict en --use-space-char --max-text-length 25
    """
    from ocrrec.data import validate as v

    if bool(sources) == bool(config_path):
        raise UsageError(
            "give either label files / LMDB folders or -c CONFIG",
            "e.g. `ocrrec dataset validate -c my_config.yml` or `ocrrec dataset validate train.txt --dict en`",
        )
    try:
        problems: list = []
        settings: dict = {}
        if config_path is not None:
            config = load_config_for_cli(config_path, overrides)
            source_list, problems, settings = v.sources_from_config(config)
        else:
            missing = [p for p in sources or [] if not p.exists()]
            if missing:
                raise UsageError(f"not found: {', '.join(str(p) for p in missing)}")
            if data_dir is not None and not data_dir.is_dir():
                raise UsageError(f"--data-dir {data_dir} is not a folder")
            checker = v.make_checker(dict_spec, use_space_char, max_text_length)
            source_list = v.sources_from_paths(
                sources or [], checker=checker, data_dir=data_dir, delimiter=parse_delimiter(delimiter)
            )
            settings = {
                "dictionary": checker.charset.source if hasattr(checker, "charset") else None,
                "max_text_length": max_text_length,
            }
        with progress_bar("decoding images", enabled=not json_out and not no_images) as progress:
            report = v.validate_sources(
                source_list,
                check_images=not no_images,
                workers=workers,
                executor=executor.value,
                max_aspect=max_aspect,
                max_tall=max_tall,
                progress=progress,
                problems=problems,
                settings=settings,
            )
    except (UsageError, ConfigError):
        raise
    except UserError as exc:
        raise UsageError(exc.message, exc.hint) from None

    if json_out:
        print_json(report.to_dict(strict))
    else:
        _print_validation(report, show, strict)
    raise typer.Exit(0 if report.ok(strict) else 1)


def _print_validation(report, show: int, strict: bool) -> None:
    from ocrrec.data.validate import KINDS

    sources = Table(title="sources", header_style="bold")
    for column in ("source", "role", "kind", "samples", "images"):
        sources.add_column(column, justify="right" if column in ("samples", "images") else "left")
    for s in report.sources:
        sources.add_row(s.name, s.role or "-", s.kind, str(s.samples), str(s.images))
    out.print(sources)

    counts = report.counts()
    if counts:
        summary = Table(title="problems", header_style="bold")
        for column in ("kind", "severity", "count", "first"):
            summary.add_column(column, justify="right" if column == "count" else "left", overflow="fold")
        for kind, count in sorted(counts.items(), key=lambda kv: list(KINDS).index(kv[0])):
            severity, text = KINDS[kind]
            colour = "red" if severity == "error" else "yellow"
            first = next(p.where for p in report.problems if p.kind == kind)
            summary.add_row(text, f"[{colour}]{severity}[/]", str(count), first)
        out.print(summary)
        for kind in counts:
            listed = [p for p in report.problems if p.kind == kind]
            limit = len(listed) if show == 0 else show
            out.print(f"[bold]{KINDS[kind][1]}[/] ({len(listed)})", highlight=False)
            for p in listed[:limit]:
                out.print(f"  {p.where}: {p.message}", highlight=False, markup=False)
            if len(listed) > limit:
                out.print(f"  ... and {len(listed) - limit} more (--show 0 or --json lists all)", highlight=False)

    if report.unknown_chars:
        chars = Table(title="characters not in the dictionary", header_style="bold")
        for column in ("char", "code", "count", "first lines"):
            chars.add_column(column, justify="right" if column == "count" else "left", overflow="fold")
        ranked = sorted(report.unknown_chars.items(), key=lambda kv: -kv[1]["count"])
        for char, entry in ranked[: (len(ranked) if show == 0 else max(show, 1))]:
            chars.add_row(repr(char), f"U+{ord(char):04X}", str(entry["count"]), ", ".join(entry["first"]))
        out.print(chars)
        if " " in report.unknown_chars:
            info("hint: labels contain spaces; set Global.use_space_char: True (or --use-space-char)")

    stats = report.stats()
    if report.images_checked:
        h, w = stats["height"], stats["width"]
        size = f"; median size {w['median']:g}x{h['median']:g}" if h and w else ""
        info(f"{report.images_checked} images decoded at {stats['images_per_second']:.0f}/s{size}")
    if report.ok(strict):
        tail = f" ({_plural(report.warnings, 'warning')})" if report.warnings else ""
        out.print(f"[green]no errors[/]{tail} in {_plural(stats['samples'], 'sample')}", highlight=False)
    else:
        out.print(
            f"[red]{_plural(report.errors, 'error')}[/], [yellow]{_plural(report.warnings, 'warning')}[/] "
            f"in {_plural(stats['samples'], 'sample')}",
            highlight=False,
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
