"""`make demo`: the whole workflow on the CPU with nothing downloaded.

synth → validate → dict build → train → eval → export --pir → infer, each as the `ocrrec`
command a user would type (printed before it runs), then a summary with the elapsed time and
the held-out accuracy. Run: `python -m ocrrec.demo [--workdir demo_work] [--count 5000]`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "rec" / "demo_crnn_en.yml"
console = Console(stderr=True, highlight=False)


def _run(args: list[str], capture_json: bool = False) -> dict | None:
    shown = "ocrrec " + " ".join(shlex.quote(a) for a in args)
    console.print(f"\n[bold cyan]$ {escape(shown)}[/]")
    if capture_json:
        proc = subprocess.run([sys.executable, "-m", "ocrrec", *args, "--json"], stdout=subprocess.PIPE, text=True)
    else:
        proc = subprocess.run([sys.executable, "-m", "ocrrec", *args])
    if proc.returncode != 0:
        console.print(f"[bold red]demo step failed (exit {proc.returncode}): {escape(shown)}[/]")
        raise SystemExit(proc.returncode)
    if capture_json:
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("demo_work"), help="where data, runs and the model go")
    parser.add_argument("--count", type=int, default=5000, help="synthetic word images (10%% held out, unseen words)")
    parser.add_argument("--epochs", type=int, default=None, help="override the demo config's epoch_num")
    args = parser.parse_args(argv)

    work: Path = args.workdir
    data, run, model = work / "data", work / "output", work / "inference"
    overrides = [
        f"Global.save_model_dir={run}",
        f"Global.save_inference_dir={model}",
        f"Global.character_dict_path={work / 'dict.txt'}",
        f"Train.dataset.data_dir={data}",
        f"Train.dataset.label_file_list=[{data / 'train.txt'}]",
        f"Eval.dataset.data_dir={data}",
        f"Eval.dataset.label_file_list=[{data / 'val.txt'}]",
    ]
    if args.epochs:
        overrides.append(f"Global.epoch_num={args.epochs}")
    timings: list[tuple[str, float, str]] = []
    start = time.perf_counter()

    def step(name: str, cli: list[str], capture_json: bool = False) -> dict | None:
        began = time.perf_counter()
        result = _run(cli, capture_json)
        timings.append((name, time.perf_counter() - began, ""))
        return result

    synth = step("dataset synth", ["dataset", "synth", str(data), "--count", str(args.count), "--digits", "0.1",
                                   "--case", "lower", "--seed", "0", "--force"], capture_json=True)
    timings[-1] = (timings[-1][0], timings[-1][1], f"{synth['train_images']} train / {synth['val_images']} val images")
    step("dataset validate", ["dataset", "validate", "-c", str(CONFIG), "-o", *overrides[3:]])
    step("dict build", ["dict", "build", str(data / "train.txt"), "--out", str(work / "dict.txt"), "--force"])
    trained = step("train", ["train", "-c", str(CONFIG), "-o", *overrides], capture_json=True)
    timings[-1] = (timings[-1][0], timings[-1][1], f"{trained['global_step']} steps, {trained['images_per_second']:.0f} img/s")
    evaluated = step("eval", ["eval", str(run)], capture_json=True)
    accuracy = evaluated["acc"]
    timings[-1] = (timings[-1][0], timings[-1][1], f"acc {accuracy:.4f} on {evaluated['samples']} held-out images")
    exported = step("export --pir", ["export", str(run), "--out", str(model), "--pir", "--force"], capture_json=True)
    parity = exported["parity"]
    timings[-1] = (timings[-1][0], timings[-1][1], f"parity {'PASS' if parity['passed'] else 'FAIL'} (max |Δ| {parity['max_abs_diff']:.1e})")
    samples = sorted((data / "val").glob("*.png"))[:8]
    step("infer", ["infer", *map(str, samples), "--model", str(model)])

    elapsed = time.perf_counter() - start
    table = Table(title="ocrrec demo")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("result")
    for name, seconds, result in timings:
        table.add_row(name, f"{seconds:.1f}", result)
    Console().print(table)
    Console().print(f"demo finished in {elapsed / 60:.1f} min; held-out accuracy {accuracy:.4f}; model in {model}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
