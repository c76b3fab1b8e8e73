"""Counters of failed sample loads, shared by the main process and DataLoader workers.

Workers are forked processes, so plain attributes would count per worker and be
lost. `LoadStats` keeps its counters and the first few failures (record index,
kind, message) in `multiprocessing` shared memory created with the dataset in
the main process; every worker inherits it and updates it under one lock, and
the main process reads a consistent snapshot between batches.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass, field

# Failure kinds. READ/DECODE/ERROR count towards the failure-rate limit;
# DROPPED (a transform rejected the sample, e.g. a label made too long by an
# augmentation) is PaddleOCR's normal behaviour and is only reported.
READ = 1
DECODE = 2
ERROR = 3
DROPPED = 4
KIND_NAMES = {READ: "unreadable", DECODE: "does not decode", ERROR: "transform error", DROPPED: "dropped by a transform"}
_MESSAGE_BYTES = 200


@dataclass(frozen=True)
class LoadFailure:
    record: int
    kind: int
    message: str

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, str(self.kind))


@dataclass(frozen=True)
class LoadSnapshot:
    draws: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    first: tuple[LoadFailure, ...] = ()

    @property
    def failures(self) -> int:
        """Reads, decodes and transform errors (what the failure-rate limit counts)."""
        return sum(self.counts.get(k, 0) for k in (READ, DECODE, ERROR))

    @property
    def dropped(self) -> int:
        return self.counts.get(DROPPED, 0)


class LoadStats:
    """Process-shared counters: draws, failures per kind, first `capacity` failures."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._lock = mp.Lock()
        # [draws, READ, DECODE, ERROR, DROPPED]
        self._counts = mp.RawArray("q", 5)
        self._first_record = mp.RawArray("q", capacity)
        self._first_kind = mp.RawArray("b", capacity)
        self._first_message = mp.RawArray("c", capacity * _MESSAGE_BYTES)
        self._first_count = mp.RawValue("i", 0)

    def record_draw(self) -> None:
        with self._lock:
            self._counts[0] += 1

    def record_failure(self, record: int, kind: int, message: str) -> None:
        with self._lock:
            self._counts[kind] += 1
            slot = self._first_count.value
            if slot < self.capacity and kind != DROPPED:
                self._first_record[slot] = record
                self._first_kind[slot] = kind
                raw = message.encode("utf-8", errors="replace")[: _MESSAGE_BYTES - 1]
                start = slot * _MESSAGE_BYTES
                self._first_message[start : start + _MESSAGE_BYTES] = raw.ljust(_MESSAGE_BYTES, b"\0")
                self._first_count.value = slot + 1

    def snapshot(self) -> LoadSnapshot:
        with self._lock:
            counts = list(self._counts)
            n = self._first_count.value
            first = []
            for slot in range(n):
                start = slot * _MESSAGE_BYTES
                raw = bytes(self._first_message[start : start + _MESSAGE_BYTES]).split(b"\0", 1)[0]
                first.append(
                    LoadFailure(int(self._first_record[slot]), int(self._first_kind[slot]), raw.decode("utf-8", "replace"))
                )
        return LoadSnapshot(counts[0], {k: counts[k] for k in (READ, DECODE, ERROR, DROPPED)}, tuple(first))

    def reset(self) -> None:
        with self._lock:
            for i in range(5):
                self._counts[i] = 0
            self._first_count.value = 0
