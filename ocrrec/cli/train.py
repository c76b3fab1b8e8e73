"""`ocrrec train` and `ocrrec resume`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ocrrec.cli._common import (
    ConfigOpt,
    DeviceOpt,
    GpusOpt,
    IpsOpt,
    JsonOpt,
    LogDirOpt,
    MasterOpt,
    NnodesOpt,
    NprocOpt,
    OverrideOpt,
    RankOpt,
    err,
    info,
    load_config_for_cli,
    out,
    print_json,
    run_or_launch,
)
from ocrrec.errors import UsageError, UserError

RUN_FILE = "run.json"


def _launch_options(gpus, ips, nnodes, master, rank, nproc, log_dir):
    from ocrrec.launcher import LaunchOptions

    return LaunchOptions(gpus=gpus, ips=ips, nnodes=nnodes, master=master, rank=rank, nproc=nproc, log_dir=log_dir)


def _run_training(config, device: str | None, options, as_json: bool, resume_command: str) -> None:
    from ocrrec.cli._progress import make_reporter
    from ocrrec.engine.trainer import TrainingStopped, train

    device = device or options.device
    save_dir = config.glob.save_model_dir
    _remember_launch(save_dir, options)
    try:
        summary = train(config, device=device, reporter=make_reporter(err), resume_command=resume_command)
    except TrainingStopped as stop:
        err.print(f"[yellow]stopped.[/] resume with: [bold]{stop.resume_hint}[/]", highlight=False)
        raise typer.Exit(stop.exit_code) from None
    from ocrrec.engine.device import dist_env

    if dist_env()[0] != 0:
        return
    payload = {
        "save_model_dir": str(summary.save_model_dir),
        "epochs": summary.epochs_run,
        "global_step": summary.global_step,
        "seconds": round(summary.seconds, 2),
        "images_per_second": round(summary.images_per_second, 2),
        "best": {k: v for k, v in summary.best_metric.items()},
        "last_eval": summary.last_metric,
    }
    if as_json:
        print_json(payload)
        return
    table = Table(title="training finished", show_header=False)
    table.add_row("output", str(summary.save_model_dir))
    table.add_row("steps", str(summary.global_step))
    table.add_row("time", f"{summary.seconds:.1f} s ({summary.images_per_second:.1f} images/s)")
    best = summary.best_metric
    for key in ("acc", "norm_edit_dis"):
        if key in best:
            table.add_row(f"best {key}", f"{best[key]:.4f}")
    if "best_epoch" in best:
        table.add_row("best epoch", str(best["best_epoch"]))
    if (summary.save_model_dir / "best_accuracy.pdparams").is_file():
        table.add_row("best model", str(summary.save_model_dir / "best_accuracy"))
    out.print(table)


def _remember_launch(save_dir: Path, options) -> None:
    """Record how the run was launched so `ocrrec resume` can start the same ranks."""
    from ocrrec.engine.device import dist_env

    if dist_env()[0] != 0:
        return
    save_dir.mkdir(parents=True, exist_ok=True)
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items() if v is not None}
    (save_dir / RUN_FILE).write_text(json.dumps({"launch": record}, indent=2) + "\n", encoding="utf-8")


def train(
    config: ConfigOpt = None,
    override: OverrideOpt = None,
    device: DeviceOpt = None,
    gpus: GpusOpt = None,
    ips: IpsOpt = None,
    nnodes: NnodesOpt = None,
    master: MasterOpt = None,
    rank: RankOpt = None,
    nproc: NprocOpt = None,
    log_dir: LogDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a recognizer from a PaddleOCR-style config (-c) with -o overrides."""
    if config is None:
        raise UsageError("train needs a config: -c CONFIG", "e.g. ocrrec train -c configs/rec/rec_mv3_none_bilstm_ctc.yml")
    options = _launch_options(gpus, ips, nnodes, master, rank, nproc, log_dir)
    code = run_or_launch(options)
    if code is not None:
        raise typer.Exit(code)
    cfg = load_config_for_cli(config, override)
    _run_training(cfg, device, options, as_json, f"ocrrec resume {cfg.glob.save_model_dir}")


def resume(
    output_dir: Annotated[Path, typer.Argument(help="The run's save_model_dir (holds config.yml and latest.*).", show_default=False)],
    override: OverrideOpt = None,
    checkpoint: Annotated[str, typer.Option("--from", help="Checkpoint name inside OUTPUT_DIR.")] = "latest",
    device: DeviceOpt = None,
    gpus: GpusOpt = None,
    ips: IpsOpt = None,
    nnodes: NnodesOpt = None,
    master: MasterOpt = None,
    rank: RankOpt = None,
    nproc: NprocOpt = None,
    log_dir: LogDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Continue an interrupted run exactly where `latest` left it (same step, LR, best metric)."""
    from ocrrec.engine import checkpoint as ckpt_io

    config_path = output_dir / "config.yml"
    if not config_path.is_file():
        raise UserError(f"{config_path} not found", "give the save_model_dir of a run started with `ocrrec train`")
    prefix = output_dir / checkpoint
    if not ckpt_io.exists(prefix) and not prefix.with_name(prefix.name + ".pdparams.prev").is_file():
        raise UserError(f"{prefix}.pdparams not found: nothing to resume", "a run writes `latest` at the end of each epoch and when stopped")
    options = _launch_options(gpus, ips, nnodes, master, rank, nproc, log_dir)
    if options.world_size == 1 and not (gpus or nproc or nnodes or ips):
        options = _recorded_launch(output_dir) or options
    code = run_or_launch(options)
    if code is not None:
        raise typer.Exit(code)
    overrides = [*(override or []), f"Global.checkpoints={prefix}", f"Global.save_model_dir={output_dir}"]
    cfg = load_config_for_cli(config_path, overrides)
    _run_training(cfg, device, options, as_json, f"ocrrec resume {output_dir}")


def _recorded_launch(output_dir: Path):
    from ocrrec.launcher import LaunchOptions

    path = output_dir / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8")).get("launch") or {}
    except (OSError, ValueError):
        return None
    if not record:
        return None
    if "log_dir" in record:
        record["log_dir"] = Path(record["log_dir"])
    options = LaunchOptions(**record)
    if options.world_size > 1:
        info(f"resuming with the run's launch settings from {path}: {record}")
    return options
