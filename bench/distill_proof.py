"""Issue 8's proof: does a student trained with a teacher (deep mutual learning, PP-OCRv3 style)
reach at least the accuracy of the same student trained alone, for the same epochs?

    python bench/distill_proof.py [--count 5000] [--epochs 6]

Renders the words (`ocrrec dataset synth`, held-out words unseen in training), trains
bench/distill_proof/student_alone.yml and bench/distill_proof/distill_dml.yml with the same data,
optimizer, epochs and seed, and prints both students' held-out accuracy and the time taken.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = {"student alone": HERE / "distill_proof" / "student_alone.yml", "student distilled": HERE / "distill_proof" / "distill_dml.yml"}


def ocrrec(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "ocrrec", *args, "--json"], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"ocrrec {' '.join(args)} failed with exit code {proc.returncode}")
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("output/distill_proof"))
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    data = args.workdir / "data"
    ocrrec("dataset", "synth", str(data), "--count", str(args.count), "--digits", "0.1", "--case", "lower", "--seed", "8", "--force")
    rows = []
    for name, config in CONFIGS.items():
        run = args.workdir / config.stem
        overrides = [
            f"Global.save_model_dir={run}", f"Global.epoch_num={args.epochs}",
            f"Train.dataset.data_dir={data}", f"Train.dataset.label_file_list=[{data / 'train.txt'}]",
            f"Eval.dataset.data_dir={data}", f"Eval.dataset.label_file_list=[{data / 'val.txt'}]",
        ]
        start = time.perf_counter()
        summary = ocrrec("train", "-c", str(config), "-o", *overrides)
        seconds = time.perf_counter() - start
        evaluated = ocrrec("eval", str(run))  # the distilled run reports the Student as `acc`
        rows.append((name, evaluated["acc"], evaluated["norm_edit_dis"], seconds, summary["global_step"]))
    print(f"{'run':<18} {'student acc':>11} {'norm_edit':>9} {'seconds':>8} {'steps':>6}")
    for name, acc, ned, seconds, steps in rows:
        print(f"{name:<18} {acc:>11.4f} {ned:>9.4f} {seconds:>8.0f} {steps:>6}")
    gain = rows[1][1] - rows[0][1]
    print(f"distilled - alone: {gain:+.4f} ({'at least as good' if gain >= 0 else 'worse'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
