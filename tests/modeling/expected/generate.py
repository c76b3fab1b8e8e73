"""Regenerate the PaddleOCR parameter lists in this folder (needs a PaddleOCR checkout; not a test).

Run from the repository root with a Python that can import PaddleOCR (release/2.10 was used):

    /work/refvenv/bin/python tests/modeling/expected/generate.py --ref /work/ref

For every config below it builds PaddleOCR's own model exactly as its `tools/train.py` does
(class counts taken from PaddleOCR's post-processor, `out_channels` / `out_channels_list` set the
same way) and writes `<name>.json`: for each `state_dict()` entry its shape and, for trainable
parameters, the learning-rate multiplier and L2 coefficient PaddleOCR's ParamAttr gives it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

CONFIGS = {
    "ppocrv3_en": "configs/rec/PP-OCRv3/en_PP-OCRv3_rec.yml",
    "ppocrv3_ch": "configs/rec/PP-OCRv3/ch_PP-OCRv3_rec.yml",
    "ppocrv4_en": "configs/rec/PP-OCRv4/en_PP-OCRv4_rec.yml",
    "ppocrv4_ch": "configs/rec/PP-OCRv4/ch_PP-OCRv4_rec.yml",
    "crnn_mv3": "configs/rec/rec_mv3_none_bilstm_ctc.yml",
    "crnn_r34vd": "configs/rec/rec_r34_vd_none_bilstm_ctc.yml",
    "ppocrv2_ch": "configs/rec/ch_PP-OCRv2/ch_PP-OCRv2_rec.yml",
    "french_lite": "configs/rec/multi_language/rec_french_lite_train.yml",
    "starnet_mv3_tps": "configs/rec/rec_mv3_tps_bilstm_ctc.yml",
    "ppocrv3_ch_distillation": "configs/rec/PP-OCRv3/ch_PP-OCRv3_rec_distillation.yml",
}


def _class_counts(config: dict, build_post_process) -> None:
    """Fill Head.out_channels(_list) the way PaddleOCR's tools/train.py does."""
    post = build_post_process(config["PostProcess"], config["Global"])
    char_num = len(post.character)
    if config["Architecture"].get("algorithm") == "Distillation":
        # every sub-model sized from the (CTC) post-processor; SAR when the last loss is the SAR one
        last_loss = next(iter(config["Loss"]["loss_config_list"][-1]))
        for sub in config["Architecture"]["Models"].values():
            if sub["Head"]["name"] == "MultiHead":
                channels = {"CTCLabelDecode": char_num}
                if last_loss == "DistillationSARLoss":
                    channels["SARLabelDecode"] = char_num + 2
                elif any("DistillationNRTRLoss" in d for d in config["Loss"]["loss_config_list"]):
                    channels["NRTRLabelDecode"] = char_num + 3
                sub["Head"]["out_channels_list"] = channels
            else:
                sub["Head"]["out_channels"] = char_num
        return
    head = config["Architecture"]["Head"]
    if head["name"] == "MultiHead":
        channels = {"CTCLabelDecode": char_num}
        second = next(iter(config["Loss"]["loss_config_list"][1]))
        if second == "SARLoss":
            channels["SARLabelDecode"] = char_num + 2
        elif second == "NRTRLoss":
            channels["NRTRLabelDecode"] = char_num + 3
        head["out_channels_list"] = channels
    else:
        head["out_channels"] = char_num


def _head_sizes(arch: dict) -> dict:
    """out_channels(_list) of the head, or {model name: ...} for a distillation model."""
    if "Models" in arch:
        return {name: _head_sizes(sub) for name, sub in arch["Models"].items()}
    return {k: v for k, v in arch["Head"].items() if k.startswith("out_channels")}


def _describe(model) -> dict:
    params = {id(p): p for p in model.parameters()}
    out = {}
    for name, tensor in model.state_dict().items():
        entry: dict = {"shape": [int(d) for d in tensor.shape]}
        param = params.get(id(tensor))
        if param is not None and param.trainable:
            entry["lr"] = float(param.optimize_attr.get("learning_rate", 1.0))
            reg = param.regularizer
            entry["l2"] = None if reg is None else float(reg._coeff)
        out[name] = entry
    return out


def _compact_json(record: dict) -> str:
    """JSON with one state_dict entry per line (small, diff-friendly)."""
    head = {k: v for k, v in record.items() if k != "state_dict"}
    lines = [json.dumps(head)[:-1] + ', "state_dict": {']
    entries = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in record["state_dict"].items()]
    lines.append(",\n".join(entries))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ref", type=Path, required=True, help="PaddleOCR checkout")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    out_dir = args.out.resolve()
    os.chdir(args.ref)
    sys.path.insert(0, str(args.ref.resolve()))
    import yaml
    from ppocr.modeling.architectures import build_model
    from ppocr.postprocess import build_post_process

    for name, rel in CONFIGS.items():
        with open(rel, encoding="utf-8") as fh:
            config = yaml.safe_load(fh)
        _class_counts(config, build_post_process)
        model = build_model(config["Architecture"])
        record = {
            "generated_by": "tests/modeling/expected/generate.py",
            "config": rel,
            "head": _head_sizes(config["Architecture"]),
            "state_dict": _describe(model),
        }
        (out_dir / f"{name}.json").write_text(_compact_json(record), encoding="utf-8")
        print(f"{name}: {len(record['state_dict'])} entries")


if __name__ == "__main__":
    main()
