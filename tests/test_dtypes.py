"""The dtypes: bool, uint8, int32, int64 computed; float16 and bfloat16 stored (computed in float32); type
promotion as torch's tables; integer reductions; conversions bit-exact; safetensors round trips; the bool
results and masks of comparisons and the logical ops."""

import itertools

import numpy as np
import pytest

import pycnn as pc

from helpers import expect_error, gradcheck

ALL = ["bool", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
NUMPY_HELD = [d for d in ALL if d != "bfloat16"]


def dt(name):
    return getattr(pc, name)


def test_dtype_objects_and_torch_aliases():
    assert pc.bool.name == "bool" and pc.half is pc.float16 and pc.int is pc.int32 and pc.long is pc.int64
    assert pc.float is pc.float32 and pc.double is pc.float64
    assert [dt(d).itemsize for d in ALL] == [1, 1, 4, 8, 2, 2, 4, 8]
    assert [dt(d).is_floating_point for d in ALL] == [False] * 4 + [True] * 4
    assert repr(pc.bfloat16) == "pycnn.bfloat16"
    with pytest.raises(TypeError, match=r"\[dtype\] unsupported dtype"):
        pc.zeros(2, dtype="complex64")


@pytest.mark.parametrize("name", NUMPY_HELD)
def test_numpy_arrays_keep_their_dtype_and_share_memory(name):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((3, 4)) * 50).astype(dt(name).numpy)
    t = pc.tensor(a)
    assert t.dtype is dt(name)
    np.testing.assert_array_equal(t.numpy(), a)
    shared = pc.from_numpy(a)
    shared_view = shared.numpy()
    a[0, 0] = a[1, 1]
    assert shared_view[0, 0] == a[1, 1] and shared.dtype is dt(name)


def test_python_values_take_torchs_default_dtypes():
    assert pc.tensor([True, False]).dtype is pc.bool
    assert pc.tensor([1, 2]).dtype is pc.int64
    assert pc.tensor([1.5]).dtype is pc.float32
    assert pc.tensor(np.array([1, 2], dtype=np.int16)).dtype is pc.int64  # pycnn has no int16: widened exactly


def test_bool_numpy_mask_indexes_as_a_mask():
    """The issue-11 case: a mask made from a NumPy bool array stayed int64 and indexed as integers."""
    x = pc.tensor(np.arange(9.0).reshape(3, 3))
    mask = pc.tensor(np.array([[True, False, False], [False, True, False], [False, False, True]]))
    assert mask.dtype is pc.bool
    np.testing.assert_array_equal(x[mask].numpy(), [0.0, 4.0, 8.0])
    np.testing.assert_array_equal(x[x > 3].numpy(), [4.0, 5.0, 6.0, 7.0, 8.0])


def test_comparisons_return_bool_and_where_takes_bool():
    a = pc.tensor([[1.0, -2.0, 3.0]])
    for result in (a > 0, a >= 0, a < 0, a <= 0, a == 3, a != 3, a.eq(pc.tensor([1.0])), a == [1.0, 0.0, 3.0]):
        assert result.dtype is pc.bool
    np.testing.assert_array_equal(pc.where(a > 0, a, 0.0).numpy(), [[1.0, 0.0, 3.0]])
    expect_error(TypeError, "where", lambda: pc.where((a > 0).long(), a, a), "bool")


def _values(name, shape, rng):
    """Random values of a dtype, never all zero; floats in a range every dtype holds."""
    if name == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if name == "uint8":
        return rng.integers(1, 200, shape).astype(np.uint8)
    if name in ("int32", "int64"):
        return rng.integers(-50, 50, shape).astype(dt(name).numpy)
    return (rng.standard_normal(shape) * 4).astype(np.float32)


def _tensor(name, values):
    return pc.tensor(values).to(dt(name))


@pytest.mark.parametrize("a,b", list(itertools.product(ALL, ALL)))
def test_promote_types_matches_torch(a, b):
    torch = pytest.importorskip("torch")
    theirs = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert pc.promote_types(dt(a), dt(b)).name == str(theirs).removeprefix("torch.")


SCALARS = [True, 3, 2.5]


@pytest.mark.parametrize("a", ALL)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_arithmetic_dtypes_and_values_match_torch(a, op):
    """Every dtype with every dtype (1-D and 0-d) and with Python numbers: the result's dtype and values."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    va = _values(a, (5,), rng)
    ours_a, theirs_a = _tensor(a, va), torch.tensor(va).to(getattr(torch, a))
    others = [
        (_tensor(b, v), torch.tensor(v).to(getattr(torch, b)))
        for b in ALL
        for v in [_values(b, s, rng) for s in [(5,), ()]]
    ]
    others += [(s, s) for s in SCALARS]
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y}[
        op
    ]
    for ours_b, theirs_b in others:
        try:
            expected = fn(theirs_a, theirs_b)
        except RuntimeError:  # torch refuses bool - bool: so do we
            with pytest.raises(TypeError, match=r"\[sub\]"):
                fn(ours_a, ours_b)
            continue
        got = fn(ours_a, ours_b)
        assert got.dtype.name == str(expected.dtype).removeprefix("torch."), (a, ours_b)
        want = expected.float().numpy() if expected.dtype == torch.bfloat16 else expected.numpy()
        tol = {"float16": 1e-3, "bfloat16": 1e-2}.get(got.dtype.name, 1e-6)
        np.testing.assert_allclose(np.asarray(got.float()), want, rtol=tol, atol=tol)


def test_result_type_of_zero_dim_tensors_and_numbers():
    """0-d tensors and numbers change the result only when of a higher kind (torch's rule)."""
    i32 = pc.tensor(np.array([1, 2], dtype=np.int32))
    assert (i32 + pc.tensor(5)).dtype is pc.int32  # a 0-d int64 does not widen an int32 tensor
    assert (i32 + pc.tensor(5.0, dtype=pc.float64)).dtype is pc.float64  # a 0-d float of a higher kind does
    assert (i32 * 2.5).dtype is pc.float32 and (i32 / 2).dtype is pc.float32
    assert (pc.tensor([True]) + 1).dtype is pc.int64
    assert pc.result_type(i32, 1.0) is pc.float32


def test_in_place_results_are_not_narrowed_to_a_lower_kind():
    x = pc.tensor([1, 2, 3])
    expect_error(TypeError, "add_", lambda: x.add_(0.5))
    x.add_(2)
    np.testing.assert_array_equal(x.numpy(), [3, 4, 5])


@pytest.mark.parametrize("name", ["bool", "uint8", "int32", "int64"])
def test_integer_reductions(name):
    rng = np.random.default_rng(3)
    v = _values(name, (4, 6), rng)
    x = _tensor(name, v)
    wide = v.astype(np.int64)
    assert x.sum().dtype is pc.int64 and x.sum().item() == wide.sum()
    np.testing.assert_array_equal(x.sum(dim=1).numpy(), wide.sum(1))
    np.testing.assert_array_equal(x.sum(dim=(0, 1), keepdim=True).numpy(), wide.sum((0, 1), keepdims=True))
    if name != "bool":  # torch's argmax refuses bool (the dtype table below checks that)
        np.testing.assert_array_equal(x.argmax(dim=0).numpy(), v.argmax(0))
    np.testing.assert_array_equal(x.max(dim=1).values.numpy(), v.max(1))
    np.testing.assert_array_equal(x.min(dim=0).indices.numpy(), v.argmin(0))
    assert x.max().item() == v.max() and x.min().item() == v.min()
    expect_error(TypeError, "mean", lambda: x.mean())
    assert x.mean(dtype=pc.float64).item() == pytest.approx(wide.mean())


def test_int64_sums_are_exact_past_float64s_precision():
    big = pc.tensor([2**62, 1, 1])
    assert big.sum().item() == 2**62 + 2


def test_accuracy_loop_of_a_training_script():
    """pred.eq(target.view_as(pred)).sum().item(): the test loop of everyday torch scripts."""
    rng = np.random.default_rng(4)
    output = pc.tensor(rng.standard_normal((16, 10)))
    target = pc.tensor(rng.integers(0, 10, 16))
    pred = output.argmax(dim=1, keepdim=True)
    correct = pred.eq(target.view_as(pred)).sum().item()
    assert isinstance(correct, int) and correct == int((output.numpy().argmax(1) == target.numpy()).sum())


def test_bincount_matches_numpy():
    rng = np.random.default_rng(5)
    v = rng.integers(0, 7, 50)
    w = rng.standard_normal(50)
    np.testing.assert_array_equal(pc.bincount(pc.tensor(v)).numpy(), np.bincount(v))
    np.testing.assert_array_equal(pc.tensor(v).bincount(minlength=12).numpy(), np.bincount(v, minlength=12))
    np.testing.assert_allclose(pc.bincount(pc.tensor(v), pc.tensor(w)).numpy(), np.bincount(v, w))
    assert pc.bincount(pc.tensor(np.array([], dtype=np.int64))).shape == (0,)
    expect_error(ValueError, "bincount", lambda: pc.bincount(pc.tensor([1, -1])), "-1")
    expect_error(ValueError, "bincount", lambda: pc.bincount(pc.tensor([1.0])), "float32")


# ---- float16 and bfloat16: stored exactly, converted as NumPy / torch round ----
def test_float16_conversion_matches_numpy_on_every_bit_pattern_and_awkward_floats():
    bits = np.arange(2**16, dtype=np.uint16).view(np.float16)
    back = pc.tensor(bits).float().numpy()
    np.testing.assert_array_equal(
        back.view(np.uint32)[~np.isnan(back)], bits.astype(np.float32).view(np.uint32)[~np.isnan(back)]
    )
    assert np.isnan(back).sum() == np.isnan(bits).sum()
    rng = np.random.default_rng(6)
    f = np.concatenate(
        [
            rng.standard_normal(4000).astype(np.float32) * 10.0 ** rng.integers(-9, 6, 4000),
            np.array(
                [65504, 65519.99, 65520, 1e9, -1e9, 2**-24, 2**-25, 3 * 2**-26, 6e-8, np.inf, -np.inf], np.float32
            ),
        ]
    ).astype(np.float32)
    with np.errstate(over="ignore"):  # 1e9 overflows to inf, as intended
        want = f.astype(np.float16)
    np.testing.assert_array_equal(pc.tensor(f).half().numpy().view(np.uint16), want.view(np.uint16))
    assert np.isnan(pc.tensor([np.nan]).half().float().item())


def _bfloat16_reference(f):
    """Round to nearest even on the low 16 bits of float32 (NaN kept NaN)."""
    u = f.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(f), np.uint16(0x7FC0), rounded)


def test_bfloat16_conversion_rounds_to_nearest_even():
    rng = np.random.default_rng(7)
    f = np.concatenate(
        [
            rng.standard_normal(5000).astype(np.float32) * 10.0 ** rng.integers(-30, 30, 5000),
            np.array([1 + 2**-8, 1 + 3 * 2**-8, 3.4e38, np.inf, -np.inf], np.float32),
        ]
    ).astype(np.float32)
    b = pc.tensor(f).bfloat16()
    assert b.dtype is pc.bfloat16
    bits = np.asarray(b._impl)  # the raw bits (NumPy has no bfloat16)
    ok = ~np.isnan(f)
    np.testing.assert_array_equal(bits[ok], _bfloat16_reference(f)[ok])
    np.testing.assert_array_equal(b.float().numpy()[ok], (bits[ok].astype(np.uint32) << 16).view(np.float32))
    expect_error(TypeError, "numpy", lambda: b.numpy(), "bfloat16")
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(f).bfloat16().view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(bits[ok], theirs[ok])


@pytest.mark.parametrize("low", ["float16", "bfloat16"])
def test_low_precision_ops_compute_in_float32_and_keep_the_dtype(low):
    pc.manual_seed(0)
    model = pc.nn.Sequential(
        pc.nn.Conv2d(2, 4, 3), pc.nn.BatchNorm2d(4), pc.nn.ReLU(), pc.nn.Flatten(), pc.nn.Linear(64, 3)
    )
    model.eval()
    x = pc.randn(2, 2, 6, 6)
    want = model(x).detach().numpy()
    getattr(model, "half" if low == "float16" else low)()
    assert {p.dtype.name for p in model.parameters()} == {low}
    y = model(x.to(dt(low)))
    assert y.dtype is dt(low)
    tol = 2e-2 if low == "float16" else 8e-2
    np.testing.assert_allclose(y.detach().float().numpy(), want, rtol=tol, atol=tol)
    y.float().sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and g.dtype is dt(low) for g in grads)


def test_casts_between_floats_are_differentiable():
    x = pc.tensor(np.random.default_rng(8).standard_normal(5), dtype=pc.float64, requires_grad=True)
    gradcheck(lambda t: t.double() * t, [x.detach().numpy()])
    (x.half().float() * 2 + x.bfloat16() * 3).sum().backward()
    assert x.grad.dtype is pc.float64
    np.testing.assert_allclose(x.grad.numpy(), 5.0)


@pytest.mark.parametrize("name", ALL)
def test_safetensors_round_trip_keeps_every_dtype(tmp_path, name):
    rng = np.random.default_rng(9)
    t = _tensor(name, _values(name, (3, 5), rng))
    pc.save({"t": t, "view": t.t()}, tmp_path / "a.safetensors")
    back = pc.load(tmp_path / "a.safetensors")
    assert back["t"].dtype is dt(name) and back["view"].shape == (5, 3)
    np.testing.assert_array_equal(np.asarray(back["t"]._impl), np.asarray(t._impl))
    np.testing.assert_array_equal(np.asarray(back["view"]._impl), np.asarray(t.t().contiguous()._impl))


def test_values_of_bool_and_integer_tensors_are_python_bools_and_ints():
    assert pc.tensor([True]).item() is True and pc.tensor([True, False]).tolist() == [True, False]
    v = pc.tensor(np.array([7], dtype=np.int32)).item()
    assert v == 7 and isinstance(v, int)
    assert pc.tensor([1.0]).bfloat16().item() == 1.0
    assert repr(pc.tensor([1.0]).bfloat16()) == "tensor([1.], dtype=pycnn.bfloat16)"


def test_type_names_and_conversions():
    x = pc.tensor([1.7, -2.2])
    assert x.type() == "pycnn.FloatTensor" and x.long().type() == "pycnn.LongTensor"
    assert x.type(pc.int32).dtype is pc.int32 and x.type("pycnn.DoubleTensor").dtype is pc.float64
    np.testing.assert_array_equal(x.int().numpy(), [1, -2])  # toward zero, as C and torch
    assert x.bool().dtype is pc.bool and x.byte().dtype is pc.uint8 and x.half().dtype is pc.float16
    assert x.is_floating_point() and not x.long().is_floating_point() and pc.is_floating_point(x)
    assert (-pc.tensor([3, -4])).tolist() == [-3, 4] and pc.tensor([3, -4]).abs().tolist() == [3, 4]
    assert pc.tensor([1, 4]).sqrt().dtype is pc.float32
    assert pc.can_cast(pc.int32, pc.float16) and not pc.can_cast(pc.float32, pc.int64)


# ---- bool results: logical ops, all/any, isnan/isfinite, equal/allclose, masked_fill ----
def test_logical_ops_match_numpy():
    rng = np.random.default_rng(10)
    a, b = rng.integers(-1, 2, (3, 4)), rng.integers(-1, 2, (4,))
    ta, tb = pc.tensor(a), pc.tensor(b)
    for ours, theirs in [
        (pc.logical_and(ta, tb), np.logical_and(a, b)),
        (ta.logical_or(tb), np.logical_or(a, b)),
        (ta.logical_and(tb), np.logical_and(a, b)),
        (pc.logical_xor(ta, tb), np.logical_xor(a, b)),
        (ta.logical_not(), np.logical_not(a)),
        ((ta > 0) & (tb < 1), (a > 0) & (b < 1)),
        ((ta > 0) | (tb < 1), (a > 0) | (b < 1)),
        ((ta > 0) ^ (tb < 1), (a > 0) ^ (b < 1)),
        (~(ta > 0), ~(a > 0)),
    ]:
        assert ours.dtype is pc.bool
        np.testing.assert_array_equal(ours.numpy(), theirs)
    expect_error(TypeError, "bitwise_not", lambda: ~ta)


def test_all_any_with_dims():
    rng = np.random.default_rng(11)
    a = rng.integers(0, 3, (3, 4, 2))
    t = pc.tensor(a)
    assert t.all().item() == a.all() and pc.any(t).item() == a.any()
    for dim in (0, -1, (0, 2)):
        np.testing.assert_array_equal(t.all(dim).numpy(), a.all(dim))
        np.testing.assert_array_equal(t.any(dim, keepdim=True).numpy(), a.any(dim, keepdims=True))
    empty = pc.zeros(0, 3)
    assert empty.all().item() is True and empty.any().item() is False


def test_nan_and_inf_tests():
    v = np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 3e38], np.float32)
    t = pc.tensor(v)
    np.testing.assert_array_equal(t.isnan().numpy(), np.isnan(v))
    np.testing.assert_array_equal(pc.isnan(t).numpy(), np.isnan(v))
    np.testing.assert_array_equal(t.isfinite().numpy(), np.isfinite(v))
    np.testing.assert_array_equal(pc.isfinite(t).numpy(), np.isfinite(v))
    np.testing.assert_array_equal(pc.isinf(t).numpy(), np.isinf(v))
    assert pc.isfinite(pc.tensor([1, 2])).all().item()


def test_equal_isclose_allclose():
    rng = np.random.default_rng(12)
    a = rng.standard_normal(20)
    b = a + rng.standard_normal(20) * 1e-6
    b[3] = a[3] + 1
    ta, tb = pc.tensor(a), pc.tensor(b)
    np.testing.assert_array_equal(pc.isclose(ta, tb, rtol=1e-5, atol=1e-6).numpy(), np.isclose(a, b, 1e-5, 1e-6))
    assert not pc.allclose(ta, tb) and pc.allclose(ta, ta.clone()) and ta.allclose(ta + 1e-9)
    assert pc.equal(ta, ta.clone()) and not ta.equal(tb) and not pc.equal(ta, ta[:3])
    nan = pc.tensor([np.nan, 1.0])
    assert not pc.allclose(nan, nan) and pc.allclose(nan, nan, equal_nan=True)
    inf = pc.tensor([np.inf])
    assert pc.allclose(inf, inf)


def test_masked_fill_values_and_gradients():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 4))
    mask = rng.integers(0, 2, (4,)).astype(bool)
    got = pc.tensor(x).masked_fill(pc.tensor(mask), -1.5)
    np.testing.assert_array_equal(got.numpy(), np.where(mask, -1.5, x))
    gradcheck(lambda t: pc.masked_fill(t, pc.tensor(mask), 0.25), [x])
    value = pc.tensor(2.0, dtype=pc.float64, requires_grad=True)
    out = pc.tensor(x).masked_fill(pc.tensor(mask), value)
    out.sum().backward()
    assert value.grad.item() == 3 * mask.sum()
    y = pc.tensor(x)
    assert y.masked_fill_(pc.tensor(mask), 0.0) is y and (y.numpy()[:, mask] == 0).all()
    expect_error(TypeError, "masked_fill", lambda: y.masked_fill(pc.tensor(mask).long(), 0.0), "bool")
    expect_error(ValueError, "masked_fill", lambda: y.masked_fill(pc.ones(5, dtype=pc.bool), 0.0), "(5,)")
    leaf = pc.tensor(x, requires_grad=True)
    expect_error(RuntimeError, "masked_fill_", lambda: leaf.masked_fill_(pc.tensor(mask), 0.0))


def test_inference_mode_records_no_graph_as_context_and_decorator():
    w = pc.tensor([1.0, 2.0], requires_grad=True)
    with pc.inference_mode():
        assert not pc.is_grad_enabled()
        y = w * 3
    assert pc.is_grad_enabled() and y.grad_fn is None and not y.requires_grad
    with pc.inference_mode(False):
        assert (w * 3).requires_grad

    @pc.inference_mode()
    def predict(t):
        return t * 2

    assert not predict(w).requires_grad and pc.is_grad_enabled()
    expect_error(TypeError, "inference_mode", lambda: pc.inference_mode("yes"))


# Which op takes which dtype, and the dtype it gives: each op on a tensor of every dtype, against torch. A cell
# where torch refuses the dtype must be refused by pycnn too (TypeError or ValueError naming the op), and the
# other way round, with the same result dtype.
DTYPE_OPS = {
    "sum": lambda m, x: x.sum(),
    "sum_dim": lambda m, x: x.sum(0),
    "mean": lambda m, x: x.mean(),
    "prod": lambda m, x: x.prod(),
    "cumsum": lambda m, x: x.cumsum(0),
    "max": lambda m, x: x.max(),
    "argmax": lambda m, x: x.argmax(),
    "sort": lambda m, x: x.sort().values,
    "topk": lambda m, x: x.topk(2).values,
    "abs": lambda m, x: x.abs(),
    "neg": lambda m, x: -x,
    "exp": lambda m, x: x.exp(),
    "sqrt": lambda m, x: x.sqrt(),
    "floor": lambda m, x: x.floor(),
    "sign": lambda m, x: x.sign(),
    "eq": lambda m, x: x == x.flip(0),
    "lt_number": lambda m, x: x < 1,
    "add_number": lambda m, x: x + 1,
    "mul_float": lambda m, x: x * 0.5,
    "truediv": lambda m, x: x / 2,
    "where": lambda m, x: m.where(x > 0, x, x),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, 1),
    "flip": lambda m, x: x.flip(0),
    "cat": lambda m, x: m.cat([x, x]),
    "unique": lambda m, x: m.unique(x),
    "nonzero": lambda m, x: x.nonzero(),
    "isnan": lambda m, x: m.isnan(x),
    "all": lambda m, x: x.all(),
    "any": lambda m, x: x.any(),
    "logical_not": lambda m, x: m.logical_not(x),
    "bincount": lambda m, x: m.bincount(x.abs()) if not x.is_floating_point() else m.bincount(x),
    "gather": lambda m, x: m.gather(x, 0, m.zeros(3, dtype=m.long)),
    "one_hot": lambda m, x: (
        m.nn.functional.one_hot(x.abs(), 70) if not x.is_floating_point() else m.nn.functional.one_hot(x, 70)
    ),
    "matmul": lambda m, x: x.reshape(2, 3) @ x.reshape(3, 2),
    "relu": lambda m, x: m.nn.functional.relu(x),
    "softmax": lambda m, x: m.softmax(x, 0),
}


# Cells where pycnn knowingly refuses what torch takes: integer matrix products (pycnn's GEMM is floating:
# convert with .float()).
KNOWN_DIFFERENCES = {("matmul", name) for name in ("uint8", "int32", "int64")}


def _run_cell(fn, module, x):
    try:
        return fn(module, x), None
    except (TypeError, ValueError, RuntimeError, NotImplementedError) as e:
        return None, e


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("op", list(DTYPE_OPS))
def test_which_dtypes_an_op_takes_matches_torch(op, name):
    torch = pytest.importorskip("torch")
    values = np.array([3, 1, 2, 5, 4, 6]) if name != "bool" else np.array([1, 0, 1, 1, 0, 1])
    fn = DTYPE_OPS[op]
    theirs, their_error = _run_cell(fn, torch, torch.tensor(values).to(getattr(torch, name)))
    ours, our_error = _run_cell(fn, pc, pc.tensor(values).to(dt(name)))
    if their_error is not None:
        assert our_error is not None, f"torch refuses {op} on {name} ({their_error}); pycnn gave {ours!r}"
        return
    if (op, name) in KNOWN_DIFFERENCES:
        assert isinstance(our_error, TypeError) and str(our_error).startswith("["), our_error
        return
    assert our_error is None, f"torch takes {op} on {name}; pycnn refused: {our_error}"
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (op, name)
    want = theirs.float().numpy() if theirs.dtype == torch.bfloat16 else theirs.numpy()
    got = ours.float().numpy() if ours.dtype is pc.bfloat16 else ours.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-2)
