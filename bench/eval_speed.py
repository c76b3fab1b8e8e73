"""Evaluation speed: `ocrrec eval` vs PaddleOCR's `tools/eval.py`, same weights, same held-out words.

For each model (CRNN rec_mv3_none_bilstm_ctc, en_PP-OCRv3_rec) ocrrec trains one step on 64 words
to get a checkpoint (ocrrec checkpoints load in PaddleOCR as they are), then both tools evaluate it
on the same N synthesized images (label-file SimpleDataSet, the config's Eval batch size and
workers). Figures: each tool's own images/s (PaddleOCR's `fps`: forward pass + copy to numpy,
summed over batches; ocrrec measures the same span), the whole command's wall time (start-up,
model build, data loading included), acc and norm_edit_dis (equal weights must give equal
numbers), and peak memory of the process tree. ocrrec also runs with `--nproc 2`.

    python bench/eval_speed.py [--paddleocr /work/ref --paddleocr-python /work/refvenv/bin/python]
        [--models crnn v3] [--images 500] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from _common import (
    REPO,
    RunResult,
    add_common_args,
    baseline_env,
    baseline_python,
    check_paddleocr,
    data_overrides,
    dump_json,
    fmt,
    fmt_ratio,
    last_json_line,
    machine_line,
    median,
    ocrrec_command,
    ocrrec_env,
    print_table,
    ratio,
    require_ok,
    run_measured,
    synth_dataset,
    take_lines,
)

MODELS = {
    "crnn": ("configs/rec/rec_mv3_none_bilstm_ctc.yml", "rec_mv3_none_bilstm_ctc (3x32x100)"),
    "v3": ("configs/rec/PP-OCRv3/en_PP-OCRv3_rec.yml", "en_PP-OCRv3_rec (3x48x320)"),
}
_PADDLE_METRIC = re.compile(r"INFO: (?P<key>[A-Za-z_]+):(?P<value>[-0-9.eE+]+)\s*$")


def make_checkpoint(model: str, data: Path, work: Path, timeout: int) -> Path:
    """One ocrrec training step on 64 words: a checkpoint both tools can load (`.../latest`)."""
    config = MODELS[model][0]
    run_dir = work / "weights"
    shutil.rmtree(run_dir, ignore_errors=True)
    train_list = take_lines(data / "train.txt", work / "weights_train.txt", 64)
    command = ocrrec_command(
        "train", "-c", str(REPO / config), "-o", "Global.use_gpu=False", "Global.epoch_num=1",
        f"Global.save_model_dir={run_dir}", "Global.eval_batch_step=[0,1000000]", "Train.loader.batch_size_per_card=64",
        *data_overrides(data, train_list, train_list),
    )
    require_ok(run_measured(command, cwd=REPO, env=ocrrec_env(), timeout=timeout, log_path=work / "weights.log"),
               f"ocrrec train (weights for {model})")
    return run_dir / "latest"


def eval_overrides(data: Path, val_list: Path, batch: int | None) -> list[str]:
    pairs = ["Global.use_gpu=False", *[p for p in data_overrides(data, val_list, val_list) if p.startswith("Eval.")]]
    if batch:
        pairs.append(f"Eval.loader.batch_size_per_card={batch}")
    return pairs


def run_ocrrec_eval(config: str, checkpoint: Path, overrides: list[str], log: Path, timeout: int, nproc: int) -> tuple[RunResult, dict]:
    extra = ["--nproc", str(nproc), "--log-dir", str(log.parent / (log.stem + "_ranks"))] if nproc > 1 else []
    command = ocrrec_command("eval", "-c", str(REPO / config), *extra, "--json", "-o", f"Global.checkpoints={checkpoint}", *overrides)
    result = require_ok(run_measured(command, cwd=REPO, env=ocrrec_env(), timeout=timeout, log_path=log), "ocrrec eval")
    payload = last_json_line(result.output)
    return result, {"images_per_second": payload.get("images_per_second"), "acc": payload.get("acc"),
                    "norm_edit_dis": payload.get("norm_edit_dis"), "samples": payload.get("samples")}


def run_paddleocr_eval(paddleocr: Path, python: str, config: str, checkpoint: Path, overrides: list[str], log: Path,
                       timeout: int) -> tuple[RunResult, dict]:
    command = [python, str(paddleocr / "tools" / "eval.py"), "-c", str(paddleocr / config), "-o",
               f"Global.pretrained_model={checkpoint}", *overrides]
    result = require_ok(run_measured(command, cwd=paddleocr, env=baseline_env(paddleocr), timeout=timeout, log_path=log),
                        "PaddleOCR tools/eval.py")
    metrics: dict = {}
    after = result.output.split("metric eval", 1)[-1]
    for line in after.splitlines():
        match = _PADDLE_METRIC.search(line)
        if match:
            metrics[match["key"]] = float(match["value"])
    return result, {"images_per_second": metrics.get("fps"), "acc": metrics.get("acc"),
                    "norm_edit_dis": metrics.get("norm_edit_dis"), "samples": None}


def model_section(model: str, args: argparse.Namespace, paddleocr: Path | None, data: Path) -> dict:
    config, title = MODELS[model]
    work = args.workdir / model
    work.mkdir(parents=True, exist_ok=True)
    print(f"  {model}: one ocrrec training step for the weights ...", flush=True)
    checkpoint = make_checkpoint(model, data, work, args.timeout)
    val_list = take_lines(data / "val.txt", work / "val.txt", args.images)
    overrides = eval_overrides(data, val_list, args.batch)
    tools = (["paddleocr"] if paddleocr else []) + ["ocrrec"] + ([] if args.no_nproc else ["ocrrec-nproc2"])
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    for attempt in range(args.repeat):
        for tool in (tools if attempt % 2 == 0 else tools[::-1]):  # alternate: a slow spell hits every tool
            log = work / f"{tool}_{attempt}.log"
            print(f"  {model}: {tool} eval on {args.images} images (run {attempt + 1}/{args.repeat}) ...", flush=True)
            if tool == "paddleocr":
                result, figures = run_paddleocr_eval(paddleocr, baseline_python(args), config, checkpoint, overrides, log,  # type: ignore[arg-type]
                                                     args.timeout)
            else:
                result, figures = run_ocrrec_eval(config, checkpoint, overrides, log, args.timeout, 2 if tool == "ocrrec-nproc2" else 1)
            figures.update(wall_seconds=result.seconds, peak_tree_pss_mb=result.peak_tree_pss_mb,
                           peak_tree_rss_mb=result.peak_tree_rss_mb, log=str(log))
            runs[tool].append(figures)
    summary = {}
    for tool, items in runs.items():
        summary[tool] = {
            "images_per_second": median([r["images_per_second"] for r in items if r["images_per_second"]]),
            "wall_seconds": median([r["wall_seconds"] for r in items]),
            "acc": items[-1]["acc"], "norm_edit_dis": items[-1]["norm_edit_dis"],
            "peak_tree_pss_mb": max(r["peak_tree_pss_mb"] for r in items),
            "runs": items,
        }
    return {"model": model, "title": title, "config": config, "images": args.images, "checkpoint": str(checkpoint),
            "summary": summary}


def print_section(section: dict) -> None:
    summary = section["summary"]
    base = summary.get("paddleocr")
    header = ["tool", "img/s (tool's own)", "wall s", "wall img/s", "acc", "norm_edit_dis", "peak PSS MB"]
    if base:
        header += ["img/s ratio", "wall ratio"]
    rows = []
    for tool, s in summary.items():
        label = "ocrrec --nproc 2" if tool == "ocrrec-nproc2" else tool
        row = [label, fmt(s["images_per_second"], 1), fmt(s["wall_seconds"], 1), fmt(section["images"] / s["wall_seconds"], 1),
               fmt(s["acc"], 4), fmt(s["norm_edit_dis"], 4), fmt(s["peak_tree_pss_mb"], 0)]
        if base:
            row += [fmt_ratio(ratio(s["images_per_second"], base["images_per_second"])),
                    fmt_ratio(ratio(s["wall_seconds"], base["wall_seconds"], higher_is_better=False))]
        rows.append(row)
    print_table(f"eval {section['title']}, {section['images']} images, same weights (ratios: >1x = ocrrec faster)", header, rows)
    if base and base["acc"] is not None and summary["ocrrec"]["acc"] is not None:
        same = abs(base["acc"] - summary["ocrrec"]["acc"]) < 1e-9 and abs(base["norm_edit_dis"] - summary["ocrrec"]["norm_edit_dis"]) < 1e-4
        print(f"same metrics from both tools: {'yes' if same else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    add_common_args(parser, "eval_speed")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["crnn", "v3"])
    parser.add_argument("--images", type=int, default=500, help="evaluation images (default 500)")
    parser.add_argument("--batch", type=int, default=None, help="override Eval.loader.batch_size_per_card for both tools")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool, alternating the order (the median is reported)")
    parser.add_argument("--no-nproc", action="store_true", help="skip the ocrrec --nproc 2 run")
    args = parser.parse_args()
    paddleocr = check_paddleocr(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_line()}")
    data = args.workdir / "data"
    synth_dataset(data, max(1000, 2 * args.images), val_fraction=0.5)
    payload: dict = {"machine": machine_line(), "paddleocr": str(paddleocr) if paddleocr else None, "models": []}
    for model in args.models:
        section = model_section(model, args, paddleocr, data)
        payload["models"].append(section)
        print_section(section)
    dump_json(args.workdir / "results.json", payload)
    print(f"\nresults: {args.workdir / 'results.json'}; logs under {args.workdir}")
    if args.json:
        print(json.dumps(payload, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
