"""Necks between backbone and head; importing this package registers them (`SequenceEncoder`)."""

from ocrrec.modeling.necks import sequence_encoder  # noqa: F401
