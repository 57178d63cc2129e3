"""unfold / fold (im2col / col2im): F.unfold and F.fold against plain NumPy references (float32 and float64;
stride, padding, dilation, non-square windows, non-contiguous input, unbatched), each the other's adjoint,
float64 gradcheck, PyTorch parity, nn.Unfold / nn.Fold, bad input. Kernels: csrc/ops/fold.cpp and
csrc/ops/cpu/fold.cpp (conv2d's im2col / col2im).
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_torch, expect_error, gradcheck, randn


def _blocks(size, k, d, p, s):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def unfold_ref(x, k, d=(1, 1), p=(0, 0), s=(1, 1)):
    """(N, C, H, W) -> (N, C*kH*kW, L): row (c, i, j), column (oh, ow) = padded x[c, oh*s + i*d, ow*s + j*d]."""
    N, C, H, W = x.shape
    OH, OW = _blocks(H, k[0], d[0], p[0], s[0]), _blocks(W, k[1], d[1], p[1], s[1])
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    out = np.zeros((N, C, k[0], k[1], OH, OW), dtype=x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            out[:, :, i, j] = xp[:, :, i * d[0] : i * d[0] + s[0] * (OH - 1) + 1 : s[0],
                                 j * d[1] : j * d[1] + s[1] * (OW - 1) + 1 : s[1]]  # fmt: skip
    return out.reshape(N, C * k[0] * k[1], OH * OW)


def fold_ref(col, size, k, d=(1, 1), p=(0, 0), s=(1, 1)):
    """unfold_ref's adjoint: every column entry added back at the pixel it was read from."""
    N, CK, _ = col.shape
    C = CK // (k[0] * k[1])
    H, W = size
    OH, OW = _blocks(H, k[0], d[0], p[0], s[0]), _blocks(W, k[1], d[1], p[1], s[1])
    xp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]), dtype=np.float64)
    c6 = col.reshape(N, C, k[0], k[1], OH, OW)
    for i in range(k[0]):
        for j in range(k[1]):
            xp[:, :, i * d[0] : i * d[0] + s[0] * (OH - 1) + 1 : s[0],
               j * d[1] : j * d[1] + s[1] * (OW - 1) + 1 : s[1]] += c6[:, :, i, j]  # fmt: skip
    return xp[:, :, p[0] : p[0] + H, p[1] : p[1] + W]


# (input (N, C, H, W), kernel, dilation, padding, stride)
CASES = {
    "basic": ((2, 3, 5, 6), (2, 3), (1, 1), (0, 0), (1, 1)),
    "stride": ((2, 2, 7, 8), (3, 2), (1, 1), (0, 0), (2, 3)),
    "padding": ((1, 3, 4, 5), (3, 3), (1, 1), (1, 2), (1, 1)),
    "dilation": ((2, 2, 7, 7), (2, 3), (2, 2), (1, 0), (1, 2)),
    "all": ((3, 2, 9, 8), (3, 2), (2, 3), (2, 1), (3, 2)),
    "kernel_1x1": ((2, 4, 3, 5), (1, 1), (1, 1), (0, 0), (2, 1)),
    "size1": ((1, 1, 1, 6), (1, 3), (1, 1), (0, 1), (1, 1)),
    "many_rows": ((3, 40, 6, 5), (3, 3), (1, 1), (1, 1), (1, 1)),  # 1080 rows: im2col runs in 512-row slices
}


def _tol(dtype):
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-6, "atol": 1e-6}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_unfold_and_fold_match_reference(case, dtype):
    xs, k, d, p, s = CASES[case]
    x = randn(*xs, dtype=dtype)
    col = F.unfold(pc.tensor(x), k, d, p, s)
    np.testing.assert_allclose(np.asarray(col), unfold_ref(x, k, d, p, s), **_tol(dtype))
    c = randn(*col.shape, dtype=dtype, seed=1)
    y = F.fold(pc.tensor(c), xs[2:], k, d, p, s)
    assert tuple(y.shape) == xs
    np.testing.assert_allclose(np.asarray(y), fold_ref(c, xs[2:], k, d, p, s), **_tol(dtype))


def test_fold_unfold_adjoint():
    # <unfold(x), c> == <x, fold(c)>: each is the other's transpose
    x, k, d, p, s = randn(2, 3, 8, 7), (3, 2), (2, 1), (1, 1), (2, 1)
    col = np.asarray(F.unfold(pc.tensor(x), k, d, p, s))
    c = randn(*col.shape, seed=4)
    back = np.asarray(F.fold(pc.tensor(c), (8, 7), k, d, p, s))
    np.testing.assert_allclose(np.sum(col * c), np.sum(x * back), rtol=1e-12)


def test_non_contiguous_and_unbatched():
    x = randn(2, 3, 6, 5)
    xt = pc.tensor(np.ascontiguousarray(x.transpose(0, 1, 3, 2))).transpose(2, 3)
    assert not xt.is_contiguous()
    np.testing.assert_allclose(np.asarray(F.unfold(xt, 2, padding=1)), unfold_ref(x, (2, 2), p=(1, 1)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(F.unfold(pc.tensor(x[0]), (3, 2))), unfold_ref(x[:1], (3, 2))[0], rtol=1e-12)
    col = randn(2, 12, 20)
    ct = pc.tensor(np.ascontiguousarray(col.transpose(0, 2, 1))).transpose(1, 2)
    np.testing.assert_allclose(np.asarray(F.fold(ct, (6, 5), 2)), fold_ref(col, (6, 5), (2, 2)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(F.fold(pc.tensor(col[1]), (6, 5), 2)), fold_ref(col[1:], (6, 5), (2, 2))[0],
                               rtol=1e-12)  # fmt: skip


def test_empty_batch():
    x = pc.zeros(0, 2, 4, 4, dtype=pc.float64)
    assert tuple(F.unfold(x, 2).shape) == (0, 8, 9)
    assert tuple(F.fold(pc.zeros(0, 8, 9, dtype=pc.float64), 4, 2).shape) == (0, 2, 4, 4)


@pytest.mark.parametrize("case", ["stride", "padding", "all"])
def test_gradcheck(case):
    xs, k, d, p, s = CASES[case]
    x = randn(1, *xs[1:], seed=2)
    gradcheck(lambda x: F.unfold(x, k, d, p, s), [x])
    with pc.no_grad():
        L = F.unfold(pc.tensor(x), k, d, p, s).shape[2]
    c = randn(1, xs[1] * k[0] * k[1], L, seed=3)
    gradcheck(lambda c: F.fold(c, xs[2:], k, d, p, s), [c])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["basic", "stride", "padding", "dilation", "all"])
def test_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    xs, k, d, p, s = CASES[case]
    x = randn(*xs, dtype=dtype, seed=6)
    check_torch(
        lambda x: F.unfold(x, k, d, p, s), lambda x: torch.nn.functional.unfold(x, k, d, p, s), [x], **_tol(dtype)
    )
    L = unfold_ref(x, k, d, p, s).shape[2]
    c = randn(xs[0], xs[1] * k[0] * k[1], L, dtype=dtype, seed=7)
    check_torch(
        lambda c: F.fold(c, xs[2:], k, d, p, s),
        lambda c: torch.nn.functional.fold(c, xs[2:], k, d, p, s),
        [c],
        **_tol(dtype),
    )


def test_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = randn(2, 3, 7, 6, seed=9)
    un, tun = nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)), torch.nn.Unfold((2, 3), 2, 1, (1, 2))
    assert repr(un) == repr(tun)
    col = un(pc.tensor(x))
    np.testing.assert_allclose(np.asarray(col), tun(torch.tensor(x)).numpy(), rtol=1e-12)
    fo, tfo = nn.Fold((7, 6), (2, 3), dilation=2, padding=1, stride=(1, 2)), torch.nn.Fold((7, 6), (2, 3), 2, 1, (1, 2))
    assert repr(fo) == repr(tfo)
    c = randn(*col.shape, seed=10)
    np.testing.assert_allclose(np.asarray(fo(pc.tensor(c))), tfo(torch.tensor(c)).numpy(), rtol=1e-12)


def test_bad_input():
    x = pc.tensor(randn(1, 2, 4, 4))
    expect_error(ValueError, "unfold", lambda: F.unfold(pc.tensor(randn(4, 4)), 2), "(N, C, H, W)", "(4, 4)")
    expect_error(ValueError, "unfold", lambda: F.unfold(x, 0), "kernel_size must be positive")
    expect_error(ValueError, "unfold", lambda: F.unfold(x, 2, stride=0), "stride must be positive")
    expect_error(ValueError, "unfold", lambda: F.unfold(x, 2, padding=-1), "padding must be non-negative")
    expect_error(ValueError, "unfold", lambda: F.unfold(x, 2, dilation=0), "dilation must be positive")
    expect_error(ValueError, "unfold", lambda: F.unfold(x, 5), "smaller than the kernel")
    expect_error(ValueError, "unfold", lambda: F.unfold(x, (2, 2, 2)), "kernel_size", "2 ints")
    expect_error(TypeError, "unfold", lambda: F.unfold(x, 2.5), "kernel_size")
    expect_error(TypeError, "unfold", lambda: F.unfold(x.numpy(), 2), "pycnn.Tensor")
    expect_error(TypeError, "unfold", lambda: F.unfold(x.to(pc.int64), 2), "int64")
    c = pc.tensor(randn(1, 8, 9))
    expect_error(ValueError, "fold", lambda: F.fold(pc.tensor(randn(8)), 4, 2), "(N, C*kH*kW, L)")
    expect_error(ValueError, "fold", lambda: F.fold(c, 4, 3), "divisible", "9")
    expect_error(ValueError, "fold", lambda: F.fold(c, 5, 2), "sliding blocks", "16")
    expect_error(ValueError, "fold", lambda: F.fold(c, 1, 2), "smaller than the kernel")
    expect_error(ValueError, "fold", lambda: F.fold(c, (4, 0), 2), "output_size must be positive")
    expect_error(TypeError, "fold", lambda: F.fold(c, None, 2), "output_size")
    expect_error(ValueError, "Fold", lambda: nn.Fold((1, 2, 3), 2), "output_size")
    expect_error(ValueError, "Unfold", lambda: nn.Unfold((1, 2, 3)), "kernel_size")
