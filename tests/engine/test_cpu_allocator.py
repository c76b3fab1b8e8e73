"""OCRREC_MALLOC_TUNING=1 keeps freed malloc memory for reuse: re-allocating a large block costs no page faults."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Allocates, touches and frees a 64 MB numpy array (numpy asks malloc) five times and prints the
# minor page faults of the last four rounds.
_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from ocrrec.engine.device import keep_freed_memory_for_reuse
    print("TUNED", keep_freed_memory_for_reuse())
    faults = []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = np.ones(16 * 1024 * 1024, dtype=np.float32)
        del block
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print("FAULTS", sum(faults[1:]))
    """
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc malloc only"
)


def _run(**env: str) -> tuple[bool, int]:
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env=dict(os.environ, PYTHONPATH=str(REPO), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    tuned = proc.stdout.split("TUNED")[1].split()[0] == "True"
    return tuned, int(proc.stdout.split("FAULTS")[1])


def test_large_blocks_are_reused_without_page_faults() -> None:
    tuned, faults = _run(OCRREC_MALLOC_TUNING="1")
    assert tuned
    assert faults < 1000  # a fresh 64 MB block would fault ~16,000 pages each round


def test_off_by_default_and_when_zero() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OCRREC_MALLOC_TUNING"}
    proc = subprocess.run(
        [sys.executable, "-c", "from ocrrec.engine.device import keep_freed_memory_for_reuse as k; print(k())"],
        env=dict(env, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=120,
    )
    assert proc.stdout.strip() == "False", proc.stderr[-2000:]
    tuned, _ = _run(OCRREC_MALLOC_TUNING="0")
    assert not tuned
