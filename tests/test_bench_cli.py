"""`pycnn bench` (pycnn/bench.py, the bench subcommand of pycnn/cli.py) and the FMA-peak loop behind its
"% of peak" column: the JSON report's fields on LeNet-5 (a row with positive times for every leaf layer,
img/s, machine info), the comparison with torch when it is importable and the message when it is not, and
bad arguments. Small batches and one repeat keep it to a few seconds.
"""

import json
import sys

import numpy as np
import pytest

import pycnn as pc
from pycnn import bench as B
from pycnn.cli import main

try:
    import torch
except ImportError:
    torch = None

LENET_LEAVES = [str(i) for i in range(12)]  # nn.Sequential's children: conv, relu, pool, ..., linear


@pytest.fixture(autouse=True)
def restore_threads():
    """`pycnn bench --threads` sets pycnn's (and torch's) thread count for the process: put them back."""
    before = pc.get_num_threads(), torch.get_num_threads() if torch is not None else None
    yield
    pc.set_num_threads(before[0])
    if torch is not None:
        torch.set_num_threads(before[1])


def _run(tmp_path, *extra):
    out = tmp_path / "bench.json"
    code = main(["bench", "--model", "lenet5", "--batch", "8", "--repeats", "1", "--json", str(out), *extra])
    assert code == 0
    return json.loads(out.read_text())


def _check_report(report, libs):
    m = report["machine"]
    assert m["simd_level"] == pc._C.simd_level() and m["simd_level"] in m["simd_levels"]
    assert m["cpu"] and m["logical_cpus"] >= 1 and m["fma_peak_gflops"] > 0 and m["pycnn_version"]
    assert report["config"]["batch"] == 8 and report["config"]["model"] == "lenet5"
    rows = report["layers"]
    assert [r["name"] for r in rows] == LENET_LEAVES
    assert [r["type"] for r in rows[:3]] == ["Conv2d", "ReLU", "MaxPool2d"]
    for r in rows:
        for lib in libs:
            assert r[lib]["fwd_ms"] > 0 and r[lib]["bwd_ms"] > 0, (lib, r)
        if r["type"] in ("Conv2d", "Linear"):
            assert r["flops_fwd"] > 0 and r["pycnn"]["fwd_gflops"] > 0 and r["pycnn"]["fwd_peak_pct"] > 0
        else:
            assert r["flops_fwd"] == 0 and r["pycnn"]["fwd_gflops"] is None
    # conv1 at batch 8: 8 * 6 * 24 * 24 outputs, 25 multiply-adds each; its backward needs no input gradient
    assert rows[0]["flops_fwd"] == 2 * 8 * 6 * 24 * 24 * 25 and rows[0]["flops_bwd"] == rows[0]["flops_fwd"]
    assert rows[3]["flops_bwd"] == 2 * rows[3]["flops_fwd"]
    for kind in ("train", "infer"):
        for lib in libs:
            assert report["model"][kind][f"{lib}_img_s"] > 0


@pytest.mark.skipif(torch is None, reason="needs torch")
def test_bench_json_with_torch(tmp_path, capsys):
    report = _run(tmp_path, "--compare", "torch", "--threads", "1")
    _check_report(report, ["pycnn", "torch"])
    assert report["machine"]["torch_version"] == torch.__version__ and report["config"]["threads"] == 1
    for r in report["layers"]:
        assert r["ratio"]["fwd"] > 0 and r["ratio"]["bwd"] > 0
    for kind in ("train", "infer"):
        v = report["model"][kind]
        assert v["ratio"] == pytest.approx(v["pycnn_img_s"] / v["torch_img_s"])
    text = capsys.readouterr().out
    assert "FMA peak" in text and "ratio pycnn/torch" in text and "Conv2d" in text


def test_bench_without_torch_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    report = _run(tmp_path, "--compare", "torch")
    _check_report(report, ["pycnn"])
    assert "torch" not in report["layers"][0] and report["config"]["compare_skipped"]
    assert "--compare torch needs PyTorch, which is not importable" in capsys.readouterr().err


def test_bench_infer_mode_times_forward_only(tmp_path):
    report = _run(tmp_path, "--mode", "infer")
    assert set(report["model"]) == {"infer"}
    assert all(r["pycnn"]["fwd_ms"] > 0 and r["pycnn"]["bwd_ms"] is None for r in report["layers"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "resnet1000"], "invalid choice: 'resnet1000'"),
        (["--batch", "0"], "must be positive, got 0"),
        (["--repeats", "-1"], "must be positive, got -1"),
        (["--mode", "fast"], "invalid choice: 'fast'"),
        (["--compare", "tensorflow"], "invalid choice: 'tensorflow'"),
    ],
)
def test_bench_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", *argv])
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.skipif(pc.cuda.is_available(), reason="a CUDA device is present")
def test_bench_cuda_without_a_gpu(capsys):
    assert main(["bench", "--device", "cuda", "--repeats", "1"]) == 1
    assert "pycnn bench: error: [bench] --device cuda: no CUDA device is available" in capsys.readouterr().err


def test_bench_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "--compare" in out and "mobilenet_v2_cifar" in out
    with pytest.raises(SystemExit) as e:
        main(["--help"])  # the subcommand's one-line help goes through %-formatting too
    assert e.value.code == 0 and "% of FMA peak" in capsys.readouterr().out


def test_run_bench_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^\[bench\] unknown model"):
        B.run_bench(model="nope")
    with pytest.raises(ValueError, match=r"^\[bench\] batch must be positive"):
        B.run_bench(batch=0)
    with pytest.raises(ValueError, match=r"^\[bench\] device must be"):
        B.run_bench(device="tpu")


def _count(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


def test_builders_match_the_zoo_and_torch():
    assert _count(B.resnet18_cifar(pc.nn)) == _count(pc.models.resnet18_cifar()) == 11_173_962
    assert _count(B.mobilenet_v2_cifar(pc.nn)) == 2_236_682
    if torch is not None:
        for name, (builder, one, _) in B.MODELS.items():
            assert _count(builder(torch.nn)) == _count(builder(pc.nn)), name
            with torch.no_grad():
                assert tuple(builder(torch.nn)(torch.zeros((2,) + one)).shape) == (2, 10), name


def test_fma_peak():
    assert pc._C._fma_peak_gflops(1, 0.02) > 0
    assert pc._C._fma_peak_isa() in ("avx512f", "avx2+fma", "baseline")
    for threads, seconds in ((0, 0.1), (1, 0.0), (1, -1.0), (1, 100.0)):
        with pytest.raises(ValueError, match=r"^\[fma_peak_gflops\]"):
            pc._C._fma_peak_gflops(threads, seconds)
