"""ocrrec's native CPU kernels (depthwise conv2d, hard-swish) agree with Paddle's ops, fall back
cleanly when disabled or when the build fails, build safely when two processes start at once,
and never reach traced/exported programs.

The ops are built once into the user's cache (~/.cache/ocrrec/ops or OCRREC_CACHE_DIR) and reused.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddle import nn

from ocrrec.modeling.backbones.mobilenet_v1_enhance import MobileNetV1Enhance
from ocrrec.modeling.backbones.mobilenet_v3 import MobileNetV3
from ocrrec.modeling.backbones.pplcnet_v3 import PPLCNetV3
from ocrrec.modeling.native import (
    DepthwiseConv2D,
    Hardswish,
    NativeOps,
    build,
    depthwise_geometry,
    hardswish,
    layers,
    load_native_ops,
    native_ops_status,
)

REPO = Path(__file__).resolve().parents[2]
TOL = {"rtol": 1e-5, "atol": 1e-5}


def assert_close(got: np.ndarray, want: np.ndarray, name: str = "") -> None:
    """Within 1e-5, relative to each element and to the tensor's scale (a weight gradient sums
    thousands of products, so float32 rounding differs with the summation order)."""
    assert got.shape == want.shape, name
    scale = max(1.0, float(np.abs(want).max()) if want.size else 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale, err_msg=name)


@pytest.fixture(scope="module")
def ops() -> NativeOps:
    build.reset_native_ops_for_tests()
    loaded = load_native_ops()
    assert loaded is not None, f"native ops did not load: {native_ops_status()}"
    return loaded


@pytest.fixture
def count_native_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the native ops called while the test runs."""
    calls: list[str] = []
    conv, swish = NativeOps.depthwise_conv2d, NativeOps.hardswish

    def counted_conv(self, *args, **kwargs):
        calls.append("depthwise_conv2d")
        return conv(self, *args, **kwargs)

    def counted_swish(self, *args, **kwargs):
        calls.append("hardswish")
        return swish(self, *args, **kwargs)

    monkeypatch.setattr(NativeOps, "depthwise_conv2d", counted_conv)
    monkeypatch.setattr(NativeOps, "hardswish", counted_swish)
    return calls


def _conv_pair(channels: int, kernel: int, stride, padding) -> tuple[DepthwiseConv2D, nn.Conv2D]:
    fast = DepthwiseConv2D(channels, channels, kernel, stride=stride, padding=padding, groups=channels, bias_attr=False)
    ref = nn.Conv2D(channels, channels, kernel, stride=stride, padding=padding, groups=channels, bias_attr=False)
    ref.weight.set_value(fast.weight)
    return fast, ref


def _forward_backward(layer: nn.Layer, x_np: np.ndarray, seed: int = 3) -> list[np.ndarray]:
    """Output, input gradient and weight gradient of sum(out * random)."""
    x = paddle.to_tensor(x_np, stop_gradient=False)
    out = layer(x)
    upstream = paddle.to_tensor(np.random.default_rng(seed).standard_normal(out.shape).astype("float32"))
    (out * upstream).sum().backward()
    grads = [out.numpy(), x.grad.numpy(), layer.weight.grad.numpy()]
    layer.clear_gradients()
    return grads


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (2, 1), (1, 2)])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_depthwise_matches_paddle(ops: NativeOps, count_native_calls: list[str], kernel: int, stride, padding) -> None:
    fast, ref = _conv_pair(3, kernel, stride, padding)
    x = np.random.default_rng(kernel * 100 + padding).standard_normal((2, 3, 7, 9)).astype("float32")
    for name, got, want in zip(("out", "dx", "dw"), _forward_backward(fast, x), _forward_backward(ref, x), strict=True):
        assert_close(got, want, name)
    assert count_native_calls == ["depthwise_conv2d"]


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "padding"),
    [
        ((1, 5, 1, 1), 1, (1, 1), 0),  # 1x1 kernel on a single pixel, batch 1
        ((1, 4, 3, 50), 5, (1, 1), 2),  # kernel taller than the input
        ((1, 2, 11, 13), (3, 5), (3, 2), (1, 2)),  # rectangular kernel, stride 3, mixed padding
        ((3, 6, 8, 31), 3, (2, 1), 1),  # MobileNetV3's vertical stride, odd width
    ],
)
def test_depthwise_edge_shapes(ops: NativeOps, count_native_calls: list[str], shape, kernel, stride, padding) -> None:
    fast, ref = _conv_pair(shape[1], kernel, stride, padding)
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    for name, got, want in zip(("out", "dx", "dw"), _forward_backward(fast, x), _forward_backward(ref, x), strict=True):
        assert_close(got, want, name)
    assert count_native_calls == ["depthwise_conv2d"]


def test_depthwise_threads_agree(ops: NativeOps) -> None:
    """Big enough to run the OpenMP path: 1 and 3 threads give Paddle's numbers."""
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((4, 16, 16, 50)).astype("float32")
    w_np = rng.standard_normal((16, 1, 3, 3)).astype("float32")
    g_np = rng.standard_normal((4, 16, 8, 50)).astype("float32")
    results = []
    for run in ("paddle", 1, 3):
        x = paddle.to_tensor(x_np, stop_gradient=False)
        w = paddle.to_tensor(w_np, stop_gradient=False)
        if run == "paddle":
            y = F.conv2d(x, w, stride=(2, 1), padding=1, groups=16)
        else:
            y = NativeOps(ops.library, num_threads=run).depthwise_conv2d(x, w, (2, 1), (1, 1))
        (y * paddle.to_tensor(g_np)).sum().backward()
        results.append([y.numpy(), x.grad.numpy(), w.grad.numpy()])
    for got in results[1:]:
        for name, a, b in zip(("out", "dx", "dw"), got, results[0], strict=True):
            assert_close(a, b, name)


def test_hardswish_matches_paddle(ops: NativeOps, count_native_calls: list[str]) -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate(
        [rng.uniform(-8, 8, 40_000), [-3.0, 3.0, 0.0, -3.0000002, 2.9999998, 1e6, -1e6]]
    ).astype("float32")
    upstream = rng.standard_normal(values.shape).astype("float32")
    results = []
    for fn in (hardswish, F.hardswish):
        x = paddle.to_tensor(values, stop_gradient=False)
        y = fn(x)
        (y * paddle.to_tensor(upstream)).sum().backward()
        results.append((y.numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], **TOL)
    np.testing.assert_allclose(results[0][1], results[1][1], **TOL)
    assert count_native_calls == ["hardswish"]


def test_hardswish_layer_on_a_non_contiguous_view(ops: NativeOps, count_native_calls: list[str]) -> None:
    base = paddle.randn([4, 6, 5])
    view = base.transpose([2, 0, 1])
    np.testing.assert_allclose(Hardswish()(view).numpy(), F.hardswish(view).numpy(), **TOL)
    assert count_native_calls == ["hardswish"]


def test_baseline_instruction_set_copy_is_correct(ops: NativeOps) -> None:
    """The non-AVX2 copy of the kernels (what a CPU without AVX2/FMA runs) agrees with Paddle."""
    script = textwrap.dedent(
        """
        import numpy as np, paddle, paddle.nn.functional as F
        from ocrrec.modeling.native import load_native_ops
        ops = load_native_ops()
        rng = np.random.default_rng(0)
        worst = 0.0
        for stride, kernel in (((1, 1), 3), ((2, 1), 5), ((1, 2), 5)):
            x = paddle.to_tensor(rng.standard_normal((2, 4, 9, 21)).astype("float32"), stop_gradient=False)
            w = paddle.to_tensor(rng.standard_normal((4, 1, kernel, kernel)).astype("float32"), stop_gradient=False)
            outs = []
            for native in (True, False):
                y = ops.hardswish(ops.depthwise_conv2d(x, w, stride, (kernel // 2,) * 2)) if native else \\
                    F.hardswish(F.conv2d(x, w, stride=stride, padding=kernel // 2, groups=4))
                gx, gw = paddle.grad((y * y).sum(), [x, w])
                outs.append([y.numpy(), gx.numpy(), gw.numpy()])
            for a, b in zip(*outs):
                worst = max(worst, float(np.max(np.abs(a - b))) / max(1.0, float(np.max(np.abs(b)))))
        print("WORST", worst)
        """
    )
    env = dict(os.environ, OCRREC_NATIVE_ISA="baseline", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    worst = float(proc.stdout.split("WORST")[-1])
    assert worst < 1e-5


def test_backbones_use_the_kernels_and_match_paddle(
    ops: NativeOps, count_native_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole backbones: same outputs and parameter gradients with and without the native ops.

    The per-op 1e-5 contract is tested above; here rounding differences travel through ~15 layers,
    and a pre-activation within rounding of hard-swish's kinks (-3, 3) switches its slope, so
    gradients are compared against the network's largest gradient with a 1e-3 margin (a wrong
    kernel is off by O(1)). Eval mode: BatchNorm on running statistics (in train mode a tiny
    batch's variances magnify rounding further).
    """
    paddle.seed(0)
    cases = [
        (MobileNetV3(model_name="small", scale=0.5), [2, 3, 32, 40]),
        (MobileNetV1Enhance(scale=0.5), [2, 3, 48, 40]),
        (PPLCNetV3(scale=0.95), [1, 3, 48, 40]),
    ]
    for net, shape in cases:
        net.eval()
        x_np = np.random.default_rng(0).standard_normal(shape).astype("float32")
        runs = []
        for native in (True, False):
            with monkeypatch.context() as patch:
                if not native:
                    patch.setattr(layers, "native_ops_for", lambda x: None)
                out = net(paddle.to_tensor(x_np))
                (out * out).mean().backward()
            runs.append((out.numpy(), {p.name: p.grad.numpy() for p in net.parameters() if p.grad is not None}))
            net.clear_gradients()
        (out_a, grads_a), (out_b, grads_b) = runs
        assert_close(out_a, out_b, f"{type(net).__name__} output")
        assert grads_a.keys() == grads_b.keys()
        scale = max(float(np.abs(g).max()) for g in grads_b.values())
        for name in grads_a:
            np.testing.assert_allclose(grads_a[name], grads_b[name], rtol=0, atol=1e-3 * scale, err_msg=name)
    assert "depthwise_conv2d" in count_native_calls and "hardswish" in count_native_calls


def test_drop_in_layer_keeps_conv2d_parameters() -> None:
    fast = DepthwiseConv2D(8, 8, 3, padding=1, groups=8, bias_attr=False)
    ref = nn.Conv2D(8, 8, 3, padding=1, groups=8, bias_attr=False)
    assert isinstance(fast, nn.Conv2D)
    assert {k: list(v.shape) for k, v in fast.state_dict().items()} == {
        k: list(v.shape) for k, v in ref.state_dict().items()
    }
    assert depthwise_geometry(fast) == ((1, 1), (1, 1), 8)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bias_attr": None},  # has a bias
        {"dilation": 2},
        {"padding": "SAME"},
        {"padding": [1, 0, 1, 1]},  # asymmetric
        {"padding_mode": "reflect"},
        {"data_format": "NHWC"},
    ],
)
def test_unsupported_configurations_fall_back(kwargs: dict, count_native_calls: list[str]) -> None:
    options = {"padding": 1, "groups": 4, "bias_attr": False, **kwargs}
    fast = DepthwiseConv2D(4, 4, 3, **options)
    ref = nn.Conv2D(4, 4, 3, **options)
    ref.weight.set_value(fast.weight)
    if fast.bias is not None:
        ref.bias.set_value(fast.bias)
    assert depthwise_geometry(fast) is None
    shape = [2, 9, 11, 4] if kwargs.get("data_format") == "NHWC" else [2, 4, 9, 11]
    x = paddle.randn(shape)
    np.testing.assert_allclose(fast(x).numpy(), ref(x).numpy(), **TOL)
    assert count_native_calls == []


def test_channel_multiplier_above_one_falls_back() -> None:
    conv = DepthwiseConv2D(4, 8, 3, padding=1, groups=4, bias_attr=False)
    assert depthwise_geometry(conv) is None


def test_other_dtypes_take_paddles_path(count_native_calls: list[str]) -> None:
    x = paddle.randn([2, 3, 5, 5]).astype("float64")
    np.testing.assert_allclose(hardswish(x).numpy(), F.hardswish(x).numpy())
    assert count_native_calls == []


def test_disabled_by_environment(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OCRREC_NATIVE_OPS", "0")
    build.reset_native_ops_for_tests()
    try:
        with caplog.at_level(logging.WARNING, logger="ocrrec.native"):
            assert load_native_ops() is None
            fast, ref = _conv_pair(3, 3, 1, 1)
            x = np.random.default_rng(0).standard_normal((1, 3, 6, 6)).astype("float32")
            for got, want in zip(_forward_backward(fast, x), _forward_backward(ref, x), strict=True):
                np.testing.assert_array_equal(got, want)
        assert native_ops_status() == "off: OCRREC_NATIVE_OPS=0"
        assert caplog.records == []
    finally:
        build.reset_native_ops_for_tests()


_FAILING_BUILD = "import sys; sys.stderr.write('ocrrec_ops.cc:1:1: error: simulated compiler failure\\n'); sys.exit(1)"


def test_build_failure_falls_back_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OCRREC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "_BUILD_SCRIPT", _FAILING_BUILD)
    build.reset_native_ops_for_tests()
    try:
        with caplog.at_level(logging.WARNING, logger="ocrrec.native"):
            fast, ref = _conv_pair(3, 3, (2, 1), 1)
            x = np.random.default_rng(0).standard_normal((2, 3, 8, 10)).astype("float32")
            for got, want in zip(_forward_backward(fast, x), _forward_backward(ref, x), strict=True):
                np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(hardswish(paddle.to_tensor(x)).numpy(), F.hardswish(paddle.to_tensor(x)).numpy())
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1, warnings
        assert "\n" not in warnings[0]
        assert "simulated compiler failure" in warnings[0] and "Paddle's own" in warnings[0]
        assert native_ops_status().startswith("off: the C++ build failed")
        ops_dir = tmp_path / "ops"
        assert [p.name for p in ops_dir.iterdir() if p.is_dir()] == []  # no half-built cache entry
        assert "simulated compiler failure" in (ops_dir / "last-failed-build.log").read_text()
    finally:
        build.reset_native_ops_for_tests()


_FAKE_BUILD = textwrap.dedent(
    """
    import json, os, sys, time
    spec = json.loads(sys.argv[1])
    with open(os.environ["BUILD_RECORD"], "a") as record:
        record.write(f"{os.getpid()}\\n")
    time.sleep(1.5)
    out = os.path.join(spec["build_dir"], spec["name"])
    os.makedirs(out)
    open(os.path.join(out, spec["name"] + ".so"), "w").close()
    """
)


def test_concurrent_first_builds_build_once(tmp_path: Path) -> None:
    """Two processes that start at once: one builds, the other waits and gets the same library."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from ocrrec.modeling.native import build
        build._BUILD_SCRIPT = {_FAKE_BUILD!r}
        print("LIBRARY", build.ensure_built(Path(sys.argv[1])))
        """
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), BUILD_RECORD=str(tmp_path / "builds.txt"))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    libraries = {out.split("LIBRARY", 1)[1].strip() for out, _ in outputs}
    assert len(libraries) == 1
    assert Path(libraries.pop()).is_file()
    assert len((tmp_path / "builds.txt").read_text().split()) == 1
    entries = [p for p in (tmp_path / "ops").iterdir() if p.is_dir()]
    assert len(entries) == 1 and ".tmp-" not in entries[0].name
    manifest = json.loads((entries[0] / "manifest.json").read_text())
    assert manifest["key"] == entries[0].name


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OCRREC_CACHE_DIR", str(tmp_path / "here"))
    assert build.cache_root() == tmp_path / "here"
    monkeypatch.delenv("OCRREC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert build.cache_root() == tmp_path / "xdg" / "ocrrec"


def test_traced_programs_contain_only_paddle_ops(ops: NativeOps, count_native_calls: list[str]) -> None:
    net = MobileNetV3(model_name="small", scale=0.5)
    net.eval()
    x = paddle.randn([2, 3, 32, 64])
    eager = net(x).numpy()
    count_native_calls.clear()
    spec = [paddle.static.InputSpec([None, 3, 32, 64], "float32")]
    static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
    traced = static(x).numpy()
    program = static.forward.concrete_program.main_program
    names = {op.name() for op in program.global_block().ops}
    assert "pd_op.depthwise_conv2d" in names and "pd_op.hardswish" in names
    assert not [n for n in names if "ocrrec" in n or "custom" in n]
    np.testing.assert_allclose(traced, eager, rtol=1e-5, atol=1e-5)
    sot = paddle.jit.to_static(net, full_graph=False)  # bytecode-translated: also Paddle's ops only
    np.testing.assert_allclose(sot(x).numpy(), eager, rtol=1e-5, atol=1e-5)
    assert count_native_calls == []
