"""Build (once, cached per user), load and self-check ocrrec's C++ custom operators.

The sources next to this file are compiled with `paddle.utils.cpp_extension.load` in a child
process into `<cache>/ops/<key>/`, where the key hashes the sources, the build flags, the Paddle
build and the Python/CPU platform. A file lock serialises concurrent first builds (e.g. the ranks of
`--nproc 2`), and the result is moved into place only when complete, so a half-written build is
never loaded. Anything that goes wrong leaves the caller with `None` and ONE warning line: training
then runs on Paddle's own kernels.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("ocrrec.native")

EXTENSION_NAME = "ocrrec_native_ops"
SOURCE_DIR = Path(__file__).resolve().parent
SOURCE_FILES = ("ocrrec_ops.cc", "cpu_kernels.inc")
COMPILE_FLAGS = ("-O3", "-fopenmp", "-ffp-contract=fast", "-fno-trapping-math")
DISABLE_ENV = "OCRREC_NATIVE_OPS"
CACHE_ENV = "OCRREC_CACHE_DIR"
BUILD_TIMEOUT_S = 600.0
LOCK_TIMEOUT_S = 900.0

DEPTHWISE_OP = "ocrrec_depthwise_conv2d"
HARDSWISH_OP = "ocrrec_hardswish"

# Runs in a child process: compile into the given directory (paddle's load() also loads the ops
# there, which is harmless; the parent loads the finished library itself).
_BUILD_SCRIPT = """
import json, sys
from paddle.utils.cpp_extension import load
spec = json.loads(sys.argv[1])
load(name=spec["name"], sources=spec["sources"], extra_cxx_cflags=spec["cflags"],
     extra_ldflags=spec["ldflags"], build_directory=spec["build_dir"], verbose=False)
"""


class NativeBuildError(RuntimeError):
    """The operators could not be built or loaded; the message is one line saying why."""


@dataclass(frozen=True)
class NativeOps:
    """Handle on the loaded operators. `num_threads` is the OpenMP team size of every call."""

    library: Path
    num_threads: int

    def depthwise_conv2d(
        self, x: Any, weight: Any, stride: tuple[int, int], padding: tuple[int, int]
    ) -> Any:
        """Depthwise conv2d, NCHW float32 CPU, weight [C, 1, kh, kw], no bias, no dilation."""
        from paddle import _C_ops

        outs = _C_ops._run_custom_op(
            DEPTHWISE_OP, x, weight, [int(stride[0]), int(stride[1])], [int(padding[0]), int(padding[1])],
            self.num_threads,
        )
        return outs[0]

    def hardswish(self, x: Any) -> Any:
        """Paddle's hard-swish (threshold 6, scale 6, offset 3) on a float32 CPU tensor."""
        from paddle import _C_ops

        return _C_ops._run_custom_op(HARDSWISH_OP, x, self.num_threads)[0]


@dataclass
class _State:
    loaded: bool = False
    ops: NativeOps | None = None
    status: str = "not loaded yet"


_state = _State()
_state_lock = threading.Lock()
_registered: set[Path] = set()  # libraries whose ops this process has registered with Paddle


def native_ops_enabled() -> bool:
    """False when OCRREC_NATIVE_OPS is 0/false/off/no."""
    return os.environ.get(DISABLE_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


def cache_root() -> Path:
    """OCRREC_CACHE_DIR, else $XDG_CACHE_HOME/ocrrec, else ~/.cache/ocrrec."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ocrrec"


def _paddle_dir() -> Path:
    import paddle

    return Path(paddle.__file__).resolve().parent


def _openmp_link_flags() -> list[str]:
    """Link against the OpenMP runtime Paddle itself ships (Intel's libiomp5 in the x86 wheels), so
    our parallel regions share its thread pool instead of a second pool spinning beside it."""
    libs = _paddle_dir() / "libs"
    if sys.platform.startswith("linux") and (libs / "libiomp5.so").is_file():
        return [f"-L{libs}", "-l:libiomp5.so"]
    return ["-fopenmp"]


def build_key() -> str:
    """Hash of everything the compiled library depends on."""
    import paddle

    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        digest.update(name.encode())
        digest.update((SOURCE_DIR / name).read_bytes())
    commit = getattr(getattr(paddle, "version", None), "commit", "")
    for part in (
        paddle.__version__,
        str(commit),
        str(_paddle_dir()),
        sys.version,
        platform.machine(),
        sys.platform,
        " ".join(COMPILE_FLAGS),
        " ".join(_openmp_link_flags()),
    ):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:20]


def _library_path(build_dir: Path) -> Path:
    return build_dir / EXTENSION_NAME / f"{EXTENSION_NAME}.so"


@contextlib.contextmanager
def _exclusive(lock_path: Path, timeout_s: float) -> Iterator[None]:
    """Inter-process lock on `lock_path` (fcntl); a no-op where fcntl does not exist."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(lock_path, "a+b") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise NativeBuildError(
                        f"another process has been building the ops for over {timeout_s:.0f} s ({lock_path})"
                    ) from exc
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _last_error_line(log: str) -> str:
    """The most telling line of a failed build's output, for the one-line warning."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for marker in ("error:", "Error:", "Error", "error"):
        hits = [line for line in lines if marker in line]
        if hits:
            return hits[0][:300]
    return lines[-1][:300] if lines else "no output"


def _compile(build_dir: Path) -> None:
    """Copy the sources into `build_dir` and build the library there (in a child process)."""
    if shutil.which(os.environ.get("CC", "gcc")) is None and shutil.which("cc") is None:
        raise NativeBuildError("no C/C++ compiler (gcc) on PATH")
    source_copy = build_dir / "src"
    source_copy.mkdir(parents=True)
    for name in SOURCE_FILES:
        shutil.copy2(SOURCE_DIR / name, source_copy / name)
    spec = {
        "name": EXTENSION_NAME,
        "sources": [str(source_copy / SOURCE_FILES[0])],
        "cflags": list(COMPILE_FLAGS),
        "ldflags": _openmp_link_flags(),
        "build_dir": str(build_dir),
    }
    env = dict(os.environ)
    env.setdefault("GLOG_minloglevel", "2")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _BUILD_SCRIPT, json.dumps(spec)],
            cwd=build_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise NativeBuildError(f"the build took longer than {BUILD_TIMEOUT_S:.0f} s") from exc
    log = (proc.stdout or "") + (proc.stderr or "")
    (build_dir / "build.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0 or not _library_path(build_dir).is_file():
        raise NativeBuildError(f"the C++ build failed: {_last_error_line(log)}")
    shutil.rmtree(build_dir / EXTENSION_NAME / "build", ignore_errors=True)


def ensure_built(root: Path | None = None) -> Path:
    """Path of the compiled library, building it first if this cache does not have it yet."""
    root = (root or cache_root()) / "ops"
    key = build_key()
    final_dir = root / key
    library = _library_path(final_dir)
    if library.is_file():
        return library
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NativeBuildError(f"cannot create the build cache {root}: {exc.strerror}") from exc
    with _exclusive(root / f"{key}.lock", LOCK_TIMEOUT_S):
        if library.is_file():  # another process finished it while we waited
            return library
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.tmp-", dir=root))
        try:
            _compile(staging)
            (staging / "manifest.json").write_text(json.dumps(_manifest(key), indent=1), encoding="utf-8")
            try:
                os.rename(staging, final_dir)
            except OSError:
                if not library.is_file():
                    raise
                shutil.rmtree(staging, ignore_errors=True)  # someone else's identical build won
        except BaseException:
            failed_log = staging / "build.log"
            if failed_log.is_file():
                shutil.copy2(failed_log, root / "last-failed-build.log")
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return library


def _manifest(key: str) -> dict[str, Any]:
    import paddle

    return {
        "key": key,
        "paddle": paddle.__version__,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cflags": list(COMPILE_FLAGS),
        "ldflags": _openmp_link_flags(),
        "built": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _register(library: Path) -> None:
    from paddle.utils.cpp_extension.extension_utils import load_op_meta_info_and_register_op

    if library in _registered:
        return
    names = set(load_op_meta_info_and_register_op(str(library)))
    missing = {DEPTHWISE_OP, HARDSWISH_OP} - names
    if missing:
        raise NativeBuildError(f"{library} does not define {', '.join(sorted(missing))}")
    _registered.add(library)


def _self_check(ops: NativeOps) -> None:
    """Tiny forward/backward comparison with Paddle's kernels; raises on any mismatch."""
    import numpy as np
    import paddle
    import paddle.nn.functional as F

    rng = np.random.default_rng(7)
    x_np = rng.standard_normal((2, 3, 5, 7)).astype("float32")
    w_np = rng.standard_normal((3, 1, 3, 3)).astype("float32")
    results = []
    with paddle.set_grad_enabled(True):
        for native in (True, False):
            x = paddle.to_tensor(x_np, place=paddle.CPUPlace(), stop_gradient=False)
            w = paddle.to_tensor(w_np, place=paddle.CPUPlace(), stop_gradient=False)
            if native:
                y = ops.hardswish(ops.depthwise_conv2d(x, w, (2, 1), (1, 1)))
            else:
                y = F.hardswish(F.conv2d(x, w, stride=(2, 1), padding=(1, 1), groups=3))
            (y * y).sum().backward()
            results.append([y.numpy(), x.grad.numpy(), w.grad.numpy()])
    for name, mine, ref in zip(("output", "input gradient", "weight gradient"), *results, strict=True):
        if mine.shape != ref.shape or not np.allclose(mine, ref, rtol=1e-4, atol=1e-4):
            raise NativeBuildError(f"self-check failed: {name} differs from Paddle's kernels")


def _default_threads() -> int:
    from ocrrec.engine.device import cpu_threads_per_rank

    return cpu_threads_per_rank()


def load_native_ops() -> NativeOps | None:
    """The operators, built/loaded on first call; None (after one warning) if unavailable.

    Returns None without a warning when OCRREC_NATIVE_OPS=0.
    """
    if _state.loaded:
        return _state.ops
    with _state_lock:
        if _state.loaded:
            return _state.ops
        if not native_ops_enabled():
            _state.status = f"off: {DISABLE_ENV}=0"
        else:
            try:
                library = ensure_built()
                _register(library)
                ops = NativeOps(library=library, num_threads=_default_threads())
                _self_check(ops)
                _state.ops = ops
                _state.status = f"on: {library}"
            except Exception as exc:  # noqa: BLE001 - any failure means "use Paddle's ops"
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                _state.status = f"off: {reason}"
                logger.warning(
                    "ocrrec: fast CPU kernels unavailable (%s); using Paddle's own depthwise-conv and "
                    "hard-swish kernels (OCRREC_NATIVE_OPS=0 skips this attempt)",
                    reason,
                )
        _state.loaded = True
        return _state.ops


def native_ops_status() -> str:
    """'on: <library>', 'off: <reason>' or 'not loaded yet'."""
    return _state.status


def reset_native_ops_for_tests() -> None:
    """Forget the load result so the next call tries again (tests only; a registered
    library stays registered in this process)."""
    with _state_lock:
        _state.loaded = False
        _state.ops = None
        _state.status = "not loaded yet"
