"""The training engine: device setup, optimizer/LR, checkpoints, the train and eval loops.

Modules here import paddle; the CLI imports them only when a command runs.
"""
