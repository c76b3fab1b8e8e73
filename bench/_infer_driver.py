"""Times one recognizer over preloaded images, at several batch sizes; run in a fresh process per tool.

    python bench/_infer_driver.py ocrrec --model DIR [--dict D --image-shape C,H,W --space|--no-space]
        --images LIST --out OUT.json --batch-sizes 1 6 --passes 2
    python bench/_infer_driver.py paddleocr --paddleocr DIR [--pir-shim] --images LIST --out OUT.json
        --batch-sizes 1 6 --passes 2 -- [tools/infer/predict_rec.py flags]
    python bench/_infer_driver.py predict_rec_cli --paddleocr DIR --pir-shim -- [predict_rec.py flags]

`ocrrec` uses the library API (`ocrrec.predict.load_recognizer(...).recognize(images)`);
`paddleocr` builds `TextRecognizer` of PaddleOCR's `tools/infer/predict_rec.py` from its own argument
parser and calls it on the image list as its `main()` does. Images are decoded before the clock
starts (cv2.imread for both); each batch size gets one untimed warm-up pass, then `--passes` timed
passes over all images. Writes {batch: {"seconds": [...], "predictions": [[text, score], ...]}}.

`--pir-shim`: on Paddle 3.3 predict_rec.py cannot load a PIR model (inference.json): it always calls
`Config.enable_memory_optim()`, and that pass fails on PIR programs ("Not find predictor_id 0 and
pass_name memory_optimize_pass"). The shim makes that one call a no-op (ocrrec's own engine skips
the same pass for PIR models); everything else is predict_rec.py unchanged. `predict_rec_cli` runs
predict_rec.py's own `__main__` with the shim, for whole-process timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def load_images(list_file: Path) -> list:
    import cv2

    paths = [line for line in list_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    images = [cv2.imread(p) for p in paths]
    missing = [p for p, img in zip(paths, images, strict=True) if img is None]
    if missing:
        raise SystemExit(f"unreadable images: {missing[:3]}")
    return images


def time_passes(recognize, set_batch, images: list, batch_sizes: list[int], passes: int) -> dict:
    results = {}
    for batch in batch_sizes:
        set_batch(batch)
        recognize(images)  # warm-up: predictor caches, oneDNN primitives for the shapes met
        seconds = []
        predictions = None
        for _ in range(passes):
            start = time.perf_counter()
            predictions = recognize(images)
            seconds.append(time.perf_counter() - start)
        results[str(batch)] = {"seconds": seconds, "predictions": [[str(t), float(s)] for t, s in predictions]}
    return results


def run_ocrrec(args: argparse.Namespace, images: list) -> dict:
    from ocrrec.predict import load_recognizer

    shape = tuple(int(v) for v in args.image_shape.split(",")) if args.image_shape else None
    recognizer = load_recognizer(Path(args.model), dict_override=args.dict, image_shape=shape, use_space_char=args.space,
                                 backend=args.backend, threads=args.threads, workers=args.workers)

    def set_batch(size: int) -> None:
        recognizer.batch_size = size

    results = time_passes(recognizer.recognize, set_batch, images, args.batch_sizes, args.passes)
    results["description"] = recognizer.description
    return results


def install_pir_shim() -> None:
    from paddle import inference

    inference.Config.enable_memory_optim = lambda self, *args, **kwargs: None


def run_paddleocr(args: argparse.Namespace, images: list, flags: list[str]) -> dict:
    root = str(Path(args.paddleocr).resolve())
    sys.path.insert(0, root)
    sys.argv = [str(Path(root) / "tools" / "infer" / "predict_rec.py"), *flags]
    if args.pir_shim:
        install_pir_shim()
    from tools.infer import utility  # PaddleOCR's own modules, imported from its tree
    from tools.infer.predict_rec import TextRecognizer

    recognizer = TextRecognizer(utility.parse_args())

    def set_batch(size: int) -> None:
        recognizer.rec_batch_num = size

    def recognize(imgs: list) -> list:
        return recognizer(imgs)[0]

    return time_passes(recognize, set_batch, images, args.batch_sizes, args.passes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=["ocrrec", "paddleocr", "predict_rec_cli"])
    parser.add_argument("--images", type=Path, help="text file: one image path per line")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 6])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--model", help="ocrrec: exported model directory")
    parser.add_argument("--dict", default=None)
    parser.add_argument("--image-shape", default=None)
    parser.add_argument("--space", dest="space", action="store_true", default=None)
    parser.add_argument("--no-space", dest="space", action="store_false")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1, help="ocrrec: processes, each with its own predictor")
    parser.add_argument("--paddleocr", help="paddleocr: source tree")
    parser.add_argument("--pir-shim", action="store_true", help="paddleocr: let predict_rec.py load a PIR model (see above)")
    argv = sys.argv[1:]
    flags: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, flags = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    if args.tool == "predict_rec_cli":
        import runpy

        script = Path(args.paddleocr).resolve() / "tools" / "infer" / "predict_rec.py"
        sys.argv = [str(script), *flags]
        if args.pir_shim:
            install_pir_shim()
        runpy.run_path(str(script), run_name="__main__")
        return 0
    if args.images is None or args.out is None:
        parser.error("--images and --out are required")
    images = load_images(args.images)
    results = run_ocrrec(args, images) if args.tool == "ocrrec" else run_paddleocr(args, images, flags)
    args.out.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
