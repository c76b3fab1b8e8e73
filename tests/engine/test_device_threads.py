"""CPU math threads: the user's OMP_NUM_THREADS counts, paddle's own OMP_NUM_THREADS=1 does not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = (
    "import ocrrec, paddle, os; from ocrrec.engine.device import cpu_threads_per_rank; "
    "print(os.environ['OMP_NUM_THREADS'], cpu_threads_per_rank())"
)


def _probe(env_overrides: dict[str, str | None]) -> list[str]:
    env = dict(os.environ)
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to tell 1 from all cores")
def test_unset_omp_uses_all_cores_even_after_paddle_set_it_to_one():
    paddle_value, threads = _probe({"OMP_NUM_THREADS": None, "OCRREC_OMP_UNSET": None, "PADDLE_LOCAL_SIZE": None})
    assert paddle_value == "1"  # what `import paddle` wrote
    assert int(threads) == os.cpu_count()


def test_user_value_wins():
    _, threads = _probe({"OMP_NUM_THREADS": "3", "OCRREC_OMP_UNSET": None})
    assert threads == "3"


def test_launched_worker_splits_cores_when_user_left_it_unset():
    _, threads = _probe({"OMP_NUM_THREADS": "1", "OCRREC_OMP_UNSET": "1", "PADDLE_LOCAL_SIZE": "2"})
    assert int(threads) == max(1, (os.cpu_count() or 1) // 2)


def test_worker_env_marks_unset_omp(monkeypatch):
    import ocrrec
    from ocrrec import launcher
    from ocrrec.launcher import LaunchOptions

    monkeypatch.setattr(ocrrec, "USER_OMP_NUM_THREADS", None)
    assert launcher.worker_env(LaunchOptions(nproc=2))["OCRREC_OMP_UNSET"] == "1"
    monkeypatch.setattr(ocrrec, "USER_OMP_NUM_THREADS", "2")
    assert "OCRREC_OMP_UNSET" not in launcher.worker_env(LaunchOptions(nproc=2))
