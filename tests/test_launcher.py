"""Unit tests of the launcher's decisions; real multi-process runs live in tests/e2e."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from ocrrec import launcher
from ocrrec.errors import UsageError, UserError
from ocrrec.launcher import LaunchOptions


def test_single_process_runs_here(monkeypatch):
    monkeypatch.delenv("PADDLE_TRAINERS_NUM", raising=False)
    monkeypatch.delenv(launcher.WORKER_ENV, raising=False)
    assert launcher.maybe_launch(LaunchOptions(), ["train"], print) is None
    assert launcher.maybe_launch(LaunchOptions(gpus="0"), ["train"], print) is None
    assert launcher.maybe_launch(LaunchOptions(nproc=1), ["train"], print) is None


def test_worker_never_relaunches(monkeypatch):
    monkeypatch.setenv(launcher.WORKER_ENV, "1")
    assert launcher.maybe_launch(LaunchOptions(nproc=4), ["train"], print) is None


@pytest.mark.parametrize(
    ("options", "world", "device"),
    [
        (LaunchOptions(gpus="0,1,2,3"), 4, "gpu"),
        (LaunchOptions(nproc=2), 2, "cpu"),
        (LaunchOptions(ips="10.0.0.1,10.0.0.2", gpus="0,1"), 4, "gpu"),
        (LaunchOptions(nnodes=2, master="127.0.0.1:29500", rank=1, nproc=1), 2, "cpu"),
    ],
)
def test_world_size_and_device(options, world, device):
    launcher.validate(options)
    assert options.world_size == world
    assert options.device == device


def test_launch_command_reexecs_same_ocrrec_args(tmp_path):
    options = LaunchOptions(nnodes=2, master="127.0.0.1:29500", rank=1, nproc=2, log_dir=tmp_path)
    cmd = launcher.build_launch_command(options, ["train", "-c", "x.yml", "-o", "A=1"])
    assert cmd[:3] == [sys.executable, "-m", "paddle.distributed.launch"]
    assert cmd[-7:] == [sys.executable, "-m", "ocrrec", "train", "-c", "x.yml", "-o", "A=1"][-7:]
    joined = " ".join(cmd)
    assert "--nproc_per_node 2" in joined and "--nnodes 2" in joined and "--master 127.0.0.1:29500" in joined
    assert "--rank 1" in joined and f"--log_dir {tmp_path}" in joined
    gpu_cmd = launcher.build_launch_command(LaunchOptions(gpus="0,1", ips="a,b"), ["train"])
    assert "--gpus 0,1" in " ".join(gpu_cmd) and "--ips a,b" in " ".join(gpu_cmd)


def test_workers_are_marked_so_they_never_relaunch():
    env = launcher.worker_env(LaunchOptions(nproc=2))
    assert env[launcher.WORKER_ENV] == "1" and env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (LaunchOptions(gpus="0,1", nproc=2), "--gpus and --nproc cannot be combined"),
        (LaunchOptions(gpus="0,x"), "`x` is not a GPU index"),
        (LaunchOptions(nnodes=2, rank=0), "--nnodes > 1 needs --master"),
        (LaunchOptions(nnodes=2, master="h:1"), "--nnodes > 1 needs --rank"),
        (LaunchOptions(nnodes=2, master="h:1", rank=2), "--rank 2 is outside 0..1"),
        (LaunchOptions(master="nohostport"), "is not HOST:PORT"),
        (LaunchOptions(ips="a,b"), "--ips needs --gpus"),
        (LaunchOptions(ips="a,b", gpus="0", nnodes=2), "--ips cannot be combined"),
        (LaunchOptions(nproc=0), "--nproc must be at least 1"),
    ],
)
def test_bad_combinations(options, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace(".", r"\.")):
        launcher.validate(options)


def test_gpus_on_cpu_build_suggests_nproc():
    with pytest.raises(UserError) as info:
        launcher.check_gpu_build(LaunchOptions(gpus="0,1"), cuda_available=lambda: False)
    assert "CPU-only" in info.value.message and "--nproc 2" in info.value.hint


def test_cpu_ranks_on_a_cuda_build_suggest_gpus():
    with pytest.raises(UserError) as info:
        launcher.check_gpu_build(LaunchOptions(nproc=2), cuda_available=lambda: True)
    assert "CPU build" in info.value.message and "--gpus 0,1" in info.value.hint
    launcher.check_gpu_build(LaunchOptions(nproc=2), cuda_available=lambda: False)
    launcher.check_gpu_build(LaunchOptions(gpus="0,1"), cuda_available=lambda: True)


def test_master_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port} is already in use"):
            launcher.check_master_port(LaunchOptions(nnodes=2, master=f"127.0.0.1:{port}", rank=0, nproc=1))
        # other machines do not bind the master port
        launcher.check_master_port(LaunchOptions(nnodes=2, master=f"127.0.0.1:{port}", rank=1, nproc=1))


def test_failed_rank_summary(tmp_path: Path):
    (tmp_path / "workerlog.0").write_text("training...\n", encoding="utf-8")
    (tmp_path / "workerlog.1").write_text("Traceback (most recent call last):\n  x\nRuntimeError: boom on rank 1\n", encoding="utf-8")
    summary = launcher.failed_rank_summary(tmp_path)
    assert summary == f"rank 1: RuntimeError: boom on rank 1 ({tmp_path / 'workerlog.1'})"


def test_failed_rank_summary_prefers_the_rank_that_raised(tmp_path: Path):
    (tmp_path / "workerlog.0").write_text("FatalError: `Process abort signal` is detected by the operating system.\n", encoding="utf-8")
    (tmp_path / "workerlog.1").write_text("error: Train.dataset: 43 of 67 sample loads failed\nhint: ...\n", encoding="utf-8")
    assert launcher.failed_rank_summary(tmp_path).startswith("rank 1: error: Train.dataset: 43 of 67 sample loads failed")


@pytest.mark.parametrize("system", ["Windows", "Darwin"])
def test_multi_process_training_is_refused_where_paddle_cannot_do_it(system):
    with pytest.raises(UsageError, match="multi-process training is not supported on"):
        launcher.validate(LaunchOptions(gpus="0,1"), system=system)
    launcher.validate(LaunchOptions(gpus="0"), system=system)
