"""Recognition metrics: PaddleOCR's `RecMetric` (accuracy, normalized edit distance), mergeable across
ranks, and `DistillationMetric` (one RecMetric per sub-model of a distillation run).

Counts are kept as integers (the edit distance in fixed point), so states from
several evaluation processes add up to exactly what one process would get.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ocrrec.errors import ConfigError
from ocrrec.registry import Registry, check_arguments

METRICS = Registry("metric")

# Normalized edit distances are accumulated as integers in units of 2**-32.
_FIXED_POINT = 1 << 32
_ASCII_ALNUM = frozenset(string.digits + string.ascii_letters)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert/delete/substitute, each cost 1) between two strings.

    Bit-parallel (Myers/Hyyrö): one pass over the shorter string with the longer
    one held as bit masks, so short strings cost a few dozen integer operations.
    """
    if a == b:
        return 0
    # Common prefix and suffix never change the distance.
    start = 0
    limit = min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    m = len(a)
    positions: dict[str, int] = {}
    for i, ch in enumerate(a):
        positions[ch] = positions.get(ch, 0) | (1 << i)
    full = (1 << m) - 1
    top = 1 << (m - 1)
    plus_v, minus_v = full, 0  # vertical deltas +1 / -1 of the current DP column
    distance = m
    for ch in b:
        match = positions.get(ch, 0)
        x = match | minus_v
        diag = ((((x & plus_v) + plus_v) ^ plus_v) | x) & full
        plus_h = (minus_v | ~(diag | plus_v)) & full
        minus_h = diag & plus_v
        if plus_h & top:
            distance += 1
        elif minus_h & top:
            distance -= 1
        plus_h = ((plus_h << 1) | 1) & full
        minus_h = (minus_h << 1) & full
        plus_v = (minus_h | ~(diag | plus_h)) & full
        minus_v = plus_h & diag
    return distance


def normalized_edit_distance(a: str, b: str) -> float:
    """Edit distance divided by the longer length (0.0 for two empty strings)."""
    longest = max(len(a), len(b))
    return levenshtein(a, b) / longest if longest else 0.0


def _fixed_point_distance(a: str, b: str) -> int:
    """normalized_edit_distance(a, b) * 2**32, rounded half up, computed exactly in integers."""
    longest = max(len(a), len(b))
    if not longest:
        return 0
    return (2 * levenshtein(a, b) * _FIXED_POINT + longest) // (2 * longest)


def _casefold(text: str) -> str:
    return text.casefold()


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _text_of(item: Any) -> str:
    """A prediction/label is `(text, score)` (PaddleOCR's shape) or just the text."""
    if isinstance(item, str):
        return item
    return str(item[0])


@METRICS.register()
class RecMetric:
    """Word accuracy and 1 - mean normalized edit distance, as PaddleOCR's RecMetric.

    `ignore_space` removes spaces from both sides before comparing; `is_filter`
    keeps only ASCII letters and digits and lower-cases. Extra keys, docTR-style:
    `acc_raw` (exact, no normalization at all), `acc_case_insensitive` and
    `acc_accent_insensitive` (also case-insensitive), both after the configured
    normalization.
    """

    eps = 1e-5
    # Layout of `state()`: integer counters, summed across ranks.
    STATE_FIELDS = (
        "correct",
        "total",
        "edit_distance_fixed",
        "correct_raw",
        "correct_caseless",
        "correct_accentless",
    )

    def __init__(
        self, main_indicator: str = "acc", is_filter: bool = False, ignore_space: bool = True
    ) -> None:
        self.main_indicator = main_indicator
        self.is_filter = bool(is_filter)
        self.ignore_space = bool(ignore_space)
        self._counts = np.zeros(len(self.STATE_FIELDS), dtype=np.int64)

    # -- normalization ------------------------------------------------------
    def normalize(self, text: str) -> str:
        """The text as compared: spaces dropped (ignore_space), then ASCII alnum only, lower (is_filter)."""
        if self.ignore_space:
            text = text.replace(" ", "")
        if self.is_filter:
            text = "".join(ch for ch in text if ch in _ASCII_ALNUM).lower()
        return text

    # -- accumulation -------------------------------------------------------
    def update(self, preds: Sequence[Any], labels: Sequence[Any]) -> dict[str, float]:
        """Add one batch of `(text, score)` predictions and labels; return that batch's metrics."""
        if len(preds) != len(labels):
            raise ValueError(f"{len(preds)} predictions but {len(labels)} labels")
        correct = total = edit_fixed = correct_raw = caseless = accentless = 0
        for pred_item, label_item in zip(preds, labels, strict=True):
            raw_pred, raw_label = _text_of(pred_item), _text_of(label_item)
            pred, label = self.normalize(raw_pred), self.normalize(raw_label)
            total += 1
            correct_raw += raw_pred == raw_label
            if pred == label:
                correct += 1
                caseless += 1
                accentless += 1
                continue
            edit_fixed += _fixed_point_distance(pred, label)
            pred_c, label_c = _casefold(pred), _casefold(label)
            if pred_c == label_c:
                caseless += 1
                accentless += 1
            elif _strip_accents(pred_c) == _strip_accents(label_c):
                accentless += 1
        batch = np.array([correct, total, edit_fixed, correct_raw, caseless, accentless], dtype=np.int64)
        self._counts += batch
        return self._summarize(batch)

    def __call__(
        self, pred_label: tuple[Sequence[Any], Sequence[Any]], *_: Any, **__: Any
    ) -> dict[str, float]:
        """PaddleOCR's calling convention: `metric((preds, labels))`."""
        preds, labels = pred_label
        return self.update(preds, labels)

    def _summarize(self, counts: np.ndarray) -> dict[str, float]:
        total = float(counts[1]) + self.eps
        edit = float(counts[2]) / _FIXED_POINT
        return {
            "acc": float(counts[0]) / total,
            "norm_edit_dis": 1.0 - edit / total,
            "acc_raw": float(counts[3]) / total,
            "acc_case_insensitive": float(counts[4]) / total,
            "acc_accent_insensitive": float(counts[5]) / total,
        }

    def get_metric(self, reset: bool = True) -> dict[str, float]:
        """Metrics over everything added since the last reset (then reset, by default)."""
        result = self._summarize(self._counts)
        if reset:
            self.reset()
        return result

    def reset(self) -> None:
        self._counts = np.zeros(len(self.STATE_FIELDS), dtype=np.int64)

    @property
    def num_samples(self) -> int:
        return int(self._counts[1])

    # -- distributed evaluation ---------------------------------------------
    def state(self) -> np.ndarray:
        """The raw counters (int64, layout `STATE_FIELDS`); sum them across ranks."""
        return self._counts.copy()

    def load_state(self, state: Iterable[int] | np.ndarray) -> None:
        """Replace the counters, e.g. with the all-reduced sum of every rank's `state()`."""
        self._counts = self._check_state(state).copy()

    def merge_state(self, state: Iterable[int] | np.ndarray) -> None:
        """Add another rank's `state()` to this one."""
        self._counts = self._counts + self._check_state(state)

    @classmethod
    def from_states(cls, states: Iterable[Iterable[int] | np.ndarray], **kwargs: Any) -> RecMetric:
        """A metric holding the sum of several ranks' states."""
        metric = cls(**kwargs)
        for state in states:
            metric.merge_state(state)
        return metric

    def _check_state(self, state: Iterable[int] | np.ndarray) -> np.ndarray:
        array = np.asarray(state)
        if array.shape != self._counts.shape:
            raise ValueError(
                f"a RecMetric state has {len(self.STATE_FIELDS)} counters, got shape {array.shape}"
            )
        rounded = np.rint(array)
        if not np.array_equal(rounded, array):
            raise ValueError("a RecMetric state holds whole counts only")
        return rounded.astype(np.int64)


@METRICS.register()
class DistillationMetric:
    """One base metric (RecMetric) per sub-model of a distillation run, as PaddleOCR's DistillationMetric.

    `update({model: predictions}, labels)` feeds each model's metric; `update(predictions,
    labels)` with a plain list feeds the main model's (`key`, e.g. "Student") — the engine's
    single-model path. `get_metric()` reports the main model's values under their own names
    (`acc`, ...) and every other model's prefixed (`Teacher_acc`, ...); `per_model()` gives
    them grouped. `state()` concatenates the models' counters in name order, so ranks that
    saw the same models can be summed.
    """

    def __init__(
        self,
        base_metric_name: str = "RecMetric",
        main_indicator: str = "acc",
        key: str | None = None,
        **base_kwargs: Any,
    ) -> None:
        if base_metric_name == type(self).__name__:
            raise ConfigError("Metric.base_metric_name: must be a single-model metric such as RecMetric")
        self.base_cls = METRICS.get(base_metric_name, "Metric.base_metric_name")
        self.main_indicator = main_indicator
        self.key = key
        self.base_kwargs = dict(base_kwargs)
        self.metrics: dict[str, Any] = {}
        # The main model's metric exists from the start (and checks the base arguments now).
        self._metric_for(self.main_model)

    @property
    def main_model(self) -> str:
        """The model whose values are reported unprefixed ("" when no `key` is set)."""
        return self.key if self.key is not None else ""

    def _metric_for(self, name: str) -> Any:
        if name not in self.metrics:
            check_arguments(self.base_cls, {"main_indicator": self.main_indicator, **self.base_kwargs}, "Metric")
            self.metrics[name] = self.base_cls(main_indicator=self.main_indicator, **self.base_kwargs)
        return self.metrics[name]

    def add_models(self, names: Iterable[str]) -> None:
        """Declare models up front, so `state()` has the same layout on a rank that saw no batch."""
        for name in names:
            self._metric_for(str(name))

    def update(self, preds: Any, labels: Sequence[Any]) -> dict[str, float]:
        """Add one batch; `preds` is {model: [(text, score), ...]} or the main model's list."""
        if isinstance(preds, Mapping):
            for name, model_preds in preds.items():
                self._metric_for(str(name)).update(model_preds, labels)
        else:
            self._metric_for(self.main_model).update(preds, labels)
        return self.get_metric(reset=False)

    def __call__(self, pred_label: tuple[Any, Sequence[Any]], *_: Any, **__: Any) -> dict[str, float]:
        preds, labels = pred_label
        return self.update(preds, labels)

    def per_model(self, reset: bool = False) -> dict[str, dict[str, float]]:
        """{model name: its metrics}, the main model first."""
        order = sorted(self.metrics, key=lambda name: name != self.main_model)
        return {name: self.metrics[name].get_metric(reset=reset) for name in order}

    def get_metric(self, reset: bool = True) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, values in self.per_model(reset=reset).items():
            if name == self.main_model:
                out.update(values)
            else:
                out.update({f"{name}_{key}": value for key, value in values.items()})
        return out

    def reset(self) -> None:
        for metric in self.metrics.values():
            metric.reset()

    @property
    def num_samples(self) -> int:
        return int(self.metrics[self.main_model].num_samples) if self.main_model in self.metrics else 0

    # -- distributed evaluation ---------------------------------------------
    def _order(self) -> list[str]:
        return sorted(self.metrics)

    def state(self) -> np.ndarray:
        """Every model's counters, concatenated in model-name order."""
        return np.concatenate([np.asarray(self.metrics[n].state(), dtype=np.int64) for n in self._order()])

    def _split(self, state: Iterable[int] | np.ndarray) -> list[np.ndarray]:
        array = np.asarray(state)
        sizes = [len(self.metrics[n].state()) for n in self._order()]
        if array.ndim != 1 or array.shape[0] != sum(sizes):
            raise ValueError(
                f"a DistillationMetric state for models {', '.join(self._order()) or '(none)'} has "
                f"{sum(sizes)} counters, got shape {array.shape}; call add_models() with the same names on every rank"
            )
        return np.split(array, np.cumsum(sizes)[:-1])

    def merge_state(self, state: Iterable[int] | np.ndarray) -> None:
        for name, part in zip(self._order(), self._split(state), strict=True):
            self.metrics[name].merge_state(part)

    def load_state(self, state: Iterable[int] | np.ndarray) -> None:
        for name, part in zip(self._order(), self._split(state), strict=True):
            self.metrics[name].load_state(part)


def build_metric(cfg: Mapping[str, Any]) -> RecMetric | DistillationMetric:
    """Build the `Metric` section of a config (`{"name": "RecMetric", "main_indicator": "acc"}`)."""
    return METRICS.build(dict(cfg), where="Metric")
