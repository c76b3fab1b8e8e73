"""Real multi-process runs on this CPU (gloo): --nproc, two nodes on loopback, resume, a failing rank."""

from __future__ import annotations

import json
import os
import pickle
import random
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from e2e_helpers import REPO, run_ocrrec

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eval_json(*args: str) -> dict:
    result = run_ocrrec("eval", *args, "--json", cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def test_two_cpu_ranks_train_save_once_evaluate_and_resume_as_two(tiny_config, tmp_path):
    config, run = tiny_config(Global__epoch_num=2, Global__eval_batch_step=[0, 3])
    logs = tmp_path / "logs"
    result = run_ocrrec("train", "-c", str(config), "--nproc", "2", "--log-dir", str(logs), cwd=REPO, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:] + (logs / "workerlog.1").read_text()[-2000:]
    assert "paddle.distributed.launch" in result.stderr and "--nproc_per_node 2" in result.stderr
    assert (logs / "workerlog.0").is_file() and (logs / "workerlog.1").is_file()
    # one checkpoint set, written by rank 0: 48 images / (8 per card × 2 ranks) = 3 steps per epoch
    with open(run / "latest.states", "rb") as handle:
        states = pickle.load(handle)
    assert states["global_step"] == 6 and states["ocrrec"]["world_size"] == 2
    assert not list(run.glob("*.tmp*"))

    # distributed eval during training == single-process eval == 2-rank eval of the same checkpoint
    with open(run / "best_accuracy.states", "rb") as handle:
        best = pickle.load(handle)["best_model_dict"]
    single = eval_json(str(run))
    double = eval_json(str(run), "--nproc", "2", "--log-dir", str(tmp_path / "evallogs"))
    assert single["samples"] == double["samples"] == 12
    assert single["acc"] == double["acc"] == best["acc"]
    assert single["norm_edit_dis"] == pytest.approx(double["norm_edit_dis"], abs=1e-12)
    assert single["norm_edit_dis"] == pytest.approx(best["norm_edit_dis"], abs=1e-12)

    # resume continues as two ranks (the launch settings were recorded with the run)
    resumed = run_ocrrec("resume", str(run), "-o", "Global.epoch_num=3", "--log-dir", str(tmp_path / "logs2"), cwd=REPO, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "--nproc_per_node 2" in resumed.stderr
    with open(run / "latest.states", "rb") as handle:
        assert pickle.load(handle)["global_step"] == 9


def test_ranks_share_every_batch_and_end_with_identical_weights(tiny_config, tmp_path):
    config, _ = tiny_config(Global__epoch_num=1, Train__loader__shuffle=True)
    out = tmp_path / "dumps"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir", str(tmp_path / "logs"),
         str(Path(__file__).with_name("dist_worker.py")), str(config), str(out)],
        env=env, capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    w0, w1 = np.load(out / "weights_rank0.npz"), np.load(out / "weights_rank1.npz")
    assert sorted(w0.files) == sorted(w1.files)
    for key in w0.files:
        np.testing.assert_array_equal(w0[key], w1[key], err_msg=key)
    b0 = json.loads((out / "batches_rank0.json").read_text())
    b1 = json.loads((out / "batches_rank1.json").read_text())
    assert len(b0) == len(b1) == 3
    for first, second in zip(b0, b1, strict=True):
        assert len(first) == len(second) == 8 and not set(first) & set(second)  # halves of one global batch
    assert sorted(i for batch in b0 + b1 for i in batch) == list(range(48))


def test_two_nodes_on_loopback_form_one_job(tiny_config, tmp_path):
    config, run = tiny_config(Global__epoch_num=1)
    master = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("PADDLE_TRAINERS_NUM", None)
    nodes = [
        subprocess.Popen(
            [sys.executable, "-m", "ocrrec", "train", "-c", str(config), "--nnodes", "2", "--master", master,
             "--rank", str(rank), "--nproc", "1", "--log-dir", str(tmp_path / f"node{rank}")],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for rank in (0, 1)
    ]
    try:
        outputs = [node.communicate(timeout=400) for node in nodes]
    finally:
        for node in nodes:
            node.kill()
    for node, (_, stderr) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, stderr[-3000:]
    with open(run / "latest.states", "rb") as handle:
        states = pickle.load(handle)
    assert states["ocrrec"]["world_size"] == 2 and states["global_step"] == 3


def test_a_failing_rank_fails_the_job_fast_with_its_message(tiny_config, tiny_data, tmp_path):
    """Rank 1 reads the second half of every global batch; make all of those images unreadable.

    Training visits the lines in PaddleOCR's order for Global.seed (7 here): line
    `visit[k]` is the k-th sample, so the lines rank 1 reads are known in advance.
    """
    broken = tmp_path / "broken"
    broken.mkdir()
    lines = (tiny_data / "train.txt").read_text(encoding="utf-8").splitlines()
    visit = random.Random(7).sample(range(len(lines)), len(lines))
    rank1_lines = {line for position, line in enumerate(visit) if position % 16 >= 8}
    out_lines = []
    for index, line in enumerate(lines):
        path, label = line.split("\t", 1)
        if index in rank1_lines:
            (broken / f"bad_{index}.png").write_bytes(b"")
            path = str(broken / f"bad_{index}.png")
        else:
            path = str(tiny_data / path)
        out_lines.append(f"{path}\t{label}")
    label_file = tmp_path / "train_half_broken.txt"
    label_file.write_text("\n".join(out_lines) + "\n", encoding="utf-8")
    config, _ = tiny_config(
        Global__epoch_num=50, Train__dataset__data_dir="/", Train__dataset__label_file_list=[str(label_file)],
        Train__loader__shuffle=False,
    )
    logs = tmp_path / "logs"
    result = run_ocrrec("train", "-c", str(config), "--nproc", "2", "--log-dir", str(logs), cwd=REPO, timeout=300)
    assert result.returncode != 0
    assert "distributed job failed" in result.stderr
    assert "rank 1:" in result.stderr and "failed" in result.stderr
