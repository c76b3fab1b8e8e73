"""Recognition heads; importing this package registers CTCHead, SARHead, NRTRHead and MultiHead."""

from ocrrec.modeling.heads import ctc_head, multi_head, nrtr_head, sar_head  # noqa: F401
