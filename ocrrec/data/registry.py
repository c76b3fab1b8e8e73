"""Registries for datasets, samplers and data operators, keyed by PaddleOCR's names."""

from ocrrec.registry import Registry

DATASETS = Registry("dataset")
SAMPLERS = Registry("sampler")
DATA_OPS = Registry("data transform")
