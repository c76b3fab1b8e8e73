"""Dataset conversions: ICDAR word GT -> label file or LMDB; label file <-> LMDB.

ICDAR2015 word-recognition GT lines look like `word_1.png, "Tiredness"`; the
label is everything after the FIRST comma, with the surrounding quotes removed
and `\\"` / `\\\\` unescaped (PaddleOCR's gen_label.py splits on every comma
and deletes every quote, corrupting such labels). Outputs are written
atomically; nothing is overwritten without `force`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrrec.data.labels import PROBLEM_TEXT, read_label_file
from ocrrec.data.lmdb_io import LmdbReader, find_lmdb_dirs, is_lmdb_dir, write_lmdb
from ocrrec.errors import UsageError, UserError
from ocrrec.utils.io import atomic_open

FORMATS_IN = ("icdar", "txt", "lmdb")
FORMATS_OUT = ("txt", "lmdb")

SKIP_TEXT = {
    "malformed": "malformed line",
    "empty_label": "empty label",
    "missing_image": "image file not found",
    "unreadable_image": "image file unreadable",
    "newline_in_label": "label contains a line break",
    "missing_label": "no label in the LMDB",
    "missing_image_key": "no image in the LMDB",
    "unknown_format": "LMDB value is not a known image format",
}

ProgressFn = Callable[[int, int | None], None]


@dataclass
class ConvertReport:
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    expanded_lines: int = 0

    def skip(self, reason: str, where: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(f"{where} {detail}".strip())

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "skipped": dict(self.skipped),
            "skipped_total": sum(self.skipped.values()),
            "examples": self.examples,
            "outputs": self.outputs,
            "expanded_multi_image_lines": self.expanded_lines,
        }


# -- ICDAR ---------------------------------------------------------------
def parse_icdar_line(line: str) -> tuple[str, str] | None:
    """(image name, label) of one GT line, or None when it has no comma or an unclosed quote."""
    name, sep, rest = line.partition(",")
    if not sep:
        return None
    name, rest = name.strip(), rest.strip()
    if not rest.startswith('"'):
        return name, rest
    chars: list[str] = []
    i = 1
    while i < len(rest):
        c = rest[i]
        if c == "\\" and i + 1 < len(rest) and rest[i + 1] in '"\\':
            chars.append(rest[i + 1])
            i += 2
            continue
        if c == '"':
            if rest[i + 1 :].strip() == "":
                return name, "".join(chars)
            # a bare quote inside the text: take everything up to the last quote
            if rest.endswith('"'):
                return name, _unescape(rest[1:-1])
            return None
        chars.append(c)
        i += 1
    return None


def _unescape(text: str) -> str:
    return text.replace('\\\\', "\0").replace('\\"', '"').replace("\0", "\\")


def read_icdar_gt(path: Path, report: ConvertReport) -> Iterator[tuple[str, str, str]]:
    """(image name, label, file:line) for each usable GT line; skips are counted in `report`."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"ICDAR ground-truth file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for number, raw_line in enumerate(raw.split(b"\n"), start=1):
        raw_line = raw_line.rstrip(b"\r")
        where = f"{path}:{number}"
        if not raw_line.strip():
            continue
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            report.skip("malformed", where, "(not UTF-8)")
            continue
        parsed = parse_icdar_line(line)
        if parsed is None or not parsed[0]:
            report.skip("malformed", where, "(expected: name, \"label\")")
            continue
        name, label = parsed
        if label == "":
            report.skip("empty_label", where)
            continue
        yield name, label, where


# -- sources as (image path, label, where) --------------------------------------
def _icdar_items(gt: Path, images_dir: Path, report: ConvertReport) -> Iterator[tuple[str, str, str]]:
    for name, label, where in read_icdar_gt(gt, report):
        yield os.path.join(images_dir, name), label, where


def _label_file_items(
    label_file: Path, data_dir: Path, delimiter: str, report: ConvertReport
) -> Iterator[tuple[str, str, str]]:
    parsed = read_label_file(label_file, data_dir=data_dir, delimiter=delimiter)
    for problem in parsed.problems:
        report.skip("malformed", problem.where, f"({PROBLEM_TEXT.get(problem.kind, problem.kind)})")
    for rec in parsed.records:
        if rec.label == "":
            report.skip("empty_label", rec.where)
            continue
        if len(rec.paths) > 1:
            report.expanded_lines += 1
        for rel in rec.paths:
            yield os.path.join(data_dir, rel), rec.label, rec.where


def _count_lines(path: Path) -> int | None:
    try:
        with open(path, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None


# -- writers ---------------------------------------------------------------
def _refuse_existing_file(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise UserError(f"{path} already exists", "pass --force to overwrite it")
    if path.is_dir():
        raise UserError(f"{path} is a folder", "give a file path for the label file")


def _relative(path: str, base: Path) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    except ValueError:  # another drive (Windows)
        rel = None
    if rel is None or rel == ".." or rel.startswith(".." + os.sep):
        raise UserError(
            f"image {path} is not under the data folder {base}",
            "pass --data-dir with a folder that contains both the images and the label file's paths",
        )
    return rel.replace(os.sep, "/")


def _write_label_file(
    items: Iterator[tuple[str, str, str]],
    out: Path,
    base: Path,
    report: ConvertReport,
    progress: ProgressFn | None,
    total: int | None,
) -> None:
    done = 0
    with atomic_open(out, "w", encoding="utf-8") as handle:
        for path, label, where in items:
            done += 1
            if progress is not None and done % 256 == 0:
                progress(done, total)
            if "\n" in label or "\r" in label:
                report.skip("newline_in_label", where)
                continue
            if not os.path.isfile(path):
                report.skip("missing_image", where, path)
                continue
            handle.write(f"{_relative(path, base)}\t{label}\n")
            report.written += 1
    if progress is not None:
        progress(done, total)
    report.outputs.append(str(out))


def _image_bytes_items(
    items: Iterator[tuple[str, str, str]], report: ConvertReport, progress: ProgressFn | None, total: int | None
) -> Iterator[tuple[bytes, str]]:
    done = 0
    for path, label, where in items:
        done += 1
        if progress is not None and done % 256 == 0:
            progress(done, total)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            report.skip("missing_image", where, path)
            continue
        except OSError as exc:
            report.skip("unreadable_image", where, f"{path}: {exc.strerror}")
            continue
        report.written += 1
        yield data, label
    if progress is not None:
        progress(done, total)


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"BM", ".bmp"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
)


def image_extension(data: bytes) -> str | None:
    """File extension for encoded image bytes, from their magic number (None: unknown)."""
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def _lmdb_to_label_file(
    lmdb_root: Path,
    out: Path,
    images_dir: Path,
    base: Path,
    force: bool,
    report: ConvertReport,
    progress: ProgressFn | None,
) -> None:
    dirs = find_lmdb_dirs(lmdb_root)
    if not dirs:
        raise UsageError(f"no LMDB (data.mdb) under {lmdb_root}")
    if images_dir.exists() and any(images_dir.iterdir()) and not force:
        raise UserError(f"image folder {images_dir} is not empty", "pass --force to write into it, or choose --images")
    readers = [LmdbReader(d) for d in dirs]
    total = sum(len(r) for r in readers)
    images_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".images.", suffix=".tmp", dir=images_dir))
    done = 0
    lines: list[str] = []
    written_files: list[tuple[Path, Path]] = []
    try:
        for reader in readers:
            sub = "" if len(readers) == 1 else _lmdb_subdir_name(reader.path, lmdb_root)
            for index, image, label in reader.iter_items():
                done += 1
                if progress is not None and done % 256 == 0:
                    progress(done, total)
                where = f"{reader.path}:{index}"
                if label is None:
                    report.skip("missing_label", where)
                    continue
                if image is None:
                    report.skip("missing_image_key", where)
                    continue
                if "\n" in label or "\r" in label:
                    report.skip("newline_in_label", where)
                    continue
                if label == "":
                    report.skip("empty_label", where)
                    continue
                ext = image_extension(image)
                if ext is None:
                    report.skip("unknown_format", where)
                    continue
                name = Path(sub) / f"image-{index:09d}{ext}"
                staged = staging / name
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(image)
                final = images_dir / name
                written_files.append((staged, final))
                lines.append(f"{_relative(str(final), base)}\t{label}\n")
                report.written += 1
        for staged, final in written_files:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        with atomic_open(out, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for reader in readers:
            reader.close()
    if progress is not None:
        progress(done, total)
    report.outputs.extend([str(out), str(images_dir)])


def _lmdb_subdir_name(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root)
    return "root" if rel == "." else rel.replace(os.sep, "_")


# -- entry point -------------------------------------------------------------
def convert_dataset(
    src_format: str,
    dst_format: str,
    input_path: Path,
    out: Path,
    *,
    images: Path | None = None,
    data_dir: Path | None = None,
    delimiter: str = "\t",
    force: bool = False,
    progress: ProgressFn | None = None,
) -> ConvertReport:
    """Convert `input_path` (icdar GT file, label file or LMDB folder) to `out` (label file or LMDB folder).

    images: icdar -> the folder holding the images (default: the GT file's folder);
      txt -> the folder the label file's paths are relative to (its data_dir;
      default: the label file's folder); lmdb -> txt: where the extracted images
      go (default: `<out's folder>/images`).
    data_dir: written label files hold paths relative to it (default: out's folder).
    """
    if src_format not in FORMATS_IN:
        raise UsageError(f"--from must be one of {', '.join(FORMATS_IN)}, got {src_format!r}")
    if dst_format not in FORMATS_OUT:
        raise UsageError(f"--to must be one of {', '.join(FORMATS_OUT)}, got {dst_format!r}")
    if src_format == dst_format:
        raise UsageError(f"--from and --to are both {src_format}")
    input_path, out = Path(input_path), Path(out)
    report = ConvertReport()
    if src_format == "lmdb":
        if not input_path.is_dir():
            raise UsageError(f"LMDB folder not found: {input_path}")
        _refuse_existing_file(out, force)
        base = Path(data_dir) if data_dir is not None else out.parent
        _lmdb_to_label_file(input_path, out, Path(images) if images else base / "images", base, force, report, progress)
        return report

    if not input_path.is_file():
        raise UsageError(f"input file not found: {input_path}")
    if src_format == "icdar":
        items = _icdar_items(input_path, Path(images) if images else input_path.parent, report)
    else:
        items = _label_file_items(input_path, Path(images) if images else input_path.parent, delimiter, report)
    total = _count_lines(input_path)

    if dst_format == "txt":
        _refuse_existing_file(out, force)
        base = Path(data_dir) if data_dir is not None else out.parent
        _write_label_file(items, out, base, report, progress, total)
    else:
        if is_lmdb_dir(out) and not force:
            raise UserError(f"{out} already holds an LMDB", "pass --force to replace it")
        write_lmdb(out, _image_bytes_items(items, report, progress, total), overwrite=force)
        report.outputs.append(str(out))
    return report
