"""Where a command runs: one process, or many through `paddle.distributed.launch`.

`train`, `resume` and `eval` call `maybe_launch()` first. When more than one rank is asked for
(`--gpus 0,1`, `--nproc 2`, `--nnodes 2`, `--ips a,b`) and this process is not already a launched
worker, it re-runs the same `ocrrec` command line under `python -m paddle.distributed.launch`
(Paddle's own engine: no home-made process groups) and returns its exit code.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ocrrec.errors import UsageError, UserError

WORKER_ENV = "OCRREC_LAUNCHED"


@dataclass(frozen=True)
class LaunchOptions:
    """The launcher options shared by train/resume/eval, as typed by the user."""

    gpus: str | None = None
    ips: str | None = None
    nnodes: int | None = None
    master: str | None = None
    rank: int | None = None
    nproc: int | None = None
    log_dir: Path | None = None

    @property
    def gpu_list(self) -> list[str]:
        return _split_list(self.gpus, "--gpus")

    @property
    def ip_list(self) -> list[str]:
        return _split_list(self.ips, "--ips")

    @property
    def nodes(self) -> int:
        if self.ips:
            return len(self.ip_list)
        return self.nnodes or 1

    @property
    def procs_per_node(self) -> int:
        if self.gpus:
            return len(self.gpu_list)
        return self.nproc or 1

    @property
    def world_size(self) -> int:
        return self.nodes * self.procs_per_node

    @property
    def device(self) -> str | None:
        """The device workers must use: `--gpus` means GPU, `--nproc` means CPU ranks."""
        if self.gpus:
            return "gpu"
        if self.nproc:
            return "cpu"
        return None


def _split_list(text: str | None, option: str) -> list[str]:
    if not text:
        return []
    items = [item.strip() for item in str(text).replace(" ", ",").split(",") if item.strip()]
    if not items:
        raise UsageError(f"{option} {text!r} lists nothing", f"e.g. {option} 0,1,2,3")
    return items


def is_worker() -> bool:
    """True inside a process started by paddle.distributed.launch (never launch again)."""
    return os.environ.get(WORKER_ENV) == "1" or "PADDLE_TRAINERS_NUM" in os.environ


def validate(options: LaunchOptions, system: str | None = None) -> None:
    """Refuse option combinations that cannot work, with what to do instead."""
    import platform

    system = system or platform.system()
    if options.world_size > 1 and system in ("Windows", "Darwin"):
        where = "Windows (NCCL is Linux-only: train on one GPU)" if system == "Windows" else "macOS (train on the CPU in one process)"
        raise UsageError(f"multi-process training is not supported on {where}", "drop --gpus/--nproc/--nnodes/--ips")
    if options.gpus and options.nproc:
        raise UsageError("--gpus and --nproc cannot be combined", "--gpus starts one rank per GPU; --nproc starts CPU ranks")
    for gpu in options.gpu_list:
        if not gpu.isdigit():
            raise UsageError(f"--gpus {options.gpus!r}: `{gpu}` is not a GPU index", "e.g. --gpus 0,1,2,3")
    if options.nproc is not None and options.nproc < 1:
        raise UsageError("--nproc must be at least 1")
    if options.ips and (options.nnodes or options.master or options.rank is not None):
        raise UsageError("--ips cannot be combined with --nnodes/--master/--rank", "use either --ips a,b or --nnodes N --master HOST:PORT --rank R")
    if options.ips and not options.gpus:
        raise UsageError("--ips needs --gpus (one launcher per machine, each with its GPUs)", "e.g. --ips 10.0.0.1,10.0.0.2 --gpus 0,1,2,3")
    if options.nnodes and options.nnodes > 1:
        if not options.master:
            raise UsageError("--nnodes > 1 needs --master HOST:PORT (the same on every machine)")
        if options.rank is None:
            raise UsageError("--nnodes > 1 needs --rank (0 on the master machine, 1.. on the others)")
        if not 0 <= options.rank < options.nnodes:
            raise UsageError(f"--rank {options.rank} is outside 0..{options.nnodes - 1}")
    if options.master and not re.fullmatch(r"[^:\s]+:\d+", options.master):
        raise UsageError(f"--master {options.master!r} is not HOST:PORT", "e.g. --master 10.0.0.1:29500")


def check_gpu_build(options: LaunchOptions, cuda_available: Callable[[], bool] | None = None) -> None:
    """--gpus needs a CUDA build; --nproc (gloo CPU ranks) needs the CPU build.

    paddle.distributed.launch gives every worker of a CUDA build a GPU and the NCCL backend, and
    offers no switch to CPU ranks there (hiding the GPUs with an empty CUDA_VISIBLE_DEVICES
    makes it fail), so that combination is refused instead of failing inside the workers.
    """
    if not options.gpus and not (options.nproc and options.world_size > 1):
        return
    if cuda_available is None:
        import paddle

        cuda_available = paddle.device.is_compiled_with_cuda
    has_cuda = cuda_available()
    if options.gpus and not has_cuda:
        raise UserError(
            "--gpus needs a CUDA build of PaddlePaddle; this one is CPU-only",
            f"use --nproc {len(options.gpu_list)} for CPU ranks, or install paddlepaddle-gpu (see README)",
        )
    if options.nproc and has_cuda:
        raise UserError(
            "--nproc starts CPU ranks, which paddle.distributed.launch only supports with the CPU build of PaddlePaddle",
            f"on this CUDA build use --gpus (e.g. --gpus {','.join(str(i) for i in range(options.nproc))})",
        )


def _is_local_host(host: str) -> bool:
    if host in ("localhost", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or host in _local_addresses()
    except ValueError:
        return False


def _local_addresses() -> set[str]:
    addresses = set()
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            addresses.add(str(info[4][0]))
    return addresses


def check_master_port(options: LaunchOptions) -> None:
    """On the master machine, a --master port that is already taken is a clear error, not a hang."""
    if not options.master or (options.rank or 0) != 0:
        return
    host, _, port = options.master.rpartition(":")
    if not _is_local_host(host):
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("" if host not in ("127.0.0.1", "localhost") else "127.0.0.1", int(port)))
        except OSError:
            raise UserError(
                f"--master {options.master}: port {port} is already in use",
                "pick a free port (the same on every machine), e.g. --master HOST:29500",
            ) from None


def launch_args(options: LaunchOptions, log_dir: Path) -> list[str]:
    args = ["--log_dir", str(log_dir)]
    if options.gpus:
        args += ["--gpus", ",".join(options.gpu_list)]
    else:
        args += ["--nproc_per_node", str(options.procs_per_node)]
    if options.ips:
        args += ["--ips", ",".join(options.ip_list)]
    elif options.nodes > 1:
        args += ["--nnodes", str(options.nodes), "--master", str(options.master), "--rank", str(options.rank)]
    return args


def build_launch_command(options: LaunchOptions, ocrrec_args: Sequence[str]) -> list[str]:
    """`python -m paddle.distributed.launch ... python -m ocrrec <same args>`."""
    log_dir = options.log_dir or Path("log")
    return [
        sys.executable, "-m", "paddle.distributed.launch", *launch_args(options, log_dir),
        sys.executable, "-m", "ocrrec", *ocrrec_args,
    ]


def worker_env(options: LaunchOptions) -> dict[str, str]:
    env = dict(os.environ)
    env[WORKER_ENV] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    import ocrrec

    if ocrrec.USER_OMP_NUM_THREADS is None:
        # workers then split the cores among local ranks instead of inheriting paddle's OMP_NUM_THREADS=1
        env["OCRREC_OMP_UNSET"] = "1"
    return env


@dataclass
class LaunchResult:
    exit_code: int
    command: list[str]
    log_dir: Path
    failure: str | None = None


def failed_rank_summary(log_dir: Path) -> str | None:
    """The failing worker's own error, e.g. `rank 1: RuntimeError: boom (log/workerlog.1)`.

    When one rank dies the others are aborted (gloo/NCCL report a fatal signal), so a rank's own
    message wins over those echoes: first ocrrec's `error:` lines, then Python exceptions, then
    anything fatal.
    """
    ranked: list[tuple[int, str, str]] = []
    for log in sorted(log_dir.glob("workerlog.*"), key=lambda p: p.name):
        try:
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        rank = log.name.rsplit(".", 1)[-1]
        for priority, pattern in (
            (0, r"^error: "),
            (1, r"^(\w+\.)*\w*(Error|Exception|Interrupt)\b(?!: `Process abort signal`)"),
            (2, r"^(\w+\.)*\w*(Error|Exception)\b"),
        ):
            matches = [line.strip() for line in lines if re.match(pattern, line)]
            if matches:
                ranked.append((priority, matches[-1], f"rank {rank}: {matches[-1]} ({log})"))
                break
    if not ranked:
        return None
    return min(ranked, key=lambda item: item[0])[2]


def run_launch(options: LaunchOptions, ocrrec_args: Sequence[str], announce: Callable[[str], None]) -> LaunchResult:
    """Start the distributed job, stream its output, and return when every rank has ended."""
    validate(options)
    check_gpu_build(options)
    check_master_port(options)
    command = build_launch_command(options, ocrrec_args)
    log_dir = options.log_dir or Path("log")
    announce("launching: " + " ".join(_shell_quote(c) for c in command))
    announce(f"worker logs: {log_dir}/workerlog.N (one per rank on this machine; rank 0's output follows)")
    proc = subprocess.Popen(command, env=worker_env(options))
    forwarded = {}

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            forwarded[sig] = signal.signal(sig, forward)
    try:
        code = proc.wait()
    finally:
        for sig, old in forwarded.items():
            signal.signal(sig, old)
    code = code if code >= 0 else 128 - code
    code = code if code < 256 else 1
    failure = failed_rank_summary(log_dir) if code != 0 else None
    return LaunchResult(code, command, log_dir, failure)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def maybe_launch(options: LaunchOptions, ocrrec_args: Sequence[str], announce: Callable[[str], None]) -> LaunchResult | None:
    """Launch the distributed job if one is needed here; None means: run in this process."""
    validate(options)
    if is_worker() or options.world_size <= 1:
        return None
    return run_launch(options, ocrrec_args, announce)
