"""Config mistakes in `Architecture` are ConfigErrors that name the part, key and the valid choices."""

from __future__ import annotations

import copy

import paddle
import pytest
from modeling_archs import CRNN_MV3, PPOCRV3, PPOCRV4

from ocrrec.charset import Charset
from ocrrec.errors import ConfigError, UserError
from ocrrec.modeling import build_model
from ocrrec.modeling.registry import BACKBONES, HEADS, NECKS

EN = Charset.from_spec("en", True)


def arch_with(base: dict, path: tuple, value) -> dict:
    arch = copy.deepcopy(base)
    node = arch
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return arch


def test_registries_list_paddleocr_names() -> None:
    assert {"MobileNetV1Enhance", "MobileNetV3", "ResNet", "PPLCNetV3"} <= set(BACKBONES.names())
    assert NECKS.names() == ["SequenceEncoder"]
    assert {"CTCHead", "SARHead", "NRTRHead", "MultiHead"} <= set(HEADS.names())


def test_unknown_backbone_lists_known_names() -> None:
    arch = arch_with(CRNN_MV3, ("Backbone", "name"), "MobileNetV9")
    with pytest.raises(ConfigError) as err:
        build_model(arch, EN)
    message = err.value.message
    assert message.startswith("Architecture.Backbone: unknown backbone `MobileNetV9`")
    assert "did you mean `MobileNetV3`" in message
    assert "known: MobileNetV1Enhance, MobileNetV3, PPLCNetV3, ResNet" in message


@pytest.mark.parametrize(
    ("slot", "kind"),
    [("Neck", "neck"), ("Head", "head")],
)
def test_unknown_neck_or_head(slot: str, kind: str) -> None:
    arch = arch_with(CRNN_MV3, (slot, "name"), "Nope")
    with pytest.raises(ConfigError, match=f"Architecture.{slot}: unknown {kind} `Nope`; .*known: "):
        build_model(arch, EN)


@pytest.mark.parametrize(
    ("base", "path", "value", "expected"),
    [
        (
            CRNN_MV3,
            ("Backbone", "scal"),
            0.5,
            r"Architecture.Backbone \(MobileNetV3\): unexpected argument `scal` \(did you mean `scale`\?\)",
        ),
        (CRNN_MV3, ("Neck", "hiden_size"), 3, r"Architecture.Neck.*unexpected argument `hiden_size`"),
        (
            CRNN_MV3,
            ("Head", "fc_decai"),
            0.1,
            r"Architecture.Head \(CTCHead\): unexpected argument `fc_decai`",
        ),
        (
            PPOCRV3,
            ("Head", "head_list", 0, "CTCHead", "Neck", "dimz"),
            64,
            r"Architecture.Head.*head_list\[0\].CTCHead.Neck.*unexpected argument `dimz` \(did you mean `dims`\?\)",
        ),
        (
            PPOCRV3,
            ("Head", "head_list", 1, "SARHead", "enc_dims"),
            512,
            r"head_list\[1\].SARHead.*unexpected argument `enc_dims` \(did you mean `enc_dim`\?\)",
        ),
        (
            PPOCRV4,
            ("Head", "head_list", 1, "NRTRHead", "nrtr_dims"),
            384,
            r"head_list\[1\].NRTRHead.*unexpected argument `nrtr_dims`",
        ),
        (
            PPOCRV3,
            ("Head", "head_list", 0, "CTCHead", "Head", "fc_decay_"),
            1,
            r"head_list\[0\].CTCHead.Head.*unexpected argument `fc_decay_`",
        ),
    ],
    ids=[
        "backbone",
        "neck",
        "head",
        "multihead-ctc-neck",
        "multihead-sar",
        "multihead-nrtr",
        "multihead-ctc-head",
    ],
)
def test_wrong_argument_names_are_config_errors(base, path, value, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        build_model(arch_with(base, path, value), EN)


@pytest.mark.parametrize(
    ("base", "path", "value", "expected"),
    [
        (CRNN_MV3, ("Backbone", "model_name"), "medium", "model_name must be `large` or `small`"),
        (CRNN_MV3, ("Backbone", "small_stride"), [1, 2], "small_stride needs 4 values"),
        (CRNN_MV3, ("Neck", "encoder_type"), "lstm", "unknown encoder_type `lstm`; known: reshape, fc, rnn"),
        (PPOCRV4, ("Backbone", "det"), True, "det=True builds the text-detection variant"),
        (CRNN_MV3, ("model_type",), "det", "Architecture.model_type: `det` is not supported"),
        (CRNN_MV3, ("Backbone", "scale"), "big", "Architecture.Backbone \\(MobileNetV3\\): cannot build it"),
        (PPOCRV3, ("Head", "head_list"), "CTCHead", "head_list: needs a list"),
        (PPOCRV3, ("Head", "head_list", 0, "CTCHead", "Neck"), None, "Neck: needs a `name`"),
        (PPOCRV3, ("Head", "head_list", 1), {"MultiHead": {}}, "MultiHead cannot be used inside MultiHead"),
    ],
)
def test_bad_values_are_config_errors(base, path, value, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        build_model(arch_with(base, path, value), EN)


def test_multihead_needs_exactly_one_ctc_branch() -> None:
    arch = copy.deepcopy(PPOCRV3)
    arch["Head"]["head_list"] = [arch["Head"]["head_list"][1]]
    with pytest.raises(ConfigError, match="needs exactly one CTCHead entry"):
        build_model(arch, EN)


def test_missing_backbone_and_head() -> None:
    with pytest.raises(ConfigError, match="Architecture.Backbone: missing"):
        build_model({"model_type": "rec", "Head": {"name": "CTCHead"}}, EN)
    with pytest.raises(ConfigError, match="Architecture.Head: needs a `name`"):
        build_model({"model_type": "rec", "Backbone": {"name": "ResNet", "layers": 18}}, EN)


def test_distillation_config_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError) as err:
        build_model({"model_type": "rec", "algorithm": "Distillation", "Models": {"Student": PPOCRV3}}, EN)
    assert "add `name: DistillationModel`" in err.value.hint


def test_head_size_needs_a_dictionary_or_out_channels() -> None:
    with pytest.raises(ConfigError, match="Architecture.Head: no `out_channels`"):
        build_model(CRNN_MV3, None)
    with pytest.raises(ConfigError, match="Architecture.Head: no `out_channels_list`"):
        build_model(PPOCRV3, None)
    model = build_model(arch_with(CRNN_MV3, ("Head", "out_channels"), 12), None)
    assert model.head.out_channels == 12


def test_dictionary_overrides_a_stale_out_channels() -> None:
    """As PaddleOCR's train.py: the dictionary decides the head size, not a value left in a saved config."""
    stale = arch_with(CRNN_MV3, ("Head", "out_channels"), 6625)
    assert build_model(stale, EN).head.out_channels == 97
    stale_list = arch_with(PPOCRV3, ("Head", "out_channels_list"), {"CTCLabelDecode": 6625})
    assert build_model(stale_list, EN).head.out_channels_list == {"CTCLabelDecode": 97, "SARLabelDecode": 99}


def test_out_channels_list_missing_a_branch_without_dictionary() -> None:
    arch = arch_with(PPOCRV3, ("Head", "out_channels_list"), {"CTCLabelDecode": 97})
    with pytest.raises(ConfigError, match="out_channels_list has no `SARLabelDecode` entry"):
        build_model(arch, None)


def test_input_arch_is_not_modified() -> None:
    arch = copy.deepcopy(PPOCRV3)
    build_model(arch, EN)
    assert arch == PPOCRV3


def test_training_without_the_heads_targets_is_a_user_error() -> None:
    model = build_model(PPOCRV3, EN)
    model.train()
    with pytest.raises(UserError) as err:
        model(paddle.randn([1, 3, 48, 320]), {"label_ctc": paddle.zeros([1, 25], dtype="int64")})
    assert "SARHead needs `valid_ratio`" in err.value.message
    assert "KeepKeys" in err.value.hint


def test_standalone_nrtr_needs_matching_width() -> None:
    arch = {
        "model_type": "rec",
        "Backbone": {"name": "MobileNetV3", "model_name": "small"},
        "Neck": {"name": "SequenceEncoder", "encoder_type": "fc", "hidden_size": 64},
        "Head": {"name": "NRTRHead", "nrtr_dim": 256},
    }
    with pytest.raises(ConfigError, match="input has 64 channels but nrtr_dim is 256"):
        build_model(arch, EN)
    arch["Head"]["nrtr_dim"] = 64
    assert build_model(arch, EN).head.out_channels == 101
