"""Numerical check against PaddleOCR itself (needs a PaddleOCR checkout; not a test, run by hand).

    /work/refvenv/bin/python tests/modeling/expected/compare_with_paddleocr.py --ref /work/ref

For each config it builds PaddleOCR's model and ours, fills one with random weights (BatchNorm
statistics included), copies them into the other through `state_dict` (both directions), and
prints the largest absolute difference of: eval-mode outputs; training-mode outputs of every
MultiHead branch (dropout set to 0 in both, same batch); the stand-alone SAR / NRTR decoders in
eval mode; and PPLCNetV3 after re-parameterisation.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
CASES = [
    ("PP-OCRv3 en", "configs/rec/PP-OCRv3/en_PP-OCRv3_rec.yml", "en", True, (48, 320)),
    ("PP-OCRv4 en", "configs/rec/PP-OCRv4/en_PP-OCRv4_rec.yml", "en", True, (48, 320)),
    ("CRNN MobileNetV3", "configs/rec/rec_mv3_none_bilstm_ctc.yml", None, False, (32, 100)),
    ("CRNN ResNet34-vd", "configs/rec/rec_r34_vd_none_bilstm_ctc.yml", None, False, (32, 100)),
    ("STARNet TPS + MobileNetV3", "configs/rec/rec_mv3_tps_bilstm_ctc.yml", None, False, (32, 100)),
]


def random_state(model, rng: np.random.Generator) -> dict:
    state = {}
    for name, tensor in model.state_dict().items():
        shape = [int(d) for d in tensor.shape]
        if name.endswith("_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("positional_encoding.pe"):
            value = tensor.numpy()
        else:
            value = rng.normal(0.0, 0.2, shape)
        state[name] = value.astype("float32")
    return state


def no_dropout(model) -> None:
    import paddle

    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.Dropout):
            layer.p = 0.0
        if isinstance(layer, paddle.nn.layer.rnn.RNNBase):
            layer.dropout = 0.0


def max_diff(a, b) -> float:
    import paddle

    a = a.numpy() if isinstance(a, paddle.Tensor) else np.asarray(a)
    b = b.numpy() if isinstance(b, paddle.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype("float64") - b.astype("float64")).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ref", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    os.chdir(args.ref)
    sys.path.insert(0, str(args.ref.resolve()))
    import paddle
    import yaml
    from ppocr.modeling.architectures import build_model as ref_build

    from ocrrec.charset import Charset
    from ocrrec.modeling import build_model, load_weights

    paddle.set_device("cpu")
    rng = np.random.default_rng(0)
    for title, rel, dict_name, space, (height, width) in CASES:
        with open(rel, encoding="utf-8") as fh:
            config = yaml.safe_load(fh)
        charset = Charset.from_spec(dict_name, space)
        ours = build_model(config["Architecture"], charset)
        head = dict(config["Architecture"]["Head"])
        n = len(charset)
        if head["name"] == "MultiHead":
            second = next(iter(config["Loss"]["loss_config_list"][1]))
            channels = {"CTCLabelDecode": n + 1}
            channels["SARLabelDecode" if second == "SARLoss" else "NRTRLabelDecode"] = n + (
                3 if second == "SARLoss" else 4
            )
            config["Architecture"]["Head"]["out_channels_list"] = channels
        else:
            config["Architecture"]["Head"]["out_channels"] = n + 1
        ref = ref_build(config["Architecture"])
        image = paddle.to_tensor(rng.normal(0, 1, (2, 3, height, width)).astype("float32"))
        print(f"== {title}")

        for direction in ("PaddleOCR -> ocrrec", "ocrrec -> PaddleOCR"):
            src, dst = (ref, ours) if direction.startswith("Paddle") else (ours, ref)
            state = random_state(src, rng)
            src.set_state_dict(state)
            if dst is ours:
                report = load_weights(ours, ref.state_dict(), "PaddleOCR model")
                assert not (report.missing or report.mismatched or report.unexpected), report.warnings()
            else:
                missing, unexpected = ref.set_state_dict(ours.state_dict())
                assert not missing and not unexpected, (missing, unexpected)
            ref.eval()
            ours.eval()
            with paddle.no_grad():
                print(f"  eval output, {direction}: max |diff| = {max_diff(ref(image), ours(image)):.2e}")

        if head["name"] == "MultiHead":
            ref.train()
            ours.train()
            no_dropout(ref)
            no_dropout(ours)
            length = paddle.to_tensor(np.array([5, 9], dtype="int64"))
            valid_ratio = paddle.to_tensor(np.array([0.45, 1.0], dtype="float32"))
            label_ctc = paddle.to_tensor(rng.integers(1, n + 1, (2, 25)).astype("int64"))
            if "SARLabelDecode" in channels:
                label = paddle.to_tensor(rng.integers(0, n + 3, (2, 25)).astype("int64"))
                key, branch = "label_sar", "sar"
            else:
                body = rng.integers(4, n + 4, (2, 25)).astype("int64")
                body[:, 0] = 2
                for row, size in enumerate(length.numpy()):
                    body[row, size + 1] = 3
                    body[row, size + 2 :] = 0
                label = paddle.to_tensor(body)
                key, branch = "label_gtc", "gtc"
            batch = {"label_ctc": label_ctc, key: label, "length": length, "valid_ratio": valid_ratio}
            ref_out = ref(image, data=[label_ctc, label, length, valid_ratio])
            our_out = ours(image, batch)
            for name in ("ctc", "ctc_neck", branch):
                print(
                    f"  train output `{name}` {list(our_out[name].shape)}: max |diff| = {max_diff(ref_out[name], our_out[name]):.2e}"
                )
            # Same surrogate loss on both; gradients show the guided (detached) CTC neck matches too.
            for model, out in ((ref, ref_out), (ours, our_out)):
                model.clear_gradients()
                ((out["ctc"] ** 2).mean() + (out[branch] ** 2).mean()).backward()
            ref_params = dict(ref.named_parameters())
            worst, worst_name, missing_grads, compared = 0.0, "", 0, 0
            for name, param in ours.named_parameters():
                ref_grad, our_grad = ref_params[name].grad, param.grad
                if (ref_grad is None) != (our_grad is None):
                    missing_grads += 1
                    continue
                if ref_grad is None:
                    continue
                # Relative to the tensor's largest gradient; tensors whose exact gradient is 0
                # (e.g. a bias before a softmax) only carry rounding noise and are skipped.
                scale = float(np.abs(ref_grad.numpy()).max())
                if scale < 1e-6:
                    continue
                diff = max_diff(ref_grad, our_grad) / scale
                compared += 1
                if diff > worst:
                    worst, worst_name = diff, name
            print(
                f"  gradients of {compared} parameters: largest relative diff {worst:.2e} ({worst_name or '-'}); "
                f"grad present/absent mismatches: {missing_grads}"
            )

            ref.eval()
            ours.eval()
            with paddle.no_grad():
                feats = ours.backbone(image)
                if branch == "sar":
                    meta = [label, length, valid_ratio]
                    ref_sar = ref.head.sar_head(feats, meta)
                    our_sar = ours.head.sar_head(feats, {"valid_ratio": valid_ratio})
                    print(
                        f"  SAR eval decoding {list(our_sar.shape)}: max |diff| = {max_diff(ref_sar, our_sar):.2e}"
                    )
                else:
                    seq = ours.head.before_gtc(feats)
                    ref_ids, ref_prob = ref.head.gtc_head(seq)
                    our_ids, our_prob = ours.head.gtc_head(seq)
                    same = bool((ref_ids.numpy() == our_ids.numpy()).all())
                    print(
                        f"  NRTR greedy decoding: ids equal {same}, probs max |diff| = {max_diff(ref_prob, our_prob):.2e}"
                    )
                    before = ours(image)
                    folded = ours.reparameterize()
                    for layer in ref.sublayers():
                        if hasattr(layer, "rep"):
                            layer.rep()
                    after = ours(image)
                    print(
                        f"  PPLCNetV3 rep(): {folded} layers folded; ours before vs after "
                        f"{max_diff(before, after):.2e}; PaddleOCR repped vs ours repped {max_diff(ref(image), after):.2e}"
                    )


if __name__ == "__main__":
    main()
