"""Recognize text in images with an exported model, a checkpoint, or PaddleOCR's own exports.

A `Recognizer` = preprocessing + an engine (paddle.inference, ONNX Runtime or the dynamic-graph
model) + CTC decoding. For ocrrec exports, preprocessing is rebuilt from `inference.yml` with the
same transform code evaluation uses, so exported predictions equal evaluation's. PaddleOCR's
exports without ocrrec metadata get `tools/infer/predict_rec.py`'s preprocessing (dynamic width
per batch, inputs sorted by aspect ratio).
"""

from __future__ import annotations

import glob as globlib
import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ocrrec.errors import UserError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


# ----------------------------------------------------------------------------- inputs
def expand_inputs(items: Sequence[str]) -> list[Path]:
    """Files, directories (their images, sorted) and glob patterns -> image paths, in order."""
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                raise UserError(f"{path}: no images in this directory ({', '.join(sorted(IMAGE_SUFFIXES))})")
            paths.extend(found)
        elif any(ch in item for ch in "*?["):
            matched = sorted(Path(p) for p in globlib.glob(item, recursive=True) if Path(p).is_file())
            if not matched:
                raise UserError(f"no file matches {item!r}")
            paths.extend(matched)
        else:
            paths.append(path)
    return paths


def read_image(path: Path) -> np.ndarray:
    """Decode an image file to HxWx3 BGR uint8 (raises ValueError with a reason)."""
    import cv2

    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise ValueError(exc.strerror or "cannot read") from None
    if data.size == 0:
        raise ValueError("empty file")
    # the flags training's DecodeImage uses, so grey, alpha and 16-bit files convert the same way
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a decodable image")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("zero-size image")
    return image


# ----------------------------------------------------------------------- preprocessing
class PipelinePreprocessor:
    """Runs the transform ops recorded in inference.yml (the Eval pipeline) on decoded images.

    `DecodeImage` is applied to the already-decoded BGR array (its colour conversion), so
    nothing is re-encoded; the remaining ops are the very objects evaluation uses.
    """

    fixed_width = True

    def __init__(self, transform_ops: list[dict]) -> None:
        from ocrrec.data.ops.image import DecodeImage
        from ocrrec.data.pipeline import build_ops

        ops = build_ops(transform_ops, None, "inference.yml PreProcess.transform_ops")
        self.decode = next((op for op in ops if isinstance(op, DecodeImage)), None)
        self.ops = [op for op in ops if not isinstance(op, DecodeImage)]

    def one(self, image: np.ndarray) -> np.ndarray:
        data: dict[str, Any] = {"image": self.decode.from_array(image) if self.decode else image, "label": ""}
        for op in self.ops:
            data = op(data)
            if data is None:
                raise ValueError("preprocessing rejected the image")
        return np.asarray(data["image"], dtype="float32")

    def __call__(self, images: list[np.ndarray]) -> np.ndarray:
        return np.stack([self.one(img) for img in images])


class PaddleOCRPreprocessor:
    """`tools/infer/predict_rec.py`'s resize_norm_img: height fixed, width grows with the batch's widest ratio."""

    fixed_width = False

    def __init__(self, image_shape: tuple[int, int, int]) -> None:
        self.image_shape = image_shape

    def __call__(self, images: list[np.ndarray]) -> np.ndarray:
        import cv2

        c, h, w = self.image_shape
        max_ratio = max([w / h] + [img.shape[1] / img.shape[0] for img in images])
        width = int(h * max_ratio)
        batch = np.zeros((len(images), c, h, width), dtype="float32")
        for i, img in enumerate(images):
            ratio = img.shape[1] / float(img.shape[0])
            resized_w = width if math.ceil(h * ratio) > width else int(math.ceil(h * ratio))
            resized = cv2.resize(img, (resized_w, h)).astype("float32")
            resized = resized.transpose(2, 0, 1) / 255.0
            batch[i, :, :, :resized_w] = (resized - 0.5) / 0.5
        return batch


# ------------------------------------------------------------------------------ engines
class DygraphEngine:
    """The dynamic-graph model (eval mode) as an engine: probabilities [B, T, C]."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.model.eval()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import paddle

        from ocrrec.engine.evaluator import ctc_view

        with paddle.no_grad():
            out = self.model(paddle.to_tensor(batch))
        return np.asarray(ctc_view(out).numpy(), dtype="float32")


def _cpu_threads(threads: int | None) -> int:
    """Math threads for an engine: the caller's number, else all cores."""
    return int(threads or os.cpu_count() or 1)


def _model_files(model_dir: Path) -> tuple[Path, Path]:
    params = model_dir / "inference.pdiparams"
    for name in ("inference.json", "inference.pdmodel"):
        if (model_dir / name).is_file() and params.is_file():
            return model_dir / name, params
    raise UserError(
        f"{model_dir}: no inference model here (expected inference.json or inference.pdmodel + inference.pdiparams)",
        "export one with `ocrrec export RUN_DIR --out DIR`",
    )


class PaddleInferenceEngine:
    """A `paddle.inference` predictor, created once and reused, with zero-copy input/output handles."""

    def __init__(self, model_dir: Path, *, device: str = "cpu", threads: int | None = None, backend: str = "auto") -> None:
        from paddle import inference

        model_file, params_file = _model_files(Path(model_dir))
        config = inference.Config(str(model_file), str(params_file))
        config.disable_glog_info()
        threads = _cpu_threads(threads)
        if device.startswith("gpu"):
            gpu_id = int(device.split(":", 1)[1]) if ":" in device else 0
            config.enable_use_gpu(256, gpu_id)
            if backend == "tensorrt":
                config.enable_tensorrt_engine(workspace_size=1 << 30, max_batch_size=64, min_subgraph_size=3)
        else:
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(threads)
            if backend in ("auto", "mkldnn", "onednn"):
                config.enable_mkldnn()
            elif backend != "paddle":
                raise UserError(f"--backend {backend} is not available on the CPU", "use auto, paddle, mkldnn, openvino or onnx")
        config.switch_ir_optim(True)
        if model_file.suffix == ".pdmodel":
            # memory_optimize_pass breaks PIR programs on paddle 3.x; only legacy programs use it
            config.enable_memory_optim()
        self.name = ("TensorRT" if backend == "tensorrt" else "Paddle Inference GPU") if device.startswith("gpu") else (
            f"Paddle Inference{' (oneDNN)' if backend != 'paddle' else ''}, {threads} threads")
        self.predictor = inference.create_predictor(config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])
        self.model_file = model_file

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        from ocrrec.utils.io import native_stdout_to_stderr

        self.input.reshape(list(batch.shape))
        self.input.copy_from_cpu(np.ascontiguousarray(batch, dtype="float32"))
        with native_stdout_to_stderr():
            self.predictor.run()
        return self.output.copy_to_cpu()


def openvino_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def openvino_model_file(model_dir: Path) -> Path | None:
    """The file OpenVINO reads in an export: the legacy Paddle program, else ONNX (it cannot read PIR's inference.json)."""
    for name in ("inference.pdmodel", "inference.onnx"):
        if (model_dir / name).is_file() and (name.endswith(".onnx") or (model_dir / "inference.pdiparams").is_file()):
            return model_dir / name
    return None


class OpenVinoEngine:
    """OpenVINO's CPU runtime on the export's own files, in fp32 (never its bf16 default on AMX CPUs).

    `streams` > 1 runs that many batches at once, each on threads/streams cores, in this process
    (OpenVINO releases the GIL); `run_many` keeps them busy while the caller preprocesses the next
    batch. Outputs always come back in input order.
    """

    def __init__(self, model_dir: Path, *, threads: int | None = None, streams: int = 1) -> None:
        model_file = openvino_model_file(Path(model_dir))
        if model_file is None:
            raise UserError(
                f"{model_dir}: OpenVINO reads inference.pdmodel (legacy Paddle program) or inference.onnx, and this export has neither",
                "export with `ocrrec export RUN_DIR --legacy` or add --onnx, or use --backend paddle",
            )
        clash = paddle_openvino_clash()
        if clash:
            raise UserError(f"OpenVINO cannot run here: {clash}, and the two versions clash",
                            "run `ocrrec infer` (its own process, no Paddle) or use backend='mkldnn'")
        try:
            import openvino
        except ImportError:
            raise UserError("--backend openvino needs OpenVINO", "pip install 'ocrrec[openvino]'") from None
        threads = _cpu_threads(threads)
        self.streams = max(1, min(int(streams), threads))
        core = openvino.Core()
        try:
            model = core.read_model(str(model_file))
            self.compiled = core.compile_model(model, "CPU", {
                "INFERENCE_PRECISION_HINT": "f32",
                "INFERENCE_NUM_THREADS": threads,
                "NUM_STREAMS": self.streams,
                "ENABLE_CPU_PINNING": False,  # other processes (a second `ocrrec infer`, training) share these cores
            })
        except RuntimeError as exc:
            reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "unknown error")
            raise UserError(f"{model_file}: OpenVINO cannot load this model ({reason})", "use --backend paddle") from None
        self.requests = [self.compiled.create_infer_request() for _ in range(self.streams + 1)]
        self.model_file = model_file
        per_stream = f"{self.streams} streams × {max(1, threads // self.streams)} threads" if self.streams > 1 else f"{threads} threads"
        self.name = f"OpenVINO {openvino.get_version().split('-')[0]} fp32, {per_stream}"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.requests[0].infer({0: np.ascontiguousarray(batch, dtype="float32")})[0]  # a copy, not a view

    def run_many(self, batches: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
        """Outputs of `batches`, in order, with up to streams + 1 batches in flight.

        Plain infer requests reused round-robin, waited for oldest first (so outputs come back in
        order): no Python callback ever runs on OpenVINO's threads.
        """
        in_flight: deque = deque()
        try:
            for index, batch in enumerate(batches):
                request = self.requests[index % len(self.requests)]
                if len(in_flight) == len(self.requests):  # the oldest is this request: collect it first
                    yield self._collect(in_flight.popleft())
                request.start_async({0: np.ascontiguousarray(batch, dtype="float32")})  # inputs are copied
                in_flight.append(request)
            while in_flight:
                yield self._collect(in_flight.popleft())
        finally:
            for request in in_flight:  # abandoned early (an error downstream): let running requests finish
                request.wait()

    @staticmethod
    def _collect(request: Any) -> np.ndarray:
        request.wait()
        return request.get_output_tensor(0).data.copy()  # the request's buffer is reused by the next batch


# A spawned process's UserError travels back as data; the caller re-raises the same one-line error.
def _error_as_data(exc: UserError) -> tuple[str, str, str | None]:
    return ("error", exc.message, exc.hint)


def _raise_if_error(answer: Any) -> None:
    if isinstance(answer, tuple):
        raise UserError(answer[1], answer[2])


def _openvino_outputs(model_dir: str, batches: list[np.ndarray]) -> list[np.ndarray] | tuple[str, str, str | None]:
    try:
        engine = OpenVinoEngine(Path(model_dir), threads=1)
        return [engine(batch) for batch in batches]
    except UserError as exc:
        return _error_as_data(exc)


def openvino_outputs_isolated(model_dir: Path, batches: list[np.ndarray]) -> list[np.ndarray]:
    """OpenVINO's outputs for `batches`, computed in a fresh spawned process that never loads Paddle."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            answer = pool.submit(_openvino_outputs, str(model_dir), batches).result()
    except BrokenProcessPool:
        raise UserError(f"{model_dir}: the OpenVINO process died while running this model", "use --backend paddle") from None
    _raise_if_error(answer)
    return answer


class RecordedEngine:
    """Plays back outputs computed elsewhere (e.g. by `openvino_outputs_isolated`), one per call, in order."""

    def __init__(self, outputs: list[np.ndarray], name: str) -> None:
        self.outputs = iter(outputs)
        self.name = name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return next(self.outputs)


class OnnxEngine:
    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise UserError("ONNX inference needs onnxruntime", "pip install 'ocrrec[onnx]'") from None
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.name = "ONNX Runtime"
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch.astype("float32")})[0]


# ---------------------------------------------------------------------------- recognizer
@dataclass
class Prediction:
    path: str
    text: str
    score: float
    error: str | None = None


class Recognizer:
    """Preprocess → engine → decode, over batches grouped by aspect ratio; results in input order."""

    def __init__(self, preprocess: Callable, engine: Callable, decoder: Any, *, batch_size: int = 6, description: str = "") -> None:
        self.preprocess = preprocess
        self.engine = engine
        self.decoder = decoder
        self.batch_size = max(1, int(batch_size))
        self.description = description
        self._checked = False

    def recognize(self, images: list[np.ndarray], on_batch: Callable[[int], None] | None = None) -> list[tuple[str, float]]:
        order = np.argsort([img.shape[1] / float(img.shape[0]) for img in images], kind="stable")
        results: list[tuple[str, float]] = [("", 0.0)] * len(images)
        chunks = [[int(i) for i in order[s : s + self.batch_size]] for s in range(0, len(images), self.batch_size)]
        batches = (self.preprocess([images[i] for i in chunk]) for chunk in chunks)
        run_many = getattr(self.engine, "run_many", None)  # engines that overlap batches
        outputs = run_many(batches) if run_many is not None and len(chunks) > 1 else map(self.engine, batches)
        for chunk, probs in zip(chunks, outputs, strict=True):
            if not self._checked:
                from ocrrec.postprocess import check_class_count

                check_class_count(int(probs.shape[-1]), self.decoder)
                self._checked = True
            for index, decoded in zip(chunk, self.decoder(probs), strict=True):
                results[index] = (decoded[0], float(decoded[1]))
            if on_batch is not None:
                on_batch(len(chunk))
        return results

    def recognize_paths(self, paths: Iterable[Path], on_batch: Callable[[int], None] | None = None) -> list[Prediction]:
        """Unreadable images become predictions with `error` set; the rest still run."""
        return _recognize_paths(self, paths, on_batch)

    def close(self) -> None:
        """Nothing to release in-process (ParallelRecognizer stops its workers here)."""

    def __enter__(self) -> Recognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Worker side of ParallelRecognizer: one recognizer per spawned process.
_WORKER_RECOGNIZER: Recognizer | None = None


def _start_worker(kwargs: dict) -> None:
    global _WORKER_RECOGNIZER
    # paddle's native libraries print to fd 1; a worker's output must never reach `--json` output
    os.dup2(2, 1)
    _WORKER_RECOGNIZER = load_recognizer(**kwargs)


def _worker_ready() -> bool:
    return _WORKER_RECOGNIZER is not None


def _recognize_in_worker(batches: list[list[np.ndarray]]) -> list[list[tuple[str, float]]] | tuple[str, str, str | None]:
    assert _WORKER_RECOGNIZER is not None
    try:
        results = []
        for images in batches:
            _WORKER_RECOGNIZER.batch_size = len(images)  # each item is one batch of the parent's size
            results.append(_WORKER_RECOGNIZER.recognize(images))
        return results
    except UserError as exc:
        return _error_as_data(exc)


class ParallelRecognizer:
    """A Recognizer whose batches run in `workers` spawned processes, each with its own predictor.

    `paddle.inference`'s `run()` holds the GIL, so threads cannot overlap predictors; processes can.
    On a CPU, N single-threaded predictors in N processes beat one N-threaded predictor (whose
    kernels scale sub-linearly on small recognition inputs). Batches are dealt out in aspect-ratio
    order as workers become free; results come back in input order. Inputs of at most two batches
    run in this process on `local` (no dispatch cost). The pool starts on first use; `close()`
    (or the context manager) stops it. Workers are spawned, so a script using this needs the
    usual `if __name__ == "__main__":` guard.
    """

    def __init__(self, local: Recognizer, worker_kwargs: dict, workers: int) -> None:
        self.local = local
        self.worker_kwargs = worker_kwargs
        self.workers = int(workers)
        self.batch_size = local.batch_size
        self.description = f"{local.description} ({self.workers} worker processes)"
        self._pool: Any = None
        self._ensure_pool()  # workers load their predictors while the caller reads its images

    def _ensure_pool(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, never fork: a process forked from one that runs paddle threads can deadlock.
            # ProcessPoolExecutor (not multiprocessing.Pool): a dead worker breaks the pool with an
            # error instead of leaving its task waiting forever.
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(self.worker_kwargs,),
            )
            for _ in range(self.workers):  # start every worker now, not at the first real batch
                self._pool.submit(_worker_ready)
        return self._pool

    def recognize(self, images: list[np.ndarray], on_batch: Callable[[int], None] | None = None) -> list[tuple[str, float]]:
        if len(images) <= 2 * self.batch_size:
            self.local.batch_size = self.batch_size
            return self.local.recognize(images, on_batch)
        order = np.argsort([img.shape[1] / float(img.shape[0]) for img in images], kind="stable")
        batches = [[int(i) for i in order[s : s + self.batch_size]] for s in range(0, len(images), self.batch_size)]
        # a few tasks per worker: fewer round trips than one batch per task, still balanced
        per_task = max(1, len(batches) // (self.workers * 4))
        tasks = [batches[s : s + per_task] for s in range(0, len(batches), per_task)]
        results: list[tuple[str, float]] = [("", 0.0)] * len(images)
        from concurrent.futures.process import BrokenProcessPool

        pool = self._ensure_pool()
        try:
            answers = pool.map(_recognize_in_worker, [[[images[i] for i in b] for b in task] for task in tasks])
            for task, answer in zip(tasks, answers, strict=True):
                _raise_if_error(answer)
                for batch, batch_results in zip(task, answer, strict=True):
                    for index, result in zip(batch, batch_results, strict=True):
                        results[index] = result
                    if on_batch is not None:
                        on_batch(len(batch))
        except BrokenProcessPool:
            self.close()
            raise UserError(
                "an inference worker process failed to start or died", "run with --workers 1 to see its error"
            ) from None
        except BaseException:
            self.close()
            raise
        return results

    def recognize_paths(self, paths: Iterable[Path], on_batch: Callable[[int], None] | None = None) -> list[Prediction]:
        return _recognize_paths(self, paths, on_batch)

    def close(self) -> None:
        if self._pool is not None:
            # workers exit on their own (SIGTERM would make paddle print a crash banner)
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParallelRecognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _recognize_paths(recognizer: Any, paths: Iterable[Path], on_batch: Callable[[int], None] | None) -> list[Prediction]:
    """Unreadable images become predictions with `error` set; the rest still run."""
    paths = list(paths)
    images: list[np.ndarray] = []
    good: list[int] = []
    out = [Prediction(str(p), "", 0.0) for p in paths]
    for i, path in enumerate(paths):
        try:
            images.append(read_image(path))
            good.append(i)
        except ValueError as exc:
            out[i].error = str(exc)
            if on_batch is not None:
                on_batch(1)
    for i, (text, score) in zip(good, recognizer.recognize(images, on_batch), strict=True):
        out[i].text, out[i].score = text, score
    return out


def probe_num_classes(model: Any, shape: tuple[int, int, int]) -> int:
    """Number of output classes of a model (one forward pass on zeros)."""
    engine = DygraphEngine(model)
    return int(engine(np.zeros((1, *shape), dtype="float32")).shape[-1])


def load_inference_yml(model_dir: Path) -> dict | None:
    path = Path(model_dir) / "inference.yml"
    if not path.is_file():
        return None
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise UserError(f"{path}: unreadable YAML ({exc})") from None
    return data if isinstance(data, dict) else None


def build_recognizer_parts(meta: dict, dict_override: str | None = None, use_space_char: bool | None = None) -> tuple[Callable, Any]:
    """(preprocessor, decoder) from an ocrrec inference.yml."""
    from ocrrec.charset import Charset
    from ocrrec.postprocess import CTCLabelDecode

    own = meta.get("ocrrec") or {}
    post = meta.get("PostProcess") or {}
    space = bool(own.get("use_space_char", post.get("use_space_char", False))) if use_space_char is None else use_space_char
    if dict_override:
        charset = Charset.from_spec(dict_override, space)
    else:
        charset = Charset.from_characters(list(post.get("character_dict") or []), space, source="inference.yml")
    transforms = own.get("transforms") or (meta.get("PreProcess") or {}).get("transform_ops") or []
    if own:
        preprocess: Callable = PipelinePreprocessor(transforms)
    else:  # a PaddleOCR/PaddleX export: use predict_rec.py's preprocessing
        shape = _shape_from_transforms(transforms) or (3, 48, 320)
        preprocess = PaddleOCRPreprocessor(shape)
    return preprocess, CTCLabelDecode(charset)


def _shape_from_transforms(transforms: list) -> tuple[int, int, int] | None:
    for op in transforms or []:
        if isinstance(op, dict):
            for name, args in op.items():
                if "Resize" in name and isinstance(args, dict) and "image_shape" in args:
                    return tuple(int(v) for v in args["image_shape"])  # type: ignore[return-value]
    return None


def load_recognizer(
    model_dir: Path | None = None,
    *,
    config: Any = None,
    dict_override: str | None = None,
    image_shape: tuple[int, int, int] | None = None,
    use_space_char: bool | None = None,
    device: str = "cpu",
    batch_size: int = 6,
    backend: str = "auto",
    threads: int | None = None,
    workers: int = 1,
) -> Recognizer | ParallelRecognizer:
    """A Recognizer from an exported directory, or from a config + checkpoint (`config`).

    `workers` > 1 (exported models on the CPU only) runs that many batches at once, each with
    `threads // workers` math threads (all cores by default): as OpenVINO streams in this process,
    or for Paddle Inference in that many processes (see ParallelRecognizer).
    """
    kwargs = dict(
        dict_override=dict_override, image_shape=image_shape, use_space_char=use_space_char,
        device=device, batch_size=batch_size, backend=backend,
    )
    local = _load_recognizer(model_dir, config=config, threads=threads, streams=workers, **kwargs)
    if workers <= 1 or config is not None or device.startswith("gpu") or isinstance(local.engine, OpenVinoEngine):
        return local
    per_worker = max(1, _cpu_threads(threads) // int(workers))
    # the workers run the engine chosen here (a fresh process would otherwise resolve `auto` on its own)
    worker_kwargs = {**kwargs, "backend": "mkldnn" if backend == "auto" else backend}
    return ParallelRecognizer(local, dict(model_dir=Path(model_dir).resolve(), threads=per_worker, **worker_kwargs), workers)


BACKENDS = ("auto", "paddle", "mkldnn", "onednn", "openvino", "onnx", "tensorrt")


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise UserError(f"unknown --backend {backend}", f"use one of: {', '.join(BACKENDS)}")


def paddle_openvino_clash() -> str | None:
    """Why OpenVINO must not run in this process, or None.

    Paddle 3.x wheels bundle their own OpenVINO (`paddle/libs/libopenvino.so.2500`) and TBB
    (`libtbb.so.12`), loaded when paddle is imported. The openvino package then runs on Paddle's
    TBB (same soname) beside a second OpenVINO core; in a long test session that process later
    crashed inside plain Python code. `ocrrec infer` on an export never imports Paddle.
    """
    import sys

    paddle = sys.modules.get("paddle")
    if paddle is None or not getattr(paddle, "__file__", None):
        return None
    bundled = sorted(p.name for p in (Path(paddle.__file__).parent / "libs").glob("libopenvino.so*"))
    if not bundled:
        return None
    return f"this process has imported Paddle, which loads its own OpenVINO ({bundled[0]}) and TBB"


def resolve_backend(model_dir: Path, device: str, backend: str) -> str:
    """`auto` on the CPU is OpenVINO when it is installed and can read the export, else Paddle Inference with oneDNN.

    Not in a process whose Paddle brought its own OpenVINO (see `paddle_openvino_clash`): a
    training script calling `load_recognizer` gets Paddle Inference there.
    """
    check_backend(backend)
    if backend != "auto":
        return backend
    if (not device.startswith("gpu") and openvino_available() and openvino_model_file(model_dir) is not None
            and paddle_openvino_clash() is None):
        return "openvino"
    return "auto"


def build_engine(model_dir: Path, *, device: str = "cpu", backend: str = "auto", threads: int | None = None,
                 streams: int = 1) -> Callable[[np.ndarray], np.ndarray]:
    """The inference engine for an exported model directory (see `resolve_backend`)."""
    chosen = resolve_backend(model_dir, device, backend)
    if chosen == "onnx":
        return OnnxEngine(model_dir / "inference.onnx")
    if chosen == "openvino":
        if device.startswith("gpu"):
            raise UserError("--backend openvino runs on the CPU only", "use --device cpu, or --backend auto on a GPU")
        try:
            return OpenVinoEngine(model_dir, threads=threads, streams=streams)
        except UserError:
            if backend != "auto":
                raise
            engine = PaddleInferenceEngine(model_dir, device=device, threads=threads, backend="auto")
            engine.name += "; OpenVINO cannot load this model"
            return engine
    return PaddleInferenceEngine(model_dir, device=device, threads=threads, backend=chosen)


def _load_recognizer(
    model_dir: Path | None,
    *,
    config: Any,
    dict_override: str | None,
    image_shape: tuple[int, int, int] | None,
    use_space_char: bool | None,
    device: str,
    batch_size: int,
    backend: str,
    threads: int | None,
    streams: int = 1,
) -> Recognizer:
    from ocrrec.charset import Charset
    from ocrrec.postprocess import CTCLabelDecode

    if config is not None:
        import paddle

        from ocrrec.engine.evaluator import load_model_weights
        from ocrrec.export import inference_transforms
        from ocrrec.modeling import build_model

        paddle.device.set_device(device if device.startswith("gpu") else "cpu")
        glob = config.glob
        charset = Charset.from_spec(dict_override or glob.character_dict_path, glob.use_space_char if use_space_char is None else use_space_char)
        model = build_model(config.section("Architecture"), Charset.from_spec(glob.character_dict_path, glob.use_space_char))
        weights = load_model_weights(config, model)
        return Recognizer(
            PipelinePreprocessor(inference_transforms(config)), DygraphEngine(model), CTCLabelDecode(charset),
            batch_size=batch_size, description=f"checkpoint {weights}",
        )
    if model_dir is None:
        raise UserError("no model given", "pass --model DIR (an exported model) or -c CONFIG -o Global.checkpoints=PATH")
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise UserError(f"model directory not found: {model_dir}", "export one with `ocrrec export RUN_DIR --out DIR`")
    engine: Any = build_engine(model_dir, device=device, backend=backend, threads=threads, streams=streams)
    meta = load_inference_yml(model_dir)
    if meta is not None and (meta.get("ocrrec") or (meta.get("PostProcess") or {}).get("character_dict")):
        preprocess, decoder = build_recognizer_parts(meta, dict_override, use_space_char)
        if image_shape is not None and isinstance(preprocess, PaddleOCRPreprocessor):
            preprocess = PaddleOCRPreprocessor(image_shape)
        kind = "ocrrec export" if meta.get("ocrrec") else "PaddleOCR export (inference.yml)"
        return Recognizer(preprocess, engine, decoder, batch_size=batch_size, description=f"{kind} {model_dir} [{engine.name}]")
    if not dict_override:
        raise UserError(
            f"{model_dir} has no inference.yml, so its dictionary is unknown",
            "pass the dictionary it was trained with: --dict FILE_OR_NAME (e.g. --dict ch for ppocr_keys_v1)",
        )
    charset = Charset.from_spec(dict_override, True if use_space_char is None else use_space_char)
    return Recognizer(
        PaddleOCRPreprocessor(image_shape or (3, 48, 320)), engine, CTCLabelDecode(charset),
        batch_size=batch_size, description=f"PaddleOCR export {model_dir} [{engine.name}]",
    )


# ------------------------------------------------------------------------------- parity
def parity_samples(config: Any, count: int) -> list[np.ndarray]:
    """Up to `count` Eval images (decoded BGR), or rendered words when there is no Eval set."""
    images: list[np.ndarray] = []
    if config.has("Eval"):
        from ocrrec.data.datasets import build_dataset

        try:
            dataset = build_dataset(config, "Eval", seed=0)
        except UserError:  # the Eval data is not on this machine: rendered words will do
            dataset = None
        if dataset is not None:
            step = max(1, len(dataset) // max(1, count))
            for position in range(0, len(dataset), step):
                raw = dataset.load_raw(position)
                if raw is not None:
                    images.append(raw[0])
                if len(images) >= count:
                    break
    if len(images) < count:
        images.extend(render_words(["parity", "Export", "12345", "ocrrec", "Text", "w0rd"][: count - len(images)]))
    return images


def render_words(words: Sequence[str], height: int = 48) -> list[np.ndarray]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=int(height * 0.7))
    out = []
    for word in words:
        left, top, right, bottom = font.getbbox(word)
        image = Image.new("RGB", (right - left + 16, height), (255, 255, 255))
        ImageDraw.Draw(image).text((8 - left, (height - (bottom - top)) // 2 - top), word, font=font, fill=(0, 0, 0))
        out.append(np.asarray(image)[:, :, ::-1].copy())
    return out


def check_parity(reference: Callable, candidate: Callable, preprocess: Callable, decoder: Any, images: list[np.ndarray]) -> Any:
    from ocrrec.export import ParityResult

    worst = 0.0
    mismatched: list[tuple[str, str]] = []
    for image in images:
        batch = preprocess([image])
        a, b = reference(batch), candidate(batch)
        if a.shape != b.shape:
            return ParityResult(len(images), float("inf"), [(f"shape {a.shape}", f"shape {b.shape}")])
        worst = max(worst, float(np.abs(a - b).max()))
        ta, tb = decoder(a)[0][0], decoder(b)[0][0]
        if ta != tb:
            mismatched.append((ta, tb))
    return ParityResult(len(images), worst, mismatched)
