"""CUDA: with a GPU, round trips and matmul against the CPU (llm.c's validate_result), the pycnn.cuda API
(memory statistics, streams, seeds), tensors and modules moving between devices, pinned batches; without
one (or without a CUDA build), the queries say so and asking for a device raises a one-line RuntimeError.
Whole-model training on CUDA against the CPU is in test_cuda_models.py.
"""

import copy
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest

import pycnn as pc

from helpers import SUBPROCESS_CWD, randn

HAVE_CUDA = pc.cuda.is_available()


# ---------------------------------------------------------------- without a GPU (never skipped) ----


def test_queries_are_consistent():
    assert isinstance(pc.cuda.is_available(), bool)
    assert isinstance(pc.cuda.device_count(), int) and pc.cuda.device_count() >= 0
    assert pc.cuda.is_available() == (pc.cuda.device_count() > 0)
    if not pc.cuda.is_built():
        assert not pc.cuda.is_available() and pc.cuda.device_count() == 0


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
def test_no_gpu_reports_none():
    assert pc.cuda.is_available() is False
    assert pc.cuda.device_count() == 0


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
@pytest.mark.parametrize(
    "make",
    [
        lambda: pc.zeros(2).to("cuda"),
        lambda: pc.zeros(2).cuda(),
        lambda: pc.zeros(2, device="cuda"),
        lambda: pc.tensor([1.0], device="cuda"),
        lambda: pc.randn(2, 2).to("cuda:0"),
        lambda: pc.cuda.get_device_name(0),
    ],
    ids=["to", "cuda", "zeros_device", "tensor_device", "to_index", "device_name"],
)
def test_no_gpu_cuda_tensor_raises_clearly(make):
    with pytest.raises(RuntimeError) as info:
        make()
    msg = str(info.value)
    assert msg.startswith("[") and "CUDA" in msg, msg


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
def test_no_gpu_request_does_not_crash_the_interpreter():
    code = (
        "import pycnn as pc\n"
        "try:\n    pc.zeros(2).to('cuda')\nexcept RuntimeError as e:\n    print('OK', e)\n"
        "print(pc.cuda.is_available(), pc.cuda.device_count())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=SUBPROCESS_CWD
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK" in proc.stdout and "False 0" in proc.stdout


# ---------------------------------------------------------------- with a GPU ----


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_cuda_round_trip(dtype):
    a = randn(3, 5, 7, dtype=dtype, seed=1)
    t = pc.tensor(a).to("cuda")
    assert t.is_cuda and t.device == pc.device("cuda", 0) and t.dtype.numpy == dtype
    assert t.shape == a.shape
    back = t.to("cpu")
    assert not back.is_cuda
    np.testing.assert_array_equal(np.asarray(back), a)
    np.testing.assert_array_equal(np.asarray(pc.tensor(a).cuda().cpu()), a)
    assert "cuda" in repr(t)
    with pytest.raises((RuntimeError, BufferError)):
        memoryview(t._impl)  # the core's buffer protocol refuses device memory
    np.testing.assert_array_equal(np.asarray(t), a)  # while a Tensor hands NumPy a host copy


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
@pytest.mark.parametrize("shape", [(1, 1, 1), (17, 33, 9), (128, 256, 64), (300, 70, 513)])
def test_matmul_cuda_matches_cpu(shape):
    M, K, N = shape
    a, b = randn(M, K, dtype=np.float32, seed=2), randn(K, N, dtype=np.float32, seed=3)
    cpu = np.asarray(pc.tensor(a) @ pc.tensor(b))
    gpu = (pc.tensor(a).to("cuda") @ pc.tensor(b).to("cuda")).to("cpu")
    np.testing.assert_allclose(np.asarray(gpu), cpu, rtol=1e-4, atol=1e-4)


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
def test_matmul_cuda_gradients_match_cpu():
    a, b = randn(6, 4, seed=4), randn(4, 5, seed=5)
    grads = []
    for device in ("cpu", "cuda"):
        ta = pc.tensor(a, requires_grad=True)
        tb = pc.tensor(b, requires_grad=True)
        y = ta.to(device) @ tb.to(device)
        y.backward(pc.tensor(np.ones((6, 5))).to(device))
        grads.append((np.asarray(ta.grad), np.asarray(tb.grad)))
    for g_cpu, g_gpu in zip(*grads):
        # float64, K <= 6, but the GPU sums in another order (and with FMA): an entry near 0 needs an atol
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-12, atol=1e-13)


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
def test_mixed_devices_raise():
    with pytest.raises(RuntimeError, match=r"^\["):
        pc.randn(2, 3) @ pc.randn(3, 2).to("cuda")


# ---------------------------------------------------------------- the pycnn.cuda API without a GPU ----

NO_DEVICE_CALLS = {
    "synchronize": lambda: pc.cuda.synchronize(),
    "memory_allocated": lambda: pc.cuda.memory_allocated(),
    "max_memory_allocated": lambda: pc.cuda.max_memory_allocated(),
    "memory_reserved": lambda: pc.cuda.memory_reserved(),
    "max_memory_reserved": lambda: pc.cuda.max_memory_reserved(),
    "memory_stats": lambda: pc.cuda.memory_stats(),
    "reset_peak_memory_stats": lambda: pc.cuda.reset_peak_memory_stats(),
    "empty_cache": lambda: pc.cuda.empty_cache(),
    "set_device": lambda: pc.cuda.set_device(0),
    "Stream": lambda: pc.cuda.Stream(),
    "current_stream": lambda: pc.cuda.current_stream(),
    "get_device_name": lambda: pc.cuda.get_device_name(),
    "pin_memory": lambda: pc.zeros(3).pin_memory(),
    "empty_device": lambda: pc.empty(2, device="cuda"),
    "arange_device": lambda: pc.arange(4, device="cuda"),
    "zeros_like_device": lambda: pc.zeros_like(pc.ones(2), device="cuda"),
    "module_cuda": lambda: pc.nn.Linear(2, 3).cuda(),
    "layer_device": lambda: pc.nn.Conv2d(1, 2, 3, device="cuda"),
}


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
@pytest.mark.parametrize("name", sorted(NO_DEVICE_CALLS))
def test_no_gpu_api_raises_one_line(name):
    with pytest.raises(RuntimeError) as info:
        NO_DEVICE_CALLS[name]()
    msg = str(info.value)
    assert msg.startswith("[") and "\n" not in msg and "CUDA" in msg, msg


def test_out_of_range_index_raises_one_line():
    with pytest.raises(RuntimeError) as info:
        pc.cuda.synchronize(pc.cuda.device_count() + 3)
    msg = str(info.value)
    assert msg.startswith("[cuda.synchronize]") and "\n" not in msg, msg


def test_cpu_device_is_refused_by_cuda_calls():
    with pytest.raises(ValueError, match="CUDA device"):
        pc.cuda.synchronize("cpu")


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
def test_no_gpu_pinned_loader_warns_and_loads_unpinned():
    ds = pc.data.TensorDataset(pc.arange(10.0).reshape(10, 1), pc.arange(10))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import pycnn.data.dataloader as dl

        dl._warned_no_pinning = False  # warned once per process: make this test see it
        loader = pc.data.DataLoader(ds, batch_size=4, pin_memory=True)
    assert any("pin_memory" in str(w.message) for w in caught)
    assert loader.pin_memory is True
    batches = list(loader)
    assert len(batches) == 3 and not batches[0][0].is_pinned()


def test_manual_seed_seeds_the_cuda_generator_without_a_gpu():
    pc.cuda.manual_seed(123)
    assert pc.cuda.initial_seed() == 123
    pc.cuda.manual_seed_all(7)
    assert pc.cuda.initial_seed() == 7
    pc.manual_seed(5)  # seeds both generators, as torch.manual_seed does
    assert pc.cuda.initial_seed() == 5 and pc.initial_seed() == 5


def test_allow_tf32_defaults_to_false():
    assert pc.backends.cuda.matmul.allow_tf32 is False
    if hasattr(pc._C, "cuda_set_allow_tf32"):
        pc.backends.cuda.matmul.allow_tf32 = True
        try:
            # a core built without CUDA accepts the switch and keeps reading False (cuda_ops.h's stub)
            assert pc.backends.cuda.matmul.allow_tf32 is pc.cuda.is_built()
        finally:
            pc.backends.cuda.matmul.allow_tf32 = False
    else:
        with pytest.raises(RuntimeError, match="allow_tf32"):
            pc.backends.cuda.matmul.allow_tf32 = True


def test_cuda_without_index_means_the_current_device():
    assert pc.cuda.current_device() == 0
    assert pc.device("cuda") == pc.device("cuda", pc.cuda.current_device())
    assert str(pc.device("cuda:1")) == "cuda:1"


def test_cpu_side_of_the_device_api():
    a = pc.tensor([[1.0, 2.0]])
    assert not a.is_pinned() and not a.is_cuda and a.cpu() is a
    assert a.to(non_blocking=True, device="cpu") is a
    b = a.to(pc.zeros(1, dtype=pc.float64))  # dtype and device of another tensor
    assert b.dtype == pc.float64 and b.device == pc.device("cpu")
    assert pc.arange(3, device="cpu").tolist() == [0, 1, 2]
    assert pc.randint(0, 5, (4,), device="cpu").shape == (4,)
    assert pc.randperm(5, device="cpu").shape == (5,)
    assert pc.full_like(a, 3.0).tolist() == [[3.0, 3.0]]
    assert pc.empty_like(a).shape == (1, 2) and pc.randn_like(a).shape == (1, 2)
    assert pc.rand_like(a, dtype=pc.float64).dtype == pc.float64
    assert pc.zeros_like(a, device="cpu").device == pc.device("cpu")
    assert pc.as_tensor(a, device="cpu") is a


# The GPU paths of the trainer and of clip_grad_norm_ are device-agnostic code: run them on the CPU here.
def test_device_clip_path_matches_the_cpu_one():
    from pycnn.nn.utils import _clip_on_device

    for norm_type in (2.0, 1.0, 3.0, float("inf")):
        for max_norm in (0.5, 1e6):  # scaled down, and left alone (the coefficient is clamped to 1)
            grads = [randn(5, 4, dtype=np.float32, seed=30), randn(7, dtype=np.float32, seed=31)]
            a = [pc.zeros(g.shape, requires_grad=True) for g in grads]
            b = [pc.zeros(g.shape, requires_grad=True) for g in grads]
            for p, q, g in zip(a, b, grads):
                p.grad, q.grad = pc.tensor(g), pc.tensor(g)
            total_cpu = pc.nn.utils.clip_grad_norm_(a, max_norm, norm_type)
            total_dev = _clip_on_device([q.grad for q in b], max_norm, norm_type, False)
            assert float(total_dev) == pytest.approx(float(total_cpu), rel=1e-5)
            for p, q in zip(a, b):
                np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-7)


class _Watch(pc.train.Callback):
    """Records what each batch's callbacks see: the loss and the accuracy read back (or None)."""

    def __init__(self):
        self.seen = []

    def on_batch_end(self, trainer):
        self.seen.append((trainer.loss, trainer.batch_logs.get("acc")))


def test_trainer_device_sums_match_the_per_batch_reads(monkeypatch):
    x = randn(40, 1, 28, 28, dtype=np.float32, seed=32)
    y = np.random.default_rng(33).integers(0, 10, 40)
    ds = pc.data.TensorDataset(pc.tensor(x), pc.tensor(y))
    runs = {}
    for mode in ("host", "device"):
        if mode == "device":  # the GPU bookkeeping (training and validation), on CPU tensors
            monkeypatch.setattr(pc.train.Trainer, "_on_gpu", lambda self: True)
            monkeypatch.setattr(pc.Tensor, "is_cuda", property(lambda self: True))
        pc.manual_seed(0)
        model = pc.models.lenet5()
        opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        watch = _Watch()
        loader = pc.data.DataLoader(ds, batch_size=8)
        callbacks = [watch, pc.train.NaNGuard(), pc.train.GradientClipping(max_norm=10.0)]
        val_loader = pc.data.DataLoader(ds, batch_size=16)
        trainer = pc.train.Trainer(
            model, loader, val_loader, pc.nn.CrossEntropyLoss(), opt, epochs=2, callbacks=callbacks, log_every=2
        )
        runs[mode] = (trainer.fit(), watch.seen)
    (host_hist, host_seen), (dev_hist, dev_seen) = runs["host"], runs["device"]
    for h, d in zip(host_hist, dev_hist):
        assert d["train_loss"] == pytest.approx(h["train_loss"], rel=1e-6)
        assert d["train_acc"] == h["train_acc"] and d["val_acc"] == h["val_acc"]
        assert d["val_loss"] == pytest.approx(h["val_loss"], rel=1e-6)
    assert all(loss is not None for loss, _ in host_seen)  # the CPU reads every batch
    for i, ((h_loss, h_acc), (d_loss, d_acc)) in enumerate(zip(host_seen, dev_seen)):
        if i % 5 % 2 == 1:  # batches 2 and 4 of each 5-batch epoch are read
            assert d_loss == pytest.approx(h_loss, rel=1e-6) and d_acc == h_acc
        else:
            assert d_loss is None and d_acc is None


def test_batchnorm_count_mirror_on_cpu_tensors(monkeypatch):
    monkeypatch.setattr(pc.Tensor, "is_cuda", property(lambda self: True))  # take the GPU path on the CPU
    bn = pc.nn.BatchNorm2d(3, momentum=None)
    x = pc.tensor(randn(4, 3, 5, 5, dtype=np.float32, seed=34))
    for _ in range(3):
        bn(x)
    assert bn.num_batches_tracked.item() == 3
    state = copy.deepcopy(bn.state_dict())
    bn(x)
    bn.load_state_dict(state)  # the loaded count replaces the mirrored one
    bn(x)
    assert bn.num_batches_tracked.item() == 4
    bn.num_batches_tracked = pc.tensor(10)  # a replaced buffer is read again
    bn(x)
    assert bn.num_batches_tracked.item() == 11
    bn.reset_running_stats()
    bn(x)
    assert bn.num_batches_tracked.item() == 1


def test_trainer_log_every_is_checked():
    with pytest.raises(ValueError, match="log_every"):
        pc.train.Trainer(
            pc.nn.Linear(2, 2), [], None, pc.nn.MSELoss(), pc.optim.SGD([pc.zeros(1)], lr=0.1), log_every=0
        )


# ---------------------------------------------------------------- the pycnn.cuda API with a GPU ----

cuda = pytest.mark.cuda


@cuda
def test_device_queries_and_synchronize():
    assert isinstance(pc.cuda.get_device_name(), str) and pc.cuda.get_device_name(0)
    pc.cuda.set_device(0)
    assert pc.cuda.current_device() == 0
    pc.cuda.synchronize()
    pc.cuda.synchronize(0)
    pc.cuda.synchronize("cuda:0")
    assert pc.zeros(2, device="cuda").device == pc.device("cuda", 0)


@cuda
def test_memory_statistics_follow_tensors():
    pc.cuda.synchronize()
    before = pc.cuda.memory_allocated()
    t = pc.zeros(1 << 20, device="cuda")  # 4 MiB
    assert pc.cuda.memory_allocated() >= before + (4 << 20)
    assert pc.cuda.max_memory_allocated() >= pc.cuda.memory_allocated()
    assert pc.cuda.memory_reserved() >= pc.cuda.memory_allocated()
    assert pc.cuda.max_memory_reserved() >= pc.cuda.memory_reserved()
    stats = pc.cuda.memory_stats()
    assert {"allocated_bytes", "reserved_bytes", "driver_allocs"} <= set(stats)
    del t
    assert pc.cuda.memory_allocated() == before
    pc.cuda.reset_peak_memory_stats()
    assert pc.cuda.max_memory_allocated() == pc.cuda.memory_allocated()
    pc.cuda.empty_cache()
    assert pc.cuda.memory_reserved() >= pc.cuda.memory_allocated()


@cuda
def test_streams():
    default = pc.cuda.current_stream()
    s = pc.cuda.Stream()
    assert s != default
    a = randn(256, 128, seed=11)
    with pc.cuda.stream(s):
        assert pc.cuda.current_stream() == s
        t = pc.tensor(a, device="cuda")
        y = (t * 2.0 + 1.0).sum(1)
    assert pc.cuda.current_stream() == default
    s.synchronize()
    np.testing.assert_allclose(y.numpy(), (a * 2.0 + 1.0).sum(1), rtol=1e-5)
    with pc.cuda.stream(None):  # torch's no-op spelling
        pass
    del s


@cuda
def test_numpy_item_tolist_repr_of_a_cuda_tensor():
    a = randn(3, 4, seed=12)
    t = pc.tensor(a, device="cuda")
    host = t.numpy()
    np.testing.assert_array_equal(host, a)
    host[0, 0] = 1234.0  # a copy: the device tensor does not change
    assert t.numpy()[0, 0] == a[0, 0]
    assert t[1, 2].item() == pytest.approx(float(a[1, 2]))
    assert t.tolist() == a.tolist()
    assert "device='cuda:0'" in repr(t)
    assert pc.tensor(7, device="cuda").item() == 7


@cuda
def test_save_and_load_a_cuda_tensor():
    a = randn(2, 3, seed=13)
    buf = io.BytesIO()
    pc.save({"t": pc.tensor(a, device="cuda")}, buf)
    buf.seek(0)
    t = pc.load(buf)["t"]
    np.testing.assert_array_equal(t.cpu().numpy(), a)


@cuda
def test_to_device_gradient_comes_back():
    x = pc.tensor(randn(4, 5, seed=14), requires_grad=True)
    y = (x.to("cuda") * 3.0).sum()
    y.backward()
    assert x.grad.device == pc.device("cpu")
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 5), 3.0, np.float32))


@cuda
@pytest.mark.parametrize("dtype", [pc.float32, pc.float64])
def test_factories_on_the_device(dtype):
    checks = {
        "zeros": (pc.zeros(2, 3, dtype=dtype, device="cuda"), np.zeros((2, 3))),
        "ones": (pc.ones(2, 3, dtype=dtype, device="cuda"), np.ones((2, 3))),
        "full": (pc.full((2, 3), 2.5, dtype=dtype, device="cuda"), np.full((2, 3), 2.5)),
        "arange": (pc.arange(0, 3, 0.5, dtype=dtype, device="cuda"), np.arange(0, 3, 0.5)),
        "tensor": (pc.tensor([[1, 2]], dtype=dtype, device="cuda"), np.array([[1, 2]])),
    }
    base = pc.ones(2, 2, dtype=dtype, device="cuda")
    checks["zeros_like"] = (pc.zeros_like(base), np.zeros((2, 2)))
    checks["ones_like"] = (pc.ones_like(base), np.ones((2, 2)))
    checks["full_like"] = (pc.full_like(base, -1.0), -np.ones((2, 2)))
    for name, (t, expected) in checks.items():
        assert t.is_cuda and t.dtype == dtype, name
        np.testing.assert_array_equal(t.numpy(), expected.astype(dtype.numpy), err_msg=name)
    pc.manual_seed(3)
    r = pc.randn(5, 6, dtype=dtype, device="cuda").numpy()
    pc.manual_seed(3)
    np.testing.assert_array_equal(r, pc.randn(5, 6, dtype=dtype).numpy())  # same stream as the CPU
    for t in (pc.rand(3, device="cuda"), pc.empty(3, device="cuda"), pc.randint(0, 4, (3,), device="cuda")):
        assert t.is_cuda


@cuda
def test_to_variants_and_cuda_method():
    a = pc.tensor(randn(3, 3, seed=15))
    target = pc.zeros(1, dtype=pc.float64, device="cuda")
    b = a.to(target)
    assert b.is_cuda and b.dtype == pc.float64
    c = a.to("cuda", pc.float64)
    assert c.is_cuda and c.dtype == pc.float64
    assert a.cuda(0).device == pc.device("cuda:0") and a.cuda("cuda:0").is_cuda
    assert a.cuda().cuda() is not None and not a.cuda().cpu().is_cuda
    with pytest.raises(ValueError):
        a.cuda("cpu")
    p = a.pin_memory()
    assert p.is_pinned() and not a.is_pinned() and p.pin_memory().is_pinned()
    d = p.cuda(non_blocking=True)
    back = d.to("cpu", non_blocking=True)
    pc.cuda.synchronize()
    np.testing.assert_array_equal(back.numpy(), a.numpy())
    with pytest.raises(RuntimeError, match=r"^\[pin_memory\]"):
        d.pin_memory()


@cuda
def test_python_scalars_follow_the_tensor_device():
    t = pc.ones(3, device="cuda")
    for out in (t + 1.0, 2.0 * t, t - 1, 1.0 / t, t.maximum(0.5), t @ pc.ones(3, device="cuda")):
        assert out.is_cuda


@cuda
def test_mixed_devices_name_both():
    with pytest.raises(RuntimeError) as info:
        pc.ones(3) + pc.ones(3, device="cuda")
    msg = str(info.value)
    assert msg.startswith("[") and "cpu" in msg and "cuda:0" in msg, msg


@cuda
def test_module_to_keeps_parameter_identity_and_moves_buffers():
    model = pc.nn.Sequential(pc.nn.Conv2d(3, 4, 3), pc.nn.BatchNorm2d(4), pc.nn.ReLU())
    params = list(model.parameters())
    opt = pc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    assert model.cuda() is model
    assert all(p is q and p.is_cuda for p, q in zip(params, model.parameters()))
    assert all(b.is_cuda for b in model.buffers())
    x = pc.randn(2, 3, 8, 8, device="cuda")
    model(x).sum().backward()
    opt.step()
    assert all(p.is_cuda and p.grad.is_cuda for p in model.parameters())
    model.cpu()
    assert all(not p.is_cuda for p in model.parameters()) and all(not b.is_cuda for b in model.buffers())
    assert model[1].num_batches_tracked.item() == 1


@cuda
def test_layers_created_on_the_device():
    layers = [
        pc.nn.Conv2d(3, 4, 3, device="cuda"),
        pc.nn.Linear(4, 5, device="cuda"),
        pc.nn.BatchNorm2d(4, device="cuda"),
        pc.nn.LayerNorm(4, device="cuda"),
        pc.nn.GroupNorm(2, 4, device="cuda"),
    ]
    for layer in layers:
        tensors = list(layer.parameters()) + list(layer.buffers())
        assert tensors and all(t.is_cuda for t in tensors), type(layer).__name__


@cuda
def test_batchnorm_counts_batches_on_the_device():
    bn = pc.nn.BatchNorm2d(3, momentum=None).cuda()
    x = pc.randn(4, 3, 5, 5, device="cuda")
    for _ in range(3):
        bn(x)
    assert bn.num_batches_tracked.item() == 3
    state = copy.deepcopy(bn.state_dict())
    bn(x)
    bn.load_state_dict(state)  # the loaded count replaces the mirrored one
    bn(x)
    assert bn.num_batches_tracked.item() == 4
    ref = pc.nn.BatchNorm2d(3, momentum=None)
    for _ in range(4):
        ref(x.cpu())
    np.testing.assert_allclose(bn.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-5, atol=1e-6)


@cuda
def test_clip_grad_norm_on_the_device_matches_cpu():
    for norm_type in (2.0, 1.0, 3.0, float("inf")):
        grads = [randn(5, 4, dtype=np.float32, seed=20), randn(7, dtype=np.float32, seed=21)]
        results = {}
        for device in ("cpu", "cuda"):
            ps = [pc.zeros(g.shape, device=device, requires_grad=True) for g in grads]
            for p, g in zip(ps, grads):
                p.grad = pc.tensor(g, device=device)
            before = pc._C.cuda_host_transfer_count()
            total = pc.nn.utils.clip_grad_norm_(ps, 0.5, norm_type)
            if device == "cuda":
                assert pc._C.cuda_host_transfer_count() == before  # nothing read back
                assert total.is_cuda
            results[device] = (float(total), [p.grad.numpy() for p in ps])
        assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-5)
        for g_gpu, g_cpu in zip(results["cuda"][1], results["cpu"][1]):
            np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-5, atol=1e-6)


@cuda
def test_pinned_loader_batches_are_pinned():
    ds = pc.data.TensorDataset(pc.arange(40.0).reshape(10, 4), pc.arange(10))
    for workers in (0, 2):
        loader = pc.data.DataLoader(ds, batch_size=4, pin_memory=True, num_workers=workers)
        seen = []
        for x, y in loader:
            assert x.is_pinned() and y.is_pinned()
            seen.append(x.to("cuda", non_blocking=True))
        pc.cuda.synchronize()
        np.testing.assert_array_equal(np.concatenate([s.numpy() for s in seen]), np.arange(40.0).reshape(10, 4))


@cuda
@pytest.mark.parametrize("kind", ["dropout", "dropout2d"])
def test_cuda_dropout_is_reproducible_with_manual_seed(kind):
    fn = getattr(pc.nn.functional, kind)
    x = pc.ones(4, 8, 6, 6, device="cuda")
    pc.cuda.manual_seed(42)
    a = fn(x, 0.5, training=True).numpy()
    b = fn(x, 0.5, training=True).numpy()
    pc.cuda.manual_seed(42)
    c = fn(x, 0.5, training=True).numpy()
    pc.cuda.manual_seed(43)
    d = fn(x, 0.5, training=True).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b) and not np.array_equal(a, d)
    assert set(np.unique(a)) <= {0.0, 2.0} and 0.2 < (a == 0).mean() < 0.8


@cuda
def test_cuda_seed_does_not_shift_cpu_streams():
    pc.manual_seed(0)
    expected = pc.randn(3).numpy()
    pc.manual_seed(0)
    pc.nn.functional.dropout(pc.ones(10, device="cuda"), 0.5)  # draws from the CUDA generator only
    np.testing.assert_array_equal(pc.randn(3).numpy(), expected)


def test_replay_of_a_nonfinite_batch_keeps_the_batchnorm_count(monkeypatch):
    monkeypatch.setattr(pc.Tensor, "is_cuda", property(lambda self: True))  # BatchNorm's GPU count mirror
    model = pc.nn.Sequential(pc.nn.Conv2d(3, 4, 3), pc.nn.BatchNorm2d(4), pc.nn.Dropout(0.5))
    x = pc.tensor(randn(2, 3, 6, 6, dtype=np.float32, seed=35))
    model(x)
    model(x)
    state = pc.random.cuda_generator().get_state()
    assert pc.train.callbacks.find_nonfinite_layer(model, x, state) is None
    assert pc.random.cuda_generator().get_state() == state  # CUDA dropout's generator, restored
    model(x)
    assert model[1].num_batches_tracked.item() == 3  # the replay's count was undone, not mirrored


@pytest.mark.parametrize("op", ["eq", "ne"])
def test_eq_ne_are_core_comparisons(device, op):
    t = pc.tensor([1.0, 2.0, 3.0], device=device)
    want = np.array([False, True, False]) if op == "eq" else np.array([True, False, True])
    for other in (2.0, 2, pc.tensor([5.0, 2.0, 7.0], device=device), [5.0, 2.0, 7.0]):
        out = getattr(t, op)(other)
        assert out.dtype == pc.bool and out.device == t.device
        np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_array_equal(t[t == 2.0].numpy(), [2.0])  # a mask, as torch's bool result


@cuda
def test_eq_on_the_device_reads_nothing_back():
    t = pc.tensor([1.0, 2.0, 3.0], device="cuda")
    before = pc._C.cuda_host_transfer_count()
    out = (t == 2.0).sum() + (t != pc.ones(3, device="cuda")).sum()
    assert out.is_cuda and pc._C.cuda_host_transfer_count() == before
    assert out.item() == 3


def test_a_model_trained_on_the_gpu_path_deepcopies_and_pickles(monkeypatch):
    import pickle

    monkeypatch.setattr(pc.Tensor, "is_cuda", property(lambda self: True))  # BatchNorm's GPU count mirror
    bn = pc.nn.BatchNorm2d(3)
    x = pc.tensor(randn(2, 3, 4, 4, dtype=np.float32, seed=36))
    bn(x)
    for twin in (copy.deepcopy(bn), pickle.loads(pickle.dumps(bn))):
        twin(x)
        assert twin.num_batches_tracked.item() == 2
    bn(x)
    assert bn.num_batches_tracked.item() == 2


def test_summary_input_goes_where_the_model_is(device):
    model = pc.models.lenet5().to(device)
    rows = pc.summary(model, (2, 1, 28, 28), print_table=False)
    assert rows[-1]["output_shape"] == (2, 10)
    assert all(p.device == pc.device(device) for p in model.parameters())


def test_device_accepts_a_cuda_ordinal_as_torch_does():
    assert pc.device(1) == pc.device("cuda:1") and str(pc.device(0)) == "cuda:0"
    with pytest.raises(ValueError, match="non-negative"):
        pc.device(-1)
    with pytest.raises(ValueError, match="non-negative"):
        pc.device("cuda:-2")
    with pytest.raises(TypeError, match="CUDA ordinal"):
        pc.device(1.5)
    if not HAVE_CUDA:  # t.to(0) means cuda:0, so it asks for a GPU
        with pytest.raises(RuntimeError):
            pc.zeros(2).to(0)
