"""The NCCL backend (pycnn/distributed/_nccl.py). Without a GPU: finding and loading libnccl.so.2 and the clear
error when it is missing, the dtype and reduce-op tables against the group's and nccl.h's, the backend's calls
through a stand-in NCCL and CUDA driver at world size 1 (argument order, counts, codes, the device made
current, errors, waiting, abort), the real library's ctypes signatures up to ncclCommInitRank's error, and
init_process_group(backend="nccl") in an MPI singleton. With a GPU (@pytest.mark.cuda): every collective on
CUDA tensors against NumPy at world size 1, and at 2 ranks through mpirun when there are 2 GPUs.
"""

import ctypes
import ctypes.util
import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc
import pycnn.distributed as dist
from pycnn.distributed import _group, _nccl

from helpers import SUBPROCESS_CWD, mpirun

CODE_SIZE = {1: 1, 2: 4, 4: 8, 6: 2, 7: 4, 8: 8, 9: 2}  # ncclDataType_t -> bytes per element


def _subprocess_env(**extra):
    """The tests' environment for a child Python: it imports the same pycnn as this process."""
    root = str(Path(pc.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", **extra}


def _run_script(tmp_path, source, **env):
    script = tmp_path / "script.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=SUBPROCESS_CWD, env=_subprocess_env(**env), capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


# ------------------------------------------------------------------------------ loading the library ----
def test_is_available_is_a_bool():
    assert isinstance(_nccl.is_available(), bool)
    assert dist.is_nccl_available() is _nccl.is_available()


def test_missing_library_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PYCNN_NCCL_LIBRARY", "/nonexistent/libnccl.so.2")
    assert _nccl.is_available() is False
    assert dist.is_nccl_available() is False
    with pytest.raises(RuntimeError) as info:
        _nccl.load()
    msg = str(info.value)
    assert msg.startswith("[nccl] PYCNN_NCCL_LIBRARY=/nonexistent/libnccl.so.2"), msg
    assert "nvidia-nccl-cu13" in msg, msg


def test_library_that_is_not_nccl(monkeypatch, tmp_path):
    junk = tmp_path / "libjunk.so"
    junk.write_bytes(b"\x7fELF not really" * 8)
    monkeypatch.setenv("PYCNN_NCCL_LIBRARY", str(junk))
    with pytest.raises(RuntimeError, match=r"^\[nccl\] PYCNN_NCCL_LIBRARY=.*libjunk\.so"):
        _nccl.load()
    libm = ctypes.util.find_library("m")  # a real shared library without NCCL's functions
    if libm:
        monkeypatch.setenv("PYCNN_NCCL_LIBRARY", libm)
        with pytest.raises(RuntimeError, match="not an NCCL library"):
            _nccl.load()


def test_no_library_anywhere_names_the_package(monkeypatch):
    monkeypatch.delenv("PYCNN_NCCL_LIBRARY", raising=False)
    monkeypatch.setattr(_nccl, "candidates", lambda: ["/nonexistent/libnccl.so.2"])
    monkeypatch.setattr(_nccl, "_loaded", {})
    with pytest.raises(RuntimeError) as info:
        _nccl.load()
    msg = str(info.value)
    assert msg.startswith("[nccl] the NCCL library (libnccl.so.2) is not installed: pip install nvidia-nccl-cu13"), msg
    assert "/nonexistent/libnccl.so.2" in msg, msg


def test_candidates_search_the_package_first(monkeypatch, tmp_path):
    lib = tmp_path / "nvidia" / "nccl" / "lib" / "libnccl.so.2"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    had_nvidia = "nvidia" in sys.modules
    found = _nccl.candidates()
    assert str(lib) in found and found[-1] == "libnccl.so.2", found
    assert ("nvidia" in sys.modules) == had_nvidia  # found without importing it


@pytest.mark.skipif(not _nccl.is_available(), reason="the NCCL library is not installed (pip install nvidia-nccl-cu13)")
def test_installed_library_loads():
    lib = _nccl.load()
    assert _nccl.version(lib) >= 20400  # the oldest with ncclCommGetAsyncError and ncclCommAbort
    assert b"invalid argument" in lib.ncclGetErrorString(4)
    uid = _nccl._UniqueId()
    assert lib.ncclGetUniqueId(ctypes.byref(uid)) == 0
    assert any(bytes(uid)), "ncclGetUniqueId left the id all zero"


# ---------------------------------------------------------------------------------------- the tables ----
def _nccl_header():
    for path in _nccl.candidates()[:-1]:
        header = Path(path).parent.parent / "include" / "nccl.h"
        if header.is_file():
            return header.read_text()
    return None


def test_tables_cover_what_the_group_asks_for():
    assert set(_group.DTYPES) - {""} <= set(_nccl.NCCL_DTYPES)
    assert set(_group.REDUCE_OPS) - {""} <= set(_nccl.NCCL_OPS)
    # bool travels as uint8 bytes 0/1: its reductions must keep 0/1 (a uint8 sum could wrap to 0)
    assert _nccl.NCCL_DTYPES["bool"] == _nccl.NCCL_DTYPES["uint8"]
    assert set(_nccl.BOOL_OPS) == set(_group.REDUCE_OPS) - {"", "avg"}
    assert set(_nccl.BOOL_OPS.values()) <= {"min", "max"}
    assert len({v for k, v in _nccl.NCCL_DTYPES.items() if k != "bool"}) == len(_nccl.NCCL_DTYPES) - 1


@pytest.mark.skipif(_nccl_header() is None, reason="nccl.h is not installed (pip install nvidia-nccl-cu13)")
def test_tables_match_nccl_h():
    header = _nccl_header()
    values = {name: int(v) for name, v in re.findall(r"\b(nccl[A-Z]\w*)\s*=\s*(\d+)", header)}
    names = {"uint8": "Uint8", "int32": "Int32", "int64": "Int64", "float16": "Float16", "float32": "Float32",
             "float64": "Float64", "bfloat16": "Bfloat16", "bool": "Uint8"}  # fmt: skip
    for dtype, code in _nccl.NCCL_DTYPES.items():
        assert values["nccl" + names[dtype]] == code, dtype
    ops = {"sum": "Sum", "product": "Prod", "max": "Max", "min": "Min", "avg": "Avg"}
    for op, code in _nccl.NCCL_OPS.items():
        assert values["nccl" + ops[op]] == code, op
    assert values["ncclInProgress"] == _nccl._NCCL_IN_PROGRESS
    assert "NCCL_UNIQUE_ID_BYTES 128" in header and ctypes.sizeof(_nccl._UniqueId) == 128


# ------------------------------------------------- the backend through a stand-in NCCL and CUDA driver ----
class FakeCuda:
    """The driver calls the backend makes, on no GPU: counts how deep the device context is pushed; events
    become ready after `ready_after` queries (never when None)."""

    last = None

    def __init__(self, index):
        self.index, self.depth, self.ready_after, self.released = index, 0, 0, False
        self.events = {}
        FakeCuda.last = self

    def __enter__(self):
        self.depth += 1
        return self

    def __exit__(self, *exc):
        self.depth -= 1

    def record(self, stream):
        assert self.depth == 1
        event = len(self.events) + 1
        self.events[event] = self.ready_after
        return event

    def query(self, event):
        assert self.depth == 1
        left = self.events[event]
        if left is None:
            return False
        self.events[event] = left - 1
        return left <= 0

    def destroy(self, event):
        del self.events[event]

    def release(self):
        self.released = True


class FakeNccl:
    """NCCL with one rank, on host memory: a collective copies its send buffer into its receive buffer (what
    NCCL does at world size 1). Records each call with the depth of the device context at the time."""

    COMM = 0x5EED

    def __init__(self):
        self.calls, self.fail, self.async_error = [], {}, 0

    def _called(self, name, *args):
        args = tuple(a.value if isinstance(a, ctypes.c_void_p) else a for a in args)  # the communicator handle
        self.calls.append((name, args, FakeCuda.last.depth if FakeCuda.last else None))
        return self.fail.get(name, 0)

    def _copy(self, send, recv, count, dtype):
        if send != recv:
            ctypes.memmove(recv, send, count * CODE_SIZE[dtype])

    def ncclGetVersion(self, ref):
        ref._obj.value = 23206
        return 0

    def ncclGetUniqueId(self, ref):
        ctypes.memset(ctypes.addressof(ref._obj), 7, 128)
        return self._called("ncclGetUniqueId")

    def ncclCommInitRank(self, ref, nranks, uid, rank):
        ref._obj.value = self.COMM
        return self._called("ncclCommInitRank", nranks, bytes(uid)[:2], rank)

    def ncclAllReduce(self, send, recv, count, dtype, op, comm, stream):
        self._copy(send, recv, count, dtype)
        return self._called("ncclAllReduce", send, recv, count, dtype, op, comm, stream)

    def ncclBroadcast(self, send, recv, count, dtype, root, comm, stream):
        self._copy(send, recv, count, dtype)
        return self._called("ncclBroadcast", send, recv, count, dtype, root, comm, stream)

    def ncclAllGather(self, send, recv, count, dtype, comm, stream):
        self._copy(send, recv, count, dtype)
        return self._called("ncclAllGather", send, recv, count, dtype, comm, stream)

    def ncclReduceScatter(self, send, recv, count, dtype, op, comm, stream):
        self._copy(send, recv, count, dtype)
        return self._called("ncclReduceScatter", send, recv, count, dtype, op, comm, stream)

    def ncclCommGetAsyncError(self, comm, ref):
        ref._obj.value = self.async_error
        return 0

    def ncclCommAbort(self, comm):
        return self._called("ncclCommAbort", comm)

    def ncclCommDestroy(self, comm):
        return self._called("ncclCommDestroy", comm)

    def ncclGetErrorString(self, rc):
        return {1: b"unhandled cuda error", 5: b"invalid usage", 6: b"remote process exited"}.get(rc, b"?")


class FakeComm:
    """An mpi4py communicator of `size` ranks seen from `rank`; allgather answers with `others` for the rest."""

    def __init__(self, rank=0, size=1, others=None):
        self.rank, self.size, self.others = rank, size, others or {}

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def allgather(self, value):
        return [value if r == self.rank else self.others.get(r) for r in range(self.size)]

    def bcast(self, value, root=0):
        return value


class OnCuda:
    """A CPU core tensor presented as a CUDA one (the backend reads only these attributes)."""

    def __init__(self, t, device="cuda:0"):
        self.impl, self.device = t._impl, device
        self.data_ptr, self.dtype = t._impl.data_ptr, t._impl.dtype

    def numel(self):
        return self.impl.numel()


@pytest.fixture
def fake(monkeypatch):
    lib = FakeNccl()
    monkeypatch.setattr(_nccl, "load", lambda: lib)
    monkeypatch.setattr(_nccl, "_Cuda", FakeCuda)
    monkeypatch.setattr(_nccl, "_current_stream", lambda index: 0xC0FFEE + index)
    return lib


def _tensor(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return pc.tensor(rng.random(shape) < 0.5)
    if dtype in ("float32", "float64"):
        return pc.tensor(rng.standard_normal(shape).astype(dtype))
    return pc.tensor(rng.integers(1, 100, size=shape).astype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_backend_calls_nccl_with_the_right_arguments(fake, dtype):
    backend = _nccl.NcclBackend(None, FakeComm(), "cuda:1")
    cuda = FakeCuda.last
    assert cuda.index == 1 and fake.calls[0][0] == "ncclGetUniqueId"
    assert fake.calls[1] == ("ncclCommInitRank", (1, b"\x07\x07", 0), 1)  # the id as rank 0 made it, device current
    assert backend.device == "cuda:1" and dtype in backend.dtypes and "avg" in backend.native_ops
    x = _tensor(dtype, (3, 5), seed=1)
    code = _nccl.NCCL_DTYPES[dtype]
    stream = 0xC0FFEE + 1

    assert backend.all_reduce(OnCuda(x, "cuda:1"), "sum") is None
    op = _nccl.NCCL_OPS["max" if dtype == "bool" else "sum"]
    ptr = x._impl.data_ptr
    assert fake.calls[-1] == ("ncclAllReduce", (ptr, ptr, 15, code, op, FakeNccl.COMM, stream), 1)
    backend.broadcast(OnCuda(x, "cuda:1"), 0)
    assert fake.calls[-1] == ("ncclBroadcast", (ptr, ptr, 15, code, 0, FakeNccl.COMM, stream), 1)

    gathered = pc.tensor(np.zeros((1, 3, 5), x.numpy().dtype))
    backend.all_gather(OnCuda(gathered, "cuda:1"), OnCuda(x, "cuda:1"))
    np.testing.assert_array_equal(gathered.numpy()[0], x.numpy())
    assert fake.calls[-1][1][:4] == (ptr, gathered._impl.data_ptr, 15, code)

    out = pc.tensor(np.zeros((3, 5), x.numpy().dtype))
    backend.reduce_scatter(OnCuda(out, "cuda:1"), OnCuda(x, "cuda:1"), "product")
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    op = _nccl.NCCL_OPS["min" if dtype == "bool" else "product"]
    assert fake.calls[-1][1][:5] == (ptr, out._impl.data_ptr, 15, code, op)
    assert cuda.depth == 0
    backend.close()
    assert fake.calls[-1] == ("ncclCommDestroy", (FakeNccl.COMM,), 1) and cuda.released


def test_backend_errors_are_clear(fake):
    backend = _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    x = OnCuda(_tensor("float32", (4,), seed=2))
    fake.fail["ncclAllReduce"] = 5
    with pytest.raises(RuntimeError, match=r"^\[nccl\] ncclAllReduce failed: invalid usage \(result 5\)"):
        backend.all_reduce(x, "sum")
    with pytest.raises(RuntimeError, match=r"^\[nccl\] ncclBroadcast: a tensor is on cuda:3.*on cuda:0"):
        backend.broadcast(OnCuda(_tensor("float32", (4,), seed=2), "cuda:3"), 0)
    small = OnCuda(_tensor("float32", (3,), seed=3))
    with pytest.raises(RuntimeError, match=r"^\[nccl\] ncclAllGather: .* world_size=1"):
        backend.all_gather(small, x)
    with pytest.raises(RuntimeError, match=r"^\[nccl\] NCCL takes CUDA tensors, got a tensor on 'cpu'"):
        _nccl.NcclBackend(None, FakeComm(), "cpu")


def test_init_failures_reach_every_rank(fake):
    fake.fail["ncclCommInitRank"] = 1
    with pytest.raises(RuntimeError, match=r"^\[nccl\] ncclCommInitRank failed: unhandled cuda error"):
        _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    assert FakeCuda.last.released
    # another rank that cannot load NCCL: this rank raises too instead of waiting in ncclCommInitRank
    comm = FakeComm(rank=0, size=2, others={1: "[nccl] the NCCL library (libnccl.so.2) is not installed"})
    with pytest.raises(RuntimeError, match=r"^\[nccl\] rank 1 cannot start NCCL: .*not installed"):
        _nccl.NcclBackend(None, comm, "cuda:0")
    assert FakeCuda.last.released


def test_async_requests_wait_then_abort_at_the_deadline(fake):
    backend = _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    cuda, x = FakeCuda.last, OnCuda(_tensor("float64", (2, 3), seed=4))
    cuda.ready_after = 3
    request = backend.all_reduce(x, "avg", async_op=True)
    assert fake.calls[-1][1][4] == _nccl.NCCL_OPS["avg"]
    assert backend.wait(request, deadline=0.0) is False  # a past deadline only tests (Work.is_completed)
    assert backend.wait(request, deadline=time.monotonic() + 5) is True
    assert backend.wait(request, deadline=0.0) is True and not cuda.events  # completed: its event is freed

    cuda.ready_after = None  # a peer that never arrives
    request = backend.broadcast(x, 0, async_op=True)
    start = time.monotonic()
    assert backend.wait(request, deadline=start + 0.05) is False
    assert time.monotonic() - start < 2.0
    assert fake.calls[-1] == ("ncclCommAbort", (FakeNccl.COMM,), 1)
    with pytest.raises(RuntimeError, match=r"^\[nccl\] ncclAllReduce: the NCCL communicator is closed"):
        backend.all_reduce(x, "sum")
    backend.close()
    assert cuda.released and "ncclCommDestroy" not in [c[0] for c in fake.calls]


def test_async_nccl_error_aborts_and_raises(fake):
    backend = _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    FakeCuda.last.ready_after = None
    request = backend.all_reduce(OnCuda(_tensor("int64", (5,), seed=5)), "max", async_op=True)
    fake.async_error = 6
    with pytest.raises(RuntimeError, match=r"^\[nccl\] an earlier NCCL collective failed: remote process"):
        backend.wait(request, deadline=time.monotonic() + 5)
    assert fake.calls[-1][0] == "ncclCommAbort"


def test_old_nccl_stages_bfloat16_and_averages_as_sums(fake, monkeypatch):
    monkeypatch.setattr(_nccl, "version", lambda lib: 20708)
    backend = _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    assert "bfloat16" not in backend.dtypes and "avg" not in backend.native_ops


@pytest.mark.skipif(not _nccl.is_available(), reason="the NCCL library is not installed (pip install nvidia-nccl-cu13)")
@pytest.mark.skipif(pc.cuda.is_available(), reason="a GPU is present: ncclCommInitRank would succeed")
def test_real_library_reports_init_failure_without_a_gpu(monkeypatch):
    """The real libnccl through the declared signatures (the 128-byte id passed by value) up to its error."""
    monkeypatch.setattr(_nccl, "_Cuda", FakeCuda)
    with pytest.raises(RuntimeError, match=r"^\[nccl\] ncclCommInitRank failed: "):
        _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    assert FakeCuda.last.released


# ------------------------------------------------------------ the process group, world size 1 (no mpirun) ----
GROUP_SCRIPT = """
import types
import numpy as np
import pycnn as pc
import pycnn.distributed as dist
from pycnn.distributed import _group

dist.init_process_group(backend="nccl")
assert dist.get_backend() == "nccl" and dist.get_world_size() == 1 and dist.get_rank() == 0
x = pc.tensor(np.array([1.5, -2.0, 3.25], np.float32))
dist.all_reduce(x, op=dist.ReduceOp.AVG)
dist.broadcast(x, 0)
np.testing.assert_array_equal(x.numpy(), [1.5, -2.0, 3.25])
fake_cuda = types.SimpleNamespace(device="cuda:0")
try:
    _group.current("all_reduce").backend_for(fake_cuda, "all_reduce")
    raise SystemExit("NCCL started from /nonexistent")
except RuntimeError as e:
    print("nccl:", e)
dist.destroy_process_group()

dist.init_process_group(backend="mpi")
try:
    _group.current("all_reduce").backend_for(fake_cuda, "all_reduce")
    raise SystemExit("backend 'mpi' took a CUDA tensor")
except RuntimeError as e:
    assert "backend is 'mpi'" in str(e) and "backend='nccl'" in str(e), e
dist.destroy_process_group()
print("done")
"""


def test_process_group_with_backend_nccl_at_world_size_1(tmp_path):
    pytest.importorskip("mpi4py")
    out = _run_script(tmp_path, GROUP_SCRIPT, PYCNN_NCCL_LIBRARY="/nonexistent/libnccl.so.2")
    assert out.strip().endswith("done"), out
    assert "nccl: [nccl] PYCNN_NCCL_LIBRARY=/nonexistent" in out, out


# ----------------------------------------------------------------------------------------- on a GPU ----
# Every rank makes inputs for every rank from their seeds, so each checks the result against NumPy.
GPU_SCRIPT = """
import numpy as np
import pycnn as pc
import pycnn.distributed as dist

dist.init_process_group(backend="nccl")
rank, size = dist.get_rank(), dist.get_world_size()
device = f"cuda:{rank % pc.cuda.device_count()}"
NP = {"bfloat16": np.float32, "bool": np.bool_}
TOL = {"float16": 1e-2, "bfloat16": 5e-2}
REF = {"sum": np.sum, "avg": np.mean, "product": np.prod, "min": np.min, "max": np.max}


def inputs(dtype, shape, r, seed):
    rng = np.random.default_rng(1000 * seed + r)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in ("float32", "float64", "float16", "bfloat16"):
        return (rng.standard_normal(shape) + 0.5).astype(NP.get(dtype, dtype))
    return rng.integers(1, 6, size=shape).astype(dtype)


def on_gpu(a, dtype):
    return pc.tensor(a).to(getattr(pc, dtype)).to(device)


def host(t):
    return (t.float() if t.dtype == pc.bfloat16 else t).cpu().numpy()


def same(got, want, dtype, what):
    want = want.astype(got.dtype) if dtype != "bfloat16" else want
    tol = TOL.get(dtype, 1e-6 if dtype.startswith("float") else 0)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def reduce(op, arrays, dtype):
    if dtype == "bool":  # torch's rule: sum and max are "any", product and min "all"
        return np.any(arrays, 0) if op in ("sum", "max") else np.all(arrays, 0)
    return REF[op](np.stack(arrays).astype(np.float64), 0)


def finish(work):
    if work is not None:
        assert work.wait() is True and work.is_completed()


seed = 0
for dtype in ["float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "bool"]:
    zeros = lambda *shape: on_gpu(np.zeros(shape, NP.get(dtype, dtype)), dtype)  # noqa: E731
    ops = ["sum", "product", "min", "max"] + (["avg"] if dtype.startswith(("float", "bfloat")) else [])
    for op in ops:
        for async_op in (False, True):
            seed += 1
            every = [inputs(dtype, (3, 5), r, seed) for r in range(size)]
            t = on_gpu(every[rank], dtype)
            finish(dist.all_reduce(t, op=op, async_op=async_op))
            same(host(t), reduce(op, every, dtype), dtype, f"all_reduce {dtype} {op} async={async_op}")

            # rank q's input holds size blocks of 3 rows; rank r receives block r reduced over the ranks
            bigs = [inputs(dtype, (3 * size, 5), q, seed + 500) for q in range(size)]
            out = zeros(3, 5)
            finish(dist.reduce_scatter_tensor(out, on_gpu(bigs[rank], dtype), op=op, async_op=async_op))
            want = reduce(op, [b[3 * rank : 3 * rank + 3] for b in bigs], dtype)
            same(host(out), want, dtype, f"reduce_scatter_tensor {dtype} {op} async={async_op}")

    every = [inputs(dtype, (4, 3), r, seed) for r in range(size)]
    t = on_gpu(every[rank], dtype)
    finish(dist.broadcast(t, src=size - 1, async_op=True))
    same(host(t), every[size - 1], dtype, f"broadcast {dtype}")
    outs = [zeros(4, 3) for _ in range(size)]
    dist.all_gather(outs, on_gpu(every[rank], dtype))
    for r in range(size):
        same(host(outs[r]), every[r], dtype, f"all_gather {dtype} from rank {r}")
    big = zeros(4 * size, 3)
    finish(dist.all_gather_into_tensor(big, on_gpu(every[rank], dtype), async_op=True))
    same(host(big), np.concatenate(every), dtype, f"all_gather_into_tensor {dtype}")
    # rank q's list entry j goes to rank j
    lists = [[inputs(dtype, (2, 2), q, seed + 900 + j) for j in range(size)] for q in range(size)]
    out = zeros(2, 2)
    dist.reduce_scatter(out, [on_gpu(a, dtype) for a in lists[rank]], op="max")
    same(host(out), reduce("max", [lists[q][rank] for q in range(size)], dtype), dtype, f"reduce_scatter {dtype}")

# a non-contiguous tensor goes through a staging copy; an empty one moves nothing
a = inputs("float32", (4, 6), rank, 7777)
t = on_gpu(a, "float32").t()
dist.all_reduce(t)
same(host(t), np.sum([inputs("float32", (4, 6), r, 7777) for r in range(size)], 0).T, "float32", "transposed")
dist.all_reduce(on_gpu(np.zeros((0, 3), np.float32), "float32"))
pc.cuda.synchronize()
dist.barrier()
dist.destroy_process_group()

dist.init_process_group(backend="mpi")
try:
    dist.all_reduce(on_gpu(np.ones(3, np.float32), "float32"))
    raise SystemExit("backend 'mpi' took a CUDA tensor")
except RuntimeError as e:
    assert str(e).startswith("[all_reduce] the tensor is on cuda") and "backend='nccl'" in str(e), e
dist.destroy_process_group()
print(f"rank {rank}: done")
"""

needs_nccl = pytest.mark.skipif(not _nccl.is_available(), reason="NCCL is not installed (pip install nvidia-nccl-cu13)")


@pytest.mark.cuda
@needs_nccl
def test_gpu_backend_at_world_size_1_without_mpi():
    """The backend alone on real CUDA tensors, with a one-rank stand-in for the MPI communicator (runs where
    mpi4py is not installed)."""
    backend = _nccl.NcclBackend(None, FakeComm(), "cuda:0")
    try:
        for seed, dtype in enumerate(sorted(backend.dtypes)):
            host = _tensor("bool" if dtype == "bool" else "int64", (3, 5), seed)  # exact in every dtype
            want = host.numpy().astype(np.float64)
            x = host.to(getattr(pc, dtype)).to("cuda:0")
            ops = [op for op in backend.native_ops if op != "avg" or dtype.startswith(("float", "bfloat"))]
            for op in ops:
                assert backend.all_reduce(x._impl, op) is None
                request = backend.all_reduce(x._impl, op, async_op=True)
                assert backend.wait(request, deadline=time.monotonic() + 60) is True
            assert backend.broadcast(x._impl, 0) is None
            gathered = pc.zeros(1, 3, 5, dtype=getattr(pc, dtype), device="cuda:0")
            backend.all_gather(gathered._impl, x._impl)
            scattered = pc.zeros(3, 5, dtype=getattr(pc, dtype), device="cuda:0")
            request = backend.reduce_scatter(scattered._impl, gathered._impl, "sum", async_op=True)
            assert backend.wait(request, deadline=time.monotonic() + 60) is True
            for t in (x, gathered[0], scattered):
                np.testing.assert_array_equal(t.to(pc.float64).cpu().numpy(), want, err_msg=dtype)
        pc.cuda.synchronize()
    finally:
        backend.close()
    assert backend.cuda is None


@pytest.mark.cuda
@needs_nccl
def test_gpu_collectives_at_world_size_1(tmp_path):
    pytest.importorskip("mpi4py")
    out = _run_script(tmp_path, GPU_SCRIPT)
    assert "rank 0: done" in out, out


@pytest.mark.cuda
@needs_nccl
@pytest.mark.skipif(pc.cuda.device_count() < 2, reason="needs 2 GPUs")
def test_gpu_collectives_on_2_ranks(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(GPU_SCRIPT)
    done = mpirun([script], n=2, timeout=300, env=_subprocess_env())
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "rank 0: done" in done.stdout and "rank 1: done" in done.stdout, done.stdout
