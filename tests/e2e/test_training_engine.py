"""Training engine behaviour on tiny real runs: exact resume, signals, NaN guard, weight priority."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from e2e_helpers import REPO, run_ocrrec

from ocrrec.config import load_config
from ocrrec.engine.trainer import Trainer, TrainingStopped, train
from ocrrec.errors import UserError

pytestmark = pytest.mark.slow


def test_interrupted_and_resumed_run_matches_the_uninterrupted_one(tiny_config, tmp_path):
    """Stop at step 4 of 12 (mid-epoch 1), resume: the following losses equal the straight run's."""
    config_path, _ = tiny_config()
    straight = train(load_config(config_path, [f"Global.save_model_dir={tmp_path / 'straight'}"]))
    assert len(straight.losses) == 12

    run = tmp_path / "interrupted"
    first = Trainer(
        load_config(config_path, [f"Global.save_model_dir={run}"]),
        on_step=lambda t: t.request_stop() if t.position.global_step == 4 else None,
    )
    with pytest.raises(TrainingStopped) as stopped:
        first.fit()
    assert stopped.value.exit_code == 128 + signal.SIGTERM
    with open(run / "latest.states", "rb") as handle:
        states = pickle.load(handle)
    assert states["global_step"] == 4 and states["epoch"] == 1 and states["ocrrec"]["step_in_epoch"] == 4

    resumed = train(load_config(run / "config.yml", [f"Global.checkpoints={run / 'latest'}"]))
    assert resumed.global_step == 12
    np.testing.assert_allclose(resumed.losses, straight.losses[4:], rtol=0, atol=1e-5)
    log = (run / "train.log").read_text(encoding="utf-8")
    assert "resumed from" in log and "epoch 1, step 4/6 of the epoch, global step 4" in log


def test_sigterm_saves_latest_and_resume_finishes(tiny_config):
    config, run = tiny_config(Global__epoch_num=400, Global__eval_batch_step=[0, 100000], Global__save_epoch_step=1000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocrrec", "train", "-c", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    log = run / "train.log"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.is_file() and "iter: 3," in log.read_text(encoding="utf-8")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr[-2000:]
    assert f"resume with: ocrrec resume {run}" in stderr
    with open(run / "latest.states", "rb") as handle:
        states = pickle.load(handle)
    stopped_at = states["global_step"]
    assert stopped_at >= 3
    epoch = states["epoch"]

    finished = run_ocrrec("resume", str(run), "-o", f"Global.epoch_num={epoch + 1}", cwd=REPO, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    with open(run / "latest.states", "rb") as handle:
        final = pickle.load(handle)
    assert final["global_step"] == (epoch + 1) * 6 and final["epoch"] == epoch + 1


def _nan_on(calls: set[int]):
    """Wrap build_loss so that the losses of the given call numbers (1-based) are NaN."""
    import ocrrec.modeling.losses as losses_module

    real_build = losses_module.build_loss

    def build(cfg):
        inner = real_build(cfg)
        count = {"n": 0}

        def loss(preds, batch):
            count["n"] += 1
            out = inner(preds, batch)
            if count["n"] in calls:
                out = dict(out)
                out["loss"] = out["loss"] * float("nan")
            return out

        return loss

    return build


def test_nan_steps_are_skipped(tiny_config, monkeypatch, tmp_path):
    config_path, run = tiny_config(Global__epoch_num=1)
    monkeypatch.setattr("ocrrec.modeling.losses.build_loss", _nan_on({2, 3}))
    summary = train(load_config(config_path))
    assert len(summary.losses) == 4 and all(np.isfinite(summary.losses))
    log = (run / "train.log").read_text(encoding="utf-8")
    assert "step 2: loss is NaN/inf; skipped this update (1 in a row)" in log
    assert "step 3: loss is NaN/inf; skipped this update (2 in a row)" in log


def test_too_many_nan_steps_stop_with_the_last_good_checkpoint_kept(tiny_config, monkeypatch):
    config_path, run = tiny_config(Global__epoch_num=3, Global__max_nan_steps=3)
    monkeypatch.setattr("ocrrec.modeling.losses.build_loss", _nan_on(set(range(8, 100))))
    with pytest.raises(UserError, match="the loss was NaN/inf for 3 steps in a row"):
        train(load_config(config_path))
    with open(run / "latest.states", "rb") as handle:
        assert pickle.load(handle)["global_step"] == 6  # epoch 1's save; nothing written after the NaNs


def test_checkpoint_wins_over_pretrained_and_falls_back_when_broken(tiny_config, tmp_path):
    config_path, run = tiny_config(Global__epoch_num=1)
    train(load_config(config_path))
    other = tmp_path / "second"

    resumed = Trainer(load_config(config_path, [
        f"Global.save_model_dir={other}", f"Global.pretrained_model={run / 'best_accuracy'}",
        f"Global.checkpoints={run / 'latest'}", "Global.epoch_num=2",
    ]))
    resumed.fit()
    log = (other / "train.log").read_text(encoding="utf-8")
    assert f"resumed from {run / 'latest'}" in log and "loaded pretrained weights" not in log
    assert resumed.position.global_step == 12

    (tmp_path / "broken.pdparams").write_bytes(b"not a checkpoint")
    third = tmp_path / "third"
    fallback = Trainer(load_config(config_path, [
        f"Global.save_model_dir={third}", f"Global.pretrained_model={run / 'best_accuracy'}",
        f"Global.checkpoints={tmp_path / 'broken'}",
    ]))
    fallback.fit()
    log = (third / "train.log").read_text(encoding="utf-8")
    assert "cannot resume from Global.checkpoints" in log
    assert f"falling back to Global.pretrained_model={run / 'best_accuracy'}" in log
    assert "loaded pretrained weights" in log
    assert fallback.position.global_step == 6  # a fresh run from the pretrained weights


@pytest.mark.skipif(__import__("paddle").device.is_compiled_with_cuda(), reason="checks the CPU-only build")
def test_use_gpu_on_a_cpu_build_is_a_clear_error(tiny_config):
    config, _ = tiny_config(Global__use_gpu=True)
    result = run_ocrrec("train", "-c", str(config), cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert "Global.use_gpu is True but this PaddlePaddle build has no CUDA support" in result.stderr
    assert "--device cpu" in result.stderr
    assert "Traceback" not in result.stderr


def test_tensorboard_scalars_only_when_enabled(tiny_config):
    pytest.importorskip("tensorboardX")
    config_path, run = tiny_config(Global__epoch_num=1, Global__use_tensorboard=True)
    train(load_config(config_path))
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0


def test_visualdl_flag_without_visualdl_is_a_clear_error(tiny_config, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_visualdl(name, *args, **kwargs):
        if name == "visualdl" or name.startswith("visualdl."):
            raise ImportError("No module named 'visualdl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_visualdl)
    config_path, _ = tiny_config(Global__epoch_num=1, Global__use_visualdl=True)
    with pytest.raises(UserError, match="Global.use_visualdl is True but VisualDL is not installed"):
        train(load_config(config_path))
