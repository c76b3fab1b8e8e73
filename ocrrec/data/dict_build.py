"""`dict build`: collect the characters of label files / LMDBs into a dictionary file.

A dictionary is UTF-8, one character per line, `\\n` line ends; the line order is
the class order. The space is never written as a line (PaddleOCR adds it with
`use_space_char: True`), nor are control characters.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrrec.charset import read_dict_file, resolve_dict
from ocrrec.data.labels import read_label_file
from ocrrec.data.lmdb_io import LmdbReader, find_lmdb_dirs
from ocrrec.errors import UsageError, UserError
from ocrrec.utils.io import atomic_write_text

SORT_ORDERS = ("first-seen", "frequency", "codepoint")


@dataclass
class DictBuildResult:
    characters: list[str]
    counts: Counter[str]
    base_name: str | None = None
    base_size: int = 0
    new_characters: list[str] = field(default_factory=list)
    below_min_count: list[tuple[str, int]] = field(default_factory=list)
    labels: int = 0
    has_space: bool = False
    control_chars: Counter[str] = field(default_factory=Counter)
    labels_changed_by_nfc: int = 0
    skipped_lines: int = 0

    @property
    def needs_space_char(self) -> bool:
        """Labels contain spaces the dictionary cannot encode: the config needs use_space_char: True."""
        return self.has_space and " " not in self.characters

    def rare(self, n: int = 10) -> list[tuple[str, int]]:
        """The n least frequent characters of the written dictionary that occur in the labels."""
        present = [(c, self.counts[c]) for c in self.characters if self.counts[c] > 0]
        return sorted(present, key=lambda item: (item[1], item[0]))[:n]

    def text(self) -> str:
        return "".join(f"{c}\n" for c in self.characters)

    def to_dict(self) -> dict[str, Any]:
        return {
            "characters": len(self.characters),
            "base": self.base_name,
            "base_size": self.base_size,
            "new": len(self.new_characters),
            "new_characters": "".join(self.new_characters),
            "labels": self.labels,
            "below_min_count": [list(x) for x in self.below_min_count],
            "rare": [list(x) for x in self.rare()],
            "has_space": self.has_space,
            "needs_use_space_char": self.needs_space_char,
            "control_chars": {f"U+{ord(c):04X}": n for c, n in self.control_chars.items()},
            "labels_changed_by_nfc": self.labels_changed_by_nfc,
            "skipped_lines": self.skipped_lines,
        }


def iter_labels(
    sources: Sequence[Path], delimiter: str = "\t", on_skip: Callable[[int], None] | None = None
) -> Iterator[str]:
    """Labels of label files and LMDB folders (the path column is not checked).

    `on_skip(n)` is told how many malformed lines / missing LMDB labels were skipped.
    """
    for source in sources:
        source = Path(source)
        if source.is_dir():
            dirs = find_lmdb_dirs(source)
            if not dirs:
                raise UsageError(f"{source} is a folder without an LMDB (data.mdb)", "give label files or LMDB folders")
            for d in dirs:
                for _, label in LmdbReader(d).iter_labels():
                    if label is not None:
                        yield label
                    elif on_skip is not None:
                        on_skip(1)
        elif source.is_file():
            parsed = read_label_file(source, delimiter=delimiter)
            if parsed.problems and on_skip is not None:
                on_skip(len(parsed.problems))
            yield from (rec.label for rec in parsed.records)
        else:
            raise UsageError(f"label source not found: {source}")


def _is_excluded(char: str) -> bool:
    return char == " " or unicodedata.category(char) == "Cc"


def build_dictionary(
    sources: Sequence[Path],
    *,
    sort: str = "first-seen",
    min_count: int = 1,
    base: str | None = None,
    nfc: bool = False,
    delimiter: str = "\t",
) -> DictBuildResult:
    """Characters of the labels in `sources`, optionally appended to a base dictionary.

    sort orders the new characters: first-seen (label order), frequency (most
    frequent first, ties by first appearance) or codepoint. Characters seen fewer
    than `min_count` times are left out (base characters are always kept, in
    their order).
    """
    if sort not in SORT_ORDERS:
        raise UsageError(f"--sort must be one of {', '.join(SORT_ORDERS)}, got {sort!r}")
    if min_count < 1:
        raise UsageError(f"--min-count must be at least 1, got {min_count}")
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    result = DictBuildResult([], counts)
    def skipped(n: int) -> None:
        result.skipped_lines += n

    for label in iter_labels(sources, delimiter, skipped):
        result.labels += 1
        if nfc:
            normalized = unicodedata.normalize("NFC", label)
            if normalized != label:
                result.labels_changed_by_nfc += 1
            label = normalized
        counts.update(label)
    for char in counts:
        first_seen.setdefault(char, len(first_seen))
    result.has_space = " " in counts
    for char in list(counts):
        if char != " " and _is_excluded(char):
            result.control_chars[char] = counts[char]
    base_chars: list[str] = []
    if base is not None:
        path = resolve_dict(base)
        if path is None:
            raise UsageError("--base needs a dictionary name or file")
        base_chars = read_dict_file(path)
        result.base_name = str(base)
        result.base_size = len(base_chars)
    in_base = set(base_chars)
    candidates = [c for c in counts if not _is_excluded(c) and c not in in_base]
    result.below_min_count = sorted(
        ((c, counts[c]) for c in candidates if counts[c] < min_count), key=lambda item: (item[1], item[0])
    )
    new = [c for c in candidates if counts[c] >= min_count]
    if sort == "frequency":
        new.sort(key=lambda c: (-counts[c], first_seen[c]))
    elif sort == "codepoint":
        new.sort(key=ord)
    else:
        new.sort(key=lambda c: first_seen[c])
    result.new_characters = new
    result.characters = base_chars + new
    if not result.characters:
        raise UserError("no characters found in the labels", "check the sources and --delimiter")
    return result


def write_dictionary(result: DictBuildResult, out: Path, *, force: bool = False) -> Path:
    """Write one character per line (UTF-8, `\\n`), atomically; refuses to overwrite without force."""
    out = Path(out)
    if out.exists() and not force:
        raise UserError(f"{out} already exists", "pass --force to overwrite it")
    if out.is_dir():
        raise UserError(f"{out} is a folder", "give a file path for the dictionary")
    atomic_write_text(out, result.text())
    return out
