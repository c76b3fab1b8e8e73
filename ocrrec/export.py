"""Export a trained recognizer as a self-describing inference model and verify it.

`export_model()` writes `inference.json` (PIR) or `inference.pdmodel` (legacy program) plus
`inference.pdiparams`, and `inference.yml` carrying everything inference needs: the input shape,
the exact preprocessing (the Eval transforms), the character list and `use_space_char`. It then
runs the exported file with `paddle.inference` and checks it predicts what the checkpoint predicts.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocrrec import __version__
from ocrrec.config import Config
from ocrrec.errors import UserError

FORMATS = ("pir", "legacy")
PARITY_TOLERANCE = 1e-4
LABEL_OPS_SUFFIXES = ("LabelEncode",)
TRAIN_ONLY_OPS = {"KeepKeys", "RecAug", "RecConAug", "BaseDataAugmentation", "SVTRRecAug", "ParseQRecAug"}


@dataclass
class ParityResult:
    images: int
    max_abs_diff: float
    mismatched_texts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= PARITY_TOLERANCE and not self.mismatched_texts

    def verdict(self) -> str:
        state = "PASS" if self.passed else "FAIL"
        text = f"parity {state}: {self.images} images, max |Δprob| = {self.max_abs_diff:.2e} (limit {PARITY_TOLERANCE:.0e})"
        if self.mismatched_texts:
            text += f", {len(self.mismatched_texts)} decoded strings differ (first: {self.mismatched_texts[0][0]!r} vs {self.mismatched_texts[0][1]!r})"
        else:
            text += ", decoded strings identical"
        return text


@dataclass
class ExportReport:
    out_dir: Path
    files: list[Path]
    fmt: str
    input_shape: list[int | None]
    num_classes: int
    weights: str
    parity: ParityResult | None
    onnx_parity: ParityResult | None = None
    openvino_parity: ParityResult | None = None
    openvino_note: str | None = None  # why OpenVINO (installed) cannot run this export


def inference_transforms(config: Config) -> list[dict]:
    """The Eval transforms without label encoders and training-only ops: what inference applies.

    Global keys an op names as parameters (e.g. RecResizeImg's `infer_mode`) are written into its
    arguments, because the data pipeline passes the Global section to every op.
    """
    import inspect

    from ocrrec.data import ops as _ops  # noqa: F401  (registers the data ops)
    from ocrrec.data.registry import DATA_OPS

    glob = config.section("Global")
    ops = []
    for op in config.get("Eval.dataset.transforms") or config.get("Train.dataset.transforms") or []:
        if not isinstance(op, dict) or len(op) != 1:
            continue
        (name, args), = op.items()
        if name.endswith(LABEL_OPS_SUFFIXES) or name in TRAIN_ONLY_OPS:
            continue
        args = dict(copy.deepcopy(args) or {})
        if name in DATA_OPS:
            params = inspect.signature(DATA_OPS.get(name).__init__).parameters
            args.update({k: v for k, v in glob.items() if k in params and k not in ("self", "kwargs")})
        ops.append({name: args})
    if not any("Resize" in next(iter(op)) for op in ops):
        c, h, w = config.image_shape
        ops.append({"RecResizeImg": {"image_shape": [c, h, w]}})
    return ops


def _algorithm(config: Config, sub_model: str | None) -> str | None:
    """The exported network's algorithm (a distillation export names its sub-model's)."""
    models = config.get("Architecture.Models")
    if isinstance(models, dict) and models:
        name = sub_model or ("Student" if "Student" in models else next(iter(models)))
        return (models.get(name) or {}).get("algorithm")
    return config.get("Architecture.algorithm")


def _model_name(config: Config, sub_model: str | None) -> str:
    return str(config.get("Global.model_name") or config.get("Global.pdx_model_name") or _algorithm(config, sub_model) or "rec")


def build_inference_yml(
    config: Config, charset: Any, num_classes: int, input_shape: list[int | None], sub_model: str | None = None
) -> dict:
    """inference.yml in PaddleOCR/PaddleX's layout (Global, PreProcess, PostProcess) plus an `ocrrec` block."""
    transforms = inference_transforms(config)
    post = {"name": "CTCLabelDecode", "character_dict": charset.file_characters(), "use_space_char": bool(charset.use_space_char)}
    return {
        "Global": {"model_name": _model_name(config, sub_model)},
        "PreProcess": {"transform_ops": transforms},
        "PostProcess": post,
        "ocrrec": {
            "version": __version__,
            "algorithm": _algorithm(config, sub_model),
            "input_shape": list(config.image_shape),
            "input_spec": input_shape,
            "num_classes": int(num_classes),
            "blank_index": 0,
            "use_space_char": bool(charset.use_space_char),
            "dictionary_source": charset.source,
            "normalization": {"scale": 1 / 255.0, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "pad_value": 0.0},
            "transforms": transforms,
            "character_dict_path": config.glob.character_dict_path,
            "max_text_length": config.glob.max_text_length,
        },
    }


def _reparameterize(model: Any) -> None:
    """Fuse re-parameterisable branches (PP-OCRv4's PPLCNetV3) for inference, as PaddleOCR's export does."""
    for layer in model.sublayers():
        if hasattr(layer, "rep") and not getattr(layer, "is_repped", False):
            layer.rep()


def _inference_net(model: Any, name: str | None) -> Any:
    """The network to export: a distillation model exports one of its sub-models."""
    models = getattr(model, "model_dict", None) or getattr(model, "models", None)
    if name is None and models is None:
        return model
    if models is None:
        raise UserError(f"--model-name {name}: this is not a distillation model")
    chosen = name or ("Student" if "Student" in models else next(iter(models)))
    if chosen not in models:
        raise UserError(f"--model-name {chosen}: not in the model ({', '.join(models)})")
    return models[chosen]


def _materialise_rnn_dropout_states(net: Any) -> None:
    """Give each LSTM/GRU's (unused at inference) dropout-state buffer a real, empty tensor.

    Paddle 3.x leaves it without a place in dynamic graph, and the legacy program translator
    fails on it ("Unknown place type"); PaddleOCR's own legacy export of CRNN fails the same way.
    """
    import paddle
    from paddle.nn.layer.rnn import RNNBase

    for layer in net.sublayers(include_self=True):
        if isinstance(layer, RNNBase) and hasattr(layer, "_dropout_state"):
            state = paddle.zeros([0], dtype="uint8")
            state.name = layer._dropout_state.name
            state.persistable = False
            state.stop_gradient = True
            layer._dropout_state = state


def save_inference_model(net: Any, prefix: Path, input_spec: list, fmt: str) -> list[Path]:
    import paddle

    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r}", "use --pir or --legacy")
    if fmt == "legacy":
        _materialise_rnn_dropout_states(net)
    guard = paddle.pir_utils.IrGuard if fmt == "pir" else paddle.pir_utils.OldIrGuard
    with guard():
        static = paddle.jit.to_static(net, input_spec=input_spec, full_graph=True)
        paddle.jit.save(static, str(prefix))
    model_file = prefix.with_name(prefix.name + (".json" if fmt == "pir" else ".pdmodel"))
    params_file = prefix.with_name(prefix.name + ".pdiparams")
    if not model_file.is_file() or not params_file.is_file():
        raise RuntimeError(f"paddle.jit.save did not write {model_file.name} + {params_file.name}")
    return sorted(p for p in prefix.parent.iterdir() if p.name.startswith(prefix.name + "."))


def compile_inference_engine(model: Any, image_shape: tuple[int, int, int], threads: int | None = None) -> Any:
    """A paddle.inference predictor of `model` as it is now (its weights are copied, it is not changed)."""
    import tempfile

    import paddle

    from ocrrec.engine.device import cpu_threads_per_rank
    from ocrrec.predict import PaddleInferenceEngine

    net = copy.deepcopy(model)
    net.eval()
    _reparameterize(net)
    c, h, _w = image_shape
    spec = [paddle.static.InputSpec(shape=[None, c, h, None], dtype="float32", name="x")]
    with tempfile.TemporaryDirectory(prefix="ocrrec-compiled-") as folder:
        save_inference_model(net, Path(folder) / "inference", spec, "pir")
        return PaddleInferenceEngine(Path(folder), device="cpu", threads=threads or cpu_threads_per_rank())


def export_model(
    config: Config,
    out_dir: Path,
    *,
    fmt: str = "pir",
    model_name: str | None = None,
    parity_images: list[np.ndarray] | None = None,
    parity_count: int = 8,
    onnx: bool = False,
    force: bool = False,
    reporter: Any = None,
) -> ExportReport:
    """Build the model from `config`, load its weights, export, write inference.yml, check parity."""
    import paddle

    from ocrrec.charset import Charset
    from ocrrec.engine.evaluator import load_model_weights
    from ocrrec.modeling import build_model
    from ocrrec.utils.io import atomic_write_text

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise UserError(f"{out_dir} exists and is not empty", "pass --force to overwrite, or choose another --out")
    paddle.device.set_device("cpu")
    glob = config.glob
    charset = Charset.from_spec(glob.character_dict_path, glob.use_space_char)
    model = build_model(config.section("Architecture"), charset)
    weights = load_model_weights(config, model, reporter)
    model.eval()
    net = _inference_net(model, model_name)
    reference = copy.deepcopy(net)
    reference.eval()
    _reparameterize(net)
    c, h, _w = config.image_shape
    input_spec = [paddle.static.InputSpec(shape=[None, c, h, None], dtype="float32", name="x")]
    staging = out_dir.with_name(out_dir.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    save_inference_model(net, staging / "inference", input_spec, fmt)
    from ocrrec.predict import probe_num_classes

    num_classes = probe_num_classes(reference, (c, h, config.image_shape[2]))
    meta = build_inference_yml(config, charset, num_classes, [None, c, h, None], model_name)
    atomic_write_text(staging / "inference.yml", _dump_yaml(meta))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    files = sorted(out_dir.iterdir())

    from ocrrec.predict import (
        DygraphEngine,
        OnnxEngine,
        PaddleInferenceEngine,
        build_recognizer_parts,
        check_parity,
        parity_samples,
    )

    onnx_path = export_onnx(out_dir) if onnx else None
    if onnx_path is not None:
        files.append(onnx_path)
    report = ExportReport(out_dir, files, fmt, [None, c, h, None], num_classes, weights, None)
    samples = parity_images if parity_images is not None else parity_samples(config, parity_count)
    if samples:
        preprocess, decoder = build_recognizer_parts(meta)
        expected = DygraphEngine(reference)
        report.parity = check_parity(expected, PaddleInferenceEngine(out_dir, device="cpu"), preprocess, decoder, samples)
        if onnx_path is not None:
            report.onnx_parity = check_parity(expected, OnnxEngine(onnx_path), preprocess, decoder, samples)
        _check_openvino(report, expected, preprocess, decoder, samples)
    return report


def _check_openvino(report: ExportReport, expected: Any, preprocess: Any, decoder: Any, samples: list[np.ndarray]) -> None:
    """Where `ocrrec infer --backend auto` will run this export on OpenVINO, check that engine too.

    OpenVINO runs in a spawned process of its own: it must not share one with Paddle (`paddle_openvino_clash`).
    """
    from ocrrec.predict import (
        RecordedEngine,
        check_parity,
        openvino_available,
        openvino_model_file,
        openvino_outputs_isolated,
    )

    if not openvino_available():
        return
    if openvino_model_file(report.out_dir) is None:
        report.openvino_note = ("OpenVINO (installed) cannot read PIR programs, so `ocrrec infer` runs this export on "
                                "Paddle Inference; export with --legacy for OpenVINO, the faster CPU engine")
        return
    try:
        outputs = openvino_outputs_isolated(report.out_dir, [preprocess([image]) for image in samples])
    except UserError as exc:
        report.openvino_note = f"{exc.message}; `ocrrec infer` will use Paddle Inference"
        return
    report.openvino_parity = check_parity(expected, RecordedEngine(outputs, "OpenVINO"), preprocess, decoder, samples)


def export_onnx(model_dir: Path) -> Path:
    """Convert the exported Paddle model with paddle2onnx (optional extra `ocrrec[onnx]`)."""
    try:
        import paddle2onnx  # noqa: F401
    except ImportError:
        raise UserError("--onnx needs paddle2onnx and onnxruntime", "pip install 'ocrrec[onnx]'") from None
    import subprocess
    import sys

    model_file = "inference.json" if (model_dir / "inference.json").is_file() else "inference.pdmodel"
    target = model_dir / "inference.onnx"
    proc = subprocess.run(
        [sys.executable, "-m", "paddle2onnx.command", "--model_dir", str(model_dir), "--model_filename", model_file,
         "--params_filename", "inference.pdiparams", "--save_file", str(target), "--opset_version", "14"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0 or not target.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"paddle2onnx failed: {tail[0]}")
    return target


def _dump_yaml(data: dict) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()
