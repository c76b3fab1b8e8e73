"""load_weights: partial loads after a dictionary change, distillation prefixes, files, and refusals."""

from __future__ import annotations

import numpy as np
import paddle
import pytest
from modeling_archs import CRNN_MV3, PPOCRV3

from ocrrec.charset import Charset
from ocrrec.errors import UserError
from ocrrec.modeling import build_model, load_weights, load_weights_file

EN = Charset.from_spec("en", True)
SMALL = Charset.from_spec("ic15")  # 36 characters: CTC 37, SAR 39


@pytest.fixture(scope="module")
def v3_en():
    return build_model(PPOCRV3, EN)


def numpy_state(model) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in model.state_dict().items()}


def test_same_model_loads_everything_and_copies_values(v3_en) -> None:
    target = build_model(PPOCRV3, EN)
    report = load_weights(target, v3_en.state_dict(), "v3.pdparams")
    assert not (report.mismatched or report.missing or report.unexpected)
    assert report.warnings() == [] and report.dictionary_change_message() is None
    report.raise_if_incomplete()
    # LSTM weights are reachable under two names; each tensor is counted once.
    assert report.total == len({id(t) for t in target.state_dict().values()})
    assert report.summary() == f"loaded {report.total} of {report.total} tensors from v3.pdparams"
    src, dst = numpy_state(v3_en), numpy_state(target)
    assert all(np.array_equal(src[k], dst[k]) for k in src)


def test_dictionary_change_reinitialises_only_the_head(v3_en) -> None:
    target = build_model(PPOCRV3, SMALL)
    before = numpy_state(target)
    report = load_weights(target, numpy_state(v3_en), "en_PP-OCRv3_rec_train/best_accuracy.pdparams")
    names = [name for name, _, _ in report.mismatched]
    assert names == [
        "head.ctc_head.fc.weight",
        "head.ctc_head.fc.bias",
        "head.sar_head.decoder.embedding.weight",
        "head.sar_head.decoder.prediction.weight",
        "head.sar_head.decoder.prediction.bias",
    ]
    assert report.mismatched[0] == ("head.ctc_head.fc.weight", (64, 97), (64, 37))
    assert report.class_change() == (97, 37)
    assert report.dictionary_change_message() == (
        "re-initialising 5 head tensors because the dictionary size changed (97 → 37 classes): "
        "head.ctc_head.fc.weight, head.ctc_head.fc.bias, head.sar_head.decoder.embedding.weight, "
        "head.sar_head.decoder.prediction.weight, head.sar_head.decoder.prediction.bias"
    )
    assert report.warnings() == [report.dictionary_change_message()]
    after = numpy_state(target)
    assert np.array_equal(after["head.ctc_head.fc.weight"], before["head.ctc_head.fc.weight"])
    assert np.array_equal(
        after["backbone.conv1._conv.weight"], v3_en.state_dict()["backbone.conv1._conv.weight"].numpy()
    )
    with pytest.raises(
        UserError, match="the weights predict 97 classes but this dictionary gives the model 37"
    ):
        report.raise_if_incomplete()


def test_crnn_single_head_change_message() -> None:
    source = build_model(CRNN_MV3, Charset.from_spec("en", True))
    report = load_weights(build_model(CRNN_MV3, Charset.from_spec(None)), source.state_dict(), "crnn")
    assert report.dictionary_change_message() == (
        "re-initialising 2 head tensors because the dictionary size changed (97 → 37 classes): "
        "head.fc.weight, head.fc.bias"
    )


def test_other_architecture_is_refused(v3_en) -> None:
    crnn = build_model(CRNN_MV3, EN)
    with pytest.raises(UserError) as err:
        load_weights(crnn, v3_en.state_dict(), "v3.pdparams")
    assert err.value.message.startswith("v3.pdparams: none of its")
    assert "another architecture" in err.value.hint


def test_distillation_checkpoint_loads_the_student(v3_en) -> None:
    student = numpy_state(v3_en)
    teacher = {k: np.zeros_like(v) for k, v in student.items()}
    checkpoint = {
        **{f"Teacher.{k}": v for k, v in teacher.items()},
        **{f"Student.{k}": v for k, v in student.items()},
    }
    target = build_model(PPOCRV3, EN)
    report = load_weights(target, checkpoint, "ch_PP-OCRv3_rec_train/best_accuracy")
    assert report.prefix == "Student."
    assert not report.missing and not report.mismatched
    assert "keys under `Student.`" in report.summary()
    assert np.array_equal(
        target.state_dict()["head.ctc_head.fc.weight"].numpy(), student["head.ctc_head.fc.weight"]
    )
    teacher_report = load_weights(build_model(PPOCRV3, EN), checkpoint, "ckpt", prefix="Teacher.")
    assert teacher_report.prefix == "Teacher." and not teacher_report.missing


def test_missing_and_unexpected_are_reported(v3_en) -> None:
    state = numpy_state(v3_en)
    state.pop("head.ctc_head.fc.bias")
    state["head.extra.weight"] = np.zeros([3], dtype="float32")
    report = load_weights(build_model(PPOCRV3, EN), state, "partial")
    assert report.missing == ["head.ctc_head.fc.bias"]
    assert report.unexpected == ["head.extra.weight"]
    lines = report.warnings()
    assert any(line.startswith("1 model tensors are not in partial") for line in lines)
    assert any(line.startswith("1 tensors in partial are not used") for line in lines)
    with pytest.raises(UserError, match="1 of the model's tensors are not in the weights"):
        report.raise_if_incomplete()


def test_other_dtype_is_cast() -> None:
    source = build_model(CRNN_MV3, EN)
    state = {
        k: v.numpy().astype("float16") if v.dtype == paddle.float32 else v.numpy()
        for k, v in source.state_dict().items()
    }
    target = build_model(CRNN_MV3, EN)
    load_weights(target, state, "fp16")
    weight = target.state_dict()["head.fc.weight"]
    assert weight.dtype == paddle.float32
    np.testing.assert_allclose(weight.numpy(), state["head.fc.weight"].astype("float32"))


def test_load_weights_file(tmp_path, v3_en) -> None:
    path = tmp_path / "best_accuracy.pdparams"
    paddle.save(v3_en.state_dict(), str(path))
    target = build_model(PPOCRV3, EN)
    assert not load_weights_file(target, tmp_path / "best_accuracy").missing  # suffix optional
    assert load_weights_file(target, path).source == str(path)
    with pytest.raises(UserError, match="pretrained weights not found"):
        load_weights_file(target, tmp_path / "nothing")
    broken = tmp_path / "broken.pdparams"
    broken.write_bytes(b"not a pickle")
    with pytest.raises(UserError, match="cannot be read as Paddle weights"):
        load_weights_file(target, broken)


def test_lstm_weights_under_either_name_load() -> None:
    """Paddle lists LSTM weights twice (`weight_ih_l0`, `0.cell_fw.weight_ih`); either spelling loads."""
    source = build_model(CRNN_MV3, EN)
    full = numpy_state(source)
    cell_only = {k: v for k, v in full.items() if "_l0" not in k and "_l1" not in k}
    assert len(cell_only) < len(full)
    target = build_model(CRNN_MV3, EN)
    report = load_weights(target, cell_only, "cell-names")
    assert not report.missing and not report.unexpected
    name = "neck.encoder.lstm.weight_ih_l1_reverse"
    assert np.array_equal(target.state_dict()[name].numpy(), full[name])
