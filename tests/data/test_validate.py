"""dataset validate library: one case per problem kind, config mode, executors, LMDB."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocrrec.config import load_config
from ocrrec.data.lmdb_io import write_lmdb
from ocrrec.data.validate import make_checker, sources_from_config, sources_from_paths, validate_sources


def png(width: int = 40, height: int = 16) -> bytes:
    img = np.full((height, width, 3), 255, np.uint8)
    img[:, ::3] = 0
    return cv2.imencode(".png", img)[1].tobytes()


def dataset(tmp_path: Path, lines: list[str], name: str = "train.txt") -> Path:
    (tmp_path / "img").mkdir(exist_ok=True)
    for i in range(4):
        (tmp_path / "img" / f"{i}.png").write_bytes(png(30 + 5 * i))
    (tmp_path / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return tmp_path / name


def run(paths, dict_spec="en", max_text_length=10, **kwargs):
    checker = make_checker(dict_spec, False, max_text_length)
    return validate_sources(sources_from_paths(paths, checker=checker), workers=2, **kwargs)


def test_a_clean_dataset_has_no_problems(tmp_path: Path):
    report = run([dataset(tmp_path, [f"img/{i}.png\tword{i}" for i in range(4)])])
    assert report.problems == [] and report.ok(strict=True)
    stats = report.stats()
    assert stats["samples"] == 4 and stats["images_checked"] == 4
    assert stats["height"] == {"min": 16, "median": 16.0, "max": 16}


@pytest.mark.parametrize(
    ("line", "setup", "kind", "message"),
    [
        ("img/0.png word", None, "malformed", "no tab between image path and label: img/0.png word"),
        ('["img/0.png"\tx', None, "malformed", 'not a JSON list of image paths: ["img/0.png"'),
        ("../x.png\tx", None, "outside_data_dir", "image path ../x.png is outside data_dir {d}"),
        ("img/0.png\t", None, "empty_label", "empty label"),
        ("gone.png\tx", None, "missing_image", "{d}/gone.png: image not found"),
        ("bad.png\tx", b"\x89PNG\r\n\x1a\nnope", "corrupt_image", "{d}/bad.png: image does not decode"),
        ("zero.png\tx", b"", "zero_size", "{d}/zero.png: 0-byte image"),
        ("img/0.png\t" + "a" * 11, None, "too_long", "label of 11 characters is longer than max_text_length=10"),
        ("img/0.png\téè", None, "no_known_char", "no character of 'éè' is in the dictionary"),
        ("img/0.png\tcafé", None, "unknown_chars", "'é' not in the dictionary (skipped in 'café')"),
        ("wide.png\tab", (400, 10), "too_wide", "{d}/wide.png is 400x10 (wider than 25:1)"),
        ("tall.png\tab", (10, 40), "too_tall", "{d}/tall.png is 10x40 (taller than 1.5x its width) for 'ab'"),
    ],
)
def test_each_problem_is_found_with_file_and_line(tmp_path: Path, line, setup, kind, message):
    name = line.split("\t")[0]
    if isinstance(setup, bytes):
        (tmp_path / name).write_bytes(setup)
    elif isinstance(setup, tuple):
        (tmp_path / name).write_bytes(png(*setup))
    label_file = dataset(tmp_path, ["img/1.png\tfine", line])
    report = run([label_file])
    assert [(p.kind, p.where, p.message) for p in report.problems] == [
        (kind, f"{label_file}:2", message.format(d=tmp_path))
    ]
    assert report.ok() == (report.problems[0].severity == "warning")


def test_a_tall_single_character_is_normal(tmp_path: Path):
    (tmp_path / "i.png").write_bytes(png(8, 40))
    assert run([dataset(tmp_path, ["i.png\tI"])]).problems == []


def test_unknown_characters_are_counted_per_character(tmp_path: Path):
    report = run([dataset(tmp_path, ["img/0.png\tcafé", "img/1.png\tnaïve", "img/2.png\tété"])])
    lf = tmp_path / "train.txt"
    assert report.unknown_chars == {
        "é": {"count": 3, "first": [f"{lf}:1", f"{lf}:3"]},
        "ï": {"count": 1, "first": [f"{lf}:2"]},
    }


def test_duplicates_and_train_eval_overlap(tmp_path: Path):
    train = dataset(tmp_path, ["img/0.png\ta", "img/1.png\tb", "img/0.png\ta again"])
    (tmp_path / "val.txt").write_text("img/1.png\tb\nimg/2.png\tc\n")
    config_path = tmp_path / "c.yml"
    config_path.write_text(
        f"""Global: {{character_dict_path: en, max_text_length: 25}}
Train:
  dataset: {{name: SimpleDataSet, data_dir: {tmp_path}, label_file_list: [{train}],
            transforms: [{{DecodeImage: {{img_mode: BGR}}}}, {{RecAug: }}, {{CTCLabelEncode: }}]}}
Eval:
  dataset: {{name: SimpleDataSet, data_dir: {tmp_path}, label_file_list: [{tmp_path / 'val.txt'}, {tmp_path / 'nope.txt'}]}}
"""
    )
    sources, problems, settings = sources_from_config(load_config(config_path))
    report = validate_sources(sources, problems=problems, settings=settings, workers=1)
    assert [(p.kind, p.where, p.message) for p in report.problems] == [
        ("missing_source", "Eval.dataset.label_file_list[1]",
         f"label file not found: {tmp_path / 'nope.txt'}"),
        ("duplicate_path", f"{train}:3", f"img/0.png is also listed at {train}:1"),
        ("train_eval_overlap", f"{tmp_path / 'val.txt'}:1", f"img/1.png is also in Train at {train}:2"),
    ]
    assert settings["Train"] == {
        "dataset": "SimpleDataSet", "dictionary": settings["Train"]["dictionary"], "characters": 95,
        "max_text_length": 25, "label_encoder": "CTCLabelEncode",
    }
    assert [s.samples for s in report.sources] == [3, 2, 0]


def test_config_mode_uses_the_configs_encoder_rules(tmp_path: Path):
    train = dataset(tmp_path, ["img/0.png\t" + "a" * 24, "img/1.png\tok"])
    config_path = tmp_path / "c.yml"
    config_path.write_text(
        f"""Global: {{character_dict_path: en, max_text_length: 25, use_space_char: true}}
Train:
  dataset: {{name: SimpleDataSet, data_dir: {tmp_path}, label_file_list: [{train}],
            transforms: [{{MultiLabelEncode: {{gtc_encode: NRTRLabelEncode}}}}]}}
"""
    )
    sources, problems, settings = sources_from_config(load_config(config_path))
    report = validate_sources(sources, problems=problems, check_images=False)
    assert [(p.kind, p.message) for p in report.problems] == [
        ("too_long", "label of 24 characters is with more than 23 known characters "
                     "(the NRTR branch needs 2 of max_text_length=25 for start/end tokens)"),
    ]
    assert report.images_checked == 0


@pytest.mark.parametrize("executor", ["serial", "thread", "process"])
def test_executors_agree(tmp_path: Path, executor):
    (tmp_path / "bad.png").write_bytes(b"junk")
    lines = [f"img/{i % 4}.png\tw{i}" for i in range(4)] + ["bad.png\tx", "gone.png\ty"]
    report = run([dataset(tmp_path, lines)], executor=executor)
    assert [p.kind for p in report.problems] == ["missing_image", "corrupt_image"]
    assert report.images_checked == 6


def test_lmdb_sources(tmp_path: Path):
    write_lmdb(tmp_path / "db" / "a", [(png(), "ok"), (b"junk", "bad"), (png(), "x" * 30)])
    report = run([tmp_path / "db"])
    lmdb_dir = tmp_path / "db" / "a"
    assert [(p.kind, p.where) for p in report.problems] == [
        ("corrupt_image", f"{lmdb_dir}:2"),
        ("too_long", f"{lmdb_dir}:3"),
    ]
    assert report.sources[0].kind == "lmdb" and report.sources[0].samples == 3


def test_without_dictionary_characters_are_not_checked(tmp_path: Path):
    report = run([dataset(tmp_path, ["img/0.png\t漢字"])], dict_spec=None, check_images=False)
    assert report.problems == []
