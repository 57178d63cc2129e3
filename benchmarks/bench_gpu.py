"""pycnn on CUDA vs PyTorch (cuBLAS / cuDNN) on one GPU, float32:
  1. SGEMM, pc.matmul vs torch.matmul at n = 1024 ... 8192 (GFLOP/s, ratio), also with TF32 allowed on both
  2. convolution forward and forward+backward on the layers of bench_conv.py (ResNet-18 and others)
  3. training images/s of LeNet-5 (28x28, batch 128) and ResNet-18 CIFAR (32x32, batch 128), SGD momentum,
     vs the same architectures built in torch here (eager), and the peak device memory of each.
Timed regions are bracketed by synchronize(). An op without a CUDA kernel yet is recorded as such and the
run goes on. bench.json is rewritten after each stage. One table at the end.
Run: python benchmarks/bench_gpu.py [--quick] [--out bench.json]
"""

import argparse
import json
import os
import statistics
import sys
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_conv import CONVS

import pycnn as pc

from _common import lenet

RESULTS = {"device": None, "torch": None, "gemm": [], "conv": [], "train": [], "errors": []}


def save(path):
    with open(path + ".tmp", "w") as f:
        json.dump(RESULTS, f, indent=1)
    os.replace(path + ".tmp", path)


def gpu_time(fn, sync, repeats, inner, warmup=2):
    """Median over `repeats` of the mean seconds of `inner` calls, with the device drained before and after."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def attempt(stage, name, fn):
    """fn() or None; a missing CUDA kernel (or any error) is recorded and the run goes on."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001  (a benchmark reports every failure and carries on)
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        kind = "no CUDA kernel yet" if "has no CUDA kernel yet" in msg else "error"
        RESULTS["errors"].append({"stage": stage, "case": name, "kind": kind, "message": msg[:400]})
        if kind == "error":
            traceback.print_exc(limit=3)
        print(f"   {stage}/{name}: {kind}: {msg[:200]}")
        return None


def pc_sync():
    pc.cuda.synchronize()


# ---------------------------------------------------------------- 1. SGEMM ----
def set_tf32(torch, on):
    if hasattr(pc._C, "cuda_set_allow_tf32"):
        pc.backends.cuda.matmul.allow_tf32 = on
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on


def bench_gemm(torch, sizes, tf32_modes, out):
    rng = np.random.default_rng(0)
    for n in sizes:
        a_np = rng.standard_normal((n, n), dtype=np.float32)
        b_np = rng.standard_normal((n, n), dtype=np.float32)
        a, b = pc.tensor(a_np, device="cuda"), pc.tensor(b_np, device="cuda")
        ta = tb = None
        if torch is not None:
            ta, tb = torch.from_numpy(a_np).cuda(), torch.from_numpy(b_np).cuda()
        flops = 2.0 * n**3
        inner = min(50, max(1, int(2e11 // flops)))  # about 0.2 TFLOP of work per repeat, at most 50 calls
        for tf32 in tf32_modes:
            if tf32 and not hasattr(pc._C, "cuda_set_allow_tf32"):
                continue
            set_tf32(torch, tf32)
            row = {"n": n, "tf32": tf32}
            t = attempt("gemm", f"n{n}", lambda: gpu_time(lambda: a @ b, pc_sync, 5, inner))
            row["pycnn_gflops"] = flops / t / 1e9 if t else None
            if torch is not None:
                tt = gpu_time(lambda: ta @ tb, torch.cuda.synchronize, 5, inner)
                row["torch_gflops"] = flops / tt / 1e9
            if t and torch is not None:
                row["ratio"] = row["pycnn_gflops"] / row["torch_gflops"]
                # one look at the values: a fast wrong GEMM must not pass for a result
                row["max_rel_err_vs_torch"] = float(
                    np.abs((a @ b).numpy() - (ta @ tb).cpu().numpy()).max() / (np.abs((ta @ tb).cpu().numpy()).max())
                )
            RESULTS["gemm"].append(row)
            print(f"   gemm n={n} tf32={tf32}: {_fmt(row.get('pycnn_gflops'))} vs {_fmt(row.get('torch_gflops'))}")
            save(out)
    set_tf32(torch, False)


# ---------------------------------------------------------------- 2. convolutions ----
def conv_closures(lib, F, spec, rng, device):
    n, c, h, w, oc, k, s, p, g = spec
    x_np = rng.standard_normal((n, c, h, w)).astype(np.float32)
    w_np = (rng.standard_normal((oc, c // g, k, k)) * 0.1).astype(np.float32)
    b_np = rng.standard_normal(oc).astype(np.float32)
    x, wt, b = (lib.from_numpy(v).to(device).requires_grad_() for v in (x_np, w_np, b_np))

    def fwd():
        with lib.no_grad():
            F.conv2d(x, wt, b, stride=s, padding=p, groups=g)

    def fwd_bwd():
        F.conv2d(x, wt, b, stride=s, padding=p, groups=g).sum().backward()
        x.grad = wt.grad = b.grad = None

    return fwd, fwd_bwd


def bench_conv(torch, names, repeats, out):
    for name in names:
        spec = CONVS[name]
        n, c, h, w, oc, k, s, p, g = spec
        oh = (h + 2 * p - k) // s + 1
        ow = (w + 2 * p - k) // s + 1
        flops = 2.0 * n * oc * oh * ow * (c // g) * k * k
        row = {"layer": name, "shape": list(spec)}
        fns = attempt("conv", name, lambda: conv_closures(pc, pc.nn.functional, spec, np.random.default_rng(0), "cuda"))
        if fns:
            tf = attempt("conv", name + "/fwd", lambda: gpu_time(fns[0], pc_sync, repeats, 10))
            tb = attempt("conv", name + "/fwd_bwd", lambda: gpu_time(fns[1], pc_sync, repeats, 5))
            row["pycnn_fwd_ms"] = tf * 1e3 if tf else None
            row["pycnn_fwd_bwd_ms"] = tb * 1e3 if tb else None
            row["pycnn_fwd_gflops"] = flops / tf / 1e9 if tf else None
        if torch is not None:
            tfns = conv_closures(torch, torch.nn.functional, spec, np.random.default_rng(0), "cuda")
            row["torch_fwd_ms"] = gpu_time(tfns[0], torch.cuda.synchronize, repeats, 10) * 1e3
            row["torch_fwd_bwd_ms"] = gpu_time(tfns[1], torch.cuda.synchronize, repeats, 5) * 1e3
            for key in ("fwd", "fwd_bwd"):
                mine = row.get(f"pycnn_{key}_ms")
                row[f"ratio_{key}"] = row[f"torch_{key}_ms"] / mine if mine else None  # > 1: pycnn faster
        RESULTS["conv"].append(row)
        print(f"   conv {name}: fwd {_fmt(row.get('pycnn_fwd_ms'))} ms vs torch {_fmt(row.get('torch_fwd_ms'))} ms")
        save(out)


# ---------------------------------------------------------------- 3. training ----
def torch_resnet18_cifar(torch):
    """pycnn.models.resnet18_cifar in torch: 3x3 stride-1 stem, no max-pool, BasicBlocks [2, 2, 2, 2]."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.down is None else self.down(x)
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + identity)

    layers, cin = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


def train_step(lib, model, shape):
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal(shape).astype(np.float32)).cuda()
    y = lib.from_numpy(rng.integers(0, 10, shape[0]).astype(np.int64)).cuda()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def bench_train(torch, cases, repeats, out):
    for name, shape in cases:
        row = {"model": name, "batch": shape[0], "input": list(shape[1:])}

        def run_pycnn():
            pc.manual_seed(0)
            model = (pc.models.lenet5() if name == "lenet5" else pc.models.resnet18_cifar()).cuda()
            step = train_step(pc, model, shape)
            step()
            pc.cuda.synchronize()
            pc.cuda.reset_peak_memory_stats()
            t = gpu_time(step, pc_sync, repeats, 5, warmup=1)
            return t, pc.cuda.max_memory_allocated(), sum(p.numel() for p in model.parameters())

        r = attempt("train", name, run_pycnn)
        if r:
            row["pycnn_images_per_s"] = shape[0] / r[0]
            row["pycnn_peak_mib"] = r[1] / 2**20
            row["params"] = r[2]
        pc.cuda.empty_cache()
        if torch is not None:
            torch.manual_seed(0)
            model = (lenet(torch.nn) if name == "lenet5" else torch_resnet18_cifar(torch)).cuda()
            row["torch_params"] = sum(p.numel() for p in model.parameters())
            step = train_step(torch, model, shape)
            step()
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            t = gpu_time(step, torch.cuda.synchronize, repeats, 5, warmup=1)
            row["torch_images_per_s"] = shape[0] / t
            row["torch_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
            del model, step
            torch.cuda.empty_cache()
            if row.get("pycnn_images_per_s"):
                row["ratio"] = row["pycnn_images_per_s"] / row["torch_images_per_s"]
            if row.get("params") is not None and row["params"] != row["torch_params"]:
                # the torch twin is not the same network: its speed is no reference
                RESULTS["errors"].append(
                    {"stage": "train", "case": name, "kind": "error",
                     "message": f"pycnn has {row['params']} parameters, the torch model {row['torch_params']}"}
                )  # fmt: skip
        RESULTS["train"].append(row)
        print(f"   train {name}: {_fmt(row.get('pycnn_images_per_s'))} img/s vs {_fmt(row.get('torch_images_per_s'))}")
        save(out)


# ---------------------------------------------------------------- the table ----
def _fmt(v, digits=1):
    return "-" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))


def print_table():
    rows = []
    for r in RESULTS["gemm"]:
        rows.append(
            [f"sgemm n={r['n']}" + (" tf32" if r["tf32"] else ""), "GFLOP/s", _fmt(r.get("pycnn_gflops")),
             _fmt(r.get("torch_gflops")), _fmt(r.get("ratio"), 2)]
        )  # fmt: skip
    for r in RESULTS["conv"]:
        for key, label in (("fwd", "fwd ms"), ("fwd_bwd", "fwd+bwd ms")):
            rows.append(
                [r["layer"], label, _fmt(r.get(f"pycnn_{key}_ms"), 3), _fmt(r.get(f"torch_{key}_ms"), 3),
                 _fmt(r.get(f"ratio_{key}"), 2)]
            )  # fmt: skip
    for r in RESULTS["train"]:
        rows.append(
            [f"train {r['model']} b{r['batch']}", "images/s", _fmt(r.get("pycnn_images_per_s")),
             _fmt(r.get("torch_images_per_s")), _fmt(r.get("ratio"), 2)]
        )  # fmt: skip
        rows.append(
            [f"train {r['model']} b{r['batch']}", "peak MiB", _fmt(r.get("pycnn_peak_mib")),
             _fmt(r.get("torch_peak_mib")), "-"]
        )  # fmt: skip
    header = ["case", "unit", "pycnn", "torch", "pycnn/torch speed"]
    widths = [max(len(str(h)), *(len(str(x[i])) for x in rows)) if rows else len(h) for i, h in enumerate(header)]
    print(f"\n=== table: {RESULTS['device']} (torch {RESULTS['torch']}) ===")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for x in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(x, widths)))
    missing = sorted({e["case"].split("/")[0] for e in RESULTS["errors"] if e["kind"] == "no CUDA kernel yet"})
    if missing:
        print("no CUDA kernel yet in: " + ", ".join(missing))
    others = [e for e in RESULTS["errors"] if e["kind"] == "error"]
    for e in others:
        print(f"error in {e['stage']}/{e['case']}: {e['message'][:160]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer sizes, layers and repeats (about a minute)")
    ap.add_argument("--out", default="bench_gpu.json")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    if not pc.cuda.is_available():
        raise SystemExit("bench_gpu: no CUDA device (pycnn.cuda.is_available() is False)")
    try:
        import torch

        if not torch.cuda.is_available():
            torch = None
    except ImportError:
        torch = None
    RESULTS["device"] = pc.cuda.get_device_name()
    RESULTS["torch"] = torch.__version__ if torch is not None else None
    RESULTS["quick"] = args.quick
    repeats = args.repeats or (3 if args.quick else 7)
    save(args.out)

    sizes = [1024, 2048, 4096] if args.quick else [1024, 2048, 4096, 8192]
    tf32_modes = (False,) if args.quick else (False, True)
    print("== sgemm")
    bench_gemm(torch, sizes, tf32_modes, args.out)
    layers = [n for n in CONVS if n.startswith("conv_r18")]
    if args.quick:
        layers = ["conv_r18_64x32", "conv_r18_256x8", "conv_r18_down_64to128"]
    print("== conv")
    bench_conv(torch, layers, repeats, args.out)
    print("== train")
    bench_train(torch, [("lenet5", (128, 1, 28, 28)), ("resnet18_cifar", (128, 3, 32, 32))], repeats, args.out)
    print_table()
    save(args.out)


if __name__ == "__main__":
    main()
