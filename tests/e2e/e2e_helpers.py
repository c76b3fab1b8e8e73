"""Helpers shared by the end-to-end tests (imported as `e2e_helpers`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "configs" / "rec" / "demo_crnn_en.yml"


def tiny_overrides(data: Path, save_dir: Path, **extra: object) -> list[str]:
    """Overrides that turn the demo config into a seconds-long run on `data`."""
    values: dict[str, object] = {
        "Global.epoch_num": 2,
        "Global.print_batch_step": 1,
        "Global.save_model_dir": str(save_dir),
        "Global.save_inference_dir": str(save_dir / "inference"),
        "Global.eval_batch_step": [0, 6],
        "Global.save_epoch_step": 1,
        "Global.seed": 7,
        "Architecture.Backbone.channels": [8, 16, 16, 16],
        "Architecture.Neck.hidden_size": 16,
        "Train.dataset.data_dir": str(data),
        "Train.dataset.label_file_list": [str(data / "train.txt")],
        "Train.dataset.transforms.2.RecResizeImg.image_shape": [3, 32, 64],
        "Train.loader.batch_size_per_card": 8,
        "Train.loader.num_workers": 0,
        "Eval.dataset.data_dir": str(data),
        "Eval.dataset.label_file_list": [str(data / "val.txt")],
        "Eval.dataset.transforms.2.RecResizeImg.image_shape": [3, 32, 64],
        "Eval.loader.batch_size_per_card": 8,
    }
    values.update({k.replace("__", "."): v for k, v in extra.items()})
    return [f"{k}={v}" for k, v in values.items()]


def run_ocrrec(*args: str, cwd: Path | None = None, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """`ocrrec ARGS` in a fresh interpreter (what a user runs), with a hard time limit."""
    full_env = dict(os.environ)
    full_env.pop("PADDLE_TRAINERS_NUM", None)
    full_env.pop("OCRREC_LAUNCHED", None)
    full_env["PYTHONUNBUFFERED"] = "1"
    full_env["PYTHONPATH"] = os.pathsep.join([str(REPO), full_env.get("PYTHONPATH", "")])
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ocrrec", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
