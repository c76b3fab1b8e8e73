"""`ocrrec eval`: accuracy and normalised edit distance of a checkpoint on the Eval set."""

from __future__ import annotations

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
    load_config_for_cli,
    out,
    print_json,
    run_or_launch,
)
from ocrrec.errors import UsageError, UserError


def evaluate(
    output_dir: Annotated[
        Path | None,
        typer.Argument(help="A run's save_model_dir: uses its config.yml and best_accuracy.", show_default=False),
    ] = None,
    config: ConfigOpt = None,
    override: OverrideOpt = None,
    checkpoint: Annotated[str, typer.Option("--from", help="Checkpoint name inside OUTPUT_DIR.")] = "best_accuracy",
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write every misprediction to this TSV (path, truth, prediction, score).", show_default=False)
    ] = None,
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
    """Evaluate weights on the Eval set: accuracy, normalised edit distance, images/s."""
    from ocrrec.launcher import LaunchOptions

    if (output_dir is None) == (config is None):
        raise UsageError("give either OUTPUT_DIR or -c CONFIG", "e.g. ocrrec eval output/rec  or  ocrrec eval -c cfg.yml -o Global.checkpoints=PATH")
    options = LaunchOptions(gpus=gpus, ips=ips, nnodes=nnodes, master=master, rank=rank, nproc=nproc, log_dir=log_dir)
    code = run_or_launch(options)
    if code is not None:
        raise typer.Exit(code)
    overrides = list(override or [])
    if output_dir is not None:
        config = output_dir / "config.yml"
        if not config.is_file():
            raise UserError(f"{config} not found", "give a run's save_model_dir, or use -c CONFIG")
        overrides = [f"Global.checkpoints={output_dir / checkpoint}", *overrides]
    cfg = load_config_for_cli(config, overrides)

    from ocrrec.cli._progress import make_reporter
    from ocrrec.engine.device import dist_env
    from ocrrec.engine.evaluator import run_evaluation

    report = run_evaluation(cfg, device=device or options.device, errors_path=errors, reporter=make_reporter(err))
    if dist_env()[0] != 0:
        return
    payload = {"weights": report.weights, "samples": report.samples, "images_per_second": round(report.images_per_second, 2), **report.metrics}
    if report.errors_written is not None:
        payload["errors_file"] = str(errors)
        payload["errors"] = report.errors_written
    if as_json:
        print_json(payload)
        return
    table = Table(title=f"eval: {report.weights}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in report.metrics.items():
        table.add_row(key, f"{value:.4f}")
    table.add_row("samples", str(report.samples))
    table.add_row("images/s", f"{report.images_per_second:.1f}")
    if report.errors_written is not None:
        table.add_row("mispredictions", f"{report.errors_written} → {errors}")
    out.print(table)
