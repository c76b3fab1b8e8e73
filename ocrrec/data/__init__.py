"""Data layer: label/LMDB readers, transforms, datasets, samplers and the DataLoader builder.

Importing this package does not import paddle; only `ocrrec.data.loader` does.
"""
