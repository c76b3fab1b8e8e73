"""LMDB benchmark layout: writing, reading, discovery, and the writer's safety checks."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import lmdb
import pytest

from ocrrec.data.lmdb_io import LmdbReader, find_lmdb_dirs, write_lmdb
from ocrrec.errors import UserError


def items(n: int, size: int = 10):
    return [(bytes([i % 256]) * size + b"\x00\xff", f"label {i} é") for i in range(n)]


def test_round_trip_keeps_bytes_and_labels(tmp_path: Path):
    data = items(25)
    assert write_lmdb(tmp_path / "db", data, commit_every=7) == 25
    reader = LmdbReader(tmp_path / "db")
    assert len(reader) == 25
    assert reader.image(1) == data[0][0]
    assert reader.label(25) == data[24][1]
    assert reader.label(26) is None
    assert [(i, img, lab) for i, img, lab in reader.iter_items()] == [
        (i + 1, img, lab) for i, (img, lab) in enumerate(data)
    ]
    assert list(reader.iter_labels())[:2] == [(1, "label 0 é"), (2, "label 1 é")]


def test_layout_is_the_benchmark_one(tmp_path: Path):
    write_lmdb(tmp_path / "db", [(b"PNGDATA", "abc")])
    env = lmdb.open(str(tmp_path / "db"), readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.get(b"num-samples") == b"1"
        assert txn.get(b"image-000000001") == b"PNGDATA"
        assert txn.get(b"label-000000001") == b"abc"
    env.close()


def test_map_grows_when_full(tmp_path: Path):
    big = [(b"x" * 300_000, str(i)) for i in range(12)]  # ~3.6 MB into a 1 MiB initial map
    assert write_lmdb(tmp_path / "db", big, initial_map_size=1 << 20, commit_every=5) == 12
    assert LmdbReader(tmp_path / "db").image(12) == big[11][0]


def test_refuses_to_overwrite_without_flag(tmp_path: Path):
    write_lmdb(tmp_path / "db", items(2))
    with pytest.raises(UserError) as info:
        write_lmdb(tmp_path / "db", items(3))
    assert info.value.message == f"{tmp_path / 'db'} already holds an LMDB"
    assert write_lmdb(tmp_path / "db", items(3), overwrite=True) == 3
    assert len(LmdbReader(tmp_path / "db")) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["db"]  # no temporary folders left behind


def test_refuses_a_folder_with_other_files(tmp_path: Path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "keep.png").write_bytes(b"x")
    with pytest.raises(UserError, match="holds files other than an LMDB"):
        write_lmdb(tmp_path / "db", items(1), overwrite=True)


def test_string_images_are_refused_and_nothing_is_left(tmp_path: Path):
    with pytest.raises(TypeError, match="image must be encoded bytes, got str"):
        write_lmdb(tmp_path / "db", [(b"ok", "a"), ("b'\\x89PNG'", "b")])
    assert not (tmp_path / "db").exists()
    assert list(tmp_path.iterdir()) == []


def test_find_lmdb_dirs_skips_hidden_folders(tmp_path: Path):
    write_lmdb(tmp_path / "a" / "train", items(1))
    write_lmdb(tmp_path / "b", items(1))
    write_lmdb(tmp_path / ".ipynb_checkpoints" / "x", items(1))
    write_lmdb(tmp_path / "a" / ".hidden", items(1))
    assert find_lmdb_dirs(tmp_path) == [tmp_path / "a" / "train", tmp_path / "b"]
    assert find_lmdb_dirs(tmp_path / "b") == [tmp_path / "b"]


def test_readers_of_one_folder_share_an_environment_and_pickle(tmp_path: Path):
    write_lmdb(tmp_path / "db", items(3))
    reader = LmdbReader(tmp_path / "db")
    assert reader.label(1) == "label 0 é"
    clone = pickle.loads(pickle.dumps(reader))
    assert clone.label(2) == "label 1 é"  # py-lmdb would refuse a second environment on these files
    reader.close()
    assert clone.label(3) == "label 2 é"  # reopened on demand


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_reads_although_the_parent_holds_the_environment(tmp_path: Path):
    write_lmdb(tmp_path / "db", items(3))
    reader = LmdbReader(tmp_path / "db")
    assert reader.label(1) == "label 0 é"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.write(write_fd, reader.label(2).encode())
        except BaseException as exc:
            os.write(write_fd, f"error {exc}".encode())
        os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    with os.fdopen(read_fd, "rb") as handle:
        assert handle.read().decode() == "label 1 é"
    assert reader.label(3) == "label 2 é"  # the parent's environment is untouched


def test_missing_num_samples_is_explained(tmp_path: Path):
    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"image-000000001", b"x")
    env.close()
    with pytest.raises(UserError) as info:
        len(LmdbReader(tmp_path / "db"))
    assert info.value.message == f"LMDB {tmp_path / 'db'} has no `num-samples` key"
