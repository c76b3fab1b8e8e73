"""Decoders on hand-made probability arrays: CTC, SAR, NRTR, Arabic order, class-count checks."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from ocrrec.charset import Charset
from ocrrec.errors import ConfigError, UserError
from ocrrec.postprocess import (
    CTCLabelDecode,
    NRTRLabelDecode,
    SARLabelDecode,
    build_post_process,
    check_class_count,
    reverse_right_to_left,
)


@pytest.fixture
def charset(tmp_path) -> Charset:
    path = tmp_path / "abc_dict.txt"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    return Charset.from_spec(path, use_space_char=True)  # a b c + space


def one_hot_probs(rows: list[list[int]], classes: int, peak: float = 0.9) -> np.ndarray:
    """[B, T, C] probabilities whose argmax follows `rows`; the winner gets `peak`."""
    out = np.full((len(rows), len(rows[0]), classes), 0.0, dtype=np.float32)
    for b, row in enumerate(rows):
        for t, cls in enumerate(row):
            out[b, t, :] = (1.0 - peak) / (classes - 1)
            out[b, t, cls] = peak
    return out


# CTC table for the fixture: blank 0, a 1, b 2, c 3, space 4.
def test_ctc_merges_repeats_drops_blanks_keeps_space(charset):
    decoder = build_post_process({"name": "CTCLabelDecode"}, charset)
    assert decoder.class_count() == 5
    rows = [
        [1, 1, 0, 1, 2, 2, 4, 3],  # a a(repeat) _ a b b(repeat) ' ' c -> "aab c"
        [0, 0, 0, 0, 0, 0, 0, 0],  # only blanks -> empty
        [4, 4, 0, 4, 3, 0, 0, 3],  # spaces merge only when adjacent -> "  cc"
    ]
    probs = one_hot_probs(rows, 5)
    probs[0, 0, :] = [0.1, 0.6, 0.1, 0.1, 0.1]  # first kept step scores 0.6
    result = decoder(probs)
    assert [text for text, _ in result] == ["aab c", "", "  cc"]
    # Score: mean max-probability over the kept steps only (the first of each run).
    assert result[0][1] == pytest.approx((0.6 + 0.9 * 4) / 5)
    assert result[1][1] == 0.0  # PaddleOCR's rule for an empty result
    assert result[2][1] == pytest.approx(0.9)
    assert all(isinstance(score, float) for _, score in result)


def test_ctc_accepts_tensors_lists_and_multihead_dicts(charset):
    decoder = build_post_process({"name": "CTCLabelDecode"}, charset)
    probs = one_hot_probs([[1, 0, 2]], 5)
    expected = decoder(probs)
    assert expected[0][0] == "ab"
    assert decoder(paddle.to_tensor(probs)) == expected
    assert decoder([np.zeros_like(probs), probs]) == expected
    assert decoder({"ctc": probs}) == expected


def test_ctc_decode_labels_uses_padding_zero_and_lengths(charset):
    decoder = build_post_process({"name": "CTCLabelDecode"}, charset)
    labels = np.array([[1, 1, 4, 3, 0, 0], [3, 0, 0, 0, 0, 0]])
    assert decoder.decode_labels(labels) == [("aa c", 1.0), ("c", 1.0)]  # labels are not merged
    assert decoder.decode_labels(paddle.to_tensor(labels), lengths=np.array([2, 1])) == [
        ("aa", 1.0),
        ("c", 1.0),
    ]


def test_class_count_mismatch_is_a_clear_user_error():
    decoder = build_post_process({"name": "CTCLabelDecode"}, Charset.from_spec("en", True))
    assert decoder.class_count() == 97
    with pytest.raises(UserError) as info:
        decoder(np.full((1, 4, 6625), 1 / 6625, dtype=np.float32))
    err = info.value
    assert err.message == (
        "the model predicts 6625 classes but the dictionary `en` gives 97 "
        "(96 characters + blank): pass the dictionary the model was trained with"
    )
    assert "`ppocr_keys_v1` with use_space_char: true" in err.hint


def test_class_count_off_by_one_suggests_use_space_char():
    decoder = build_post_process({"name": "CTCLabelDecode"}, Charset.from_spec("en", False))
    with pytest.raises(UserError) as info:
        check_class_count(97, decoder)
    assert "use_space_char: true" in info.value.hint
    check_class_count(96, decoder)  # the right count passes silently


def test_class_counts_follow_paddleocr_layouts(charset):
    n = len(charset)
    assert CTCLabelDecode(charset).table == ["blank", "a", "b", "c", " "]
    assert SARLabelDecode(charset).table == ["a", "b", "c", " ", "<UKN>", "<BOS/EOS>", "<PAD>"]
    assert NRTRLabelDecode(charset).table == ["blank", "<unk>", "<s>", "</s>", "a", "b", "c", " "]
    assert [cls(charset).class_count() for cls in (CTCLabelDecode, SARLabelDecode, NRTRLabelDecode)] == [
        n + 1,
        n + 3,
        n + 4,
    ]


# SAR table for the fixture: a 0, b 1, c 2, space 3, <UKN> 4, <BOS/EOS> 5, <PAD> 6.
def test_sar_stops_at_end_token_and_skips_padding(charset):
    decoder = build_post_process({"name": "SARLabelDecode"}, charset)
    rows = [
        [0, 1, 6, 2, 5, 0, 0],  # a b <PAD> c <EOS> a a -> "abc" (padding skipped, stop at EOS)
        [5, 0, 1, 2, 2, 2, 2],  # EOS first -> empty
        [0, 0, 4, 1, 1, 3, 2],  # repeats are kept; unknown comes out as "<UKN>"; no EOS -> to the end
    ]
    probs = one_hot_probs(rows, 7)
    result = decoder(probs)
    assert [text for text, _ in result] == ["abc", "", "aa<UKN>bb c"]
    assert result[1][1] == 0.0
    # PaddleOCR's SAR head predicts every class but <PAD> (width N+2): same decoding.
    assert [text for text, _ in decoder(one_hot_probs(rows[1:], 6))] == ["", "aa<UKN>bb c"]


def test_sar_decode_labels_skips_the_start_token(charset):
    decoder = build_post_process({"name": "SARLabelDecode"}, charset)
    labels = np.array([[5, 0, 3, 1, 5, 6, 6], [5, 2, 5, 6, 6, 6, 6]])
    assert decoder.decode_labels(labels) == [("a b", 1.0), ("c", 1.0)]
    assert decoder.decode_labels(labels, lengths=[2, 1]) == [("a ", 1.0), ("c", 1.0)]


def test_sar_rm_symbol_keeps_letters_and_digits_lowercased(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("A\n-\n1\n", encoding="utf-8")
    decoder = build_post_process({"name": "SARLabelDecode", "rm_symbol": True}, Charset.from_spec(path))
    assert decoder(one_hot_probs([[0, 1, 2, 4]], 5))[0][0] == "a1"


# NRTR table for the fixture: blank 0, <unk> 1, <s> 2, </s> 3, a 4, b 5, c 6, space 7.
def test_nrtr_stops_at_end_and_decodes_labels(charset):
    decoder = build_post_process({"name": "NRTRLabelDecode"}, charset)
    probs = one_hot_probs([[4, 5, 7, 6, 3, 4], [3, 4, 4, 4, 4, 4]], 9)  # width N+5, as PaddleOCR's head
    assert [text for text, _ in decoder(probs)] == ["ab c", ""]
    ids = np.array([[2, 6, 6, 3, 0]])
    assert decoder((ids, np.full(ids.shape, 0.5)))[0] == ("cc", 0.5)  # inference (ids, probs) form
    labels = np.array([[2, 4, 7, 5, 3, 0, 0]])
    assert decoder.decode_labels(labels) == [("a b", 1.0)]


def test_arabic_dictionary_flips_ctc_output_into_reading_order():
    assert reverse_right_to_left("ابت") == "تبا"
    assert reverse_right_to_left("اب 12.5% ت") == "ت 12.5% با"  # Latin/digit runs keep their order
    charset = Charset.from_spec("arabic", True)
    decoder = build_post_process({"name": "CTCLabelDecode"}, charset)
    assert decoder.reverse is True
    ids = [decoder.table.index(ch) for ch in ("ا", "ب", "1", "2")]
    probs = one_hot_probs([[ids[0], 0, ids[1], ids[2], ids[3]]], decoder.class_count())
    assert decoder(probs)[0][0] == "12با"
    assert decoder.decode_labels(np.array([[ids[0], ids[1], 0]]))[0][0] == "با"
    assert build_post_process({"name": "CTCLabelDecode"}, Charset.from_spec("latin", True)).reverse is False
    assert build_post_process({"name": "SARLabelDecode"}, charset).reverse is False  # as in PaddleOCR


def test_build_post_process_rejects_unknown_names_and_arguments(charset):
    with pytest.raises(ConfigError, match="did you mean `CTCLabelDecode`"):
        build_post_process({"name": "CTCLabelDecoder"}, charset)
    with pytest.raises(ConfigError, match="unexpected argument `rm_symbol`"):
        build_post_process({"name": "CTCLabelDecode", "rm_symbol": True}, charset)
    # PaddleOCR configs may repeat Global's dictionary keys here; they are accepted.
    build_post_process(
        {"name": "CTCLabelDecode", "character_dict_path": "x", "use_space_char": True}, charset
    )


def test_ctc_decode_is_vectorised_over_a_large_batch(charset):
    rng = np.random.default_rng(0)
    probs = rng.random((2000, 40, 5), dtype=np.float32)
    result = build_post_process({"name": "CTCLabelDecode"}, charset)(probs)
    # Compare with a straightforward per-sample reference implementation.
    table = ["", "a", "b", "c", " "]
    for b in (0, 1, 999, 1999):
        ids = probs[b].argmax(1)
        kept = [t for t in range(40) if ids[t] != 0 and (t == 0 or ids[t] != ids[t - 1])]
        assert result[b][0] == "".join(table[ids[t]] for t in kept)
        assert result[b][1] == pytest.approx(float(np.mean(probs[b].max(1)[kept])), rel=1e-6)
