"""Batch plans: seeded per-rank splits and PP-OCRv4's MultiScaleSampler (no paddle needed)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ocrrec.data.sampler import MultiScaleSampler, RankBatchPlan, epoch_seed, rank_indices
from ocrrec.errors import UserError


@pytest.mark.parametrize("n", [40, 41, 47])
def test_training_split_gives_each_rank_its_share_of_every_global_batch(n):
    world, bs = 4, 3
    shares = [rank_indices(n, bs, rank=r, world_size=world, shuffle=True, seed=1, epoch=2) for r in range(world)]
    assert len({len(s) for s in shares}) == 1  # equal counts: no rank waits for another
    # paddle's DistributedBatchSampler: wrap-around padding first, then one shuffle of the padded list
    order = np.resize(np.arange(n), len(shares[0]) * world)
    np.random.RandomState(epoch_seed(1, 2)).shuffle(order)
    for k in range(len(shares[0]) // bs):  # full global batches: rank r holds slice r
        for r in range(world):
            assert shares[r][k * bs : (k + 1) * bs].tolist() == order[(k * world + r) * bs : (k * world + r + 1) * bs].tolist()
    covered = Counter(np.concatenate(shares).tolist())
    assert set(covered) == set(range(n))
    assert sum(covered.values()) - n == (-n) % world  # padding repeats only what is needed


def test_eval_split_has_no_duplicates():
    shares = [rank_indices(10, 4, rank=r, world_size=3, pad=False) for r in range(3)]
    assert sorted(np.concatenate(shares).tolist()) == list(range(10))
    assert [len(s) for s in shares] == [4, 3, 3]


def test_plan_is_a_function_of_seed_and_epoch():
    a = RankBatchPlan(50, 8, shuffle=True, seed=7)
    b = RankBatchPlan(50, 8, shuffle=True, seed=7)
    assert list(a.batches(3)) == list(b.batches(3))
    assert list(a.batches(3)) != list(a.batches(4))
    assert list(a.batches(3)) != list(RankBatchPlan(50, 8, shuffle=True, seed=8).batches(3))
    assert list(RankBatchPlan(5, 2).batches(0)) == [[0, 1], [2, 3], [4]]
    assert list(RankBatchPlan(5, 2, drop_last=True).batches(0)) == [[0, 1], [2, 3]]
    assert len(RankBatchPlan(5, 2, drop_last=True)) == 2 and len(RankBatchPlan(5, 2)) == 3


class FakeSource:
    def __init__(self, n: int, ds_width: bool = False, seed: int | None = None) -> None:
        self.n, self.ds_width, self.seed = n, ds_width, seed
        self.wh_ratio = np.linspace(1, 10, n)
        self.wh_ratio_sort = np.argsort(self.wh_ratio)

    def __len__(self) -> int:
        return self.n


SCALES = [[320, 32], [320, 48], [320, 64]]


def test_multiscale_batch_sizes_scale_with_pixels():
    sampler = MultiScaleSampler(FakeSource(1000), SCALES, first_bs=96, fix_bs=False, divided_factor=[8, 16], seed=1)
    assert sampler.img_batch_pairs == [(320, 32, 96), (320, 48, 64), (320, 64, 48)]
    batches = sampler.epoch_batches(0)
    assert len(batches) == len(sampler)
    sizes = Counter((b[0][0], b[0][1], len(b)) for b in batches)
    assert set(sizes) == {(320, 32, 96), (320, 48, 64), (320, 64, 48)}
    for batch in batches:
        assert len({(w, h) for w, h, _, _ in batch}) == 1
    indices = [i for b in batches for _, _, i, _ in b]
    assert set(indices) == set(range(1000))
    assert len(indices) - 1000 < 96  # only the last batch is padded


def test_multiscale_is_deterministic_per_epoch_and_reshuffles():
    make = lambda: MultiScaleSampler(FakeSource(300), SCALES, first_bs=32, seed=3)  # noqa: E731
    a, b = make(), make()
    assert a.epoch_batches(2) == b.epoch_batches(2)
    assert a.epoch_batches(2) != a.epoch_batches(3)
    first = list(a)  # iteration advances the epoch
    assert first == b.epoch_batches(0) and list(a) == b.epoch_batches(1)
    a.set_epoch(0)
    assert list(a) == first


def test_multiscale_eval_mode_uses_the_first_scale_in_order():
    sampler = MultiScaleSampler(FakeSource(10), SCALES, first_bs=4, is_training=False)
    batches = list(sampler)
    assert [[i for _, _, i, _ in b] for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]]
    assert batches[0][0][:2] == (320, 32)


def test_multiscale_ranks_get_disjoint_equal_shares():
    source = FakeSource(101)
    parts = [MultiScaleSampler(source, SCALES, first_bs=10, seed=0, rank=r, world_size=2) for r in range(2)]
    assert len(parts[0]) == len(parts[1])
    ids = [{i for b in p.epoch_batches(0) for _, _, i, _ in b} for p in parts]
    assert not ids[0] & ids[1]
    with pytest.raises(UserError, match="1 samples cannot be shared by 2 ranks"):
        MultiScaleSampler(FakeSource(1), SCALES, world_size=2)


def test_multiscale_ds_width_batches_similar_ratios_with_a_capped_mean():
    sampler = MultiScaleSampler(FakeSource(40, ds_width=True), [[320, 32]], first_bs=10, max_w=200.0, seed=0)
    for batch in sampler.epoch_batches(0):
        ids = [i for _, _, i, _ in batch]
        assert ids == sorted(ids)  # contiguous runs of the ratio-sorted order
        ratio = batch[0][3]
        assert ratio == pytest.approx(min(np.linspace(1, 10, 40)[ids].mean(), 200 / 32))
