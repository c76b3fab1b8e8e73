"""Tiny real data and a tiny real config for the end-to-end runs (train, resume, eval, export, infer).

The data are words rendered by `ocrrec dataset synth`; the model is the demo CRNN shrunk so a
step takes milliseconds. Everything lives under pytest's tmp folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_helpers import DEMO_CONFIG, tiny_overrides

from ocrrec.config import load_config


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    from ocrrec.data.synth import synth

    out = tmp_path_factory.mktemp("words")
    synth(out, count=60, val_fraction=0.2, font_sizes=(26, 30), height=32, seed=3, min_len=3, max_len=8, workers=1)
    return out


@pytest.fixture
def tiny_config(tiny_data, tmp_path):
    """(config file, run directory): the tiny config saved as a file, as a user would pass with -c."""

    def make(**extra: object) -> tuple[Path, Path]:
        run_dir = tmp_path / "run"
        config = load_config(DEMO_CONFIG, tiny_overrides(tiny_data, run_dir, **extra))
        path = tmp_path / "tiny.yml"
        config.save(path)
        return path, run_dir

    return make
