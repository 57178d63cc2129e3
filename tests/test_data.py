"""Tests for pycnn.data: TensorDataset, Subset, random_split, samplers, default_collate and DataLoader.

Everything runs on small in-memory arrays whose values encode their own index, so order and coverage
can be checked exactly.
"""

import numpy as np
import pytest

import pycnn as pc
from pycnn.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def make_dataset(n=10):
    """x[i] is a (2, 3) float32 block filled with i, y[i] = i % 3 (int64)."""
    x = np.repeat(np.arange(n, dtype=np.float32), 6).reshape(n, 2, 3)
    y = np.arange(n, dtype=np.int64) % 3
    return TensorDataset(x, y)


def epoch_order(loader):
    """The sample ids a loader yields in one epoch, read back from the images."""
    return np.concatenate([xb.numpy()[:, 0, 0] for xb, _ in loader]).astype(np.int64)


class PlainDataset(Dataset):
    """A dataset without __getitems__, so DataLoader takes its per-sample path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full((2,), i, dtype=np.float64), i, float(i) / 2


# ---------------------------------------------------------------------------------------------- datasets


def test_tensor_dataset_numpy_and_tensors():
    ds = make_dataset(5)
    assert len(ds) == 5
    x, y = ds[3]
    np.testing.assert_array_equal(np.asarray(x), np.full((2, 3), 3, np.float32))
    assert int(y) == 0
    xs, ys = ds.__getitems__([4, 0, 2])
    np.testing.assert_array_equal(xs[:, 0, 0], [4, 0, 2])
    np.testing.assert_array_equal(ys, [1, 0, 2])

    # pc.Tensors are accepted too, and give pc.Tensors back per sample.
    tds = TensorDataset(
        pc.tensor(np.arange(8, dtype=np.float32).reshape(4, 2)), pc.tensor(np.arange(4, dtype=np.int64))
    )
    x, y = tds[2]
    assert isinstance(x, pc.Tensor) and isinstance(y, pc.Tensor)
    np.testing.assert_array_equal(x.numpy(), [4, 5])
    assert y.item() == 2
    assert len(tds.tensors) == 2


def test_tensor_dataset_bad_arguments():
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError):
        TensorDataset(np.zeros((4, 2)), np.zeros(5))
    with pytest.raises(TypeError):
        TensorDataset("not an array")
    with pytest.raises(IndexError):
        make_dataset(5)[5]


def test_subset():
    ds = make_dataset(10)
    sub = Subset(ds, [7, 2, 9])
    assert len(sub) == 3
    assert float(np.asarray(sub[0][0])[0, 0]) == 7
    xs, ys = sub.__getitems__([2, 0])
    np.testing.assert_array_equal(xs[:, 0, 0], [9, 7])
    np.testing.assert_array_equal(ys, [0, 1])
    # A Subset of a dataset without __getitems__ still gathers a batch (sample by sample).
    plain = Subset(PlainDataset(6), np.array([5, 1]))
    _xb, ib, _fb = plain.__getitems__([1, 0])
    np.testing.assert_array_equal(ib.numpy(), [1, 5])


def test_random_split_int_and_fraction():
    ds = make_dataset(10)
    parts = random_split(ds, [7, 3], generator=pc.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    ids = np.concatenate([np.asarray(p.indices) for p in parts])
    assert sorted(ids.tolist()) == list(range(10))

    again = random_split(ds, [7, 3], generator=pc.Generator().manual_seed(0))
    np.testing.assert_array_equal(np.asarray(again[0].indices), np.asarray(parts[0].indices))

    # Fractions: floor(10 * f) each, the remainder handed out from the first split on (as in torch).
    fparts = random_split(ds, [0.45, 0.45, 0.1], generator=pc.Generator().manual_seed(1))
    assert [len(p) for p in fparts] == [5, 4, 1]
    ids = np.concatenate([np.asarray(p.indices) for p in fparts])
    assert sorted(ids.tolist()) == list(range(10))


def test_random_split_bad_lengths():
    ds = make_dataset(10)
    with pytest.raises(ValueError):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError):
        random_split(ds, [11, -1])


# ---------------------------------------------------------------------------------------------- samplers


def test_samplers():
    ds = make_dataset(7)
    assert list(SequentialSampler(ds)) == list(range(7))
    perm = list(RandomSampler(ds, seed=3))
    assert sorted(perm) == list(range(7))
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, drop_last=False)) == 3
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    with pytest.raises(ValueError):
        BatchSampler(range(7), 0)
    with pytest.raises(ValueError):
        RandomSampler(ds, generator=pc.Generator(), seed=1)


# ---------------------------------------------------------------------------------------------- collate


def test_default_collate_dtypes():
    xb, ib, fb = default_collate([PlainDataset(4)[i] for i in range(3)])
    assert tuple(xb.shape) == (3, 2) and xb.dtype == pc.float64
    assert ib.dtype == pc.int64
    np.testing.assert_array_equal(ib.numpy(), [0, 1, 2])
    assert fb.dtype == pc.float32
    np.testing.assert_allclose(fb.numpy(), [0.0, 0.5, 1.0])

    # Small integer arrays become int64; pc.Tensors are stacked; dicts go field by field.
    out = default_collate([{"a": np.uint8(i), "t": pc.tensor(np.full(3, i, np.float32))} for i in range(4)])
    assert out["a"].dtype == pc.int64
    assert tuple(out["t"].shape) == (4, 3) and out["t"].dtype == pc.float32
    assert default_collate(["a", "b"]) == ["a", "b"]
    with pytest.raises(TypeError):
        default_collate([object(), object()])


# ---------------------------------------------------------------------------------------------- loader


@pytest.mark.parametrize(
    "n,batch_size,drop_last,expected",
    [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, False, 1), (2, 5, True, 0)],
)
def test_loader_batch_counts(n, batch_size, drop_last, expected):
    for shuffle in (False, True):
        loader = DataLoader(make_dataset(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
        batches = list(loader)
        assert len(loader) == expected == len(batches)
        sizes = [xb.shape[0] for xb, _ in batches]
        assert all(s == batch_size for s in sizes[:-1])
        if drop_last:
            assert all(s == batch_size for s in sizes)


def test_loader_sequential_batches_and_dtypes():
    loader = DataLoader(make_dataset(10), batch_size=4)
    xb, yb = next(iter(loader))
    assert isinstance(xb, pc.Tensor) and isinstance(yb, pc.Tensor)
    assert tuple(xb.shape) == (4, 2, 3) and xb.dtype == pc.float32
    assert tuple(yb.shape) == (4,) and yb.dtype == pc.int64
    np.testing.assert_array_equal(epoch_order(loader), np.arange(10))


def test_loader_converts_small_integer_labels():
    ds = TensorDataset(np.zeros((6, 1), np.float32), np.arange(6, dtype=np.uint8))
    _, yb = next(iter(DataLoader(ds, batch_size=6)))
    assert yb.dtype == pc.int64
    np.testing.assert_array_equal(yb.numpy(), np.arange(6))


def test_shuffle_covers_every_sample_once_and_changes_per_epoch():
    loader = DataLoader(make_dataset(50), batch_size=8, shuffle=True, generator=pc.Generator().manual_seed(0))
    orders = [epoch_order(loader) for _ in range(3)]
    for order in orders:
        assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(50))


def test_shuffle_reproducible():
    ds = make_dataset(50)

    def orders(**kwargs):
        loader = DataLoader(ds, batch_size=8, shuffle=True, **kwargs)
        return [epoch_order(loader) for _ in range(2)]

    a = orders(generator=pc.Generator().manual_seed(7))
    b = orders(generator=pc.Generator().manual_seed(7))
    c = orders(generator=pc.Generator().manual_seed(8))
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(np.stack(orders(seed=3)), np.stack(orders(seed=3)))

    # Without generator or seed the order follows pc.manual_seed.
    pc.manual_seed(123)
    d = orders()
    pc.manual_seed(123)
    e = orders()
    np.testing.assert_array_equal(np.stack(d), np.stack(e))


def test_loader_per_sample_path_and_collate_fn():
    loader = DataLoader(PlainDataset(7), batch_size=3)
    batches = list(loader)
    assert len(batches) == 3
    xb, ib, fb = batches[-1]
    np.testing.assert_array_equal(ib.numpy(), [6])
    assert xb.dtype == pc.float64 and fb.dtype == pc.float32

    # A custom collate_fn receives the list of samples, even for a dataset with __getitems__.
    seen = []
    loader = DataLoader(make_dataset(5), batch_size=2, collate_fn=lambda samples: seen.append(samples) or 0)
    assert list(loader) == [0, 0, 0]
    assert [len(s) for s in seen] == [2, 2, 1]


def test_loader_sampler_and_batch_sampler():
    ds = make_dataset(10)
    loader = DataLoader(ds, batch_size=2, sampler=[9, 8, 7])
    np.testing.assert_array_equal(epoch_order(loader), [9, 8, 7])
    loader = DataLoader(ds, batch_sampler=[[1, 2], [5]])
    assert len(loader) == 2
    np.testing.assert_array_equal(epoch_order(loader), [1, 2, 5])


def test_loader_bad_arguments():
    ds = make_dataset(10)
    with pytest.raises(ValueError):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError):
        DataLoader(ds, batch_size=-2)
    with pytest.raises(ValueError):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError):
        DataLoader(ds, batch_sampler=[[0]], batch_size=4)
    with pytest.raises(ValueError):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, num_workers=0, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, num_workers=0, prefetch_factor=2)
    with pytest.raises(TypeError):
        DataLoader(ds, collate_fn=3)
    with pytest.raises(ValueError):
        DataLoader(ds, shuffle=True, generator=pc.Generator(), seed=0)
