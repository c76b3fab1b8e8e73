"""The README's "add your own backbone" example: one registered class, used by name from a config,
trained with a CTC loss."""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from ocrrec.charset import Charset
from ocrrec.modeling import build_model
from ocrrec.modeling.registry import BACKBONES


# --- README snippet (ocrrec/modeling/backbones/tiny_convnet.py + an import in that package's __init__) ---
@BACKBONES.register()
class TinyConvNet(nn.Layer):
    """Two strided conv blocks, then average the height away: [B, 3, H, W] -> [B, C, 1, W/4]."""

    def __init__(self, in_channels: int = 3, channels: int = 64) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(in_channels, channels // 2, 3, stride=2, padding=1),
            nn.BatchNorm2D(channels // 2),
            nn.ReLU(),
            nn.Conv2D(channels // 2, channels, 3, stride=2, padding=1),
            nn.BatchNorm2D(channels),
            nn.ReLU(),
        )
        self.out_channels = channels  # the neck is built with this many input channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.features(x).mean(axis=2, keepdim=True)


# --- end of snippet ---

ARCH = {
    "model_type": "rec",
    "algorithm": "CRNN",
    "Backbone": {"name": "TinyConvNet", "channels": 32},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 16},
    "Head": {"name": "CTCHead", "fc_decay": 0.0},
}


def ctc_loss(logits: paddle.Tensor, labels: paddle.Tensor, label_lengths: paddle.Tensor) -> paddle.Tensor:
    """PaddleOCR's CTC loss: blank 0, time-major logits, every sequence uses all T steps."""
    steps, batch = logits.shape[1], logits.shape[0]
    input_lengths = paddle.full([batch], steps, dtype="int64")
    per_sample = F.ctc_loss(
        logits.transpose([1, 0, 2]),
        labels.astype("int32"),
        input_lengths,
        label_lengths,
        blank=0,
        reduction="none",
    )
    return per_sample.mean()


def test_custom_backbone_builds_and_trains() -> None:
    paddle.seed(0)
    charset = Charset.from_spec("ic15")  # 0-9a-z → 37 CTC classes
    model = build_model(ARCH, charset)
    assert type(model.backbone).__name__ == "TinyConvNet"
    assert model.head.out_channels == 37

    rng = np.random.default_rng(0)
    images = paddle.to_tensor(rng.normal(0, 1, (4, 3, 32, 100)).astype("float32"))
    labels = paddle.to_tensor(rng.integers(1, 37, (4, 6)).astype("int64"))
    lengths = paddle.to_tensor(np.array([6, 4, 5, 3], dtype="int64"))
    optimizer = paddle.optimizer.Adam(learning_rate=0.01, parameters=model.parameters())
    model.train()
    losses = []
    for _ in range(8):
        logits = model(images)
        assert [int(d) for d in logits.shape] == [4, 25, 37]
        loss = ctc_loss(logits, labels, lengths)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        losses.append(float(loss))
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0] * 0.8, losses
