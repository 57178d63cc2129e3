"""Export of the zoo: per model, the seconds pc.export (the .pycnn program for C++) and pc.onnx.export take,
the files' sizes, the largest differences between the Python forward, the C++ program (pycnn::Program) and
onnxruntime, and the inference time of the Python forward (no_grad) against the C++ program's (batch 1,
224x224 for the ImageNet models, 32x32 for the CIFAR ones, 28x28 for LeNet-5).

    python benchmarks/bench_export.py [--models resnet18,vgg16] [--threads 2] [--batch 1] [--repeats 10]

The C++ time is pycnn::Program::run called through _C.Program (the interpreter's loop of core calls, no
Python per op), timed interleaved with the Python forward: each round runs both, and the table gives each
one's median. `pycnn-run MODEL IN OUT --repeat R` times the same from a standalone executable.

The table is COLUMNS, a list of (header, function(case) -> cell): add a column by appending one. A case is a
dict holding name, model (eval mode), x (the input), dir (a temporary folder) and whatever earlier columns
stored in it (``onnx_path`` after the export column, ``expected``: pycnn's output).
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

import pycnn as pc

from _common import print_table

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from helpers import excite

MODELS = {  # name -> input size
    "lenet5": 28,
    "alexnet": 224,
    "alexnet_original": 224,
    "zfnet": 224,
    "vgg11": 224,
    "vgg11_bn": 224,
    "vgg16": 224,
    "vgg16_bn": 224,
    "nin": 224,
    "googlenet": 224,
    "resnet18": 224,
    "resnet50": 224,
    "resnet20": 32,
    "resnet18_cifar": 32,
    "densenet121": 224,
    "squeezenet1_1": 224,
    "mobilenet_v2": 224,
}


def program_export(case):
    case["program_path"] = os.path.join(case["dir"], case["name"] + ".pycnn")
    t0 = time.perf_counter()
    pc.export(case["model"], case["x"], case["program_path"])
    return f"{time.perf_counter() - t0:.3f}"


def program_megabytes(case):
    return f"{os.path.getsize(case['program_path']) / 2**20:.1f}"


def cpp_max_diff(case):
    case["cpp"] = pc._C.Program.load(case["program_path"])
    got = pc.Tensor._make(case["cpp"].run([case["x"]._impl])[0]).numpy()
    return f"{float(np.abs(got - expected(case)).max()):.1e}"


def inference_ms(case):
    """Median ms of the Python forward and of the C++ program, timed in alternation (one round: one each)."""
    if "times" not in case:
        x, cpp, model = case["x"], case["cpp"], case["model"]
        python_ms, cpp_ms = [], []
        for _ in range(case["repeats"] + 1):  # the first round warms both up
            t0 = time.perf_counter()
            with pc.no_grad():
                model(x)
            t1 = time.perf_counter()
            cpp.run([x._impl])
            t2 = time.perf_counter()
            python_ms.append(1e3 * (t1 - t0))
            cpp_ms.append(1e3 * (t2 - t1))
        case["times"] = (float(np.median(python_ms[1:])), float(np.median(cpp_ms[1:])))
    return case["times"]


def python_ms(case):
    return f"{inference_ms(case)[0]:.2f}"


def cpp_ms(case):
    return f"{inference_ms(case)[1]:.2f}"


def cpp_over_python(case):
    py, cpp = inference_ms(case)
    return f"{cpp / py:.2f}"


def onnx_export(case):
    case["onnx_path"] = os.path.join(case["dir"], case["name"] + ".onnx")
    t0 = time.perf_counter()
    pc.onnx.export(case["model"], (case["x"],), case["onnx_path"], dynamic_axes={"input": [0], "output": [0]})
    return f"{time.perf_counter() - t0:.2f}"


def onnx_megabytes(case):
    return f"{os.path.getsize(case['onnx_path']) / 2**20:.1f}"


def onnx_max_diff(case):
    import onnxruntime as ort

    session = ort.InferenceSession(case["onnx_path"], providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": case["x"].numpy()})[0]
    return f"{float(np.abs(got - expected(case)).max()):.2e}"


def output_scale(case):
    return f"{float(np.abs(expected(case)).max()):.2e}"


def expected(case):
    if "expected" not in case:
        with pc.no_grad():
            case["expected"] = case["model"](case["x"]).numpy()
    return case["expected"]


COLUMNS = [
    ("export (s)", program_export),
    ("MB", program_megabytes),
    ("max |Python - C++|", cpp_max_diff),
    ("Python ms", python_ms),
    ("C++ ms", cpp_ms),
    ("C++ / Python", cpp_over_python),
    ("onnx export (s)", onnx_export),
    ("onnx MB", onnx_megabytes),
    ("max |pycnn - onnxruntime|", onnx_max_diff),
    ("max |pycnn|", output_scale),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated zoo names")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds of Python and C++ inference")
    args = parser.parse_args()
    pc.set_num_threads(args.threads)
    rows = []
    for name in args.models.split(","):
        size = MODELS[name]
        pc.manual_seed(0)
        model = excite(getattr(pc.models, name)()).eval()
        x = pc.randn(args.batch, 1 if name == "lenet5" else 3, size, size)
        with tempfile.TemporaryDirectory() as tmp:
            case = {"name": name, "model": model, "x": x, "dir": tmp, "repeats": args.repeats}
            rows.append([f"{name} ({size}x{size})"] + [fn(case) for _, fn in COLUMNS])
        print(" | ".join(rows[-1]), flush=True)
    print_table(f"zoo export, batch {args.batch}, {args.threads} threads", ["model"] + [h for h, _ in COLUMNS], rows)


if __name__ == "__main__":
    main()
