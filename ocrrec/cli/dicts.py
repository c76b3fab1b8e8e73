"""`ocrrec dict build`: collect a dictionary from label files or LMDBs (library: ocrrec.data.dict_build)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ocrrec.cli._common import ForceOpt, JsonOpt, info, out, print_json

app = typer.Typer(help="Build character dictionaries.", no_args_is_help=True, rich_markup_mode="rich")


class SortOrder(str, Enum):
    first_seen = "first-seen"
    frequency = "frequency"
    codepoint = "codepoint"


@app.command()
def build(
    labels: Annotated[list[Path], typer.Argument(help="Label files or LMDB folders.", show_default=False)],
    out_path: Annotated[Path, typer.Option("--out", help="Dictionary file to write.", show_default=False)],
    sort: Annotated[
        SortOrder, typer.Option("--sort", help="Order of the new characters.", case_sensitive=False)
    ] = SortOrder.first_seen,
    min_count: Annotated[
        int, typer.Option("--min-count", help="Leave out characters seen fewer times.", min=1)
    ] = 1,
    base: Annotated[
        str | None,
        typer.Option("--base", help="Extend this dictionary (built-in name or file): its order is kept, new "
                     "characters are appended.", show_default=False),
    ] = None,
    nfc: Annotated[bool, typer.Option("--nfc", help="NFC-normalise labels before counting.")] = False,
    delimiter: Annotated[
        str, typer.Option("--delimiter", help="Separator between image path and label: tab, space, or a literal.")
    ] = "tab",
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Write every character of the labels to a dictionary file (UTF-8, one per line).

    The space is never a line: set `use_space_char: True` in the config instead.

    Examples:
      ocrrec dict build train.txt val.txt --out my_dict.txt
      ocrrec dict build train.txt --base en --out en_plus.txt --sort frequency
    """
    from ocrrec.cli.dataset import parse_delimiter
    from ocrrec.data.dict_build import build_dictionary, write_dictionary

    result = build_dictionary(
        labels, sort=sort.value, min_count=min_count, base=base, nfc=nfc, delimiter=parse_delimiter(delimiter)
    )
    write_dictionary(result, out_path, force=force)
    if json_out:
        print_json({"out": str(out_path), **result.to_dict()})
        return
    table = Table(title=str(out_path), show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("characters", str(len(result.characters)))
    if result.base_name:
        table.add_row(f"from base {result.base_name}", str(result.base_size))
        table.add_row("new", f"{len(result.new_characters)}  {''.join(result.new_characters[:60])}")
    table.add_row("labels read", str(result.labels))
    rare = result.rare(10)
    if rare:
        table.add_row("rarest", "  ".join(f"{c!r} x{n}" for c, n in rare))
    if result.below_min_count:
        left_out = "  ".join(f"{c!r} x{n}" for c, n in result.below_min_count[:20])
        table.add_row(f"left out (< {min_count})", f"{len(result.below_min_count)}: {left_out}")
    if result.control_chars:
        table.add_row("control chars left out", "  ".join(f"U+{ord(c):04X} x{n}" for c, n in result.control_chars.items()))
    if result.skipped_lines:
        table.add_row("malformed lines skipped", str(result.skipped_lines))
    out.print(table)
    if result.needs_space_char:
        info("hint: labels contain spaces; the space is not a dictionary line: set Global.use_space_char: True")
    if result.labels_changed_by_nfc:
        info(
            f"note: {result.labels_changed_by_nfc} labels changed under NFC; training reads labels as they are, "
            "so NFC-normalise the label files too"
        )
