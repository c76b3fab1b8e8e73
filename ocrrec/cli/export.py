"""`ocrrec export`: a self-describing inference model, checked against the checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ocrrec.cli._common import (
    ConfigOpt,
    ForceOpt,
    JsonOpt,
    OverrideOpt,
    err,
    load_config_for_cli,
    out,
    print_json,
)
from ocrrec.errors import UsageError, UserError


def export(
    output_dir: Annotated[
        Path | None, typer.Argument(help="A run's save_model_dir: uses its config.yml and best_accuracy.", show_default=False)
    ] = None,
    config: ConfigOpt = None,
    override: OverrideOpt = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write the model (default: Global.save_inference_dir or ./inference).", show_default=False)] = None,
    checkpoint: Annotated[str, typer.Option("--from", help="Checkpoint name inside OUTPUT_DIR.")] = "best_accuracy",
    pir: Annotated[bool, typer.Option("--pir/--legacy", help="PIR format (inference.json, Paddle 3 default) or the legacy program (inference.pdmodel).")] = True,
    onnx: Annotated[bool, typer.Option("--onnx", help="Also write inference.onnx with paddle2onnx and check it with onnxruntime.")] = False,
    model_name: Annotated[str | None, typer.Option("--model-name", help="Distillation models: which sub-model to export (default Student).", show_default=False)] = None,
    parity_images: Annotated[int, typer.Option("--parity-images", help="Images used by the parity check.")] = 8,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Export an inference model (+ inference.yml) and verify it predicts what the checkpoint predicts."""
    from ocrrec.export import export_model

    if (output_dir is None) == (config is None):
        raise UsageError("give either OUTPUT_DIR or -c CONFIG", "e.g. ocrrec export output/rec --out inference")
    overrides = list(override or [])
    if output_dir is not None:
        config = output_dir / "config.yml"
        if not config.is_file():
            raise UserError(f"{config} not found", "give a run's save_model_dir, or use -c CONFIG")
        overrides = [f"Global.checkpoints={output_dir / checkpoint}", *overrides]
    cfg = load_config_for_cli(config, overrides)
    target = out_dir or cfg.glob.save_inference_dir or Path("inference")
    err.print(f"exporting to {target} ({'PIR' if pir else 'legacy'} format)…", highlight=False)
    report = export_model(cfg, target, fmt="pir" if pir else "legacy", model_name=model_name,
                          parity_count=parity_images, onnx=onnx, force=force)
    failed = [p for p in (report.parity, report.onnx_parity, report.openvino_parity) if p is not None and not p.passed]
    payload = {
        "out_dir": str(report.out_dir),
        "format": report.fmt,
        "files": [p.name for p in report.files],
        "input_shape": report.input_shape,
        "num_classes": report.num_classes,
        "weights": report.weights,
        "parity": None if report.parity is None else {"passed": report.parity.passed, "max_abs_diff": report.parity.max_abs_diff,
                                                      "images": report.parity.images, "mismatched": len(report.parity.mismatched_texts)},
    }
    for key, parity in (("onnx_parity", report.onnx_parity), ("openvino_parity", report.openvino_parity)):
        if parity is not None:
            payload[key] = {"passed": parity.passed, "max_abs_diff": parity.max_abs_diff}
    if report.openvino_note:
        payload["openvino_note"] = report.openvino_note
    if as_json:
        print_json(payload)
    else:
        table = Table(title=f"exported {report.weights}", show_header=False)
        table.add_row("directory", str(report.out_dir))
        table.add_row("files", ", ".join(p.name for p in report.files))
        table.add_row("input", f"[N, {report.input_shape[1]}, {report.input_shape[2]}, W]")
        table.add_row("classes", str(report.num_classes))
        out.print(table)
        for parity, label in ((report.parity, "paddle.inference"), (report.onnx_parity, "onnxruntime"),
                              (report.openvino_parity, "openvino")):
            if parity is not None:
                style = "green" if parity.passed else "bold red"
                err.print(f"[{style}]{label} {parity.verdict()}[/]", highlight=False)
        if report.openvino_note:
            err.print(f"[yellow]note:[/] {report.openvino_note}", highlight=False)
    if failed:
        raise typer.Exit(1)
