"""The one parser for PaddleOCR recognition label files (`path<TAB>label`).

Used by the datasets, `dataset validate`, `dataset convert` and `dict build`.
Each record keeps its source file and 1-based line number so every message
can say `train.txt:17`. Lines that cannot be used become `LabelProblem`s.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ocrrec.errors import UserError

# Problem kinds the parser reports (a blank line is skipped, not a problem).
NO_DELIMITER = "no_delimiter"
EMPTY_PATH = "empty_path"
BAD_JSON_LIST = "bad_json_list"
NOT_UTF8 = "not_utf8"
OUTSIDE_DATA_DIR = "outside_data_dir"

PROBLEM_TEXT = {
    NO_DELIMITER: "no delimiter between path and label",
    EMPTY_PATH: "empty image path",
    BAD_JSON_LIST: "image list is not a JSON list of paths",
    NOT_UTF8: "line is not UTF-8",
    OUTSIDE_DATA_DIR: "image path is outside data_dir",
}


@dataclass(frozen=True, slots=True)
class LabelRecord:
    """One usable line: its image path(s), label and where it came from.

    `path_field` is the path column as written; `paths` has one entry, or
    several when the column is a JSON list (one of them is drawn each time).
    """

    path_field: str
    paths: tuple[str, ...]
    label: str
    source: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True, slots=True)
class LabelProblem:
    kind: str
    source: str
    line: int
    message: str

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class ParsedLabels:
    records: list[LabelRecord] = field(default_factory=list)
    problems: list[LabelProblem] = field(default_factory=list)
    blank_lines: int = 0
    lines: int = 0

    def extend(self, other: ParsedLabels) -> None:
        self.records.extend(other.records)
        self.problems.extend(other.problems)
        self.blank_lines += other.blank_lines
        self.lines += other.lines


def delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", " ": "space", ",": "comma"}.get(delimiter, repr(delimiter))


class PathChecker:
    """Joins label paths onto `data_dir` and tells whether they stay inside it."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = str(data_dir)
        self._base = os.path.normpath(os.path.abspath(self.data_dir))

    def full_path(self, rel: str) -> str:
        return os.path.join(self.data_dir, rel)

    def is_inside(self, rel: str) -> bool:
        if not os.path.isabs(rel) and ".." not in rel:
            return True  # fast path: a plain relative path cannot leave data_dir
        full = os.path.normpath(os.path.abspath(os.path.join(self._base, rel)))
        try:
            return os.path.commonpath([self._base, full]) == self._base
        except ValueError:  # different drives on Windows
            return False


def split_path_field(path_field: str) -> tuple[str, ...] | None:
    """The image paths a path column names, or None when a `[...]` column is not a JSON list of paths."""
    if not path_field.startswith("["):
        return (path_field,)
    try:
        value = json.loads(path_field)
    except ValueError:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        return None
    return tuple(value)


def parse_label_bytes(
    raw: bytes,
    source: str,
    *,
    data_dir: Path | str | None = None,
    delimiter: str = "\t",
) -> ParsedLabels:
    """Parse the bytes of a label file.

    Tolerates a UTF-8 BOM and `\\r\\n`; splits each line on the FIRST
    delimiter only, so labels may contain spaces and further delimiters.
    With `data_dir`, paths that resolve outside it become problems.
    """
    if not delimiter:
        raise UserError("the label delimiter is empty", "use the default tab or set `delimiter`")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    checker = PathChecker(data_dir) if data_dir is not None else None
    out = ParsedLabels()
    records = out.records
    problems = out.problems
    dname = delimiter_name(delimiter)
    raw_lines = raw.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    out.lines = len(raw_lines)
    for number, raw_line in enumerate(raw_lines, start=1):
        if raw_line.endswith(b"\r"):
            raw_line = raw_line[:-1]
        if not raw_line.strip():
            out.blank_lines += 1
            continue
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(LabelProblem(NOT_UTF8, source, number, f"line is not UTF-8 (byte {exc.start})"))
            continue
        path_field, sep, label = line.partition(delimiter)
        if not sep:
            problems.append(
                LabelProblem(NO_DELIMITER, source, number, f"no {dname} between image path and label: {_clip(line)}")
            )
            continue
        if not path_field:
            problems.append(LabelProblem(EMPTY_PATH, source, number, f"empty image path: {_clip(line)}"))
            continue
        paths = split_path_field(path_field)
        if paths is None:
            problems.append(
                LabelProblem(BAD_JSON_LIST, source, number, f"not a JSON list of image paths: {_clip(path_field)}")
            )
            continue
        if checker is not None:
            outside = next((p for p in paths if not checker.is_inside(p)), None)
            if outside is not None:
                problems.append(
                    LabelProblem(
                        OUTSIDE_DATA_DIR, source, number, f"image path {outside} is outside data_dir {checker.data_dir}"
                    )
                )
                continue
        records.append(LabelRecord(path_field, paths, label, source, number))
    return out


def read_label_file(
    path: Path | str,
    *,
    data_dir: Path | str | None = None,
    delimiter: str = "\t",
    key: str | None = None,
) -> ParsedLabels:
    """Read and parse one label file; `key` names the config key in the not-found message."""
    path = Path(path)
    prefix = f"{key}: " if key else ""
    if path.is_dir():
        raise UserError(f"{prefix}label file {path} is a folder", "give the .txt label file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(
            f"{prefix}label file not found: {path}",
            "fix the path, or create the file with `ocrrec dataset convert`",
        ) from None
    except OSError as exc:
        raise UserError(f"{prefix}cannot read label file {path}: {exc.strerror}") from None
    return parse_label_bytes(raw, str(path), data_dir=data_dir, delimiter=delimiter)


def outside_error(problem: LabelProblem, key: str) -> UserError:
    """The UserError a dataset raises for a path that escapes data_dir."""
    return UserError(
        f"{problem.where}: {problem.message}",
        f"paths in a label file are relative to {key}; point {key} at a common parent folder "
        "(`data_dir: /` allows absolute paths)",
    )


def _clip(text: str, limit: int = 60) -> str:
    text = text.replace("\t", "\\t")
    return text if len(text) <= limit else text[: limit - 1] + "…"
