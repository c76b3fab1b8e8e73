from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ocrrec.config import Config, expand_override_args, load_config, parse_value
from ocrrec.errors import ConfigError, UsageError

BASE = textwrap.dedent(
    """\
    Global:
      use_gpu: true  # keep this comment
      epoch_num: 10
      save_model_dir: ./output/x
      eval_batch_step: [0, 500]
      character_dict_path: en
    Optimizer:
      name: Adam
      lr:
        name: Cosine
        learning_rate: 0.001
    Eval:
      dataset:
        name: SimpleDataSet
        transforms:
          - DecodeImage:
              img_mode: BGR
          - RecResizeImg:
              image_shape: [3, 32, 100]
      loader:
        batch_size_per_card: 8
    """
)


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.yml"
    path.write_text(BASE, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("True", True),
        ("false", False),
        ("1e-3", 1e-3),
        ("0.5", 0.5),
        ("12", 12),
        ("[3, 48, 320]", [3, 48, 320]),
        ("null", None),
        ("", None),
        ("./some/path.txt", "./some/path.txt"),
        ("{a: 1}", {"a": 1}),
        ("a: b: c", "a: b: c"),
    ],
)
def test_parse_value_kinds(text, expected):
    assert parse_value(text) == expected


def test_overrides_of_every_kind(cfg_file):
    cfg = load_config(
        cfg_file,
        [
            "Global.use_gpu=False",
            "Global.epoch_num=3",
            "Optimizer.lr.learning_rate=1e-4",
            "Global.rec_image_shape=[3, 48, 320]",
            "Global.checkpoints=null",
            "Global.save_model_dir=./out/run1",
        ],
    )
    g = cfg.glob
    assert g.use_gpu is False
    assert g.epoch_num == 3
    assert cfg.get("Optimizer.lr.learning_rate") == pytest.approx(1e-4)
    assert cfg.get("Global.rec_image_shape") == [3, 48, 320]
    assert g.checkpoints is None
    assert g.save_model_dir == Path("./out/run1")


def test_override_creates_missing_sections(cfg_file):
    cfg = load_config(cfg_file, ["Train.loader.batch_size_per_card=128", "Metric.name=RecMetric"])
    assert cfg.get("Train.loader.batch_size_per_card") == 128
    assert cfg.get("Metric.name") == "RecMetric"


def test_override_into_list_by_index(cfg_file):
    cfg = load_config(cfg_file, ["Eval.dataset.transforms.1.RecResizeImg.image_shape=[3, 48, 320]"])
    assert cfg.image_shape == (3, 48, 320)


def test_override_through_scalar_is_an_error(cfg_file):
    with pytest.raises(ConfigError, match=r"override `Global.epoch_num.x=1`: `Global.epoch_num` is 10, not a section"):
        load_config(cfg_file, ["Global.epoch_num.x=1"])


def test_override_without_equals(cfg_file):
    with pytest.raises(UsageError, match="override `Global.use_amp` has no `=`") as info:
        load_config(cfg_file, ["Global.use_amp"])
    assert "KEY.PATH=VALUE" in info.value.hint


@pytest.mark.parametrize("item", ["=3", "Global..x=3", ".x=1"])
def test_override_empty_key(cfg_file, item):
    with pytest.raises(UsageError, match="has an empty key"):
        load_config(cfg_file, [item])


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yml"):
        load_config(tmp_path / "nope.yml")


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("Global:\n  a: 1\n  b: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert str(info.value).startswith(f"{bad}:")
    assert "YAML syntax error" in str(info.value)
    line = int(str(info.value).split(":")[1])
    assert line >= 3


def test_duplicate_key_is_an_error(tmp_path):
    bad = tmp_path / "dup.yml"
    bad.write_text("Global:\n  a: 1\n  a: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dup\.yml:3:"):
        load_config(bad)


def test_unknown_key_warns_with_closest(cfg_file):
    cfg = load_config(cfg_file, ["Global.use_ampp=True"])
    assert "unknown key `Global.use_ampp` (did you mean `Global.use_amp`?)" in cfg.warnings


def test_unknown_key_in_file_and_section(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("Globl:\n  x: 1\nTrain:\n  loader:\n    batch_size_per_crad: 4\n", encoding="utf-8")
    cfg = load_config(path)
    assert "unknown section `Globl` (did you mean `Global`?)" in cfg.warnings
    assert "unknown key `Train.loader.batch_size_per_crad` (did you mean `Train.loader.batch_size_per_card`?)" in cfg.warnings


def test_known_keys_do_not_warn(cfg_file):
    assert load_config(cfg_file, ["Global.use_amp=True", "Global.scale_loss=1024"]).warnings == []


def test_top_level_must_be_mapping(tmp_path):
    path = tmp_path / "list.yml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(path)


def test_round_trip_save_keeps_comments_and_overrides(cfg_file, tmp_path):
    cfg = load_config(cfg_file, ["Global.epoch_num=7", "Global.new_key=abc"])
    out = cfg.save(tmp_path / "out" / "config.yml")
    text = out.read_text(encoding="utf-8")
    assert "# keep this comment" in text
    assert text.index("use_gpu") < text.index("epoch_num") < text.index("save_model_dir")
    again = load_config(out)
    assert again.to_dict() == cfg.to_dict()
    assert again.get("Global.epoch_num") == 7


def test_expand_override_args():
    argv = ["train", "-c", "x.yml", "-o", "A.b=1", "C.d=[1, 2]", "--device", "cpu", "-o", "E=2", "img.png"]
    assert expand_override_args(argv) == [
        "train", "-c", "x.yml", "-o", "A.b=1", "-o", "C.d=[1, 2]", "--device", "cpu", "-o", "E=2", "img.png",
    ]


def test_typed_accessors_defaults():
    cfg = Config(None)
    g = cfg.glob
    assert g.eval_batch_step == (0, 2000)
    assert g.max_text_length == 25
    assert cfg.image_shape == (3, 48, 320)


def test_eval_batch_step_integer_and_bad(cfg_file):
    assert load_config(cfg_file, ["Global.eval_batch_step=100"]).glob.eval_batch_step == (0, 100)
    with pytest.raises(ConfigError, match="eval_batch_step"):
        _ = load_config(cfg_file, ["Global.eval_batch_step=[1, 2, 3]"]).glob


def test_config_directory_uses_config_yml(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yml").write_text(BASE, encoding="utf-8")
    assert load_config(run).get("Global.epoch_num") == 10
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="directory without config.yml"):
        load_config(empty)
