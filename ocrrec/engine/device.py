"""Where a run executes: device selection, CPU threads, AMP capability, rank information."""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from dataclasses import dataclass

from ocrrec.errors import UserError


@dataclass(frozen=True)
class RunPlace:
    device: str  # "cpu", "gpu:0", ...
    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_gpu(self) -> bool:
        return self.device.startswith("gpu")


def dist_env() -> tuple[int, int, int]:
    """(rank, world_size, local_rank) from the variables paddle.distributed.launch sets."""
    rank = int(os.environ.get("PADDLE_TRAINER_ID", os.environ.get("PADDLE_RANK_IN_NODE", "0")) or 0)
    world = int(os.environ.get("PADDLE_TRAINERS_NUM", "1") or 1)
    local = int(os.environ.get("PADDLE_RANK_IN_NODE", os.environ.get("PADDLE_LOCAL_RANK", "0")) or 0)
    return rank, world, local


def select_device(spec: str | None, use_gpu: bool) -> RunPlace:
    """Resolve `--device` (cpu | gpu | gpu:N) or `Global.use_gpu` and make paddle use it."""
    import paddle

    rank, world, local = dist_env()
    wanted = (spec or ("gpu" if use_gpu else "cpu")).strip().lower()
    if wanted not in ("cpu",) and not wanted.startswith("gpu"):
        raise UserError(f"--device {spec!r} is not a device", "use cpu, gpu or gpu:N")
    if wanted == "cpu":
        paddle.device.set_device("cpu")
        set_cpu_threads(cpu_threads_per_rank())
        keep_freed_memory_for_reuse()
        return RunPlace("cpu", rank, world, local)
    if not paddle.device.is_compiled_with_cuda():
        source = f"--device {spec}" if spec else "Global.use_gpu is True but"
        raise UserError(
            f"{source} this PaddlePaddle build has no CUDA support",
            "add --device cpu (or -o Global.use_gpu=False); for GPU training install paddlepaddle-gpu (see README)",
        )
    count = paddle.device.cuda.device_count()
    if count == 0:
        raise UserError("no visible GPU (CUDA_VISIBLE_DEVICES may hide them)", "add --device cpu or check CUDA_VISIBLE_DEVICES")
    if ":" in wanted:
        index = int(wanted.split(":", 1)[1])
    elif world > 1:
        # the launcher exposes one card per worker (FLAGS_selected_gpus); paddle maps it to index 0..n
        index = int(os.environ.get("FLAGS_selected_gpus", local) or 0) if count > 1 else 0
    else:
        index = 0
    if index >= count:
        raise UserError(f"--device gpu:{index} does not exist: {count} GPU(s) visible")
    device = f"gpu:{index}"
    paddle.device.set_device(device)
    return RunPlace(device, rank, world, local)


def amp_supported(place: RunPlace) -> bool:
    return place.is_gpu


def cpu_threads_per_rank() -> int:
    """Math threads for this process: OMP_NUM_THREADS if set, else the cores shared by local ranks.

    Paddle's dynamic graph runs CPU kernels on one thread unless told otherwise; dense
    convolutions and matrix products get faster with every core they may use.
    """
    import ocrrec

    # paddle's import writes OMP_NUM_THREADS=1 when unset; only the user's own value counts
    explicit = ocrrec.USER_OMP_NUM_THREADS
    if explicit and explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    return cores_per_rank()


def cores_per_rank() -> int:
    """This machine's CPU cores shared among the ranks paddle's launcher started on it."""
    local_ranks = int(os.environ.get("PADDLE_LOCAL_SIZE", "1") or 1)
    return max(1, (os.cpu_count() or 1) // max(1, local_ranks))


def set_cpu_threads(threads: int) -> None:
    import paddle

    setter = getattr(paddle.base.core, "set_num_threads", None)
    if setter is not None:
        setter(int(threads))


# mallopt(3) parameter numbers of glibc
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3


def keep_freed_memory_for_reuse() -> bool:
    """Tune glibc malloc so that a CPU step reuses the memory the previous step freed.

    Paddle's CPU tensors come straight from malloc. By default glibc serves big blocks with fresh
    mmap pages and trims the heap once a few tens of MB are free, so every training step
    page-faults its large activations in again (PP-OCRv3 at batch 64 spent over a third of its step
    there). With blocks up to 1 GiB served from the heap and the heap kept, steady-state steps reuse
    warm pages; the cost is that freed memory stays with the process: PP-OCRv3 at batch 64 trains
    ~9% faster but peaks at ~1.8x the memory (9.6 vs 5.4 GB), so this is opt-in with
    OCRREC_MALLOC_TUNING=1. Returns False where nothing was changed (not glibc, or not asked for).
    """
    if os.environ.get("OCRREC_MALLOC_TUNING", "0").strip() != "1":
        return False
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    settings = ((_M_MMAP_THRESHOLD, 1 << 30), (_M_TRIM_THRESHOLD, 1 << 30), (_M_TOP_PAD, 64 << 20))
    return all([bool(libc.mallopt(param, value)) for param, value in settings])
