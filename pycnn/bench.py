"""pycnn.bench: what `pycnn bench` measures, and the workloads the scripts in benchmarks/ share.

The models are builder functions taking `nn` (pycnn.nn or torch.nn), so pycnn and PyTorch run the same
network. `run_bench` times one model: each leaf layer alone (forward, and backward from a fixed output
gradient) on the input it receives inside the model, then the whole model's training step (SGD momentum,
cross-entropy) and inference (eval mode, no_grad). With torch, every measurement alternates pycnn and torch
repeat by repeat, so both see the same machine load, and speeds are compared as ratios of medians.
torch is imported only when asked for; it is never a dependency.
"""

import importlib
import os
import platform
import statistics
import time
import types

import numpy as np

from . import _C, cuda, nn, optim
from .autograd import no_grad
from .creation import from_numpy
from .random import manual_seed
from .summary import _flops
from .threads import get_num_threads, set_num_threads
from .version import __version__

__all__ = ["MODELS", "lenet5", "make_steps", "mobilenet_v2_cifar", "resnet18_cifar", "run_bench", "vgg_small"]

# The pycnn side of the small API the workloads use (torch provides the same names).
PYCNN = types.SimpleNamespace(
    name="pycnn", nn=nn, optim=optim, manual_seed=manual_seed, from_numpy=from_numpy, no_grad=no_grad
)


# ---------------------------------------------------------------------------------------------- models


def lenet5(nn):
    """LeNet-5 (ReLU, max-pool) for (N, 1, 28, 28) inputs, built from `nn` (pycnn.nn or torch.nn)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def vgg_small(nn):
    """VGG-small for (N, 3, 32, 32): conv64 x2, pool, conv128 x2, pool, fc10 (3x3, bias, ReLU)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(128, 128, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128 * 8 * 8, 10),
    )


def resnet18_cifar(nn, num_classes=10):
    """ResNet-18 for (N, 3, 32, 32): 3x3 stride-1 stem, no max-pool, [2, 2, 2, 2] basic blocks, GAP, fc
    (the layout of pycnn.models.resnet18_cifar: 11,173,962 parameters for 10 classes)."""

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            shortcut = stride != 1 or cin != cout
            self.downsample = (
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                if shortcut
                else nn.Identity()
            )

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + self.downsample(x))

    blocks, cin = [], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        blocks.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
        cin = cout
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, 1, 1, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        *blocks,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(512, num_classes),
    )


def mobilenet_v2_cifar(nn, num_classes=10):
    """MobileNetV2 for (N, 3, 32, 32): torchvision's inverted residual blocks (1x1 expand, 3x3 depthwise,
    1x1 linear projection, BN and ReLU6), with a stride-1 stem and the second stage at stride 1, as CIFAR
    versions of the network do (2,236,682 parameters for 10 classes)."""

    def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        return layers + [nn.ReLU6()] if act else layers

    class InvertedResidual(nn.Module):
        def __init__(self, cin, cout, stride, expand):
            super().__init__()
            hidden = cin * expand
            layers = conv_bn(cin, hidden, 1) if expand != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden) + conv_bn(hidden, cout, 1, act=False)
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    features, cin = conv_bn(3, 32, 3), 32
    # t (expansion), c (channels), n (repeats), s (first stride)
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 1),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for i in range(n):
            features.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    features += conv_bn(cin, 1280, 1)
    return nn.Sequential(*features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, num_classes))


# name: (builder, one input's shape, default batch)
MODELS = {
    "lenet5": (lenet5, (1, 28, 28), 64),
    "vgg_small": (vgg_small, (3, 32, 32), 64),
    "resnet18_cifar": (resnet18_cifar, (3, 32, 32), 32),
    "mobilenet_v2_cifar": (mobilenet_v2_cifar, (3, 32, 32), 32),
}


# ---------------------------------------------------------------------------------------------- workloads


class Workload:
    """builder(lib.nn) on a fixed random batch of `shape` with 10 classes, SGD momentum 0.9 and cross-entropy,
    on `device`; lib is PYCNN or the torch module. train_step() is one optimizer step, infer() one forward
    without gradients (call model.eval() first for inference figures)."""

    def __init__(self, lib, builder, shape, seed=0, device="cpu"):
        rng = np.random.default_rng(seed)
        x_np = rng.standard_normal(shape).astype(np.float32)
        y_np = rng.integers(0, 10, size=shape[0]).astype(np.int64)
        lib.manual_seed(seed)
        self.lib = lib
        self.model = builder(lib.nn).to(device)
        self.x, self.y = lib.from_numpy(x_np).to(device), lib.from_numpy(y_np).to(device)
        self.opt = lib.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = lib.nn.CrossEntropyLoss()

    def train_step(self):
        self.opt.zero_grad()
        self.loss_fn(self.model(self.x), self.y).backward()
        self.opt.step()

    def infer(self):
        with self.lib.no_grad():
            self.model(self.x)


def make_steps(lib, builder, shape, seed=0, device="cpu"):
    """(train_step, infer) closures of a Workload (lib: PYCNN, the pycnn package, or torch)."""
    w = Workload(lib, builder, shape, seed, device)
    return w.train_step, w.infer


def _leaves(model):
    return [(name, m) for name, m in model.named_modules() if all(c is None for c in m._modules.values())]


def record_leaf_calls(lib, model, x):
    """[(name, module, input, output shape)] for every leaf-module call of one forward of `model` on x (no
    gradients), in call order; the input is the call's first argument. Works for pycnn and torch modules alike: the
    instance's `forward` is replaced for the pass and restored after (pycnn Modules have no hooks)."""
    calls, patched = [], []

    def wrap(name, m, original):
        def forward(*args, **kwargs):
            out = original(*args, **kwargs)
            calls.append((name, m, args[0], tuple(int(d) for d in out.shape)))
            return out

        return forward

    try:
        for name, m in _leaves(model):
            patched.append((m, m.__dict__.get("forward")))
            m.__dict__["forward"] = wrap(name or type(m).__name__, m, m.forward)
        with lib.no_grad():
            model(x)
    finally:
        for m, own in patched:
            if own is None:
                m.__dict__.pop("forward", None)
            else:
                m.__dict__["forward"] = own
    return calls


# ---------------------------------------------------------------------------------------------- timing


def _median_times(fns, repeats, budget, sync):
    """{key: median seconds per call} for fns = {key: fn}, interleaved: each repeat runs every fn `inner`
    times in turn (inner sized from one warm call so that a repeat lasts about `budget` seconds). A fn may
    return the seconds to count itself (for timing only part of what it does); else the wall time counts."""
    inner = {}
    for key, fn in fns.items():
        fn(), fn()  # warm-up: first-call allocations, lazily packed weights
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        inner[key] = max(1, min(1000, int(budget / max(time.perf_counter() - t0, 1e-7))))
    samples = {key: [] for key in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            counted = 0.0
            sync()
            t0 = time.perf_counter()
            for _ in range(inner[key]):
                part = fn()
                if part is not None:
                    counted += part
            sync()
            total = time.perf_counter() - t0
            samples[key].append((counted if counted > 0 else total) / inner[key])
    return {key: statistics.median(s) for key, s in samples.items()}


def _layer_fns(lib, module, x, train, needs_input_grad, sync):
    """(forward, backward) timing closures for one layer on its recorded input x. In training, forward
    records the graph and backward runs a forward untimed, then times y.backward(dout) alone (returning the
    seconds); backward is None when nothing needs a gradient. Otherwise forward runs under no_grad."""
    x = x.detach()
    if not train:

        def infer():
            with lib.no_grad():
                module(x)

        return infer, None
    if needs_input_grad:
        x.requires_grad_(True)

    def forward():
        module(x)

    y = module(x)
    if not y.requires_grad:
        return forward, None
    dout = lib.from_numpy(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)).to(y.device)

    def backward():
        out = module(x)
        sync()
        t0 = time.perf_counter()
        out.backward(dout)
        sync()
        return time.perf_counter() - t0

    return forward, backward


def _sync_of(lib, device):
    if not str(device).startswith("cuda"):
        return lambda: None
    return lib.cuda.synchronize


# ---------------------------------------------------------------------------------------------- the run


def machine_info(threads, device, torch=None, peak_seconds=0.2):
    """CPU model, cores, kernel sets, FMA peak at `threads`, versions (and the GPU on CUDA)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "simd_level": _C.simd_level(),
        "simd_levels": list(_C.supported_simd_levels()),
        "fma_peak_isa": _C._fma_peak_isa(),
        "fma_peak_gflops": _C._fma_peak_gflops(threads, peak_seconds),
        "fma_peak_gflops_1thread": _C._fma_peak_gflops(1, peak_seconds),
        "threads": threads,
        "device": str(device),
        "pycnn_version": __version__,
        "torch_version": getattr(torch, "__version__", None),
        "python": platform.python_version(),
    }
    if str(device).startswith("cuda"):
        info["gpu"] = cuda.get_device_name(device)
    return info


def import_torch():
    """The torch module, or ImportError with a message that says what the comparison needs."""
    try:
        return importlib.import_module("torch")
    except ImportError as e:
        raise ImportError(f"--compare torch needs PyTorch, which is not importable here ({e})") from e


def _layer_rows(libs, workloads, mode, repeats, peak, sync):
    """Per-leaf-call rows for one or two libraries whose models were built by the same builder."""
    train = mode != "infer"
    calls = {}
    for name, lib in libs.items():
        workloads[name].model.train(train)
        calls[name] = record_leaf_calls(lib, workloads[name].model, workloads[name].x)
    base = calls["pycnn"]
    for name, other in calls.items():
        if [c[0] for c in other] != [c[0] for c in base]:
            raise RuntimeError(f"[bench] {name}'s model calls other layers than pycnn's: cannot compare them")
    rows = []
    for i, (layer, module, x, out_shape) in enumerate(base):
        first = x is workloads["pycnn"].x  # the model's input needs no gradient
        fns, inplace = {}, []
        for name, lib in libs.items():
            m, xin = calls[name][i][1], calls[name][i][2]
            if getattr(m, "inplace", False):  # the recorded input is reused: it must stay unchanged
                m.inplace = False
                inplace.append(m)
            fwd, bwd = _layer_fns(lib, m, xin, train, not first, sync)
            fns[(name, "fwd")] = fwd
            if bwd is not None:
                fns[(name, "bwd")] = bwd
        try:
            times = _median_times(fns, repeats, 0.02, sync)
        finally:
            for m in inplace:
                m.inplace = True
        flops = _flops(module, out_shape)
        row = {
            "name": layer,
            "type": type(module).__name__,
            "output_shape": list(out_shape),
            "flops_fwd": flops,
            # the weight gradient costs a forward's FLOPs, the input gradient another (not for the first layer)
            "flops_bwd": flops * (1 if first else 2) if ("pycnn", "bwd") in fns else 0,
        }
        for name in libs:
            row[name] = _speed(times.get((name, "fwd")), times.get((name, "bwd")), row, peak)
        if "torch" in libs:
            p, t = row["pycnn"], row["torch"]
            row["ratio"] = {k: t[f"{k}_ms"] / p[f"{k}_ms"] for k in ("fwd", "bwd") if p[f"{k}_ms"] and t[f"{k}_ms"]}
        rows.append(row)
    return rows


def _speed(fwd_s, bwd_s, row, peak):
    out = {}
    for key, sec, flops in (("fwd", fwd_s, row["flops_fwd"]), ("bwd", bwd_s, row["flops_bwd"])):
        out[f"{key}_ms"] = sec * 1e3 if sec is not None else None
        gflops = flops / sec * 1e-9 if sec and flops else None
        out[f"{key}_gflops"] = gflops
        out[f"{key}_peak_pct"] = 100 * gflops / peak if gflops and peak else None
    return out


def run_bench(model="lenet5", batch=None, threads=None, mode="both", compare=None, device="cpu", repeats=5):
    """Measure one model; returns the JSON-ready report (machine, config, layers, model throughput).

    Args:
        model: a key of MODELS. batch: images per step (default: the model's usual batch).
        threads: CPU threads for pycnn (and torch); default: as set. mode: "train", "infer" or "both".
        compare: None or "torch" (ImportError when torch is not importable). device: "cpu" or "cuda[:N]".
        repeats: timed repeats per measurement (medians are reported).
    """
    if model not in MODELS:
        raise ValueError(f"[bench] unknown model {model!r}; expected one of {', '.join(MODELS)}")
    if batch is not None and batch < 1:
        raise ValueError(f"[bench] batch must be positive, got {batch}")
    if repeats < 1:
        raise ValueError(f"[bench] repeats must be positive, got {repeats}")
    if mode not in ("train", "infer", "both"):
        raise ValueError(f"[bench] mode must be train, infer or both, got {mode!r}")
    if str(device).startswith("cuda") and not cuda.is_available():
        raise RuntimeError("[bench] --device cuda: no CUDA device is available (pc.cuda.is_available() is False)")
    elif not str(device).startswith(("cpu", "cuda")):
        raise ValueError(f"[bench] device must be cpu or cuda[:N], got {device!r}")
    torch = import_torch() if compare == "torch" else None
    if compare not in (None, "torch"):
        raise ValueError(f"[bench] can only compare with torch, got {compare!r}")
    if torch is not None and str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("[bench] --compare torch on CUDA needs a CUDA build of torch")
    if threads is not None:
        set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
    threads = get_num_threads()
    builder, one, default_batch = MODELS[model]
    batch = batch or default_batch
    shape = (batch,) + one
    libs = {"pycnn": PYCNN} | ({"torch": torch} if torch is not None else {})
    syncs = {name: _sync_of(cuda if name == "pycnn" else lib, device) for name, lib in libs.items()}

    def sync():
        for s in syncs.values():
            s()

    info = machine_info(threads, device, torch)
    peak = info["fma_peak_gflops"] if not str(device).startswith("cuda") else None
    workloads = {name: Workload(lib, builder, shape, device=device) for name, lib in libs.items()}
    report = {
        "machine": info,
        "config": {
            "model": model,
            "batch": batch,
            "threads": threads,
            "mode": mode,
            "device": str(device),
            "repeats": repeats,
            "compare": compare,
        },
        "layers": _layer_rows(libs, workloads, mode, repeats, peak, sync),
        "model": {},
    }
    budget = 0.1
    if mode in ("train", "both"):
        for w in workloads.values():
            w.model.train()
        t = _median_times({n: w.train_step for n, w in workloads.items()}, repeats, budget, sync)
        report["model"]["train"] = _throughput(t, batch)
    if mode in ("infer", "both"):
        for w in workloads.values():
            w.model.eval()
        t = _median_times({n: w.infer for n, w in workloads.items()}, repeats, budget, sync)
        report["model"]["infer"] = _throughput(t, batch)
    return report


def _throughput(times, batch):
    out = {f"{name}_img_s": batch / t for name, t in times.items()}
    out |= {f"{name}_ms": t * 1e3 for name, t in times.items()}
    if "torch" in times:
        out["ratio"] = times["torch"] / times["pycnn"]
    return out


# ---------------------------------------------------------------------------------------------- printing


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def format_report(report):
    """The report as text: the machine, the per-layer table, the model's img/s (and ratios to torch)."""
    m, c = report["machine"], report["config"]
    torch = any("torch" in r for r in report["layers"])
    lines = [
        (
            f"pycnn {m['pycnn_version']} bench: {c['model']}, batch {c['batch']}, {c['threads']} threads, "
            f"{c['device']}, {c['repeats']} repeats (medians)"
        ),
        f"CPU: {m['cpu']} ({m['usable_cpus']} of {m['logical_cpus']} logical CPUs usable)",
        f"kernels: {m['simd_level']} (this CPU runs: {', '.join(m['simd_levels'])})",
        (
            f"FMA peak ({m['fma_peak_isa']} register-only loop): {m['fma_peak_gflops']:.0f} GFLOP/s on "
            f"{c['threads']} threads, {m['fma_peak_gflops_1thread']:.0f} on 1"
        ),
        f"torch: {m['torch_version'] or 'not compared'}" + (f"; GPU: {m['gpu']}" if "gpu" in m else ""),
        "",
    ]
    header = ["layer", "type", "output", "fwd ms", "bwd ms", "fwd GF/s", "bwd GF/s", "fwd %pk", "bwd %pk"]
    if torch:
        header += ["torch fwd ms", "torch bwd ms", "fwd x", "bwd x"]
    rows = []
    for r in report["layers"]:
        p = r["pycnn"]
        row = [r["name"], r["type"], "x".join(map(str, r["output_shape"]))]
        row += [_fmt(p["fwd_ms"], ".3f"), _fmt(p["bwd_ms"], ".3f"), _fmt(p["fwd_gflops"], ".1f")]
        row += [_fmt(p["bwd_gflops"], ".1f"), _fmt(p["fwd_peak_pct"], ".0f"), _fmt(p["bwd_peak_pct"], ".0f")]
        if torch:
            t, ratio = r["torch"], r.get("ratio", {})
            row += [_fmt(t["fwd_ms"], ".3f"), _fmt(t["bwd_ms"], ".3f")]
            row += [_fmt(ratio.get("fwd"), ".2f"), _fmt(ratio.get("bwd"), ".2f")]
        rows.append(row)
    lines += _table(header, rows)
    lines.append("")
    for kind, label in (("train", "training (SGD momentum step)"), ("infer", "inference (eval, no_grad)")):
        if kind not in report["model"]:
            continue
        v = report["model"][kind]
        text = f"{label}: pycnn {v['pycnn_img_s']:,.0f} img/s"
        if "torch_img_s" in v:
            text += f", torch {v['torch_img_s']:,.0f} img/s, ratio pycnn/torch {v['ratio']:.2f}x"
        lines.append(text)
    if torch:
        lines.append("(x: pycnn speed / torch speed, from one interleaved run; > 1 means pycnn is faster)")
    return "\n".join(lines)


def _table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths))]
    out += ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)) for r in rows]
    return out
