"""Recognition datasets: SimpleDataSet (label files), LMDBDataSet, MultiScaleDataSet.

Map-style datasets for `paddle.io.DataLoader` (which needs only `__len__` and
`__getitem__`; this module never imports paddle). Labels are checked once, when
the dataset is built, with the pipeline's own label encoder; unusable samples
are dropped and counted (`report()`). A sample that fails to load at draw time
is replaced by another one and counted in process-shared `LoadStats`, so the
counts are right with DataLoader workers too; `check_load_health()` (called by
the loader in the main process) warns once and raises a UserError when more
than 1% of draws fail.
"""

from __future__ import annotations

import logging
import os
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocrrec.data import load_stats as ls
from ocrrec.data.labels import (
    OUTSIDE_DATA_DIR,
    PROBLEM_TEXT,
    LabelProblem,
    outside_error,
    read_label_file,
    split_path_field,
)
from ocrrec.data.lmdb_io import LmdbReader, find_lmdb_dirs
from ocrrec.data.ops.image import DecodeImage, KeepKeys
from ocrrec.data.ops.label_encode import EMPTY, BaseRecLabelEncode, find_label_encoder
from ocrrec.data.ops.resize import resize_norm_img
from ocrrec.data.pipeline import build_ops, op_name
from ocrrec.data.registry import DATASETS
from ocrrec.errors import ConfigError, UserError

logger = logging.getLogger("ocrrec.data")

MALFORMED = "malformed"
MISSING_LABEL = "missing_label"
MAX_FAILURE_RATE = 0.01
MIN_DRAWS_FOR_RATE = 200
MAX_CONSECUTIVE_FAILURES = 50
EXAMPLES_PER_REASON = 3
_errors_logged_in_pid: set[int] = set()


class DataLoadError(UserError):
    """Too many samples in a row failed to load."""


class PackedStrings:
    """Many strings in one bytes blob + offsets.

    Forked DataLoader workers share it without copying: reading an item does not
    touch per-item Python objects (a list of str would be copied page by page as
    reference counts change).
    """

    def __init__(self, items: Iterable[str]) -> None:
        encoded = [s.encode("utf-8") for s in items]
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=self._offsets[1:])
        self._blob = b"".join(encoded)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        return self._blob[self._offsets[index] : self._offsets[index + 1]].decode("utf-8")


@dataclass
class DroppedSamples:
    reason: str
    description: str
    count: int
    examples: list[str]


@dataclass
class DatasetReport:
    """What was dropped when the dataset was built, and what failed while loading."""

    where: str
    total: int
    kept: int
    dropped: list[DroppedSamples] = field(default_factory=list)
    partly_unknown: int = 0
    unknown_chars: list[tuple[str, int]] = field(default_factory=list)
    partly_unknown_examples: list[str] = field(default_factory=list)
    draws: int = 0
    load_failures: int = 0
    transform_drops: int = 0
    failure_examples: list[str] = field(default_factory=list)

    @property
    def dropped_total(self) -> int:
        return sum(d.count for d in self.dropped)

    def summary(self, with_where: bool = True) -> str:
        """One paragraph for the log: what was dropped and why, with file:line examples."""
        if self.dropped:
            parts = [f"{d.count} {d.description} ({_examples(d.examples, d.count)})" for d in self.dropped]
            text = f"dropped {self.dropped_total} of {self.total} samples: " + ", ".join(parts)
        else:
            text = f"all {self.total} samples usable"
        if with_where:
            text = f"{self.where}: {text}"
        if self.partly_unknown:
            chars = ", ".join(f"{c!r} x{n}" for c, n in self.unknown_chars[:5])
            text += (
                f"; characters not in the dictionary ({chars}) are skipped in {_plural(self.partly_unknown, 'label')} "
                f"({_examples(self.partly_unknown_examples, self.partly_unknown)})"
            )
        if self.load_failures:
            text += (
                f"; {self.load_failures} of {self.draws} loads failed and were replaced "
                f"({_examples(self.failure_examples, self.load_failures)})"
            )
        if self.transform_drops:
            text += f"; {self.transform_drops} draws dropped by a transform and replaced"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "total": self.total,
            "kept": self.kept,
            "dropped": [d.__dict__ for d in self.dropped],
            "partly_unknown": self.partly_unknown,
            "unknown_chars": [list(x) for x in self.unknown_chars],
            "draws": self.draws,
            "load_failures": self.load_failures,
            "transform_drops": self.transform_drops,
            "failure_examples": self.failure_examples,
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _examples(examples: Sequence[str], count: int) -> str:
    return ", ".join(examples) + (", ..." if count > len(examples) else "")


class _LabelCleaner:
    """Runs the encoder's label check over every label once and tallies the reasons."""

    def __init__(self, encoder: BaseRecLabelEncode | None) -> None:
        self.encoder = encoder
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.descriptions: dict[str, str] = {}
        self.partly_unknown = 0
        self.unknown_chars: Counter[str] = Counter()
        self.partly_unknown_examples: list[str] = []
        self.total = 0

    def drop(self, reason: str, description: str, where: str) -> None:
        self.counts[reason] += 1
        self.descriptions.setdefault(reason, description)
        examples = self.examples.setdefault(reason, [])
        if len(examples) < EXAMPLES_PER_REASON:
            examples.append(where)

    def keep(self, label: str | None, where: str) -> bool:
        """True when the label is usable; otherwise the reason is counted."""
        self.total += 1
        if label is None:
            self.drop(MISSING_LABEL, "with no label in the LMDB", where)
            return False
        if self.encoder is None:
            if label == "":
                self.drop(EMPTY, "with an empty label", where)
                return False
            return True
        reason = self.encoder.check_label(label)
        if reason is not None:
            self.drop(reason, self.encoder.describe_reason(reason), where)
            return False
        unknown = self.encoder.unknown_chars(label)
        if unknown:
            self.partly_unknown += 1
            self.unknown_chars.update(unknown)
            if len(self.partly_unknown_examples) < EXAMPLES_PER_REASON:
                self.partly_unknown_examples.append(where)
        return True

    def malformed(self, problem: LabelProblem) -> None:
        self.total += 1
        self.drop(MALFORMED, "with a malformed line", f"{problem.where} {PROBLEM_TEXT.get(problem.kind, problem.kind)}")

    def dropped(self) -> list[DroppedSamples]:
        return [
            DroppedSamples(reason, self.descriptions[reason], count, list(self.examples[reason]))
            for reason, count in self.counts.most_common()
        ]


def _ratio_list(value: Any, count: int, key: str) -> list[float]:
    if value is None:
        value = 1.0
    if isinstance(value, (int, float)):
        ratios = [float(value)] * count
    elif isinstance(value, Sequence) and not isinstance(value, str):
        ratios = [float(v) for v in value]
        if len(ratios) == 1 and count > 1:
            ratios = ratios * count
    else:
        raise ConfigError(f"{key} must be a number or a list of numbers, got {value!r}")
    if len(ratios) != count:
        raise ConfigError(f"{key} has {len(ratios)} entries for {count} sources", "give one ratio per label file")
    for r in ratios:
        if not 0.0 < r <= 1.0:
            raise ConfigError(f"{key}: each ratio must be in (0, 1], got {r}")
    return ratios


def _mix_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([abs(int(p)) for p in parts]).generate_state(1)[0])


class RecDataset:
    """Shared machinery: ops, label cleaning, per-epoch subsets, failure replacement.

    Subclasses load their records in `_load_records()` (calling `_add_source`)
    and implement `_load(record)` and `_record_where(record)`.
    """

    def __init__(
        self,
        dataset_config: Mapping[str, Any],
        global_config: Mapping[str, Any] | None = None,
        *,
        mode: str = "Train",
        seed: int | None = None,
        shuffle: bool = False,
    ) -> None:
        self.mode = mode
        self.shuffle = bool(shuffle)  # the loader's shuffle (PaddleOCR's SimpleDataSet also shuffles its lines once)
        self.where = f"{mode}.dataset"
        self.config = dict(dataset_config)
        self.global_config = dict(global_config or {})
        self.seed = seed
        self.is_training = mode.lower() == "train"
        self.ops = build_ops(self.config.get("transforms"), self.global_config, f"{self.where}.transforms")
        if not self.ops:
            raise ConfigError(f"{self.where}.transforms is empty", "list DecodeImage, a label encoder, a resize and KeepKeys")
        last = self.ops[-1]
        self.keep_keys: list[str] | None = list(last.keep_keys) if isinstance(last, KeepKeys) else None
        self.ext_op_transform_idx = int(self.config.get("ext_op_transform_idx", 1))
        self._ext_data_num = next((int(op.ext_data_num) for op in self.ops if hasattr(op, "ext_data_num")), 0)
        self.label_encoder = find_label_encoder(self.ops)
        self._cleaner = _LabelCleaner(self.label_encoder)
        self._sources: list[tuple[int, int]] = []  # (start, end) record ranges
        self._ratios: list[float] = []
        self._epoch = 0
        self._stats = ls.LoadStats()
        self._warned = False
        self._load_records()
        self._need_reset = any(r < 1.0 for r in self._ratios)
        self.paddleocr_order = self.paddleocr_line_order and self.is_training and not self._need_reset
        self.epoch_shuffle = False
        self._order = self._build_order()
        if len(self._order) == 0:
            raise UserError(
                f"{self.where}: no usable samples ({self._describe_empty()})",
                f"check {self.where}.data_dir and the label files; `ocrrec dataset validate` lists the problems",
            )

    # -- subclass hooks -------------------------------------------------
    def _load_records(self) -> None:
        raise NotImplementedError

    def _load(self, record: int) -> dict[str, Any]:
        raise NotImplementedError

    def _record_where(self, record: int) -> str:
        raise NotImplementedError

    def _num_records(self) -> int:
        return self._sources[-1][1] if self._sources else 0

    def _describe_empty(self) -> str:
        cleaner = self._cleaner
        if cleaner.total == 0:
            return "the sources are empty"
        return DatasetReport(self.where, cleaner.total, 0, cleaner.dropped()).summary(with_where=False)

    # -- order, epochs --------------------------------------------------
    # PaddleOCR's SimpleDataSet draws its training lines in a seeded random order even with
    # shuffle: false; label-file training sets follow that order exactly (see
    # SimpleDataSet._paddleocr_order) unless a ratio_list < 1 samples subsets (then the epoch
    # length would vary with the cleaned lines each subset happens to hold; ocrrec's own seeded
    # subsets are used).
    paddleocr_line_order = False

    def _add_source(self, count: int, ratio: float) -> None:
        start = self._num_records()
        self._sources.append((start, start + count))
        self._ratios.append(ratio)

    def _build_order(self) -> np.ndarray:
        parts = []
        for source_index, ((start, end), ratio) in enumerate(zip(self._sources, self._ratios, strict=True)):
            count = end - start
            if ratio < 1.0 and count:
                keep = round(count * ratio)
                rng = random.Random(_mix_seed(self.seed or 0, self._epoch, source_index))
                picked = np.sort(np.fromiter(rng.sample(range(count), keep), dtype=np.int64, count=keep))
                parts.append(picked + start)
            else:
                parts.append(np.arange(start, end, dtype=np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def use_epoch_shuffle(self) -> bool:
        """Shuffle PaddleOCR's way each epoch (True) so the batch sampler must not; False if not in that mode."""
        if not (self.paddleocr_order and self.shuffle):
            return False
        self.epoch_shuffle = True
        self._order = self._build_order()
        return True

    def set_epoch(self, epoch: int) -> None:
        """Select epoch `epoch`'s subset when `ratio_list` samples fractions (same seed -> same subset)."""
        if epoch != self._epoch:
            self._epoch = int(epoch)
            if self._need_reset or self.epoch_shuffle:
                self._order = self._build_order()

    def __len__(self) -> int:
        return len(self._order)

    # -- inspection (eval error lists, export parity) ----------------------
    def describe(self, position: int) -> str:
        """Where sample `position` comes from: its image path (label files) or `lmdb:index`."""
        record = int(self._order[position])
        try:
            return str(self._load(record).get("img_path") or self._record_where(record))
        except OSError:
            return self._record_where(record)

    def load_raw(self, position: int) -> tuple[np.ndarray, str] | None:
        """(decoded BGR image, label) of sample `position` before any transform; None if unreadable."""
        import cv2

        try:
            data = self._load(int(self._order[position]))
        except OSError:
            return None
        image = cv2.imdecode(np.frombuffer(data["image"], dtype=np.uint8), cv2.IMREAD_COLOR)
        return None if image is None else (image, data["label"])

    # -- drawing samples ------------------------------------------------
    def __getitem__(self, index: int) -> Any:
        return self._draw(int(index), self.ops)

    def _draw(self, position: int, ops: Sequence[Any]) -> Any:
        count = len(self._order)
        if self.is_training and self.seed is not None:
            # Augmentation draws from the global RNGs (as PaddleOCR's ops do). Seeding them per
            # sample makes each sample a function of (seed, epoch, position) alone, whatever the
            # worker count, prefetching or batches skipped when a run resumes mid-epoch.
            sample_seed = _mix_seed(self.seed, self._epoch, position)
            random.seed(sample_seed)
            np.random.seed(sample_seed)
        for _ in range(MAX_CONSECUTIVE_FAILURES):
            record = int(self._order[position])
            out = self._sample(record, ops)
            if out is not None:
                return out
            # PaddleOCR: a random replacement in training (never the one that just failed),
            # the next sample in evaluation
            if self.is_training and count > 1:
                other = int(np.random.randint(count - 1))
                position = other if other < position else other + 1
            else:
                position = (position + 1) % count
        snap = self._stats.snapshot()
        raise DataLoadError(
            f"{self.where}: {MAX_CONSECUTIVE_FAILURES} samples in a row failed to load "
            f"({self._failure_lines(snap)})",
            "run `ocrrec dataset validate` on this config to list every bad image",
        )

    def _sample(self, record: int, ops: Sequence[Any], with_ext: bool = True) -> Any:
        stats = self._stats
        stats.record_draw()
        try:
            data = self._load(record)
        except OSError as exc:
            stats.record_failure(record, ls.READ, _os_message(exc))
            return None
        if with_ext:
            data["ext_data"] = self._ext_data() if self._ext_data_num else []
        for op in ops:
            try:
                data = op(data)
            except Exception as exc:
                self._log_error_once(record, op, exc)
                stats.record_failure(record, ls.ERROR, f"{op_name(op)}: {type(exc).__name__}: {exc}")
                return None
            if data is None:
                if isinstance(op, DecodeImage):
                    stats.record_failure(record, ls.DECODE, "image does not decode")
                else:
                    stats.record_failure(record, ls.DROPPED, f"dropped by {op_name(op)}")
                return None
        return data

    def _ext_data(self) -> list[dict]:
        """`ext_data_num` other random samples run through the first `ext_op_transform_idx` ops."""
        ops = self.ops[: self.ext_op_transform_idx]
        out: list[dict] = []
        for _ in range(self._ext_data_num * 10 + 10):
            if len(out) >= self._ext_data_num:
                break
            record = int(self._order[np.random.randint(len(self._order))])
            data = self._sample(record, ops, with_ext=False)
            if data is not None:
                out.append(data)
        return out

    def _log_error_once(self, record: int, op: Any, exc: Exception) -> None:
        pid = os.getpid()
        if pid not in _errors_logged_in_pid:
            _errors_logged_in_pid.add(pid)
            logger.warning(
                "%s: %s raised on %s (the sample is replaced; further errors are only counted)",
                self.where,
                op_name(op),
                self._record_where(record),
                exc_info=exc,
            )

    # -- health and report --------------------------------------------
    def _failure_lines(self, snap: ls.LoadSnapshot, limit: int = 5) -> str:
        lines = dict.fromkeys(f"{self._record_where(f.record)}: {f.message}" for f in snap.first)
        return "; ".join(list(lines)[:limit])

    def check_load_health(self, final: bool = False) -> str | None:
        """Main process, between batches: warn once on the first failures; raise past 1%.

        Returns the warning text the first time failures are seen (it is also
        logged), else None. Raises UserError when more than 1% of draws failed at
        the end of an epoch (`final`), or more than 2% once 200 draws happened.
        """
        snap = self._stats.snapshot()
        message = None
        if snap.failures and not self._warned:
            self._warned = True
            message = (
                f"{self.where}: {snap.failures} of {snap.draws} sample loads failed so far and were replaced "
                f"by other samples ({self._failure_lines(snap)})"
            )
            logger.warning(message)
        # Mid-epoch the rate is noisy, so only twice the limit stops early; epoch ends use the limit.
        limit = MAX_FAILURE_RATE if final else 2 * MAX_FAILURE_RATE
        if (final or snap.draws >= MIN_DRAWS_FOR_RATE) and snap.draws and snap.failures > limit * snap.draws:
            raise UserError(
                f"{self.where}: {snap.failures} of {snap.draws} sample loads failed "
                f"({100.0 * snap.failures / snap.draws:.1f}%, limit {100 * limit:.0f}%): "
                f"{self._failure_lines(snap)}",
                "run `ocrrec dataset validate -c CONFIG` to list every unreadable image, then fix or remove them",
            )
        return message

    def load_snapshot(self) -> ls.LoadSnapshot:
        return self._stats.snapshot()

    def report(self) -> DatasetReport:
        c = self._cleaner
        snap = self._stats.snapshot()
        return DatasetReport(
            where=self.where,
            total=c.total,
            kept=self._num_records(),
            dropped=c.dropped(),
            partly_unknown=c.partly_unknown,
            unknown_chars=c.unknown_chars.most_common(10),
            partly_unknown_examples=list(c.partly_unknown_examples),
            draws=snap.draws,
            load_failures=snap.failures,
            transform_drops=snap.dropped,
            failure_examples=[f"{self._record_where(f.record)} {f.message}" for f in snap.first[:EXAMPLES_PER_REASON]],
        )


def _os_message(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}"
    return f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"


def _require(config: Mapping[str, Any], key: str, where: str) -> Any:
    value = config.get(key)
    if value in (None, ""):
        raise ConfigError(f"{where}.{key} is not set")
    return value


def _label_files(config: Mapping[str, Any], where: str) -> list[str]:
    files = _require(config, "label_file_list", where)
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, Sequence) or not files:
        raise ConfigError(f"{where}.label_file_list must be a list of label files, got {files!r}")
    return [str(f) for f in files]


def _data_dir(config: Mapping[str, Any], where: str) -> str:
    data_dir = str(_require(config, "data_dir", where))
    if not Path(data_dir).is_dir():
        raise UserError(
            f"{where}.data_dir: folder not found: {data_dir}",
            "set it to the folder the image paths in the label files are relative to",
        )
    return data_dir


@DATASETS.register()
class SimpleDataSet(RecDataset):
    """Label files (`label_file_list`) of `path<TAB>label` lines, images under `data_dir`.

    A path column that is a JSON list (`["a.jpg", "b.jpg"]`) is one sample whose
    image is drawn at random each time. `ratio_list` keeps that fraction of each
    file (a new subset every epoch). Training visits the lines in PaddleOCR's order
    for the same Global.seed (see _paddleocr_order).
    """

    paddleocr_line_order = True

    def _load_records(self) -> None:
        where = self.where
        self.data_dir = _data_dir(self.config, where)
        files = _label_files(self.config, where)
        ratios = _ratio_list(self.config.get("ratio_list", 1.0), len(files), f"{where}.ratio_list")
        self.delimiter = str(self.config.get("delimiter", "\t"))
        self._source_files: list[str] = []
        self._line_counts: list[int] = []  # lines per label file before cleaning (PaddleOCR's order is over these)
        self._paddleocr_base: np.ndarray | None = None
        path_fields: list[str] = []
        labels: list[str] = []
        source_ids: list[int] = []
        lines: list[int] = []
        extras: list[Any] = []
        for i, label_file in enumerate(files):
            parsed = read_label_file(
                label_file, data_dir=self.data_dir, delimiter=self.delimiter, key=f"{where}.label_file_list[{i}]"
            )
            outside = next((p for p in parsed.problems if p.kind == OUTSIDE_DATA_DIR), None)
            if outside is not None:
                raise outside_error(outside, f"{where}.data_dir")
            for problem in parsed.problems:
                self._cleaner.malformed(problem)
            self._source_files.append(label_file)
            kept = 0
            for rec in parsed.records:
                label, extra = self._split_label(rec.label, rec.where)
                if label is None or not self._cleaner.keep(label, rec.where):
                    continue
                path_fields.append(rec.path_field)
                labels.append(label)
                source_ids.append(i)
                lines.append(rec.line)
                extras.append(extra)
                kept += 1
            self._line_counts.append(parsed.lines)
            self._add_source(kept, ratios[i])
        self._path_fields = PackedStrings(path_fields)
        self._labels = PackedStrings(labels)
        self._source_ids = np.asarray(source_ids, dtype=np.int32)
        self._lines = np.asarray(lines, dtype=np.int32)
        self._store_extras(extras)

    def _build_order(self) -> np.ndarray:
        return self._paddleocr_order() if self.paddleocr_order else super()._build_order()

    def _paddleocr_order(self) -> np.ndarray:
        """The training order of PaddleOCR's SimpleDataSet for the same seed, minus cleaned lines.

        PaddleOCR takes each label file's lines as `random.sample(lines, len(lines))` after
        `random.seed(seed)`, and with shuffle shuffles the whole list after `random.seed(seed)`
        again. Its DistributedBatchSampler then shuffles the line positions with
        `RandomState(k)` in pass k (from 0); that happens here too (`epoch_shuffle`, set by the
        loader), over all lines, so cleaned lines do not shift the order of the others.
        """
        if self._paddleocr_base is None:
            seed = 0 if self.seed is None else self.seed
            first_line = np.cumsum([0, *self._line_counts])  # global index of each file's first line
            raw: list[int] = []
            for offset, count in zip(first_line[:-1], self._line_counts, strict=True):
                raw.extend(int(offset) + i for i in random.Random(seed).sample(range(count), count))
            if self.shuffle:
                random.Random(seed).shuffle(raw)
            record_of_raw = np.full(int(first_line[-1]), -1, dtype=np.int64)
            record_of_raw[first_line[self._source_ids] + self._lines - 1] = np.arange(self._num_records(), dtype=np.int64)
            self._paddleocr_base = record_of_raw[np.asarray(raw, dtype=np.int64)]
        order = self._paddleocr_base
        if self.epoch_shuffle:
            positions = np.arange(len(order), dtype=np.int64)
            np.random.RandomState(max(0, self._epoch - 1)).shuffle(positions)
            order = order[positions]
        return order[order >= 0]

    def _split_label(self, label: str, where: str) -> tuple[str | None, Any]:
        """(label, per-record extra) of a label column; MultiScaleDataSet parses width/height here."""
        return label, None

    def _store_extras(self, extras: list[Any]) -> None:
        """Keep the per-record extras of the kept records (plain label files have none)."""

    def _record_where(self, record: int) -> str:
        return f"{self._source_files[self._source_ids[record]]}:{self._lines[record]}"

    def _load(self, record: int) -> dict[str, Any]:
        paths = split_path_field(self._path_fields[record]) or ()
        rel = paths[0] if len(paths) == 1 else random.choice(paths)
        img_path = os.path.join(self.data_dir, rel)
        with open(img_path, "rb") as handle:
            image = handle.read()
        return {"img_path": img_path, "label": self._labels[record], "image": image}


class _ScaleResize:
    """MultiScaleDataSet's resize to the batch's (width, height), inserted before KeepKeys."""

    def __init__(self, width: int, height: int) -> None:
        self.shape = (3, int(height), int(width))

    def __call__(self, data: dict) -> dict:
        data["image"], valid_ratio = resize_norm_img(data["image"], self.shape, padding=True)
        data["valid_ratio"] = np.float32(valid_ratio)
        return data


@DATASETS.register()
class MultiScaleDataSet(SimpleDataSet):
    """PP-OCRv4's multi-scale training set, driven by `MultiScaleSampler`.

    Items are drawn with (width, height, index[, wh_ratio]) tuples: every op but
    the last runs, then the image is resized/normalised to that size, then the
    last op (KeepKeys). With `ds_width: true` the label lines carry
    `path<TAB>label<TAB>width<TAB>height` and batches group similar aspect ratios.
    A plain integer index runs the full transform list like SimpleDataSet.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._scale_ops: dict[tuple[int, int], list[Any]] = {}
        super().__init__(*args, **kwargs)
        self.ds_width = bool(self.config.get("ds_width", False))
        self._update_ratio_order()

    def _split_label(self, label: str, where: str) -> tuple[str | None, Any]:
        if not self.config.get("ds_width", False):
            return label, None
        parts = label.rsplit(self.delimiter, 2)
        try:
            if len(parts) != 3:
                raise ValueError
            width, height = float(parts[1]), float(parts[2])
            if width <= 0 or height <= 0:
                raise ValueError
        except ValueError:
            self._cleaner.drop(MALFORMED, "with a malformed line", f"{where} ds_width needs path, label, width, height")
            self._cleaner.total += 1
            return None, None
        return parts[0], width / height

    def _store_extras(self, extras: list[Any]) -> None:
        self._wh_ratio_all = np.asarray([1.0 if e is None else e for e in extras], dtype=np.float64)

    def _update_ratio_order(self) -> None:
        self.wh_ratio = self._wh_ratio_all[self._order] if self.ds_width else np.zeros(0)
        self.wh_ratio_sort = np.argsort(self.wh_ratio, kind="stable") if self.ds_width else np.zeros(0, np.int64)

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self._update_ratio_order()

    def _ops_for(self, width: int, height: int) -> list[Any]:
        key = (int(width), int(height))
        ops = self._scale_ops.get(key)
        if ops is None:
            ops = [*self.ops[:-1], _ScaleResize(width, height), self.ops[-1]]
            self._scale_ops[key] = ops
        return ops

    def __getitem__(self, properties: Any) -> Any:
        if isinstance(properties, (int, np.integer)):
            return super().__getitem__(int(properties))
        width, height, index = int(properties[0]), int(properties[1]), int(properties[2])
        ratio = properties[3] if len(properties) > 3 else None
        if self.ds_width and ratio is not None:
            width = height * max(1, int(round(ratio)))
            position = int(self.wh_ratio_sort[index])
        else:
            position = index
        return self._draw(position, self._ops_for(width, height))


@DATASETS.register()
class LMDBDataSet(RecDataset):
    """Benchmark-layout LMDB folders found under `data_dir` (hidden folders skipped).

    `ratio_list` may give one fraction for all LMDB folders or one per folder
    (in sorted path order).
    """

    def _load_records(self) -> None:
        where = self.where
        data_dir = _data_dir(self.config, where)
        self.lmdb_dirs = find_lmdb_dirs(Path(data_dir))
        if not self.lmdb_dirs:
            raise UserError(
                f"{where}.data_dir: no LMDB (data.mdb) under {data_dir}",
                "convert label files with `ocrrec dataset convert --from txt --to lmdb`, "
                "or use SimpleDataSet for label files",
            )
        ratios = _ratio_list(self.config.get("ratio_list", 1.0), len(self.lmdb_dirs), f"{where}.ratio_list")
        self._readers = [LmdbReader(d) for d in self.lmdb_dirs]
        db_ids: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        for db, reader in enumerate(self._readers):
            kept_keys = [
                index for index, label in reader.iter_labels() if self._cleaner.keep(label, f"{reader.path}:{index}")
            ]
            db_ids.append(np.full(len(kept_keys), db, dtype=np.int32))
            keys.append(np.asarray(kept_keys, dtype=np.int64))
            self._add_source(len(kept_keys), ratios[db])
        self._db_ids = np.concatenate(db_ids)
        self._keys = np.concatenate(keys)
        for reader in self._readers:
            reader.close()

    def _record_where(self, record: int) -> str:
        return f"{self._readers[self._db_ids[record]].path}:{self._keys[record]}"

    def _load(self, record: int) -> dict[str, Any]:
        reader = self._readers[self._db_ids[record]]
        key = int(self._keys[record])
        image = reader.image(key)
        if image is None:
            raise OSError(f"no image-{key:09d} key in {reader.path}")
        label = reader.label(key) or ""
        return {"img_path": f"{reader.path}:{key}", "label": label, "image": image}


def build_dataset(config: Any, mode: str, *, seed: int | None = None) -> RecDataset:
    """The dataset of `config[mode]` (a Config or a plain dict), with Global passed to the ops."""
    if hasattr(config, "section"):
        section, global_config = config.section(mode), config.section("Global")
    else:
        section, global_config = dict(config.get(mode) or {}), dict(config.get("Global") or {})
    if not section:
        raise ConfigError(f"the config has no `{mode}` section", f"add {mode}: dataset: ... and loader: ...")
    dataset_config = section.get("dataset")
    if not isinstance(dataset_config, Mapping):
        raise ConfigError(f"{mode}.dataset is missing or not a mapping")
    name = dataset_config.get("name", "SimpleDataSet")
    cls = DATASETS.get(name, f"{mode}.dataset.name")
    return cls(dataset_config, global_config, mode=mode, seed=seed, shuffle=loader_shuffle(section.get("loader"), mode))


def loader_shuffle(loader_config: Any, mode: str) -> bool:
    """`{mode}.loader.shuffle`; on by default in training, as in PaddleOCR."""
    return bool(loader_config.get("shuffle", mode == "Train")) if isinstance(loader_config, Mapping) else mode == "Train"


# PaddleX's names for the same datasets.
DATASETS.register("TextRecDataset")(SimpleDataSet)
DATASETS.register("MSTextRecDataset")(MultiScaleDataSet)
