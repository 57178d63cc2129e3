"""The op lists of the core (csrc/ops/ops.h, one X-macro list per enum family): _C exports each list's names in
list order, every listed name is accepted by the ops that take it, and an unknown name is rejected with an
error that names the family and lists the valid names."""

import re

import numpy as np
import pytest

import pycnn as pc
from pycnn import _C

# the _C function that returns each list's names, with the words its parse errors use
FAMILIES = {
    "unary_op_names": ("unary", "op"),
    "binary_op_names": ("binary", "op"),
    "compare_op_names": ("compare", "op"),
    "pointwise_loss_names": ("pointwise_loss", "loss"),
    "reduction_names": ("reduction", "reduction"),
    "interp_mode_names": ("interpolate", "mode"),
    "pad_mode_names": ("pad", "mode"),
}


def names(fn):
    return getattr(_C, fn)()


def impl(a):
    return pc.tensor(np.asarray(a, dtype=np.float32))._impl


@pytest.mark.parametrize("fn", sorted(FAMILIES))
def test_names_are_unique_python_names(fn):
    listed = names(fn)
    assert listed and len(set(listed)) == len(listed)
    assert all(re.fullmatch(r"[a-z][a-z0-9_-]*", n) for n in listed), listed


@pytest.mark.parametrize("op", _C.unary_op_names())
def test_every_unary_op_runs_forward_and_backward(op):
    """The backward gets only the tensor the list's grad-from-output column names (the other is None)."""
    alpha, beta = {"softplus": (1.0, 20.0), "clamp": (-0.5, 0.5), "pow": (3.0, 0.0)}.get(op, (0.5, 0.0))
    x = impl([0.25, 0.5, 1.5, 2.0])
    y = _C.unary_forward(op, x, alpha, beta)
    from_y = _C.unary_grad_uses_output(op)
    dx = _C.unary_backward(op, impl(np.ones(4)), None if from_y else x, y if from_y else None, alpha, beta)
    assert y.shape == dx.shape == (4,)
    assert np.isfinite(np.asarray(y)).all() and np.isfinite(np.asarray(dx)).all()


def expect_unknown(family, what, name, valid, fn):
    listed = ", ".join(f"'{v}'" for v in valid)
    with pytest.raises(
        ValueError, match="^" + re.escape(f"[{family}] unknown {what} '{name}'; expected one of {listed}") + "$"
    ):
        fn()


def test_unknown_names_are_rejected_with_the_valid_ones():
    x = impl(np.ones((1, 1, 4, 4)))
    v = impl(np.ones(4))
    expect_unknown("unary", "op", "cosh", names("unary_op_names"), lambda: _C.unary_forward("cosh", v, 0.0, 0.0))
    expect_unknown("unary", "op", "cosh", names("unary_op_names"), lambda: _C.unary_grad_uses_output("cosh"))
    expect_unknown("binary", "op", "pow", names("binary_op_names"), lambda: _C.binary("pow", v, v))
    expect_unknown("compare", "op", "gte", names("compare_op_names"), lambda: _C.compare("gte", v, v))
    expect_unknown(
        "pointwise_loss",
        "loss",
        "foo",
        names("pointwise_loss_names"),
        lambda: _C.pointwise_loss_forward("foo", v, v, None, None, "mean", 0.0),
    )
    expect_unknown(
        "reduction",
        "reduction",
        "avg",
        names("reduction_names"),
        lambda: _C.pointwise_loss_forward("mse", v, v, None, None, "avg", 0.0),
    )
    expect_unknown(
        "interpolate",
        "mode",
        "bicubic",
        names("interp_mode_names"),
        lambda: _C.interpolate_forward(x, (8, 8), "bicubic", False, (0.0, 0.0)),
    )
    expect_unknown("pad", "mode", "mirror", names("pad_mode_names"), lambda: _C.pad_forward(x, [1, 1], "mirror", 0.0))
    expect_unknown(
        "pad", "mode", "mirror", names("pad_mode_names"), lambda: _C.pad_backward(x, (1, 1, 4, 2), [1, 1], "mirror")
    )


def test_batchmean_is_only_a_reduction_of_kl_div():
    v = impl([0.1, 0.2])
    _C.pointwise_loss_forward("kl_div", v, v, None, None, "batchmean", 0.0)
    with pytest.raises(ValueError, match=r"^\[reduction\] 'batchmean' is only valid for kl_div"):
        _C.pointwise_loss_forward("mse", v, v, None, None, "batchmean", 0.0)
