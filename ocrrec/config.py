"""The one config loader: PaddleOCR-style YAML + `-o KEY.PATH=VALUE` overrides.

Every subcommand loads its config here. Typed accessors (`Config.glob`,
`Config.image_shape`, ...) keep string-keyed digging out of the rest of the code.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrrec.errors import ConfigError, UsageError

SECTIONS = ("Global", "Architecture", "Loss", "Optimizer", "PostProcess", "Metric", "Train", "Eval")

# Keys PaddleOCR's recognition configs and tools read, per section; anything else
# in these sections gets a "did you mean" warning (never an error: new keys appear).
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "Global": frozenset(
        """
        allow_resize_largeImg amp_custom_black_list amp_custom_white_list amp_dtype amp_level
        cal_metric_during_train calc_epoch_interval character_dict_path character_type checkpoints
        d2s_train_image_shape debug distributed epoch_num eval_batch_epoch eval_batch_step
        export_with_pir find_unused_parameters infer_img infer_list infer_mode input_size
        log_ranks log_smooth_window max_new_tokens max_seq_len max_text_length model_name num_heads
        pdx_model_name pretrained_model print_batch_step print_mem_info rec_char_dict_path
        rec_image_shape rm_symbol save_epoch_step save_inference_dir save_model_dir save_res_path
        scale_loss seed start_ema training_step uniform_output_enabled use_amp use_dynamic_loss_scaling
        use_gcu use_gpu use_mlu use_npu use_space_char use_sync_bn use_tensorboard use_visualdl
        use_wandb use_xpu to_static max_nan_steps device
        """.split()
    ),
    "Optimizer": frozenset(
        """
        name beta1 beta2 clip_norm clip_norm_global epsilon group_lr lr momentum
        no_weight_decay_name one_dim_param_no_weight_decay regularizer rho weight_decay
        """.split()
    ),
    "Architecture": frozenset(
        "model_type algorithm name Transform Backbone Neck Head Models in_channels".split()
    ),
    "Train": frozenset(["dataset", "loader", "sampler"]),
    "Eval": frozenset(["dataset", "loader", "sampler"]),
}
KNOWN_LOADER_KEYS = frozenset(
    "shuffle drop_last batch_size_per_card num_workers use_shared_memory collate_fn".split()
)
DEFAULT_IMAGE_SHAPE = (3, 48, 320)
_OVERRIDE_TOKEN = re.compile(r"^[A-Za-z_][\w.\-]*=")


def _yaml(kind: str = "rt"):
    from ruamel.yaml import YAML

    y = YAML(typ=kind)
    y.preserve_quotes = True
    y.width = 4096
    return y


def parse_value(text: str) -> Any:
    """Parse an override value the way PaddleOCR does: as a YAML scalar/flow value."""
    if text.strip() == "":
        return None
    try:
        return _yaml("safe").load(text)
    except Exception:
        return text


def expand_override_args(argv: Sequence[str]) -> list[str]:
    """Let one `-o` take several pairs (`-o A=1 B=2`), as PaddleOCR's tools accept.

    Tokens after `-o`/`--override` that look like `KEY.PATH=VALUE` each get their
    own `-o`, so Typer (one value per option) sees `-o A=1 -o B=2`.
    """
    out: list[str] = []
    in_overrides = False
    for token in argv:
        if token in ("-o", "--override"):
            in_overrides = True
            out.append(token)
            continue
        if in_overrides and out and out[-1] not in ("-o", "--override") and _OVERRIDE_TOKEN.match(token):
            out.extend(["-o", token])
            continue
        if in_overrides and out and out[-1] in ("-o", "--override"):
            out.append(token)
            continue
        in_overrides = False
        out.append(token)
    return out


def to_plain(value: Any) -> Any:
    """Deep-convert ruamel round-trip containers and scalars into plain Python types."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return bool(value) if type(value).__name__ == "ScalarBoolean" else int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _closest(key: str, known: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return match[0] if match else None


@dataclass(frozen=True)
class GlobalSettings:
    """The `Global` section with PaddleOCR's defaults, as typed values."""

    use_gpu: bool
    epoch_num: int
    log_smooth_window: int
    print_batch_step: int
    save_model_dir: Path
    save_epoch_step: int
    eval_batch_step: tuple[int, int]
    cal_metric_during_train: bool
    pretrained_model: str | None
    checkpoints: str | None
    save_inference_dir: Path | None
    character_dict_path: str | None
    max_text_length: int
    use_space_char: bool
    use_amp: bool
    scale_loss: float
    use_dynamic_loss_scaling: bool
    amp_level: str
    amp_dtype: str
    amp_custom_black_list: tuple[str, ...]
    amp_custom_white_list: tuple[str, ...]
    seed: int | None
    use_visualdl: bool
    use_tensorboard: bool
    to_static: bool
    max_nan_steps: int
    distributed: bool


class Config:
    """A loaded config: the round-trip YAML tree plus typed accessors."""

    def __init__(self, data: Any, source: Path | None = None) -> None:
        from ruamel.yaml.comments import CommentedMap

        if data is None:
            data = CommentedMap()
        if not isinstance(data, Mapping):
            where = source or "config"
            raise ConfigError(f"{where}: the top level must be a mapping of sections ({', '.join(SECTIONS)})")
        self.data = data
        self.source = source
        self.warnings: list[str] = []
        self._check_known_keys()

    # -- generic access -------------------------------------------------
    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return default
        return to_plain(node)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return to_plain(value) if isinstance(value, Mapping) else {}

    def has(self, name: str) -> bool:
        return isinstance(self.data.get(name), Mapping)

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self.data)

    def set(self, dotted: str, value: Any) -> None:
        """Set a value, creating missing intermediate sections."""
        _assign(self.data, dotted, value, origin=dotted)

    # -- overrides ------------------------------------------------------
    def apply_overrides(self, overrides: Iterable[str]) -> None:
        for item in overrides:
            if "=" not in item:
                raise UsageError(
                    f"override `{item}` has no `=`",
                    "write KEY.PATH=VALUE, e.g. -o Global.use_amp=True",
                )
            key, _, raw = item.partition("=")
            key = key.strip()
            if not key or any(part == "" for part in key.split(".")):
                raise UsageError(f"override `{item}` has an empty key", "write KEY.PATH=VALUE")
            _assign(self.data, key, parse_value(raw), origin=item)
            self._warn_unknown(key.split("."))

    # -- checks ---------------------------------------------------------
    def _check_known_keys(self) -> None:
        for section, value in self.data.items():
            if section not in SECTIONS and section != "profiler_options":
                hint = _closest(str(section), SECTIONS)
                extra = f" (did you mean `{hint}`?)" if hint else ""
                self.warnings.append(f"unknown section `{section}`{extra}")
                continue
            if isinstance(value, Mapping):
                for key in value:
                    self._warn_unknown([str(section), str(key)])
                    if section in ("Train", "Eval") and key == "loader" and isinstance(value[key], Mapping):
                        for lkey in value[key]:
                            self._warn_unknown([str(section), "loader", str(lkey)])

    def _warn_unknown(self, parts: list[str]) -> None:
        if len(parts) == 2 and parts[0] in KNOWN_KEYS:
            known = KNOWN_KEYS[parts[0]]
        elif len(parts) == 3 and parts[0] in ("Train", "Eval") and parts[1] == "loader":
            known = KNOWN_LOADER_KEYS
        else:
            return
        if parts[-1] in known:
            return
        hint = _closest(parts[-1], known)
        prefix = ".".join(parts[:-1])
        extra = f" (did you mean `{prefix}.{hint}`?)" if hint else ""
        message = f"unknown key `{'.'.join(parts)}`{extra}"
        if message not in self.warnings:
            self.warnings.append(message)

    # -- saving ---------------------------------------------------------
    def dump(self) -> str:
        buf = io.StringIO()
        _yaml("rt").dump(self.data, buf)
        return buf.getvalue()

    def save(self, path: Path) -> Path:
        """Write the effective config (comments and key order kept) atomically."""
        from ocrrec.utils.io import atomic_write_text

        atomic_write_text(Path(path), self.dump())
        return Path(path)

    # -- typed accessors --------------------------------------------------
    @property
    def glob(self) -> GlobalSettings:
        g = self.section("Global")
        eval_step = g.get("eval_batch_step", [0, 2000])
        if isinstance(eval_step, (int, float)):
            eval_step = [0, int(eval_step)]
        if not (isinstance(eval_step, list) and len(eval_step) == 2):
            raise ConfigError(
                f"Global.eval_batch_step must be [start, every] or an integer, got {eval_step!r}"
            )
        save_inf = g.get("save_inference_dir")
        return GlobalSettings(
            use_gpu=bool(g.get("use_gpu", False)),
            epoch_num=int(g.get("epoch_num", 500)),
            log_smooth_window=int(g.get("log_smooth_window", 20)),
            print_batch_step=max(1, int(g.get("print_batch_step", 10))),
            save_model_dir=Path(g.get("save_model_dir") or "./output/rec"),
            save_epoch_step=max(1, int(g.get("save_epoch_step", 1) or 1)),
            eval_batch_step=(int(eval_step[0]), max(1, int(eval_step[1]))),
            cal_metric_during_train=bool(g.get("cal_metric_during_train", True)),
            pretrained_model=_none_if_empty(g.get("pretrained_model")),
            checkpoints=_none_if_empty(g.get("checkpoints")),
            save_inference_dir=Path(save_inf) if save_inf else None,
            character_dict_path=_none_if_empty(g.get("character_dict_path")),
            max_text_length=int(g.get("max_text_length", 25)),
            use_space_char=bool(g.get("use_space_char", False)),
            use_amp=bool(g.get("use_amp", False)),
            scale_loss=float(g.get("scale_loss", 1.0)),
            use_dynamic_loss_scaling=bool(g.get("use_dynamic_loss_scaling", False)),
            amp_level=str(g.get("amp_level", "O1")),
            amp_dtype=str(g.get("amp_dtype", "float16")),
            amp_custom_black_list=tuple(g.get("amp_custom_black_list") or ()),
            amp_custom_white_list=tuple(g.get("amp_custom_white_list") or ()),
            seed=None if g.get("seed") is None else int(g["seed"]),
            use_visualdl=bool(g.get("use_visualdl", False)),
            use_tensorboard=bool(g.get("use_tensorboard", False)),
            to_static=bool(g.get("to_static", False)),
            max_nan_steps=int(g.get("max_nan_steps", 10)),
            distributed=bool(g.get("distributed", False)),
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The model's input shape [C, H, W] as the Eval (then Train) resize op says."""
        for section in ("Eval", "Train"):
            for op in self.get(f"{section}.dataset.transforms", []) or []:
                if not isinstance(op, Mapping) or len(op) != 1:
                    continue
                (name, args), = op.items()
                if isinstance(args, Mapping) and "image_shape" in args and "Resize" in name:
                    return _shape3(args["image_shape"], f"{section}.dataset.transforms.{name}.image_shape")
        for key in ("rec_image_shape", "d2s_train_image_shape"):
            value = self.get(f"Global.{key}")
            if value:
                return _shape3(value, f"Global.{key}")
        return DEFAULT_IMAGE_SHAPE


def _shape3(value: Any, where: str) -> tuple[int, int, int]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be [C, H, W], got {value!r}") from None
    if len(shape) != 3:
        raise ConfigError(f"{where} must be [C, H, W], got {value!r}")
    return shape  # type: ignore[return-value]


def _none_if_empty(value: Any) -> Any:
    return None if value in (None, "", "None", "null") else value


def _assign(root: Any, dotted: str, value: Any, origin: str) -> None:
    from ruamel.yaml.comments import CommentedMap

    parts = dotted.split(".")
    node = root
    walked: list[str] = []
    for part in parts[:-1]:
        walked.append(part)
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"override `{origin}`: `{'.'.join(walked[:-1])}` is a list; `{part}` is not an index in it")
            node = node[int(part)]
            continue
        if not isinstance(node, Mapping):
            raise ConfigError(f"override `{origin}`: `{'.'.join(walked[:-1])}` is {node!r}, not a section")
        if part not in node or node[part] is None:
            node[part] = CommentedMap()
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"override `{origin}`: `{'.'.join(parts[:-1])}` is a list; `{last}` is not an index in it")
        node[int(last)] = value
        return
    if not isinstance(node, Mapping):
        raise ConfigError(f"override `{origin}`: `{'.'.join(parts[:-1])}` is {node!r}, not a section")
    node[last] = value


def load_config(path: Path | str | None, overrides: Iterable[str] = ()) -> Config:
    """Read a PaddleOCR-style YAML config and apply `-o` overrides."""
    data = None
    source = None
    if path is not None:
        source = Path(path)
        if source.is_dir():
            candidate = source / "config.yml"
            if not candidate.is_file():
                raise ConfigError(f"{source} is a directory without config.yml", "pass the YAML file with -c")
            source = candidate
        if not source.is_file():
            raise ConfigError(f"config file not found: {source}", "check the path given to -c/--config")
        text = source.read_text(encoding="utf-8-sig")
        data = _load_yaml_text(text, str(source))
    config = Config(data, source)
    config.apply_overrides(overrides)
    return config


def _load_yaml_text(text: str, where: str) -> Any:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return _yaml("rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{loc}: YAML syntax error: {problem}") from None
    except YAMLError as exc:
        raise ConfigError(f"{where}: YAML error: {exc}") from None
