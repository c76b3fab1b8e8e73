"""Knowledge distillation: DistillationModel, its losses, decoders and metric.

The expected state_dict of tests/modeling/expected/ppocrv3_ch_distillation.json was produced by
building PaddleOCR's own DistillationModel (release/2.10) from its
configs/rec/PP-OCRv3/ch_PP-OCRv3_rec_distillation.yml, head sizes set as its tools/train.py does:

    /work/refvenv/bin/python tests/modeling/expected/generate.py --ref /work/ref
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from ocrrec.charset import Charset
from ocrrec.config import load_config
from ocrrec.engine.evaluator import ctc_view
from ocrrec.engine.optim import build_optimizer
from ocrrec.errors import ConfigError, UserError
from ocrrec.metrics import build_metric
from ocrrec.modeling import DistillationModel, RecModel, build_model, per_model_predictions
from ocrrec.modeling.losses import build_loss
from ocrrec.postprocess import build_post_process

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).parent / "expected" / "ppocrv3_ch_distillation.json"
CH_CONFIG = ROOT / "configs/rec/PP-OCRv3/ch_PP-OCRv3_rec_distillation.yml"
EN_CONFIG = ROOT / "configs/rec/PP-OCRv3/en_PP-OCRv3_rec_distillation.yml"
MAX_LEN = 6
WORDS = ["ab1", "c9"]
LOSS_TERMS = {
    "dml_ctc_0",
    "dml_sar_0",
    "loss_distance_l2_Student_Teacher_0",
    "loss_ctc_Student_0",
    "loss_ctc_Teacher_1",
    "loss_sar_Student_0",
    "loss_sar_Teacher_1",
}


def _sub_model(freeze: bool = False) -> dict:
    """A tiny PP-OCRv3-shaped recognizer section (MobileNetV1Enhance x0.1, SVTR neck, CTC + SAR)."""
    return {
        "pretrained": None,
        "freeze_params": freeze,
        "return_all_feats": True,
        "model_type": "rec",
        "algorithm": "SVTR_LCNet",
        "Transform": None,
        "Backbone": {
            "name": "MobileNetV1Enhance",
            "scale": 0.1,
            "last_conv_stride": [1, 2],
            "last_pool_type": "avg",
            "last_pool_kernel_size": [2, 2],
        },
        "Head": {
            "name": "MultiHead",
            "head_list": [
                {
                    "CTCHead": {
                        "Neck": {
                            "name": "svtr",
                            "dims": 16,
                            "depth": 1,
                            "hidden_dims": 16,
                            "use_guide": True,
                        },
                        "Head": {"fc_decay": 1e-5},
                    }
                },
                {"SARHead": {"enc_dim": 32, "max_text_length": MAX_LEN}},
            ],
        },
    }


def tiny_arch(freeze_teacher: bool = False) -> dict:
    return {
        "model_type": "rec",
        "name": "DistillationModel",
        "algorithm": "Distillation",
        "Models": {"Teacher": _sub_model(freeze_teacher), "Student": _sub_model()},
    }


def v3_loss_config() -> dict:
    """The Loss section of the shipped PP-OCRv3 distillation config."""
    return load_config(CH_CONFIG).section("Loss")


def make_batch(charset: Charset, words: list[str] = WORDS) -> dict[str, paddle.Tensor]:
    """A batch as KeepKeys [image, label_ctc, label_sar, length, valid_ratio] produces it
    (MultiLabelEncode: CTC ids from 1 padded with 0; SAR [<BOS/EOS>, ids..., <BOS/EOS>, <PAD>...])."""
    n = len(charset)
    index = charset.char_to_index
    label_ctc = np.zeros((len(words), MAX_LEN), dtype="int64")
    label_sar = np.full((len(words), MAX_LEN), n + 2, dtype="int64")
    for row, word in enumerate(words):
        ids = [index[ch] for ch in word]
        label_ctc[row, : len(ids)] = np.array(ids) + 1
        label_sar[row, : len(ids) + 2] = [n + 1, *ids, n + 1]
    rng = np.random.default_rng(7)
    image = rng.uniform(-1, 1, size=(len(words), 3, 32, 64)).astype("float32")
    return {
        "image": paddle.to_tensor(image),
        "label_ctc": paddle.to_tensor(label_ctc),
        "label_sar": paddle.to_tensor(label_sar),
        "length": paddle.to_tensor(np.array([len(w) for w in words], dtype="int64")),
        "valid_ratio": paddle.to_tensor(np.array([1.0, 0.75], dtype="float32")),
    }


def optimizer_for(model) -> object:
    config = {
        "name": "Adam",
        "beta1": 0.9,
        "beta2": 0.999,
        "lr": {"name": "Const", "learning_rate": 0.01},
        "regularizer": {"name": "L2", "factor": 3.0e-05},
    }
    optimizer, _ = build_optimizer(config, 1, 3, model)
    return optimizer


def snapshot(model, prefix: str) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items() if k.startswith(prefix)}


@pytest.fixture
def charset() -> Charset:
    return Charset.from_spec(None)


# --- parameter names ---------------------------------------------------------------------


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


def test_state_dict_matches_paddleocr_distillation_checkpoint():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    config = load_config(CH_CONFIG)
    charset = Charset.from_spec(config.glob.character_dict_path, config.glob.use_space_char)
    model = build_model(config.section("Architecture"), charset)
    assert isinstance(model, DistillationModel)
    ours = _describe(model)
    assert sorted(set(expected["state_dict"]) - set(ours))[:5] == []
    assert sorted(set(ours) - set(expected["state_dict"]))[:5] == []
    different = {k: (v, ours[k]) for k, v in expected["state_dict"].items() if ours[k] != v}
    assert not different, dict(list(different.items())[:5])
    assert list(ours) == list(expected["state_dict"])
    for name, head in expected["head"].items():
        assert model.model_dict[name].head.out_channels_list == head["out_channels_list"]


# --- training ------------------------------------------------------------------------------


def test_one_training_step_has_every_loss_term_finite(charset):
    paddle.seed(1)
    model = build_model(tiny_arch(), charset)
    loss_fn = build_loss(v3_loss_config())
    batch = make_batch(charset)
    model.train()
    preds = model(batch["image"], batch)
    assert set(preds) == {"Teacher", "Student"}
    assert set(preds["Student"]) == {"backbone_out", "neck_out", "head_out"}
    assert set(preds["Student"]["head_out"]) == {"ctc", "ctc_neck", "sar"}
    losses = loss_fn(preds, batch)
    assert set(losses) == LOSS_TERMS | {"loss"}
    values = {k: float(v) for k, v in losses.items()}
    assert all(np.isfinite(v) for v in values.values()), values
    assert all(values[k] > 0 for k in LOSS_TERMS), values
    # "loss" is the sum of the (already weighted) terms
    assert values["loss"] == pytest.approx(sum(values[k] for k in LOSS_TERMS), rel=1e-5)
    optimizer = optimizer_for(model)
    before = snapshot(model, "Student.")
    losses["loss"].backward()
    optimizer.step()
    optimizer.clear_grad()
    after = snapshot(model, "Student.")
    assert any(not np.array_equal(before[k], after[k]) for k in before)


def test_combined_loss_weights_each_member(charset):
    paddle.seed(2)
    model = build_model(tiny_arch(), charset)
    batch = make_batch(charset)
    preds = model(batch["image"], batch)
    config = v3_loss_config()
    unweighted = copy.deepcopy(config)
    for entry in unweighted["loss_config_list"]:
        next(iter(entry.values()))["weight"] = 1.0
    weighted = build_loss(config)(preds, batch)
    plain = build_loss(unweighted)(preds, batch)
    assert float(weighted["dml_sar_0"]) == pytest.approx(0.5 * float(plain["dml_sar_0"]), rel=1e-6)
    assert float(weighted["dml_ctc_0"]) == pytest.approx(float(plain["dml_ctc_0"]), rel=1e-6)


def test_frozen_teacher_keeps_its_weights_while_the_student_learns(charset):
    paddle.seed(3)
    model = build_model(tiny_arch(freeze_teacher=True), charset)
    assert model.frozen == ("Teacher",)
    assert all(p.stop_gradient for p in model.model_dict["Teacher"].parameters())
    loss_fn = build_loss(v3_loss_config())
    optimizer = optimizer_for(model)
    batch = make_batch(charset)
    teacher_before = snapshot(model, "Teacher.")
    student_before = snapshot(model, "Student.")
    model.train()
    for _ in range(3):
        losses = loss_fn(model(batch["image"], batch), batch)
        losses["loss"].backward()
        optimizer.step()
        optimizer.clear_grad()
    teacher_after = snapshot(model, "Teacher.")
    student_after = snapshot(model, "Student.")
    # every Teacher tensor, BatchNorm running statistics included, is untouched
    assert all(np.array_equal(teacher_before[k], teacher_after[k]) for k in teacher_before)
    changed = [k for k in student_before if not np.array_equal(student_before[k], student_after[k])]
    assert any(k.endswith(".weight") for k in changed)
    assert any(k.endswith("._mean") for k in changed)  # the student's BatchNorm statistics do move


def test_frozen_teacher_predicts_as_in_inference_while_training(charset):
    paddle.seed(4)
    model = build_model(tiny_arch(freeze_teacher=True), charset)
    batch = make_batch(charset)
    model.eval()
    with paddle.no_grad():
        eval_probs = model(batch["image"], batch)["Teacher"]["head_out"].numpy()
    model.train()
    with paddle.no_grad():
        train_logits = model(batch["image"], batch)["Teacher"]["head_out"]["ctc"]
    train_probs = paddle.nn.functional.softmax(train_logits, axis=2).numpy()
    np.testing.assert_allclose(train_probs, eval_probs, rtol=1e-5, atol=1e-6)


def test_student_alone_matches_the_distillation_student_branch(charset):
    paddle.seed(5)
    arch = tiny_arch()
    model = build_model(arch, charset)
    loss_fn = build_loss(v3_loss_config())
    optimizer = optimizer_for(model)
    batch = make_batch(charset)
    model.train()
    for _ in range(2):  # move the weights (and BatchNorm statistics) away from their initial values
        losses = loss_fn(model(batch["image"], batch), batch)
        losses["loss"].backward()
        optimizer.step()
        optimizer.clear_grad()

    section = {
        k: v
        for k, v in arch["Models"]["Student"].items()
        if k not in ("pretrained", "freeze_params", "return_all_feats")
    }
    student = build_model(section, charset)
    assert isinstance(student, RecModel)
    prefix = "Student."
    student.set_state_dict(
        {k[len(prefix) :]: v for k, v in model.state_dict().items() if k.startswith(prefix)}
    )
    model.eval()
    student.eval()
    with paddle.no_grad():
        out = model(batch["image"], batch)
        alone = student(batch["image"]).numpy()
        exported_net = model.model_dict["Student"](batch["image"])
    np.testing.assert_array_equal(out["Student"]["head_out"].numpy(), alone)
    # what export takes: a plain RecModel returning CTC probabilities
    assert isinstance(exported_net, paddle.Tensor)
    np.testing.assert_array_equal(exported_net.numpy(), alone)
    # the engine's CTC view of the distillation output is the Student's
    np.testing.assert_array_equal(ctc_view(out).numpy(), alone)


def test_ctc_view_and_per_model_predictions(charset):
    paddle.seed(6)
    model = build_model(tiny_arch(), charset)
    batch = make_batch(charset)
    model.train()
    train_out = model(batch["image"], batch)
    assert ctc_view(train_out) is train_out["Student"]["head_out"]["ctc"]
    per_model = per_model_predictions(train_out)
    assert list(per_model) == ["Teacher", "Student"]
    assert per_model["Teacher"] is train_out["Teacher"]["head_out"]["ctc"]
    model.eval()
    eval_out = model(batch["image"], batch)
    per_model = per_model_predictions(eval_out, ["Student"])
    assert list(per_model) == ["Student"] and per_model["Student"] is eval_out["Student"]["head_out"]
    # a plain dict (e.g. rebuilt by an AMP cast) still counts when it holds the names
    assert per_model_predictions(dict(eval_out), ["Student", "Teacher"]) is not None
    assert per_model_predictions(dict(eval_out)) is None
    single = model.model_dict["Student"]
    single.train()
    assert per_model_predictions(single(batch["image"], batch)) is None
    with pytest.raises(ConfigError, match="Student2"):
        per_model_predictions(eval_out, ["Student2"])


# --- decoding and metrics ------------------------------------------------------------------


def test_decoder_and_metric_report_every_model_with_the_student_as_main(charset):
    paddle.seed(7)
    model = build_model(tiny_arch(), charset)
    config = load_config(EN_CONFIG)
    decoder = build_post_process(config.section("PostProcess"), charset)
    metric = build_metric(config.section("Metric"))
    batch = make_batch(charset)
    model.eval()
    with paddle.no_grad():
        out = model(batch["image"], batch)
    decoded = decoder(out)
    assert list(decoded) == ["Student", "Teacher"]
    # the engine's single path: the CTC view (the Student) decodes the same
    assert decoder(ctc_view(out).numpy()) == decoded["Student"]
    truth = decoder.decode_labels(batch["label_ctc"].numpy(), batch["length"].numpy())
    assert [t for t, _ in truth] == WORDS
    # make the Student right on sample 0 and the Teacher on nothing
    student_preds = [truth[0], decoded["Student"][1]]
    teacher_preds = [("zz", 0.5), ("zz", 0.5)]
    metric.update({"Student": student_preds, "Teacher": teacher_preds}, truth)
    result = metric.get_metric(reset=False)
    assert result["acc"] == pytest.approx(0.5, abs=1e-4)
    assert result["Teacher_acc"] == pytest.approx(0.0, abs=1e-4)
    assert {"norm_edit_dis", "Teacher_norm_edit_dis"} <= set(result)
    assert metric.main_model == "Student"
    assert list(metric.per_model()) == ["Student", "Teacher"]
    # a plain list (single-model path) counts for the main model
    metric.reset()
    metric.update(student_preds, truth)
    assert metric.get_metric()["acc"] == pytest.approx(0.5, abs=1e-4)


def test_distillation_metric_states_merge_exactly(charset):
    config = {
        "name": "DistillationMetric",
        "base_metric_name": "RecMetric",
        "main_indicator": "acc",
        "key": "Student",
        "ignore_space": False,
    }
    labels = [("abc", 1.0), ("de", 1.0), ("f g", 1.0), ("hij", 1.0)]
    preds = {
        "Student": [("abc", 0.9), ("dx", 0.9), ("fg", 0.9), ("hij", 0.9)],
        "Teacher": [("abc", 0.9), ("de", 0.9), ("f g", 0.9), ("h", 0.9)],
    }
    whole = build_metric(config)
    whole.update(preds, labels)
    ranks = [build_metric(config), build_metric(config)]
    for rank, part in zip(ranks, (slice(0, 3), slice(3, 4)), strict=True):
        rank.add_models(["Teacher"])
        rank.update({k: v[part] for k, v in preds.items()}, labels[part])
    merged = build_metric(config)
    merged.add_models(["Teacher"])
    merged.merge_state(ranks[0].state() + ranks[1].state())
    assert merged.get_metric() == whole.get_metric()
    with pytest.raises(ValueError, match="add_models"):
        build_metric(config).merge_state(ranks[0].state())


# --- configs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "dictionary", "classes"), [(CH_CONFIG, "ppocr_keys_v1", 6625), (EN_CONFIG, "en", 97)]
)
def test_shipped_distillation_configs_load_cleanly(path, dictionary, classes):
    config = load_config(path)
    assert config.warnings == []
    assert config.glob.character_dict_path == dictionary
    assert config.glob.use_space_char is True
    charset = Charset.from_spec(dictionary, True)
    assert build_post_process(config.section("PostProcess"), charset).class_count() == classes
    assert build_metric(config.section("Metric")).main_model == "Student"
    loss = build_loss(config.section("Loss"))
    assert len(loss.members) == 5


# --- weights and errors ------------------------------------------------------------------------


def test_per_model_pretrained_loads_that_models_weights(charset, tmp_path):
    paddle.seed(8)
    source = build_model(tiny_arch(), charset)
    paddle.save(source.state_dict(), str(tmp_path / "distill.pdparams"))
    paddle.save(source.model_dict["Student"].state_dict(), str(tmp_path / "single.pdparams"))
    arch = tiny_arch()
    arch["Models"]["Teacher"]["pretrained"] = str(tmp_path / "distill")  # suffix optional
    arch["Models"]["Student"]["pretrained"] = str(tmp_path / "single.pdparams")
    paddle.seed(9)
    model = build_model(arch, charset)
    assert model.load_reports["Teacher"].prefix == "Teacher."
    assert model.load_reports["Student"].prefix == ""
    for name in ("Teacher", "Student"):
        ours = snapshot(model, f"{name}.")
        theirs = snapshot(source, f"{name}.")
        assert all(np.array_equal(ours[k], theirs[k]) for k in theirs)
    arch["Models"]["Teacher"]["pretrained"] = str(tmp_path / "missing")
    with pytest.raises(UserError, match=r"Models\.Teacher\.pretrained"):
        build_model(arch, charset)


def test_config_mistakes_name_the_place(charset):
    arch = tiny_arch()
    arch["Models"]["Student"]["Backbone"]["name"] = "MobileNetV1Enhanced"
    with pytest.raises(ConfigError, match=r"^Architecture\.Models\.Student\.Backbone"):
        build_model(arch, charset)
    arch = tiny_arch(freeze_teacher=True)
    arch["Models"]["Student"]["freeze_params"] = True
    with pytest.raises(ConfigError, match="nothing would be trained"):
        build_model(arch, charset)
    arch = tiny_arch()
    arch["Models"]["Stu.dent"] = arch["Models"].pop("Student")
    with pytest.raises(ConfigError, match="simple identifier"):
        build_model(arch, charset)
    arch = tiny_arch()
    arch["Models"]["training"] = arch["Models"].pop("Student")
    with pytest.raises(ConfigError, match="reserved"):
        build_model(arch, charset)
    arch = tiny_arch()
    del arch["name"]
    with pytest.raises(ConfigError, match="name: DistillationModel"):
        build_model(arch, charset)


def test_loss_mistakes_are_config_errors(charset):
    paddle.seed(10)
    arch = tiny_arch()
    arch["Models"]["Teacher"]["return_all_feats"] = False
    model = build_model(arch, charset)
    batch = make_batch(charset)
    preds = model(batch["image"], batch)
    loss_cfg = v3_loss_config()
    with pytest.raises(ConfigError, match=r"loss_config_list\[0\].*return_all_feats") as info:
        build_loss(loss_cfg)(preds, batch)
    assert "Teacher" in str(info.value)
    bad = {
        "name": "CombinedLoss",
        "loss_config_list": [{"DistillationCTCLoss": {"model_name_list": ["Student"]}}],
    }
    with pytest.raises(ConfigError, match="weight"):
        build_loss(bad)
    bad = {
        "name": "CombinedLoss",
        "loss_config_list": [
            {"DistillationCTCLoss": {"weight": 1.0, "model_name_list": ["Pupil"], "key": "head_out"}}
        ],
    }
    with pytest.raises(ConfigError, match="no model `Pupil`"):
        build_loss(bad)(preds, batch)
    bad = {
        "name": "CombinedLoss",
        "loss_config_list": [{"DistillationDistanceLoss": {"weight": 1.0, "mode": "l3"}}],
    }
    with pytest.raises(ConfigError, match="mode"):
        build_loss(bad)


def test_engine_evaluate_reports_every_sub_model(charset):
    from ocrrec.engine.evaluator import evaluate

    paddle.seed(11)
    model = build_model(tiny_arch(), charset)
    config = load_config(EN_CONFIG)
    decoder = build_post_process(config.section("PostProcess"), charset)
    metric = build_metric(config.section("Metric"))
    keys = ["image", "label_ctc", "label_sar", "length", "valid_ratio"]
    batch = make_batch(charset)
    loader = [tuple(batch[k] for k in keys)] * 2
    result = evaluate(model, loader, decoder, metric, keys=keys, keep_records=True)
    assert result.samples == 4
    assert {"acc", "norm_edit_dis"} <= set(result.metrics)
    assert {"Teacher_acc", "Teacher_norm_edit_dis"} <= set(result.metrics)  # each sub-model, Student as main
    with paddle.no_grad():
        model.eval()
        expected = decoder(model(batch["image"], batch)["Student"]["head_out"].numpy())
    assert [text for _, _, text, _ in result.records[:2]] == [text for text, _ in expected]


def test_per_model_evaluation_path_reports_each_model(charset):
    """The engine's per-model path: per_model_predictions → decoder per model → DistillationMetric."""
    paddle.seed(12)
    model = build_model(tiny_arch(), charset)
    config = load_config(EN_CONFIG)
    decoder = build_post_process(config.section("PostProcess"), charset)
    metric = build_metric(config.section("Metric"))
    metric.add_models(decoder.model_names)
    batch = make_batch(charset)
    model.eval()
    with paddle.no_grad():
        preds = model(batch["image"], batch)
    per_model = per_model_predictions(preds, decoder.model_names)
    decoded = {name: decoder(probs.numpy()) for name, probs in per_model.items()}
    truth = decoder.decode_labels(batch["label_ctc"].numpy(), batch["length"].numpy())
    metric.update(decoded, truth)
    result = metric.get_metric()
    assert {"acc", "norm_edit_dis", "Teacher_acc", "Teacher_norm_edit_dis"} <= set(result)
    assert decoded == decoder(preds)  # same as decoding the whole output at once


def test_issue8_proof_configs_train_the_same_student():
    """bench/distill_proof: the distilled Student is exactly the student trained alone."""
    alone = load_config(ROOT / "bench/distill_proof/student_alone.yml")
    distill = load_config(ROOT / "bench/distill_proof/distill_dml.yml")
    assert alone.warnings == [] and distill.warnings == []
    student = dict(distill.section("Architecture")["Models"]["Student"])
    for option in ("pretrained", "freeze_params", "return_all_feats"):
        student.pop(option)
    assert student == alone.section("Architecture")
    for key in ("epoch_num", "seed", "max_text_length", "character_dict_path"):
        assert distill.get(f"Global.{key}") == alone.get(f"Global.{key}")
    assert distill.section("Train") == alone.section("Train")
    assert distill.section("Optimizer") == alone.section("Optimizer")
    charset = Charset.from_spec("ic15")
    model = build_model(distill.section("Architecture"), charset)
    batch = make_batch(charset, ["ab12", "c9"])
    batch["label"] = paddle.concat([batch["label_ctc"], paddle.zeros([2, 13], "int64")], axis=1)
    batch["image"] = paddle.zeros([2, 3, 32, 128])
    losses = build_loss(distill.section("Loss"))(model(batch["image"], batch), batch)
    assert np.isfinite(float(losses["loss"]))
    assert set(losses) == {"loss", "dml_0", "loss_ctc_Student_0", "loss_ctc_Teacher_1"}
