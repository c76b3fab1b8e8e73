"""`dataset validate`: find every problem in label files and LMDBs before training starts.

Checks malformed lines, missing / unreadable / 0-byte / undecodable images
(really decoded with cv2.imdecode, in parallel), characters outside the
dictionary, labels the label encoder would drop (empty, too long), duplicate
image paths, images in both Train and Eval, and extreme aspect ratios. Every
problem carries `file:line` (LMDB: `folder:index`).

Severity: "error" = the sample breaks or is dropped in training; "warning" =
it trains but deserves a look (unknown characters are skipped, duplicates,
aspect ratios). Aspect thresholds: wider than `max_aspect` (default 25:1), or
taller than `max_tall` x its width (default 1.5) when the label has more than
one character (a tall single character is normal; a tall multi-character crop
is usually vertical text, which a horizontal recogniser cannot read).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ocrrec.data.labels import OUTSIDE_DATA_DIR, read_label_file
from ocrrec.data.lmdb_io import LmdbReader, find_lmdb_dirs
from ocrrec.data.ops.label_encode import (
    EMPTY,
    NO_KNOWN_CHAR,
    TOO_LONG,
    TOO_LONG_WITH_TOKENS,
    BaseRecLabelEncode,
    CTCLabelEncode,
)
from ocrrec.errors import ConfigError, UserError

ERROR, WARNING = "error", "warning"
KINDS: dict[str, tuple[str, str]] = {
    "missing_source": (ERROR, "label file, LMDB or data_dir not found"),
    "malformed": (ERROR, "malformed line"),
    "outside_data_dir": (ERROR, "image path outside data_dir"),
    "empty_label": (ERROR, "empty label"),
    "missing_label": (ERROR, "no label in the LMDB"),
    "missing_image": (ERROR, "image not found"),
    "unreadable_image": (ERROR, "image unreadable"),
    "zero_size": (ERROR, "0-byte image"),
    "corrupt_image": (ERROR, "image does not decode"),
    "no_known_char": (ERROR, "no character in the dictionary (dropped)"),
    "too_long": (ERROR, "label too long (dropped)"),
    "unknown_chars": (WARNING, "characters outside the dictionary (skipped)"),
    "duplicate_path": (WARNING, "image listed more than once"),
    "train_eval_overlap": (WARNING, "image in both Train and Eval"),
    "too_wide": (WARNING, "extremely wide image"),
    "too_tall": (WARNING, "taller than wide"),
}
DEFAULT_MAX_ASPECT = 25.0
DEFAULT_MAX_TALL = 1.5
UNKNOWN_CHAR_EXAMPLES = 5

# image check status codes
OK, MISSING, UNREADABLE, ZERO, CORRUPT = 0, 1, 2, 3, 4
_STATUS_KIND = {MISSING: "missing_image", UNREADABLE: "unreadable_image", ZERO: "zero_size", CORRUPT: "corrupt_image"}
_CHUNK = 64

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    kind: str
    where: str
    message: str

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "severity": self.severity, "where": self.where, "message": self.message}


class LengthCheck:
    """Label check without a dictionary: only empty and too-long labels."""

    lower = False

    def __init__(self, max_text_length: int) -> None:
        self.max_text_len = int(max_text_length)

    def check_label(self, text: str) -> str | None:
        if not text:
            return EMPTY
        return TOO_LONG if len(text) > self.max_text_len else None

    def unknown_chars(self, text: str) -> list[str]:
        return []

    def describe_reason(self, reason: str) -> str:
        return f"longer than max_text_length={self.max_text_len}" if reason == TOO_LONG else reason


@dataclass
class Source:
    """One thing to validate: a label file (`kind="labels"`) or a folder of LMDBs (`kind="lmdb"`)."""

    path: Path
    kind: str
    checker: Any
    data_dir: Path | None = None
    role: str | None = None
    delimiter: str = "\t"
    ds_width: bool = False
    key: str | None = None  # config key naming this source, for messages


@dataclass
class SourceSummary:
    name: str
    kind: str
    role: str | None
    samples: int = 0
    images: int = 0


@dataclass
class ValidationReport:
    sources: list[SourceSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown_chars: dict[str, dict[str, Any]] = field(default_factory=dict)
    images_checked: int = 0
    image_seconds: float = 0.0
    heights: list[int] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    label_lengths: list[int] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        return Counter(p.kind for p in self.problems)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == WARNING)

    def ok(self, strict: bool = False) -> bool:
        return self.errors == 0 and (not strict or self.warnings == 0)

    @property
    def images_per_second(self) -> float:
        return self.images_checked / self.image_seconds if self.image_seconds > 0 else 0.0

    def stats(self) -> dict[str, Any]:
        def describe(values: list[int]) -> dict[str, float] | None:
            if not values:
                return None
            arr = np.asarray(values)
            return {"min": int(arr.min()), "median": float(np.median(arr)), "max": int(arr.max())}

        return {
            "samples": sum(s.samples for s in self.sources),
            "images_checked": self.images_checked,
            "images_per_second": round(self.images_per_second, 1),
            "height": describe(self.heights),
            "width": describe(self.widths),
            "label_length": describe(self.label_lengths),
        }

    def to_dict(self, strict: bool = False) -> dict[str, Any]:
        return {
            "ok": self.ok(strict),
            "errors": self.errors,
            "warnings": self.warnings,
            "counts": dict(self.counts()),
            "sources": [s.__dict__ for s in self.sources],
            "stats": self.stats(),
            "unknown_chars": self.unknown_chars,
            "settings": self.settings,
            "problems": [p.to_dict() for p in self.problems],
        }


# -- image checks (module level so a process pool can pickle them) -----------------
def _decode_status(raw: bytes | None) -> tuple[int, int, int]:
    if raw is None:
        return MISSING, 0, 0
    if len(raw) == 0:
        return ZERO, 0, 0
    img = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        return CORRUPT, 0, 0
    return OK, int(img.shape[0]), int(img.shape[1])


def check_image_files(paths: Sequence[str]) -> list[tuple[int, int, int]]:
    """(status, height, width) for each path: read and fully decode it."""
    out = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            out.append((MISSING, 0, 0))
            continue
        except OSError:
            out.append((UNREADABLE, 0, 0))
            continue
        out.append(_decode_status(raw))
    return out


def check_image_blobs(blobs: Sequence[bytes | None]) -> list[tuple[int, int, int]]:
    return [_decode_status(b) for b in blobs]


def _make_executor(kind: str, workers: int) -> Executor | None:
    if workers <= 1 or kind == "serial":
        return None
    if kind == "process":
        return ProcessPoolExecutor(max_workers=workers)
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers)
    raise UserError(f"unknown executor {kind!r}", "use thread, process or serial")


def run_image_checks(
    jobs: Iterable[Any],
    total: int,
    check: Callable[[list[Any]], list[tuple[int, int, int]]],
    *,
    workers: int | None = None,
    executor: str = "thread",
    progress: ProgressFn | None = None,
) -> list[tuple[int, int, int]]:
    """Run `check` over `jobs` in chunks, in parallel; results in job order."""
    workers = workers or os.cpu_count() or 1
    chunks: list[list[Any]] = []
    current: list[Any] = []
    for job in jobs:
        current.append(job)
        if len(current) == _CHUNK:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    results: list[tuple[int, int, int]] = []
    pool = _make_executor(executor, workers)
    try:
        mapped = pool.map(check, chunks) if pool is not None else map(check, chunks)
        for chunk_result in mapped:
            results.extend(chunk_result)
            if progress is not None:
                progress(len(results), total)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return results


# -- the validator ------------------------------------------------------------
class _Validator:
    def __init__(self, max_aspect: float, max_tall: float) -> None:
        self.report = ValidationReport()
        self.max_aspect = max_aspect
        self.max_tall = max_tall
        self.seen: dict[str, tuple[str, str | None]] = {}
        self.file_jobs: list[tuple[str, str, str]] = []  # (full path, where, label)
        self.lmdb_jobs: list[tuple[LmdbReader, int, str, str]] = []

    def problem(self, kind: str, where: str, message: str) -> None:
        self.report.problems.append(Problem(kind, where, message))

    def check_label(self, checker: Any, label: str, where: str) -> bool:
        """Label checks; False when the encoder would drop the sample."""
        self.report.label_lengths.append(len(label))
        reason = checker.check_label(label)
        if reason == EMPTY:
            self.problem("empty_label", where, "empty label")
            return False
        if reason in (TOO_LONG, TOO_LONG_WITH_TOKENS):
            self.problem("too_long", where, f"label of {len(label)} characters is {checker.describe_reason(reason)}")
            return False
        unknown = checker.unknown_chars(label)
        if unknown:
            for char in unknown:
                entry = self.report.unknown_chars.setdefault(char, {"count": 0, "first": []})
                entry["count"] += 1
                if len(entry["first"]) < UNKNOWN_CHAR_EXAMPLES and where not in entry["first"]:
                    entry["first"].append(where)
            chars = "".join(dict.fromkeys(unknown))
            if reason == NO_KNOWN_CHAR:
                self.problem("no_known_char", where, f"no character of {label!r} is in the dictionary")
                return False
            self.problem("unknown_chars", where, f"{chars!r} not in the dictionary (skipped in {label!r})")
        elif reason == NO_KNOWN_CHAR:
            self.problem("no_known_char", where, f"no character of {label!r} is in the dictionary")
            return False
        return True

    def add_label_file(self, src: Source, summary: SourceSummary) -> None:
        data_dir = src.data_dir if src.data_dir is not None else src.path.parent
        parsed = read_label_file(src.path, data_dir=data_dir, delimiter=src.delimiter)
        for p in parsed.problems:
            self.problem("outside_data_dir" if p.kind == OUTSIDE_DATA_DIR else "malformed", p.where, p.message)
        for rec in parsed.records:
            summary.samples += 1
            label = rec.label
            if src.ds_width:
                parts = label.rsplit(src.delimiter, 2)
                if len(parts) != 3:
                    self.problem("malformed", rec.where, "ds_width lines need path, label, width, height")
                    continue
                label = parts[0]
            self.check_label(src.checker, label, rec.where)
            for rel in rec.paths:
                full = os.path.normpath(os.path.join(data_dir, rel))
                first = self.seen.get(full)
                if first is not None:
                    first_where, first_role = first
                    if src.role and first_role and first_role != src.role:
                        self.problem(
                            "train_eval_overlap", rec.where, f"{rel} is also in {first_role} at {first_where}"
                        )
                    else:
                        self.problem("duplicate_path", rec.where, f"{rel} is also listed at {first_where}")
                    continue
                self.seen[full] = (rec.where, src.role)
                self.file_jobs.append((full, rec.where, label))
                summary.images += 1

    def add_lmdb(self, src: Source, summary: SourceSummary) -> None:
        dirs = find_lmdb_dirs(src.path)
        if not dirs:
            self.problem("missing_source", src.key or str(src.path), f"no LMDB (data.mdb) under {src.path}")
            return
        for d in dirs:
            reader = LmdbReader(d)
            for index, label in reader.iter_labels():
                where = f"{d}:{index}"
                summary.samples += 1
                if label is None:
                    self.problem("missing_label", where, f"no label-{index:09d} key")
                    continue
                self.check_label(src.checker, label, where)
                self.lmdb_jobs.append((reader, index, where, label))
                summary.images += 1

    def check_images(self, workers: int | None, executor: str, progress: ProgressFn | None) -> None:
        total = len(self.file_jobs) + len(self.lmdb_jobs)
        start = time.perf_counter()
        done_files = 0

        def file_progress(done: int, _total: int) -> None:
            nonlocal done_files
            done_files = done
            if progress is not None:
                progress(done, total)

        file_results = run_image_checks(
            (job[0] for job in self.file_jobs),
            total,
            check_image_files,
            workers=workers,
            executor=executor,
            progress=file_progress,
        )

        def blobs() -> Iterable[bytes | None]:
            for reader, index, _, _ in self.lmdb_jobs:
                yield reader.image(index)

        lmdb_results = run_image_checks(
            blobs(),
            total,
            check_image_blobs,
            workers=workers,
            executor=executor,
            progress=(lambda done, _t: progress(done_files + done, total)) if progress else None,
        )
        self.report.image_seconds = time.perf_counter() - start
        self.report.images_checked = total
        for (path, where, label), result in zip(self.file_jobs, file_results, strict=True):
            self._image_result(result, where, label, path)
        for (_, index, where, label), result in zip(self.lmdb_jobs, lmdb_results, strict=True):
            self._image_result(result, where, label, f"image-{index:09d}")

    def _image_result(self, result: tuple[int, int, int], where: str, label: str, name: str) -> None:
        status, h, w = result
        if status != OK:
            kind = _STATUS_KIND[status]
            self.problem(kind, where, f"{name}: {KINDS[kind][1]}")
            return
        self.report.heights.append(h)
        self.report.widths.append(w)
        if w > self.max_aspect * h:
            self.problem("too_wide", where, f"{name} is {w}x{h} (wider than {self.max_aspect:g}:1)")
        elif h > self.max_tall * w and len(label) > 1:
            self.problem("too_tall", where, f"{name} is {w}x{h} (taller than {self.max_tall:g}x its width) for {label!r}")


def validate_sources(
    sources: Sequence[Source],
    *,
    check_images: bool = True,
    workers: int | None = None,
    executor: str = "thread",
    max_aspect: float = DEFAULT_MAX_ASPECT,
    max_tall: float = DEFAULT_MAX_TALL,
    progress: ProgressFn | None = None,
    problems: Sequence[Problem] = (),
    settings: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Validate every source; `problems` are found earlier (e.g. missing config paths)."""
    v = _Validator(float(max_aspect), float(max_tall))
    v.report.problems.extend(problems)
    v.report.settings = {
        **dict(settings or {}),
        "max_aspect": max_aspect,
        "max_tall": max_tall,
        "images_checked": check_images,
    }
    for src in sources:
        summary = SourceSummary(str(src.path), src.kind, src.role)
        v.report.sources.append(summary)
        if src.kind == "lmdb":
            v.add_lmdb(src, summary)
            continue
        try:
            v.add_label_file(src, summary)
        except UserError as exc:
            v.problem("missing_source", src.key or str(src.path), exc.message)
    if check_images:
        v.check_images(workers, executor, progress)
    order = {kind: i for i, kind in enumerate(KINDS)}
    v.report.problems.sort(key=lambda p: (order.get(p.kind, 99)))
    return v.report


def make_checker(dict_spec: str | None, use_space_char: bool, max_text_length: int) -> Any:
    """Label check for explicit sources: the CTC rule with a dictionary, else length only."""
    if dict_spec is None:
        return LengthCheck(max_text_length)
    return CTCLabelEncode(max_text_length, dict_spec, use_space_char)


def sources_from_paths(
    paths: Sequence[Path],
    *,
    checker: Any,
    data_dir: Path | None = None,
    delimiter: str = "\t",
) -> list[Source]:
    """Label files and LMDB folders given on the command line."""
    sources = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            sources.append(Source(path, "lmdb", checker))
        else:
            sources.append(Source(path, "labels", checker, data_dir=data_dir, delimiter=delimiter))
    return sources


def _encoder_from_transforms(transforms: Any, global_config: Mapping[str, Any], where: str) -> Any:
    """Build only the label encoder of a transforms list (augmentations need not be importable)."""
    from ocrrec.data.pipeline import build_ops
    from ocrrec.data.registry import DATA_OPS

    for i, entry in enumerate(transforms or []):
        if isinstance(entry, Mapping) and len(entry) == 1:
            ((name, _),) = entry.items()
            if name in DATA_OPS:
                cls = DATA_OPS.get(name)
                if isinstance(cls, type) and issubclass(cls, BaseRecLabelEncode):
                    return build_ops([entry], global_config, f"{where}.transforms[{i}:]")[0]
    return None


def sources_from_config(
    config: Any, sections: Sequence[str] = ("Train", "Eval")
) -> tuple[list[Source], list[Problem], dict[str, Any]]:
    """The datasets of a config's Train/Eval sections, checked with the config's own label encoder."""
    import ocrrec.data.ops  # noqa: F401  (registers the ops)

    global_config = config.section("Global")
    sources: list[Source] = []
    problems: list[Problem] = []
    settings: dict[str, Any] = {}
    found = False
    for section in sections:
        if not config.has(section):
            continue
        where = f"{section}.dataset"
        dataset = config.get(where)
        if not isinstance(dataset, Mapping):
            continue
        found = True
        checker = _encoder_from_transforms(dataset.get("transforms"), global_config, where)
        if checker is None:
            checker = CTCLabelEncode(
                int(global_config.get("max_text_length", 25)),
                global_config.get("character_dict_path"),
                bool(global_config.get("use_space_char", False)),
            )
        settings[section] = {
            "dataset": dataset.get("name", "SimpleDataSet"),
            "dictionary": checker.charset.source,
            "characters": len(checker.charset),
            "max_text_length": checker.max_text_len,
            "label_encoder": type(checker).__name__,
        }
        data_dir = dataset.get("data_dir")
        if not data_dir:
            problems.append(Problem("missing_source", f"{where}.data_dir", "data_dir is not set"))
            continue
        if not Path(data_dir).is_dir():
            problems.append(Problem("missing_source", f"{where}.data_dir", f"folder not found: {data_dir}"))
            continue
        if dataset.get("name") == "LMDBDataSet":
            sources.append(Source(Path(data_dir), "lmdb", checker, role=section, key=f"{where}.data_dir"))
            continue
        files = dataset.get("label_file_list") or []
        if isinstance(files, str):
            files = [files]
        if not files:
            problems.append(Problem("missing_source", f"{where}.label_file_list", "no label files listed"))
        for i, label_file in enumerate(files):
            sources.append(
                Source(
                    Path(label_file),
                    "labels",
                    checker,
                    data_dir=Path(data_dir),
                    role=section,
                    delimiter=str(dataset.get("delimiter", "\t")),
                    ds_width=bool(dataset.get("ds_width", False)) and dataset.get("name") == "MultiScaleDataSet",
                    key=f"{where}.label_file_list[{i}]",
                )
            )
    if not found:
        raise ConfigError(f"{config.source or 'the config'} has no Train or Eval dataset to validate")
    return sources, problems, settings
