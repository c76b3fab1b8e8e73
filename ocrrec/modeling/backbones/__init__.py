"""Recognition backbones; importing this package registers each one under its PaddleOCR name."""

from ocrrec.modeling.backbones import mobilenet_v1_enhance, mobilenet_v3, pplcnet_v3, resnet_vd, vgg  # noqa: F401
