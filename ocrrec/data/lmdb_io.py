"""Read and write LMDB datasets in the scene-text benchmark layout.

Keys: `num-samples` (decimal count), `image-%09d` (encoded image bytes) and
`label-%09d` (UTF-8 text), numbered from 1. Readers open the environment lazily
in the process that uses it (never shared across fork); the writer commits in
chunks, grows the map as needed and writes `num-samples` last, into a temporary
folder that is renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ocrrec.errors import UserError

NUM_SAMPLES_KEY = b"num-samples"
LMDB_FILES = frozenset({"data.mdb", "lock.mdb"})


def image_key(index: int) -> bytes:
    return b"image-%09d" % index


def label_key(index: int) -> bytes:
    return b"label-%09d" % index


def is_lmdb_dir(path: Path) -> bool:
    return (Path(path) / "data.mdb").is_file()


def find_lmdb_dirs(root: Path) -> list[Path]:
    """Every folder under `root` (itself included) holding a `data.mdb`, sorted.

    Hidden folders (`.ipynb_checkpoints`, `.git`, ...) are skipped: PaddleOCR's
    walk treated them as datasets and crashed.
    """
    root = Path(root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if "data.mdb" in filenames:
            found.append(Path(dirpath))
    return sorted(found)


_ENVS: dict[str, tuple[int, Any]] = {}
_ENVS_LOCK = threading.Lock()


def _env_for(path: Path) -> Any:
    """This process's read-only environment for `path`, opened once and shared by all readers.

    py-lmdb refuses to open the same files twice in one process, and a forked
    DataLoader worker inherits the parent's open environments (which it must not
    use): an environment opened by another pid is closed here and replaced.
    """
    import lmdb

    key = os.path.realpath(path)
    pid = os.getpid()
    with _ENVS_LOCK:
        entry = _ENVS.get(key)
        if entry is not None:
            owner, env = entry
            if owner == pid:
                return env
            with contextlib.suppress(Exception):
                env.close()  # the inherited copy: only this process's mapping goes away
            del _ENVS[key]
        if not is_lmdb_dir(Path(path)):
            raise UserError(f"{path} is not an LMDB folder (no data.mdb)")
        try:
            env = lmdb.open(
                str(path), readonly=True, lock=False, readahead=False, meminit=False, max_readers=128, subdir=True
            )
        except lmdb.Error as exc:
            raise UserError(f"cannot open LMDB {path}: {exc}") from None
        _ENVS[key] = (pid, env)
        return env


def close_env(path: Path) -> None:
    """Close this process's environment for `path` (readers reopen it on their next read)."""
    with _ENVS_LOCK:
        entry = _ENVS.pop(os.path.realpath(path), None)
    if entry is not None and entry[0] == os.getpid():
        entry[1].close()


class LmdbReader:
    """Read-only access to one benchmark-layout LMDB folder.

    Holds only the path: the environment is opened on first read in the current
    process (see `_env_for`), so a reader made in the main process works in
    DataLoader workers, and several readers of one folder share one environment.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._num_samples: int | None = None

    def _open(self) -> Any:
        return _env_for(self.path)

    def close(self) -> None:
        close_env(self.path)

    def get(self, key: bytes) -> bytes | None:
        with self._open().begin(write=False, buffers=False) as txn:
            return txn.get(key)

    def __len__(self) -> int:
        if self._num_samples is None:
            raw = self.get(NUM_SAMPLES_KEY)
            if raw is None:
                raise UserError(
                    f"LMDB {self.path} has no `num-samples` key",
                    "it is not in the benchmark layout (num-samples, image-%09d, label-%09d); "
                    "write one with `ocrrec dataset convert --to lmdb`",
                )
            try:
                self._num_samples = int(raw.decode("ascii").strip())
            except (UnicodeDecodeError, ValueError):
                raise UserError(f"LMDB {self.path}: `num-samples` is not a number ({raw[:20]!r})") from None
        return self._num_samples

    def label(self, index: int) -> str | None:
        """The label of sample `index` (1-based), or None when the key is missing."""
        raw = self.get(label_key(index))
        return None if raw is None else raw.decode("utf-8", errors="replace")

    def image(self, index: int) -> bytes | None:
        return self.get(image_key(index))

    def iter_labels(self) -> Iterator[tuple[int, str | None]]:
        """(index, label) for every sample in one read transaction; no image is read."""
        count = len(self)
        with self._open().begin(write=False, buffers=True) as txn:
            for index in range(1, count + 1):
                raw = txn.get(label_key(index))
                yield index, None if raw is None else bytes(raw).decode("utf-8", errors="replace")

    def iter_items(self) -> Iterator[tuple[int, bytes | None, str | None]]:
        """(index, image bytes, label) for every sample, in order."""
        count = len(self)
        with self._open().begin(write=False, buffers=False) as txn:
            for index in range(1, count + 1):
                raw_label = txn.get(label_key(index))
                label = None if raw_label is None else raw_label.decode("utf-8", errors="replace")
                yield index, txn.get(image_key(index)), label


def _check_output_dir(out_dir: Path, overwrite: bool) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise UserError(f"{out_dir} exists and is not a folder", "choose another output path")
    contents = {p.name for p in out_dir.iterdir()}
    if not contents:
        return
    if not contents <= LMDB_FILES:
        raise UserError(
            f"{out_dir} exists and holds files other than an LMDB ({', '.join(sorted(contents - LMDB_FILES)[:3])})",
            "write the LMDB to a new or empty folder",
        )
    if not overwrite:
        raise UserError(f"{out_dir} already holds an LMDB", "pass --force to replace it")


def write_lmdb(
    out_dir: Path,
    items: Iterable[tuple[bytes, str]],
    *,
    overwrite: bool = False,
    commit_every: int = 1000,
    initial_map_size: int = 64 << 20,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write (image bytes, label) pairs as a benchmark-layout LMDB; return the sample count.

    Image bytes are stored exactly as given (encoded PNG/JPEG...). The LMDB is
    built in a temporary sibling folder and renamed to `out_dir` when complete,
    so an interrupted run never leaves a half-written dataset. `progress` is
    called with the number of samples written so far after each commit.
    """
    import lmdb

    out_dir = Path(out_dir)
    _check_output_dir(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    map_size = max(int(initial_map_size), 1 << 20)
    env = lmdb.open(str(tmp_dir), map_size=map_size, subdir=True, lock=True, meminit=False)
    written = 0
    try:
        chunk: list[tuple[bytes, bytes, bytes, bytes]] = []

        def flush() -> None:
            nonlocal map_size
            while True:
                try:
                    with env.begin(write=True) as txn:
                        for key_i, value_i, key_l, value_l in chunk:
                            txn.put(key_i, value_i)
                            txn.put(key_l, value_l)
                    break
                except lmdb.MapFullError:
                    map_size *= 2
                    env.set_mapsize(map_size)
            chunk.clear()
            if progress is not None:
                progress(written)

        for image, label in items:
            if isinstance(image, str) or not isinstance(image, (bytes, bytearray, memoryview)):
                raise TypeError(f"write_lmdb: image must be encoded bytes, got {type(image).__name__}")
            if not isinstance(label, str):
                raise TypeError(f"write_lmdb: label must be str, got {type(label).__name__}")
            written += 1
            chunk.append((image_key(written), bytes(image), label_key(written), label.encode("utf-8")))
            if len(chunk) >= commit_every:
                flush()
        if chunk:
            flush()
        while True:
            try:
                with env.begin(write=True) as txn:
                    txn.put(NUM_SAMPLES_KEY, str(written).encode("ascii"))
                break
            except lmdb.MapFullError:
                map_size *= 2
                env.set_mapsize(map_size)
        env.sync(True)
        env.close()
        _replace_dir(tmp_dir, out_dir)
    except BaseException:
        with contextlib.suppress(Exception):
            env.close()
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return written


def _replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`; an existing `target` is moved aside first, then deleted."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        old.rmdir()
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
