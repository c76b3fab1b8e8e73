"""`ocrrec dataset convert` / `ocrrec dataset validate` through the real CLI: output, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from typer.testing import CliRunner

from ocrrec.cli.app import app

runner = CliRunner()


def png(width: int = 40, height: int = 16) -> bytes:
    img = np.full((height, width, 3), 255, np.uint8)
    img[:, ::3] = 0
    return cv2.imencode(".png", img)[1].tobytes()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def make_icdar(tmp_path: Path) -> Path:
    (tmp_path / "words").mkdir()
    for i in (1, 2):
        (tmp_path / "words" / f"word_{i}.png").write_bytes(png())
    gt = tmp_path / "words" / "gt.txt"
    gt.write_text('word_1.png, "Hello, world"\nword_2.png, "\\"quoted\\""\nword_3.png, "missing"\n')
    return gt


def test_convert_icdar_prints_counts_and_writes(tmp_path: Path):
    gt = make_icdar(tmp_path)
    result = invoke("dataset", "convert", "--from", "icdar", "--input", gt, "--images", tmp_path / "words",
                    "--out", tmp_path / "train.txt")
    assert result.exit_code == 0, result.output
    assert "written" in result.stdout and "image file not found" in result.stdout
    assert (tmp_path / "train.txt").read_text() == 'words/word_1.png\tHello, world\nwords/word_2.png\t"quoted"\n'


def test_convert_json_and_overwrite_refusal(tmp_path: Path):
    gt = make_icdar(tmp_path)
    args = ["dataset", "convert", "--from", "icdar", "-i", gt, "--to", "lmdb", "--out", tmp_path / "db", "--json"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["written"] == 2 and payload["skipped"] == {"missing_image": 1}
    again = invoke(*args)
    assert again.exit_code == 1
    assert f"error: {tmp_path / 'db'} already holds an LMDB" in again.stderr
    assert "hint: pass --force to replace it" in again.stderr
    assert invoke(*args, "--force").exit_code == 0


def test_convert_usage_error_exits_2(tmp_path: Path):
    result = invoke("dataset", "convert", "--from", "txt", "--to", "txt", "-i", tmp_path / "a", "--out", tmp_path / "b")
    assert result.exit_code == 2 and "error: --from and --to are both txt" in result.stderr


def dataset(tmp_path: Path, lines: list[str]) -> Path:
    (tmp_path / "img").mkdir(exist_ok=True)
    for i in range(3):
        (tmp_path / "img" / f"{i}.png").write_bytes(png(30 + i))
    path = tmp_path / "train.txt"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_validate_clean_exits_0(tmp_path: Path):
    label_file = dataset(tmp_path, ["img/0.png\tab", "img/1.png\tcd"])
    result = invoke("dataset", "validate", label_file, "--dict", "en")
    assert result.exit_code == 0, result.output
    assert "no errors in 2 samples" in result.stdout


def test_validate_problems_exit_1_with_file_line(tmp_path: Path):
    label_file = dataset(tmp_path, ["img/0.png\tab", "gone.png\tx", "img/1.png\tcafé", "no tab"])
    result = invoke("dataset", "validate", label_file, "--dict", "en", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["counts"] == {"malformed": 1, "missing_image": 1, "unknown_chars": 1}
    assert {p["where"] for p in payload["problems"]} == {f"{label_file}:{n}" for n in (2, 3, 4)}
    assert payload["unknown_chars"] == {"é": {"count": 1, "first": [f"{label_file}:3"]}}
    table = invoke("dataset", "validate", label_file, "--dict", "en")
    assert table.exit_code == 1
    assert f"{label_file}:2: {tmp_path / 'gone.png'}: image not found" in table.stdout
    assert "2 errors, 1 warning in 3 samples" in table.stdout  # the malformed line is no sample


def test_validate_warnings_only_fail_with_strict(tmp_path: Path):
    label_file = dataset(tmp_path, ["img/0.png\tab", "img/0.png\tab"])
    assert invoke("dataset", "validate", label_file, "--dict", "en").exit_code == 0
    assert invoke("dataset", "validate", label_file, "--dict", "en", "--strict").exit_code == 1


def test_validate_usage_errors_exit_2(tmp_path: Path):
    result = invoke("dataset", "validate")
    assert result.exit_code == 2 and "give either label files / LMDB folders or -c CONFIG" in result.stderr
    result = invoke("dataset", "validate", tmp_path / "nope.txt")
    assert result.exit_code == 2 and f"not found: {tmp_path / 'nope.txt'}" in result.stderr
    label_file = dataset(tmp_path, ["img/0.png\tab"])
    result = invoke("dataset", "validate", label_file, "--dict", tmp_path / "missing_dict.txt")
    assert result.exit_code == 2 and "dictionary not found" in result.stderr


def test_validate_config_with_overrides(tmp_path: Path):
    label_file = dataset(tmp_path, ["img/0.png\tabcdef", "img/1.png\tab"])
    config = tmp_path / "c.yml"
    config.write_text(
        f"""Global: {{character_dict_path: en, max_text_length: 25}}
Train:
  dataset: {{name: SimpleDataSet, data_dir: {tmp_path}, label_file_list: [{label_file}],
            transforms: [{{CTCLabelEncode: }}]}}
"""
    )
    assert invoke("dataset", "validate", "-c", config).exit_code == 0
    result = invoke("dataset", "validate", "-c", config, "-o", "Global.max_text_length=5", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["counts"] == {"too_long": 1}
    assert payload["settings"]["Train"]["max_text_length"] == 5
