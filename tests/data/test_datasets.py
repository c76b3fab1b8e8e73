"""Datasets: records, label cleaning report, multi-image lines, failure replacement, LMDB, multi-scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ocrrec.data.datasets import LMDBDataSet, MultiScaleDataSet, SimpleDataSet, build_dataset
from ocrrec.data.lmdb_io import write_lmdb
from ocrrec.data.registry import DATA_OPS
from ocrrec.errors import ConfigError, UserError

KEYS = ["image", "label", "length", "valid_ratio"]


def png(width: int = 40, height: int = 16) -> bytes:
    img = np.full((height, width, 3), 255, np.uint8)
    img[:, ::4] = 0
    return cv2.imencode(".png", img)[1].tobytes()


def transforms(encoder: str = "CTCLabelEncode", shape=(3, 32, 100), keys=KEYS, resize=True) -> list:
    ops: list[Any] = [{"DecodeImage": {"img_mode": "BGR", "channel_first": False}}, {encoder: None}]
    if resize:
        ops.append({"RecResizeImg": {"image_shape": list(shape)}})
    ops.append({"KeepKeys": {"keep_keys": list(keys)}})
    return ops


GLOBAL = {"character_dict_path": "en", "max_text_length": 10, "use_space_char": True}


def make_dir(tmp_path: Path, lines: list[str], widths: dict[str, int] | None = None, name: str = "train.txt") -> Path:
    (tmp_path / "img").mkdir(exist_ok=True)
    for i in range(10):
        (tmp_path / "img" / f"{i}.png").write_bytes(png(30 + 10 * i))
    for rel, width in (widths or {}).items():
        (tmp_path / rel).write_bytes(png(width))
    (tmp_path / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return tmp_path / name


def simple(tmp_path: Path, label_file: Path, mode: str = "Train", seed: int | None = 0, **extra) -> SimpleDataSet:
    cfg = {"data_dir": str(tmp_path), "label_file_list": [str(label_file)], "transforms": transforms(), **extra}
    return SimpleDataSet(cfg, GLOBAL, mode=mode, seed=seed)


def test_samples_follow_keep_keys_with_paddleocr_dtypes(tmp_path: Path):
    ds = simple(tmp_path, make_dir(tmp_path, [f"img/{i}.png\tword {i}" for i in range(10)]))
    assert len(ds) == 10 and ds.keep_keys == KEYS
    image, label, length, valid_ratio = ds[3]
    assert image.shape == (3, 32, 100) and image.dtype == np.float32
    assert label.shape == (10,) and label.dtype == np.int64
    assert length.dtype == np.int64 and int(length) == 6
    assert valid_ratio.dtype == np.float32 and 0 < valid_ratio <= 1


def test_labels_are_cleaned_once_and_reported(tmp_path: Path):
    lines = [f"img/{i}.png\tok{i}" for i in range(6)]
    lines += ["img/6.png\t" + "x" * 11, "img/7.png\t" + "y" * 12, "img/8.png\t", "img/9.png\téèê", "no tab", "img/1.png\tab é"]
    ds = simple(tmp_path, make_dir(tmp_path, lines))
    assert len(ds) == 7
    report = ds.report()
    assert (report.total, report.kept, report.dropped_total) == (12, 7, 5)
    lf = tmp_path / "train.txt"
    assert report.summary() == (
        f"Train.dataset: dropped 5 of 12 samples: 2 longer than max_text_length=10 ({lf}:7, {lf}:8), "
        f"1 with a malformed line ({lf}:11 no delimiter between path and label), "
        f"1 with an empty label ({lf}:9), 1 with no character in the dictionary ({lf}:10); "
        f"characters not in the dictionary ('é' x1) are skipped in 1 label ({lf}:12)"
    )
    assert report.to_dict()["dropped"][0] == {
        "reason": "too_long",
        "description": "longer than max_text_length=10",
        "count": 2,
        "examples": [f"{lf}:7", f"{lf}:8"],
    }


def test_sar_branch_length_rule_is_reported(tmp_path: Path):
    lf = make_dir(tmp_path, ["img/0.png\t" + "a" * 9, "img/1.png\tab"])
    cfg = {
        "data_dir": str(tmp_path),
        "label_file_list": [str(lf)],
        "transforms": transforms("MultiLabelEncode", keys=["image", "label_ctc", "label_sar", "length", "valid_ratio"]),
    }
    ds = SimpleDataSet(cfg, GLOBAL, mode="Train")
    assert len(ds) == 1
    assert "1 with more than 8 known characters (the SAR branch needs 2 of max_text_length=10" in ds.report().summary()


def test_each_image_of_a_multi_image_line_is_drawn(tmp_path: Path):
    lf = make_dir(tmp_path, ['["img/0.png", "img/5.png", "img/9.png"]\tmulti'])
    ds = simple(tmp_path, lf)
    seen = set()
    for epoch in range(40):  # a sample's draws are seeded by (seed, epoch, index): one pick per epoch
        ds.set_epoch(epoch)
        seen.add(round(float(ds[0][3]), 4))
    expected = {round(min(1.0, np.ceil(32 * (30 + 10 * i) / 16) / 100), 4) for i in (0, 5, 9)}
    assert seen == expected


def test_a_corrupt_image_is_replaced_and_counted(tmp_path: Path):
    lf = make_dir(tmp_path, ["img/0.png\tgood", "bad.png\tbroken", "img/1.png\tfine"])
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    ds = simple(tmp_path, lf, mode="Eval")
    sample = ds[1]  # Eval replaces with the next sample, like PaddleOCR
    assert int(sample[2]) == 4  # "fine"
    snap = ds.load_snapshot()
    assert (snap.draws, snap.failures) == (2, 1)
    assert snap.first[0].message == "image does not decode"
    with pytest.raises(UserError) as info:
        ds.check_load_health(final=True)
    assert info.value.message == (
        f"Eval.dataset: 1 of 2 sample loads failed (50.0%, limit 1%): {lf}:2: image does not decode"
    )
    assert "1 of 2 loads failed and were replaced" in ds.report().summary()


def test_failures_below_one_percent_only_warn_once(tmp_path: Path, caplog):
    lf = make_dir(tmp_path, ["missing.png\tgone"] + [f"img/{i % 10}.png\tw{i}" for i in range(300)])
    ds = simple(tmp_path, lf, mode="Eval")
    for i in range(len(ds)):
        ds[i]
    with caplog.at_level("WARNING", logger="ocrrec.data"):
        first = ds.check_load_health()
        second = ds.check_load_health(final=True)
    assert first == (
        f"Eval.dataset: 1 of 302 sample loads failed so far and were replaced by other samples "
        f"({lf}:1: file not found: {tmp_path / 'missing.png'})"
    )
    assert second is None
    assert len([r for r in caplog.records if "failed so far" in r.message]) == 1


def test_missing_data_dir_label_file_and_empty_dataset(tmp_path: Path):
    with pytest.raises(UserError) as info:
        SimpleDataSet({"data_dir": str(tmp_path / "nope"), "label_file_list": ["x"], "transforms": transforms()}, GLOBAL)
    assert info.value.message == f"Train.dataset.data_dir: folder not found: {tmp_path / 'nope'}"
    with pytest.raises(UserError) as info:
        simple(tmp_path, tmp_path / "missing.txt", mode="Eval")
    assert info.value.message == f"Eval.dataset.label_file_list[0]: label file not found: {tmp_path / 'missing.txt'}"
    lf = make_dir(tmp_path, ["img/0.png\t" + "z" * 20])
    with pytest.raises(UserError) as info:
        simple(tmp_path, lf)
    assert info.value.message == (
        f"Train.dataset: no usable samples (dropped 1 of 1 samples: "
        f"1 longer than max_text_length=10 ({lf}:1))"
    )
    with pytest.raises(ConfigError, match=r"Train.dataset.label_file_list is not set"):
        SimpleDataSet({"data_dir": str(tmp_path), "transforms": transforms()}, GLOBAL)


def test_paths_outside_data_dir_are_refused(tmp_path: Path):
    lf = make_dir(tmp_path, ["img/0.png\tok", "../escape.png\tbad"])
    with pytest.raises(UserError) as info:
        simple(tmp_path, lf)
    assert info.value.message == f"{lf}:2: image path ../escape.png is outside data_dir {tmp_path}"


def test_ratio_list_samples_a_seeded_subset_per_epoch(tmp_path: Path):
    lf = make_dir(tmp_path, [f"img/{i % 10}.png\tw{i}" for i in range(100)])
    lf2 = tmp_path / "b.txt"
    lf2.write_text("".join(f"img/0.png\tb{i}\n" for i in range(10)))
    cfg = {"data_dir": str(tmp_path), "label_file_list": [str(lf), str(lf2)], "ratio_list": [0.3, 1.0],
           "transforms": transforms()}
    a = SimpleDataSet(cfg, GLOBAL, seed=5)
    b = SimpleDataSet(cfg, GLOBAL, seed=5)
    assert len(a) == 40
    assert np.array_equal(a._order, b._order)
    first = a._order.copy()
    a.set_epoch(1)
    assert len(a) == 40 and not np.array_equal(first, a._order)
    b.set_epoch(1)
    assert np.array_equal(a._order, b._order)
    assert set(a._order[30:].tolist()) == set(range(100, 110))  # ratio 1.0 keeps the whole second file
    with pytest.raises(ConfigError, match="ratio_list has 1 entries for 3 sources|ratio_list has 2 entries for 3"):
        SimpleDataSet({**cfg, "label_file_list": [str(lf)] * 3}, GLOBAL)


@DATA_OPS.register("_TestExtDataOp")
class _ExtDataProbe:
    """Test op: asks for 2 extra samples and records what it got."""

    ext_data_num = 2

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __call__(self, data: dict) -> dict:
        data["ext_shapes"] = np.array([e["image"].shape[1] for e in data["ext_data"]])
        data["ext_labels"] = "|".join(e["label"] for e in data["ext_data"])
        return data


def test_ext_data_is_loaded_through_the_first_ops(tmp_path: Path):
    lf = make_dir(tmp_path, [f"img/{i}.png\tw{i}" for i in range(10)])
    ops = [{"DecodeImage": {"img_mode": "BGR"}}, {"_TestExtDataOp": {"own": 1}}, {"KeepKeys": {"keep_keys": ["ext_shapes", "label"]}}]
    ds = SimpleDataSet({"data_dir": str(tmp_path), "label_file_list": [str(lf)], "transforms": ops}, GLOBAL)
    probe = ds.ops[1]
    assert probe.kwargs == {"own": 1, **GLOBAL}  # every op also gets the Global items
    shapes, _ = ds[0]
    assert shapes.shape == (2,) and set(shapes.tolist()) <= {30 + 10 * i for i in range(10)}


def test_delimiter_setting(tmp_path: Path):
    lf = make_dir(tmp_path, ["img/0.png hi there"])
    ds = simple(tmp_path, lf, delimiter=" ")
    assert int(ds[0][2]) == len("hi there")


def test_lmdb_dataset_reads_all_folders_and_cleans_labels(tmp_path: Path):
    write_lmdb(tmp_path / "lmdb" / "a", [(png(), "one"), (png(60), "two"), (png(), "x" * 30)])
    write_lmdb(tmp_path / "lmdb" / "b", [(png(), "three"), (b"garbage", "four")])
    write_lmdb(tmp_path / "lmdb" / ".ipynb_checkpoints", [(png(), "hidden")])
    cfg = {"name": "LMDBDataSet", "data_dir": str(tmp_path / "lmdb"), "transforms": transforms()}
    ds = build_dataset({"Global": GLOBAL, "Eval": {"dataset": cfg}}, "Eval")
    assert isinstance(ds, LMDBDataSet) and len(ds) == 4
    assert ds.report().dropped[0].examples == [f"{tmp_path / 'lmdb' / 'a'}:3"]
    assert int(ds[1][2]) == 3  # "two"
    assert int(ds[3][2]) == 3  # "four" does not decode: replaced by the next sample ("one")
    assert ds.load_snapshot().first[0].record == 3


def test_lmdb_dataset_without_lmdb_names_the_key(tmp_path: Path):
    with pytest.raises(UserError) as info:
        LMDBDataSet({"data_dir": str(tmp_path), "transforms": transforms()}, GLOBAL, mode="Eval")
    assert info.value.message == f"Eval.dataset.data_dir: no LMDB (data.mdb) under {tmp_path}"


def test_multiscale_dataset_resizes_to_the_requested_size(tmp_path: Path):
    lf = make_dir(tmp_path, [f"img/{i}.png\tw{i}" for i in range(10)])
    cfg = {"name": "MultiScaleDataSet", "data_dir": str(tmp_path), "label_file_list": [str(lf)],
           "transforms": transforms(resize=False)}
    ds = build_dataset({"Global": GLOBAL, "Train": {"dataset": cfg}}, "Train")
    assert isinstance(ds, MultiScaleDataSet)
    image, label, length, ratio = ds[(320, 48, 2)]
    assert image.shape == (3, 48, 320) and int(length) == 2
    assert ds[(160, 32, 2, None)][0].shape == (3, 32, 160)


def test_multiscale_ds_width_reads_sizes_from_the_label_lines(tmp_path: Path):
    lf = make_dir(tmp_path, ["img/0.png\tab\t30\t16", "img/9.png\tcd\t120\t16", "img/1.png\tbad"])
    cfg = {"data_dir": str(tmp_path), "label_file_list": [str(lf)], "ds_width": True,
           "transforms": transforms(resize=False)}
    ds = MultiScaleDataSet(cfg, GLOBAL)
    assert len(ds) == 2 and "ds_width needs path, label, width, height" in ds.report().summary()
    assert sorted(ds.wh_ratio.tolist()) == [30 / 16, 120 / 16]
    assert ds.wh_ratio[ds.wh_ratio_sort].tolist() == [30 / 16, 120 / 16]
    image = ds[(0, 32, 1, 7.5)][0]
    assert image.shape == (3, 32, 32 * 8)  # width = height * round(wh_ratio)
