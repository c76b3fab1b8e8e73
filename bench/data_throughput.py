"""Images/s of the full training input pipeline (PP-OCRv3 en Train transforms) at 0, 1 and 2 workers.

Renders a few hundred synthetic word images with Pillow's built-in font,
writes a PaddleOCR label file, builds the Train DataLoader through
`ocrrec.data.loader.build_dataloader` and times whole epochs (decode,
augmentation, label encoding, resize-normalise, collation). RecConAug/RecAug
are included when registered (they live in `ocrrec/data/ops/augment.py`);
otherwise the run says they were left out.

    PYTHONPATH=. python bench/data_throughput.py [--count 512] [--batch 64] [--epochs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WORDS = (
    "the quick brown fox jumps over lazy dog receipt total amount paid cash change invoice number date "
    "street avenue open closed exit entrance parking hotel coffee bakery market pharmacy station"
).split()


def render_words(root: Path, count: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    (root / "img").mkdir(parents=True)
    lines = []
    for i in range(count):
        word = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.3:
            word = word.capitalize()
        font = ImageFont.load_default(size=rng.choice([20, 24, 28, 32]))
        left, top, right, bottom = font.getbbox(word)
        pad = rng.randint(2, 8)
        img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), tuple(rng.randint(170, 255) for _ in range(3)))
        ImageDraw.Draw(img).text((pad - left, pad - top), word, fill=tuple(rng.randint(0, 80) for _ in range(3)), font=font)
        name = f"img/{i:05d}.jpg" if i % 2 else f"img/{i:05d}.png"
        img.save(root / name)
        lines.append(f"{name}\t{word}\n")
    (root / "train.txt").write_text("".join(lines))
    return root / "train.txt"


def ppocrv3_train_config(root: Path, batch: int, with_aug: bool) -> dict:
    transforms: list = [{"DecodeImage": {"img_mode": "BGR", "channel_first": False}}]
    if with_aug:
        transforms += [
            {"RecConAug": {"prob": 0.5, "ext_data_num": 2, "image_shape": [48, 320, 3], "max_text_length": 25}},
            {"RecAug": None},
        ]
    transforms += [
        {"MultiLabelEncode": None},
        {"RecResizeImg": {"image_shape": [3, 48, 320]}},
        {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_sar", "length", "valid_ratio"]}},
    ]
    return {
        "Global": {"character_dict_path": "en", "max_text_length": 25, "use_space_char": True, "seed": 1},
        "Train": {
            "dataset": {
                "name": "SimpleDataSet",
                "data_dir": str(root),
                "ext_op_transform_idx": 1,
                "label_file_list": [str(root / "train.txt")],
                "transforms": transforms,
            },
            "loader": {"shuffle": True, "batch_size_per_card": batch, "drop_last": True, "num_workers": 0},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-aug", action="store_true", help="leave RecConAug/RecAug out even when available")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import ocrrec.data.ops  # noqa: F401
    from ocrrec.data.loader import build_dataloader
    from ocrrec.data.registry import DATA_OPS

    aug_available = "RecAug" in DATA_OPS and "RecConAug" in DATA_OPS
    with_aug = aug_available and not args.no_aug
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        render_words(Path(tmp), args.count)
        config = ppocrv3_train_config(Path(tmp), args.batch, with_aug)
        for workers in args.workers:
            loader, dataset = build_dataloader(config, "Train", seed=1, num_workers=workers)
            loader.set_epoch(0)
            for _ in loader:  # warm-up epoch: page cache, worker start code paths
                pass
            samples = 0
            start = time.perf_counter()
            for epoch in range(1, args.epochs + 1):
                loader.set_epoch(epoch)
                for batch in loader:
                    samples += int(batch[0].shape[0])
            seconds = time.perf_counter() - start
            results[workers] = round(samples / seconds, 1)
            shape = tuple(batch[0].shape)
    payload = {
        "images": args.count,
        "batch": args.batch,
        "epochs_timed": args.epochs,
        "augmentation": "RecConAug+RecAug" if with_aug else "none (RecAug/RecConAug not available)" if not aug_available else "off",
        "cpus": os.cpu_count(),
        "batch_shape": shape,
        "images_per_second": results,
    }
    if args.json:
        print(json.dumps(payload))
        return
    print(f"PP-OCRv3 en Train pipeline, {args.count} word images, batch {args.batch} {shape}, "
          f"augmentation: {payload['augmentation']}, {os.cpu_count()} CPUs")
    for workers, speed in results.items():
        print(f"  num_workers={workers}: {speed:8.0f} images/s")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
