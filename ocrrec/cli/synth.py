"""`ocrrec dataset synth`: render a synthetic word-image dataset (thin wrapper over ocrrec.data.synth)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ocrrec.cli._common import ForceOpt, JsonOpt, err, out, print_json, warn


class CaseMode(str, Enum):
    keep = "keep"
    lower = "lower"
    upper = "upper"
    title = "title"
    mixed = "mixed"


def synth(
    out_dir: Annotated[
        Path, typer.Argument(help="Folder to write train/, val/, train.txt, val.txt (use it as data_dir).")
    ],
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Number of images (train + val).")] = 2000,
    val_fraction: Annotated[
        float, typer.Option("--val-fraction", min=0.0, max=0.9, help="Share of words and images held out for val.")
    ] = 0.1,
    words: Annotated[
        Path | None,
        typer.Option("--words", help="Word list, one per line (default: an embedded English list).", show_default=False),
    ] = None,
    dict_spec: Annotated[
        str | None,
        typer.Option(
            "--dict",
            help="Dictionary name or file: random strings over its characters; with --words, keeps only words it covers.",
            show_default=False,
        ),
    ] = None,
    min_len: Annotated[int, typer.Option("--min-len", min=1, help="Shortest word / random string.")] = 3,
    max_len: Annotated[int, typer.Option("--max-len", min=1, help="Longest word / random string.")] = 15,
    case: Annotated[CaseMode, typer.Option("--case", help="Letter case of words (mixed: per image).")] = CaseMode.keep,
    digits: Annotated[
        float, typer.Option("--digits", min=0.0, max=1.0, help="Share of images showing a 1-6 digit number.")
    ] = 0.0,
    fonts: Annotated[
        Path | None,
        typer.Option("--fonts", help="Folder of .ttf/.otf fonts (default: Pillow's built-in font).", show_default=False),
    ] = None,
    font_size: Annotated[
        list[int] | None,
        typer.Option("--font-size", help="Font size in px; repeat for several (default: 22, 26, 30, 34, 38).", show_default=False),
    ] = None,
    height: Annotated[int, typer.Option("--height", min=0, help="Scale images to this height (0: keep).")] = 48,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same dataset.")] = 0,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Rendering processes (default: 2 for 5000+ images, else 1).", show_default=False),
    ] = None,
    lmdb: Annotated[bool, typer.Option("--lmdb", help="Also write train_lmdb/ and val_lmdb/.")] = False,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Render word images with PaddleOCR label files; val words never appear in train."""
    from ocrrec.charset import Charset
    from ocrrec.data import synth as synth_lib

    word_list = synth_lib.read_word_file(words) if words is not None else None
    dict_chars = list(Charset.from_spec(dict_spec).characters) if dict_spec else None
    sizes = tuple(font_size) if font_size else synth_lib.DEFAULT_FONT_SIZES

    with Progress(
        TextColumn("[bold]synth[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=json_out,
    ) as bar:
        task = bar.add_task("render", total=count)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = synth_lib.synth(
            out_dir,
            words=word_list,
            dict_chars=dict_chars,
            count=count,
            val_fraction=val_fraction,
            fonts_dir=fonts,
            font_sizes=sizes,
            height=height or None,
            seed=seed,
            min_len=min_len,
            max_len=max_len,
            case=case.value,
            digits=digits,
            workers=workers,
            lmdb=lmdb,
            force=force,
            progress=advance,
        )

    if json_out:
        print_json(report.to_dict())
        return
    if report.skipped_words:
        examples = ", ".join(report.skipped_examples)
        warn(f"skipped {report.skipped_words} words (length, dictionary or font coverage), e.g. {examples}")
    if report.bad_fonts:
        warn(f"skipped {len(report.bad_fonts)} font files that could not be loaded: {', '.join(report.bad_fonts[:5])}")
    if report.unsupported_chars:
        warn(f"the fonts cannot draw these characters, so they were left out: {report.unsupported_chars}")
    table = Table(title=f"synthetic dataset in {report.out_dir}", show_header=True)
    table.add_column("split")
    table.add_column("images", justify="right")
    table.add_column("distinct words", justify="right")
    table.add_column("label file")
    table.add_row("train", str(report.train_images), str(report.train_words), str(report.train_label_file))
    table.add_row("val", str(report.val_images), str(report.val_words), str(report.val_label_file))
    out.print(table)
    rate = (report.train_images + report.val_images) / max(report.seconds, 1e-9)
    out.print(
        f"fonts: {', '.join(report.fonts[:4])}{' ...' if len(report.fonts) > 4 else ''}; "
        f"sizes {report.font_sizes}; height {report.height or 'as rendered'}; "
        f"{report.seconds:.1f}s ({rate:.0f} images/s, {report.workers} process(es))",
        highlight=False,
    )
    if report.lmdb_dirs:
        out.print("lmdb: " + ", ".join(str(p) for p in report.lmdb_dirs), highlight=False)
