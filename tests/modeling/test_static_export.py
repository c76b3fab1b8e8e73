"""Eval-mode models convert with paddle.jit.to_static (full graph) and save in the PIR format, with
a dynamic batch and width (fixed for TPS), giving the same output as the dynamic graph."""

from __future__ import annotations

import numpy as np
import paddle
import pytest
from modeling_archs import CASES

from ocrrec.charset import Charset
from ocrrec.modeling import build_model


@pytest.mark.parametrize("case", ["ppocrv3_en", "ppocrv4_en", "crnn_mv3", "starnet_mv3_tps"])
def test_pir_export_matches_dynamic_graph(case: str, tmp_path) -> None:
    arch, dictionary, use_space = CASES[case]
    model = build_model(arch, Charset.from_spec(dictionary, use_space))
    model.eval()
    height = 48 if case.startswith("ppocr") else 32
    fixed_width = 100 if "tps" in case else None  # TPS needs the training size, as in PaddleOCR
    x = paddle.randn([2, 3, height, fixed_width or 160])
    with paddle.no_grad():
        expected = model(x).numpy()
    model.reparameterize()
    prefix = str(tmp_path / "inference")
    with paddle.pir_utils.IrGuard():
        spec = [paddle.static.InputSpec(shape=[None, 3, height, fixed_width], dtype="float32", name="x")]
        paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True), prefix)
    assert (tmp_path / "inference.json").is_file() and (tmp_path / "inference.pdiparams").is_file()
    loaded = paddle.jit.load(prefix)
    loaded.eval()
    got = loaded(x).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)
