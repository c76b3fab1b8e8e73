"""Our models have exactly PaddleOCR's state_dict: same keys, shapes, learning rates and L2 attrs.

The expected lists in tests/modeling/expected/*.json were produced by building PaddleOCR's own
models (release/2.10) with its class-count logic from tools/train.py:

    /work/refvenv/bin/python tests/modeling/expected/generate.py --ref /work/ref

Each entry is a state_dict key → shape, plus for trainable parameters the learning-rate
multiplier (`optimize_attr`) and the L2 coefficient of the parameter's own regularizer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modeling_archs import CASES

from ocrrec.charset import Charset
from ocrrec.modeling import build_model

EXPECTED_DIR = Path(__file__).parent / "expected"


def _describe(model) -> dict:
    params = {id(p): p for p in model.parameters()}
    out = {}
    for name, tensor in model.state_dict().items():
        entry = {"shape": [int(d) for d in tensor.shape]}
        param = params.get(id(tensor))
        if param is not None and param.trainable:
            entry["lr"] = float(param.optimize_attr.get("learning_rate", 1.0))
            entry["l2"] = None if param.regularizer is None else float(param.regularizer._coeff)
        out[name] = entry
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_state_dict_matches_paddleocr(case: str) -> None:
    arch, dictionary, use_space = CASES[case]
    expected = json.loads((EXPECTED_DIR / f"{case}.json").read_text(encoding="utf-8"))
    model = build_model(arch, Charset.from_spec(dictionary, use_space))
    ours = _describe(model)

    missing = sorted(set(expected["state_dict"]) - set(ours))
    extra = sorted(set(ours) - set(expected["state_dict"]))
    assert not missing, f"PaddleOCR has tensors we lack: {missing[:10]}"
    assert not extra, f"we have tensors PaddleOCR lacks: {extra[:10]}"
    different = {k: (v, ours[k]) for k, v in expected["state_dict"].items() if ours[k] != v}
    assert not different, f"shape/lr/L2 differ: {dict(list(different.items())[:5])}"
    # Same order too, so a by-position comparison (or a diff of saved files) lines up.
    assert list(ours) == list(expected["state_dict"])


@pytest.mark.parametrize("case", ["ppocrv3_en", "ppocrv4_en", "ppocrv3_ch", "crnn_mv3"])
def test_class_counts_match_paddleocr(case: str) -> None:
    """The head sizes computed from the dictionary equal what PaddleOCR's train.py computes."""
    arch, dictionary, use_space = CASES[case]
    expected = json.loads((EXPECTED_DIR / f"{case}.json").read_text(encoding="utf-8"))["head"]
    head = build_model(arch, Charset.from_spec(dictionary, use_space)).head
    if "out_channels_list" in expected:
        assert head.out_channels_list == expected["out_channels_list"]
    else:
        assert head.out_channels == expected["out_channels"]


def test_documented_class_counts() -> None:
    en = Charset.from_spec("en", True)
    assert len(en) == 96
    assert build_model(CASES["ppocrv3_en"][0], en).head.out_channels_list == {
        "CTCLabelDecode": 97,
        "SARLabelDecode": 99,
    }
    assert build_model(CASES["ppocrv4_en"][0], en).head.out_channels_list == {
        "CTCLabelDecode": 97,
        "NRTRLabelDecode": 100,
    }
    assert build_model(CASES["crnn_mv3"][0], Charset.from_spec(None)).head.out_channels == 37
