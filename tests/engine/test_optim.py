from __future__ import annotations

import paddle
import pytest

from ocrrec.engine.optim import build_lr_schedule, build_optimizer
from ocrrec.errors import ConfigError


def _model():
    paddle.seed(0)
    return paddle.nn.Linear(4, 3)


def _lrs(schedule, steps):
    out = []
    for _ in range(steps):
        out.append(schedule() if callable(schedule) else schedule)
        schedule.step()
    return out


def test_cosine_with_warmup_matches_paddleocr_semantics():
    sched = build_lr_schedule({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 1}, epochs=3, step_each_epoch=4)
    lrs = _lrs(sched, 12)
    assert lrs[0] == 0.0 and lrs[2] == pytest.approx(0.05)  # linear warm-up over 4 steps
    assert lrs[4] == pytest.approx(0.1)  # cosine starts at the peak after warm-up
    assert lrs[5] < lrs[4] and lrs[-1] < lrs[5]


def test_const_is_default_and_piecewise_checks_lengths():
    assert build_lr_schedule({"learning_rate": 0.0005}, 10, 5) == 0.0005
    sched = build_lr_schedule({"name": "Piecewise", "decay_epochs": [1, 2], "values": [0.1, 0.01, 0.001]}, 3, 2)
    assert _lrs(sched, 6) == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    with pytest.raises(ConfigError, match="one more entry"):
        build_lr_schedule({"name": "Piecewise", "decay_epochs": [1, 2], "values": [0.1]}, 3, 2)


def test_linear_decay():
    sched = build_lr_schedule({"name": "Linear", "learning_rate": 1.0, "end_lr": 0.0}, epochs=1, step_each_epoch=4)
    assert _lrs(sched, 4) == pytest.approx([1.0, 0.75, 0.5, 0.25])


def test_unknown_schedule_and_argument():
    with pytest.raises(ConfigError, match="unknown learning-rate schedule `Cosin`; did you mean `Cosine`"):
        build_lr_schedule({"name": "Cosin", "learning_rate": 0.1}, 1, 1)
    with pytest.raises(ConfigError, match="missing required argument `learning_rate`"):
        build_lr_schedule({"name": "Cosine"}, 1, 1)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Momentum", "RMSProp", "SGD"])
def test_optimizers_step(name):
    model = _model()
    cfg = {"name": name, "lr": {"name": "Cosine", "learning_rate": 0.01, "warmup_epoch": 0},
           "regularizer": {"name": "L2", "factor": 1e-4}, "clip_norm": 10.0}
    if name == "Momentum":
        cfg["momentum"] = 0.9
    optimizer, schedule = build_optimizer(cfg, epochs=2, step_each_epoch=3, model=model)
    before = model.weight.numpy().copy()
    loss = model(paddle.ones([2, 4])).sum()
    loss.backward()
    optimizer.step()
    assert (model.weight.numpy() != before).any()
    assert optimizer.get_lr() == pytest.approx(0.01)


def test_regularizer_names():
    model = _model()
    opt, _ = build_optimizer({"name": "Adam", "lr": {"learning_rate": 0.1}, "regularizer": {"name": "L2Decay", "factor": 0.1}}, 1, 1, model)
    assert isinstance(opt.regularization, paddle.regularizer.L2Decay)
    with pytest.raises(ConfigError, match="unknown regularizer `L3`"):
        build_optimizer({"name": "Adam", "lr": {"learning_rate": 0.1}, "regularizer": {"name": "L3", "factor": 0.1}}, 1, 1, model)
    with pytest.raises(ConfigError, match="Optimizer.name is missing"):
        build_optimizer({"lr": {"learning_rate": 0.1}}, 1, 1, model)
