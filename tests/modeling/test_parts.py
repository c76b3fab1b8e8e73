"""Output shapes of every part, train vs eval behaviour of the heads, and whole-model forwards."""

from __future__ import annotations

import numpy as np
import paddle
import pytest
from modeling_archs import CRNN_MV3, PPOCRV3, PPOCRV4

from ocrrec.charset import Charset
from ocrrec.modeling import build_model
from ocrrec.modeling.backbones.mobilenet_v1_enhance import MobileNetV1Enhance
from ocrrec.modeling.backbones.mobilenet_v3 import MobileNetV3
from ocrrec.modeling.backbones.pplcnet_v3 import PPLCNetV3
from ocrrec.modeling.backbones.resnet_vd import ResNet
from ocrrec.modeling.heads.ctc_head import CTCHead
from ocrrec.modeling.heads.nrtr_head import NRTRHead
from ocrrec.modeling.heads.sar_head import SARHead
from ocrrec.modeling.necks.sequence_encoder import SequenceEncoder
from ocrrec.modeling.transforms.tps import TPS

paddle.seed(0)


def image(height: int, width: int, batch: int = 2) -> paddle.Tensor:
    return paddle.randn([batch, 3, height, width])


def shape(t: paddle.Tensor) -> list[int]:
    return [int(d) for d in t.shape]


@pytest.mark.parametrize(
    ("backbone", "size", "expected"),
    [
        (
            MobileNetV1Enhance(
                scale=0.5, last_conv_stride=[1, 2], last_pool_type="avg", last_pool_kernel_size=[2, 2]
            ),
            (48, 320),
            [2, 512, 1, 40],
        ),
        (MobileNetV1Enhance(scale=0.5), (32, 320), [2, 512, 1, 80]),
        (MobileNetV3(model_name="large", scale=0.5), (32, 100), [2, 480, 1, 25]),
        (MobileNetV3(model_name="small", scale=0.5, small_stride=[1, 2, 2, 2]), (32, 320), [2, 288, 1, 80]),
        (MobileNetV3(model_name="small", scale=0.6, disable_se=True), (32, 100), [2, 344, 1, 25]),
        (ResNet(layers=18), (32, 100), [2, 512, 1, 25]),
        (ResNet(layers=34), (32, 100), [2, 512, 1, 25]),
        (ResNet(layers=50), (32, 100), [2, 2048, 1, 25]),
    ],
    ids=["mv1e-v3", "mv1e-v2", "mv3-large", "mv3-small-lite", "mv3-small-noSE", "r18vd", "r34vd", "r50vd"],
)
def test_backbone_output_shapes(backbone, size, expected) -> None:
    backbone.eval()
    with paddle.no_grad():
        out = backbone(image(*size))
    assert shape(out) == expected
    assert backbone.out_channels == expected[1]


def test_pplcnetv3_pools_differently_in_train_and_eval() -> None:
    net = PPLCNetV3(scale=0.95)
    assert net.out_channels == 480
    net.train()
    for height in (32, 48, 64):  # multi-scale training batches all end up 1 x 40
        assert shape(net(image(height, 320))) == [2, 480, 1, 40]
    net.eval()
    with paddle.no_grad():
        assert shape(net(image(48, 320))) == [2, 480, 1, 40]


def test_pplcnetv3_rep_keeps_eval_output() -> None:
    net = PPLCNetV3(scale=0.5)
    rng = np.random.default_rng(1)
    # Non-trivial BatchNorm statistics so folding them actually matters.
    for name, tensor in net.state_dict().items():
        if name.endswith("_variance"):
            tensor.set_value(rng.uniform(0.8, 1.25, tensor.shape).astype("float32"))
        elif name.endswith("_mean") or name.endswith("bn.bias") or name.endswith("identity.bias"):
            tensor.set_value(rng.normal(0, 0.05, tensor.shape).astype("float32"))
    net.eval()
    x = image(48, 320)
    with paddle.no_grad():
        before = net(x).numpy()
        folded = sum(1 for layer in net.sublayers() if hasattr(layer, "rep"))
        for layer in net.sublayers():
            if hasattr(layer, "rep"):
                layer.rep()
        after = net(x).numpy()
    assert folded == 28
    assert np.abs(after - before).max() <= 1e-5 * np.abs(before).max()


@pytest.mark.parametrize(
    ("encoder_type", "args", "width"),
    [
        ("reshape", {}, 64),
        ("fc", {"hidden_size": 32}, 32),
        ("rnn", {"hidden_size": 24}, 48),
        ("cascadernn", {"hidden_size": 16, "out_channels": [20, 30], "with_linear": True}, 30),
        ("svtr", {"dims": 16, "depth": 1, "hidden_dims": 32, "num_heads": 4, "use_guide": True}, 16),
    ],
)
def test_sequence_encoder_shapes(encoder_type, args, width) -> None:
    neck = SequenceEncoder(in_channels=64, encoder_type=encoder_type, **args)
    neck.eval()
    with paddle.no_grad():
        out = neck(paddle.randn([2, 64, 1, 25]))
    assert shape(out) == [2, 25, width]
    assert neck.out_channels == width


def test_sequence_neck_rejects_tall_feature_maps() -> None:
    from ocrrec.errors import UserError

    with pytest.raises(UserError, match="3 rows high"):
        SequenceEncoder(in_channels=8, encoder_type="reshape")(paddle.randn([1, 8, 3, 10]))


def test_ctc_head_train_logits_eval_probabilities() -> None:
    head = CTCHead(in_channels=32, out_channels=11, mid_channels=16)
    x = paddle.randn([2, 25, 32])
    head.train()
    logits = head(x)
    assert shape(logits) == [2, 25, 11]
    head.eval()
    probs = head(x).numpy()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    feats = CTCHead(in_channels=32, out_channels=11, return_feats=True)(x)
    assert set(feats) == {"ctc", "ctc_feats"}


def test_sar_head_train_and_decode() -> None:
    head = SARHead(in_channels=32, out_channels=13, enc_dim=24, d_k=16, max_text_length=6)
    feat = paddle.randn([2, 32, 2, 10])
    batch = {
        "label_sar": paddle.to_tensor(
            np.array([[1, 2, 11, 12, 12, 12], [3, 11, 12, 12, 12, 12]], dtype="int64")
        ),
        "valid_ratio": paddle.to_tensor(np.array([0.3, 1.0], dtype="float32")),
    }
    head.train()
    assert shape(head(feat, batch)) == [2, 6, 12]  # N + 2 predictable classes (no <PAD>)
    head.eval()
    with paddle.no_grad():
        probs = head(feat, {"valid_ratio": batch["valid_ratio"]})
    assert shape(probs) == [2, 6, 12]
    np.testing.assert_allclose(probs.numpy().sum(-1), 1.0, rtol=1e-5)


def test_sar_valid_ratio_masks_padding() -> None:
    """Columns beyond the valid width must not change the output."""
    head = SARHead(in_channels=8, out_channels=7, enc_dim=8, d_k=8, max_text_length=3)
    head.eval()
    feat = paddle.randn([1, 8, 1, 10])
    changed = feat.numpy().copy()
    changed[..., 6:] = 100.0  # valid width is 5; the 3x3 key conv of column 4 still sees column 5
    ratio = {"valid_ratio": paddle.to_tensor(np.array([0.5], dtype="float32"))}
    with paddle.no_grad():
        a = head(feat, ratio).numpy()
        b = head(paddle.to_tensor(changed), ratio).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_nrtr_head_train_and_greedy_decode() -> None:
    head = NRTRHead(in_channels=64, out_channels=10, nrtr_dim=64, max_text_length=5, num_decoder_layers=1)
    memory = paddle.randn([2, 12, 64])
    label = np.zeros([2, 7], dtype="int64")
    label[0, :5] = [2, 5, 6, 7, 3]
    label[1, :4] = [2, 8, 9, 3]
    batch = {
        "label_gtc": paddle.to_tensor(label),
        "length": paddle.to_tensor(np.array([3, 2], dtype="int64")),
    }
    head.train()
    # input: <s> + longest label (3) = 4 steps; classes: out_channels + 1, as PaddleOCR
    assert shape(head(memory, batch)) == [2, 4, 11]
    head.eval()
    with paddle.no_grad():
        ids, probs = head(memory)
    assert int(ids.shape[1]) <= 5 and ids.shape == probs.shape
    assert (ids.numpy()[:, 0] == 2).all()


def test_multihead_v3_outputs() -> None:
    model = build_model(PPOCRV3, Charset.from_spec("en", True))
    assert model.batch_keys == ("label_sar", "valid_ratio")
    x = image(48, 320)
    batch = {
        "label_ctc": paddle.randint(1, 97, [2, 25]),
        "label_sar": paddle.randint(0, 99, [2, 25]),
        "length": paddle.to_tensor([4, 7]),
        "valid_ratio": paddle.to_tensor([0.5, 1.0]),
    }
    model.train()
    out = model(x, batch)
    assert {k: shape(v) for k, v in out.items()} == {
        "ctc": [2, 40, 97],
        "ctc_neck": [2, 40, 64],
        "sar": [2, 25, 98],
    }
    model.eval()
    with paddle.no_grad():
        probs = model(x)
    assert shape(probs) == [2, 40, 97]
    np.testing.assert_allclose(probs.numpy().sum(-1), 1.0, rtol=1e-5)


def test_multihead_v4_outputs() -> None:
    model = build_model(PPOCRV4, Charset.from_spec("en", True))
    assert model.batch_keys == ("label_gtc", "length")
    label = np.zeros([2, 25], dtype="int64")
    label[:, 0] = 2
    label[0, 1:5], label[0, 5] = [10, 11, 12, 13], 3
    label[1, 1:3], label[1, 3] = [20, 21], 3
    batch = {
        "label_gtc": paddle.to_tensor(label),
        "length": paddle.to_tensor(np.array([4, 2], dtype="int64")),
    }
    model.train()
    out = model(image(48, 320), batch)
    assert {k: shape(v) for k, v in out.items()} == {
        "ctc": [2, 40, 97],
        "ctc_neck": [2, 40, 120],
        "gtc": [2, 5, 101],
    }


def test_guided_ctc_branch_does_not_train_the_backbone() -> None:
    """use_guide: a CTC-only loss leaves the backbone without gradient (PP-OCRv3's guided training)."""
    model = build_model(PPOCRV3, Charset.from_spec("en", True))
    model.train()
    batch = {"label_sar": paddle.randint(0, 99, [1, 25]), "valid_ratio": paddle.to_tensor([1.0])}
    out = model(image(48, 320, batch=1), batch)
    out["ctc"].mean().backward()
    assert model.backbone.conv1._conv.weight.grad is None
    assert model.head.ctc_head.fc.weight.grad is not None


def test_crnn_train_and_eval() -> None:
    model = build_model(CRNN_MV3, Charset.from_spec(None))
    model.train()
    assert shape(model(image(32, 100))) == [2, 25, 37]
    assert model.batch_keys == ()


def test_tps_keeps_image_size_and_trains_its_localisation_net() -> None:
    tps = TPS(num_fiducial=20, loc_lr=0.1, model_name="small")
    assert tps.loc_net.fc1.weight.optimize_attr["learning_rate"] == 0.1
    x = image(32, 100)
    out = tps(x)
    assert shape(out) == [2, 3, 32, 100]
    out.mean().backward()
    assert tps.loc_net.fc2.bias.grad is not None


def test_tps_with_identity_fiducials_resamples_the_image_unchanged() -> None:
    """Fiducials on the target layout (rows y=-1 and y=1) give the identity grid."""
    from ocrrec.modeling.transforms.tps import GridGenerator

    generator = GridGenerator(40, 20)
    xs = np.linspace(-1.0, 1.0, 10)
    target = np.concatenate([np.stack([xs, -np.ones(10)], 1), np.stack([xs, np.ones(10)], 1)]).astype(
        "float32"
    )
    grid = generator(paddle.to_tensor(target[None]), 4, 6).numpy().reshape(4, 6, 2)
    expected_x = (np.arange(-6, 6, 2) + 1.0) / 6
    expected_y = (np.arange(-4, 4, 2) + 1.0) / 4
    np.testing.assert_allclose(grid[..., 0], np.broadcast_to(expected_x, (4, 6)), atol=1e-4)
    np.testing.assert_allclose(grid[..., 1], np.broadcast_to(expected_y[:, None], (4, 6)), atol=1e-4)
