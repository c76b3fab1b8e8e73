"""Every shipped config loads cleanly, names a dictionary that resolves, and builds its loss/decoder/metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrrec.charset import BUILTIN_DICTS, Charset
from ocrrec.config import load_config
from ocrrec.metrics import build_metric
from ocrrec.modeling.losses import build_loss
from ocrrec.postprocess import build_post_process

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "rec"
LANGUAGES = [
    "chinese_cht",
    "en",
    "french",
    "german",
    "japan",
    "korean",
    "latin",
    "arabic",
    "cyrillic",
    "devanagari",
]
REQUIRED = [
    "PP-OCRv3/en_PP-OCRv3_rec.yml",
    "PP-OCRv3/ch_PP-OCRv3_rec.yml",
    "PP-OCRv3/en_PP-OCRv3_rec_distillation.yml",
    "PP-OCRv3/ch_PP-OCRv3_rec_distillation.yml",
    "PP-OCRv4/en_PP-OCRv4_rec.yml",
    "PP-OCRv4/ch_PP-OCRv4_rec.yml",
    "rec_mv3_none_bilstm_ctc.yml",
    "rec_r34_vd_none_bilstm_ctc.yml",
    *[f"multi_language/rec_{lang}_lite_train.yml" for lang in LANGUAGES],
    "demo_crnn_en.yml",  # ours: the CPU demo (not a PaddleOCR config)
]
SHIPPED = sorted(str(p.relative_to(CONFIG_DIR)) for p in CONFIG_DIR.rglob("*.yml"))
# Label keys each loss reads from the batch (so KeepKeys must provide them).
LOSS_KEYS = {
    ("CTCLoss",): {"label", "length"},
    ("CTCLoss", "SARLoss"): {"label_ctc", "label_sar", "length"},
    ("CTCLoss", "NRTRLoss"): {"label_ctc", "label_gtc", "length"},
    (
        "DistillationDMLLoss",
        "DistillationDMLLoss",
        "DistillationDistanceLoss",
        "DistillationCTCLoss",
        "DistillationSARLoss",
    ): {"label_ctc", "label_sar", "length"},
}


def test_every_required_config_is_shipped():
    assert sorted(REQUIRED) == SHIPPED


def keep_keys(config, section: str) -> list[str]:
    for op in config.get(f"{section}.dataset.transforms"):
        if "KeepKeys" in op:
            return op["KeepKeys"]["keep_keys"]
    raise AssertionError(f"{section} has no KeepKeys")


@pytest.mark.parametrize("name", SHIPPED)
def test_config_loads_cleanly_and_builds_its_parts(name):
    config = load_config(CONFIG_DIR / name)
    assert config.warnings == []
    g = config.glob
    dict_spec = g.character_dict_path
    assert dict_spec is None or dict_spec in BUILTIN_DICTS  # built-ins by name, never a path
    charset = Charset.from_spec(dict_spec, g.use_space_char)

    decoder = build_post_process(config.section("PostProcess"), charset)
    assert decoder.class_count() == len(charset) + 1
    build_metric(config.section("Metric"))
    loss_cfg = config.section("Loss")
    build_loss(loss_cfg)

    members = tuple(next(iter(m)) for m in loss_cfg.get("loss_config_list", [])) or (loss_cfg["name"],)
    for section in ("Train", "Eval"):
        assert LOSS_KEYS[members] <= set(keep_keys(config, section)), section
        assert config.get(f"{section}.dataset.data_dir").lstrip("./").startswith("train_data")


@pytest.mark.parametrize(
    ("name", "dictionary", "classes", "shape"),
    [
        ("PP-OCRv3/en_PP-OCRv3_rec.yml", "en", 97, (3, 48, 320)),
        ("PP-OCRv3/ch_PP-OCRv3_rec.yml", "ppocr_keys_v1", 6625, (3, 48, 320)),
        ("PP-OCRv4/en_PP-OCRv4_rec.yml", "en", 97, (3, 48, 320)),
        ("PP-OCRv4/ch_PP-OCRv4_rec.yml", "ppocr_keys_v1", 6625, (3, 48, 320)),
        ("rec_mv3_none_bilstm_ctc.yml", None, 37, (3, 32, 100)),
        ("multi_language/rec_en_lite_train.yml", "en", 97, (3, 32, 320)),
        ("multi_language/rec_french_lite_train.yml", "french", 137, (3, 32, 320)),
        ("multi_language/rec_arabic_lite_train.yml", "arabic", 163, (3, 32, 320)),
        ("multi_language/rec_chinese_cht_lite_train.yml", "chinese_cht", 8423, (3, 32, 320)),
    ],
)
def test_known_configs_have_paddleocr_class_counts_and_shapes(name, dictionary, classes, shape):
    # Class counts are those of PaddleOCR's published models for these configs
    # (e.g. 6625 for ch_PP-OCRv3/v4: 6623 characters + space + blank).
    config = load_config(CONFIG_DIR / name)
    g = config.glob
    assert g.character_dict_path == dictionary
    decoder = build_post_process(
        config.section("PostProcess"), Charset.from_spec(dictionary, g.use_space_char)
    )
    assert decoder.class_count() == classes
    assert config.image_shape == shape


def test_arabic_lite_config_decodes_right_to_left():
    config = load_config(CONFIG_DIR / "multi_language/rec_arabic_lite_train.yml")
    charset = Charset.from_spec(config.glob.character_dict_path, config.glob.use_space_char)
    assert build_post_process(config.section("PostProcess"), charset).reverse is True
