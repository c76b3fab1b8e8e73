"""Time one training step of PP-OCRv3 en (MobileNetV1Enhance + MultiHead CTC/SAR) on the CPU.

    PYTHONPATH=. python bench/model_step.py --batch 64 --steps 3

A step is forward + CTC and SAR losses + backward + Adam update on random 3x48x320 images
and random labels, in the fp32 dynamic graph and (unless --no-static) under
`paddle.jit.to_static`. The first step of each mode is a warm-up and is not timed. Prints the
thread settings used, seconds per step (mean and best) and images per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

ARCH = {
    "model_type": "rec",
    "algorithm": "SVTR_LCNet",
    "Transform": None,
    "Backbone": {
        "name": "MobileNetV1Enhance",
        "scale": 0.5,
        "last_conv_stride": [1, 2],
        "last_pool_type": "avg",
        "last_pool_kernel_size": [2, 2],
    },
    "Head": {
        "name": "MultiHead",
        "head_list": [
            {
                "CTCHead": {
                    "Neck": {"name": "svtr", "dims": 64, "depth": 2, "hidden_dims": 120, "use_guide": True},
                    "Head": {"fc_decay": 0.00001},
                }
            },
            {"SARHead": {"enc_dim": 512, "max_text_length": 25}},
        ],
    },
}
MAX_LEN = 25


def make_batch(batch: int, classes: int, rng: np.random.Generator) -> dict:
    import paddle

    lengths = rng.integers(3, 12, batch)
    label_ctc = np.zeros([batch, MAX_LEN], dtype="int64")
    label_sar = np.full([batch, MAX_LEN], classes + 2, dtype="int64")  # <PAD>
    for row, size in enumerate(lengths):
        chars = rng.integers(0, classes, size)
        label_ctc[row, :size] = chars + 1
        label_sar[row, :size] = chars
        label_sar[row, size] = classes + 1  # <BOS/EOS>
    return {
        "image": paddle.to_tensor(rng.normal(0, 1, (batch, 3, 48, 320)).astype("float32")),
        "label_ctc": paddle.to_tensor(label_ctc),
        "label_sar": paddle.to_tensor(label_sar),
        "length": paddle.to_tensor(lengths.astype("int64")),
        "valid_ratio": paddle.to_tensor(rng.uniform(0.3, 1.0, batch).astype("float32")),
    }


def loss_fn(preds: dict, batch: dict, classes: int):
    """CTC (blank 0, mean over samples) + SAR cross-entropy ignoring <PAD>, as PaddleOCR's MultiLoss."""
    import paddle
    import paddle.nn.functional as F

    logits = preds["ctc"]
    steps = paddle.full([logits.shape[0]], logits.shape[1], dtype="int64")
    ctc = F.ctc_loss(
        logits.transpose([1, 0, 2]),
        batch["label_ctc"].astype("int32"),
        steps,
        batch["length"],
        reduction="none",
    ).mean()
    sar = preds["sar"]
    target = batch["label_sar"][:, 1:]
    sar_loss = F.cross_entropy(
        sar[:, :-1, :].reshape([-1, sar.shape[-1]]), target.reshape([-1, 1]), ignore_index=classes + 2
    )
    return ctc + sar_loss


def time_steps(step, batch: dict, steps: int) -> list[float]:
    step(batch)  # warm-up (and graph build for to_static)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=64, help="images per step (default 64)")
    parser.add_argument(
        "--steps", type=int, default=3, help="timed steps per mode after one warm-up (default 3)"
    )
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="CPU math threads (default: all cores)"
    )
    parser.add_argument("--no-static", action="store_true", help="skip the paddle.jit.to_static run")
    args = parser.parse_args()

    import paddle
    from paddle.base import core

    from ocrrec.charset import Charset
    from ocrrec.modeling import build_model

    paddle.set_device("cpu")
    core.set_num_threads(args.threads)
    charset = Charset.from_spec("en", True)
    classes = len(charset)
    rng = np.random.default_rng(0)
    batch = make_batch(args.batch, classes, rng)
    print(
        f"paddle {paddle.__version__}, CPU cores {os.cpu_count()}, math threads {args.threads} "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), "
        f"FLAGS_use_mkldnn={paddle.get_flags(['FLAGS_use_mkldnn'])['FLAGS_use_mkldnn']}, "
        f"batch {args.batch} x 3x48x320, fp32"
    )

    modes = [("dynamic graph", False)] + ([] if args.no_static else [("to_static", True)])
    for title, static in modes:
        paddle.seed(0)
        model = build_model(ARCH, charset)
        model.train()
        optimizer = paddle.optimizer.Adam(learning_rate=1e-4, parameters=model.parameters())
        forward = paddle.jit.to_static(model, full_graph=True) if static else model

        def step(b: dict, forward=forward, optimizer=optimizer) -> None:
            loss = loss_fn(forward(b["image"], b), b, classes)
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()

        try:
            times = time_steps(step, batch, args.steps)
        except Exception as exc:  # report and go on: the dynamic-graph number is still useful
            print(f"{title}: failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
            continue
        mean = statistics.mean(times)
        print(
            f"{title}: {mean:.2f} s/step (best {min(times):.2f}, {len(times)} steps), "
            f"{args.batch / mean:.1f} images/s"
        )


if __name__ == "__main__":
    main()
