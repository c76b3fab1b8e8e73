"""Turn recognizer outputs (and encoded labels) back into text: CTC, SAR and NRTR decoders, and
their Distillation* variants that decode each sub-model of a distillation output.

Decoders are chosen by PaddleOCR's `PostProcess.name` (`CTCLabelDecode`, ...) and
built from a `Charset`. Calling one on a [B, T, C] probability array gives a list of
`(text, score)`; `decode_labels` turns encoded label arrays into the same form for
the metric. Class layouts follow PaddleOCR's label encoders exactly.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ocrrec.charset import BUILTIN_DICTS, DICT_DIR, Charset
from ocrrec.errors import UserError
from ocrrec.registry import Registry

POSTPROCESS = Registry("post-process")

Prediction = tuple[str, float]

# Characters PaddleOCR keeps together as a left-to-right run when it flips the
# order of a right-to-left (Arabic) prediction; every other character is its own unit.
_LTR_RUN = re.compile(r"[a-zA-Z0-9 :*./%+\-]+|.", re.S)


def dictionary_label(charset: Charset) -> str:
    """How to name a charset's dictionary in messages: built-in name, path, or the default set."""
    source = charset.source
    if source.startswith("default"):
        return "(none set: the default 0-9a-z)"
    path = Path(source)
    if path.parent == DICT_DIR:
        for name, file in BUILTIN_DICTS.items():
            if file == path.name:
                return f"`{name}`"
    return f"`{source}`"


def is_right_to_left(charset: Charset) -> bool:
    """PaddleOCR flips predictions when the dictionary path contains "arabic"."""
    source = charset.source
    if source.startswith("default"):
        return False
    path = Path(source)
    # For a built-in copy only its file name counts, not where ocrrec is installed.
    return "arabic" in (path.name if path.parent == DICT_DIR else source)


def reverse_right_to_left(text: str) -> str:
    """Reverse the order of units, keeping runs of Latin letters/digits/[ :*./%+-] intact."""
    return "".join(reversed(_LTR_RUN.findall(text)))


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        if str(getattr(x, "dtype", "")).endswith(("float16", "bfloat16")):
            x = x.astype("float32")
        x = x.numpy()
    return np.asarray(x)


def _argmax_and_max(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best class id and its probability at every step of a [B, T, C] array."""
    if probs.ndim != 3:
        raise ValueError(f"expected predictions of shape [batch, steps, classes], got {probs.shape}")
    ids = probs.argmax(axis=2)
    best = np.take_along_axis(probs, ids[:, :, None], axis=2)[:, :, 0]
    return ids, best


def _join_rows(table: Sequence[str], ids: np.ndarray, keep: np.ndarray) -> list[str]:
    """For each row, concatenate `table[id]` of the kept ids (order preserved)."""
    counts = keep.sum(axis=1)
    pieces = np.asarray(table, dtype=object)[ids[keep]].tolist()
    ends = np.cumsum(counts).tolist()
    out = []
    start = 0
    for end in ends:
        out.append("".join(pieces[start:end]))
        start = end
    return out


def _row_means(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Mean of the kept values per row; 0.0 for a row that keeps nothing."""
    counts = keep.sum(axis=1)
    sums = np.where(keep, values, 0.0).sum(axis=1, dtype=np.float64)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True per row, or the row length where there is none."""
    has = mask.any(axis=1)
    return np.where(has, mask.argmax(axis=1), mask.shape[1])


class LabelDecoder(ABC):
    """Common part of the decoders: the class table, RTL handling, and the class-count check."""

    #: names of the special classes in the order they occupy in `table`
    special_tokens: tuple[str, ...] = ()
    #: whether an Arabic dictionary flips the decoded text (PaddleOCR does it for CTC only)
    flips_right_to_left = False

    def __init__(self, charset: Charset) -> None:
        self.charset = charset
        self.reverse = self.flips_right_to_left and is_right_to_left(charset)
        self.table: list[str] = self._build_table(list(charset.characters))

    @abstractmethod
    def _build_table(self, characters: list[str]) -> list[str]:
        """The full class list (characters plus special tokens) in the model's class order."""

    def class_count(self) -> int:
        """How many classes a model trained with this charset and decoder has (its head's out_channels)."""
        return len(self.table)

    def describe_classes(self) -> str:
        n = len(self.charset)
        extra = len(self.special_tokens)
        noun = "special token" if extra == 1 else "special tokens"
        return f"{n} characters + {extra} {noun}"

    def _finish(self, texts: list[str], scores: np.ndarray) -> list[Prediction]:
        if self.reverse:
            texts = [reverse_right_to_left(t) for t in texts]
        return list(zip(texts, scores.astype(float).tolist(), strict=True))

    @abstractmethod
    def __call__(self, preds: Any) -> list[Prediction]:
        """Decode model output of shape [B, T, C] into `(text, score)` per sample."""

    @abstractmethod
    def decode_labels(self, label_ids: Any, lengths: Any = None) -> list[Prediction]:
        """Turn encoded label arrays [B, L] back into `(text, 1.0)` per sample."""


@POSTPROCESS.register()
class CTCLabelDecode(LabelDecoder):
    """Greedy CTC decoding: best class per step, merge repeats, drop blanks (class 0).

    The score is the mean probability of the kept steps, 0.0 when nothing is kept.
    With an Arabic dictionary the text is flipped to reading order (labels too, so
    both sides of the metric stay comparable, as in PaddleOCR).
    """

    special_tokens = ("blank",)
    flips_right_to_left = True

    def __init__(
        self, charset: Charset, character_dict_path: str | None = None, use_space_char: bool | None = None
    ) -> None:
        # `character_dict_path`/`use_space_char` are accepted because PaddleOCR configs may
        # carry them here; the charset (built from Global) is what counts, as in PaddleOCR.
        super().__init__(charset)

    def _build_table(self, characters: list[str]) -> list[str]:
        return ["blank", *characters]

    def describe_classes(self) -> str:
        return f"{len(self.charset)} characters + blank"

    def __call__(self, preds: Any) -> list[Prediction]:
        if isinstance(preds, Mapping):
            preds = preds["ctc"]
        elif isinstance(preds, (list, tuple)):
            preds = preds[-1]
        probs = _to_numpy(preds)
        if probs.ndim == 3 and probs.shape[2] != self.class_count():
            check_class_count(probs.shape[2], self)
        ids, best = _argmax_and_max(probs)
        keep = ids != 0
        keep[:, 1:] &= ids[:, 1:] != ids[:, :-1]
        return self._finish(_join_rows(self.table, ids, keep), _row_means(best, keep))

    def decode_labels(self, label_ids: Any, lengths: Any = None) -> list[Prediction]:
        """Encoded CTC labels (characters at 1..N, padded with 0) back to text, score 1.0."""
        ids = _label_array(label_ids)
        keep = ids != 0
        if lengths is not None:
            steps = np.arange(ids.shape[1])[None, :]
            keep &= steps < _to_numpy(lengths).reshape(-1, 1)
        _check_ids(ids, keep, len(self.table), "CTC label")
        return self._finish(_join_rows(self.table, ids, keep), np.ones(len(ids)))


@POSTPROCESS.register()
class SARLabelDecode(LabelDecoder):
    """SAR decoding: best class per step up to the first end token, padding skipped.

    Table: characters 0..N-1, "<UKN>" N, "<BOS/EOS>" N+1, "<PAD>" N+2. An unknown
    prediction comes out as the text "<UKN>", as in PaddleOCR. `rm_symbol` lower-cases
    and keeps only Latin letters, digits and CJK ideographs (and "^", as PaddleOCR's
    pattern does).
    """

    special_tokens = ("<UKN>", "<BOS/EOS>", "<PAD>")
    _symbols = re.compile("[^A-Za-z0-9\u4e00-\u9fa5^]")

    def __init__(
        self,
        charset: Charset,
        character_dict_path: str | None = None,
        use_space_char: bool | None = None,
        rm_symbol: bool = False,
    ) -> None:
        super().__init__(charset)
        self.rm_symbol = bool(rm_symbol)
        n = len(charset)
        self.unknown_idx, self.end_idx, self.padding_idx = n, n + 1, n + 2
        self.start_idx = self.end_idx

    def _build_table(self, characters: list[str]) -> list[str]:
        return [*characters, *self.special_tokens]

    def _decode(self, ids: np.ndarray, probs: np.ndarray | None) -> list[Prediction]:
        is_end = ids == self.end_idx
        keep = ids != self.padding_idx
        if probs is None:
            # An encoded label starts with the start token, which is the end token's id.
            keep[:, 0] &= ~is_end[:, 0]
            is_end[:, 0] = False
        steps = np.arange(ids.shape[1])[None, :]
        keep &= steps < _first_true(is_end)[:, None]
        _check_ids(ids, keep, len(self.table), "SAR")
        texts = _join_rows(self.table, ids, keep)
        if self.rm_symbol:
            texts = [self._symbols.sub("", t.lower()) for t in texts]
        scores = np.ones(len(ids)) if probs is None else _row_means(probs, keep)
        return self._finish(texts, scores)

    def __call__(self, preds: Any) -> list[Prediction]:
        if isinstance(preds, Mapping):
            preds = preds["sar"]
        probs = _to_numpy(preds)
        # PaddleOCR's SAR head predicts every class but <PAD> (N+2 outputs); allow both widths.
        if probs.ndim == 3 and probs.shape[2] not in (self.class_count() - 1, self.class_count()):
            check_class_count(probs.shape[2], self)
        ids, best = _argmax_and_max(probs)
        return self._decode(ids, best)

    def decode_labels(self, label_ids: Any, lengths: Any = None) -> list[Prediction]:
        """Encoded SAR labels ([BOS, chars..., EOS, PAD...]) back to text, score 1.0."""
        ids = _label_array(label_ids)
        if lengths is not None:
            steps = np.arange(ids.shape[1])[None, :]
            ids = np.where(steps <= _to_numpy(lengths).reshape(-1, 1), ids, self.padding_idx)
        return self._decode(ids, None)


@POSTPROCESS.register()
class NRTRLabelDecode(LabelDecoder):
    """NRTR decoding: best class per step up to the first "</s>".

    Table: "blank" 0, "<unk>" 1, "<s>" 2, "</s>" 3, characters from 4. Ids outside
    the table (PaddleOCR's NRTR head has one extra output) are skipped; the other
    special tokens are emitted by name, as PaddleOCR does.
    """

    special_tokens = ("blank", "<unk>", "<s>", "</s>")
    start_idx = 2
    end_idx = 3

    def __init__(
        self, charset: Charset, character_dict_path: str | None = None, use_space_char: bool | None = None
    ) -> None:
        super().__init__(charset)

    def _build_table(self, characters: list[str]) -> list[str]:
        return [*self.special_tokens, *characters]

    def _decode(self, ids: np.ndarray, probs: np.ndarray | None) -> list[Prediction]:
        in_table = (ids >= 0) & (ids < len(self.table))
        steps = np.arange(ids.shape[1])[None, :]
        keep = in_table & (steps < _first_true(ids == self.end_idx)[:, None])
        texts = _join_rows(self.table, ids, keep)
        scores = np.ones(len(ids)) if probs is None else _row_means(probs, keep)
        return self._finish(texts, scores)

    def __call__(self, preds: Any) -> list[Prediction]:
        if isinstance(preds, Mapping):
            preds = preds["gtc"]
        if isinstance(preds, (list, tuple)) and len(preds) == 2:
            # Inference output of the NRTR head: (ids [B, T], probabilities [B, T]).
            ids = _to_numpy(preds[0]).astype(np.int64)
            best = _to_numpy(preds[1]).astype(np.float64)
            if ids.size and ids[0, 0] == self.start_idx:
                ids, best = ids[:, 1:], best[:, 1:]
            return self._decode(ids, best)
        probs = _to_numpy(preds)
        if probs.ndim == 3 and probs.shape[2] not in (self.class_count(), self.class_count() + 1):
            check_class_count(probs.shape[2], self)
        ids, best = _argmax_and_max(probs)
        return self._decode(ids, best)

    def decode_labels(self, label_ids: Any, lengths: Any = None) -> list[Prediction]:
        """Encoded NRTR labels ([<s>, chars..., </s>, 0...]) back to text, score 1.0."""
        ids = _label_array(label_ids)[:, 1:]
        if lengths is not None:
            steps = np.arange(ids.shape[1])[None, :]
            ids = np.where(steps <= _to_numpy(lengths).reshape(-1, 1), ids, self.end_idx)
        return self._decode(ids, None)


def _label_array(label_ids: Any) -> np.ndarray:
    ids = _to_numpy(label_ids).astype(np.int64)
    return ids.reshape(ids.shape[0] if ids.ndim else 1, -1)


def _check_ids(ids: np.ndarray, keep: np.ndarray, table_size: int, what: str) -> None:
    bad = keep & ((ids < 0) | (ids >= table_size))
    if bad.any():
        raise UserError(
            f"{what} id {int(ids[bad][0])} is outside the dictionary's {table_size} classes",
            "labels and model must be encoded with the same dictionary and use_space_char",
        )


def _matching_builtins(num_model_classes: int, extra: int) -> list[str]:
    """Built-in dictionaries (with or without the space class) that give this many classes."""
    found: list[str] = []
    seen_files: set[str] = set()
    for name, file in BUILTIN_DICTS.items():
        if file in seen_files:
            continue
        seen_files.add(file)
        size = len(Charset.from_spec(name, False))
        for space in (False, True):
            if size + int(space) + extra == num_model_classes:
                found.append(f"`{name}` with use_space_char: {str(space).lower()}")
    return found


def check_class_count(num_model_classes: int, decoder: LabelDecoder) -> None:
    """Fail with a clear message when a model and a dictionary do not belong together.

    PaddleOCR only notices this deep inside decoding (IndexError); here it is caught
    when the model meets the dictionary, with a hint at the dictionary that fits.
    """
    expected = decoder.class_count()
    if int(num_model_classes) == expected:
        return
    label = dictionary_label(decoder.charset)
    message = (
        f"the model predicts {num_model_classes} classes but the dictionary {label} gives "
        f"{expected} ({decoder.describe_classes()}): pass the dictionary the model was trained with"
    )
    extra = expected - len(decoder.charset)
    hints = []
    if abs(int(num_model_classes) - expected) == 1 and not decoder.charset.lower:
        want = "true" if num_model_classes > expected else "false"
        if decoder.charset.use_space_char != (want == "true"):
            hints.append(f"the counts differ by one: try use_space_char: {want}")
    matches = _matching_builtins(int(num_model_classes), extra)
    if matches:
        hints.append("built-in dictionaries of that size: " + ", ".join(matches))
    hints.append("set Global.character_dict_path (or --dict) and Global.use_space_char as in training")
    raise UserError(message, "; ".join(hints))


def _model_name_list(model_name: Any) -> tuple[str, ...]:
    names = [model_name] if isinstance(model_name, str) else model_name
    if not isinstance(names, Sequence) or not names or not all(isinstance(n, str) for n in names):
        raise UserError(
            f"PostProcess.model_name: needs a model name or a list of them, got {model_name!r}",
            "use the names of Architecture.Models, e.g. [Student, Teacher]",
        )
    return tuple(names)


class _DistillationDecoder:
    """Decoding of a DistillationModel output: one prediction list per model of `model_name`.

    Called with the whole output (a dict keyed by model name) it returns
    `{model name: [(text, score), ...]}`, as PaddleOCR's Distillation*LabelDecode do; called
    with one model's prediction array (what the engine's `ctc_view` picks) it decodes that
    like the plain decoder.
    """

    #: the MultiHead branch this decoder reads with `multi_head: true`
    branch = ""

    def _setup_models(self, model_name: Any, key: str | None, multi_head: bool) -> None:
        self.model_names = _model_name_list(model_name)
        self.key = key
        self.multi_head = bool(multi_head)

    def select(self, preds: Mapping[str, Any]) -> dict[str, Any]:
        """Each listed model's prediction: `preds[name]`, then its `key` entry, then the branch."""
        picked = {}
        for name in self.model_names:
            if name not in preds:
                raise UserError(
                    f"PostProcess.model_name: no model `{name}` in the output (it has: {', '.join(map(str, preds))})",
                    "use the names of Architecture.Models",
                )
            pred = preds[name]
            if self.key is not None and isinstance(pred, Mapping) and self.key in pred:
                pred = pred[self.key]
            if self.multi_head and isinstance(pred, Mapping) and self.branch in pred:
                pred = pred[self.branch]
            picked[name] = pred
        return picked

    def __call__(self, preds: Any) -> list[Prediction] | dict[str, list[Prediction]]:
        if isinstance(preds, Mapping) and any(name in preds for name in self.model_names):
            decode = super().__call__  # type: ignore[misc]
            return {name: decode(pred) for name, pred in self.select(preds).items()}
        return super().__call__(preds)  # type: ignore[misc]


@POSTPROCESS.register()
class DistillationCTCLabelDecode(_DistillationDecoder, CTCLabelDecode):
    """CTCLabelDecode for each model named in `model_name` (PaddleOCR's default: "student")."""

    branch = "ctc"

    def __init__(
        self,
        charset: Charset,
        model_name: Any = ("student",),
        key: str | None = None,
        multi_head: bool = False,
        character_dict_path: str | None = None,
        use_space_char: bool | None = None,
    ) -> None:
        CTCLabelDecode.__init__(self, charset)
        self._setup_models(model_name, key, multi_head)


@POSTPROCESS.register()
class DistillationSARLabelDecode(_DistillationDecoder, SARLabelDecode):
    """SARLabelDecode for each model named in `model_name` (its `sar` branch with multi_head)."""

    branch = "sar"

    def __init__(
        self,
        charset: Charset,
        model_name: Any = ("student",),
        key: str | None = None,
        multi_head: bool = False,
        character_dict_path: str | None = None,
        use_space_char: bool | None = None,
        rm_symbol: bool = False,
    ) -> None:
        SARLabelDecode.__init__(self, charset, rm_symbol=rm_symbol)
        self._setup_models(model_name, key, multi_head)


def build_post_process(cfg: Mapping[str, Any], charset: Charset) -> LabelDecoder:
    """Build the `PostProcess` section (`{"name": "CTCLabelDecode"}`) for `charset`."""
    return POSTPROCESS.build(dict(cfg), where="PostProcess", charset=charset)
