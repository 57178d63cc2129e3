"""DistributedSampler in one process (num_replicas and rank given): the ranks' shares cover the dataset, are
disjoint without padding and equally long, follow seed + epoch, and obey torch's padding / drop_last rules."""

import numpy as np
import pytest

import pycnn as pc
from pycnn.data import DataLoader, DistributedSampler, TensorDataset


def shares(n, replicas, **kwargs):
    """Every rank's indices for one pass over a dataset of n samples."""
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kwargs)) for r in range(replicas)]


@pytest.mark.parametrize("n, replicas", [(10, 4), (12, 3), (7, 2), (3, 5), (1, 1), (37, 8)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_union_covers_the_dataset_with_equal_lengths(n, replicas, shuffle):
    parts = shares(n, replicas, shuffle=shuffle, seed=3)
    per_rank = -(-n // replicas)
    assert [len(p) for p in parts] == [per_rank] * replicas
    assert set().union(*parts) == set(range(n))
    counts = np.bincount(np.concatenate(parts), minlength=n)
    # padding repeats indices, each at most ceil(total / n) times
    assert counts.sum() == per_rank * replicas and counts.min() >= 1
    assert counts.max() <= -(-per_rank * replicas // n)


@pytest.mark.parametrize("n, replicas", [(12, 4), (12, 3), (40, 8)])
def test_disjoint_when_no_padding_is_needed(n, replicas):
    parts = shares(n, replicas, seed=11)
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))


def test_padding_repeats_the_start_of_the_order():
    # without shuffle the order is 0..n-1: 10 samples over 4 ranks pad with 0 and 1
    assert shares(10, 4, shuffle=False) == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    # more padding than samples: the order is repeated as often as needed
    assert shares(3, 5, shuffle=False) == [[0], [1], [2], [0], [1]]


def test_rank_r_takes_every_num_replicas_th_index_of_the_permutation():
    n, replicas, seed, epoch = 23, 3, 5, 2
    order = np.random.default_rng(seed + epoch).permutation(n)
    padded = np.concatenate([order, order[: 24 - n]])
    for r in range(replicas):
        sampler = DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=seed)
        sampler.set_epoch(epoch)
        assert list(sampler) == padded[r::replicas].tolist()


def test_set_epoch_changes_the_order_and_the_same_seed_gives_the_same_order():
    a = DistributedSampler(range(50), num_replicas=2, rank=1, seed=7)
    b = DistributedSampler(range(50), num_replicas=2, rank=1, seed=7)
    first = list(a)
    assert list(b) == first and list(a) == first  # a pass does not advance anything by itself
    a.set_epoch(1)
    assert list(a) != first
    b.set_epoch(1)
    assert list(b) == list(a)
    assert list(DistributedSampler(range(50), num_replicas=2, rank=1, seed=8)) != first


def test_every_epoch_is_still_a_partition():
    for epoch in range(4):
        parts = []
        for r in range(4):
            sampler = DistributedSampler(range(20), num_replicas=4, rank=r, seed=1)
            sampler.set_epoch(epoch)
            parts += list(sampler)
        assert sorted(parts) == list(range(20))


@pytest.mark.parametrize("n, replicas", [(10, 4), (12, 4), (3, 5), (9, 2)])
def test_drop_last_cuts_the_tail(n, replicas):
    parts = shares(n, replicas, drop_last=True, seed=2)
    assert [len(p) for p in parts] == [n // replicas] * replicas
    flat = np.concatenate(parts) if n // replicas else np.zeros(0, int)
    assert len(set(flat.tolist())) == len(flat)  # nothing repeated
    order = np.random.default_rng(2).permutation(n)
    assert sorted(flat.tolist()) == sorted(order[: n // replicas * replicas].tolist())


@pytest.mark.parametrize("n, replicas", [(10, 4), (12, 4), (3, 5), (1, 3)])
def test_pad_false_shares_every_sample_exactly_once(n, replicas):
    parts = shares(n, replicas, shuffle=False, pad=False)
    assert sorted(i for p in parts for i in p) == list(range(n))
    lengths = [len(p) for p in parts]
    assert max(lengths) - min(lengths) <= 1
    assert lengths == [
        len(DistributedSampler(range(n), num_replicas=replicas, rank=r, pad=False)) for r in range(replicas)
    ]


def test_in_a_dataloader_the_ranks_batches_make_the_single_process_batches():
    x = pc.tensor(np.arange(24, dtype=np.float32).reshape(12, 2))
    ds = TensorDataset(x, pc.arange(12))
    whole = DistributedSampler(ds, num_replicas=1, rank=0, seed=4)
    single = [set(b[1].numpy().tolist()) for b in DataLoader(ds, batch_size=4, sampler=whole)]
    ranks = []
    for r in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=r, seed=4)
        ranks.append([set(b[1].numpy().tolist()) for b in DataLoader(ds, batch_size=2, sampler=sampler)])
    assert [a | b for a, b in zip(*ranks)] == single


def test_state_dict_keeps_the_epoch():
    a = DistributedSampler(range(30), num_replicas=3, rank=2)
    a.set_epoch(5)
    b = DistributedSampler(range(30), num_replicas=3, rank=2)
    b.load_state_dict(a.state_dict())
    assert b.epoch == 5 and list(b) == list(a)


@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"num_replicas": 2, "rank": 2}, ValueError, "rank must be in [0, 1]"),
        ({"num_replicas": 2, "rank": -1}, ValueError, "got -1"),
        ({"num_replicas": 0, "rank": 0}, ValueError, "num_replicas must be >= 1, got 0"),
        ({"num_replicas": 2.0, "rank": 0}, TypeError, "2.0"),
        ({"num_replicas": 2, "rank": 0, "shuffle": "yes"}, TypeError, "'yes'"),
        ({"num_replicas": 2, "rank": 0, "seed": 1.5}, TypeError, "1.5"),
        ({"num_replicas": 2, "rank": 0, "drop_last": True, "pad": False}, ValueError, "pad=False"),
        ({"rank": 0}, RuntimeError, "init_process_group"),
    ],
)
def test_bad_arguments(kwargs, exc, text):
    with pytest.raises(exc, match=r"^\[DistributedSampler\]") as info:
        DistributedSampler(range(5), **kwargs)
    assert text in str(info.value)


def test_bad_dataset_and_epoch():
    with pytest.raises(TypeError, match=r"^\[DistributedSampler\] .*len"):
        DistributedSampler(iter(range(3)), num_replicas=1, rank=0)
    with pytest.raises(TypeError, match=r"^\[DistributedSampler.set_epoch\] .*'1'"):
        DistributedSampler(range(3), num_replicas=1, rank=0).set_epoch("1")


@pytest.mark.parametrize("n, replicas", [(10, 4), (12, 4), (3, 5), (17, 3), (0, 2)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_lengths_and_padding_match_torch(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    TorchSampler = torch.utils.data.distributed.DistributedSampler
    for r in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=r, drop_last=drop_last, shuffle=False)
        theirs = TorchSampler(range(n), num_replicas=replicas, rank=r, drop_last=drop_last, shuffle=False)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size
        assert list(ours) == list(theirs)  # without shuffle the order is the identity: the same indices
        shuffled = DistributedSampler(range(n), num_replicas=replicas, rank=r, drop_last=drop_last)
        assert len(list(shuffled)) == len(list(TorchSampler(range(n), replicas, r, drop_last=drop_last)))
