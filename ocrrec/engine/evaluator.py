"""Evaluation: run a model over a loader, decode, and accumulate RecMetric (merged across ranks)."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np


def ctc_view(preds: Any) -> Any:
    """The prediction the post-processor decodes: the CTC branch of multi-head outputs (of the
    Student, for a distillation model; `head_out` is a sub-model's head output with return_all_feats)."""
    if isinstance(preds, dict):
        for key in ("ctc", "res", "Student", "head_out"):
            if key in preds:
                return ctc_view(preds[key])
        return next(iter(preds.values()))
    if isinstance(preds, (list, tuple)):
        return preds[-1]
    return preds


def label_arrays(batch: dict) -> tuple[Any, Any]:
    """(encoded labels, lengths) from a batch dict, whatever KeepKeys called them."""
    for key in ("label", "label_ctc"):
        if key in batch:
            return batch[key], batch.get("length")
    raise KeyError("batch has no `label` or `label_ctc` key; check KeepKeys.keep_keys")


def to_numpy(value: Any) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def decode_and_update(preds: Any, probs: np.ndarray, post_process: Any, metric: Any, truth: list) -> list:
    """Decode a batch, update the metric, return the main model's (text, score) list.

    A distillation output is decoded per sub-model so the metric reports each of them.
    """
    from ocrrec.modeling import per_model_predictions

    per_model = per_model_predictions(preds, getattr(post_process, "model_names", None))
    if per_model is not None and hasattr(metric, "per_model"):
        decoded = {name: post_process(to_numpy(p).astype("float32", copy=False)) for name, p in per_model.items()}
        metric.update(decoded, truth)
        return decoded.get(metric.main_model, next(iter(decoded.values())))
    predicted = post_process(probs)
    metric.update(predicted, truth)
    return predicted


def compile_for_eval(model: Any, image_shape: tuple[int, int, int], place: Any, sample: Any = None, reporter: Any = None) -> Any:
    """A paddle.inference predictor of `model`'s current weights for evaluation, or None.

    Used on the CPU for single models (not distillation): the static program with Paddle's
    inference passes runs the forward pass 5-7x faster than the dynamic graph here. A failed
    export, or outputs that differ from the dynamic graph's on `sample` by more than 1e-4,
    falls back to the dynamic graph (None) with a warning.
    """
    import paddle

    from ocrrec.modeling import per_model_predictions

    if place.is_gpu or getattr(model, "model_dict", None) is not None:
        return None
    from ocrrec.export import compile_inference_engine

    try:
        engine = compile_inference_engine(model, image_shape)
    except Exception as exc:  # an export the static translator cannot handle: stay on the dynamic graph
        if reporter is not None:
            reporter.warning(f"evaluating in the dynamic graph (the inference compile failed: {type(exc).__name__}: {exc})")
        return None
    if sample is not None:
        was_training = model.training
        model.eval()
        with paddle.no_grad():
            reference = model(paddle.to_tensor(sample))
        if was_training:
            model.train()
        if per_model_predictions(reference) is not None:
            return None
        expected = to_numpy(ctc_view(reference))
        got = engine(np.asarray(sample, dtype="float32"))
        if got.shape != expected.shape or float(np.abs(got - expected).max()) > 1e-4:
            if reporter is not None:
                reporter.warning("evaluating in the dynamic graph (the compiled model's outputs differ)")
            return None
    return engine


@dataclass
class EvalResult:
    metrics: dict[str, float]
    samples: int
    seconds: float
    records: list[tuple[int, str, str, float]] | None = None  # (sample position, truth, prediction, score)

    @property
    def images_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0


def amp_context(amp: dict | None):
    import paddle

    if not amp:
        return nullcontext()
    return paddle.amp.auto_cast(
        level=amp["level"],
        dtype=amp["dtype"],
        custom_black_list=amp.get("black_list") or None,
        custom_white_list=amp.get("white_list") or None,
    )


def evaluate(
    model: Any,
    loader: Any,
    post_process: Any,
    metric: Any,
    *,
    keys: list[str],
    amp: dict | None = None,
    world_size: int = 1,
    keep_records: bool = False,
    on_batch: Any = None,
    compiled: Any = None,
) -> EvalResult:
    """Evaluate `model` on every batch of `loader`; metric states are summed over ranks.

    `compiled` (see `compile_for_eval`) runs the forward pass through paddle.inference instead of
    the dynamic graph: the same network and weights, several times faster on a CPU.
    """
    import paddle

    was_training = model.training
    model.eval()
    metric.reset()
    if hasattr(metric, "add_models"):  # distillation: same state layout on every rank
        metric.add_models(getattr(post_process, "model_names", ()))
    samples = 0
    seconds = 0.0
    records: list[tuple[int, str, str, float]] | None = [] if keep_records else None
    position = 0
    with paddle.no_grad():
        for index, raw in enumerate(loader):
            batch = dict(zip(keys, raw, strict=True))
            images = batch["image"]
            start = time.perf_counter()
            if compiled is not None:
                preds = probs = compiled(to_numpy(images))
            else:
                with amp_context(amp):
                    preds = model(images, batch)
                probs = to_numpy(ctc_view(preds)).astype("float32", copy=False)
            seconds += time.perf_counter() - start
            labels, lengths = label_arrays(batch)
            truth = post_process.decode_labels(to_numpy(labels), None if lengths is None else to_numpy(lengths))
            predicted = decode_and_update(preds, probs, post_process, metric, truth)
            if records is not None:
                for (text, score), (gt, _) in zip(predicted, truth, strict=True):
                    records.append((position, gt, text, float(score)))
                    position += 1
            samples += int(images.shape[0])
            if on_batch is not None:
                on_batch(index + 1)
    state = metric.state()
    if world_size > 1:
        tensor = paddle.to_tensor(np.asarray(state, dtype="float64"))
        paddle.distributed.all_reduce(tensor)
        state = tensor.numpy()
        count = paddle.to_tensor(np.asarray([samples], dtype="int64"))
        paddle.distributed.all_reduce(count)
        samples = int(count.numpy()[0])
        metric.reset()
        metric.merge_state(state)
    result = metric.get_metric()
    if was_training:
        model.train()
    return EvalResult({k: float(v) for k, v in result.items()}, samples, seconds, records)


@dataclass
class EvalReport:
    """What `ocrrec eval` prints: the metrics plus where they came from."""

    metrics: dict[str, float]
    samples: int
    images_per_second: float
    weights: str
    errors_written: int | None = None


def load_model_weights(config: Any, model: Any, reporter: Any = None) -> str:
    """Load `Global.checkpoints` (preferred) or `Global.pretrained_model` into `model` for eval/export/infer.

    Strict: every model tensor must be loaded with its shape; a head whose size differs means the
    dictionary does not match the weights, which would only produce garbage text.
    """
    import paddle

    from ocrrec.engine import checkpoint as ckpt_io
    from ocrrec.errors import UserError
    from ocrrec.modeling.weights import load_weights

    glob = config.glob
    source = glob.checkpoints or glob.pretrained_model
    if not source:
        raise UserError(
            "no weights to evaluate: Global.checkpoints and Global.pretrained_model are both empty",
            "add -o Global.checkpoints=output/rec/best_accuracy (or pass the run directory)",
        )
    if glob.checkpoints:
        loaded = ckpt_io.load_checkpoint(glob.checkpoints)
        params, name = loaded.params, str(loaded.prefix)
    else:
        prefix = ckpt_io.checkpoint_prefix(glob.pretrained_model)
        path = prefix.with_name(prefix.name + ".pdparams")
        if not path.is_file():
            raise UserError(f"Global.pretrained_model: {path} not found")
        params, name = paddle.load(str(path)), str(prefix)
    report = load_weights(model, params, name)
    report.raise_if_incomplete()
    return name


def run_evaluation(
    config: Any,
    *,
    device: str | None = None,
    errors_path: Any = None,
    reporter: Any = None,
) -> EvalReport:
    """Evaluate the configured weights on the Eval set, exactly as training's in-loop evaluation does."""
    import paddle

    from ocrrec.charset import Charset
    from ocrrec.data.loader import build_dataloader
    from ocrrec.engine.device import select_device
    from ocrrec.engine.trainer import DEFAULT_SEED, seed_everything
    from ocrrec.errors import UserError
    from ocrrec.metrics import build_metric
    from ocrrec.modeling import build_model
    from ocrrec.postprocess import build_post_process

    glob = config.glob
    place = select_device(device, glob.use_gpu)
    if place.world_size > 1:
        paddle.distributed.init_parallel_env()
    seed = DEFAULT_SEED if glob.seed is None else glob.seed
    seed_everything(seed)
    if not config.has("Eval"):
        raise UserError("the config has no Eval section", "add Eval.dataset and Eval.loader (see configs/rec/)")
    charset = Charset.from_spec(glob.character_dict_path, glob.use_space_char)
    model = build_model(config.section("Architecture"), charset)
    weights = load_model_weights(config, model, reporter)
    post_process = build_post_process(config.section("PostProcess"), charset)
    metric = build_metric(config.section("Metric"))
    loader, dataset = build_dataloader(config, "Eval", seed=seed, rank=place.rank, world_size=place.world_size)
    amp = None
    if glob.use_amp and place.is_gpu:
        amp = {"level": glob.amp_level, "dtype": glob.amp_dtype, "black_list": list(glob.amp_custom_black_list)}
    compiled = None if amp else compile_for_eval(model, config.image_shape, place, first_images(loader), reporter)
    if reporter is not None:
        reporter.start_progress("eval", len(loader))
    result = evaluate(
        model, loader, post_process, metric, keys=list(dataset.keep_keys), amp=amp,
        world_size=place.world_size, keep_records=errors_path is not None,
        on_batch=(lambda n: reporter.advance(n)) if reporter is not None else None, compiled=compiled,
    )
    if reporter is not None:
        reporter.stop_progress()
    written = None
    if errors_path is not None and place.is_main:
        written = write_errors(errors_path, dataset, loader, result.records or [])
    return EvalReport(result.metrics, result.samples, result.images_per_second, weights, written)


def write_errors(path: Any, dataset: Any, loader: Any, records: list[tuple[int, str, str, float]]) -> int:
    """Write every misprediction as `path<TAB>truth<TAB>prediction<TAB>score` (TSV with a header)."""
    from pathlib import Path

    from ocrrec.utils.io import atomic_write_text

    order = [index for batch in loader.batch_sampler for index in batch]
    lines = ["path\ttruth\tprediction\tscore"]
    for position, truth, text, score in records:
        if text == truth:
            continue
        index = order[position] if position < len(order) else position
        source = dataset.describe(index) if hasattr(dataset, "describe") else str(index)
        lines.append(f"{source}\t{truth}\t{text}\t{score:.6f}")
    atomic_write_text(Path(path), "\n".join(lines) + "\n")
    return len(lines) - 1


def first_images(loader: Any, limit: int = 4) -> np.ndarray | None:
    """A few images of the loader's first batch (to check a compiled model against the graph)."""
    keys = list(getattr(loader, "keep_keys", None) or [])
    for raw in loader:
        batch = dict(zip(keys, raw, strict=True)) if keys else {"image": raw[0]}
        return to_numpy(batch["image"])[:limit]
    return None
