"""Label encoders: text -> padded int64 class indices, as PaddleOCR's label ops.

Class orders (N = characters in the Charset, use_space_char applied):
CTC: 0 = blank, characters 1..N. SAR: characters 0..N-1, then <UKN>, <BOS/EOS>,
<PAD>. NRTR: blank, <unk>, <s>, </s>, then characters. Attention: sos,
characters, eos. Each encoder also offers `check_label(text)`, the same test
`encode` applies, so datasets can drop unusable labels once, up front.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ocrrec.charset import Charset
from ocrrec.data.registry import DATA_OPS
from ocrrec.errors import ConfigError

# Reasons `check_label` returns (None: the label is usable).
EMPTY = "empty"
TOO_LONG = "too_long"
NO_KNOWN_CHAR = "no_known_char"
TOO_LONG_WITH_TOKENS = "too_long_with_tokens"


class BaseRecLabelEncode:
    """Shared text handling: lower-casing for the default set, unknown characters skipped.

    Not registered: concrete encoders add their special tokens with `special_before`
    / `special_after` (token lists around the characters).
    """

    special_before: tuple[str, ...] = ()
    special_after: tuple[str, ...] = ()
    # extra positions the encoded sequence needs beyond the characters (start/end tokens)
    reserved_positions = 0
    branch_name = "CTC"

    def __init__(
        self,
        max_text_length: int = 25,
        character_dict_path: str | None = None,
        use_space_char: bool = False,
        **kwargs: Any,
    ) -> None:
        try:
            self.max_text_len = int(max_text_length)
        except (TypeError, ValueError):
            raise ConfigError(f"max_text_length must be an integer, got {max_text_length!r}") from None
        if self.max_text_len < 1:
            raise ConfigError(f"max_text_length must be at least 1, got {self.max_text_len}")
        self.charset = Charset.from_spec(character_dict_path, bool(use_space_char))
        self.lower = self.charset.lower
        self.character = list(self.special_before) + list(self.charset.characters) + list(self.special_after)
        self.dict = {c: i for i, c in enumerate(self.character)}
        # Only real characters map from text (a label "blank" is five letters, not the blank token).
        offset = len(self.special_before)
        self._char_index = {c: i + offset for i, c in enumerate(self.charset.characters)}

    @property
    def num_classes(self) -> int:
        return len(self.character)

    def normalize(self, text: str) -> str:
        return text.lower() if self.lower else text

    def encode(self, text: str) -> list[int] | None:
        """Indices of the known characters, or None when PaddleOCR would drop the label."""
        if len(text) == 0 or len(text) > self.max_text_len:
            return None
        text = self.normalize(text)
        lookup = self._char_index
        indices = [lookup[c] for c in text if c in lookup]
        return indices or None

    def check_label(self, text: str) -> str | None:
        """Why `encode` (and this encoder's own length rule) rejects `text`, or None."""
        if len(text) == 0:
            return EMPTY
        if len(text) > self.max_text_len:
            return TOO_LONG
        text = self.normalize(text)
        lookup = self._char_index
        known = sum(1 for c in text if c in lookup)
        if known == 0:
            return NO_KNOWN_CHAR
        if self.reserved_positions and known > self.max_text_len - self.reserved_positions:
            return TOO_LONG_WITH_TOKENS
        return None

    def unknown_chars(self, text: str) -> list[str]:
        lookup = self._char_index
        return [c for c in self.normalize(text) if c not in lookup]

    def describe_reason(self, reason: str) -> str:
        n = self.max_text_len
        if reason == EMPTY:
            return "with an empty label"
        if reason == TOO_LONG:
            return f"longer than max_text_length={n}"
        if reason == NO_KNOWN_CHAR:
            return "with no character in the dictionary"
        if reason == TOO_LONG_WITH_TOKENS:
            return (
                f"with more than {n - self.reserved_positions} known characters "
                f"(the {self.branch_name} branch needs {self.reserved_positions} of max_text_length={n} "
                "for start/end tokens)"
            )
        return reason

    def _padded(self, indices: list[int], pad: int) -> np.ndarray:
        out = np.full(self.max_text_len, pad, dtype=np.int64)
        out[: len(indices)] = indices
        return out


@DATA_OPS.register()
class CTCLabelEncode(BaseRecLabelEncode):
    """`label` (int64 [max_text_length], 0-padded), `length` (int64 scalar), `label_ace` (int64 [N+1])."""

    special_before = ("blank",)

    def __call__(self, data: dict) -> dict | None:
        indices = self.encode(data["label"])
        if indices is None:
            return None
        data["length"] = np.array(len(indices), dtype=np.int64)
        label = self._padded(indices, 0)
        data["label"] = label
        # PaddleOCR counts the padding zeros too (index 0 = blank).
        data["label_ace"] = np.bincount(label, minlength=len(self.character)).astype(np.int64)
        return data


@DATA_OPS.register()
class SARLabelEncode(BaseRecLabelEncode):
    """[<BOS/EOS>, chars..., <BOS/EOS>, <PAD>...]; labels need length <= max_text_length - 2."""

    special_after = ("<UKN>", "<BOS/EOS>", "<PAD>")
    reserved_positions = 2
    branch_name = "SAR"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n = len(self.charset)
        self.unknown_idx = n
        self.start_idx = self.end_idx = n + 1
        self.padding_idx = n + 2

    def __call__(self, data: dict) -> dict | None:
        indices = self.encode(data["label"])
        if indices is None or len(indices) >= self.max_text_len - 1:
            return None
        data["length"] = np.array(len(indices), dtype=np.int64)
        data["label"] = self._padded([self.start_idx, *indices, self.end_idx], self.padding_idx)
        return data

    def get_ignored_tokens(self) -> list[int]:
        return [self.padding_idx]


@DATA_OPS.register()
class NRTRLabelEncode(BaseRecLabelEncode):
    """[<s>=2, chars..., </s>=3, 0...]; labels need length <= max_text_length - 2."""

    special_before = ("blank", "<unk>", "<s>", "</s>")
    reserved_positions = 2
    branch_name = "NRTR"

    def __call__(self, data: dict) -> dict | None:
        indices = self.encode(data["label"])
        if indices is None or len(indices) >= self.max_text_len - 1:
            return None
        data["length"] = np.array(len(indices), dtype=np.int64)
        data["label"] = self._padded([2, *indices, 3], 0)
        return data


@DATA_OPS.register()
class AttnLabelEncode(BaseRecLabelEncode):
    """Attention heads: [sos=0, chars..., eos=N+1, 0...]; labels need length <= max_text_length - 2."""

    special_before = ("sos",)
    special_after = ("eos",)
    reserved_positions = 2
    branch_name = "attention"

    def __call__(self, data: dict) -> dict | None:
        indices = self.encode(data["label"])
        # PaddleOCR rejects only length >= max_text_length and then emits a label one
        # position too long for length == max_text_length - 1; we reject that case too.
        if indices is None or len(indices) >= self.max_text_len - 1:
            return None
        data["length"] = np.array(len(indices), dtype=np.int64)
        data["label"] = self._padded([0, *indices, len(self.character) - 1], 0)
        return data

    def get_ignored_tokens(self) -> list[int]:
        return [0, len(self.character) - 1]


_GTC_ENCODERS = {"SARLabelEncode": SARLabelEncode, "NRTRLabelEncode": NRTRLabelEncode}


@DATA_OPS.register()
class MultiLabelEncode(BaseRecLabelEncode):
    """CTC + SAR (`label_ctc`, `label_sar`) or, with `gtc_encode: NRTRLabelEncode`, CTC + `label_gtc`.

    Like PaddleOCR, the output keeps only img_path, image, the labels and `length`
    (the CTC length); a label either branch rejects drops the sample.
    """

    def __init__(
        self,
        max_text_length: int = 25,
        character_dict_path: str | None = None,
        use_space_char: bool = False,
        gtc_encode: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(max_text_length, character_dict_path, use_space_char)
        self.ctc_encode = CTCLabelEncode(max_text_length, character_dict_path, use_space_char)
        self.gtc_encode_type = gtc_encode
        if gtc_encode is None:
            self.gtc_encode: BaseRecLabelEncode = SARLabelEncode(max_text_length, character_dict_path, use_space_char)
        else:
            if gtc_encode not in _GTC_ENCODERS:
                raise ConfigError(
                    f"MultiLabelEncode: unsupported gtc_encode `{gtc_encode}`; known: {', '.join(sorted(_GTC_ENCODERS))}"
                )
            self.gtc_encode = _GTC_ENCODERS[gtc_encode](max_text_length, character_dict_path, use_space_char)
        self.reserved_positions = self.gtc_encode.reserved_positions
        self.branch_name = self.gtc_encode.branch_name

    def check_label(self, text: str) -> str | None:
        return self.ctc_encode.check_label(text) or self.gtc_encode.check_label(text)

    def __call__(self, data: dict) -> dict | None:
        ctc = self.ctc_encode({"label": data["label"]})
        gtc = self.gtc_encode({"label": data["label"]})
        if ctc is None or gtc is None:
            return None
        out = {"img_path": data.get("img_path"), "image": data["image"], "label_ctc": ctc["label"]}
        out["label_gtc" if self.gtc_encode_type is not None else "label_sar"] = gtc["label"]
        out["length"] = ctc["length"]
        return out


def find_label_encoder(ops: list[Any]) -> BaseRecLabelEncode | None:
    """The first op in a pipeline that can check labels (a label encoder), if any."""
    for op in ops:
        if isinstance(op, BaseRecLabelEncode):
            return op
    return None
