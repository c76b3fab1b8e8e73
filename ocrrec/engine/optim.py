"""Optimizers, regularizers and learning-rate schedules from the `Optimizer` config section.

Names and arguments are PaddleOCR's (`Adam`, `AdamW`, `Momentum`, `RMSProp`, `SGD`; `lr.name`
`Cosine`, `Piecewise`, `Linear`, `Const`, `Step`, `MultiStepDecay`, each with `warmup_epoch`).
Schedules step once per iteration, as in PaddleOCR.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

from ocrrec.errors import ConfigError
from ocrrec.registry import Registry, check_arguments

LR_SCHEDULES = Registry("learning-rate schedule")
OPTIMIZERS = Registry("optimizer")


def _warmup(schedule: Any, warmup_steps: int, peak: float) -> Any:
    import paddle

    if warmup_steps <= 0:
        return schedule
    return paddle.optimizer.lr.LinearWarmup(learning_rate=schedule, warmup_steps=warmup_steps, start_lr=0.0, end_lr=peak)


@LR_SCHEDULES.register("Const")
def const_lr(learning_rate: float, step_each_epoch: int, epochs: int, warmup_epoch: float = 0, **_: Any) -> Any:
    steps = round(warmup_epoch * step_each_epoch)
    return _warmup(float(learning_rate), steps, float(learning_rate)) if steps > 0 else float(learning_rate)


@LR_SCHEDULES.register("Cosine")
def cosine_lr(learning_rate: float, step_each_epoch: int, epochs: int, warmup_epoch: float = 0, **_: Any) -> Any:
    import paddle

    schedule = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=float(learning_rate), T_max=max(1, step_each_epoch * epochs))
    return _warmup(schedule, round(warmup_epoch * step_each_epoch), float(learning_rate))


@LR_SCHEDULES.register("Linear")
def linear_lr(
    learning_rate: float,
    step_each_epoch: int,
    epochs: int,
    end_lr: float = 0.0,
    power: float = 1.0,
    warmup_epoch: float = 0,
    **_: Any,
) -> Any:
    import paddle

    schedule = paddle.optimizer.lr.PolynomialDecay(
        learning_rate=float(learning_rate), decay_steps=max(1, epochs * step_each_epoch), end_lr=float(end_lr), power=float(power)
    )
    return _warmup(schedule, round(warmup_epoch * step_each_epoch), float(learning_rate))


@LR_SCHEDULES.register("Piecewise")
def piecewise_lr(step_each_epoch: int, epochs: int, decay_epochs: list, values: list, warmup_epoch: float = 0, **_: Any) -> Any:
    import paddle

    if len(values) != len(decay_epochs) + 1:
        raise ConfigError(
            f"Optimizer.lr (Piecewise): `values` needs one more entry than `decay_epochs` "
            f"({len(values)} values, {len(decay_epochs)} boundaries)"
        )
    schedule = paddle.optimizer.lr.PiecewiseDecay(
        boundaries=[int(step_each_epoch * e) for e in decay_epochs], values=[float(v) for v in values]
    )
    return _warmup(schedule, round(warmup_epoch * step_each_epoch), float(values[0]))


@LR_SCHEDULES.register("Step")
def step_lr(
    learning_rate: float, step_each_epoch: int, epochs: int, step_size: float, gamma: float, warmup_epoch: float = 0, **_: Any
) -> Any:
    import paddle

    schedule = paddle.optimizer.lr.StepDecay(learning_rate=float(learning_rate), step_size=int(step_size * step_each_epoch), gamma=float(gamma))
    return _warmup(schedule, round(warmup_epoch * step_each_epoch), float(learning_rate))


@LR_SCHEDULES.register("MultiStepDecay")
def multistep_lr(
    learning_rate: float, step_each_epoch: int, epochs: int, milestones: list, gamma: float, warmup_epoch: float = 0, **_: Any
) -> Any:
    import paddle

    schedule = paddle.optimizer.lr.MultiStepDecay(
        learning_rate=float(learning_rate), milestones=[int(step_each_epoch * m) for m in milestones], gamma=float(gamma)
    )
    return _warmup(schedule, round(warmup_epoch * step_each_epoch), float(learning_rate))


def build_lr_schedule(lr_config: dict | float | None, epochs: int, step_each_epoch: int) -> Any:
    """A paddle LRScheduler (or a float for a constant rate without warm-up)."""
    if lr_config is None:
        lr_config = {"learning_rate": 0.001}
    if isinstance(lr_config, (int, float)):
        lr_config = {"learning_rate": float(lr_config)}
    spec = dict(lr_config)
    name = spec.pop("name", "Const")
    fn = LR_SCHEDULES.get(name, "Optimizer.lr.name")
    spec.update(epochs=int(epochs), step_each_epoch=max(1, int(step_each_epoch)))
    check_arguments(fn, spec, f"Optimizer.lr ({name})")
    return fn(**spec)


def build_regularizer(config: dict) -> Any:
    import paddle

    reg = config.get("regularizer")
    if reg:
        reg = dict(reg)
        name = str(reg.pop("name", "L2"))
        factor = float(reg.get("factor", 0.0))
        base = name[:-5] if name.endswith("Decay") else name
        if base == "L2":
            return paddle.regularizer.L2Decay(factor)
        if base == "L1":
            return paddle.regularizer.L1Decay(factor)
        raise ConfigError(f"Optimizer.regularizer.name: unknown regularizer `{name}`; known: L1, L2 (or L1Decay, L2Decay)")
    if "weight_decay" in config and config["weight_decay"] is not None:
        return float(config["weight_decay"])
    return None


def build_grad_clip(config: dict) -> Any:
    import paddle

    if config.get("clip_norm") is not None:
        return paddle.nn.ClipGradByNorm(clip_norm=float(config["clip_norm"]))
    if config.get("clip_norm_global") is not None:
        return paddle.nn.ClipGradByGlobalNorm(clip_norm=float(config["clip_norm_global"]))
    return None


def _trainable(model: Any) -> list:
    return [p for p in model.parameters() if not p.stop_gradient]


@OPTIMIZERS.register("Adam")
def adam(model, learning_rate, weight_decay, grad_clip, beta1=0.9, beta2=0.999, epsilon=1e-8, lazy_mode=False, **_):
    import paddle

    return paddle.optimizer.Adam(
        learning_rate=learning_rate, beta1=float(beta1), beta2=float(beta2), epsilon=float(epsilon),
        parameters=_trainable(model), weight_decay=weight_decay, grad_clip=grad_clip, lazy_mode=bool(lazy_mode),
    )


@OPTIMIZERS.register("AdamW")
def adamw(
    model, learning_rate, weight_decay, grad_clip, beta1=0.9, beta2=0.999, epsilon=1e-8,
    no_weight_decay_name=None, one_dim_param_no_weight_decay=False, multi_precision=False, **_,
):
    import paddle

    skip_patterns = str(no_weight_decay_name).split() if no_weight_decay_name else []
    no_decay = {p.name for n, p in model.named_parameters() if any(s in n for s in skip_patterns)}
    if one_dim_param_no_weight_decay:
        no_decay |= {p.name for _, p in model.named_parameters() if len(p.shape) == 1}
    if weight_decay is None:
        decay = 0.01
    elif isinstance(weight_decay, (int, float)):
        decay = float(weight_decay)
    else:  # a `regularizer:` section: AdamW takes its factor as the decoupled decay
        decay = float(weight_decay._coeff)
    return paddle.optimizer.AdamW(
        learning_rate=learning_rate, beta1=float(beta1), beta2=float(beta2), epsilon=float(epsilon),
        parameters=_trainable(model), weight_decay=decay, grad_clip=grad_clip, multi_precision=bool(multi_precision),
        apply_decay_param_fun=lambda name: name not in no_decay,
    )


@OPTIMIZERS.register("Momentum")
def momentum(model, learning_rate, weight_decay, grad_clip, momentum=0.9, **_):
    import paddle

    return paddle.optimizer.Momentum(
        learning_rate=learning_rate, momentum=float(momentum), parameters=_trainable(model),
        weight_decay=weight_decay, grad_clip=grad_clip,
    )


@OPTIMIZERS.register("RMSProp")
def rmsprop(model, learning_rate, weight_decay, grad_clip, rho=0.95, epsilon=1e-6, momentum=0.0, **_):
    import paddle

    return paddle.optimizer.RMSProp(
        learning_rate=learning_rate, rho=float(rho), epsilon=float(epsilon), momentum=float(momentum),
        parameters=_trainable(model), weight_decay=weight_decay, grad_clip=grad_clip,
    )


@OPTIMIZERS.register("SGD")
def sgd(model, learning_rate, weight_decay, grad_clip, **_):
    import paddle

    return paddle.optimizer.SGD(
        learning_rate=learning_rate, parameters=_trainable(model), weight_decay=weight_decay, grad_clip=grad_clip
    )


def build_optimizer(config: dict, epochs: int, step_each_epoch: int, model: Any) -> tuple[Any, Any]:
    """(optimizer, lr schedule) from the plain `Optimizer` section."""
    if not config or "name" not in config:
        raise ConfigError("Optimizer.name is missing", f"one of: {', '.join(OPTIMIZERS.names())}")
    config = copy.deepcopy(config)
    schedule = build_lr_schedule(config.pop("lr", None), epochs, step_each_epoch)
    weight_decay = build_regularizer(config)
    grad_clip = build_grad_clip(config)
    name = config.pop("name")
    for key in ("regularizer", "weight_decay", "clip_norm", "clip_norm_global"):
        config.pop(key, None)
    factory = OPTIMIZERS.get(name, "Optimizer.name")
    root = logging.getLogger()
    level = root.level
    # paddle logs (at INFO, on the root logger) that per-parameter regularizers (PaddleOCR's
    # fc_decay) take precedence over `regularizer`; that is the intended behaviour
    root.setLevel(max(level, logging.WARNING))
    try:
        optimizer = factory(model, schedule, weight_decay, grad_clip, **config)
    finally:
        root.setLevel(level)
    return optimizer, schedule


def current_lr(optimizer: Any) -> float:
    value = optimizer.get_lr()
    return float(value) if not math.isnan(float(value)) else 0.0
