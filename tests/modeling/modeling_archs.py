"""`Architecture` sections of the PaddleOCR configs the compatibility tests build (written out
by hand from PaddleOCR release/2.10's `configs/rec/...`), with their dictionary settings."""

from __future__ import annotations

from typing import Any

PPOCRV3 = {
    "model_type": "rec",
    "algorithm": "SVTR_LCNet",
    "Transform": None,
    "Backbone": {
        "name": "MobileNetV1Enhance",
        "scale": 0.5,
        "last_conv_stride": [1, 2],
        "last_pool_type": "avg",
        "last_pool_kernel_size": [2, 2],
    },
    "Head": {
        "name": "MultiHead",
        "head_list": [
            {
                "CTCHead": {
                    "Neck": {"name": "svtr", "dims": 64, "depth": 2, "hidden_dims": 120, "use_guide": True},
                    "Head": {"fc_decay": 0.00001},
                }
            },
            {"SARHead": {"enc_dim": 512, "max_text_length": 25}},
        ],
    },
}

PPOCRV4 = {
    "model_type": "rec",
    "algorithm": "SVTR_LCNet",
    "Transform": None,
    "Backbone": {"name": "PPLCNetV3", "scale": 0.95},
    "Head": {
        "name": "MultiHead",
        "head_list": [
            {
                "CTCHead": {
                    "Neck": {
                        "name": "svtr",
                        "dims": 120,
                        "depth": 2,
                        "hidden_dims": 120,
                        "kernel_size": [1, 3],
                        "use_guide": True,
                    },
                    "Head": {"fc_decay": 0.00001},
                }
            },
            {"NRTRHead": {"nrtr_dim": 384, "max_text_length": 25}},
        ],
    },
}

CRNN_MV3 = {
    "model_type": "rec",
    "algorithm": "CRNN",
    "Transform": None,
    "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
    "Head": {"name": "CTCHead", "fc_decay": 0},
}

CRNN_R34VD = {
    "model_type": "rec",
    "algorithm": "CRNN",
    "Transform": None,
    "Backbone": {"name": "ResNet", "layers": 34},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 256},
    "Head": {"name": "CTCHead", "fc_decay": 0},
}

PPOCRV2 = {
    "model_type": "rec",
    "algorithm": "CRNN",
    "Transform": None,
    "Backbone": {"name": "MobileNetV1Enhance", "scale": 0.5},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 64},
    "Head": {"name": "CTCHead", "mid_channels": 96, "fc_decay": 0.00002},
}

FRENCH_LITE = {
    "model_type": "rec",
    "algorithm": "CRNN",
    "Transform": None,
    "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "small", "small_stride": [1, 2, 2, 2]},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 48},
    "Head": {"name": "CTCHead", "fc_decay": 0.00001},
}

STARNET_MV3 = {
    "model_type": "rec",
    "algorithm": "STARNet",
    "Transform": {"name": "TPS", "num_fiducial": 20, "loc_lr": 0.1, "model_name": "small"},
    "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
    "Head": {"name": "CTCHead", "fc_decay": 0.0004},
}

# expected-file name -> (Architecture, dictionary, use_space_char)
CASES: dict[str, tuple[dict[str, Any], str | None, bool]] = {
    "ppocrv3_en": (PPOCRV3, "en", True),
    "ppocrv3_ch": (PPOCRV3, "ch", True),
    "ppocrv4_en": (PPOCRV4, "en", True),
    "ppocrv4_ch": (PPOCRV4, "ch", True),
    "crnn_mv3": (CRNN_MV3, None, False),
    "crnn_r34vd": (CRNN_R34VD, None, False),
    "ppocrv2_ch": (PPOCRV2, "ch", True),
    "french_lite": (FRENCH_LITE, "french", False),
    "starnet_mv3_tps": (STARNET_MV3, None, False),
}
