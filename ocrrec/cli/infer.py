"""`ocrrec infer`: text and score for images, from an exported model or a checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ocrrec.cli._common import (
    ConfigOpt,
    DeviceOpt,
    JsonOpt,
    OverrideOpt,
    err,
    load_config_for_cli,
    out,
    print_json,
)
from ocrrec.errors import UsageError


def _parse_shape(text: str | None) -> tuple[int, int, int] | None:
    if not text:
        return None
    try:
        parts = tuple(int(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise UsageError(f"--image-shape {text!r} is not C,H,W", "e.g. --image-shape 3,48,320")
    return parts  # type: ignore[return-value]


def infer(
    inputs: Annotated[list[str], typer.Argument(help="Images, directories or glob patterns.", show_default=False)],
    model: Annotated[Path | None, typer.Option("--model", "-m", help="An exported model directory.", show_default=False)] = None,
    config: ConfigOpt = None,
    override: OverrideOpt = None,
    dict_spec: Annotated[str | None, typer.Option("--dict", help="Dictionary file or built-in name (overrides the model's).", show_default=False)] = None,
    image_shape: Annotated[str | None, typer.Option("--image-shape", help="C,H,W for PaddleOCR exports without inference.yml.", show_default=False)] = None,
    space: Annotated[bool | None, typer.Option("--space/--no-space", help="Whether the dictionary has the space class (PaddleOCR exports default: --space).", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Images per batch.")] = 6,
    device: DeviceOpt = None,
    backend: Annotated[str, typer.Option("--backend", help="auto (CPU: OpenVINO when installed and the export has inference.pdmodel or .onnx, else Paddle Inference with oneDNN), paddle, mkldnn, openvino, tensorrt (GPU) or onnx.")] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU math threads (default: all cores).", show_default=False)] = None,
    workers: Annotated[int, typer.Option("--workers", help="Batches run at once on the CPU, each on threads/workers cores: OpenVINO streams, or Paddle Inference processes (pays off for thousands of images).")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Recognize text in images: `ocrrec infer image.png --model inference/`."""
    from ocrrec.predict import check_backend, expand_inputs, load_recognizer

    check_backend(backend)

    if model is not None and config is not None:
        raise UsageError("give either --model DIR or -c CONFIG, not both")
    cfg = None
    if config is not None:
        cfg = load_config_for_cli(config, override)
        if not (cfg.glob.checkpoints or cfg.glob.pretrained_model):
            # no weights named: the config's exported model (Global.save_inference_dir)
            model, cfg = cfg.glob.save_inference_dir, None
            if model is None or not model.is_dir():
                raise UsageError(
                    f"{config}: no Global.checkpoints and no exported model at Global.save_inference_dir ({model})",
                    "add -o Global.checkpoints=output/rec/best_accuracy, or export first with `ocrrec export`",
                )
    elif model is None:
        model = Path("inference")
        if not model.is_dir():
            raise UsageError("no model: pass --model DIR (an exported model) or -c CONFIG -o Global.checkpoints=PATH",
                             "export one with `ocrrec export RUN_DIR --out inference` (./inference is the default)")
    paths = expand_inputs(inputs)
    if workers < 1:
        raise UsageError(f"--workers {workers} must be at least 1")
    recognizer = load_recognizer(
        model, config=cfg, dict_override=dict_spec, image_shape=_parse_shape(image_shape), use_space_char=space,
        device=(device or "cpu"), batch_size=batch_size, backend=backend, threads=threads, workers=workers,
    )
    err.print(f"model: {recognizer.description}", highlight=False)
    from ocrrec.cli._progress import new_progress

    try:
        if err.is_terminal and len(paths) > 1:
            with new_progress(err) as progress:
                task = progress.add_task("infer", total=len(paths))
                predictions = recognizer.recognize_paths(paths, on_batch=lambda n: progress.advance(task, n))
        else:
            predictions = recognizer.recognize_paths(paths)
    finally:
        recognizer.close()
    failed = [p for p in predictions if p.error]
    if as_json:
        for p in predictions:
            row = {"path": p.path, "text": p.text, "score": round(p.score, 6)}
            if p.error:
                row = {"path": p.path, "error": p.error}
            print_json(row)
    else:
        table = Table()
        table.add_column("path")
        table.add_column("text")
        table.add_column("score", justify="right")
        for p in predictions:
            if p.error:
                table.add_row(p.path, f"[red]error: {p.error}[/]", "")
            else:
                table.add_row(p.path, p.text, f"{p.score:.4f}")
        out.print(table)
    for p in failed:
        err.print(f"[red]error:[/] {p.path}: {p.error}", highlight=False)
    if failed:
        raise typer.Exit(1)
