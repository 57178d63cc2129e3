"""DLPack exchange (pycnn/_dlpack.py, Tensor.__dlpack__, csrc/bindings/dlpack.cpp): memory shared both ways with
NumPy and PyTorch (a write on one side is seen on the other), views exported as they are, every dtype, the
lifetime rules (the producer's deleter runs once, when the last view dies), copy= and read-only sources, and
hand-made capsules (ctypes) for what libraries never produce: a used or misnamed capsule, DLPack 2.x, vector
lanes, overflowing shapes, a byte_offset.
"""

import ctypes
import gc
import sys
import weakref

import numpy as np
import pytest

import pycnn as pc

# ---- hand-made capsules: the DLPack 1.x structs, as the spec lays them out -----------------------------------
c_i64p = ctypes.POINTER(ctypes.c_int64)


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", DLDataType),
        ("shape", c_i64p),
        ("strides", c_i64p),
        ("byte_offset", ctypes.c_uint64),
    ]


DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [
        ("major", ctypes.c_uint32),
        ("minor", ctypes.c_uint32),
        ("manager_ctx", ctypes.c_void_p),
        ("deleter", DELETER),
        ("flags", ctypes.c_uint64),
        ("dl_tensor", DLTensor),
    ]


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_void_p]
NAMES = {n: ctypes.create_string_buffer(n) for n in (b"dltensor_versioned", b"dltensor", b"my_tensor")}


class HandMade:
    """A versioned capsule over a float32 buffer, with a deleter that counts its calls. Keeps every piece alive."""

    def __init__(self, values, shape, strides, byte_offset=0, name=b"dltensor_versioned", **fields):
        self.buffer = np.array(values, dtype=np.float32)  # a copy: the test compares with values
        self.shape = (ctypes.c_int64 * len(shape))(*shape)
        self.strides = (ctypes.c_int64 * len(strides))(*strides)
        self.deleted = 0
        self.deleter = DELETER(self._delete)
        dtype = DLDataType(fields.pop("code", 2), fields.pop("bits", 32), fields.pop("lanes", 1))
        device = DLDevice(fields.pop("device_type", 1), 0)
        tensor = DLTensor(self.buffer.ctypes.data, device, len(shape), dtype, self.shape, self.strides, byte_offset)
        self.managed = DLManagedTensorVersioned(fields.pop("major", 1), 1, None, self.deleter, 0, tensor)
        self.capsule = _capsule_new(ctypes.addressof(self.managed), ctypes.addressof(NAMES[name]), None)

    def _delete(self, _):
        self.deleted += 1


def name_of(capsule):
    return _capsule_name(capsule).decode()


def managed_of(capsule):
    """The DLManagedTensorVersioned a capsule holds (read, never consumed)."""
    address = _capsule_pointer(capsule, ctypes.addressof(NAMES[b"dltensor_versioned"]))
    return DLManagedTensorVersioned.from_address(address)


def rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# dtype name -> a NumPy array of it, awkward values included
def sample(dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random((3, 5)) > 0.5
    if dtype in ("uint8", "int32", "int64"):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, (3, 5), dtype=dtype, endpoint=True)
    return (rng.standard_normal((3, 5)) * 100).astype(dtype)


NUMPY_DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]


# ---- NumPy -> pycnn -------------------------------------------------------------------------------------------
def test_numpy_to_pycnn_shares_memory():
    a = rand(3, 4)
    t = pc.from_dlpack(a)
    assert t.shape == (3, 4) and t.dtype == pc.float32 and t.data_ptr() == a.ctypes.data
    t.add_(1.5)
    np.testing.assert_array_equal(a, rand(3, 4) + np.float32(1.5))
    t[1].copy_(pc.tensor([9.0, 8.0, 7.0, 6.0]))
    np.testing.assert_array_equal(a[1], [9, 8, 7, 6])


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_every_dtype_from_and_to_numpy(dtype):
    a = sample(dtype)
    t = pc.from_dlpack(a)
    assert t.dtype.name == dtype and t.data_ptr() == a.ctypes.data
    np.testing.assert_array_equal(t.numpy(), a)
    b = np.from_dlpack(t)
    assert b.dtype == a.dtype and b.ctypes.data == a.ctypes.data
    np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize(
    "view",
    [lambda a: a.T, lambda a: a[1:, ::2], lambda a: a[2:5, 3], lambda a: a[::3, 1::2].T, lambda a: a[4:, 5:]],
    ids=["transposed", "stepped", "offset-column", "stepped-transposed", "offset"],
)
def test_numpy_views_keep_their_strides(view):
    base = rand(6, 7)
    a = view(base)
    t = pc.from_dlpack(a)
    assert t.shape == a.shape and t.stride() == tuple(s // 4 for s in a.strides) and t.data_ptr() == a.ctypes.data
    np.testing.assert_array_equal(t.numpy(), a)
    t.mul_(-2.0)  # written through the view: the base sees it, and only where the view looks
    expected = rand(6, 7)
    view(expected)[...] *= -2
    np.testing.assert_array_equal(base, expected)


def test_producer_deleted_first_and_deleter_once():
    a = rand(64, 3)
    refs = sys.getrefcount(a)
    t = pc.from_dlpack(a)
    assert sys.getrefcount(a) == refs + 1  # NumPy's capsule holds the array until pycnn calls the deleter
    v = t[5:]
    del t
    gc.collect()
    assert sys.getrefcount(a) == refs + 1  # a view of the memory still holds it
    del v
    gc.collect()
    assert sys.getrefcount(a) == refs  # released once: twice would have dropped a reference too many

    freed = []
    b = rand(64, 3, seed=1)
    t = pc.from_dlpack(b)
    import_of_b = t.clone().numpy()
    ref = weakref.finalize(b, freed.append, 1)
    del b
    gc.collect()
    assert not freed and ref.alive  # the producer is gone, its memory is still valid
    np.testing.assert_array_equal(t.numpy(), import_of_b)
    del t
    gc.collect()
    assert freed == [1]


def test_read_only_numpy_is_copied_or_refused():
    a = rand(4, 5)
    a.flags.writeable = False
    t = pc.from_dlpack(a)
    assert t.data_ptr() != a.ctypes.data
    np.testing.assert_array_equal(t.numpy(), a)
    t.fill_(0.25)  # pycnn's copy is writable; the source is untouched
    np.testing.assert_array_equal(a, rand(4, 5))
    with pytest.raises(BufferError, match=r"^\[from_dlpack\] the source is read-only"):
        pc.from_dlpack(a, copy=False)


def test_copy_argument_on_import():
    a = rand(3, 3)
    t = pc.from_dlpack(a, copy=True)
    assert t.data_ptr() != a.ctypes.data
    t.zero_()
    np.testing.assert_array_equal(a, rand(3, 3))
    shared = pc.from_dlpack(a, copy=False)
    assert shared.data_ptr() == a.ctypes.data
    with pytest.raises(TypeError, match=r"^\[from_dlpack\] copy must be True, False or None, got 1"):
        pc.from_dlpack(a, copy=1)


def test_device_argument_on_import():
    a = rand(2, 3)
    assert pc.from_dlpack(a, device="cpu").data_ptr() == a.ctypes.data


def test_zero_dim_and_empty_both_ways():
    a = np.array(3.25, dtype=np.float32)
    t = pc.from_dlpack(a)
    assert t.shape == () and t.item() == 3.25
    b = np.from_dlpack(pc.tensor(-1.5))
    assert b.shape == () and b == -1.5
    for shape in [(0, 3), (2, 0, 4), (0,)]:
        assert pc.from_dlpack(np.zeros(shape, np.float32)).shape == shape
        assert np.from_dlpack(pc.zeros(*shape)).shape == shape


def test_unsupported_sources_are_refused_by_name():
    with pytest.raises(TypeError, match=r"^\[from_dlpack\] unsupported DLPack dtype \(code=5, bits=64\)"):
        pc.from_dlpack(np.zeros(3, np.complex64))
    with pytest.raises(TypeError, match=r"^\[from_dlpack\] unsupported DLPack dtype \(code=0, bits=16\)"):
        pc.from_dlpack(np.zeros(3, np.int16))
    a = rand(4, 3)
    refs = sys.getrefcount(a)
    with pytest.raises(ValueError, match=r"^\[from_dlpack\] negative stride -3 in dim 0"):
        pc.from_dlpack(a[::-1])
    gc.collect()
    assert sys.getrefcount(a) == refs  # the refused capsule still released the array
    with pytest.raises(TypeError, match=r"^\[from_dlpack\] expected an object with __dlpack__.*got list"):
        pc.from_dlpack([1.0, 2.0])


# ---- pycnn -> NumPy -------------------------------------------------------------------------------------------
def test_pycnn_to_numpy_shares_memory():
    t = pc.tensor(rand(3, 4))
    a = np.from_dlpack(t)
    assert a.ctypes.data == t.data_ptr() and a.flags.writeable
    a[0, :] = [1, 2, 3, 4]
    np.testing.assert_array_equal(t[0].numpy(), [1, 2, 3, 4])


@pytest.mark.parametrize(
    "view",
    [lambda t: t.t(), lambda t: t[1:, ::2], lambda t: t[2:5, 3], lambda t: t.permute(1, 0)[::2, 2:], lambda t: t[4:]],
    ids=["transposed", "stepped", "offset-column", "permuted-stepped", "offset"],
)
def test_pycnn_views_export_as_they_are(view):
    base = pc.tensor(rand(6, 7))
    t = view(base)
    a = np.from_dlpack(t)
    assert a.shape == t.shape and a.strides == tuple(4 * s for s in t.stride()) and a.ctypes.data == t.data_ptr()
    np.testing.assert_array_equal(a, t.numpy())
    a[...] = 7.0
    np.testing.assert_array_equal(t.numpy(), np.full(t.shape, 7.0, np.float32))
    assert (base.numpy() == 7.0).sum() == t.numel()  # nothing outside the view was written


def test_export_keeps_the_storage_alive():
    t = pc.tensor(rand(32, 2))
    impl = t._impl
    users = impl._storage_use_count
    a = np.from_dlpack(t)
    assert impl._storage_use_count == users + 1
    del t, impl
    gc.collect()
    np.testing.assert_array_equal(a, rand(32, 2))  # the array alone keeps pycnn's memory
    t = pc.tensor(rand(2, 2))
    users = t._impl._storage_use_count
    capsule = t.__dlpack__()
    assert t._impl._storage_use_count == users + 1
    del capsule  # never consumed: its destructor releases the tensor
    assert t._impl._storage_use_count == users


def test_capsule_names_and_versions():
    t = pc.tensor(rand(2, 3))
    assert name_of(t.__dlpack__()) == "dltensor"  # a consumer without max_version is a legacy one
    assert name_of(t.__dlpack__(max_version=(0, 8))) == "dltensor"
    versioned = t.__dlpack__(max_version=(1, 0))
    assert name_of(versioned) == "dltensor_versioned"
    back = pc.from_dlpack(versioned)
    assert name_of(versioned) == "used_dltensor_versioned" and back.data_ptr() == t.data_ptr()
    legacy = t.__dlpack__()
    assert pc.from_dlpack(legacy).data_ptr() == t.data_ptr() and name_of(legacy) == "used_dltensor"
    assert t.__dlpack_device__() == (1, 0)
    assert pc.from_dlpack(t).data_ptr() == t.data_ptr()  # pycnn to pycnn, through the protocol
    with pytest.raises(RuntimeError, match=r"^\[__dlpack__\] can't export a tensor that requires grad"):
        np.from_dlpack(pc.zeros(2, requires_grad=True))
    for asked, given in [((1, 0), (1, 0)), ((1, 7), (1, 1)), ((2, 0), (1, 1))]:
        capsule = t.__dlpack__(max_version=asked)  # alive while its struct is read
        m = managed_of(capsule)
        assert (m.major, m.minor) == given and m.flags == 0 and m.dl_tensor.byte_offset == 0
    capsule = t.__dlpack__(max_version=(1, 0), copy=True)
    copied = managed_of(capsule)
    assert copied.flags == 2 and copied.dl_tensor.data != t.data_ptr()  # IS_COPIED


def test_copy_and_device_arguments_on_export():
    t = pc.tensor(rand(3, 2))
    a = np.from_dlpack(t, copy=True)
    assert a.ctypes.data != t.data_ptr()
    a[...] = 0
    np.testing.assert_array_equal(t.numpy(), rand(3, 2))
    assert np.from_dlpack(t, copy=False).ctypes.data == t.data_ptr()
    assert pc.from_dlpack(t.__dlpack__(max_version=(1, 0), dl_device=(1, 0))).data_ptr() == t.data_ptr()
    with pytest.raises(BufferError, match=r"^\[__dlpack__\] cannot export to DLPack device type 4"):
        t.__dlpack__(dl_device=(4, 0))
    with pytest.raises(ValueError, match=r"^\[__dlpack__\] stream must be None for a CPU tensor, got 1"):
        t.__dlpack__(stream=1)
    with pytest.raises(TypeError, match=r"^\[__dlpack__\] copy must be True, False or None, got 'yes'"):
        t.__dlpack__(copy="yes")
    with pytest.raises(TypeError, match=r"^\[__dlpack__\] max_version must be a tuple of two ints"):
        t.__dlpack__(max_version=1)


# ---- hand-made capsules ---------------------------------------------------------------------------------------
def test_byte_offset_and_deleter_of_a_hand_made_capsule():
    values = rand(12)
    made = HandMade(values, shape=(2, 3), strides=(1, 2), byte_offset=8)  # from element 2, column-major
    t = pc.from_dlpack(made.capsule)
    assert name_of(made.capsule) == "used_dltensor_versioned"
    np.testing.assert_array_equal(t.numpy(), values[2:8].reshape(3, 2).T)
    t.mul_(3.0)
    np.testing.assert_array_equal(made.buffer[2:8], values[2:8] * np.float32(3))
    view = t[1]
    del t
    gc.collect()
    assert made.deleted == 0
    del view
    gc.collect()
    assert made.deleted == 1


@pytest.mark.parametrize(
    "fields, exc, message",
    [
        ({"major": 2}, BufferError, r"DLPack version 2\.1 is not supported"),
        ({"lanes": 4}, TypeError, r"vector elements \(lanes=4\)"),
        ({"bits": 24}, TypeError, r"code=2, bits=24"),
        ({"device_type": 4}, BufferError, r"unsupported DLPack device type 4"),
        ({"shape": (2**62, 3), "strides": (3, 1)}, ValueError, r"size too large: 4611686018427387903 \* 3"),
        ({"shape": (2, -3), "strides": (3, 1)}, ValueError, r"negative size -3 in dim 1"),
        ({"name": b"my_tensor"}, ValueError, r"named 'dltensor_versioned' or 'dltensor', got 'my_tensor'"),
    ],
    ids=["version-2", "lanes", "bits", "device", "overflow", "negative-size", "name"],
)
def test_bad_capsules_are_refused_and_not_consumed(fields, exc, message):
    shape, strides = fields.pop("shape", (2, 3)), fields.pop("strides", (3, 1))
    made = HandMade(rand(6), shape, strides, **fields)
    with pytest.raises(exc, match=r"^\[from_dlpack\] .*" + message):
        pc.from_dlpack(made.capsule)
    assert made.deleted == 0 and name_of(made.capsule) == fields.get("name", b"dltensor_versioned").decode()


class LegacyProducer:
    """A producer from before DLPack 1.0: __dlpack__ takes only stream, and there is no __dlpack_device__."""

    def __init__(self, tensor):
        self.tensor = tensor
        self.calls = []

    def __dlpack__(self, stream=None):
        self.calls.append(stream)
        return self.tensor.__dlpack__(stream=stream)


def test_a_legacy_producer_gets_the_legacy_call():
    ours = pc.tensor(rand(3, 4))
    producer = LegacyProducer(ours)
    t = pc.from_dlpack(producer)
    assert producer.calls == [None] and t.data_ptr() == ours.data_ptr()
    copied = pc.from_dlpack(producer, copy=True)  # a legacy capsule cannot say IS_COPIED: pycnn copies
    assert copied.data_ptr() != ours.data_ptr()
    np.testing.assert_array_equal(copied.numpy(), ours.numpy())


def test_a_used_capsule_is_refused():
    capsule = pc.tensor(rand(2)).__dlpack__(max_version=(1, 0))
    pc.from_dlpack(capsule)
    with pytest.raises(ValueError, match=r"^\[from_dlpack\] the capsule was already consumed.*'used_dltensor_versio"):
        pc.from_dlpack(capsule)


# ---- PyTorch, both ways ---------------------------------------------------------------------------------------
TORCH_DTYPES = NUMPY_DTYPES + ["bfloat16"]


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_every_dtype_with_torch(dtype):
    torch = pytest.importorskip("torch")
    src = torch.from_numpy(sample("float32")).to(getattr(torch, dtype)) if dtype == "bfloat16" else None
    src = torch.from_numpy(sample(dtype)) if src is None else src
    t = pc.from_dlpack(src)
    assert t.dtype.name == dtype and t.data_ptr() == src.data_ptr() and t.shape == tuple(src.shape)
    back = torch.from_dlpack(t)
    assert back.dtype == src.dtype and back.data_ptr() == src.data_ptr()
    assert torch.equal(back, src)


def test_torch_shares_memory_both_ways():
    torch = pytest.importorskip("torch")
    src = torch.from_numpy(rand(4, 5))
    t = pc.from_dlpack(src)
    t.sub_(1.0)
    np.testing.assert_array_equal(src.numpy(), rand(4, 5) - np.float32(1))
    ours = pc.tensor(rand(4, 5, seed=2))
    theirs = torch.utils.dlpack.from_dlpack(ours)
    theirs[2].fill_(-4.0)
    np.testing.assert_array_equal(ours[2].numpy(), [-4.0] * 5)
    legacy = torch.utils.dlpack.to_dlpack(torch.from_numpy(rand(3, seed=3)))
    assert name_of(legacy) == "dltensor"
    np.testing.assert_array_equal(pc.from_dlpack(legacy).numpy(), rand(3, seed=3))


def test_torch_views_both_ways():
    torch = pytest.importorskip("torch")
    base = torch.from_numpy(rand(6, 8))
    src = base.t()[1::2, 2:]
    t = pc.from_dlpack(src)
    assert t.stride() == src.stride() and t.data_ptr() == src.data_ptr()
    np.testing.assert_array_equal(t.numpy(), src.numpy())
    ours = pc.tensor(rand(6, 8)).transpose(0, 1)[::3, 1:]
    theirs = torch.from_dlpack(ours)
    assert theirs.stride() == ours.stride() and theirs.data_ptr() == ours.data_ptr()
    np.testing.assert_array_equal(theirs.numpy(), ours.numpy())


def test_torch_lifetime():
    torch = pytest.importorskip("torch")
    ours = pc.tensor(rand(16, 4))
    users = ours._impl._storage_use_count
    theirs = torch.from_dlpack(ours)
    assert ours._impl._storage_use_count == users + 1
    del theirs
    gc.collect()
    assert ours._impl._storage_use_count == users  # torch ran pycnn's deleter once
    src = torch.from_numpy(rand(16, 4))
    t = pc.from_dlpack(src)
    del src
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), rand(16, 4))


# ---- CUDA -----------------------------------------------------------------------------------------------------
@pytest.mark.cuda
def test_cuda_both_ways_with_torch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA")
    ours = pc.tensor(rand(5, 6)).cuda()
    assert ours.__dlpack_device__() == (2, 0)
    theirs = torch.from_dlpack(ours)
    assert theirs.is_cuda and theirs.data_ptr() == ours.data_ptr()
    theirs.mul_(2)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(ours.cpu().numpy(), rand(5, 6) * np.float32(2))
    src = torch.arange(12, dtype=torch.float32, device="cuda").reshape(3, 4).t()
    t = pc.from_dlpack(src)
    assert t.device.type == "cuda" and t.data_ptr() == src.data_ptr() and t.stride() == src.stride()
    np.testing.assert_array_equal(t.cpu().numpy(), src.cpu().numpy())
    host = pc.from_dlpack(ours.__dlpack__(max_version=(1, 0), dl_device=(1, 0)))  # a copy to the CPU
    assert host.device.type == "cpu"
    np.testing.assert_array_equal(host.numpy(), rand(5, 6) * np.float32(2))
    with pytest.raises(ValueError, match=r"^\[__dlpack__\] exporting a cuda:0 tensor to cpu needs a copy"):
        ours.__dlpack__(dl_device=(1, 0), copy=False)
