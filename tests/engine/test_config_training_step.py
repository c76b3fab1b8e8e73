"""Every shipped config trains: its real Train pipeline, model, loss and optimizer, on a 2-image batch.

Labels are drawn from each config's own dictionary (the images are rendered ASCII words; the
model only has to memorise two samples), and the learning rate is a constant 1e-3 so that
PaddleOCR's warm-up (which starts at 0) does not hide whether the loss can decrease.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import paddle
import pytest

from ocrrec.charset import Charset
from ocrrec.config import load_config
from ocrrec.data.loader import build_dataloader
from ocrrec.engine.optim import build_optimizer
from ocrrec.modeling import build_model
from ocrrec.modeling.losses import build_loss
from ocrrec.predict import render_words

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "rec"
CONFIGS = sorted(str(p.relative_to(CONFIG_DIR)) for p in CONFIG_DIR.rglob("*.yml"))
STEPS = 4

pytestmark = pytest.mark.slow


def _two_samples(tmp_path: Path, charset: Charset) -> Path:
    import cv2

    usable = [c for c in charset.characters if c.strip() and c not in "\t"]
    labels = ["".join(usable[3:7]), "".join(usable[9:12])]
    lines = []
    for i, image in enumerate(render_words(["sample", "words"], 48)):
        cv2.imwrite(str(tmp_path / f"s{i}.png"), image)
        lines.append(f"s{i}.png\t{labels[i]}")
    label_file = tmp_path / "train.txt"
    label_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return label_file


def _as_lmdb(tmp_path: Path, label_file: Path) -> Path:
    from ocrrec.data.lmdb_io import write_lmdb

    items = []
    for line in label_file.read_text(encoding="utf-8").splitlines():
        path, label = line.split("\t", 1)
        items.append(((tmp_path / path).read_bytes(), label))
    write_lmdb(tmp_path / "lmdb", items)
    return tmp_path / "lmdb"


@pytest.mark.parametrize("name", CONFIGS)
def test_config_trains_on_a_fixed_batch(name, tmp_path):
    probe = load_config(CONFIG_DIR / name)
    charset = Charset.from_spec(probe.glob.character_dict_path, probe.glob.use_space_char)
    label_file = _two_samples(tmp_path, charset)
    if probe.get("Train.dataset.name") == "LMDBDataSet":  # the CRNN configs read the benchmark LMDB layout
        overrides = [f"Train.dataset.data_dir={_as_lmdb(tmp_path, label_file)}"]
    else:
        overrides = [f"Train.dataset.data_dir={tmp_path}", f"Train.dataset.label_file_list=[{label_file}]"]
    overrides += [
        "Train.loader.batch_size_per_card=2",
        "Train.loader.num_workers=0",
        "Train.loader.drop_last=False",
        "Optimizer.lr={name: Const, learning_rate: 0.001}",
        "Global.seed=5",
    ]
    if probe.get("Train.sampler"):
        overrides.append("Train.sampler.first_bs=2")
    config = load_config(CONFIG_DIR / name, overrides)
    loader, dataset = build_dataloader(config, "Train", seed=5)
    loader.set_epoch(1)
    batch = dict(zip(dataset.keep_keys, next(iter(loader)), strict=True))

    paddle.seed(5)
    model = build_model(config.section("Architecture"), charset)
    model.train()
    loss_fn = build_loss(config.section("Loss"))
    optimizer, _ = build_optimizer(config.section("Optimizer"), 1, 1, model)
    losses = []
    for _ in range(STEPS):
        loss = loss_fn(model(batch["image"], batch), batch)["loss"]
        losses.append(float(loss))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
    assert all(math.isfinite(v) for v in losses), losses
    assert losses[-1] < losses[0], losses
    assert np.asarray(batch["image"].shape)[0] == 2
