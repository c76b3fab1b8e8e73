"""`ocrrec infer --workers`: bad values are usage errors."""

from __future__ import annotations


def test_workers_below_one_is_a_usage_error():
    from typer.testing import CliRunner

    from ocrrec.cli.app import app

    result = CliRunner().invoke(app, ["infer", "x.png", "--model", ".", "--workers", "0"])
    assert result.exit_code == 2 and "--workers 0 must be at least 1" in result.output
