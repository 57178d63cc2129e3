"""Bad input raises ValueError / TypeError / RuntimeError whose message starts with "[op]" and names the
shapes involved; nothing crashes the interpreter. Calls that could write out of bounds in a careless
kernel (straight into pycnn._C, bypassing the Python checks) run in a subprocess.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import SUBPROCESS_CWD, expect_error


def t(*shape, dtype=np.float32):
    return pc.tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype) + 0.5)


# ---------------------------------------------------------------- pooling ----


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d], ids=["max_pool2d", "avg_pool2d"])
def test_pool_bad_arguments(pool):
    op = pool.__name__
    expect_error(ValueError, op, lambda: pool(t(4, 4), 2), "(4, 4)")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 1, 4, 4), 2), "(1, 1, 1, 4, 4)")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 4, 4), 0), "kernel_size")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 4, 4), -2), "kernel_size")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 4, 4), 2, stride=0), "stride")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 4, 4), 2, padding=2), "padding")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 4, 4), 2, padding=-1), "padding")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 2, 2), 3), "(1, 1, 2, 2)")
    expect_error(ValueError, op, lambda: pool(t(1, 1, 4, 4), (2, 2, 2)), "kernel_size")
    expect_error(TypeError, op, lambda: pool(pc.ones(1, 1, 4, 4, dtype=pc.int64), 2), "int64")


def test_max_pool2d_bad_dilation_and_avg_divisor():
    expect_error(ValueError, "max_pool2d", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, dilation=0), "dilation")
    expect_error(ValueError, "avg_pool2d", lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, divisor_override=0), "divisor")
    expect_error(ValueError, "avg_pool2d", lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, divisor_override=-3), "divisor")


# ---------------------------------------------------------------- linear / matmul / elementwise ----


def test_linear_mismatched_shapes():
    expect_error(ValueError, "linear", lambda: F.linear(t(2, 3), t(4, 5)), "(2, 3)", "(4, 5)")
    expect_error(ValueError, "linear", lambda: F.linear(t(2, 5), t(4, 5), t(3)), "(3,)")
    expect_error(ValueError, "linear", lambda: F.linear(t(2, 5), t(5)), "(5,)")
    expect_error(ValueError, "linear", lambda: F.linear(pc.tensor(1.0), t(4, 5)), "0-d")
    expect_error(TypeError, "linear", lambda: F.linear(t(2, 5), t(4, 5, dtype=np.float64)), "float64")
    expect_error(TypeError, "linear", lambda: F.linear(pc.ones(2, 5, dtype=pc.int64), t(4, 5)), "int64")


def test_matmul_mismatched_shapes():
    expect_error(ValueError, "matmul", lambda: t(2, 3) @ t(4, 5), "(2, 3)", "(4, 5)")
    expect_error(
        ValueError, "matmul", lambda: pc.matmul(t(3), t(4)), "(3,)"
    )  # 1-D and batched operands work as torch's
    expect_error(ValueError, "matmul", lambda: t(2, 3, 4) @ t(5, 6), "(2, 3, 4)")
    expect_error(TypeError, "gemm", lambda: t(2, 3) @ t(3, 4, dtype=np.float64), "float32", "float64")
    expect_error(TypeError, "gemm", lambda: pc.ones(2, 3, dtype=pc.int64) @ pc.ones(3, 2, dtype=pc.int64), "int64")


@pytest.mark.parametrize(
    "op, fn",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
    ],
)
def test_binary_mismatched_shapes_and_dtypes(op, fn):
    expect_error(ValueError, op, lambda: fn(t(2, 3), t(4)), "(2, 3)", "(4,)")
    expect_error(ValueError, op, lambda: fn(t(2, 3, 4), t(3, 3, 1)), "(2, 3, 4)", "(3, 3, 1)")
    # mixed dtypes meet in their promoted dtype, as torch's (tests/test_dtypes.py checks the whole table)
    assert fn(t(2, 3), t(2, 3, dtype=np.float64)).dtype is pc.float64
    expect_error(TypeError, op, lambda: fn(t(2, 3), "a"), "str")


# ---------------------------------------------------------------- reductions, softmax ----


def test_reduction_bad_dims():
    expect_error(ValueError, "sum", lambda: t(2, 3).sum(2), "dim 2", "rank 2")
    expect_error(ValueError, "sum", lambda: t(2, 3).sum(-3), "dim -3")
    expect_error(ValueError, "sum", lambda: t(2, 3).sum((0, 0)), "repeated")
    expect_error(ValueError, "mean", lambda: t(2, 3).mean((1, -1)), "repeated")
    expect_error(ValueError, "argmax", lambda: t(2, 3).argmax(5), "dim 5")
    expect_error(ValueError, "argmax", lambda: pc.zeros(0, 3).argmax(0), "(0, 3)")
    expect_error(TypeError, "mean", lambda: pc.tensor([1, 2]).mean(), "int64")


@pytest.mark.parametrize("op", ["log_softmax", "softmax"])
def test_softmax_bad_dim(op):
    expect_error(ValueError, op, lambda: getattr(F, op)(t(2, 3), 2), "dim 2", "rank 2")
    expect_error(TypeError, op, lambda: getattr(F, op)(pc.tensor([1, 2]), 0), "int64")


# ---------------------------------------------------------------- losses ----


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_loss_float_target(op):
    expect_error(TypeError, op, lambda: getattr(F, op)(t(4, 3), t(4)), "float32", "long")


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_loss_out_of_range_class(op):
    fn = getattr(F, op)
    expect_error(ValueError, op, lambda: fn(t(4, 3), pc.tensor([0, 1, 3, 2])), "target 3", "position 2", "3 classes")
    expect_error(ValueError, op, lambda: fn(t(4, 3), pc.tensor([0, -1, 1, 2])), "target -1")
    expect_error(ValueError, op, lambda: fn(t(2, 3), pc.tensor([0, 10**12])), "target 1000000000000")


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_loss_mismatched_shapes(op):
    fn = getattr(F, op)
    expect_error(ValueError, op, lambda: fn(t(4, 3), pc.tensor([0, 1, 2])), "(3,)", "(4, 3)")
    expect_error(ValueError, op, lambda: fn(t(4, 3), pc.tensor([[0, 1], [2, 0]])), "(2, 2)")
    expect_error(ValueError, op, lambda: fn(t(3), pc.tensor([0])), "(3,)")
    expect_error(ValueError, op, lambda: fn(t(4, 0), pc.tensor([0, 0, 0, 0])), "(4, 0)")


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_loss_bad_reduction(op):
    expect_error(ValueError, op, lambda: getattr(F, op)(t(4, 3), pc.tensor([0, 1, 2, 0]), reduction="avg"), "'avg'")
    expect_error(ValueError, op, lambda: getattr(F, op)(t(4, 3), pc.tensor([0, 1, 2, 0]), reduction=None), "None")


def test_core_bad_reduction_string():
    expect_error(
        ValueError,
        "reduction",
        lambda: pc._C.cross_entropy_forward(t(2, 3)._impl, pc.tensor([0, 1])._impl, None, "mean_sum", -100, 0.0),
        "'mean_sum'",
    )


# ---------------------------------------------------------------- tensors and devices ----


def test_view_reshape_bad_shapes():
    expect_error(ValueError, "view", lambda: t(2, 3).view(4, 2), "(4, 2)", "(2, 3)")
    expect_error(ValueError, "view", lambda: t(2, 3).reshape(-1, 4), "(-1, 4)", "(2, 3)")
    expect_error(ValueError, "expand", lambda: t(2, 3).expand(2, 4), "(2, 3)", "(2, 4)")
    expect_error(ValueError, "permute", lambda: t(2, 3).permute(0, 2), "dim 2")


def test_bad_device_and_dtype_names():
    expect_error(ValueError, "device", lambda: pc.zeros(2).to("tpu"), "'tpu'")
    expect_error(TypeError, "dtype", lambda: pc.zeros(2, dtype="complex64"), "complex64")


def test_set_num_threads_rejects():
    for bad in (0, -1, 1.5, "2", True):
        expect_error(ValueError, "set_num_threads", lambda bad=bad: pc.set_num_threads(bad), repr(bad))


# ---------------------------------------------------------------- no crashes ----

_CRASH_SCRIPT = textwrap.dedent("""
    import numpy as np
    import pycnn as pc
    from pycnn import _C

    def T(*shape, dtype=np.float32):
        return pc.tensor(np.ones(shape, dtype=dtype))._impl

    calls = {
        # a backward called directly with indices/targets no forward would have produced
        "max_pool2d_backward bad indices": lambda: _C.max_pool2d_backward(
            T(1, 1, 2, 2), pc.tensor(np.full((1, 1, 2, 2), 10**9, dtype=np.int64))._impl, [1, 1, 4, 4]),
        "max_pool2d_backward negative indices": lambda: _C.max_pool2d_backward(
            T(1, 1, 2, 2), pc.tensor(np.full((1, 1, 2, 2), -7, dtype=np.int64))._impl, [1, 1, 4, 4]),
        "nll_loss_backward bad target": lambda: _C.nll_loss_backward(
            T(), T(2, 3), pc.tensor([0, 10**9])._impl, None, "mean", -100),
        "cross_entropy_backward bad target": lambda: _C.cross_entropy_backward(
            T(), T(2, 3), pc.tensor([-5, 1])._impl, None, "sum", -100, 0.0, False),
        "sgd_step_ without a momentum buffer": lambda: _C.sgd_step_(
            T(), T(), None, 0.1, 0.9, 0.0, 0.0, False, False, False),
        "sgd_step_ shape mismatch": lambda: _C.sgd_step_(T(3), T(4), None, 0.1, 0.0, 0.0, 0.0, False, False, True),
        "gemm non-contiguous output": lambda: _C.gemm(False, False, 1.0, T(2, 3), T(3, 2), 0.0,
                                                      T(2, 2).transpose(0, 1)),
        "gemm wrong output shape": lambda: _C.gemm(False, False, 1.0, T(2, 3), T(3, 2), 0.0, T(3, 3)),
        "conv2d_backward wrong grad shape": lambda: _C.conv2d_backward(
            T(1, 2, 5, 5), T(1, 1, 6, 6), T(2, 1, 3, 3), (1, 1), (0, 0), (1, 1), 1, True, True, True),
        "avg_pool2d_backward wrong grad shape": lambda: _C.avg_pool2d_backward(
            T(1, 1, 3, 3), [1, 1, 4, 4], (2, 2), (2, 2), (0, 0), False, True, 0),
        "copy_ shape mismatch": lambda: _C.copy_(T(2, 3), T(3, 2)),
        "sum_to impossible": lambda: _C.sum_to(T(2, 3), [4]),
        "huge padding": lambda: _C.conv2d_forward(T(1, 1, 2, 2), T(1, 1, 1, 1), None, (1, 1), (2**40, 2**40),
                                                  (1, 1), 1),
        "select out of range": lambda: T(2, 3).select(0, 5),
        "narrow out of range": lambda: T(2, 3).narrow(1, 2, 5),
        "item of many": lambda: T(2, 3).item(),
    }
    for name, call in calls.items():
        try:
            call()
        except MemoryError as e:  # an honest refusal to allocate a huge output is fine too
            print("raised:", name, "-> MemoryError", e)
        except (ValueError, TypeError, RuntimeError) as e:
            msg = str(e)
            assert msg.startswith("["), (name, msg)
            print("raised:", name, "->", msg)
        else:
            raise SystemExit(f"no error for: {name}")
    print("ALL-RAISED")
""")


def test_bad_core_calls_raise_instead_of_crashing():
    proc = subprocess.run(
        [sys.executable, "-u", "-c", _CRASH_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=SUBPROCESS_CWD,
    )
    assert proc.returncode == 0 and "ALL-RAISED" in proc.stdout, (
        f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    )


# ---------------------------------------------------------------- sizes that overflow 64 bits ----
# Element counts, byte sizes and output sizes are computed with overflow checks: each of these crashed
# the interpreter or returned garbage before (issue 11). They run in one child process, so that a
# regression into a crash fails this test instead of killing the run.
OVERFLOW_CASES = [
    # (expression, exception type, the op the message starts with, text it must contain)
    ("pc.zeros(2**61, 2)", "ValueError", "zeros", "size too large"),
    ("pc.empty(2**32, 2**32)[3, 7].item()", "ValueError", "empty", "(4294967296, 4294967296) is too large"),
    ("pc.empty(2**32, 2**32).numel()", "ValueError", "empty", "is too large"),
    ("pc.ones(2**62, 4)", "ValueError", "ones", "(4611686018427387904, 4) is too large"),
    ("pc.randn(1).expand(2**62).sum()", "ValueError", "sum", "size too large"),
    ("F.adaptive_avg_pool2d(pc.randn(1, 1, 4, 4), 2**40)", "ValueError", "adaptive_avg_pool2d", "is too large"),
    ("F.conv_transpose2d(pc.randn(1, 1, 2, 2), pc.randn(1, 1, 3, 3), stride=2**62)", "ValueError", "conv_transpose2d",
     "too large"),
    ("F.conv2d(pc.randn(1, 1, 4, 4), pc.ones(1, 1, 3, 3), dilation=2**62, padding=2**62)", "ValueError", "conv2d",
     "too large"),
    ("F.conv2d(pc.randn(1, 1, 4, 4), pc.randn(1, 1, 3, 3), padding=2**40)", "ValueError", "conv2d", "is too large"),
    ("F.max_pool2d(pc.randn(1, 1, 4, 4), 3, padding=1, dilation=2**62)", "ValueError", "max_pool2d", "size too large"),
    ("pc.zeros(2**40)", "MemoryError", "zeros", "cannot allocate 4398046511104 bytes"),
    ("F.pad(pc.randn(1, 1, 4, 4), (2**62, 2**62))", "ValueError", "pad", "size too large"),
    ("F.pad(pc.randn(1, 1, 4, 4), (2**40, 2**40))", "MemoryError", "pad", "cannot allocate"),
    ("F.interpolate(pc.randn(1, 1, 4, 4), size=(2**32, 2**32))", "ValueError", "interpolate", "is too large"),
    ("F.interpolate(pc.randn(1, 1, 4, 4), scale_factor=1e20)", "ValueError", "interpolate", "scale_factor 1e+20"),
    ("F.interpolate(pc.randn(1, 1, 4, 4), scale_factor=float('inf'))", "ValueError", "interpolate",
     "positive and finite"),
    ("pc.nn.Linear(2**31, 2**31)", "ValueError", "Linear", "size too large"),
    ("pc.randn(2**32, 2**32)", "ValueError", "randn", "is too large"),
    ("F.conv2d(pc.randn(1, 1, 4, 4), pc.randn(1, 1, 3, 3), padding=2**63)", "ValueError", "conv2d", "64 bits"),
]  # fmt: skip


def test_sizes_that_overflow_raise_instead_of_crashing():
    code = textwrap.dedent(
        """
        import json, sys
        import pycnn as pc
        import pycnn.nn.functional as F
        out = []
        for expr in json.loads(sys.argv[1]):
            try:
                eval(expr)
                out.append(["no error", ""])
            except Exception as e:
                out.append([type(e).__name__, str(e)])
        print(json.dumps(out))
        """
    )

    exprs = [case[0] for case in OVERFLOW_CASES]
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(exprs)],
        check=False,  # a crash is asserted below, with the child's stderr
        capture_output=True,
        text=True,
        cwd=SUBPROCESS_CWD,
        timeout=120,
    )
    assert proc.returncode == 0, f"the child crashed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for (expr, kind, op, text), (got_kind, message) in zip(OVERFLOW_CASES, results):
        assert got_kind == kind and message.startswith(f"[{op}]") and text in message, f"{expr}: {got_kind}: {message}"


def test_an_empty_tensor_may_have_huge_dims():
    assert pc.empty(2**32, 2**32, 0).shape == (2**32, 2**32, 0)
    assert pc.empty(2**32, 2**32, 0).numel() == 0
    assert pc.empty(2**32, 2**32, 2**32, 0).stride()[-1] == 1  # strides saturate instead of overflowing


# ---------------------------------------------------------------- dims out of range ----
# One rule for every dim argument: [-rank, rank), a scalar counting as rank 1 (unsqueeze: [-rank-1, rank]);
# these were accepted and did something else before (issue 11).
@pytest.mark.parametrize(
    "call, op",
    [
        (lambda x: x.transpose(0, 5), "transpose"),
        (lambda x: x.transpose(2**63 - 1, 0), "transpose"),
        (lambda x: x.transpose(-3, 0), "transpose"),
        (lambda x: x.squeeze(5), "squeeze"),
        (lambda x: x.squeeze(-3), "squeeze"),
        (lambda x: x.unsqueeze(10), "unsqueeze"),
        (lambda x: x.unsqueeze(-4), "unsqueeze"),
        (lambda x: x.flatten(0, 2), "flatten"),
        (lambda x: x.flatten(-3), "flatten"),
    ],
)
def test_dims_out_of_range(call, op):
    expect_error(ValueError, op, lambda: call(t(2, 3)), "out of range for a tensor of rank 2")


def test_dims_at_the_edges_of_the_range():
    x = t(2, 3)
    assert x.unsqueeze(2).shape == (2, 3, 1) and x.unsqueeze(-3).shape == (1, 2, 3)
    assert x.transpose(-2, -1).shape == (3, 2) and x.squeeze(-2).shape == (2, 3)
    s = pc.tensor(1.5)
    assert s.transpose(0, -1).shape == () and s.unsqueeze(-1).shape == (1,) and s.squeeze(0).shape == ()
    expect_error(TypeError, "transpose", lambda: x.transpose(0, "1"))


# ---------------------------------------------------------------- tensor values and in-place arguments ----


def test_non_numbers_in_arithmetic_and_writes_are_type_errors():
    # None gave an all-NaN result, strings NumPy's "could not convert string to float" (issue 11)
    x = t(2, 3)
    expect_error(TypeError, "add", lambda: x + None, "NoneType")
    expect_error(TypeError, "add", lambda: None + x, "NoneType")
    expect_error(TypeError, "add", lambda: x + "a", "'a'")
    expect_error(TypeError, "mul", lambda: x * [[1, 2], [3]], "[[1, 2], [3]]")
    expect_error(TypeError, "maximum", lambda: x.maximum("s"), "'s'")
    expect_error(TypeError, "setitem", lambda: x.__setitem__(0, "a"), "'a'")
    expect_error(TypeError, "copy_", lambda: x.copy_(None), "NoneType")
    expect_error(TypeError, "fill_", lambda: x.fill_("x"), "'x'")
    expect_error(TypeError, "uniform_", lambda: x.uniform_("a", 1), "'a'")
    np.testing.assert_array_equal(np.asarray(x + [1, 2, 3]), np.asarray(x) + np.float32([1, 2, 3]))


def test_random_fills_check_their_ranges():
    x = t(2, 3)
    expect_error(ValueError, "uniform_", lambda: x.uniform_(1, 0), "a=1.0", "b=0.0")
    expect_error(ValueError, "normal_", lambda: x.normal_(0, -1), "-1")
    expect_error(ValueError, "normal_", lambda: x.normal_(0, float("nan")), "nan")
    assert np.all(np.asarray(x.uniform_(2, 2)) == 2)


def test_expand_keeps_only_existing_dims():
    # torch raises; pycnn gave (3, 2, 3) by reading a size from the end of the shape
    expect_error(ValueError, "expand", lambda: t(2, 3).expand(-1, -1, -1), "(-1, -1, -1)", "(2, 3)")
    expect_error(ValueError, "expand", lambda: t(1, 3).expand(-1, 4, 3), "dim 0")
    assert t(1, 3).expand(2, 4, -1).shape == (2, 4, 3)
    assert t(1, 3).expand(-1, 3).shape == (1, 3)
