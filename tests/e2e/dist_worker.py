"""Run under `python -m paddle.distributed.launch`: train a tiny config, then dump what this rank saw.

Writes `weights_rank{R}.npz` (the final trainable parameters; BatchNorm running statistics stay
per rank, as in PaddleOCR without `use_sync_bn`) and `batches_rank{R}.json` (epoch 1's sample
indices) into OUT_DIR, so the test can check that the ranks ended with identical weights and
split every global batch between them.
"""

import json
import sys
from pathlib import Path

import numpy as np

from ocrrec.config import load_config
from ocrrec.engine.trainer import Trainer

config_path, out_dir = sys.argv[1], Path(sys.argv[2])
trainer = Trainer(load_config(config_path))
trainer.fit()
rank = trainer.place.rank
np.savez(out_dir / f"weights_rank{rank}.npz", **{k: v.numpy() for k, v in trainer.model.named_parameters() if not v.stop_gradient})
plan = trainer.train_loader.batch_sampler.plan
(out_dir / f"batches_rank{rank}.json").write_text(json.dumps(list(plan.batches(1))), encoding="utf-8")
