"""Batch samplers (no paddle import): seeded per-rank batches and PP-OCRv4's MultiScaleSampler.

Both reproduce an epoch's batches exactly from (seed, epoch): call
`set_epoch(epoch)` before iterating (without it the epoch counter advances by
one after every full iteration, as paddle's DistributedBatchSampler does).
With several ranks each rank takes its own share of every global batch and all
ranks get the same number of batches (training pads by wrapping around).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ocrrec.data.registry import SAMPLERS
from ocrrec.errors import ConfigError, UserError


def epoch_seed(seed: int | None, epoch: int) -> int:
    """RNG seed for one epoch; without a seed it is the epoch number (paddle's behaviour)."""
    if seed is None:
        return int(epoch) & 0xFFFFFFFF
    return int(np.random.SeedSequence([abs(int(seed)), abs(int(epoch))]).generate_state(1)[0])


def rank_indices(
    n: int,
    batch_size: int,
    *,
    rank: int = 0,
    world_size: int = 1,
    shuffle: bool = False,
    seed: int | None = None,
    epoch: int = 0,
    pad: bool = True,
) -> np.ndarray:
    """The sample indices rank `rank` visits in epoch `epoch`, in order.

    pad=True (training): the index list is padded by wrap-around to a multiple of
    world_size, and global batch k (batch_size * world_size indices) is split so
    that rank r gets its slice r; the short last global batch is split evenly.
    pad=False (evaluation): rank r takes indices r, r + world_size, ... (no
    duplicates, so summed metrics are exact; ranks may differ by one sample).
    """
    indices = np.arange(n, dtype=np.int64)
    if world_size > 1 and pad:
        # wrap-around padding before the shuffle, as paddle's DistributedBatchSampler does
        indices = np.resize(indices, int(math.ceil(n / world_size)) * world_size)
    if shuffle:
        np.random.RandomState(epoch_seed(seed, epoch)).shuffle(indices)
    if world_size <= 1:
        return indices
    if not pad:
        return indices[rank::world_size]
    total = len(indices)
    global_batch = batch_size * world_size
    full = (total // global_batch) * global_batch
    head = indices[:full].reshape(-1, world_size, batch_size)[:, rank, :].reshape(-1)
    tail = indices[full:]
    share = len(tail) // world_size
    return np.concatenate([head, tail[rank * share : (rank + 1) * share]])


def num_rank_batches(
    n: int, batch_size: int, *, rank: int = 0, world_size: int = 1, drop_last: bool = False, pad: bool = True
) -> int:
    if world_size <= 1:
        per_rank = n
    elif pad:
        per_rank = int(math.ceil(n / world_size))
    else:
        per_rank = len(range(rank, n, world_size))
    return per_rank // batch_size if drop_last else int(math.ceil(per_rank / batch_size))


class RankBatchPlan:
    """Seeded, rank-aware batches of indices: the logic behind the loader's batch sampler."""

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        pad: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size_per_card must be at least 1, got {batch_size}")
        if not 0 <= rank < max(1, world_size):
            raise ValueError(f"rank {rank} is not in [0, {world_size})")
        self.n, self.batch_size = int(n), int(batch_size)
        self.rank, self.world_size = int(rank), int(world_size)
        self.shuffle, self.drop_last, self.seed, self.pad = bool(shuffle), bool(drop_last), seed, bool(pad)
        self.epoch = 0

    def batches(self, epoch: int) -> Iterator[list[int]]:
        mine = rank_indices(
            self.n,
            self.batch_size,
            rank=self.rank,
            world_size=self.world_size,
            shuffle=self.shuffle,
            seed=self.seed,
            epoch=epoch,
            pad=self.pad,
        )
        for start in range(0, len(mine), self.batch_size):
            batch = mine[start : start + self.batch_size]
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch.tolist()

    def __len__(self) -> int:
        return num_rank_batches(
            self.n, self.batch_size, rank=self.rank, world_size=self.world_size, drop_last=self.drop_last, pad=self.pad
        )


def _parse_scales(scales: Any) -> tuple[list[int], list[int]]:
    if not isinstance(scales, Sequence) or isinstance(scales, str) or not scales:
        raise ConfigError(f"MultiScaleSampler.scales must be a list of [width, height] pairs, got {scales!r}")
    widths, heights = [], []
    for s in scales:
        if isinstance(s, (int, float)):
            widths.append(int(s))
            heights.append(int(s))
        elif isinstance(s, Sequence) and len(s) == 2:
            widths.append(int(s[0]))
            heights.append(int(s[1]))
        else:
            raise ConfigError(f"MultiScaleSampler.scales: each scale must be [width, height], got {s!r}")
    return widths, heights


@SAMPLERS.register()
class MultiScaleSampler:
    """Batches at several input sizes: yields lists of (width, height, index, wh_ratio) tuples.

    PaddleOCR's arguments: `scales` ([w, h] pairs), `first_bs` (batch size of the
    first scale), `fix_bs` (False: scale the batch size so every batch holds
    about as many pixels as the first), `divided_factor` ([w, h] multiples),
    `is_training` (False: first scale only, no shuffling), `ratio_wh` (accepted,
    unused as in PaddleOCR), `max_w` (cap on width for ds_width batches), `seed`.

    The sequence of batch shapes is fixed when the sampler is built (so `len`
    never changes); each epoch re-shuffles the samples and the batch order from
    (seed, epoch) — PaddleOCR instead repeats one order every epoch when a seed
    is set. Only the final short batch is padded by wrap-around (PaddleOCR also
    appends whole batches of repeated samples to finish its last round of scales).
    """

    def __init__(
        self,
        data_source: Any,
        scales: Sequence[Any],
        first_bs: int = 128,
        fix_bs: bool = True,
        divided_factor: Sequence[int] = (8, 16),
        is_training: bool = True,
        ratio_wh: float = 0.8,
        max_w: float = 480.0,
        seed: int | None = None,
        *,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.data_source = data_source
        self.ds_width = bool(getattr(data_source, "ds_width", False))
        self.seed = seed if seed is not None else getattr(data_source, "seed", None)
        self.ratio_wh = float(ratio_wh)
        self.max_w = float(max_w)
        self.rank, self.world_size = int(rank), max(1, int(world_size))
        self.n = len(data_source)
        self.per_replica = self.n // self.world_size
        if self.per_replica == 0:
            raise UserError(
                f"MultiScaleSampler: {self.n} samples cannot be shared by {self.world_size} ranks",
                "use more data or fewer devices",
            )
        widths, heights = _parse_scales(scales)
        first_bs = int(first_bs)
        if first_bs < 1:
            raise ConfigError(f"MultiScaleSampler.first_bs must be at least 1, got {first_bs}")
        if is_training:
            fw, fh = (int(v) for v in divided_factor)
            widths = [max(fw, (w // fw) * fw) for w in widths]
            heights = [max(fh, (h // fh) * fh) for h in heights]
            base_elements = widths[0] * heights[0] * first_bs
            pairs = [
                (w, h, first_bs if fix_bs else max(1, int(base_elements / (w * h))))
                for w, h in zip(widths, heights, strict=True)
            ]
        else:
            pairs = [(widths[0], heights[0], first_bs)]
        self.img_batch_pairs = pairs
        self.shuffle = bool(is_training)
        # the fixed sequence of (width, height, batch size), cycling through the scales
        plan: list[tuple[int, int, int]] = []
        taken = 0
        while taken < self.per_replica:
            for w, h, bs in pairs:
                if taken >= self.per_replica:
                    break
                plan.append((w, h, bs))
                taken += bs
        self.batch_list = plan
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.batch_list)

    def epoch_batches(self, epoch: int) -> list[list[tuple[int, int, int, float | None]]]:
        """Every batch of epoch `epoch` for this rank, in yield order."""
        rng = np.random.RandomState(epoch_seed(self.seed, epoch))
        indices = np.arange(self.n, dtype=np.int64)
        if self.shuffle and not self.ds_width:
            rng.shuffle(indices)
        mine = indices[self.rank :: self.world_size][: self.per_replica]
        wh_ratio = getattr(self.data_source, "wh_ratio", None)
        wh_sort = getattr(self.data_source, "wh_ratio_sort", None)
        batches = []
        start = 0
        for w, h, bs in self.batch_list:
            ids = mine[start : start + bs]
            if len(ids) < bs:
                ids = np.concatenate([ids, np.resize(mine, bs - len(ids))])
            start += bs
            ratio = None
            if self.ds_width and wh_ratio is not None and len(wh_ratio):
                ratio = float(wh_ratio[wh_sort[ids]].mean())
                if ratio * h >= self.max_w:
                    ratio = self.max_w / h
            batches.append([(w, h, int(i), ratio) for i in ids])
        if self.shuffle:
            order = rng.permutation(len(batches))
            batches = [batches[i] for i in order]
        return batches

    def __iter__(self) -> Iterator[list[tuple[int, int, int, float | None]]]:
        epoch = self.epoch
        self.epoch = epoch + 1
        yield from self.epoch_batches(epoch)
