"""Tests for the DataLoader's workers, seeding, resume state, samplers and dataset utilities.

Datasets are small and encode each sample's index in its values, so order and coverage can be checked
exactly; random "augmentations" draw from pc.default_generator() like pycnn.data.transforms do. Worker
tests also check that no worker process (not even a zombie) outlives its iterator.
"""

import gc
import json
import multiprocessing as mp
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import pycnn as pc
from pycnn.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
    stratified_split,
)

from helpers import SUBPROCESS_CWD


def make_dataset(n=40):
    """x[i] is a (2, 3) float32 block filled with i, y[i] = i % 3 (int64)."""
    x = np.repeat(np.arange(n, dtype=np.float32), 6).reshape(n, 2, 3)
    return TensorDataset(x, np.arange(n, dtype=np.int64) % 3)


def ids(batches):
    """Sample ids of a list of (x, y) batches, read back from the images."""
    return np.concatenate([xb.numpy()[:, 0, 0] for xb, _ in batches]).astype(np.int64)


def as_numpy(batches):
    """A list of batches (tuples of pc.Tensors) as nested lists of NumPy arrays, for comparisons."""
    return [[np.array(f.numpy()) for f in batch] for batch in batches]


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for ba, bb in zip(a, b):
        assert len(ba) == len(bb)
        for fa, fb in zip(ba, bb):
            assert fa.dtype == fb.dtype and fa.shape == fb.shape
            np.testing.assert_array_equal(fa, fb)


def gone(pid):
    """True when no process `pid` exists any more (a zombie still answers kill 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_gone(pids, within=3.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(gone(p) for p in pids):
            return True
        time.sleep(0.02)
    return all(gone(p) for p in pids)


def worker_pids(iterator):
    return [p.pid for p in iterator._pool.processes]


class PlainDataset(Dataset):
    """No __getitems__: the loader goes sample by sample and collates."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2,), i, dtype=np.float64), i


class NoisyDataset(Dataset):
    """A random 'augmentation' per sample: x = i + U(0, 1) drawn from pc.default_generator()."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.float64(i) + pc.default_generator().numpy.random(), i


class NoisyBatchDataset(NoisyDataset):
    """The same augmentation drawn for a whole batch at once in __getitems__ (the fast path)."""

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return idx + pc.default_generator().numpy.random(len(idx)), idx


# ---------------------------------------------------------------------------------------------- workers


@pytest.mark.parametrize("dataset_fn", [make_dataset, PlainDataset], ids=["getitems", "per-sample"])
def test_workers_give_the_main_process_batches_in_order(dataset_fn):
    ds = dataset_fn(37)
    for drop_last in (False, True):
        ref = as_numpy(DataLoader(ds, batch_size=5, shuffle=True, seed=4, drop_last=drop_last))
        assert len(ref) == (7 if drop_last else 8)
        for nw in (1, 2, 3):
            got = as_numpy(DataLoader(ds, batch_size=5, shuffle=True, seed=4, drop_last=drop_last, num_workers=nw))
            assert_same_batches(ref, got)
    # Sequential order comes back in sampler order too, whatever worker finished first; at most
    # prefetch_factor * num_workers batches are in flight.
    it = iter(DataLoader(make_dataset(37), batch_size=4, num_workers=3, prefetch_factor=1))
    batches = []
    for batch in it:
        assert len(it._worker_of) <= 3
        batches.append(batch)
    np.testing.assert_array_equal(ids(batches), np.arange(37))


def test_worker_batches_are_writable_tensors_of_the_right_dtype():
    ds = TensorDataset(
        np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32), np.arange(20, dtype=np.uint8)
    )
    xb, yb = next(iter(DataLoader(ds, batch_size=8, num_workers=1)))
    assert xb.dtype == pc.float32 and yb.dtype == pc.int64
    np.testing.assert_array_equal(yb.numpy(), np.arange(8))
    np.testing.assert_array_equal(xb.numpy(), ds.arrays[0][:8])
    xb.numpy()[0, 0] = 123.0  # memory received from the worker belongs to the tensor and is writable
    assert xb.numpy()[0, 0] == 123.0


def test_custom_collate_structures_travel_from_workers():
    def collate(samples):
        xs = np.stack([s[0] for s in samples])
        return {"x": pc.tensor(xs), "ids": [int(s[1]) for s in samples], "n": len(samples)}

    ref = list(DataLoader(PlainDataset(11), batch_size=4, collate_fn=collate))
    got = list(DataLoader(PlainDataset(11), batch_size=4, collate_fn=collate, num_workers=2))
    assert len(ref) == len(got) == 3
    for a, b in zip(ref, got):
        assert isinstance(b["x"], pc.Tensor)
        np.testing.assert_array_equal(a["x"].numpy(), b["x"].numpy())
        assert a["ids"] == b["ids"] and a["n"] == b["n"]


@pytest.mark.parametrize("dataset_cls", [NoisyDataset, NoisyBatchDataset], ids=["getitem", "getitems"])
def test_augmentation_identical_for_any_num_workers(dataset_cls):
    ds = dataset_cls(23)

    def epochs(nw, seed=11, n_epochs=2):
        loader = DataLoader(ds, batch_size=4, shuffle=True, seed=seed, num_workers=nw)
        return [as_numpy(list(loader)) for _ in range(n_epochs)]

    ref = epochs(0)
    for nw in (2, 3):
        for a, b in zip(ref, epochs(nw)):
            assert_same_batches(a, b)
    for a, b in zip(ref, epochs(0)):  # and it repeats
        assert_same_batches(a, b)
    # The noise changes between epochs and with the seed (ids alone would not show it).
    noise = [np.concatenate([x - i for x, i in e]) for e in ref]
    assert not np.allclose(np.sort(noise[0]), np.sort(noise[1]))
    other = np.concatenate([x - i for x, i in epochs(0, seed=12, n_epochs=1)[0]])
    assert not np.allclose(np.sort(noise[0]), np.sort(other))


def test_seeding_rule_matches_its_documentation():
    """Derive epoch 1 independently from the documented rule: base_seed then the permutation are drawn
    from the loader's generator, and batch b reseeds the default generator with base_seed + b."""
    n, bs = 13, 4
    rng = np.random.Generator(np.random.PCG64(5))  # what pc.Generator(5) is
    base = int(rng.integers(0, 2**63 - 1))
    perm = rng.permutation(n)
    expected = []
    for b, lo in enumerate(range(0, n, bs)):
        noise = np.random.Generator(np.random.PCG64((base + b) % 2**63))
        expected.extend(i + noise.random() for i in perm[lo : lo + bs])
    for nw in (0, 2):
        loader = DataLoader(NoisyDataset(n), batch_size=bs, shuffle=True, generator=pc.Generator(5), num_workers=nw)
        got = np.concatenate([x.numpy() for x, _ in loader])
        np.testing.assert_allclose(got, expected, rtol=0, atol=0)


def test_loading_does_not_perturb_the_global_generator():
    loader = DataLoader(NoisyDataset(20), batch_size=3, shuffle=True, seed=0)
    pc.manual_seed(3)
    drawn = [float(pc.rand(1).numpy()[0]) for _ in loader]
    pc.manual_seed(3)
    reference = [float(pc.rand(1).numpy()[0]) for _ in range(len(loader))]
    assert drawn == reference
    # Building a loader that does not shuffle draws nothing either.
    pc.manual_seed(3)
    DataLoader(NoisyDataset(5), batch_size=2)
    assert float(pc.rand(1).numpy()[0]) == reference[0]


class InfoDataset(Dataset):
    """Each sample reports what get_worker_info() says in the process that loads it."""

    def __len__(self):
        return 24

    def __getitem__(self, i):
        info = get_worker_info()
        if info is None:
            return np.array([-1, 0, 0, 0, os.getpid()])
        return np.array(
            [info.id, info.num_workers, info.seed - info.id, isinstance(info.dataset, InfoDataset), os.getpid()]
        )


_INIT_CALLS = []


def record_init(worker_id):
    _INIT_CALLS.append(worker_id)  # runs in the worker: its own copy of this list


class InitCheckDataset(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.array([get_worker_info().id, len(_INIT_CALLS), _INIT_CALLS[0]])


def test_get_worker_info_and_worker_init_fn():
    assert get_worker_info() is None
    (rows,) = [b.numpy() for b in DataLoader(InfoDataset(), batch_size=24)]
    assert (rows[:, 0] == -1).all()

    rows = np.concatenate([b.numpy() for b in DataLoader(InfoDataset(), batch_size=2, num_workers=3)])
    assert sorted(set(rows[:, 0].tolist())) == [0, 1, 2]  # every worker loaded something
    assert (rows[:, 1] == 3).all() and (rows[:, 3] == 1).all()
    assert len(set(rows[:, 2].tolist())) == 1  # seed = base_seed + id, one base per epoch
    assert len(set(rows[:, 4].tolist())) == 3 and os.getpid() not in rows[:, 4]

    rows = np.concatenate(
        [b.numpy() for b in DataLoader(InitCheckDataset(), batch_size=2, num_workers=2, worker_init_fn=record_init)]
    )
    np.testing.assert_array_equal(rows[:, 1], 1)  # called once per worker, before loading
    np.testing.assert_array_equal(rows[:, 2], rows[:, 0])  # with the worker's id
    assert _INIT_CALLS == []  # and not in the main process


def test_workers_shut_down_when_exhausted_or_deleted():
    loader = DataLoader(make_dataset(40), batch_size=4, num_workers=2)
    it = iter(loader)
    pids = worker_pids(it)
    assert len(pids) == 2 and not any(gone(p) for p in pids)
    assert len(list(it)) == 10
    assert all(gone(p) for p in pids)  # joined: not even zombies

    it = iter(loader)
    pids = worker_pids(it)
    next(it), next(it)
    del it
    assert wait_gone(pids)

    for i, _ in enumerate(loader):  # break out of a for loop: the dropped iterator stops its workers
        if i == 1:
            break
    gc.collect()
    assert not [p for p in mp.active_children() if p.name.startswith("pycnn-")]


def test_persistent_workers_survive_epochs_and_stop_with_the_loader():
    ds = InfoDataset()
    loader = DataLoader(ds, batch_size=3, num_workers=2, persistent_workers=True)
    epochs = [np.concatenate([b.numpy() for b in loader]) for _ in range(3)]
    pids = set(epochs[0][:, 4].tolist())
    assert len(pids) == 2
    assert all(set(e[:, 4].tolist()) == pids for e in epochs)

    # Same batches as without persistence, and a half-read epoch does not leak into the next one.
    ds = make_dataset(30)
    persistent = DataLoader(ds, batch_size=4, shuffle=True, seed=2, num_workers=2, persistent_workers=True)
    fresh = DataLoader(ds, batch_size=4, shuffle=True, seed=2, num_workers=2)
    it = iter(persistent)
    fresh_it = iter(fresh)
    np.testing.assert_array_equal(next(it)[0].numpy(), next(fresh_it)[0].numpy())
    del it, fresh_it
    assert_same_batches(as_numpy(persistent), as_numpy(fresh))
    old = iter(persistent)
    new = iter(persistent)
    with pytest.raises(RuntimeError, match="newer iter"):
        next(old)
    assert len(list(new)) == len(persistent)
    pool_pids = [p.pid for p in persistent._pool.processes]
    del persistent, old, new
    gc.collect()
    assert wait_gone(pool_pids)


class FailingDataset(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        if i == 13:
            raise ValueError(f"cannot decode sample {i}")
        return np.float32(i)


def test_worker_exception_is_raised_in_main_with_traceback():
    loader = DataLoader(FailingDataset(), batch_size=2, num_workers=2)
    it = iter(loader)
    pids = worker_pids(it)
    seen = []
    with pytest.raises(ValueError) as info:
        for batch in it:
            seen.append(batch.numpy())
    text = str(info.value)
    assert "cannot decode sample 13" in text and "worker process" in text
    assert "Traceback" in text and "__getitem__" in text  # the worker's traceback, as text
    assert np.concatenate(seen).tolist() == list(range(12))  # every batch before the bad one, in order
    assert wait_gone(pids)
    with pytest.raises(StopIteration):
        next(it)

    with pytest.raises(ValueError, match="cannot decode sample 13"):  # same error without workers
        list(DataLoader(FailingDataset(), batch_size=2))


def failing_init(worker_id):
    raise KeyError(f"no resource for worker {worker_id}")


def test_worker_init_fn_error_and_unpicklable_batch():
    with pytest.raises(RuntimeError, match="worker_init_fn"):  # a KeyError would repr() the message
        list(DataLoader(make_dataset(8), batch_size=2, num_workers=1, worker_init_fn=failing_init))
    with pytest.raises(Exception, match="worker process"):
        list(DataLoader(make_dataset(8), batch_size=2, num_workers=1, collate_fn=lambda s: lambda: s))


class DyingDataset(Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == 5 and get_worker_info() is not None:
            os._exit(7)  # a worker crashing hard (think: killed for memory)
        return np.float32(i)


class SlowDataset(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            time.sleep(5)
        return np.float32(i)


def test_dead_worker_and_timeout_raise_instead_of_hanging():
    it = iter(DataLoader(DyingDataset(), batch_size=2, num_workers=2))
    pids = worker_pids(it)
    with pytest.raises(RuntimeError, match="exited unexpectedly.*exit code 7"):
        list(it)
    assert wait_gone(pids)

    it = iter(DataLoader(SlowDataset(), batch_size=1, num_workers=2, timeout=0.5))
    pids = worker_pids(it)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 0.5 s"):
        list(it)
    assert time.monotonic() - t0 < 4.0
    assert wait_gone(pids)


class BrokenBatchSampler:
    def __len__(self):
        return 3

    def __iter__(self):
        yield [0, 1]
        raise RuntimeError("index file truncated")


def test_failing_batch_sampler_leaves_no_workers():
    before = {p.pid for p in mp.active_children()}
    with pytest.raises(RuntimeError, match="index file truncated"):
        iter(DataLoader(make_dataset(8), batch_sampler=BrokenBatchSampler(), num_workers=2))
    after = {p.pid for p in mp.active_children()}
    assert after <= before


@pytest.mark.slow
def test_spawn_start_method():
    ds = make_dataset(17)
    ref = as_numpy(DataLoader(ds, batch_size=5, shuffle=True, seed=1))
    got = as_numpy(DataLoader(ds, batch_size=5, shuffle=True, seed=1, num_workers=1, multiprocessing_context="spawn"))
    assert_same_batches(ref, got)


def test_worker_argument_checks():
    ds = make_dataset(4)
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, num_workers=1, timeout=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, num_workers=1, prefetch_factor=0)
    with pytest.raises(TypeError, match="worker_init_fn"):
        DataLoader(ds, num_workers=1, worker_init_fn=3)
    with pytest.raises(ValueError, match="multiprocessing_context"):
        DataLoader(ds, num_workers=1, multiprocessing_context="teleport")
    assert DataLoader(ds, num_workers=2).prefetch_factor == 2


# ---------------------------------------------------------------------------------------------- resume


def test_state_dict_resumes_at_an_epoch_boundary():
    ds = NoisyBatchDataset(19)
    original = DataLoader(ds, batch_size=4, shuffle=True, seed=21, num_workers=2)
    list(original), list(original)
    state = json.loads(json.dumps(original.state_dict()))  # JSON-serialisable
    assert state["batches_done"] == 0
    expected = [as_numpy(original) for _ in range(2)]

    resumed = DataLoader(ds, batch_size=4, shuffle=True, seed=999)  # another seed: the state overrides it
    resumed.load_state_dict(state)
    for e in expected:
        assert_same_batches(e, as_numpy(resumed))


def test_state_dict_resumes_in_the_middle_of_an_epoch():
    ds = NoisyBatchDataset(30)
    original = DataLoader(ds, batch_size=4, shuffle=True, seed=3)
    list(original)
    it = iter(original)
    head = [next(it) for _ in range(3)]
    state = json.loads(json.dumps(original.state_dict()))
    assert state["batches_done"] == 3
    rest = as_numpy(list(it))
    following = as_numpy(original)

    for nw in (0, 2):
        resumed = DataLoader(ds, batch_size=4, shuffle=True, seed=0, num_workers=nw)
        resumed.load_state_dict(state)
        assert len(head) + len(rest) == len(resumed)
        assert_same_batches(rest, as_numpy(resumed))
        assert_same_batches(following, as_numpy(resumed))


def test_state_dict_includes_a_user_samplers_stream():
    ds = make_dataset(20)
    loader = DataLoader(ds, batch_size=5, sampler=RandomSampler(ds, seed=8))
    list(loader)
    state = json.loads(json.dumps(loader.state_dict()))
    assert "sampler" in state["rng"]
    expected = ids(loader)
    other = DataLoader(ds, batch_size=5, sampler=RandomSampler(ds, seed=100))
    other.load_state_dict(state)
    np.testing.assert_array_equal(ids(other), expected)
    with pytest.raises(ValueError):
        other.load_state_dict({"batches_done": 0})
    with pytest.raises(ValueError):
        other.load_state_dict({"rng": {"generator": {"bit_generator": "nope"}}})


# ---------------------------------------------------------------------------------------------- samplers


def test_random_sampler_replacement_and_num_samples():
    ds = make_dataset(10)
    s = RandomSampler(ds, True, 25, seed=0)  # torch's positional order
    draws = np.array(list(s))
    assert len(s) == 25 and len(draws) == 25 and draws.min() >= 0 and draws.max() < 10
    assert len(set(draws.tolist())) < 25  # repeats happen: 25 draws from 10 values

    s = RandomSampler(ds, num_samples=25, seed=0)  # without replacement: whole permutations, then a part
    draws = np.array(list(s))
    assert sorted(draws[:10].tolist()) == sorted(draws[10:20].tolist()) == list(range(10))
    assert len(set(draws[20:].tolist())) == 5
    assert len(list(RandomSampler(ds, num_samples=4, seed=1))) == 4

    with pytest.raises(TypeError):
        RandomSampler(ds, replacement=1)
    with pytest.raises(ValueError):
        RandomSampler(ds, num_samples=0)

    torch = pytest.importorskip("torch")
    assert len(torch.utils.data.RandomSampler(range(10), num_samples=25)) == 25
    assert len(list(torch.utils.data.RandomSampler(range(10), True, 25))) == len(draws)


def test_subset_random_sampler():
    idx = [3, 7, 11, 19, 2]
    s = SubsetRandomSampler(idx, seed=4)
    orders = [list(s) for _ in range(4)]
    assert all(sorted(o) == sorted(idx) for o in orders)
    assert len(set(map(tuple, orders))) > 1
    assert sorted(ids(DataLoader(make_dataset(20), batch_size=2, sampler=s)).tolist()) == sorted(idx)


def test_weighted_random_sampler_follows_the_weights():
    w = np.array([0.5, 0.0, 2.0, 1.0, 0.5])
    s = WeightedRandomSampler(w, 40000, seed=0)
    counts = np.bincount(np.array(list(s)), minlength=5)
    expected = 40000 * w / w.sum()
    assert counts[1] == 0
    # Binomial standard deviation is at most sqrt(n/4) = 100; allow 5 of them.
    np.testing.assert_allclose(counts, expected, atol=500)

    s = WeightedRandomSampler(w, 4, replacement=False, seed=1)
    for _ in range(5):
        draw = list(s)
        assert len(set(draw)) == 4 and 1 not in draw
    with pytest.raises(ValueError):
        WeightedRandomSampler(w, 5, replacement=False)  # only 4 non-zero weights
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError):
        WeightedRandomSampler([0.0, 0.0], 2)
    with pytest.raises(ValueError):
        WeightedRandomSampler(w, 0)

    torch = pytest.importorskip("torch")
    assert len(torch.utils.data.WeightedRandomSampler(w.tolist(), 7)) == len(WeightedRandomSampler(w, 7))


def test_sampler_state_dict_round_trip():
    for s in (
        RandomSampler(range(9), seed=1),
        SubsetRandomSampler([4, 5, 6], seed=2),
        WeightedRandomSampler([1, 2, 3], 6, seed=3),
        BatchSampler(RandomSampler(range(9), seed=4), 2),
    ):
        state = json.loads(json.dumps(s.state_dict()))
        first = list(s)
        s.load_state_dict(state)
        assert list(s) == first
    assert list(BatchSampler(SequentialSampler(range(5)), 2)) == [[0, 1], [2, 3], [4]]


# ---------------------------------------------------------------------------------------------- datasets


def test_concat_dataset():
    a, b = make_dataset(5), PlainDataset(3)
    b_arrays = TensorDataset(
        np.full((3, 2, 3), 100, np.float32) + np.arange(3, dtype=np.float32)[:, None, None],
        np.array([7, 8, 9], dtype=np.int64),
    )
    cat = ConcatDataset([a, b_arrays])
    assert len(cat) == 8 and cat.cumulative_sizes == [5, 8]
    assert float(cat[6][0][0, 0]) == 101 and int(cat[-1][1]) == 9 and float(cat[4][0][0, 0]) == 4
    with pytest.raises(IndexError):
        cat[8]
    xs, ys = cat.__getitems__([6, 0, 4, 5])
    ref_x = np.stack([np.asarray(cat[i][0]) for i in [6, 0, 4, 5]])
    np.testing.assert_array_equal(xs, ref_x)
    np.testing.assert_array_equal(ys, [8, 0, 1, 7])
    assert isinstance(a + b_arrays, ConcatDataset)

    # Parts without __getitems__: sample by sample, same batch.
    mixed = ConcatDataset([PlainDataset(4), b])
    xb, ib = mixed.__getitems__([5, 1])
    np.testing.assert_array_equal(ib.numpy(), [1, 1])
    np.testing.assert_array_equal(xb.numpy()[:, 0], [1, 1])

    order = ids(DataLoader(cat, batch_size=3, shuffle=True, seed=0, num_workers=2))
    assert sorted(order.tolist()) == [0, 1, 2, 3, 4, 100, 101, 102]

    torch = pytest.importorskip("torch")
    tcat = torch.utils.data.ConcatDataset([list(range(5)), list(range(3))])
    assert tcat.cumulative_sizes == cat.cumulative_sizes and len(tcat) == len(cat)


class TargetsDataset(Dataset):
    """Labels readable from `targets` without touching samples."""

    def __init__(self, targets):
        self.targets = np.asarray(targets)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        raise AssertionError("stratified_split should read .targets, not the samples")


def test_stratified_split_preserves_class_proportions():
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.repeat([0, 1, 2, 3], [50, 30, 17, 3]))  # 100 samples, uneven classes
    for ds in (
        TargetsDataset(labels),
        TensorDataset(np.arange(100, dtype=np.float32)[:, None], labels),  # labels from samples
        Subset(TargetsDataset(np.concatenate([labels, [9] * 5])), np.arange(100)),
    ):
        train, val = stratified_split(ds, 0.2, generator=pc.Generator(1))
        tr, va = np.asarray(train.indices), np.asarray(val.indices)
        assert len(va) == 20 and len(tr) == 80
        assert sorted(np.concatenate([tr, va]).tolist()) == list(range(100))
        for c, n_c in zip(range(4), (50, 30, 17, 3)):
            assert abs(np.sum(labels[va] == c) - 0.2 * n_c) < 1
        assert np.all(np.diff(va) > 0) and np.all(np.diff(tr) > 0)
    again = stratified_split(TargetsDataset(labels), 0.2, generator=pc.Generator(1))[1].indices
    other = stratified_split(TargetsDataset(labels), 0.2, generator=pc.Generator(2))[1].indices
    np.testing.assert_array_equal(again, va)
    assert not np.array_equal(other, va)

    explicit = stratified_split(PlainDataset(100), 0.3, labels=labels, generator=pc.Generator(0))[1]
    assert len(explicit) == 30
    with pytest.raises(ValueError):
        stratified_split(TargetsDataset(labels), 1.0)
    with pytest.raises(ValueError):
        stratified_split(TargetsDataset(labels), 0.5, labels=labels[:10])


# ---------------------------------------------------------------------------------------------- iterable


def shard_range(n, info):
    """Items of range(n) for this worker: every num_workers-th, starting at its id."""
    return range(n) if info is None else range(info.id, n, info.num_workers)


class RangeStream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        return iter(np.float32(i) for i in shard_range(self.n, get_worker_info()))


@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")  # torch: 3 workers on 2 CPUs
def test_iterable_dataset_in_main_process_and_workers():
    stream = RangeStream(23)
    loader = DataLoader(stream, batch_size=4)
    batches = [b.numpy() for b in loader]
    assert len(loader) == len(batches) == 6
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(23))
    assert len([b for b in DataLoader(stream, batch_size=4, drop_last=True)]) == 5

    got = [b.numpy() for b in DataLoader(stream, batch_size=4, num_workers=2)]
    assert sorted(np.concatenate(got).tolist()) == list(range(23))
    # Batches alternate between the workers' shards (worker 0: even items, worker 1: odd), as in torch.
    np.testing.assert_array_equal(got[0], [0, 2, 4, 6])
    np.testing.assert_array_equal(got[1], [1, 3, 5, 7])
    with pytest.raises(ValueError):
        DataLoader(stream, shuffle=True)

    torch = pytest.importorskip("torch")

    class TorchRangeStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(np.float32(i) for i in shard_range(23, torch.utils.data.get_worker_info()))

    for nw in (2, 3):
        ours = [b.numpy() for b in DataLoader(stream, batch_size=4, num_workers=nw)]
        theirs = [b.numpy() for b in torch.utils.data.DataLoader(TorchRangeStream(), batch_size=4, num_workers=nw)]
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)


def test_iterable_dataset_resumes_in_the_middle_of_an_epoch():
    for nw in (0, 2):
        loader = DataLoader(RangeStream(30), batch_size=4, num_workers=nw)
        it = iter(loader)
        head = [next(it).numpy() for _ in range(3)]
        state = json.loads(json.dumps(loader.state_dict()))
        rest = [b.numpy() for b in it]
        resumed = DataLoader(RangeStream(30), batch_size=4, num_workers=nw)
        resumed.load_state_dict(state)
        again = [b.numpy() for b in resumed]
        assert len(head) + len(rest) == 8 and len(again) == len(rest)
        for a, b in zip(rest, again):
            np.testing.assert_array_equal(a, b)


def test_tasks_larger_than_the_socket_buffer():
    """60,000 indices (480 kB) per task do not fit a socket buffer at once: the main process must keep
    serving replies while it sends, or it and a worker would wait on each other forever."""
    n = 300_000
    ds = TensorDataset(np.arange(n, dtype=np.float32))
    loader = DataLoader(ds, batch_size=60_000, shuffle=True, seed=0, num_workers=2, timeout=20)
    (got,) = zip(*[(b[0].numpy(),) for b in loader])
    order = np.concatenate(got).astype(np.int64)
    expected = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=60_000, shuffle=True, seed=0)])
    np.testing.assert_array_equal(order, expected.astype(np.int64))
    assert sorted(order.tolist()) == list(range(n))


@pytest.mark.slow
def test_workers_leave_when_the_main_process_is_killed():
    """SIGKILL the main process while its workers are blocked sending batches it never reads: they
    notice (within about 2 s) and exit instead of staying behind forever."""
    script = textwrap.dedent("""
        import time, numpy as np
        from pycnn.data import DataLoader, TensorDataset
        ds = TensorDataset(np.ones((64, 500_000), np.float32))   # 128 MB batches: far over a socket buffer
        it = iter(DataLoader(ds, batch_size=64, num_workers=2))
        print("PIDS", *(p.pid for p in it._pool.processes), flush=True)
        time.sleep(60)
    """)
    main = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=SUBPROCESS_CWD
    )
    try:
        line = ""
        while not line.startswith("PIDS"):  # importing pycnn may print build messages first
            line = main.stdout.readline()
            assert line, "the script ended before starting its workers"
        pids = [int(p) for p in line.split()[1:]]
        assert len(pids) == 2
        time.sleep(0.5)  # let the workers block in their sends
    finally:
        main.kill()
        main.wait()

    def exited(pid):  # an orphan is reaped by whoever adopts it; a zombie has exited all the same
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not all(exited(p) for p in pids):
        time.sleep(0.1)
    assert all(exited(p) for p in pids)
