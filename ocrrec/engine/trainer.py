"""The training loop: build everything from the config, train, evaluate, checkpoint, resume.

Semantics follow PaddleOCR's `tools/train.py` (log line, `eval_batch_step`, `best_accuracy` /
`latest` / `iter_epoch_N`, checkpoints over pretrained weights) plus what it lacks: exact resume
mid-epoch, crash-safe saves, SIGINT/SIGTERM handling and NaN guarding.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocrrec import __version__
from ocrrec.config import Config
from ocrrec.engine import checkpoint as ckpt_io
from ocrrec.engine.device import RunPlace, amp_supported, select_device
from ocrrec.engine.evaluator import (
    amp_context,
    compile_for_eval,
    ctc_view,
    decode_and_update,
    evaluate,
    first_images,
    label_arrays,
    to_numpy,
)
from ocrrec.engine.reporting import Reporter, SmoothedStats, format_stats
from ocrrec.errors import UserError

DEFAULT_SEED = 1024


class TrainingStopped(Exception):
    """Raised out of the loop when a signal asked the run to stop (after `latest` was written)."""

    def __init__(self, signum: int, resume_hint: str) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum
        self.resume_hint = resume_hint

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@dataclass
class TrainSummary:
    save_model_dir: Path
    epochs_run: int
    global_step: int
    best_metric: dict[str, Any]
    last_metric: dict[str, float] | None
    seconds: float
    images_per_second: float
    losses: list[float] = field(default_factory=list)


@dataclass
class _Position:
    epoch: int = 1
    step_in_epoch: int = 0
    global_step: int = 0


class Trainer:
    """One training run. `Trainer(config).fit()`; `resume=True` continues `Global.checkpoints`."""

    def __init__(
        self,
        config: Config,
        *,
        device: str | None = None,
        reporter: Reporter | None = None,
        resume_command: str | None = None,
        on_step: Callable[[Trainer], None] | None = None,
    ) -> None:
        self.config = config
        self.glob = config.glob
        self.device_spec = device
        self.reporter = reporter
        self.resume_command = resume_command
        self.on_step = on_step
        self._stop_signal: int | None = None
        self._last_eval_step = -1

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Finish the current step, save `latest`, then raise TrainingStopped (what SIGTERM does)."""
        self._stop_signal = signum

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        import paddle

        from ocrrec.charset import Charset
        from ocrrec.data.loader import build_dataloader
        from ocrrec.metrics import build_metric
        from ocrrec.modeling import build_model
        from ocrrec.modeling.losses import build_loss
        from ocrrec.postprocess import build_post_process

        cfg, glob = self.config, self.glob
        self.place: RunPlace = select_device(self.device_spec, glob.use_gpu)
        if self.place.world_size > 1:
            paddle.distributed.init_parallel_env()
        self.save_dir = glob.save_model_dir
        if self.reporter is None:
            self.reporter = Reporter(self.save_dir / "train.log", enabled=self.place.is_main)
        elif self.place.is_main:
            self.reporter.open_log(self.save_dir / "train.log")
        else:
            self.reporter.enabled = False
        self.seed = DEFAULT_SEED if glob.seed is None else glob.seed
        seed_everything(self.seed)

        self.charset = Charset.from_spec(glob.character_dict_path, glob.use_space_char)
        # the model is built first so parameter names (and optimizer state keys) are stable
        self.model = build_model(cfg.section("Architecture"), self.charset)
        self.loss_fn = build_loss(cfg.section("Loss"))
        self.post_process = build_post_process(cfg.section("PostProcess"), self.charset)
        self.metric = build_metric(cfg.section("Metric"))

        self.train_loader, self.train_set = build_dataloader(
            cfg, "Train", seed=self.seed, rank=self.place.rank, world_size=self.place.world_size
        )
        self.steps_per_epoch = len(self.train_loader)
        if self.steps_per_epoch == 0:
            raise UserError(
                "Train: the dataset yields no full batch",
                "lower Train.loader.batch_size_per_card or set Train.loader.drop_last=False",
            )
        self.eval_loader = None
        if cfg.has("Eval"):
            # In-process reading for evaluation during training: forking loader workers while the
            # training iterator's reader thread allocates can deadlock them (paddle's allocator lock),
            # and eval reading (no augmentation) is far faster than the forward pass anyway.
            self.eval_loader, self.eval_set = build_dataloader(
                cfg, "Eval", seed=self.seed, rank=self.place.rank, world_size=self.place.world_size, num_workers=0
            )
        loader = self.train_loader  # the eval loader always reads in-process (above)
        if loader.num_workers < loader.requested_workers:
            self.reporter.info(
                f"Train.loader.num_workers {loader.requested_workers} -> {loader.num_workers}: this rank has "
                f"{loader.num_workers} CPU core(s) and more loader processes only add memory "
                "(OCRREC_LOADER_WORKERS_CAP=0 keeps the configured number)"
            )
        if platform.system() == "Windows" and self.train_loader.num_workers > 0:
            self.reporter.warning(
                "Train.loader.num_workers > 0 on Windows often hangs or fails to start workers; set it to 0 if it does"
            )
        self._report_dataset("Train", self.train_set)
        if self.eval_loader is not None:
            self._report_dataset("Eval", self.eval_set)

        from ocrrec.engine.optim import build_optimizer

        self.optimizer, self.lr_schedule = build_optimizer(
            cfg.section("Optimizer"), glob.epoch_num, self.steps_per_epoch, self.model
        )
        self.amp = self._setup_amp()
        self.scalars = None
        if self.place.is_main:
            from ocrrec.engine.scalars import ScalarWriter

            self.scalars = ScalarWriter.from_settings(glob.use_visualdl, glob.use_tensorboard, self.save_dir)
        self.best: dict[str, Any] = {}
        self.position = _Position()
        self._restore_weights()
        if self.place.world_size > 1 and bool(cfg.get("Global.use_sync_bn", False)):
            if self.place.is_gpu:
                self.model = paddle.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
            else:
                self.reporter.warning("Global.use_sync_bn needs GPU ranks; CPU ranks keep per-rank BatchNorm statistics")
        self.train_model = paddle.DataParallel(self.model) if self.place.world_size > 1 else self.model
        if self.place.is_main:
            cfg.save(self.save_dir / "config.yml")

    def _report_dataset(self, mode: str, dataset: Any) -> None:
        report = dataset.report()
        if report.dropped_total or report.partly_unknown:
            self.reporter.warning(report.summary())
        self.reporter.info(f"{mode}: {len(dataset)} samples")

    def _setup_amp(self) -> dict | None:
        import paddle

        glob = self.glob
        if not glob.use_amp:
            self.scaler = None
            return None
        if not amp_supported(self.place):
            self.reporter.warning("Global.use_amp is set but AMP needs a GPU; training in float32 on the CPU")
            self.scaler = None
            return None
        self.scaler = paddle.amp.GradScaler(
            init_loss_scaling=glob.scale_loss, use_dynamic_loss_scaling=glob.use_dynamic_loss_scaling
        )
        if glob.amp_level == "O2":
            self.model, self.optimizer = paddle.amp.decorate(
                models=self.model, optimizers=self.optimizer, level="O2", dtype=glob.amp_dtype
            )
        return {
            "level": glob.amp_level,
            "dtype": glob.amp_dtype,
            "black_list": list(glob.amp_custom_black_list),
            "white_list": list(glob.amp_custom_white_list),
        }

    # ------------------------------------------------------------- weights/resume
    def _restore_weights(self) -> None:
        from ocrrec.modeling.weights import load_weights

        glob = self.glob
        if glob.checkpoints:
            try:
                loaded = ckpt_io.load_checkpoint(glob.checkpoints)
            except UserError as exc:
                fallback = f"falling back to Global.pretrained_model={glob.pretrained_model}" if glob.pretrained_model else "training from scratch"
                self.reporter.warning(f"cannot resume from Global.checkpoints: {exc.message}; {fallback}")
            else:
                if loaded.used_previous:
                    self.reporter.warning(
                        f"{loaded.prefix} was being written when the last run stopped; resuming from the previous save"
                    )
                report = load_weights(self.model, loaded.params, str(loaded.prefix))
                for line in report.warnings():
                    self.reporter.warning(line)
                if loaded.optimizer:
                    self._restore_optimizer(loaded)
                self._restore_states(loaded)
                self.reporter.info(
                    f"resumed from {loaded.prefix}: epoch {self.position.epoch}, "
                    f"step {self.position.step_in_epoch}/{self.steps_per_epoch} of the epoch, global step {self.position.global_step}"
                )
                return
        if glob.pretrained_model:
            import paddle

            prefix = ckpt_io.checkpoint_prefix(glob.pretrained_model)
            path = prefix.with_name(prefix.name + ".pdparams")
            if not path.is_file():
                raise UserError(f"Global.pretrained_model: {path} not found", "give the path without .pdparams, e.g. pretrain/best_accuracy")
            report = load_weights(self.model, paddle.load(str(path)), str(path))
            for line in report.warnings():
                self.reporter.warning(line)
            self.reporter.info(f"loaded pretrained weights from {path}")
        else:
            self.reporter.info("training from scratch")

    def _restore_optimizer(self, loaded: ckpt_io.Checkpoint) -> None:
        saved_names = (loaded.states.get("ocrrec") or {}).get("param_names")
        state = loaded.optimizer
        if saved_names:
            state = ckpt_io.remap_optimizer_state(state, saved_names, self.model)
        try:
            self.optimizer.set_state_dict(state)
        except (AssertionError, KeyError, ValueError) as exc:
            # PaddleOCR checkpoints key optimizer moments by process-specific tensor names
            self.reporter.warning(
                f"optimizer state in {loaded.prefix}.pdopt does not match this model ({exc}); "
                "the weights and schedule are restored, the optimizer moments start fresh"
            )

    def _restore_states(self, loaded: ckpt_io.Checkpoint) -> None:
        import paddle

        states = loaded.states
        self.best = dict(states.get("best_model_dict") or {})
        self.best.pop("start_epoch", None)
        self.best.pop("is_float16", None)
        extra = states.get("ocrrec") or {}
        epoch = int(states.get("epoch", 0))
        step_in_epoch = int(extra.get("step_in_epoch", -1))
        recorded_steps = int(extra.get("steps_per_epoch", self.steps_per_epoch))
        global_step = int(states.get("global_step", 0))
        if 0 <= step_in_epoch < recorded_steps and recorded_steps == self.steps_per_epoch and epoch >= 1:
            self.position = _Position(epoch, step_in_epoch, global_step)
        else:
            if 0 <= step_in_epoch < recorded_steps:
                self.reporter.warning(
                    f"the epoch length changed ({recorded_steps} → {self.steps_per_epoch} batches); "
                    f"continuing with epoch {epoch + 1}"
                )
            self.position = _Position(max(1, epoch + 1), 0, global_step)
        if self.lr_schedule is not None and not isinstance(self.lr_schedule, float) and extra.get("lr_scheduler"):
            self.lr_schedule.set_state_dict(extra["lr_scheduler"])
        if self.scaler is not None and extra.get("scaler"):
            self.scaler.load_state_dict(extra["scaler"])
        rng = extra.get("rng")
        if rng:
            random.setstate(rng["python"])
            np.random.set_state(rng["numpy"])
            paddle.set_rng_state(rng["paddle"])

    def _states(self, epoch: int, step_in_epoch: int) -> dict[str, Any]:
        import paddle

        extra: dict[str, Any] = {
            "version": __version__,
            "step_in_epoch": step_in_epoch,
            "steps_per_epoch": self.steps_per_epoch,
            "world_size": self.place.world_size,
            "param_names": ckpt_io.parameter_names(self.model),
            "rng": {"python": random.getstate(), "numpy": np.random.get_state(), "paddle": paddle.get_rng_state()},
        }
        if self.lr_schedule is not None and not isinstance(self.lr_schedule, float):
            extra["lr_scheduler"] = self.lr_schedule.state_dict()
        if self.scaler is not None:
            extra["scaler"] = self.scaler.state_dict()
        return {
            "best_model_dict": dict(self.best),
            "epoch": epoch,
            "global_step": self.position.global_step,
            "ocrrec": extra,
        }

    def save(self, name: str, epoch: int, step_in_epoch: int) -> Path | None:
        if not self.place.is_main:
            return None
        prefix = self.save_dir / name
        ckpt_io.save_checkpoint(prefix, self.model.state_dict(), self.optimizer.state_dict(), self._states(epoch, step_in_epoch))
        return prefix

    # ------------------------------------------------------------------- loop
    def fit(self) -> TrainSummary:
        self.setup()
        previous = self._install_signal_handlers()
        try:
            return self._loop()
        finally:
            self._restore_signal_handlers(previous)
            if getattr(self, "scalars", None) is not None:
                self.scalars.close()
            self.reporter.close()

    def _install_signal_handlers(self) -> dict:
        previous = {}

        def handler(signum, _frame):
            if self._stop_signal is not None:  # second signal: stop now
                raise KeyboardInterrupt
            self._stop_signal = signum
            # No logging here: the handler runs between two bytecodes of the main thread, which may be
            # inside a write to the same log file ("reentrant call inside BufferedWriter"). A raw
            # write to fd 2 is safe; the log file gets its line from _stop().
            name = signal.Signals(signum).name
            try:
                os.write(2, f"received {name}: finishing this step, then saving `latest`\n".encode())
            except OSError:
                pass

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, handler)
            except ValueError:  # not in the main thread
                pass
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    def _loop(self) -> TrainSummary:
        glob = self.glob
        reporter = self.reporter
        epochs = glob.epoch_num
        start_eval, eval_every = glob.eval_batch_step
        stats = SmoothedStats(glob.log_smooth_window)
        keys = list(self.train_set.keep_keys)
        self.train_model.train()
        run_start = time.perf_counter()
        images_seen = 0
        window = {"reader": 0.0, "batch": 0.0, "samples": 0, "steps": 0}
        step_times: list[float] = []
        nan_streak = 0
        last_metric: dict[str, float] | None = None
        losses: list[float] = []
        start_epoch = self.position.epoch
        main_indicator = getattr(self.metric, "main_indicator", "acc")
        self.best.setdefault(main_indicator, 0.0)
        if start_epoch > epochs:
            reporter.info(f"nothing to do: the checkpoint already finished epoch {start_epoch - 1} of {epochs}")
        reporter.info(
            f"training {epochs} epochs × {self.steps_per_epoch} steps on {self.place.device}"
            + (f" × {self.place.world_size} ranks" if self.place.world_size > 1 else "")
        )
        total_steps = epochs * self.steps_per_epoch
        reporter.start_progress("train", total_steps, completed=self.position.global_step)
        for epoch in range(start_epoch, epochs + 1):
            skip = self.position.step_in_epoch if epoch == start_epoch else 0
            batches = self._epoch_batches(epoch, skip)
            self.position.epoch, self.position.step_in_epoch = epoch, skip
            tick = time.perf_counter()
            for raw in batches:
                reader_cost = time.perf_counter() - tick
                batch = dict(zip(keys, raw, strict=True))
                lr = self.optimizer.get_lr()
                loss_values, preds = self._step(batch)
                self.position.step_in_epoch += 1
                self.position.global_step += 1
                if self.lr_schedule is not None and not isinstance(self.lr_schedule, float):
                    self.lr_schedule.step()
                if loss_values is None:
                    nan_streak += 1
                    reporter.warning(f"step {self.position.global_step}: loss is NaN/inf; skipped this update ({nan_streak} in a row)")
                    if nan_streak >= glob.max_nan_steps:
                        raise UserError(
                            f"the loss was NaN/inf for {nan_streak} steps in a row; stopped without saving the broken weights",
                            f"the last good checkpoint is in {self.save_dir}; lower Optimizer.lr.learning_rate, "
                            "check the labels, or with AMP try Global.amp_dtype=bfloat16",
                        )
                else:
                    nan_streak = 0
                    losses.append(loss_values["loss"])
                    step_stats = dict(loss_values)
                    if glob.cal_metric_during_train:
                        step_stats.update(self._batch_metric(preds, batch))
                    step_stats["lr"] = lr
                    stats.update(step_stats)
                batch_size = int(batch["image"].shape[0])
                batch_cost = time.perf_counter() - tick
                step_times.append(batch_cost)
                images_seen += batch_size
                window["reader"] += reader_cost
                window["batch"] += batch_cost
                window["samples"] += batch_size
                window["steps"] += 1
                last_in_epoch = self.position.step_in_epoch >= self.steps_per_epoch
                if self.position.global_step % glob.print_batch_step == 0 or last_in_epoch:
                    self._log_line(epoch, epochs, stats, window, step_times)
                    window = {"reader": 0.0, "batch": 0.0, "samples": 0, "steps": 0}
                reporter.advance(self.position.global_step, {"epoch": f"{epoch}/{epochs}", **{k: v for k, v in stats.get().items() if k in ("loss", "acc")}})
                if (
                    self.eval_loader is not None
                    and self.position.global_step > start_eval
                    and (self.position.global_step - start_eval) % eval_every == 0
                ):
                    last_metric = self._evaluate_and_keep_best(epoch)
                if self.on_step is not None:
                    self.on_step(self)
                if self._stop_signal is not None:
                    self._stop(epoch)
                tick = time.perf_counter()
            # end of epoch: latest (+ iter_epoch_N)
            self.position.step_in_epoch = self.steps_per_epoch
            self.save("latest", epoch, self.steps_per_epoch)
            if epoch % glob.save_epoch_step == 0:
                self.save(f"iter_epoch_{epoch}", epoch, self.steps_per_epoch)
            self.position.step_in_epoch = 0
        reporter.stop_progress()
        seconds = time.perf_counter() - run_start
        if self.eval_loader is not None and start_epoch <= epochs and self._last_eval_step != self.position.global_step:
            # the final weights are always evaluated, so best_accuracy never misses the end of training
            last_metric = self._evaluate_and_keep_best(epochs)
        ips = images_seen / seconds if seconds > 0 else 0.0
        reporter.info(f"finished: {self.position.global_step} steps in {seconds:.1f} s ({ips:.1f} images/s); best {format_stats({k: v for k, v in self.best.items() if isinstance(v, float)})}")
        return TrainSummary(self.save_dir, epochs - start_epoch + 1, self.position.global_step, dict(self.best), last_metric, seconds, ips, losses)

    def _epoch_batches(self, epoch: int, skip: int):
        """Epoch `epoch`'s batches (its order depends only on seed and epoch), minus the first `skip`."""
        loader = self.train_loader
        loader.set_epoch(epoch)
        if not skip:
            yield from loader
            return
        original = loader.batch_sampler
        loader.batch_sampler = _SkipFirst(original, skip)
        try:
            yield from loader
        finally:
            loader.batch_sampler = original

    def _step(self, batch: dict) -> tuple[dict[str, float] | None, Any]:
        import paddle

        images = batch["image"]
        with amp_context(self.amp):
            preds = self.train_model(images, batch)
        if self.amp:
            preds = _to_float32(preds)
        losses = self.loss_fn(preds, batch)
        loss = losses["loss"]
        value = float(loss)
        if not math.isfinite(value):
            self.optimizer.clear_grad()
            return None, preds
        if self.scaler is not None:
            scaled = self.scaler.scale(loss)
            scaled.backward()
            self.scaler.minimize(self.optimizer, scaled)
        else:
            loss.backward()
            self.optimizer.step()
        self.optimizer.clear_grad()
        out = {"loss": value}
        for key, tensor in losses.items():
            if key != "loss" and isinstance(tensor, paddle.Tensor):
                out[key] = float(tensor.mean())
        return out, preds

    def _batch_metric(self, preds: Any, batch: dict) -> dict[str, float]:
        labels, lengths = label_arrays(batch)
        truth = self.post_process.decode_labels(to_numpy(labels), None if lengths is None else to_numpy(lengths))
        self.metric.reset()
        decode_and_update(preds, to_numpy(ctc_view(preds)), self.post_process, self.metric, truth)
        metric = self.metric.get_metric()
        return {k: float(metric[k]) for k in ("acc", "norm_edit_dis") if k in metric}

    def _log_line(self, epoch: int, epochs: int, stats: SmoothedStats, window: dict, step_times: list[float]) -> None:
        steps = max(1, window["steps"])
        recent = step_times[-200:]
        avg_step = sum(recent) / len(recent)
        remaining = (epochs - epoch + 1) * self.steps_per_epoch - self.position.step_in_epoch
        eta = str(datetime.timedelta(seconds=int(max(0, remaining) * avg_step)))
        values = stats.get()
        ordered = {"lr": values.pop("lr", 0.0)}
        ordered.update(values)
        ips = window["samples"] / window["batch"] if window["batch"] > 0 else 0.0
        if self.scalars is not None:
            self.scalars.add("TRAIN", {**ordered, "ips": ips}, self.position.global_step)
        self.reporter.info(
            f"epoch: [{epoch}/{epochs}], iter: {self.position.global_step}, {format_stats(ordered)}, "
            f"reader_cost: {window['reader'] / steps:.5f} s, batch_cost: {window['batch'] / steps:.5f} s, "
            f"samples: {window['samples']}, ips: {ips:.5f} samples/s, eta: {eta}"
        )

    def _evaluate_and_keep_best(self, epoch: int) -> dict[str, float]:
        self._last_eval_step = self.position.global_step
        if self.place.world_size > 1:
            share_rank0_buffers(self.model)
        keys = list(self.eval_set.keep_keys)
        compiled = None
        if not self.amp:
            compiled = compile_for_eval(
                self.model, self.config.image_shape, self.place, first_images(self.eval_loader), self.reporter
            )
        result = evaluate(
            self.model, self.eval_loader, self.post_process, self.metric,
            keys=keys, amp=self.amp, world_size=self.place.world_size, compiled=compiled,
        )
        metric = dict(result.metrics)
        metric["fps"] = result.images_per_second
        main = getattr(self.metric, "main_indicator", "acc")
        if self.scalars is not None:
            self.scalars.add("EVAL", metric, self.position.global_step)
        self.reporter.info("cur metric, " + ", ".join(f"{k}: {v}" for k, v in metric.items()))
        if metric.get(main, 0.0) >= self.best.get(main, 0.0):
            self.best.update(metric)
            self.best["best_epoch"] = epoch
            self.save("best_accuracy", epoch, self.position.step_in_epoch)
            self.reporter.info(f"save best model to {self.save_dir / 'best_accuracy'}")
        self.reporter.info("best metric, " + ", ".join(f"{k}: {v}" for k, v in self.best.items()))
        self.train_model.train()
        return metric

    def _stop(self, epoch: int) -> None:
        signum = self._stop_signal or signal.SIGINT
        self.reporter.warning(f"received {signal.Signals(signum).name}: saving `latest`")
        prefix = self.save("latest", epoch, self.position.step_in_epoch)
        hint = self.resume_command or f"ocrrec resume {self.save_dir}"
        if prefix is not None:
            self.reporter.warning(f"saved {prefix} at epoch {epoch}, step {self.position.step_in_epoch}; resume with: {hint}")
        self.reporter.stop_progress()
        raise TrainingStopped(signum, hint)


class _SkipFirst:
    """A batch sampler that leaves out the first `skip` batches (resuming mid-epoch) without loading them."""

    def __init__(self, sampler: Any, skip: int) -> None:
        self.sampler = sampler
        self.skip = skip

    def __iter__(self):
        batches = iter(self.sampler)
        for _ in range(self.skip):
            next(batches, None)
        yield from batches

    def __len__(self) -> int:
        return max(0, len(self.sampler) - self.skip)


def _to_float32(preds: Any) -> Any:
    import paddle

    if isinstance(preds, dict):
        return {k: _to_float32(v) for k, v in preds.items()}
    if isinstance(preds, (list, tuple)):
        return type(preds)(_to_float32(v) for v in preds)
    if isinstance(preds, paddle.Tensor) and preds.dtype != paddle.float32:
        return preds.astype("float32")
    return preds


def share_rank0_buffers(model: Any) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DataParallel keeps gradients in sync but each rank's BatchNorm statistics come from its
    own batches. Evaluation is split over the ranks, so without this the metric would mix
    models that differ from the weights rank 0 saves as best_accuracy.
    """
    import paddle

    # paddle registers BatchNorm's _mean/_variance as non-trainable parameters, not buffers
    for tensor in [p for p in model.parameters() if p.stop_gradient] + list(model.buffers()):
        paddle.distributed.broadcast(tensor, src=0)


def seed_everything(seed: int) -> None:
    import paddle

    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def train(config: Config, *, device: str | None = None, reporter: Reporter | None = None, resume_command: str | None = None) -> TrainSummary:
    """Train from a loaded config; returns a summary (raises TrainingStopped on SIGINT/SIGTERM)."""
    return Trainer(config, device=device, reporter=reporter, resume_command=resume_command).fit()
