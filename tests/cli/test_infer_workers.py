"""`ocrrec infer --workers` default: one process per core only where start-up pays off."""

from __future__ import annotations

from ocrrec.cli.infer import AUTO_WORKERS_MIN_IMAGES, auto_workers


def test_auto_workers(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert auto_workers(AUTO_WORKERS_MIN_IMAGES - 1, "cpu", None) == 1  # few images: no pool
    assert auto_workers(AUTO_WORKERS_MIN_IMAGES, "cpu", None) == 4  # one per core
    assert auto_workers(5000, "cpu", 2) == 2  # --threads bounds the processes
    assert auto_workers(5000, "gpu:0", None) == 1  # one GPU predictor


def test_workers_below_one_is_a_usage_error():
    from typer.testing import CliRunner

    from ocrrec.cli.app import app

    result = CliRunner().invoke(app, ["infer", "x.png", "--model", ".", "--workers", "0"])
    assert result.exit_code == 2 and "--workers 0 must be at least 1" in result.output
