from __future__ import annotations

import os
import pickle

import numpy as np
import paddle
import pytest

from ocrrec.engine import checkpoint as ck
from ocrrec.errors import UserError


def _model_state(value: float) -> dict:
    return {"backbone.w": paddle.full([3, 2], value), "head.fc.bias": paddle.full([4], value)}


def _states(step: int) -> dict:
    return {"best_model_dict": {"acc": 0.5}, "epoch": 2, "global_step": step, "ocrrec": {"step_in_epoch": 3}}


def test_prefix_normalisation(tmp_path):
    assert ck.checkpoint_prefix(tmp_path / "latest.pdparams") == tmp_path / "latest"
    assert ck.checkpoint_prefix(f"{tmp_path}/latest/") == tmp_path / "latest"
    assert ck.checkpoint_prefix(tmp_path / "best_accuracy") == tmp_path / "best_accuracy"


def test_round_trip_in_paddleocr_layout(tmp_path):
    prefix = ck.save_checkpoint(tmp_path / "latest", _model_state(1.0), {"lr": 0.1}, _states(10))
    for ext in (".pdparams", ".pdopt", ".states"):
        assert (tmp_path / f"latest{ext}").is_file()
    assert not list(tmp_path.glob("*.prev")) and not list(tmp_path.glob("*.tmp*"))
    # PaddleOCR reads .states with plain pickle and these keys
    with open(tmp_path / "latest.states", "rb") as handle:
        raw = pickle.load(handle, encoding="latin1")
    assert raw["epoch"] == 2 and raw["global_step"] == 10 and raw["best_model_dict"] == {"acc": 0.5}
    loaded = ck.load_checkpoint(prefix)
    assert loaded.global_step == 10 and loaded.epoch == 2 and not loaded.used_previous
    np.testing.assert_array_equal(loaded.params["backbone.w"].numpy(), np.ones([3, 2], "float32"))
    assert loaded.optimizer == {"lr": 0.1}


def test_kill_during_save_leaves_previous_checkpoint_loadable(tmp_path, monkeypatch):
    ck.save_checkpoint(tmp_path / "latest", _model_state(1.0), {"lr": 0.1}, _states(10))
    real_replace = os.replace
    calls = {"n": 0}

    def dying_replace(src, dst):
        if ".tmp" not in str(dst):  # a rename into the final name
            calls["n"] += 1
            if calls["n"] == 2:  # the new .pdparams is in place, .pdopt/.states are not: a torn set
                raise KeyboardInterrupt("killed")
        return real_replace(src, dst)

    monkeypatch.setattr(ck.os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(tmp_path / "latest", _model_state(2.0), {"lr": 0.2}, _states(20))
    monkeypatch.setattr(ck.os, "replace", real_replace)
    loaded = ck.load_checkpoint(tmp_path / "latest")
    assert loaded.used_previous
    assert loaded.global_step == 10
    np.testing.assert_array_equal(loaded.params["backbone.w"].numpy(), np.ones([3, 2], "float32"))
    # the next save repairs the set
    ck.save_checkpoint(tmp_path / "latest", _model_state(3.0), {"lr": 0.3}, _states(30))
    again = ck.load_checkpoint(tmp_path / "latest")
    assert again.global_step == 30 and not again.used_previous


def test_truncated_params_fall_back_or_fail_clearly(tmp_path):
    ck.save_checkpoint(tmp_path / "latest", _model_state(1.0), None, _states(1))
    (tmp_path / "latest.pdparams").write_bytes(b"garbage")
    with pytest.raises(UserError, match="is corrupt"):
        ck.load_checkpoint(tmp_path / "latest")


def test_missing_checkpoint(tmp_path):
    with pytest.raises(UserError, match=r"checkpoint not found: .*nothing\.pdparams"):
        ck.load_checkpoint(tmp_path / "nothing")


def test_paddleocr_checkpoint_without_digests_loads(tmp_path):
    paddle.save(_model_state(4.0), str(tmp_path / "best_accuracy.pdparams"))
    with open(tmp_path / "best_accuracy.states", "wb") as handle:
        pickle.dump({"best_model_dict": {"acc": 0.9}, "epoch": 7, "global_step": 700}, handle, protocol=2)
    loaded = ck.load_checkpoint(tmp_path / "best_accuracy")
    assert loaded.epoch == 7 and loaded.optimizer is None
