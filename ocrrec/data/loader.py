"""Build the `paddle.io.DataLoader` of a config's Train or Eval section.

`build_dataloader` returns (loader, dataset). Batches are lists of tensors in
`dataset.keep_keys` order (also `loader.keep_keys`).

Reproducibility: call `loader.set_epoch(epoch)` before iterating epoch `epoch`.
It sets the batch sampler's epoch (sample order from (seed, epoch); for label
files PaddleOCR's exact order, see RecDataset._paddleocr_order), the
dataset's epoch (the `ratio_list` subset) and, when a seed is set, reseeds
python's and numpy's global RNGs, which the augmentation ops use and from which
paddle derives the worker seeds. Epoch k's batches are then identical however
the run got there (fresh or resumed), with num_workers 0 or more.

Load failures: the loader asks the dataset between batches (main process) for
its shared failure counters; the first failure is logged once, and more than 1%
failed draws over an epoch (2% mid-epoch, after 200 draws) raise a UserError
naming the first bad samples.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from paddle.io import DataLoader, DistributedBatchSampler

from ocrrec.data.datasets import RecDataset, build_dataset, loader_shuffle
from ocrrec.data.registry import SAMPLERS
from ocrrec.data.sampler import RankBatchPlan, epoch_seed
from ocrrec.errors import ConfigError, UserError
from ocrrec.registry import check_arguments

MODES = ("Train", "Eval")


class RecBatchSampler(DistributedBatchSampler):
    """paddle's DistributedBatchSampler with a seed: epoch k's order depends only on (seed, k).

    Training pads by wrap-around so every rank gets the same number of batches
    and each rank takes its share of every global batch; evaluation (pad=False)
    splits without duplicates.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        pad: bool = True,
    ) -> None:
        super().__init__(
            dataset, batch_size, num_replicas=max(1, world_size), rank=rank, shuffle=shuffle, drop_last=drop_last
        )
        self.seed = seed
        self.plan = RankBatchPlan(
            len(dataset),
            batch_size,
            rank=rank,
            world_size=max(1, world_size),
            shuffle=shuffle,
            drop_last=drop_last,
            seed=seed,
            pad=pad,
        )

    def __iter__(self) -> Iterator[list[int]]:
        epoch = self.epoch
        self.epoch = epoch + 1
        yield from self.plan.batches(epoch)

    def __len__(self) -> int:
        return len(self.plan)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)


class RecDataLoader(DataLoader):
    """DataLoader + `set_epoch` + load-failure checks between batches."""

    def __init__(self, dataset: RecDataset, *, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(dataset, **kwargs)
        self.seed = seed
        self.keep_keys = dataset.keep_keys
        self.requested_workers = self.num_workers  # the config's loader.num_workers before capping

    def set_epoch(self, epoch: int) -> None:
        self.batch_sampler.set_epoch(epoch)
        self.dataset.set_epoch(epoch)
        if self.seed is not None:
            value = epoch_seed(self.seed, epoch)
            random.seed(value)
            np.random.seed(value)

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        return self._checked(super().__iter__())

    def _checked(self, batches: Any) -> Iterator[Any]:
        dataset = self.dataset
        try:
            for batch in batches:
                dataset.check_load_health()
                yield batch
        except Exception:
            # Stop the workers now: the exception's traceback keeps this iterator alive, and
            # paddle would otherwise join them without a timeout at interpreter exit.
            _shutdown(batches)
            # A worker that gave up on a sample reaches us re-raised with its traceback in the
            # message: when the shared counters explain it, raise their clean one-line error.
            dataset.check_load_health(final=True)
            raise
        # Join the iterator's reader thread now: paddle's allocator takes a lock in that thread,
        # and a worker forked by the next iterator while it is held deadlocks in its first allocation.
        _shutdown(batches)
        dataset.check_load_health(final=True)


def _shutdown(iterator: Any, timeout: float = 5.0) -> None:
    """Ask a paddle DataLoader iterator to stop its thread and worker processes."""
    stop = getattr(iterator, "_try_shutdown_all", None)
    if stop is None:
        return
    try:
        stop(timeout)
    except TypeError:  # the single-process iterator takes no timeout
        stop()


def _get(config: Any, dotted: str, default: Any = None) -> Any:
    if hasattr(config, "get") and hasattr(config, "section"):
        return config.get(dotted, default)
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def _int_option(value: Any, key: str, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be an integer, got {value!r}") from None
    if number < minimum or isinstance(value, bool):
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")
    return number


def capped_num_workers(wanted: int) -> int:
    """At most as many loader processes as this rank has CPU cores (OCRREC_LOADER_WORKERS_CAP=0: no cap).

    Decoding and augmentation are CPU work: processes beyond the cores add memory (each holds its
    own interpreter and paddle), not throughput. PaddleOCR's configs ask for 4-8 per card.
    """
    if wanted <= 1 or os.environ.get("OCRREC_LOADER_WORKERS_CAP", "1").strip() == "0":
        return wanted
    from ocrrec.engine.device import cores_per_rank

    return min(wanted, cores_per_rank())


def build_dataloader(
    config: Any,
    mode: str,
    *,
    seed: int | None,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int | None = None,
) -> tuple[RecDataLoader, RecDataset]:
    """(loader, dataset) for `mode` ("Train" or "Eval") of a Config (or plain dict).

    `seed` None falls back to Global.seed. `num_workers` overrides the config's
    loader.num_workers. With a `sampler` in the section (MultiScaleSampler) the
    sampler makes the batches; otherwise `RecBatchSampler` does, split over
    `world_size` ranks.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if seed is None:
        seed = _get(config, "Global.seed")
        seed = None if seed is None else int(seed)
    dataset = build_dataset(config, mode, seed=seed)
    loader_cfg = _get(config, f"{mode}.loader") or {}
    if not isinstance(loader_cfg, Mapping):
        raise ConfigError(f"{mode}.loader must be a mapping")
    if "collate_fn" in loader_cfg:
        raise ConfigError(
            f"{mode}.loader.collate_fn `{loader_cfg['collate_fn']}` is not supported",
            "text recognition uses the default collation; remove the key",
        )
    if "batch_size_per_card" not in loader_cfg:
        raise ConfigError(f"{mode}.loader.batch_size_per_card is not set")
    batch_size = _int_option(loader_cfg["batch_size_per_card"], f"{mode}.loader.batch_size_per_card", 1)
    shuffle = loader_shuffle(loader_cfg, mode)
    drop_last = bool(loader_cfg.get("drop_last", False))
    requested_workers = num_workers
    if num_workers is None:
        requested_workers = _int_option(loader_cfg.get("num_workers", 0), f"{mode}.loader.num_workers", 0)
        num_workers = capped_num_workers(requested_workers)
    use_shared_memory = bool(loader_cfg.get("use_shared_memory", True))

    sampler_cfg = _get(config, f"{mode}.sampler")
    if sampler_cfg:
        if not isinstance(sampler_cfg, Mapping) or "name" not in sampler_cfg:
            raise ConfigError(f"{mode}.sampler needs a `name` (e.g. MultiScaleSampler)")
        cls = SAMPLERS.get(sampler_cfg["name"], f"{mode}.sampler.name")
        args = {k: v for k, v in sampler_cfg.items() if k != "name"}
        args.setdefault("seed", seed)
        check_arguments(cls, {"data_source": dataset, **args}, f"{mode}.sampler ({sampler_cfg['name']})")
        batch_sampler = cls(dataset, **args, rank=rank, world_size=world_size)
    else:
        batch_sampler = RecBatchSampler(
            dataset,
            batch_size,
            rank=rank,
            world_size=world_size,
            # label files in training: the dataset shuffles each epoch PaddleOCR's way instead
            shuffle=shuffle and not dataset.use_epoch_shuffle(),
            drop_last=drop_last,
            seed=seed,
            pad=mode == "Train",
        )
    loader = RecDataLoader(
        dataset,
        seed=seed,
        batch_sampler=batch_sampler,
        num_workers=num_workers,
        use_shared_memory=use_shared_memory,
        return_list=True,
    )
    loader.requested_workers = requested_workers
    if len(loader) == 0:
        raise UserError(
            f"{mode}: {len(dataset)} samples make no batch of {batch_size} with drop_last",
            f"lower {mode}.loader.batch_size_per_card or set drop_last: false",
        )
    return loader, dataset
