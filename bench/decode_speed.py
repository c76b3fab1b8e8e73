"""Time greedy CTC decoding of 10,000 outputs (T=40, C=97: the `en` dictionary + space + blank).

Run: `python bench/decode_speed.py [--samples N] [--steps T] [--repeats R]`. Prints the
best of R runs. Random probabilities are the worst case (almost every step keeps a
character); a trained model's peaked outputs decode faster.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ocrrec.charset import Charset
from ocrrec.postprocess import build_post_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    decoder = build_post_process({"name": "CTCLabelDecode"}, Charset.from_spec("en", True))
    classes = decoder.class_count()
    rng = np.random.default_rng(0)
    probs = rng.random((args.samples, args.steps, classes), dtype=np.float32)
    probs /= probs.sum(axis=2, keepdims=True)

    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        results = decoder(probs)
        best = min(best, time.perf_counter() - start)
    assert len(results) == args.samples
    per_sample_us = best / args.samples * 1e6
    print(
        f"CTCLabelDecode: {args.samples} x {args.steps} x {classes} decoded in {best * 1000:.1f} ms "
        f"({per_sample_us:.2f} us/sample, best of {args.repeats})"
    )


if __name__ == "__main__":
    main()
