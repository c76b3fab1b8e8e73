"""How fast `dataset validate` decodes images: serial vs thread pool vs process pool.

Generates N small word-like PNGs (default 4000, about 100x32) in a temporary
folder, then runs the validator (labels + full cv2.imdecode of every image)
with each executor and prints images/s. Target: >= 2000 images/s.

    PYTHONPATH=. python bench/validate_speed.py [--count 4000] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from ocrrec.data.validate import make_checker, sources_from_paths, validate_sources


def make_dataset(root: Path, count: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    (root / "img").mkdir(parents=True)
    lines = []
    for i in range(count):
        width = int(rng.integers(60, 160))
        img = np.full((32, width, 3), int(rng.integers(180, 255)), np.uint8)
        for x in range(4, width - 8, 9):  # dark strokes, like glyphs
            cv2.rectangle(img, (x, 6), (x + 4, 26), (int(rng.integers(0, 80)),) * 3, -1)
        (root / "img" / f"{i:06d}.png").write_bytes(cv2.imencode(".png", img)[1].tobytes())
        lines.append(f"img/{i:06d}.png\tword{i}\n")
    (root / "train.txt").write_text("".join(lines))
    return root / "train.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per executor; the best is reported")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        label_file = make_dataset(Path(tmp), args.count)
        checker = make_checker("en", False, 25)
        sources = sources_from_paths([label_file], checker=checker)
        validate_sources(sources, workers=1, executor="serial")  # warm the page cache
        for executor in ("serial", "thread", "process"):
            best = 0.0
            for _ in range(args.repeat):
                start = time.perf_counter()
                report = validate_sources(sources, workers=args.workers, executor=executor)
                total = time.perf_counter() - start
                assert report.images_checked == args.count and not report.problems
                best = max(best, args.count / total)
            results[executor] = {"images_per_second": round(best, 1), "decode_only_per_second": round(report.images_per_second, 1)}
    payload = {"count": args.count, "workers": args.workers, "cpus": os.cpu_count(), "results": results}
    if args.json:
        print(json.dumps(payload))
        return
    print(f"{args.count} PNGs (~100x32), {args.workers} workers, {os.cpu_count()} CPUs")
    for executor, r in results.items():
        print(f"  {executor:8s} {r['images_per_second']:8.0f} images/s end to end "
              f"({r['decode_only_per_second']:.0f}/s in the decode phase)")


if __name__ == "__main__":
    main()
