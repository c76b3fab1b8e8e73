"""Data transforms: decode, resize-normalise, label encoders, KeepKeys, op building."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocrrec.data.ops.image import DecodeImage, KeepKeys, NormalizeImage, ToCHWImage
from ocrrec.data.ops.label_encode import (
    EMPTY,
    NO_KNOWN_CHAR,
    TOO_LONG,
    TOO_LONG_WITH_TOKENS,
    AttnLabelEncode,
    CTCLabelEncode,
    MultiLabelEncode,
    NRTRLabelEncode,
    SARLabelEncode,
)
from ocrrec.data.ops.resize import RecResizeImg, SARRecResizeImg, SVTRRecResizeImg, resize_norm_img
from ocrrec.data.pipeline import build_ops, run_ops
from ocrrec.errors import ConfigError


def png(width: int = 40, height: int = 16) -> bytes:
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 0], img[..., 2] = 10, 200  # B=10, R=200: tells BGR from RGB
    return cv2.imencode(".png", img)[1].tobytes()


# -- DecodeImage ---------------------------------------------------------
@pytest.mark.parametrize(("mode", "first", "last"), [("BGR", 10, 200), ("RGB", 200, 10)])
def test_decode_colour_order(mode, first, last):
    img = DecodeImage(img_mode=mode)({"image": png()})["image"]
    assert img.shape == (16, 40, 3) and img.dtype == np.uint8
    assert (img[0, 0, 0], img[0, 0, 2]) == (first, last)


def test_decode_gray_gives_three_equal_channels_and_channel_first():
    img = DecodeImage(img_mode="GRAY", channel_first=True)({"image": png()})["image"]
    assert img.shape == (3, 16, 40)
    assert np.array_equal(img[0], img[1]) and np.array_equal(img[1], img[2])


@pytest.mark.parametrize("raw", [b"", b"not an image", b"\x89PNG\r\n\x1a\nbroken"])
def test_decode_failure_returns_none(raw):
    assert DecodeImage(img_mode="BGR")({"image": raw}) is None


def test_decode_rejects_unknown_mode():
    with pytest.raises(ConfigError, match="img_mode must be one of BGR, RGB, GRAY"):
        DecodeImage(img_mode="HSV")


# -- resize ----------------------------------------------------------------
def test_rec_resize_keeps_aspect_and_pads_with_zeros():
    img = np.full((32, 100, 3), 255, np.uint8)
    out = RecResizeImg(image_shape=[3, 48, 320])({"image": img})
    norm = out["image"]
    assert norm.shape == (3, 48, 320) and norm.dtype == np.float32
    width = int(np.ceil(48 * 100 / 32))  # 150
    assert np.all(norm[:, :, :width] == 1.0) and np.all(norm[:, :, width:] == 0.0)
    assert out["valid_ratio"].dtype == np.float32 and out["valid_ratio"] == pytest.approx(150 / 320)


def test_rec_resize_normalises_to_minus_one_one():
    img = np.zeros((10, 10, 3), np.uint8)
    img[:, :5] = 0
    img[:, 5:] = 255
    norm, ratio = resize_norm_img(img, (3, 10, 40))
    assert norm.min() == -1.0 and norm.max() == 1.0 and ratio == 0.25


def test_wide_images_are_squeezed_to_the_width_and_valid_ratio_is_one():
    norm, ratio = resize_norm_img(np.zeros((10, 1000, 3), np.uint8), (3, 48, 320))
    assert norm.shape == (3, 48, 320) and ratio == 1.0


def test_no_padding_stretches():
    out = SVTRRecResizeImg(image_shape=[3, 32, 100], padding=False)({"image": np.zeros((5, 7, 3), np.uint8)})
    assert out["image"].shape == (3, 32, 100) and out["valid_ratio"] == 1.0


def test_eval_mode_widens_the_canvas_for_wide_images():
    out = RecResizeImg(image_shape=[3, 48, 320], eval_mode=True)({"image": np.zeros((10, 200, 3), np.uint8)})
    assert out["image"].shape == (3, 48, 960) and out["valid_ratio"] == 1.0


def test_one_channel_models_get_gray_input():
    out = RecResizeImg(image_shape=[1, 32, 100])({"image": np.zeros((8, 16, 3), np.uint8)})
    assert out["image"].shape == (1, 32, 100)


def test_sar_resize_shapes():
    out = SARRecResizeImg(image_shape=[3, 48, 48, 160])({"image": np.zeros((32, 40, 3), np.uint8)})
    assert out["image"].shape == (3, 48, 160)
    assert out["resized_shape"].tolist() == [3, 48, 60] and out["pad_shape"].tolist() == [3, 48, 160]
    assert np.all(out["image"][:, :, 60:] == -1.0)


def test_resize_rejects_bad_shape():
    with pytest.raises(ConfigError, match=r"RecResizeImg: image_shape must be \[C, H, W\], got \[48, 320\]"):
        RecResizeImg(image_shape=[48, 320])


# -- label encoders --------------------------------------------------------
# Expected indices were obtained by running PaddleOCR release/2.10's label ops
# (CTC/SAR/NRTRLabelEncode with ppocr/utils/en_dict.txt, use_space_char=True,
# max_text_length=10) on the label "Hi 5!", and CTCLabelEncode without a dict on "Ab-9".
def test_ctc_matches_paddleocr():
    enc = CTCLabelEncode(10, "en", True)
    out = enc({"label": "Hi 5!"})
    assert enc.num_classes == 97
    assert out["label"].tolist() == [25, 58, 96, 6, 80, 0, 0, 0, 0, 0]
    assert out["label"].dtype == np.int64 and out["length"].dtype == np.int64 and int(out["length"]) == 5
    assert out["label_ace"].shape == (97,) and out["label_ace"][0] == 5 and out["label_ace"][25] == 1


def test_sar_matches_paddleocr():
    enc = SARLabelEncode(10, "en", True)
    assert enc.num_classes == 99 and (enc.unknown_idx, enc.start_idx, enc.padding_idx) == (96, 97, 98)
    assert enc({"label": "Hi 5!"})["label"].tolist() == [97, 24, 57, 95, 5, 79, 97, 98, 98, 98]


def test_nrtr_matches_paddleocr():
    enc = NRTRLabelEncode(10, "en", True)
    assert enc.num_classes == 100
    assert enc({"label": "Hi 5!"})["label"].tolist() == [2, 28, 61, 99, 9, 83, 3, 0, 0, 0]


def test_default_charset_lowercases_and_skips_unknown():
    out = CTCLabelEncode(10)({"label": "Ab-9"})
    assert out["label"].tolist() == [11, 12, 10, 0, 0, 0, 0, 0, 0, 0] and int(out["length"]) == 3


def test_attention_tokens():
    enc = AttnLabelEncode(6, "en", False)
    out = enc({"label": "ab"})
    assert out["label"].tolist() == [0, enc.dict["a"], enc.dict["b"], enc.num_classes - 1, 0, 0]


@pytest.mark.parametrize(
    ("encoder", "label", "reason"),
    [
        (CTCLabelEncode(5, "en"), "", EMPTY),
        (CTCLabelEncode(5, "en"), "abcdef", TOO_LONG),
        (CTCLabelEncode(5, "en"), "éè", NO_KNOWN_CHAR),
        (CTCLabelEncode(5, "en"), "abcde", None),
        (CTCLabelEncode(5, "en"), "ab é", None),  # unknown characters are skipped, not fatal
        (SARLabelEncode(5, "en"), "abcd", TOO_LONG_WITH_TOKENS),
        (SARLabelEncode(5, "en"), "abc", None),
        (NRTRLabelEncode(5, "en"), "abcd", TOO_LONG_WITH_TOKENS),
        (MultiLabelEncode(5, "en"), "abcd", TOO_LONG_WITH_TOKENS),
        (MultiLabelEncode(5, "en"), "abcdef", TOO_LONG),
    ],
)
def test_check_label_agrees_with_encode(encoder, label, reason):
    assert encoder.check_label(label) == reason
    assert (encoder({"label": label, "image": None}) is None) == (reason is not None)


def test_multi_label_encode_outputs():
    out = MultiLabelEncode(8, "en", False)({"label": "ab", "image": "IMG", "img_path": "p", "other": 1})
    assert set(out) == {"img_path", "image", "label_ctc", "label_sar", "length"}
    encoder = MultiLabelEncode(8, "en", False, gtc_encode="NRTRLabelEncode")
    gtc = encoder({"label": "ab", "image": "IMG"})
    assert set(gtc) == {"img_path", "image", "label_ctc", "label_gtc", "length"}
    nrtr = encoder.gtc_encode.dict
    assert gtc["label_gtc"].tolist() == [2, nrtr["a"], nrtr["b"], 3, 0, 0, 0, 0]
    assert nrtr["a"] == encoder.ctc_encode.dict["a"] + 3  # NRTR has 4 tokens before the characters, CTC 1


def test_multi_label_encode_rejects_unknown_gtc():
    with pytest.raises(ConfigError, match="unsupported gtc_encode `CTCLabelEncode`"):
        MultiLabelEncode(8, "en", gtc_encode="CTCLabelEncode")


def test_describe_reason_names_the_limit():
    enc = MultiLabelEncode(25, "en")
    assert enc.describe_reason(TOO_LONG) == "longer than max_text_length=25"
    assert enc.describe_reason(TOO_LONG_WITH_TOKENS) == (
        "with more than 23 known characters (the SAR branch needs 2 of max_text_length=25 for start/end tokens)"
    )


# -- generic ops -----------------------------------------------------------------
def test_keep_keys_makes_a_tuple_of_arrays():
    out = KeepKeys(keep_keys=["image", "length", "valid_ratio"])(
        {"image": np.zeros(3), "length": 4, "valid_ratio": 0.5, "x": 1}
    )
    assert [a.dtype for a in out] == [np.float64, np.int64, np.float32]


def test_keep_keys_names_the_missing_key():
    with pytest.raises(KeyError, match="KeepKeys: the sample has no label_sar"):
        KeepKeys(keep_keys=["image", "label_sar"])({"image": 1})


def test_normalize_and_chw():
    data = NormalizeImage(scale="1./255.", mean=[0.5] * 3, std=[0.5] * 3, order="hwc")(
        {"image": np.full((2, 2, 3), 255, np.uint8)}
    )
    assert np.allclose(data["image"], 1.0)
    assert ToCHWImage()(data)["image"].shape == (3, 2, 2)


def test_build_ops_passes_global_settings_and_global_wins():
    ops = build_ops(
        [{"DecodeImage": {"img_mode": "BGR"}}, {"CTCLabelEncode": {"max_text_length": 99}}, {"KeepKeys": {"keep_keys": ["label"]}}],
        {"max_text_length": 7, "character_dict_path": "en", "use_space_char": True, "epoch_num": 3},
    )
    assert ops[1].max_text_len == 7 and ops[1].num_classes == 97
    result, failed = run_ops({"image": png(), "label": "ok"}, ops)
    assert failed is None and result[0].shape == (7,)
    assert run_ops({"image": b"junk", "label": "ok"}, ops) == (None, 0)


def test_build_ops_errors_name_the_entry():
    with pytest.raises(ConfigError, match=r"Train.dataset.transforms\[0\]: unknown data transform `DecodeImg`"):
        build_ops([{"DecodeImg": None}], where="Train.dataset.transforms")
    with pytest.raises(ConfigError, match=r"transforms\[0\] must be a single `OpName: \{args\}` mapping"):
        build_ops([{"A": None, "B": None}])
