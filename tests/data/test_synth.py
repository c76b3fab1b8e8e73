"""Tests for the synthetic word-image generator (`ocrrec.data.synth`) and its CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from ocrrec.charset import Charset
from ocrrec.cli._common import OcrrecGroup
from ocrrec.cli.synth import synth as synth_command
from ocrrec.data.synth import load_font, read_word_file, render_word, supported_characters, synth
from ocrrec.data.synth_words import ENGLISH_WORDS
from ocrrec.errors import UserError


def read_labels(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines]  # type: ignore[misc]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_paddleocr_label_files_with_held_out_words(tmp_path):
    report = synth(tmp_path / "out", count=80, val_fraction=0.25, seed=1)
    out = tmp_path / "out"
    train, val = read_labels(out / "train.txt"), read_labels(out / "val.txt")
    assert (report.train_images, report.val_images) == (60, 20) == (len(train), len(val))
    assert train[0][0] == "train/word_000001.png" and val[-1][0] == "val/word_000020.png"
    vocabulary = set(ENGLISH_WORDS)
    for rel, label in train + val:
        image = cv2.imread(str(out / rel), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert image.shape[0] == 48 and image.shape[1] >= 8
        assert label in vocabulary
    assert not {lab for _, lab in train} & {lab for _, lab in val}
    assert report.val_words == len({lab for _, lab in val})
    meta = json.loads((out / "synth.json").read_text())
    assert meta["seed"] == 1 and meta["source"] == "embedded-english"
    assert set(report.characters) <= set("abcdefghijklmnopqrstuvwxyz")


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path):
    synth(tmp_path / "a", count=140, seed=7, workers=1)
    assert synth(tmp_path / "b", count=140, seed=7, workers=2).workers == 2
    synth(tmp_path / "c", count=140, seed=8, workers=1)
    a, b, c = (tree_bytes(tmp_path / name) for name in "abc")
    a.pop("synth.json"), b.pop("synth.json"), c.pop("synth.json")  # records the worker count
    assert a == b
    assert a["train.txt"] != c["train.txt"]


def test_word_list_with_dictionary_and_length_filters(tmp_path):
    words = ["apple", "Banana", "cherry", "kiwi", "x", "extraordinarily", "grape", "melon", "lemon", "apple", "a\tb"]
    report = synth(
        tmp_path / "out", words=words, dict_chars=Charset.from_spec("ic15").characters,
        count=30, val_fraction=0.2, min_len=2, max_len=10, seed=0,
    )  # fmt: skip
    labels = {lab for _, lab in read_labels(tmp_path / "out" / "train.txt") + read_labels(tmp_path / "out" / "val.txt")}
    assert labels <= {"apple", "cherry", "kiwi", "grape", "melon", "lemon"}
    assert report.skipped_words == 4  # Banana (B not in ic15), x (short), extraordinarily (long), a<tab>b
    lowered = synth(tmp_path / "low", words=["Banana", "Cherry"], case="lower", count=4, val_fraction=0.5)
    assert lowered.skipped_words == 0
    assert {lab for _, lab in read_labels(tmp_path / "low" / "train.txt")} <= {"banana", "cherry"}


def test_case_modes_and_digits(tmp_path):
    synth(tmp_path / "up", count=20, case="upper", seed=2)
    assert all(lab.isupper() for _, lab in read_labels(tmp_path / "up" / "train.txt"))
    synth(tmp_path / "mix", count=120, case="mixed", digits=0.3, seed=2)
    train = [lab for _, lab in read_labels(tmp_path / "mix" / "train.txt")]
    val = [lab for _, lab in read_labels(tmp_path / "mix" / "val.txt")]
    styles = {("upper" if w.isupper() else "title" if w[:1].isupper() else "lower") for w in train if w.isalpha()}
    assert styles == {"upper", "title", "lower"}
    numbers = [w for w in train if w.isdigit()]
    assert 15 <= len(numbers) <= 60
    assert not {w.lower() for w in train} & {w.lower() for w in val}


def test_random_strings_over_a_dictionary(tmp_path):
    chars = list("abc01 ")
    report = synth(tmp_path / "out", dict_chars=chars, count=60, min_len=2, max_len=5, seed=4)
    train = [lab for _, lab in read_labels(tmp_path / "out" / "train.txt")]
    val = [lab for _, lab in read_labels(tmp_path / "out" / "val.txt")]
    for label in train + val:
        assert 2 <= len(label) <= 5 and set(label) <= set(chars)
        assert label == label.strip() and "  " not in label
    assert not set(train) & set(val)
    assert report.train_words == len(set(train))


def test_characters_the_font_cannot_draw_are_left_out(tmp_path):
    assert supported_characters(None, "ab中") == {"a", "b"}
    report = synth(tmp_path / "out", dict_chars=list("ab中文"), count=20, min_len=1, max_len=3, seed=0)
    assert report.unsupported_chars == "中文"
    assert set(report.characters) <= {"a", "b"}
    with pytest.raises(UserError, match="can be drawn"):
        synth(tmp_path / "none", dict_chars=list("中文"), count=10)


def test_refuses_non_empty_folder_without_force(tmp_path):
    out = tmp_path / "out"
    synth(out, count=10, seed=0)
    (out / "notes.md").write_text("mine")
    with pytest.raises(UserError, match="not empty") as info:
        synth(out, count=10, seed=1)
    assert "--force" in (info.value.hint or "")
    synth(out, count=6, seed=1, force=True)
    assert len(read_labels(out / "train.txt")) + len(read_labels(out / "val.txt")) == 6
    assert len(list((out / "train").iterdir())) + len(list((out / "val").iterdir())) == 6
    assert (out / "notes.md").read_text() == "mine"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": 0}, "--count"),
        ({"val_fraction": 1.0}, "--val-fraction"),
        ({"min_len": 5, "max_len": 3}, "length range"),
        ({"height": 4}, "--height"),
        ({"font_sizes": [2]}, "font sizes"),
        ({"case": "sideways"}, "case mode"),
        ({"words": ["only"]}, "usable words"),
    ],
)
def test_bad_arguments_are_user_errors(tmp_path, kwargs, message):
    with pytest.raises(UserError, match=message):
        synth(tmp_path / "out", **{"count": 10, **kwargs})


def test_font_folder_errors(tmp_path):
    empty = tmp_path / "fonts"
    empty.mkdir()
    with pytest.raises(UserError, match="no usable font"):
        synth(tmp_path / "out", count=5, fonts_dir=empty)
    (empty / "broken.ttf").write_bytes(b"not a font")
    with pytest.raises(UserError, match="could not be loaded: broken.ttf"):
        synth(tmp_path / "out", count=5, fonts_dir=empty)
    with pytest.raises(UserError, match="font folder not found"):
        synth(tmp_path / "out", count=5, fonts_dir=tmp_path / "missing")


def test_font_folder_with_good_and_broken_files(tmp_path):
    fonts = tmp_path / "fonts"
    (fonts / "sub").mkdir(parents=True)
    ttf = load_font(None, 24).font_bytes  # Pillow's embedded TTF, written out as files
    (fonts / "A.ttf").write_bytes(ttf)
    (fonts / "sub" / "B.TTF").write_bytes(ttf)
    (fonts / "broken.otf").write_bytes(b"nope")
    (fonts / "readme.txt").write_text("not a font")
    report = synth(tmp_path / "out", count=30, fonts_dir=fonts, seed=1)
    assert report.fonts == ["A.ttf", "B.TTF"] and report.bad_fonts == ["broken.otf"]
    assert report.train_images + report.val_images == 30


def test_words_with_tabs_or_newlines_are_skipped(tmp_path):
    report = synth(tmp_path / "out", words=["ab\tc", "abc", "abd", "ab\nd"], count=4, val_fraction=0)
    assert report.skipped_words == 2 and report.val_images == 0
    assert (tmp_path / "out" / "val.txt").read_text() == ""
    assert {lab for _, lab in read_labels(tmp_path / "out" / "train.txt")} == {"abc", "abd"}


def test_natural_height_and_tiny_words_render(tmp_path):
    rng = np.random.default_rng(0)
    for text, size in [("i", 22), ("l", 38), ("W", 30), ("mmmmmmmmmmmmmmmmmmmm", 22)]:
        for _ in range(20):
            image = render_word(text, load_font(None, size), rng, None)
            assert image.dtype == np.uint8 and image.shape[0] >= size // 2 and image.shape[1] >= 2
    report = synth(tmp_path / "out", count=12, height=None, font_sizes=[22, 38], seed=3)
    heights = {cv2.imread(str(tmp_path / "out" / rel)).shape[0] for rel, _ in read_labels(report.train_label_file)}
    assert len(heights) > 1


def test_images_are_legible_contrast(tmp_path):
    """Text and background differ clearly: the spread of grey levels in every image is large."""
    synth(tmp_path / "out", count=40, seed=5)
    for rel, _ in read_labels(tmp_path / "out" / "train.txt"):
        grey = cv2.cvtColor(cv2.imread(str(tmp_path / "out" / rel)), cv2.COLOR_BGR2GRAY)
        low, high = np.percentile(grey, [3, 97])
        assert high - low >= 50, rel


def test_read_word_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes("\ufeffalpha\r\n\n  beta  \ngamma delta\n".encode())
    assert read_word_file(path) == ["alpha", "beta", "gamma delta"]
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserError, match="not UTF-8"):
        read_word_file(path)


# --- CLI ------------------------------------------------------------------------------------


def make_app() -> typer.Typer:
    app = typer.Typer(cls=OcrrecGroup)

    @app.callback()
    def root() -> None:
        """Throwaway group for the test."""

    app.command("synth")(synth_command)
    return app


def test_cli_json_and_overwrite_guard(tmp_path):
    runner = CliRunner()
    out = tmp_path / "data"
    result = runner.invoke(make_app(), ["synth", str(out), "-n", "24", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["train_images"] + payload["val_images"] == 24
    assert (out / "train.txt").is_file() and (out / "val.txt").is_file()
    again = runner.invoke(make_app(), ["synth", str(out), "-n", "24"])
    assert again.exit_code == 1
    assert "not empty" in again.output and "--force" in again.output
    forced = runner.invoke(make_app(), ["synth", str(out), "-n", "10", "--force"])
    assert forced.exit_code == 0 and "train" in forced.stdout


def test_cli_words_dict_and_options(tmp_path):
    words = tmp_path / "w.txt"
    words.write_text("alpha\nbeta\ngamma\ndelta\nepsilon\n", encoding="utf-8")
    out = tmp_path / "data"
    args = ["synth", str(out), "-n", "12", "--words", str(words), "--dict", "ic15", "--case", "lower",
            "--font-size", "24", "--font-size", "30", "--height", "0", "--val-fraction", "0.2", "--json"]  # fmt: skip
    result = CliRunner().invoke(make_app(), args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["font_sizes"] == [24, 30] and payload["height"] is None
    labels = {lab for _, lab in read_labels(out / "train.txt") + read_labels(out / "val.txt")}
    assert labels <= {"alpha", "beta", "gamma", "delta", "epsilon"}
    bad = CliRunner().invoke(make_app(), ["synth", str(tmp_path / "x"), "--dict", "no_such_dict"])
    assert bad.exit_code == 1 and "dictionary not found" in bad.output


def test_lmdb_option_writes_the_same_samples_in_the_benchmark_layout(tmp_path):
    from ocrrec.data.lmdb_io import LmdbReader

    report = synth(tmp_path / "out", count=20, val_fraction=0.25, seed=4, lmdb=True)
    out = tmp_path / "out"
    assert [Path(p).name for p in report.lmdb_dirs] == ["train_lmdb", "val_lmdb"]
    for split in ("train", "val"):
        labels = read_labels(out / f"{split}.txt")
        reader = LmdbReader(out / f"{split}_lmdb")
        assert len(reader) == len(labels)
        for index, (rel, label) in enumerate(labels, start=1):
            assert reader.label(index) == label
            assert reader.image(index) == (out / rel).read_bytes()
