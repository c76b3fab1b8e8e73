"""build_dataloader: batches, workers, determinism, distributed split, multi-scale, errors."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocrrec.config import load_config
from ocrrec.data.loader import RecBatchSampler, build_dataloader
from ocrrec.errors import ConfigError, UserError

KEYS = ["image", "label_ctc", "label_sar", "length", "valid_ratio"]


def png(width: int) -> bytes:
    img = np.full((16, width, 3), 255, np.uint8)
    img[:, ::3] = 0
    return cv2.imencode(".png", img)[1].tobytes()


def write_config(tmp_path: Path, n: int = 24, extra: str = "", loader: str = "", bad: int | None = None) -> Path:
    (tmp_path / "img").mkdir(exist_ok=True)
    lines = []
    for i in range(n):
        (tmp_path / "img" / f"{i}.png").write_bytes(b"broken" if i == bad else png(20 + 3 * i))
        lines.append(f"img/{i}.png\tw{i}\n")
    (tmp_path / "train.txt").write_text("".join(lines))
    text = f"""
Global:
  character_dict_path: en
  max_text_length: 10
  use_space_char: true
  seed: 11
Train:
  dataset:
    name: {{name}}
    data_dir: {tmp_path}
    label_file_list: [{tmp_path / 'train.txt'}]
    transforms:
      - DecodeImage: {{{{img_mode: BGR, channel_first: false}}}}
      - MultiLabelEncode:
      {{resize}}
      - KeepKeys:
          keep_keys: {KEYS}
{extra}
  loader:
    shuffle: true
    batch_size_per_card: 4
    drop_last: true
    num_workers: 0
{loader}
Eval:
  dataset:
    name: SimpleDataSet
    data_dir: {tmp_path}
    label_file_list: [{tmp_path / 'train.txt'}]
    transforms:
      - DecodeImage: {{{{img_mode: BGR}}}}
      - MultiLabelEncode:
      - RecResizeImg: {{{{image_shape: [3, 32, 100]}}}}
      - KeepKeys: {{{{keep_keys: {KEYS}}}}}
  loader:
    shuffle: false
    batch_size_per_card: 5
    drop_last: false
    num_workers: 0
"""
    multiscale = "sampler" in extra
    text = text.format(
        name="MultiScaleDataSet" if multiscale else "SimpleDataSet",
        resize="" if multiscale else "- RecResizeImg: {image_shape: [3, 32, 100]}",
    )
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def arrays(loader) -> list[list[np.ndarray]]:
    return [[t.numpy() for t in batch] for batch in loader]


def test_train_batches_have_keep_keys_shapes_and_dtypes(tmp_path: Path):
    loader, dataset = build_dataloader(load_config(write_config(tmp_path)), "Train", seed=None)
    assert loader.keep_keys == KEYS and dataset.keep_keys == KEYS
    assert isinstance(loader.batch_sampler, RecBatchSampler) and dataset.seed == 11  # Global.seed
    batches = arrays(loader)
    assert len(batches) == len(loader) == 6
    image, label_ctc, label_sar, length, valid_ratio = batches[0]
    assert image.shape == (4, 3, 32, 100) and image.dtype == np.float32
    assert label_ctc.shape == (4, 10) and label_ctc.dtype == np.int64
    assert label_sar.shape == (4, 10) and label_sar.dtype == np.int64
    assert length.shape == (4,) and length.dtype == np.int64
    assert valid_ratio.shape == (4,) and valid_ratio.dtype == np.float32


def test_eval_keeps_order_and_the_last_short_batch(tmp_path: Path):
    loader, _ = build_dataloader(load_config(write_config(tmp_path, n=12)), "Eval", seed=0)
    lengths = [b[3].tolist() for b in arrays(loader)]
    assert lengths == [[2] * 5, [2] * 5, [3, 3]]  # w0..w9, then w10, w11


def test_same_seed_and_epoch_give_identical_batches_with_and_without_workers(tmp_path: Path):
    config = load_config(write_config(tmp_path))
    runs = []
    for workers in (0, 2):
        loader, _ = build_dataloader(config, "Train", seed=5, num_workers=workers)
        loader.set_epoch(3)
        runs.append(arrays(loader))
    assert len(runs[0]) == len(runs[1]) == 6
    for a, b in zip(runs[0], runs[1], strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    loader, _ = build_dataloader(config, "Train", seed=5)
    loader.set_epoch(4)
    other = arrays(loader)
    assert any(not np.array_equal(a[3], b[3]) for a, b in zip(runs[0], other, strict=True))


def test_ranks_split_every_global_batch(tmp_path: Path):
    config = load_config(write_config(tmp_path, n=24))
    seen = []
    for rank in range(2):
        loader, dataset = build_dataloader(config, "Train", seed=1, rank=rank, world_size=2)
        loader.set_epoch(0)
        assert len(loader) == 3  # 24 samples / 2 ranks / batch 4
        seen.append([b[3].tolist() for b in arrays(loader)])
    all_lengths = [x for rank in seen for batch in rank for x in batch]
    assert len(all_lengths) == 24
    # labels w0..w9 have length 2, w10..w23 length 3: both ranks together see every sample once
    assert sorted(all_lengths) == [2] * 10 + [3] * 14


def test_multiscale_sampler_batches(tmp_path: Path):
    extra = """  sampler:
    name: MultiScaleSampler
    scales: [[100, 32], [160, 48]]
    first_bs: 4
    fix_bs: false
    divided_factor: [8, 16]
    is_training: true"""
    loader, dataset = build_dataloader(load_config(write_config(tmp_path, n=24, extra=extra)), "Train", seed=2)
    shapes = {(b[0].shape, b[3].shape) for b in arrays(loader)}
    assert shapes == {((4, 3, 32, 96), (4,)), ((1, 3, 48, 160), (1,))}  # 96x32x4 pixels ~ 160x48x1


def test_load_failures_are_counted_across_workers(tmp_path: Path):
    config = load_config(write_config(tmp_path, n=24, bad=5))
    loader, dataset = build_dataloader(config, "Train", seed=1, num_workers=2)
    loader.set_epoch(0)
    with pytest.raises(UserError) as info:
        arrays(loader)
    # 24 draws + the replacement(s) of the bad one, counted by both workers into one total
    message = info.value.message
    assert re.fullmatch(r"Train\.dataset: 1 of 2[5-9] sample loads failed \(\d\.\d%, limit 1%\): (.*)", message)
    assert message.endswith(f"{tmp_path / 'train.txt'}:6: image does not decode")


def test_config_errors_name_the_key(tmp_path: Path):
    config = load_config(write_config(tmp_path))
    config.data["Train"]["loader"].pop("batch_size_per_card")
    with pytest.raises(ConfigError, match=r"Train.loader.batch_size_per_card is not set"):
        build_dataloader(config, "Train", seed=0)
    config = load_config(write_config(tmp_path), ["Eval.loader.collate_fn=DictCollator"])
    with pytest.raises(ConfigError, match="Eval.loader.collate_fn `DictCollator` is not supported"):
        build_dataloader(config, "Eval", seed=0)
    config = load_config(write_config(tmp_path, n=3))
    with pytest.raises(UserError, match="Train: 3 samples make no batch of 4 with drop_last"):
        build_dataloader(config, "Train", seed=0)
    with pytest.raises(ConfigError, match="the config has no `Eval` section"):
        build_dataloader({"Train": {}}, "Eval", seed=0)


# paddle's reader thread reports the worker's exception before the main thread re-raises it
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_that_gives_up_surfaces_as_one_clean_line(tmp_path: Path):
    config = load_config(write_config(tmp_path, n=8))
    for i in range(8):
        (tmp_path / "img" / f"{i}.png").write_bytes(b"broken")
    before = set(threading.enumerate())
    loader, dataset = build_dataloader(config, "Train", seed=1, num_workers=2)
    with pytest.raises(UserError) as info:
        arrays(loader)
    for thread in set(threading.enumerate()) - before:  # paddle's reader thread ends inside this test
        thread.join(timeout=10)
    message = info.value.message
    assert "\n" not in message and "Traceback" not in message
    match = re.match(r"Train\.dataset: (\d+) of (\d+) sample loads failed \((\d+\.\d)%, limit 1%\): ", message)
    assert match and int(match[1]) >= 50 and float(match[3]) > 90  # a draw in flight may not have failed yet


def test_loader_workers_capped_at_the_cores_of_this_rank(monkeypatch):
    from ocrrec.data.loader import capped_num_workers

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    monkeypatch.delenv("OCRREC_LOADER_WORKERS_CAP", raising=False)
    monkeypatch.delenv("PADDLE_LOCAL_SIZE", raising=False)
    assert capped_num_workers(8) == 4
    assert capped_num_workers(3) == 3
    assert capped_num_workers(0) == 0
    monkeypatch.setenv("PADDLE_LOCAL_SIZE", "2")
    assert capped_num_workers(8) == 2
    monkeypatch.setenv("OCRREC_LOADER_WORKERS_CAP", "0")
    assert capped_num_workers(8) == 8


def paddleocr_training_order(label_files: list[Path], seed: int, shuffle: bool, passes: int) -> list[list[bytes]]:
    """PaddleOCR 2.10's training order written out from its description (SimpleDataSet + DistributedBatchSampler):
    each file's lines (bytes, as readlines gives them) are `random.sample`d after `random.seed(seed)`, the
    list is `random.shuffle`d after `random.seed(seed)` when shuffle is on, and pass k (from 0) visits the
    positions shuffled by `np.random.RandomState(k)`. Unusable lines stay in the list (PaddleOCR swaps them at load time)."""
    import random

    lines: list[bytes] = []
    for path in label_files:
        with open(path, "rb") as f:
            content = f.readlines()
        random.seed(seed)
        lines.extend(random.sample(content, len(content)))
    if shuffle:
        random.seed(seed)
        random.shuffle(lines)
    out = []
    for k in range(passes):
        positions = list(range(len(lines)))
        if shuffle:
            np.random.RandomState(k).shuffle(positions)
        out.append([lines[p] for p in positions])
    return out


@pytest.mark.parametrize("shuffle", [False, True])
def test_training_visits_label_lines_in_paddleocr_order(tmp_path: Path, shuffle: bool):
    config = load_config(write_config(tmp_path, n=30), [f"Train.loader.shuffle={str(shuffle).lower()}", "Train.loader.drop_last=false"])
    train = tmp_path / "train.txt"
    second = tmp_path / "more.txt"
    second.write_text("img/3.png\tsecond\nimg/4.png\n\nimg/5.png\tthird\n")  # a line with no tab and a blank line
    config.set("Train.dataset.label_file_list", [str(train), str(second)])
    loader, dataset = build_dataloader(config, "Train", seed=None)
    assert len(dataset) == 32  # the two unusable lines of more.txt are dropped up front
    expected = paddleocr_training_order([train, second], seed=11, shuffle=shuffle, passes=3)
    for epoch in (1, 2, 3):
        loader.set_epoch(epoch)
        labels = [dataset._labels[int(dataset._order[i])] for batch in loader.batch_sampler for i in batch]
        usable = [line.split(b"\t")[1].strip().decode() for line in expected[epoch - 1] if b"\t" in line]
        assert labels == usable
