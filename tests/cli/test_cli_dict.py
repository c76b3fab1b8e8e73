"""`ocrrec dict build` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ocrrec.cli.app import app

runner = CliRunner()


def labels(tmp_path: Path) -> Path:
    path = tmp_path / "train.txt"
    path.write_text("a.png\thello world\nb.png\tholá\n", encoding="utf-8")
    return path


def test_dict_build_writes_and_hints_about_space(tmp_path: Path):
    out = tmp_path / "my_dict.txt"
    result = runner.invoke(app, ["dict", "build", str(labels(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "".join(f"{c}\n" for c in "helowrdá")
    assert "use_space_char: True" in result.stderr
    again = runner.invoke(app, ["dict", "build", str(labels(tmp_path)), "--out", str(out)])
    assert again.exit_code == 1 and f"error: {out} already exists" in again.stderr


def test_dict_build_json_with_base(tmp_path: Path):
    out = tmp_path / "d.txt"
    result = runner.invoke(
        app, ["dict", "build", str(labels(tmp_path)), "--out", str(out), "--base", "en", "--sort", "frequency", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["characters"], payload["base_size"], payload["new_characters"]) == (96, 95, "á")
    assert payload["has_space"] is True


def test_dict_build_missing_source_is_a_usage_error(tmp_path: Path):
    result = runner.invoke(app, ["dict", "build", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "d.txt")])
    assert result.exit_code == 2 and "label source not found" in result.stderr
