"""Losses on hand-made tensors: values against direct NumPy computations, gradients, config errors."""

from __future__ import annotations

import itertools

import numpy as np
import paddle
import pytest

from ocrrec.errors import ConfigError
from ocrrec.modeling.losses import build_loss


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.log(softmax(x, axis))


def brute_force_ctc(logits: np.ndarray, label: list[int]) -> float:
    """-log P(label) by enumerating every path of a tiny [T, C] output (blank 0)."""
    probs = softmax(logits.astype(np.float64))
    steps, classes = probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c)]
        if collapsed == label:
            total += float(np.prod(probs[np.arange(steps), path]))
    return -np.log(total)


def tensor(x: np.ndarray, grad: bool = False) -> paddle.Tensor:
    t = paddle.to_tensor(x)
    t.stop_gradient = not grad
    return t


@pytest.fixture
def ctc_case():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 4)).astype("float32") * 2  # B=3, T=5, C=4 (blank + 3 chars)
    labels = np.array([[1, 2, 0, 0], [3, 3, 0, 0], [2, 0, 0, 0]], dtype=np.int64)  # padded with 0
    lengths = np.array([2, 2, 1], dtype=np.int64)
    expected = [brute_force_ctc(logits[b], labels[b, : lengths[b]].tolist()) for b in range(3)]
    return logits, labels, lengths, np.array(expected)


def test_ctc_loss_equals_brute_force_mean(ctc_case):
    logits, labels, lengths, per_sample = ctc_case
    x = tensor(logits, grad=True)
    out = build_loss({"name": "CTCLoss"})(x, {"label": tensor(labels), "length": tensor(lengths)})
    assert set(out) == {"loss"}
    assert np.isfinite(float(out["loss"]))
    assert float(out["loss"]) == pytest.approx(per_sample.mean(), rel=1e-5)
    out["loss"].backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_ctc_focal_loss_reweights_each_sample(ctc_case):
    logits, labels, lengths, per_sample = ctc_case
    loss = build_loss({"name": "CTCLoss", "use_focal_loss": True})(
        tensor(logits), {"label": tensor(labels), "length": tensor(lengths)}
    )["loss"]
    expected = (per_sample * (1 - np.exp(-per_sample)) ** 2).mean()
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_ctc_loss_accepts_multihead_dict_and_half_precision(ctc_case):
    logits, labels, lengths, per_sample = ctc_case
    preds = {"ctc": tensor(logits).astype("float16"), "ctc_neck": tensor(logits)}
    loss = build_loss({"name": "CTCLoss"})(preds, {"label": tensor(labels), "length": tensor(lengths)})[
        "loss"
    ]
    assert loss.dtype == paddle.float32
    assert float(loss) == pytest.approx(per_sample.mean(), rel=1e-2)


def test_ctc_loss_names_a_missing_batch_key(ctc_case):
    logits, labels, lengths, _ = ctc_case
    with pytest.raises(ConfigError, match="`label`.*keep_keys"):
        build_loss({"name": "CTCLoss"})(
            tensor(logits), {"label_ctc": tensor(labels), "length": tensor(lengths)}
        )


def sar_case():
    # N = 3 characters: ids 0..2, <UKN> 3, <BOS/EOS> 4, <PAD> 5; the head predicts 5 classes.
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 6, 5)).astype("float32")
    labels = np.array([[4, 0, 1, 4, 5, 5], [4, 2, 4, 5, 5, 5]], dtype=np.int64)
    return logits, labels


def direct_cross_entropy(logits: np.ndarray, targets: np.ndarray, ignore: int) -> float:
    logp = log_softmax(logits.astype(np.float64))
    keep = targets != ignore
    picked = logp[keep, targets[keep]]
    return float(-picked.mean())


def test_sar_loss_shifts_targets_and_ignores_padding():
    logits, labels = sar_case()
    x = tensor(logits, grad=True)
    loss = build_loss({"name": "SARLoss"})(x, {"label": tensor(labels)})["loss"]
    pred = logits[:, :-1, :].reshape(-1, 5)
    expected = direct_cross_entropy(pred, labels[:, 1:].reshape(-1), ignore=5)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    loss.backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    # Steps whose target is padding get no gradient, and neither does the last step.
    assert np.abs(grad[0, 4:]).sum() == 0 and np.abs(grad[1, 2:]).sum() == 0
    assert np.abs(grad[0, :3]).sum() > 0


def test_sar_loss_explicit_ignore_index():
    logits, labels = sar_case()
    labels = np.where(labels == 5, 1, labels)  # pad the labels with class 1 and ignore that instead
    loss = build_loss({"name": "SARLoss", "ignore_index": 1})(tensor(logits), {"label": tensor(labels)})[
        "loss"
    ]
    expected = direct_cross_entropy(logits[:, :-1, :].reshape(-1, 5), labels[:, 1:].reshape(-1), ignore=1)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def nrtr_case():
    # NRTR ids: blank 0, <unk> 1, <s> 2, </s> 3, characters from 4; longest label has 3 characters.
    rng = np.random.default_rng(2)
    labels = np.array([[2, 4, 5, 6, 3, 0, 0], [2, 7, 3, 0, 0, 0, 0]], dtype=np.int64)
    lengths = np.array([3, 1], dtype=np.int64)
    logits = rng.normal(size=(2, 4, 9)).astype("float32")  # 1 + longest steps
    return logits, labels, lengths


def test_nrtr_loss_label_smoothing_matches_formula():
    logits, labels, lengths = nrtr_case()
    x = tensor(logits, grad=True)
    loss = build_loss({"name": "NRTRLoss"})(x, {"label": tensor(labels), "length": tensor(lengths)})["loss"]
    targets = labels[:, 1:5].reshape(-1)
    flat = logits.reshape(-1, 9).astype(np.float64)
    soft = np.full(flat.shape, 0.1 / 8)
    soft[np.arange(len(targets)), targets] = 0.9
    per_position = -(soft * log_softmax(flat)).sum(axis=1)
    expected = per_position[targets != 0].mean()
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all() and np.abs(x.grad.numpy()).sum() > 0


def test_nrtr_loss_without_smoothing_is_cross_entropy_ignoring_padding():
    logits, labels, lengths = nrtr_case()
    loss = build_loss({"name": "NRTRLoss", "smoothing": False})(
        tensor(logits), {"label": tensor(labels), "length": tensor(lengths)}
    )["loss"]
    expected = direct_cross_entropy(logits.reshape(-1, 9), labels[:, 1:5].reshape(-1), ignore=0)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_multiloss_ctc_sar_weights_and_keys(ctc_case):
    logits, labels_ctc, lengths, per_sample = ctc_case
    sar_logits, labels_sar = sar_case()
    sar_logits = np.concatenate([sar_logits, sar_logits[:1]])
    labels_sar = np.concatenate([labels_sar, labels_sar[:1]])
    ctc_x, sar_x = tensor(logits, grad=True), tensor(sar_logits, grad=True)
    loss_fn = build_loss(
        {
            "name": "MultiLoss",
            "loss_config_list": [{"CTCLoss": None}, {"SARLoss": None}],
            "weight_1": 2.0,
            "weight_2": 0.5,
        }
    )
    batch = {
        "image": tensor(np.zeros((3, 3, 4, 4), "float32")),
        "label_ctc": tensor(labels_ctc),
        "label_sar": tensor(labels_sar),
        "length": tensor(lengths),
        "valid_ratio": tensor(np.ones(3, "float32")),
    }
    out = loss_fn({"ctc": ctc_x, "ctc_neck": ctc_x, "sar": sar_x}, batch)
    assert set(out) == {"CTCLoss", "SARLoss", "loss"}
    sar_alone = build_loss({"name": "SARLoss"})(tensor(sar_logits), {"label": tensor(labels_sar)})["loss"]
    assert float(out["CTCLoss"]) == pytest.approx(2.0 * per_sample.mean(), rel=1e-5)
    assert float(out["SARLoss"]) == pytest.approx(0.5 * float(sar_alone), rel=1e-6)
    assert float(out["loss"]) == pytest.approx(float(out["CTCLoss"]) + float(out["SARLoss"]), rel=1e-6)
    out["loss"].backward()
    assert np.abs(ctc_x.grad.numpy()).sum() > 0 and np.abs(sar_x.grad.numpy()).sum() > 0


def test_multiloss_ctc_nrtr_passes_member_arguments():
    logits, labels_gtc, lengths = nrtr_case()
    ctc_logits = np.random.default_rng(3).normal(size=(2, 6, 5)).astype("float32")
    labels_ctc = np.array([[1, 2, 3, 0], [4, 0, 0, 0]], dtype=np.int64)
    loss_fn = build_loss(
        {"name": "MultiLoss", "loss_config_list": [{"CTCLoss": None}, {"NRTRLoss": {"smoothing": False}}]}
    )
    batch = {"label_ctc": tensor(labels_ctc), "label_gtc": tensor(labels_gtc), "length": tensor(lengths)}
    out = loss_fn({"ctc": tensor(ctc_logits), "gtc": tensor(logits)}, batch)
    assert set(out) == {"CTCLoss", "NRTRLoss", "loss"}
    expected = direct_cross_entropy(logits.reshape(-1, 9), labels_gtc[:, 1:5].reshape(-1), ignore=0)
    assert float(out["NRTRLoss"]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"name": "CTCLos"}, "did you mean `CTCLoss`"),
        ({"name": "CTCLoss", "use_focal": True}, "use_focal"),
        ({"name": "MultiLoss", "loss_config_list": []}, "non-empty list"),
        ({"name": "MultiLoss", "loss_config_list": [{"CELoss": None}]}, "cannot combine `CELoss`"),
        (
            {"name": "MultiLoss", "loss_config_list": [{"CTCLoss": None}, {"SARLoss": {"smoothing": True}}]},
            "smoothing",
        ),
        ({"name": "MultiLoss", "loss_config_list": [{"CTCLoss": None}], "bogus": 1}, "bogus"),
    ],
)
def test_loss_config_mistakes_are_config_errors(cfg, message):
    with pytest.raises(ConfigError, match=message):
        build_loss(cfg)


def test_multiloss_shares_top_level_arguments_with_members_that_take_them():
    loss_fn = build_loss(
        {
            "name": "MultiLoss",
            "loss_config_list": [{"CTCLoss": None}, {"SARLoss": None}],
            "use_focal_loss": True,
        }
    )
    assert loss_fn.members["CTCLoss"].use_focal_loss is True
