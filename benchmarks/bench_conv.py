"""Convolution and pooling layers, pycnn vs PyTorch, forward and forward + backward, on the layer
workloads of shared/BENCHMARKS.md (float32, NCHW). GFLOP/s count 2 x MACs; fwd+bwd counts 3 x fwd.
Run: python benchmarks/bench_conv.py [--threads 2] [--algo auto|gemm|winograd[,...]]
--algo times pycnn with each named CPU conv2d algorithm (one row per layer and algorithm; default auto).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycnn as pc

from _common import median_time, print_table, threads_and_repeats

# name: (N, C, H, W, OC, K, stride, padding, groups)
CONVS = {
    "conv_lenet_c1": (64, 1, 28, 28, 6, 5, 1, 0, 1),
    "conv_lenet_c2": (64, 6, 12, 12, 16, 5, 1, 0, 1),
    "conv_r18_64x32": (32, 64, 32, 32, 64, 3, 1, 1, 1),
    "conv_r18_128x16": (32, 128, 16, 16, 128, 3, 1, 1, 1),
    "conv_r18_256x8": (32, 256, 8, 8, 256, 3, 1, 1, 1),
    "conv_r18_512x4": (32, 512, 4, 4, 512, 3, 1, 1, 1),
    "conv_r18_down_64to128": (32, 64, 32, 32, 128, 3, 2, 1, 1),
    "conv_1x1_256to64x8": (32, 256, 8, 8, 64, 1, 1, 0, 1),
    "conv_alexnet_c1": (8, 3, 224, 224, 64, 11, 4, 2, 1),
    "conv_dw3x3_128x16": (32, 128, 16, 16, 128, 3, 1, 1, 128),
}
# Transposed convolutions, same fields (C in, OC out); output size (H - 1) * stride - 2 * padding + K.
CONVTS = {
    "convT_64to32_4x4s2_16": (32, 64, 16, 16, 32, 4, 2, 1, 1),
}


def conv_case(lib, F, spec, rng, transposed=False):
    n, c, h, w, oc, k, s, p, g = spec
    x = lib.from_numpy(rng.standard_normal((n, c, h, w)).astype(np.float32)).requires_grad_()
    wshape = (c, oc // g, k, k) if transposed else (oc, c // g, k, k)
    wt = lib.from_numpy((rng.standard_normal(wshape) * 0.1).astype(np.float32)).requires_grad_()
    b = lib.from_numpy(rng.standard_normal(oc).astype(np.float32)).requires_grad_()
    conv = F.conv_transpose2d if transposed else F.conv2d

    def fwd():
        with lib.no_grad():
            conv(x, wt, b, stride=s, padding=p, groups=g)

    def fwd_bwd():
        conv(x, wt, b, stride=s, padding=p, groups=g).sum().backward()
        x.grad = wt.grad = b.grad = None

    # A transposed conv does the MACs of the conv it transposes: one per input pixel, tap and output channel.
    macs = (
        n * c * h * w * (oc // g) * k * k if transposed else n * oc * ((h + 2 * p - k) // s + 1) ** 2 * (c // g) * k * k
    )
    return fwd, fwd_bwd, 2 * macs


def pool_rows(torch, repeats):
    """Max pooling 2x2/2 on N32 C64 32x32: pycnn (NCHW) vs torch NCHW and torch channels-last."""
    x_np = np.random.default_rng(0).standard_normal((32, 64, 32, 32)).astype(np.float32)
    cases = [("pycnn NCHW", pc, pc.nn.functional, pc.from_numpy(x_np))]
    if torch:
        tx = torch.from_numpy(x_np)
        cases += [
            ("torch NCHW", torch, torch.nn.functional, tx),
            ("torch channels-last", torch, torch.nn.functional, tx.contiguous(memory_format=torch.channels_last)),
        ]
    rows = []
    nbytes = x_np.nbytes * 1.25  # read x, write y (a quarter of x)
    for name, lib, F, x in cases:
        x = x.detach().requires_grad_()

        def fwd():
            with lib.no_grad():
                F.max_pool2d(x, 2)

        def fwd_bwd():
            F.max_pool2d(x, 2).sum().backward()
            x.grad = None

        tf = median_time(fwd, repeats, 5, warmup=2)
        tb = median_time(fwd_bwd, repeats, 3, warmup=1)
        rows.append([name, f"{tf * 1e3:.2f} / {tb * 1e3:.2f}", f"{nbytes / tf / 1e9:.1f}"])
    return rows


def algorithms_from_argv():
    """Takes --algo (a comma-separated list of conv2d algorithms) off the command line."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--algo", default="auto")
    known, rest = ap.parse_known_args()
    sys.argv[1:] = rest
    return known.algo.split(",")


def time_case(lib, F, spec, repeats, transposed=False):
    fwd, fwd_bwd, flops = conv_case(lib, F, spec, np.random.default_rng(0), transposed)
    return median_time(fwd, repeats, 3, warmup=2), median_time(fwd_bwd, repeats, 2, warmup=1), flops


def main():
    algorithms = algorithms_from_argv()
    args, torch = threads_and_repeats(__doc__)
    rows = []
    cases = [(name, spec, False) for name, spec in CONVS.items()] + [
        (name, spec, True) for name, spec in CONVTS.items()
    ]
    for name, spec, transposed in cases:
        if torch:
            ttf, ttb, _ = time_case(torch, torch.nn.functional, spec, args.repeats, transposed)
        for algo in algorithms:
            pc._C._set_conv2d_algorithm(algo)
            tf, tb, flops = time_case(pc, pc.nn.functional, spec, args.repeats, transposed)
            label = name if algorithms == ["auto"] else f"{name} [{algo}]"
            row = [label, f"{tf * 1e3:.2f} / {tb * 1e3:.2f}", f"{flops / tf / 1e9:.0f} / {3 * flops / tb / 1e9:.0f}"]
            if torch:
                row += [f"{ttf * 1e3:.2f} / {ttb * 1e3:.2f}", f"{ttf / tf:.2f}x / {ttb / tb:.2f}x"]
            rows.append(row)
    pc._C._set_conv2d_algorithm("auto")
    header = ["layer", "pycnn ms fwd / fwd+bwd", "pycnn GFLOP/s"]
    if torch:
        header += ["torch ms fwd / fwd+bwd", "speed vs torch"]
    print_table(f"Convolution, {args.threads} threads (x = pycnn speed / torch speed)", header, rows)
    print_table(
        f"Max pooling 2x2/2, N32 C64 32x32, {args.threads} threads",
        ["implementation", "ms fwd / fwd+bwd", "fwd GB/s"],
        pool_rows(torch, args.repeats),
    )


if __name__ == "__main__":
    main()
