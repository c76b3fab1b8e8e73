"""Evaluation: run a model over a loader, decode, and accumulate RecMetric (merged across ranks)."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np


def ctc_view(preds: Any) -> Any:
    """The prediction the post-processor decodes: the CTC branch of multi-head outputs."""
    if isinstance(preds, dict):
        for key in ("ctc", "res", "Student"):
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
) -> EvalResult:
    """Evaluate `model` on every batch of `loader`; metric states are summed over ranks."""
    import paddle

    was_training = model.training
    model.eval()
    metric.reset()
    samples = 0
    seconds = 0.0
    records: list[tuple[int, str, str, float]] | None = [] if keep_records else None
    position = 0
    with paddle.no_grad():
        for index, raw in enumerate(loader):
            batch = dict(zip(keys, raw))
            images = batch["image"]
            start = time.perf_counter()
            with amp_context(amp):
                preds = model(images, batch)
            probs = to_numpy(ctc_view(preds)).astype("float32", copy=False)
            seconds += time.perf_counter() - start
            labels, lengths = label_arrays(batch)
            predicted = post_process(probs)
            truth = post_process.decode_labels(to_numpy(labels), None if lengths is None else to_numpy(lengths))
            metric.update(predicted, truth)
            if records is not None:
                for (text, score), (gt, _) in zip(predicted, truth):
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
