"""Shared helpers of the speed benchmarks: data, child-process timing and memory, log parsing, tables.

Every benchmark runs `ocrrec` (this checkout, `python -m ocrrec` with the repository on PYTHONPATH)
and, when `--paddleocr DIR` is given, PaddleOCR's own scripts from that source tree with
`--paddleocr-python`, one after the other on the same data, and prints both figures and their ratio.
Peak memory of a command is measured over its whole process tree (data-loader workers and
distributed ranks included) by polling /proc, plus `ru_maxrss` of the largest single process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------------------- arguments
def add_common_args(parser: argparse.ArgumentParser, name: str) -> None:
    """--paddleocr / --paddleocr-python / --workdir / --json, shared by every benchmark."""
    parser.add_argument("--paddleocr", type=Path, default=None, metavar="DIR",
                        help="PaddleOCR source tree (release/2.10) to measure the baseline in the same run")
    parser.add_argument("--paddleocr-python", default=None, metavar="PYTHON",
                        help="interpreter that can run PaddleOCR (default: this one)")
    parser.add_argument("--workdir", type=Path, default=BENCH / "results" / name,
                        help="data, runs and logs go here (default: bench/results/%(default)s)".replace("%(default)s", name))
    parser.add_argument("--timeout", type=int, default=900, help="seconds before one measured command is killed")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")


def baseline_python(args: argparse.Namespace) -> str:
    return str(args.paddleocr_python or sys.executable)


def check_paddleocr(args: argparse.Namespace) -> Path | None:
    """The PaddleOCR tree (or None); also makes --workdir absolute (the baseline runs in its own tree)."""
    args.workdir = Path(args.workdir).resolve()
    if args.paddleocr is None:
        return None
    root = Path(args.paddleocr).resolve()
    if not (root / "tools" / "train.py").is_file() or not (root / "ppocr").is_dir():
        raise SystemExit(f"--paddleocr {root}: not a PaddleOCR source tree (tools/train.py and ppocr/ expected)")
    return root


# --------------------------------------------------------------------------------- commands
def ocrrec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ocrrec", *args]


def ocrrec_env(**extra: str) -> dict[str, str]:
    """This process's environment with the checkout first on PYTHONPATH (and no colour codes)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("NO_COLOR", "1")
    env.setdefault("COLUMNS", "200")
    env.update(extra)
    return env


def baseline_env(paddleocr: Path, **extra: str) -> dict[str, str]:
    """Environment for PaddleOCR's scripts: its tree on PYTHONPATH, nothing of ocrrec."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(paddleocr)
    env.update(extra)
    return env


# ------------------------------------------------------------------------ process measuring
@dataclass
class RunResult:
    """One measured command: exit code, wall time, output and peak memory (MiB)."""

    command: list[str]
    returncode: int
    seconds: float
    output: str
    peak_tree_rss_mb: float  # sum of RSS over the process tree (counts shared pages once per process)
    peak_tree_pss_mb: float  # sum of PSS over the tree (shared pages split between sharers)
    max_process_rss_mb: float  # ru_maxrss of the largest single process (wait4; includes the launching process's high-water mark)
    peak_processes: int
    log_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def _process_table() -> dict[int, int]:
    """pid -> parent pid for every process."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    parents = _process_table()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in parents or pid == root:
            tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return _rss_bytes(pid)


def run_measured(
    command: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    log_path: Path | None = None,
    poll_seconds: float = 0.25,
    pss_every: int = 2,
) -> RunResult:
    """Run `command` to the end, polling its process tree's memory; output goes to `log_path` too.

    The command runs in its own session; on timeout the whole group is killed and the result
    has return code -9.
    """
    command = [str(c) for c in command]
    keep_log = log_path is not None
    if log_path is None:  # output goes to a file either way: a pipe nobody reads could fill up and block
        handle, name = tempfile.mkstemp(prefix="bench-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    out_path = Path(log_path)
    log_file = open(out_path, "w", encoding="utf-8")  # noqa: SIM115
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    peak_rss = peak_pss = 0
    peak_procs = 0
    polls = 0
    maxrss_kb = 0
    status = None
    try:
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                status = wait_status
                maxrss_kb = usage.ru_maxrss
                break
            tree = process_tree(proc.pid)
            peak_procs = max(peak_procs, len(tree))
            peak_rss = max(peak_rss, sum(_rss_bytes(p) for p in tree))
            if polls % pss_every == 0:
                peak_pss = max(peak_pss, sum(_pss_bytes(p) for p in tree))
            polls += 1
            if time.perf_counter() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                maxrss_kb = usage.ru_maxrss
                break
            time.sleep(poll_seconds)
    finally:
        if status is None:  # interrupted: do not leave the group running
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        log_file.close()
    seconds = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
    proc.returncode = returncode
    output = out_path.read_text(encoding="utf-8", errors="replace")
    if not keep_log:
        out_path.unlink(missing_ok=True)
    mib = 1024 * 1024
    return RunResult(
        command, returncode, seconds, output,
        peak_tree_rss_mb=peak_rss / mib, peak_tree_pss_mb=max(peak_pss, 0) / mib,
        max_process_rss_mb=maxrss_kb / 1024, peak_processes=peak_procs,
        log_path=str(out_path) if keep_log else None,
    )


def require_ok(result: RunResult, what: str) -> RunResult:
    if not result.ok:
        where = f" (log: {result.log_path})" if result.log_path else ""
        raise SystemExit(f"{what} failed with exit code {result.returncode}{where}:\n{result.tail()}")
    return result


def shell_line(command: Sequence[str], env_keys: Iterable[str] = ()) -> str:
    prefix = " ".join(f"{k}={shlex.quote(os.environ.get(k, ''))}" for k in env_keys)
    return (prefix + " " if prefix else "") + " ".join(shlex.quote(str(c)) for c in command)


# -------------------------------------------------------------------------------------- data
def synth_dataset(out_dir: Path, count: int, *, val_fraction: float = 0.1, seed: int = 0,
                  case: str = "lower", digits: float = 0.1) -> dict:
    """`ocrrec dataset synth` once per parameter set (reused when synth.json matches)."""
    wanted = {"count": count, "val_fraction": val_fraction, "seed": seed, "case": case, "digits": digits}
    marker = out_dir / "bench_params.json"
    if marker.is_file() and json.loads(marker.read_text()) == wanted and (out_dir / "val.txt").is_file():
        return json.loads((out_dir / "synth.json").read_text()) if (out_dir / "synth.json").is_file() else wanted
    command = ocrrec_command("dataset", "synth", str(out_dir), "--count", str(count), "--val-fraction", str(val_fraction),
                             "--seed", str(seed), "--case", case, "--digits", str(digits), "--force", "--json")
    result = require_ok(run_measured(command, env=ocrrec_env(), timeout=600), "ocrrec dataset synth")
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    marker.write_text(json.dumps(wanted))
    return json.loads(lines[-1]) if lines else wanted


def take_lines(source: Path, target: Path, count: int) -> Path:
    """The first `count` lines of a label file (cycling when it has fewer) written to `target`."""
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"{source} is empty")
    chosen = [lines[i % len(lines)] for i in range(count)]
    target.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return target


def data_overrides(data_dir: Path, train_list: Path, val_list: Path) -> list[str]:
    """-o pairs that point both tools' Train and Eval sections at a label-file SimpleDataSet."""
    return [
        "Train.dataset.name=SimpleDataSet",
        f"Train.dataset.data_dir={data_dir}",
        f"Train.dataset.label_file_list=['{train_list}']",
        "Eval.dataset.name=SimpleDataSet",
        f"Eval.dataset.data_dir={data_dir}",
        f"Eval.dataset.label_file_list=['{val_list}']",
    ]


# ------------------------------------------------------------------------------ log parsing
_STEP = re.compile(
    r"(?:avg_)?reader_cost: (?P<reader>[0-9.]+) s, (?:avg_)?batch_cost: (?P<batch>[0-9.]+) s, "
    r"(?:avg_)?samples: (?P<samples>[0-9.]+), ips: (?P<ips>[0-9.]+)"
)
_LOSS = re.compile(r"(?<![A-Za-z_])loss: (?P<loss>[-0-9.eE+naif]+)")
_METRIC = re.compile(r"cur metric, (?P<body>.*)$")


@dataclass
class StepLog:
    reader: float
    batch: float
    samples: float
    loss: float | None


def parse_train_steps(text: str) -> list[StepLog]:
    """Every training log line of ocrrec or PaddleOCR (with print_batch_step 1: one per step)."""
    steps = []
    for line in text.splitlines():
        match = _STEP.search(line)
        if not match:
            continue
        loss = _LOSS.search(line)
        steps.append(StepLog(float(match["reader"]), float(match["batch"]), float(match["samples"]),
                             float(loss["loss"]) if loss else None))
    return steps


def parse_metric_line(text: str) -> dict[str, float]:
    """The last `cur metric, acc: ..., norm_edit_dis: ...` line of a training log."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = _METRIC.search(line)
        if match:
            found = {}
            for part in match["body"].split(", "):
                key, _, value = part.partition(": ")
                try:
                    found[key.strip()] = float(value)
                except ValueError:
                    pass
    return found


@dataclass
class SteadyState:
    """Steady-state training speed from per-step log lines (warm-up steps left out)."""

    images_per_second: float
    seconds_per_step: float
    loader_share: float  # reader_cost / batch_cost
    steps_timed: int
    images_per_step: float
    step_seconds: list[float] = field(default_factory=list)


def steady_state(steps: list[StepLog], warmup: int, world_size: int = 1) -> SteadyState:
    """`world_size` scales rank 0's logged samples to the global batch (each rank logs its share)."""
    timed = steps[warmup:]
    if not timed:
        raise SystemExit(f"no step left to time: {len(steps)} logged steps, {warmup} warm-up")
    batch_seconds = sum(s.batch for s in timed)
    images = sum(s.samples for s in timed) * world_size
    return SteadyState(
        images_per_second=images / batch_seconds,
        seconds_per_step=batch_seconds / len(timed),
        loader_share=sum(s.reader for s in timed) / batch_seconds,
        steps_timed=len(timed),
        images_per_step=images / len(timed),
        step_seconds=[round(s.batch, 3) for s in timed],
    )


def last_json_line(text: str) -> dict:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


# ---------------------------------------------------------------------------------- output
def ratio(ours: float | None, theirs: float | None, higher_is_better: bool = True) -> float | None:
    """How many times better ocrrec is (>1 = ocrrec wins) for a figure where higher/lower is better."""
    if not ours or not theirs:
        return None
    return ours / theirs if higher_is_better else theirs / ours


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.{digits}f}"
    return str(value)


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain fixed-width table (first column left-aligned, the rest right-aligned)."""
    cells = [[str(h) for h in header]] + [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def machine_line() -> str:
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs, load average {load[0]:.2f} (1 min) at start, python {sys.version.split()[0]}, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")


def dump_json(path: Path, payload: dict) -> None:
    def default(obj: Any) -> Any:
        if hasattr(obj, "__dataclass_fields__"):
            return asdict(obj)
        if isinstance(obj, Path):
            return str(obj)
        return str(obj)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=default) + "\n", encoding="utf-8")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
