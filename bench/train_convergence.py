"""Time to a usable recognizer on the CPU: synthesize words, train the CPU demo model, test on unseen words.

The steps `make demo` runs, as the `ocrrec` commands a user types (`dataset synth`, `train -c
configs/rec/demo_crnn_en.yml`, `eval`), each timed, with the training process tree's peak memory.
The held-out words never occur in the training set. Passes when held-out accuracy >= --target
(default 0.9). PaddleOCR has no counterpart of the demo model (its VGG backbone is ocrrec's), so
this benchmark has no baseline column; train_speed.py compares the shared models.

    python bench/train_convergence.py [--count 5000] [--epochs N] [--nproc 2] [--target 0.9]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from _common import (
    REPO,
    add_common_args,
    check_paddleocr,
    dump_json,
    fmt,
    last_json_line,
    machine_line,
    ocrrec_command,
    ocrrec_env,
    parse_train_steps,
    print_table,
    require_ok,
    run_measured,
)

CONFIG = REPO / "configs" / "rec" / "demo_crnn_en.yml"


def configured_batch(overrides: list[str]) -> int:
    """Train.loader.batch_size_per_card of the demo config after the overrides (ocrrec's own loader)."""
    sys.path.insert(0, str(REPO))
    from ocrrec.config import load_config

    return int(load_config(CONFIG, overrides).get("Train.loader.batch_size_per_card"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    add_common_args(parser, "train_convergence")
    parser.add_argument("--count", type=int, default=5000, help="synthesized images, 10%% held out (default 5000)")
    parser.add_argument("--epochs", type=int, default=None, help="override the demo config's epoch_num (6)")
    parser.add_argument("--nproc", type=int, default=1, help="CPU ranks for training (default 1)")
    parser.add_argument("--target", type=float, default=0.9, help="held-out accuracy to reach (default 0.9)")
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    args = parser.parse_args()
    if args.paddleocr:  # accepted for a uniform command line
        print("note: no PaddleOCR baseline here (the demo model's VGG backbone is not in PaddleOCR); see train_speed.py")
    check_paddleocr(args)
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_line()}")
    data, run = work / "data", work / "output"
    shutil.rmtree(run, ignore_errors=True)
    timings = []

    synth = run_measured(
        ocrrec_command("dataset", "synth", str(data), "--count", str(args.count), "--digits", "0.1", "--case", "lower",
                       "--seed", str(args.seed), "--force", "--json"),
        cwd=REPO, env=ocrrec_env(), timeout=args.timeout, log_path=work / "synth.log")
    require_ok(synth, "ocrrec dataset synth")
    synth_info = last_json_line(synth.output)
    timings.append(["dataset synth", synth.seconds, f"{synth_info.get('train_images')} train / {synth_info.get('val_images')} val images"])

    overrides = [
        f"Global.save_model_dir={run}", "Global.character_dict_path=ic15",
        f"Train.dataset.data_dir={data}", f"Train.dataset.label_file_list=['{data / 'train.txt'}']",
        f"Eval.dataset.data_dir={data}", f"Eval.dataset.label_file_list=['{data / 'val.txt'}']",
    ]
    if args.epochs:
        overrides.append(f"Global.epoch_num={args.epochs}")
    launch = ["--nproc", str(args.nproc), "--log-dir", str(work / "ranks")] if args.nproc > 1 else []
    train = run_measured(ocrrec_command("train", "-c", str(CONFIG), *launch, "--json", "-o", *overrides),
                         cwd=REPO, env=ocrrec_env(), timeout=args.timeout, log_path=work / "train.log")
    require_ok(train, "ocrrec train")
    summary = last_json_line(train.output)
    if not summary and (work / "ranks" / "workerlog.0").is_file():  # --nproc: rank 0 printed it to its own log
        summary = last_json_line((work / "ranks" / "workerlog.0").read_text(encoding="utf-8", errors="replace"))
    log_text = (run / "train.log").read_text(encoding="utf-8") if (run / "train.log").is_file() else train.output
    steps = parse_train_steps(log_text)
    epochs = summary.get("epochs_run") or summary.get("epochs") or args.epochs
    global_batch = configured_batch(overrides) * args.nproc
    reader = sum(s.reader for s in steps) / max(1e-9, sum(s.batch for s in steps)) if steps else None
    loop_seconds = summary.get("seconds") or train.seconds  # the training loop alone (start-up left out)
    images_per_second = summary.get("global_step", 0) * global_batch / loop_seconds
    timings.append(["train", train.seconds, f"{summary.get('global_step')} steps x {global_batch} images, "
                    f"{fmt(images_per_second, 0)} img/s in the training loop"])

    evaluated = run_measured(ocrrec_command("eval", str(run), "--json"), cwd=REPO, env=ocrrec_env(), timeout=args.timeout,
                             log_path=work / "eval.log")
    require_ok(evaluated, "ocrrec eval")
    metrics = last_json_line(evaluated.output)
    accuracy = metrics.get("acc")
    timings.append(["eval", evaluated.seconds, f"acc {fmt(accuracy, 4)} on {metrics.get('samples')} held-out images"])

    total = sum(t[1] for t in timings)
    print_table("ocrrec: synthesized words -> trained CPU recognizer -> held-out accuracy",
                ["step", "seconds", "result"], [[name, fmt(sec, 1), result] for name, sec, result in timings])
    passed = accuracy is not None and accuracy >= args.target
    print(f"\nepochs {epochs}, global batch {global_batch}, ranks {args.nproc}, training {train.seconds / 60:.1f} min, "
          f"total {total / 60:.1f} min, loader share {fmt(100 * reader if reader is not None else None, 2)} %, "
          f"training peak PSS {train.peak_tree_pss_mb:.0f} MB, held-out acc {fmt(accuracy, 4)} "
          f"(norm_edit_dis {fmt(metrics.get('norm_edit_dis'), 4)}): {'PASS' if passed else 'FAIL'} (target {args.target})")
    payload = {
        "machine": machine_line(), "count": args.count, "epochs": epochs, "nproc": args.nproc, "global_batch": global_batch,
        "train_seconds": train.seconds, "total_seconds": total, "steps": summary.get("global_step"),
        "train_images_per_second": images_per_second, "loader_share": reader, "peak_tree_pss_mb": train.peak_tree_pss_mb,
        "held_out_acc": accuracy, "norm_edit_dis": metrics.get("norm_edit_dis"), "target": args.target, "passed": passed,
        "train_summary": summary,
    }
    dump_json(work / "results.json", payload)
    if args.json:
        print(json.dumps(payload, default=str))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
