"""Conversions: ICDAR GT parsing, label file <-> LMDB round trips, overwrite and path safety."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocrrec.data.convert import convert_dataset, image_extension, parse_icdar_line
from ocrrec.data.lmdb_io import LmdbReader, write_lmdb
from ocrrec.errors import UsageError, UserError


def png(width: int = 30) -> bytes:
    img = np.full((12, width, 3), 200, np.uint8)
    img[:, ::2] = 0
    return cv2.imencode(".png", img)[1].tobytes()


def jpg() -> bytes:
    return cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('word_1.png, "Tiredness"', ("word_1.png", "Tiredness")),
        ('word_2.png, "Hello, world"', ("word_2.png", "Hello, world")),
        ('word_3.png, "\\"Why\\""', ("word_3.png", '"Why"')),
        ('word_4.png, "a\\\\b"', ("word_4.png", "a\\b")),
        ('word_5.png, "it"s"', ("word_5.png", 'it"s')),
        ("word_6.png,plain", ("word_6.png", "plain")),
        ('word_7.png , "x"  ', ("word_7.png", "x")),
        ('word_8.png, ""', ("word_8.png", "")),
        ("word_9.png", None),
        ('word_10.png, "unterminated', None),
    ],
)
def test_icdar_lines(line, expected):
    assert parse_icdar_line(line) == expected


def make_icdar(tmp_path: Path) -> tuple[Path, Path]:
    images = tmp_path / "ch4_words"
    images.mkdir()
    for i in range(1, 5):
        (images / f"word_{i}.png").write_bytes(png(20 + i))
    gt = images / "gt.txt"
    gt.write_bytes(
        b'\xef\xbb\xbfword_1.png, "Tiredness"\r\n\r\n'
        b'word_2.png, "Hello, \\"you\\""\r\n'
        b'word_3.png, ""\r\n'
        b"broken line\r\n"
        b'word_9.png, "missing"\r\n'
        b'word_4.png, "a\tb"\r\n'
    )
    return gt, images


def test_icdar_to_label_file(tmp_path: Path):
    gt, images = make_icdar(tmp_path)
    out = tmp_path / "train.txt"
    report = convert_dataset("icdar", "txt", gt, out, images=images)
    assert out.read_text(encoding="utf-8") == (
        'ch4_words/word_1.png\tTiredness\nch4_words/word_2.png\tHello, "you"\nch4_words/word_4.png\ta\tb\n'
    )
    assert report.written == 3
    assert dict(report.skipped) == {"empty_label": 1, "malformed": 1, "missing_image": 1}
    assert report.examples["malformed"] == [f'{gt}:5 (expected: name, "label")']
    assert report.examples["missing_image"] == [f"{gt}:6 {images / 'word_9.png'}"]


def test_data_dir_sets_the_path_base_and_outside_images_are_refused(tmp_path: Path):
    gt, images = make_icdar(tmp_path)
    out = tmp_path / "labels" / "train.txt"
    convert_dataset("icdar", "txt", gt, out, images=images, data_dir=tmp_path)
    assert out.read_text(encoding="utf-8").splitlines()[0] == "ch4_words/word_1.png\tTiredness"
    with pytest.raises(UserError) as info:
        convert_dataset("icdar", "txt", gt, tmp_path / "other" / "t.txt", images=images, data_dir=tmp_path / "other")
    assert info.value.message == f"image {images / 'word_1.png'} is not under the data folder {tmp_path / 'other'}"


def test_refuses_to_overwrite_without_force(tmp_path: Path):
    gt, images = make_icdar(tmp_path)
    out = tmp_path / "train.txt"
    out.write_text("keep me")
    with pytest.raises(UserError) as info:
        convert_dataset("icdar", "txt", gt, out, images=images)
    assert info.value.message == f"{out} already exists" and info.value.hint == "pass --force to overwrite it"
    assert out.read_text() == "keep me"
    convert_dataset("icdar", "txt", gt, out, images=images, force=True)
    assert out.read_text(encoding="utf-8").startswith("ch4_words/word_1.png")


def test_txt_to_lmdb_to_txt_round_trip_is_identical(tmp_path: Path):
    data = tmp_path / "data"
    (data / "img").mkdir(parents=True)
    blobs = {"img/a.png": png(25), "img/b.jpg": jpg(), "img/c.png": png(40)}
    for rel, blob in blobs.items():
        (data / rel).write_bytes(blob)
    labels = ["label one", "über\tzwei", "3"]
    (data / "train.txt").write_text("".join(f"{p}\t{lab}\n" for p, lab in zip(blobs, labels, strict=True)), encoding="utf-8")

    report = convert_dataset("txt", "lmdb", data / "train.txt", tmp_path / "lmdb")
    assert report.written == 3
    reader = LmdbReader(tmp_path / "lmdb")
    assert [(img, lab) for _, img, lab in reader.iter_items()] == list(zip(blobs.values(), labels, strict=True))

    back = tmp_path / "back" / "train.txt"
    report = convert_dataset("lmdb", "txt", tmp_path / "lmdb", back)
    assert report.written == 3
    lines = back.read_text(encoding="utf-8").splitlines()
    assert [line.split("\t", 1)[1] for line in lines] == labels
    assert [line.split("\t", 1)[0] for line in lines] == [
        "images/image-000000001.png",
        "images/image-000000002.jpg",
        "images/image-000000003.png",
    ]
    assert [(back.parent / line.split("\t", 1)[0]).read_bytes() for line in lines] == list(blobs.values())


def test_multi_image_lines_become_one_sample_per_image(tmp_path: Path):
    (tmp_path / "a.png").write_bytes(png())
    (tmp_path / "b.png").write_bytes(png(50))
    (tmp_path / "l.txt").write_text('["a.png", "b.png"]\tsame\n')
    report = convert_dataset("txt", "lmdb", tmp_path / "l.txt", tmp_path / "db")
    assert report.written == 2 and report.expanded_lines == 1
    assert [lab for _, lab in LmdbReader(tmp_path / "db").iter_labels()] == ["same", "same"]


def test_icdar_to_lmdb_and_lmdb_overwrite(tmp_path: Path):
    gt, images = make_icdar(tmp_path)
    assert convert_dataset("icdar", "lmdb", gt, tmp_path / "db").written == 3
    with pytest.raises(UserError, match="already holds an LMDB"):
        convert_dataset("icdar", "lmdb", gt, tmp_path / "db")
    assert convert_dataset("icdar", "lmdb", gt, tmp_path / "db", force=True).written == 3


def test_lmdb_to_txt_skips_unusable_samples(tmp_path: Path):
    write_lmdb(tmp_path / "db", [(png(), "ok"), (b"not an image", "x"), (png(), "two\nlines"), (png(), "")])
    report = convert_dataset("lmdb", "txt", tmp_path / "db", tmp_path / "out" / "l.txt", images=tmp_path / "out" / "imgs")
    assert report.written == 1
    assert dict(report.skipped) == {"unknown_format": 1, "newline_in_label": 1, "empty_label": 1}
    assert (tmp_path / "out" / "l.txt").read_text() == "imgs/image-000000001.png\tok\n"
    assert sorted(p.name for p in (tmp_path / "out" / "imgs").iterdir()) == ["image-000000001.png"]


def test_usage_errors(tmp_path: Path):
    with pytest.raises(UsageError, match="--from and --to are both txt"):
        convert_dataset("txt", "txt", tmp_path / "a", tmp_path / "b")
    with pytest.raises(UsageError, match="input file not found"):
        convert_dataset("icdar", "txt", tmp_path / "nope.txt", tmp_path / "b")
    with pytest.raises(UsageError, match="--from must be one of icdar, txt, lmdb"):
        convert_dataset("coco", "txt", tmp_path / "a", tmp_path / "b")


def test_image_extension_by_magic():
    assert image_extension(png()) == ".png" and image_extension(jpg()) == ".jpg"
    assert image_extension(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ".webp"
    assert image_extension(b"hello") is None
