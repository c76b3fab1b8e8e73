"""The benchmark helpers: log parsing of both tools' training lines, steady-state math, process-tree memory."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import _common as bench  # noqa: E402

# Log lines in the two formats (written for this test, with the fields each tool prints).
PADDLEOCR_LINES = [
    "[2026/01/01 00:00:01] ppocr INFO: epoch: [1/1], global_step: 1, lr: 0.000500, acc: 0.000000, norm_edit_dis: 0.01, "
    "loss: 73.260696, avg_reader_cost: 0.50000 s, avg_batch_cost: 4.00000 s, avg_samples: 64.0, ips: 16.00000 samples/s, eta: 0:00:11",
    "[2026/01/01 00:00:03] ppocr INFO: epoch: [1/1], global_step: 2, lr: 0.000500, acc: 0.000000, norm_edit_dis: 0.01, "
    "loss: 72.100000, avg_reader_cost: 0.01000 s, avg_batch_cost: 2.00000 s, avg_samples: 64.0, ips: 32.00000 samples/s, eta: 0:00:08",
    "[2026/01/01 00:00:05] ppocr INFO: epoch: [1/1], global_step: 3, lr: 0.000500, acc: 0.000000, norm_edit_dis: 0.01, "
    "CTCLoss: 1.0, SARLoss: 2.0, loss: 71.000000, avg_reader_cost: 0.03000 s, avg_batch_cost: 2.00000 s, avg_samples: 64.0, "
    "ips: 32.00000 samples/s, eta: 0:00:06",
]
OCRREC_LINES = [
    "[2026/01/01 00:00:01] ocrrec INFO: epoch: [1/1], iter: 1, lr: 0.000500, loss: 72.5, CTCLoss: 70.0, acc: 0.0, "
    "reader_cost: 0.20000 s, batch_cost: 1.00000 s, samples: 32, ips: 32.00000 samples/s, eta: 0:00:12",
    "[2026/01/01 00:00:02] ocrrec INFO: epoch: [1/1], iter: 2, lr: 0.000500, loss: 70.25, CTCLoss: 68.0, acc: 0.0, "
    "reader_cost: 0.04000 s, batch_cost: 0.80000 s, samples: 32, ips: 40.00000 samples/s, eta: 0:00:08",
]


def test_parses_paddleocr_training_lines() -> None:
    steps = bench.parse_train_steps("\n".join(["some other line", *PADDLEOCR_LINES]))
    assert [(s.reader, s.batch, s.samples) for s in steps] == [(0.5, 4.0, 64.0), (0.01, 2.0, 64.0), (0.03, 2.0, 64.0)]
    # the total `loss`, not CTCLoss/SARLoss
    assert [s.loss for s in steps] == [73.260696, 72.1, 71.0]


def test_parses_ocrrec_training_lines_and_scales_to_the_global_batch() -> None:
    steps = bench.parse_train_steps("\n".join(OCRREC_LINES))
    assert [s.loss for s in steps] == [72.5, 70.25]
    steady = bench.steady_state(steps, warmup=1, world_size=2)
    assert steady.steps_timed == 1
    assert steady.images_per_step == 64
    assert steady.images_per_second == pytest.approx(64 / 0.8)
    assert steady.loader_share == pytest.approx(0.05)


def test_steady_state_leaves_out_warmup_steps() -> None:
    steady = bench.steady_state(bench.parse_train_steps("\n".join(PADDLEOCR_LINES)), warmup=1)
    assert steady.images_per_second == pytest.approx(128 / 4.0)
    assert steady.seconds_per_step == pytest.approx(2.0)
    assert steady.loader_share == pytest.approx(0.04 / 4.0)
    with pytest.raises(SystemExit):
        bench.steady_state(bench.parse_train_steps(PADDLEOCR_LINES[0]), warmup=1)


def test_metric_line_is_the_last_one() -> None:
    text = "x INFO: cur metric, acc: 0.25, norm_edit_dis: 0.5\ny INFO: cur metric, acc: 0.75, norm_edit_dis: 0.9, fps: 12.5\n"
    assert bench.parse_metric_line(text) == {"acc": 0.75, "norm_edit_dis": 0.9, "fps": 12.5}
    assert bench.parse_metric_line("nothing here") == {}


def test_take_lines_cycles_short_files(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\t1\nb\t2\n\n", encoding="utf-8")
    out = bench.take_lines(source, tmp_path / "out.txt", 5)
    assert out.read_text(encoding="utf-8").splitlines() == ["a\t1", "b\t2", "a\t1", "b\t2", "a\t1"]


def test_last_json_line_skips_noise() -> None:
    assert bench.last_json_line('log\n{"a": 1}\n{broken\nmore log\n') == {"a": 1}
    assert bench.last_json_line("no json") == {}


def test_ratio_direction() -> None:
    assert bench.ratio(20.0, 10.0) == 2.0
    assert bench.ratio(5.0, 10.0, higher_is_better=False) == 2.0
    assert bench.ratio(None, 10.0) is None


def test_run_measured_sums_memory_over_the_process_tree(tmp_path: Path) -> None:
    # a parent and its child each hold ~120 MiB at the same time
    script = textwrap.dedent(
        """
        import subprocess, sys, time
        hold = "import time; b = b'x' * (120 * 2**20); time.sleep(2.5)"
        child = subprocess.Popen([sys.executable, "-c", hold])
        block = b"y" * (120 * 2**20)
        child.wait()
        print("done", len(block))
        """
    )
    result = bench.run_measured([sys.executable, "-c", script], timeout=60, log_path=tmp_path / "run.log", poll_seconds=0.1)
    assert result.ok and "done" in result.output
    assert result.peak_processes >= 2
    assert result.peak_tree_rss_mb > 230  # both blocks counted
    assert result.peak_tree_pss_mb > 230
    # ru_maxrss: at least one block; Linux also carries the forking process's own high-water mark
    # into the child across exec, so with a big pytest process there is no useful upper bound
    assert result.max_process_rss_mb > 115
    assert (tmp_path / "run.log").read_text().strip().startswith("done")


def test_run_measured_kills_the_group_on_timeout() -> None:
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    result = bench.run_measured([sys.executable, "-c", script], timeout=1.5, poll_seconds=0.1)
    assert result.returncode == -9
    assert result.seconds < 15
    assert result.log_path is None  # the temporary output file is removed


def test_print_table_aligns_columns(capsys: pytest.CaptureFixture[str]) -> None:
    bench.print_table("title", ["tool", "img/s"], [["paddleocr", 21.8], ["ocrrec", 123.456]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "title"
    assert lines[2].split() == ["tool", "img/s"]
    assert lines[4].endswith(" 21.80") and lines[5].endswith("123.46")
    assert len({len(line) for line in lines[2:]}) == 1
