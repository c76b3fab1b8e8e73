"""The CLI shell: version, help of every command, no paddle import for help, completions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from ocrrec import __version__
from ocrrec.cli.app import app
from ocrrec.cli.completions import FILENAMES, render_all

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _command_paths(command=None, prefix=()):
    command = command or typer.main.get_command(app)
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, prefix + (name,))


ALL_PATHS = list(_command_paths())


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ocrrec {__version__}"


@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "root")
def test_help_of_every_command(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_help_does_not_import_paddle():
    """Run every --help in a fresh interpreter, then check `paddle` was never imported."""
    script = textwrap.dedent(
        f"""
        import sys
        from typer.testing import CliRunner
        from ocrrec.cli.app import app
        runner = CliRunner()
        for path in {ALL_PATHS!r}:
            result = runner.invoke(app, [*path, "--help"])
            assert result.exit_code == 0, (path, result.output)
        runner.invoke(app, ["--version"])
        leaked = sorted(m for m in sys.modules if m == "paddle" or m.startswith("paddle."))
        print("LEAKED" if leaked else "CLEAN", leaked[:5])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CLEAN"), proc.stdout


def test_unknown_command_suggests():
    result = runner.invoke(app, ["trian"])
    assert result.exit_code == 2


def test_completions_are_fresh():
    expected = render_all()
    for name, text in expected.items():
        path = REPO / "completions" / name
        assert path.is_file(), f"{path} missing: run `make completions`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `make completions`"
    assert set(expected) == set(FILENAMES.values())


def test_bash_completion_completes_commands_and_options(tmp_path):
    script = REPO / "completions" / "ocrrec.bash"

    def complete(*words: str) -> list[str]:
        words_list = " ".join(f"'{w}'" for w in ("ocrrec", *words))
        cmd = (
            f"source {script}; COMP_WORDS=({words_list}); COMP_CWORD={len(words)}; "
            '_ocrrec_complete; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return [line for line in proc.stdout.splitlines() if line]

    top = [p[0] for p in ALL_PATHS if len(p) == 1]
    assert sorted(complete("")) == sorted(top)
    assert "--version" in complete("--v")
