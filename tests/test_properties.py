"""Property tests (hypothesis): random shapes (zero-size dims included) and every argument of conv2d,
conv_transpose2d, the poolings, pad, interpolate, the reductions and indexing. Each example either matches a
float64 NumPy reference (the ones the op tests already have) or breaks a documented rule and raises
ValueError / TypeError / IndexError whose message starts with the op's "[name]": never another exception,
never a wrong shape. Huge sizes (2**31 .. 2**63 and past) must be rejected, not allocated.

Profiles: "ci" (the default: derandomized, so every run draws the same examples, and bounded) and "dev"
(random, more examples): HYPOTHESIS_PROFILE=dev pytest tests/test_properties.py.
"""

import importlib
import os
import warnings

import numpy as np
import pytest
from test_ops import avg_pool2d_ref, max_pool2d_ref, pool_out
from test_resize import adaptive_pool_ref, interpolate_ref

import pycnn as pc
import pycnn.nn.functional as F

from helpers import conv2d_ref, gradcheck, host

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=800, suppress_health_check=_QUIET
)
settings.register_profile("dev", deadline=None, max_examples=300, suppress_health_check=_QUIET)
# CI=true selects "ci" as the issue asks; so does no setting at all, so that a plain `pytest` (.ci/run) is
# deterministic too. Only an explicit HYPOTHESIS_PROFILE=dev draws fresh examples.
settings.load_profile("ci" if os.environ.get("CI") == "true" else os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ARG_ERRORS = (ValueError, TypeError, IndexError)
HUGE = st.integers(2**31, 2**63 - 1) | st.sampled_from([2**63, 2**64, 2**100])
TOL64 = {"rtol": 1e-9, "atol": 1e-9}  # float64 against a float64 reference: summation order only


def _test_module(name):
    """A reference from another test module that imports torch at its top (skips only the caller without it)."""
    pytest.importorskip("torch")
    return importlib.import_module(name)


def rand(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def outcome(ops, fn, valid, reference=None, tol=TOL64):
    """fn() against the rule: invalid -> an argument error starting with one of "[op]"; valid -> the result
    (arrays, or tuples of them) has the reference's shape and values."""
    ops = (ops,) if isinstance(ops, str) else ops
    if not valid:
        with pytest.raises(ARG_ERRORS) as info:
            fn()
        assert str(info.value).startswith(tuple(f"[{op}]" for op in ops)), repr(info.value)
        return None
    got = fn()
    if reference is not None:
        gots, wants = ((v if isinstance(v, tuple) else (v,)) for v in (got, reference()))
        assert len(gots) == len(wants), f"{len(gots)} outputs, reference {len(wants)}"
        for g, w in zip(gots, wants):
            g = host(g) if isinstance(g, pc.Tensor) else np.asarray(g)
            assert g.shape == np.shape(w), f"shape {g.shape}, reference {np.shape(w)}"
            if g.dtype.kind in "iu":
                np.testing.assert_array_equal(g, w)
            else:
                np.testing.assert_allclose(g, w, **tol)
    return got


def pairs(lo, hi):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


# ---------------------------------------------------------------- conv2d ----


@st.composite
def conv2d_case(draw):
    groups = draw(st.integers(1, 3))
    return {
        "n": draw(st.integers(0, 2)),
        "groups": groups,
        "cin": groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1])),  # sometimes not divisible
        "cout": groups * draw(st.integers(1, 2)),
        "hw": draw(pairs(0, 7)),
        "k": draw(pairs(1, 4)),
        "stride": draw(pairs(1, 3) | st.sampled_from([(0, 1), (1, -2)])),
        "padding": draw(pairs(0, 2) | st.sampled_from(["same", "valid", (-1, 0)])),
        "dilation": draw(pairs(1, 2) | st.just((0, 1))),
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def conv2d_valid(c):
    if min(c["stride"]) <= 0 or min(c["dilation"]) <= 0 or c["cin"] % c["groups"]:
        return False
    if c["padding"] == "same":  # the output has the input's size: an empty plane has no window to place
        return c["stride"] == (1, 1) and min(c["hw"]) > 0
    pads = (0, 0) if c["padding"] == "valid" else c["padding"]
    if min(pads) < 0:
        return False
    return all(n + 2 * p >= d * (k - 1) + 1 for n, p, d, k in zip(c["hw"], pads, c["dilation"], c["k"]))


def conv2d_reference(x, w, b, c):
    if c["padding"] == "same":  # the total d*(k-1) split as torch does, the odd pixel after
        tot = [d * (k - 1) for d, k in zip(c["dilation"], c["k"])]
        x = np.pad(x, ((0, 0), (0, 0), (tot[0] // 2, tot[0] - tot[0] // 2), (tot[1] // 2, tot[1] - tot[1] // 2)))
        pads = (0, 0)
    else:
        pads = (0, 0) if c["padding"] == "valid" else c["padding"]
    return conv2d_ref(x, w, b, c["stride"], pads, c["dilation"], c["groups"])


@given(conv2d_case())
def test_conv2d_property(c):
    rng = np.random.default_rng(c["seed"])
    x = rand(rng, (c["n"], c["cin"], *c["hw"]))
    w = rand(rng, (c["cout"], c["cin"] // c["groups"], *c["k"]))  # cin % groups != 0: a mismatched weight
    b = rand(rng, (c["cout"],)) if c["bias"] else None
    outcome(
        "conv2d",
        lambda: F.conv2d(
            pc.tensor(x),
            pc.tensor(w),
            None if b is None else pc.tensor(b),
            c["stride"],
            c["padding"],
            c["dilation"],
            c["groups"],
        ),
        conv2d_valid(c),
        lambda: conv2d_reference(x, w, b, c),
    )


# ---------------------------------------------------------------- conv_transpose2d ----


@st.composite
def conv_transpose_case(draw):
    groups = draw(st.integers(1, 2))
    return {
        "n": draw(st.integers(0, 2)),
        "groups": groups,
        "cin": groups * draw(st.integers(1, 2)),
        "cout_g": draw(st.integers(1, 2)),
        "hw": draw(pairs(0, 5)),
        "k": draw(pairs(1, 3)),
        "stride": draw(pairs(1, 3) | st.just((0, 1))),
        "padding": draw(pairs(0, 2) | st.just((0, -1))),
        "output_padding": draw(pairs(0, 2)),
        "dilation": draw(pairs(1, 2)),
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def conv_transpose_valid(c):
    if min(c["stride"]) <= 0 or min(c["padding"]) < 0:
        return False
    if not all(op < max(s, d) for op, s, d in zip(c["output_padding"], c["stride"], c["dilation"])):
        return False
    out = [
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(c["hw"], c["stride"], c["padding"], c["dilation"], c["k"], c["output_padding"])
    ]
    return min(out) > 0


@given(conv_transpose_case())
def test_conv_transpose2d_property(c):
    ref = _test_module("test_convs").conv_transpose2d_ref
    rng = np.random.default_rng(c["seed"])
    x = rand(rng, (c["n"], c["cin"], *c["hw"]))
    w = rand(rng, (c["cin"], c["cout_g"], *c["k"]))
    b = rand(rng, (c["cout_g"] * c["groups"],)) if c["bias"] else None
    args = (c["stride"], c["padding"], c["output_padding"], c["groups"], c["dilation"])
    outcome(
        "conv_transpose2d",
        lambda: F.conv_transpose2d(pc.tensor(x), pc.tensor(w), None if b is None else pc.tensor(b), *args),
        conv_transpose_valid(c),
        lambda: ref(x, w, b, c["stride"], c["padding"], c["output_padding"], c["dilation"], c["groups"]),
    )


# ---------------------------------------------------------------- max / avg pooling ----


@st.composite
def pool_case(draw):
    return {
        "shape": draw(st.sampled_from([(), (1,), (2,)])) + (draw(st.integers(1, 2)),) + draw(pairs(0, 7)),
        "k": draw(pairs(1, 4) | st.just((0, 2))),
        "stride": draw(st.none() | pairs(1, 3) | st.just((1, 0))),
        "padding": draw(pairs(0, 2) | st.just((-1, 0))),
        "dilation": draw(pairs(1, 2) | st.just((0, 1))),
        "ceil_mode": draw(st.booleans()),
        "count_include_pad": draw(st.booleans()),
        "divisor_override": draw(st.none() | st.integers(-1, 5)),
        "seed": draw(st.integers(0, 2**16)),
    }


def pool_valid(c, dilation):
    stride = c["stride"] or c["k"]
    if min(c["k"]) <= 0 or min(stride) <= 0 or min(dilation) <= 0 or min(c["padding"]) < 0:
        return False
    if any(2 * p > k for p, k in zip(c["padding"], c["k"])) or min(c["shape"][-2:]) == 0:
        return False
    return all(
        pool_out(n, k, s, p, d, c["ceil_mode"]) > 0
        for n, k, s, p, d in zip(c["shape"][-2:], c["k"], stride, c["padding"], dilation)
    )


def as_4d(x):
    return x if x.ndim == 4 else x[None]


def like_input(y, x):
    return y if x.ndim == 4 else y[0]


# bug found: an empty H or W with padding gave windows of padding only (max -inf at index -1, avg 0/0)
EMPTY_PLANE = {
    "shape": (1, 1, 0),
    "k": (1, 2),
    "stride": None,
    "padding": (0, 1),
    "dilation": (1, 1),
    "ceil_mode": False,
    "count_include_pad": False,
    "divisor_override": None,
    "seed": 0,
}


@given(pool_case())
@example(EMPTY_PLANE)
def test_max_pool2d_property(c):
    x = rand(np.random.default_rng(c["seed"]), c["shape"])

    def reference():
        y, idx = max_pool2d_ref(as_4d(x), c["k"], c["stride"] or c["k"], c["padding"], c["dilation"], c["ceil_mode"])
        return like_input(y, x), like_input(idx, x)

    outcome(
        "max_pool2d",
        lambda: F.max_pool2d(
            pc.tensor(x), c["k"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"], return_indices=True
        ),
        pool_valid(c, c["dilation"]),
        reference,
    )


@given(pool_case())
@example(EMPTY_PLANE)
def test_avg_pool2d_property(c):
    x = rand(np.random.default_rng(c["seed"]), c["shape"])
    divisor = c["divisor_override"]
    args = (c["k"], c["stride"], c["padding"], c["ceil_mode"], c["count_include_pad"], divisor)
    outcome(
        "avg_pool2d",
        lambda: F.avg_pool2d(pc.tensor(x), *args),
        pool_valid(c, (1, 1)) and (divisor is None or divisor > 0),
        lambda: like_input(avg_pool2d_ref(as_4d(x), c["k"], args[1] or c["k"], *args[2:]), x),
    )


# ---------------------------------------------------------------- adaptive pooling ----


@given(
    shape=st.sampled_from([(), (1,), (2,)]).flatmap(lambda lead: pairs(0, 6).map(lambda hw: (*lead, 2, *hw))),
    size=st.integers(-1, 8) | st.tuples(st.none() | st.integers(0, 8), st.none() | st.integers(1, 8)),
    kind=st.sampled_from(["avg", "max"]),
    seed=st.integers(0, 2**16),
)
def test_adaptive_pool2d_property(shape, size, kind, seed):
    x = rand(np.random.default_rng(seed), shape)
    sizes = (size, size) if isinstance(size, int) else size
    out = tuple(shape[-2 + i] if s is None else s for i, s in enumerate(sizes))
    op = f"adaptive_{kind}_pool2d"
    fn = getattr(F, op)
    call = (lambda: fn(pc.tensor(x), size)) if kind == "avg" else (lambda: fn(pc.tensor(x), size, return_indices=True))
    outcome(op, call, min(out) > 0 and min(shape[-2:]) > 0, lambda: adaptive_pool_ref(x, out, kind))


# ---------------------------------------------------------------- pad ----


@st.composite
def pad_case(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=4)))
    n = draw(st.integers(1, 3))
    pads = draw(st.lists(st.integers(-3, 4), min_size=2 * n, max_size=2 * n))
    if draw(st.integers(0, 9)) == 0:
        pads = pads[:-1]  # odd length
    value = draw(st.sampled_from([None, 0.0, 1.5]))
    return shape, pads, mode, value, draw(st.integers(0, 2**16))


def pad_valid(shape, pads, mode, value):
    nd = len(pads) // 2
    if not pads or len(pads) % 2 or nd > len(shape):
        return False
    if mode != "constant" and (value not in (None, 0.0) or nd > 2 or len(shape) not in (nd + 1, nd + 2)):
        return False
    for i in range(nd):
        n, lo, hi = shape[-1 - i], pads[2 * i], pads[2 * i + 1]
        if mode != "constant" and (lo < 0 or hi < 0 or n == 0):
            return False
        if (mode == "reflect" and max(lo, hi) >= n) or (mode == "circular" and max(lo, hi) > n):
            return False
        if n + lo + hi < 0:
            return False
    return True


@given(pad_case())
@example(((0,), [1, -1], "constant", None, 0))  # bug found: a crop past the whole dim was "[narrow] ... out of bounds"
@example(((2, 2), [-3, 5], "constant", 1.5, 0))
def test_pad_property(case):
    shape, pads, mode, value, seed = case
    pad_ref = _test_module("test_convs").pad_ref
    x = rand(np.random.default_rng(seed), shape)

    def reference():
        crops_all = any(shape[-1 - i] < max(-pads[2 * i], 0) + max(-pads[2 * i + 1], 0) for i in range(len(pads) // 2))
        if crops_all:  # a crop past a whole dim leaves nothing of x: all value (pad_ref crops before padding)
            out = list(shape)
            for i in range(len(pads) // 2):
                out[-1 - i] += pads[2 * i] + pads[2 * i + 1]
            return np.full(out, value or 0.0)
        return pad_ref(x, pads, mode, value or 0.0)

    outcome("pad", lambda: F.pad(pc.tensor(x), pads, mode, value), pad_valid(shape, pads, mode, value), reference)


# ---------------------------------------------------------------- interpolate ----


@st.composite
def interpolate_case(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear"]))
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = draw(st.integers(-1, 7) | pairs(0, 7))
    else:
        kw["scale_factor"] = draw(
            st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 0.0, -1.0])
            | st.tuples(st.sampled_from([0.3, 0.75, 1.0, 2.5]), st.sampled_from([0.5, 1.0, 2.0]))
        )
    if mode == "bilinear" or draw(st.integers(0, 9)) == 0:
        kw["align_corners"] = draw(st.none() | st.booleans())
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 2)), *draw(pairs(0, 6)))
    return shape, kw, draw(st.integers(0, 2**16))


def interpolate_expected(shape, kw):
    """(valid, output size, scales the reference samples with)."""
    if kw.get("align_corners") is not None and kw["mode"] != "bilinear":
        return False, None, None
    if "size" in kw:
        size = kw["size"]
        out, scales = ((size, size) if isinstance(size, int) else size), (None, None)
    else:
        sf = kw["scale_factor"]
        scales = (sf, sf) if isinstance(sf, float) else sf
        if min(scales) <= 0:
            return False, None, None
        out = tuple(int(n * s) for n, s in zip(shape[2:], scales))
    return min(out) > 0 and min(shape[2:]) > 0, out, scales


@given(interpolate_case())
def test_interpolate_property(case):
    shape, kw, seed = case
    x = rand(np.random.default_rng(seed), shape)
    valid, out, scales = interpolate_expected(shape, kw)
    outcome(
        "interpolate",
        lambda: F.interpolate(pc.tensor(x), **kw),
        valid,
        lambda: interpolate_ref(x, out, kw["mode"], bool(kw.get("align_corners")), scales),
    )


# ---------------------------------------------------------------- reductions ----

REDUCTIONS = ["sum", "mean", "max", "min", "argmax", "argmin", "var", "std"]


@st.composite
def reduction_case(draw):
    op = draw(st.sampled_from(REDUCTIONS))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=4)))
    r = max(len(shape), 1)
    one_dim = st.integers(-r - 1, r)
    if op in ("sum", "mean", "var", "std"):
        dim = draw(st.none() | one_dim | st.lists(st.integers(-r - 1, r), min_size=1, max_size=3).map(tuple))
    else:
        dim = draw(st.none() | one_dim)
    if draw(st.integers(0, 19)) == 0:
        dim = draw(st.sampled_from([1.0, "0", True, (0, 0.5)]))  # not ints: a TypeError
    correction = draw(st.sampled_from([0, 1, 2])) if op in ("var", "std") else None
    return op, shape, dim, draw(st.booleans()), correction, draw(st.integers(0, 2**16))


def reduction_reference(x, op, dim, keepdim, correction):
    axis = None if dim is None or x.ndim == 0 else dim if isinstance(dim, int) else tuple(dim)
    if op in ("var", "std"):
        return getattr(np, op)(x, axis=axis, keepdims=keepdim, ddof=correction)
    if op in ("max", "min", "argmax", "argmin") and dim is None:  # the flattened input's; keepdim has no say
        return getattr(np, op)(x)
    return getattr(np, op)(x, axis=axis, keepdims=keepdim)


def reduction_valid(shape, op, dim):
    if isinstance(dim, (bool, float, str)) or isinstance(dim, tuple) and not all(type(d) is int for d in dim):
        return False
    r = max(len(shape), 1)
    dims = [] if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if any(not -r <= d < r for d in dims) or len({d % r for d in dims}) != len(dims):
        return False
    if op in ("max", "min", "argmax", "argmin"):  # no identity: an empty reduced dim has no answer
        reduced = [shape[d] for d in dims] if shape and dims else [int(np.prod(shape))]
        return min(reduced, default=1) > 0
    return True


def reduce_call(t, op, dim, keepdim, correction):
    if op in ("var", "std"):
        return getattr(t, op)(dim, keepdim=keepdim, correction=correction)
    y = getattr(t, op)(dim, keepdim)
    return y.values if op in ("max", "min") and dim is not None else y


@given(reduction_case())
@example(("mean", (), 0, False, None, 0))  # bug found: Python's "tuple index out of range"
@example(("max", (1, 0), 0, False, None, 0))  # bug found: refused; an empty result, as torch
@example(("argmax", (0, 3), -1, True, None, 0))
@example(("argmin", (0,), None, False, None, 0))  # bug found: the error said "[min]"
@example(("argmin", (), 1, False, None, 0))
@example(("argmax", (), 0, True, None, 0))  # bug found: shape (1,), not a 0-d result
@example(("max", (2, 3), 1.0, False, None, 0))  # bug found: a float dim was truncated to 1
@example(("mean", (2, 3), (0, -2), False, None, 0))  # bug found: mean's errors said "[sum]"
@example(("var", (2, 3), (0, 5), False, 1, 0))  # bug found: the error said "[sum]"
def test_reduction_property(case):
    op, shape, dim, keepdim, correction, seed = case
    x = rand(np.random.default_rng(seed), shape)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's empty mean / var warn (nan): not the property's
        outcome(
            (op, "var"),  # std is var's square root
            lambda: reduce_call(pc.tensor(x), op, dim, keepdim, correction),
            reduction_valid(shape, op, dim),
            lambda: reduction_reference(x, op, dim, keepdim, correction),
            {"rtol": 1e-9, "atol": 1e-9, "equal_nan": True},
        )


# ---------------------------------------------------------------- indexing ----


def index_item(size):
    """One index for a dim of `size`: an int (possibly out of range), a slice (possibly a bad step), a list."""
    bound = st.integers(-size - 2, size + 2)
    return (
        bound
        | st.builds(slice, st.none() | bound, st.none() | bound, st.none() | st.integers(-1, 3))
        | st.lists(st.integers(-size - 1, size), max_size=4)
    )


@st.composite
def index_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    if draw(st.integers(0, 5)) == 0:  # a boolean mask, alone, of the tensor's shape
        return shape, np.random.default_rng(draw(st.integers(0, 99))).random(shape) > 0.5
    key = [draw(index_item(n)) for n in shape[: draw(st.integers(0, len(shape) + 1))]]
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), draw(st.sampled_from([None, Ellipsis])))
    return shape, tuple(key) if len(key) != 1 or draw(st.booleans()) else key[0]


def torch_getitem(x, key):
    """x[key] as torch indexes: the basic indices (ints included) first, then the one integer list gathers
    along the dim it lands on (NumPy would move that dim to the front when an int and the list are apart)."""
    items = key if isinstance(key, tuple) else (key,)
    lists = [i for i, k in enumerate(items) if isinstance(k, list)]
    if not lists:
        return x[key]
    i = lists[0]
    consumed = sum(k is not None and k is not Ellipsis for k in items)
    dim = sum(1 if k is None or isinstance(k, slice) else x.ndim - consumed if k is Ellipsis else 0 for k in items[:i])
    y = x[tuple(slice(None) if j == i else k for j, k in enumerate(items))]
    if not all(-y.shape[dim] <= v < y.shape[dim] for v in items[i]):  # np.take lets it pass when y is empty
        raise IndexError(f"index out of range for dim {dim} of {y.shape}")
    return np.take(y, np.asarray(items[i], dtype=np.int64), axis=dim)


def index_valid(shape, key):
    items = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, slice) and k.step is not None and k.step <= 0 for k in items):
        return False  # as torch: no negative steps
    if sum(isinstance(k, list) for k in items) > 1:
        return False  # one integer-array index per indexing (pycnn's documented limit)
    try:
        torch_getitem(np.empty(shape), key)
    except IndexError:
        return False
    return True


@given(index_case(), st.integers(0, 2**16))
@example(((3, 0), (slice(None), [0])), 0)
@example(((2,), slice(None, None, 0)), 0)  # bug found: Python's "slice step cannot be zero", no op named
@example(((2, 3, 4), (0, slice(None), [1, 2])), 0)  # torch's order, not NumPy's: shape (3, 2)
def test_getitem_property(case, seed):
    shape, key = case
    x = rand(np.random.default_rng(seed), shape)
    exact = {"rtol": 0, "atol": 0}
    index = ("index", "index_select")
    outcome(index, lambda: pc.tensor(x)[key], index_valid(shape, key), lambda: torch_getitem(x, key), exact)


@given(index_case(), st.booleans(), st.integers(0, 2**16))
@example(((2, 3, 4), (0, slice(None), [1, 2])), True, 0)  # bug found: NumPy's (2, 3) order, a bare NumPy error
@example(((0, 2), ()), False, 0)  # bug found: an empty destination was taken for an overlapping one
def test_setitem_property(case, as_tensor, seed):
    shape, key = case
    rng = np.random.default_rng(seed)
    x = rand(rng, shape)
    if not index_valid(shape, key):
        return  # the errors are getitem's (the same key parser)
    where = torch_getitem(np.arange(x.size).reshape(shape), key)  # flat positions, in torch's order
    value = rand(rng, where.shape[1:] if where.ndim and rng.random() < 0.5 else where.shape)
    t = pc.tensor(x.copy())
    t[key] = pc.tensor(value) if as_tensor else value
    want = x.copy()
    want.flat[where.ravel()] = np.broadcast_to(value, where.shape).ravel()
    np.testing.assert_array_equal(host(t), want)


@st.composite
def narrow_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    op = draw(st.sampled_from(["narrow", "split", "split_sizes", "chunk"]))
    size = shape[dim] if -len(shape) <= dim < len(shape) else 3
    if op == "narrow":
        arg = (draw(st.integers(-size - 1, size + 1)), draw(st.integers(-1, size + 1)))
    elif op == "split_sizes":
        arg = draw(st.lists(st.integers(-1, size), max_size=4))
    else:
        arg = draw(st.integers(-1, size + 2))
    return shape, dim, op, arg, draw(st.integers(0, 2**16))


def narrow_reference(x, dim, op, arg):
    """(pieces as NumPy arrays) or None where the arguments break torch's rule."""
    if not -x.ndim <= dim < x.ndim:
        return None
    size = x.shape[dim]
    if op == "narrow":
        start, length = arg
        start = start + size if start < 0 else start
        if not (0 <= start <= size and 0 <= length <= size - start):
            return None
        bounds = [(start, start + length)]
    elif op == "split_sizes":
        if sum(arg) != size or min(arg, default=0) < 0:
            return None
        ends = np.cumsum(arg)
        bounds = list(zip(ends - arg, ends))
    elif arg <= 0 and not (op == "split" and arg == 0 and size == 0):
        return None
    else:
        step = arg if op == "split" else max(1, -(-size // arg))
        bounds = [(s, min(s + step, size)) for s in range(0, size, step)] if size else [(0, 0)]
    return tuple(np.take(x, range(a, b), axis=dim) for a, b in bounds)


@given(narrow_case())
def test_narrow_split_chunk_property(case):
    shape, dim, op, arg, seed = case
    x = rand(np.random.default_rng(seed), shape)
    call = {
        "narrow": lambda t: (t.narrow(dim, *arg),),
        "split": lambda t: t.split(arg, dim),
        "split_sizes": lambda t: t.split(arg, dim),
        "chunk": lambda t: t.chunk(arg, dim),
    }[op]
    want = narrow_reference(x, dim, op, arg)
    got = outcome(op.split("_")[0], lambda: call(pc.tensor(x)), want is not None)
    if want is not None:
        assert len(got) == len(want), f"{len(got)} pieces, reference {len(want)}"
        for g, w in zip(got, want):
            np.testing.assert_array_equal(host(g), w)


# ---------------------------------------------------------------- huge sizes: rejected, not allocated ----

HUGE_CALLS = {
    "conv2d stride": ("conv2d", lambda h, x: F.conv2d(x, pc.ones(1, 1, 1, 1), stride=h)),
    "conv2d padding": ("conv2d", lambda h, x: F.conv2d(x, pc.ones(1, 1, 1, 1), padding=h)),
    "conv2d dilation": ("conv2d", lambda h, x: F.conv2d(x, pc.ones(1, 1, 2, 2), dilation=h)),
    "conv2d groups": ("conv2d", lambda h, x: F.conv2d(x, pc.ones(1, 1, 1, 1), groups=h)),
    "conv_transpose2d stride": ("conv_transpose2d", lambda h, x: F.conv_transpose2d(x, pc.ones(1, 1, 2, 2), stride=h)),
    "conv_transpose2d groups": ("conv_transpose2d", lambda h, x: F.conv_transpose2d(x, pc.ones(1, 1, 2, 2), groups=h)),
    "conv_transpose2d dilation": (
        "conv_transpose2d",
        lambda h, x: F.conv_transpose2d(x, pc.ones(1, 1, 2, 2), dilation=h),
    ),
    "max_pool2d kernel": ("max_pool2d", lambda h, x: F.max_pool2d(x, h)),
    "max_pool2d stride": ("max_pool2d", lambda h, x: F.max_pool2d(x, 2, stride=h)),
    "max_pool2d padding": ("max_pool2d", lambda h, x: F.max_pool2d(x, 2, padding=h)),
    "max_pool2d dilation": ("max_pool2d", lambda h, x: F.max_pool2d(x, 2, dilation=h)),
    "max_pool2d wide window": ("max_pool2d", lambda h, x: F.max_pool2d(x, h, padding=h // 2)),
    "avg_pool2d wide window": ("avg_pool2d", lambda h, x: F.avg_pool2d(x, (2, h), padding=(0, h // 2), ceil_mode=True)),
    "avg_pool2d kernel": ("avg_pool2d", lambda h, x: F.avg_pool2d(x, h, ceil_mode=True)),
    "avg_pool2d divisor": ("avg_pool2d", lambda h, x: F.avg_pool2d(x, 2, divisor_override=h)),
    "adaptive_avg_pool2d": ("adaptive_avg_pool2d", lambda h, x: F.adaptive_avg_pool2d(x, (h, h))),
    "adaptive_max_pool2d": ("adaptive_max_pool2d", lambda h, x: F.adaptive_max_pool2d(x, (h, h))),
    "pad constant": ("pad", lambda h, x: F.pad(x, [h, h, h, h])),
    "pad reflect": ("pad", lambda h, x: F.pad(x, [h, h], mode="reflect")),
    "interpolate size": ("interpolate", lambda h, x: F.interpolate(x, size=(h, h))),
    "interpolate scale": ("interpolate", lambda h, x: F.interpolate(x, scale_factor=float(h))),
    "sum dim": ("sum", lambda h, x: x.sum(h)),
    "max dim": ("max", lambda h, x: x.max(h)),
    "argmax dim": ("argmax", lambda h, x: x.argmax(h)),
    "var dim": ("var", lambda h, x: x.var(h)),
    "narrow length": ("narrow", lambda h, x: x.narrow(0, 0, h)),
    "narrow start": ("narrow", lambda h, x: x.narrow(-1, h, 1)),
    "getitem": ("index", lambda h, x: x[0, h]),
    "getitem list": ("index_select", lambda h, x: x[:, :, [0, h]]),
    "chunk": ("chunk", lambda h, x: x.chunk(h)),
}


@given(st.sampled_from(sorted(HUGE_CALLS)), HUGE, st.booleans())
# bugs found: past int64, pybind11's "incompatible function arguments" (no op named); "too large" named
# "[shape]" or "[empty]"; an avg_pool2d window of 2**62 columns looped over every one of them
@example("conv2d stride", 2**63, False)
@example("sum dim", 2**63, False)
@example("conv2d groups", 2**63, False)
@example("argmax dim", 2**64, True)
@example("pad constant", 2**31, False)
@example("conv_transpose2d dilation", 2**31, False)
@example("interpolate scale", 2**31, False)
@example("avg_pool2d wide window", 2**62, False)
def test_huge_sizes_rejected(name, h, negative):
    """A size or argument of 2**31 .. 2**100 (or its negative) is refused with the op's error or, where the
    result is legal (split/chunk into one piece), computed without allocating anything huge."""
    op, call = HUGE_CALLS[name]
    x = pc.ones(1, 1, 3, 3)
    h = -h if negative else h
    try:
        y = call(h, x)
    except (*ARG_ERRORS, MemoryError) as e:
        assert str(e).startswith((f"[{op}]", "[index]")), f"{name}({h}): {e!r}"
        return
    ys = y if isinstance(y, tuple) else (y,)
    assert all(t.numel() <= x.numel() for t in ys), f"{name}({h}) gave shapes {[t.shape for t in ys]}"


# ---------------------------------------------------------------- gradients ----

GRAD_CASES = {  # name: (fn, input shapes); small shapes, float64 finite differences (helpers.gradcheck)
    "conv2d": (lambda x, w: F.conv2d(x, w, None, (2, 1), (1, 0), (1, 2), 1), [(1, 2, 4, 5), (2, 2, 2, 2)]),
    "conv2d same": (lambda x, w: F.conv2d(x, w, padding="same", groups=2), [(1, 2, 3, 4), (2, 1, 2, 3)]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, None, 2, 1, 1), [(1, 2, 3, 3), (2, 1, 2, 2)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), [(1, 2, 5, 4)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(2, 4, 5)]),
    "pad reflect": (lambda x: F.pad(x, [2, 1, 0, 2], mode="reflect"), [(1, 2, 3, 4)]),
    "pad circular": (lambda x: F.pad(x, [1, 3], mode="circular"), [(2, 3, 4)]),
    "interpolate": (lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), [(1, 2, 3, 2)]),
    "var": (lambda x: x.var((0, 2), keepdim=True, correction=0), [(2, 3, 4)]),
    "getitem": (lambda x: x[1:, None, [2, 0, 2], ::2], [(3, 4, 5)]),
    "chunk": (lambda x: x.chunk(3, -1)[1] * x.narrow(-1, 1, 2), [(2, 4, 5)]),
}


@given(st.sampled_from(sorted(GRAD_CASES)), st.integers(0, 2**16))
def test_gradient_property(name, seed):
    fn, shapes = GRAD_CASES[name]
    rng = np.random.default_rng(seed)
    gradcheck(fn, [rand(rng, s) for s in shapes], seed=seed)
