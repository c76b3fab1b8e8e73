"""Training speed, loader share and peak memory: `ocrrec train` vs PaddleOCR's `tools/train.py`.

Both tools train the same config (ocrrec's copy from configs/rec/, PaddleOCR's own file from
DIR/configs for the baseline) on the same synthesized words, read as a label-file SimpleDataSet,
at the same batch size on the CPU, with the same `-o` overrides. Each run is one epoch of exactly
`warm-up + timed` steps logged every step; the figures are taken from the timed steps of each
tool's own log (PaddleOCR's `avg_reader_cost`/`avg_batch_cost`, ocrrec's `reader_cost`/`batch_cost`):

- images/s = images of the timed steps / their summed batch_cost (steady state);
- loader share = summed reader_cost / summed batch_cost (time the step waited for data);
- peak memory of the whole process tree (data-loader workers, distributed ranks), PSS and RSS.

ocrrec runs twice: one process, and `--nproc 2` (two CPU ranks, gloo; the global batch stays
the same, so each rank takes half of it). The accuracy check trains CRNN for the same epochs on
the same words with both tools and prints each tool's own end-of-run evaluation on held-out words.

    python bench/train_speed.py [--paddleocr /work/ref --paddleocr-python /work/refvenv/bin/python]
        [--models crnn v3] [--batch 64] [--steps N] [--accuracy-epochs 2] [--skip-accuracy]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict, dataclass
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
    machine_line,
    median,
    ocrrec_command,
    ocrrec_env,
    parse_metric_line,
    parse_train_steps,
    print_table,
    ratio,
    require_ok,
    run_measured,
    steady_state,
    synth_dataset,
    take_lines,
)

MODELS = {
    # name: (config path relative to either repository, warm-up steps, timed steps)
    "crnn": ("configs/rec/rec_mv3_none_bilstm_ctc.yml", 2, 6),
    "v3": ("configs/rec/PP-OCRv3/en_PP-OCRv3_rec.yml", 1, 2),
}
TITLES = {"crnn": "rec_mv3_none_bilstm_ctc (3x32x100)", "v3": "en_PP-OCRv3_rec (3x48x320)"}


@dataclass
class TrainFigures:
    tool: str
    images_per_second: float
    median_step_images_per_second: float
    seconds_per_step: float
    loader_share: float
    steps_timed: int
    images_per_step: float
    step_seconds: list
    wall_seconds: float
    peak_tree_pss_mb: float
    peak_tree_rss_mb: float
    max_process_rss_mb: float
    processes: int
    log: str


def common_overrides(run_dir: Path, data_dir: Path, train_list: Path, val_list: Path, per_rank_batch: int,
                     epochs: int, print_every: int, eval_at: int) -> list[str]:
    return [
        "Global.use_gpu=False",
        f"Global.epoch_num={epochs}",
        f"Global.print_batch_step={print_every}",
        f"Global.save_model_dir={run_dir}",
        f"Global.eval_batch_step=[0,{eval_at}]",
        f"Train.loader.batch_size_per_card={per_rank_batch}",
        *data_overrides(data_dir, train_list, val_list),
    ]


def run_ocrrec(config: str, overrides: list[str], log: Path, timeout: int, nproc: int = 1) -> RunResult:
    extra = ["--nproc", str(nproc), "--log-dir", str(log.parent / (log.stem + "_ranks"))] if nproc > 1 else []
    command = ocrrec_command("train", "-c", str(REPO / config), *extra, "-o", *overrides)
    return run_measured(command, cwd=REPO, env=ocrrec_env(), timeout=timeout, log_path=log)


def run_paddleocr(paddleocr: Path, python: str, config: str, overrides: list[str], log: Path, timeout: int) -> RunResult:
    command = [python, str(paddleocr / "tools" / "train.py"), "-c", str(paddleocr / config), "-o", *overrides]
    return run_measured(command, cwd=paddleocr, env=baseline_env(paddleocr), timeout=timeout, log_path=log)


def train_log_text(result: RunResult, run_dir: Path) -> str:
    """Both tools write save_model_dir/train.log (rank 0 only); fall back to the captured output."""
    path = run_dir / "train.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else result.output


def figures(tool: str, result: RunResult, run_dir: Path, warmup: int, world_size: int) -> TrainFigures:
    require_ok(result, f"{tool} training")
    steps = parse_train_steps(train_log_text(result, run_dir))
    steady = steady_state(steps, warmup, world_size)
    return TrainFigures(
        tool, steady.images_per_second, steady.images_per_step / median(steady.step_seconds), steady.seconds_per_step, steady.loader_share, steady.steps_timed,
        steady.images_per_step, steady.step_seconds, result.seconds, result.peak_tree_pss_mb,
        result.peak_tree_rss_mb, result.max_process_rss_mb, result.peak_processes, str(result.log_path),
    )


def speed_section(model: str, args: argparse.Namespace, paddleocr: Path | None, data: Path) -> dict:
    config, warmup, timed = MODELS[model]
    warmup = args.warmup if args.warmup is not None else warmup
    timed = args.steps if args.steps is not None else timed
    total = warmup + timed
    work = args.workdir / f"speed_{model}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    train_list = take_lines(data / "train.txt", work / "train.txt", total * args.batch)
    val_list = take_lines(data / "val.txt", work / "val.txt", 64)
    order = ["paddleocr", "ocrrec", "ocrrec-nproc2"] if paddleocr else ["ocrrec", "ocrrec-nproc2"]
    if args.no_nproc:
        order.remove("ocrrec-nproc2")
    runs: dict[str, list[TrainFigures]] = {tool: [] for tool in order}
    for attempt in range(args.repeat):
        # alternate the order between repeats so a slow spell of the machine does not hit one tool only
        for tool in (order if attempt % 2 == 0 else order[::-1]):
            run_dir = work / f"run_{tool}_{attempt}"
            nproc = 2 if tool == "ocrrec-nproc2" else 1
            per_rank = args.batch // nproc
            overrides = common_overrides(run_dir, data, train_list, val_list, per_rank, 1, 1, 10**6)
            if args.num_workers is not None:
                overrides.append(f"Train.loader.num_workers={args.num_workers}")
            log = work / f"{tool}_{attempt}.log"
            ranks = f", 2 ranks x {per_rank}" if nproc > 1 else ""
            print(f"  {model}: {tool} ({total} steps of {args.batch} images{ranks}, run {attempt + 1}/{args.repeat}) ...", flush=True)
            if tool == "paddleocr":
                result = run_paddleocr(paddleocr, baseline_python(args), config, overrides, log, args.timeout)  # type: ignore[arg-type]
            else:
                result = run_ocrrec(config, overrides, log, args.timeout, nproc)
            runs[tool].append(figures(tool, result, run_dir, warmup, nproc))
    # per tool: the fastest run (figures of one run stay together), plus every run for the record
    rows = [max(items, key=lambda f: f.images_per_second) for items in runs.values()]
    return {"model": model, "config": config, "batch": args.batch, "warmup_steps": warmup, "timed_steps": timed,
            "repeat": args.repeat, "runs": [asdict(r) for r in rows],
            "all_runs": {tool: [asdict(r) for r in items] for tool, items in runs.items()}}


def print_speed(section: dict) -> None:
    runs = {r["tool"]: r for r in section["runs"]}
    base = runs.get("paddleocr")
    header = ["tool", "img/s", "median-step img/s", "s/step", "loader %", "peak PSS MB", "peak RSS MB", "max proc RSS MB", "procs", "wall s"]
    if base:
        header += ["speed ratio", "PSS ratio"]
    rows = []
    for tool, r in runs.items():
        label = {"ocrrec-nproc2": f"ocrrec --nproc 2 ({section['batch'] // 2}/rank)"}.get(tool, tool)
        row = [label, fmt(r["images_per_second"]), fmt(r["median_step_images_per_second"]), fmt(r["seconds_per_step"]), fmt(100 * r["loader_share"]),
               fmt(r["peak_tree_pss_mb"], 0), fmt(r["peak_tree_rss_mb"], 0), fmt(r["max_process_rss_mb"], 0),
               str(r["processes"]), fmt(r["wall_seconds"], 1)]
        if base:
            row += [fmt_ratio(ratio(r["images_per_second"], base["images_per_second"])),
                    fmt_ratio(ratio(r["peak_tree_pss_mb"], base["peak_tree_pss_mb"], higher_is_better=False))]
        rows.append(row)
    print_table(f"train {TITLES[section['model']]}, global batch {section['batch']}, CPU, "
                f"{section['timed_steps']} timed steps after {section['warmup_steps']} warm-up, fastest of {section['repeat']} "
                f"run(s) per tool (ratios: >1x = ocrrec better)", header, rows)


def accuracy_section(args: argparse.Namespace, paddleocr: Path | None, data: Path) -> dict:
    config = MODELS["crnn"][0]
    work = args.workdir / "accuracy_crnn"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    steps_per_epoch = args.accuracy_images // args.batch
    train_list = take_lines(data / "train.txt", work / "train.txt", steps_per_epoch * args.batch)
    val_list = data / "val.txt"
    total = steps_per_epoch * args.accuracy_epochs
    results = {}
    for tool in (["paddleocr", "ocrrec"] if paddleocr else ["ocrrec"]):
        run_dir = work / f"run_{tool}"
        overrides = common_overrides(run_dir, data, train_list, val_list, args.batch, args.accuracy_epochs, 10, total)
        if args.num_workers is not None:
            overrides.append(f"Train.loader.num_workers={args.num_workers}")
        overrides += args.accuracy_override
        log = work / f"{tool}.log"
        print(f"  accuracy: {tool} ({args.accuracy_epochs} epochs x {steps_per_epoch} steps) ...", flush=True)
        if tool == "paddleocr":
            result = run_paddleocr(paddleocr, baseline_python(args), config, overrides, log, args.timeout)  # type: ignore[arg-type]
        else:
            result = run_ocrrec(config, overrides, log, args.timeout)
        require_ok(result, f"{tool} accuracy training")
        text = train_log_text(result, run_dir)
        steps = parse_train_steps(text)
        metric = parse_metric_line(text)
        results[tool] = {
            "acc": metric.get("acc"), "norm_edit_dis": metric.get("norm_edit_dis"),
            "last_logged_loss": steps[-1].loss if steps else None, "wall_seconds": result.seconds, "log": str(log),
        }
    val_count = sum(1 for line in val_list.read_text(encoding="utf-8").splitlines() if line.strip())
    return {"config": config, "overrides": args.accuracy_override, "epochs": args.accuracy_epochs,
            "train_images": steps_per_epoch * args.batch,
            "val_images": val_count, "batch": args.batch, "results": results}


def print_accuracy(section: dict) -> None:
    res = section["results"]
    rows = [[tool, fmt(r["acc"], 4), fmt(r["norm_edit_dis"], 4), fmt(r["last_logged_loss"], 3), fmt(r["wall_seconds"], 1)]
            for tool, r in res.items()]
    extra = f" with -o {' '.join(section['overrides'])}" if section.get("overrides") else ""
    print_table(f"accuracy after {section['epochs']} epochs of rec_mv3_none_bilstm_ctc{extra} on {section['train_images']} words, "
                f"batch {section['batch']}, each tool's own evaluation on {section['val_images']} held-out words",
                ["tool", "acc", "norm_edit_dis", "last loss", "wall s"], rows)
    if "paddleocr" in res and res["paddleocr"]["acc"] is not None and res["ocrrec"]["acc"] is not None:
        gap = abs(res["ocrrec"]["acc"] - res["paddleocr"]["acc"]) * 100
        note = "within 1 point" if gap <= 1 else "MORE than 1 point apart"
        if res["ocrrec"]["acc"] == 0 and res["paddleocr"]["acc"] == 0:
            note += " (both still at 0.0: CRNN has not left the CTC all-blank plateau; compare norm_edit_dis and loss)"
        print(f"accuracy gap: {gap:.2f} points, {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    add_common_args(parser, "train_speed")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["crnn", "v3"])
    parser.add_argument("--batch", type=int, default=64, help="global batch size (default 64)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per run (default: crnn 6, v3 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed first steps (default: crnn 2, v3 1)")
    parser.add_argument("--num-workers", type=int, default=None, help="override Train.loader.num_workers for every run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool, alternating the order (the fastest is shown)")
    parser.add_argument("--no-nproc", action="store_true", help="skip the ocrrec --nproc 2 run")
    parser.add_argument("--accuracy-epochs", type=int, default=2)
    parser.add_argument("--accuracy-images", type=int, default=1536, help="training words of the accuracy check")
    parser.add_argument("--accuracy-override", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra -o pairs for both tools in the accuracy check (e.g. Optimizer.lr.learning_rate=0.002)")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--accuracy-only", action="store_true", help="run only the accuracy check")
    args = parser.parse_args()
    if args.batch % 2:
        parser.error("--batch must be even (the --nproc 2 run splits it over two ranks)")
    paddleocr = check_paddleocr(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_line()}")
    data = args.workdir / "data"
    count = max(2 * args.accuracy_images, 3000)
    synth_dataset(data, count, val_fraction=0.1)
    payload: dict = {"machine": machine_line(), "paddleocr": str(paddleocr) if paddleocr else None, "speed": []}
    for model in ([] if args.accuracy_only else args.models):
        section = speed_section(model, args, paddleocr, data)
        payload["speed"].append(section)
        print_speed(section)
    if not args.skip_accuracy:
        payload["accuracy"] = accuracy_section(args, paddleocr, data)
        print_accuracy(payload["accuracy"])
    dump_json(args.workdir / "results.json", payload)
    print(f"\nresults: {args.workdir / 'results.json'}; logs under {args.workdir}")
    if args.json:
        print(json.dumps(payload, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
