"""pc.load of the zip checkpoints torch.save writes (pycnn/torch_checkpoint.py): every dtype, views, shared
storages, Parameters, nested dicts, a torch ResNet-18 with torchvision's names; hostile and damaged files
refused with a message naming the file. The files that need torch to be written skip without it."""

import io
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import pycnn as pc
from pycnn.torch_checkpoint import CheckpointError, load_torch_state

from helpers import torch_resnet18


def _as_numpy(t):
    """A pycnn or torch tensor's values as numpy (bfloat16 widened to float32, which holds it exactly)."""
    if type(t).__module__.startswith("torch"):
        t = t.detach()
        return (t.float() if str(t.dtype) == "torch.bfloat16" else t).numpy()
    t = t.detach()
    return (t.float() if t.dtype == pc.bfloat16 else t).numpy()


def _torch_file(tmp_path, obj, name="ckpt.pth", **kwargs):
    torch = pytest.importorskip("torch")
    path = tmp_path / name
    torch.save(obj, path, **kwargs)
    return path


def _zip(tmp_path, members, name="hand.pth"):
    """A zip holding `members` ({name: bytes}), stored like torch's (no compression)."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


def _rewrite(path, change):
    """Rewrite the zip at `path` with change(member name, bytes) -> bytes or None (None drops the member)."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            data = change(name, data)
            if data is not None:
                z.writestr(name, data)


DTYPES = [
    ("float32", "float32"),
    ("float64", "float64"),
    ("float16", "float16"),
    ("bfloat16", "bfloat16"),
    ("int64", "int64"),
    ("int32", "int32"),
    ("int16", "int64"),  # pycnn has no int16: held exactly as int64, as safetensors loading does
    ("int8", "int64"),
    ("uint8", "uint8"),
    ("bool", "bool"),
]


def _sample(torch, dtype_name, shape, seed):
    g = torch.Generator().manual_seed(seed)
    dtype = getattr(torch, dtype_name)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if dtype.is_floating_point:
        return (torch.randn(shape, generator=g, dtype=torch.float64) * 3 + 0.5).to(dtype)
    low, high = (0, 250) if dtype == torch.uint8 else (-120, 120)
    return torch.randint(low, high, shape, generator=g, dtype=dtype)


@pytest.mark.parametrize("torch_dtype,pycnn_dtype", DTYPES)
def test_every_dtype_and_shape(tmp_path, torch_dtype, pycnn_dtype):
    torch = pytest.importorskip("torch")
    base = _sample(torch, torch_dtype, (4, 5, 3), seed=1)
    sd = OrderedDict(
        full=base,
        scalar=_sample(torch, torch_dtype, (), seed=2),
        empty=_sample(torch, torch_dtype, (0, 3), seed=3),
        one=_sample(torch, torch_dtype, (1, 1, 2), seed=4),
        permuted=base.permute(2, 0, 1),  # views of base's storage: non-contiguous
        sliced=base[1:, ::2, -2:],  # a storage offset and steps
        expanded=_sample(torch, torch_dtype, (3, 1), seed=5).expand(3, 4),  # stride 0
    )
    loaded = pc.load(_torch_file(tmp_path, sd))
    assert list(loaded) == list(sd)
    for name, ref in sd.items():
        got = loaded[name]
        assert isinstance(got, pc.Tensor), name
        assert got.dtype == getattr(pc, pycnn_dtype), name
        assert got.shape == tuple(ref.shape), name
        np.testing.assert_array_equal(_as_numpy(got), _as_numpy(ref).astype(_as_numpy(got).dtype), err_msg=name)


def test_shared_storage_parameters_and_nested_dicts(tmp_path):
    torch = pytest.importorskip("torch")
    w = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sd = OrderedDict(
        weight=torch.nn.Parameter(w),
        weight_t=w.t(),  # shares weight's storage
        block=OrderedDict(rows=w[2:4], frozen=torch.nn.Parameter(w[0], requires_grad=False)),
        epoch=7,
        note="text",
        lr=[0.1, (1, 2)],
    )
    loaded = pc.load(_torch_file(tmp_path, sd))
    assert isinstance(loaded["weight"], pc.nn.Parameter) and loaded["weight"].requires_grad
    np.testing.assert_array_equal(_as_numpy(loaded["weight"]), w.numpy())
    np.testing.assert_array_equal(_as_numpy(loaded["weight_t"]), w.t().numpy())
    assert isinstance(loaded["block"], OrderedDict)
    np.testing.assert_array_equal(_as_numpy(loaded["block"]["rows"]), w[2:4].numpy())
    assert not loaded["block"]["frozen"].requires_grad
    assert (loaded["epoch"], loaded["note"], loaded["lr"]) == (7, "text", [0.1, (1, 2)])


def test_module_state_dict_and_load_torch_state(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    path = _torch_file(tmp_path, tm.state_dict())
    state = load_torch_state(path)
    assert list(state) == list(tm.state_dict())
    pm = pc.nn.Sequential(pc.nn.Conv2d(3, 4, 3), pc.nn.BatchNorm2d(4))
    pm.load_state_dict(state)
    for name, ref in tm.state_dict().items():
        np.testing.assert_array_equal(_as_numpy(pm.state_dict()[name]), _as_numpy(ref))


def test_big_endian_file(tmp_path):
    torch = pytest.importorskip("torch")
    ref = torch.arange(6, dtype=torch.float64).reshape(2, 3) + 0.25
    path = _torch_file(tmp_path, {"x": ref, "b": torch.tensor([1, 0, 255], dtype=torch.uint8)})

    def to_big(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        if name.endswith("/data/0"):  # the float64 storage, written first
            return np.frombuffer(data, "<f8").astype(">f8").tobytes()
        return data

    _rewrite(path, to_big)
    loaded = pc.load(path)
    np.testing.assert_array_equal(loaded["x"].numpy(), ref.numpy())
    np.testing.assert_array_equal(loaded["b"].numpy(), [1, 0, 255])


def test_device_argument_keeps_cpu(tmp_path):
    torch = pytest.importorskip("torch")
    loaded = pc.load(_torch_file(tmp_path, {"x": torch.ones(2)}), device="cpu")
    assert loaded["x"].device.type == "cpu"


# ---- a torch ResNet-18 with torchvision's module names -> pycnn's resnet18 --------------------------------


def test_torch_resnet18_checkpoint_gives_torchs_outputs(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch_resnet18(torch, num_classes=10)
    with torch.no_grad():  # trained-looking BatchNorm statistics, so eval mode uses them
        for m in tm.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(100)
    tm.eval()
    path = _torch_file(tmp_path, tm.state_dict(), name="resnet18.pth")

    pm = pc.models.resnet18(num_classes=10)
    pm.load_state_dict(pc.load(path))
    pm.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    with pc.no_grad():
        got = pm(pc.tensor(x)).numpy()
    assert np.abs(expected).max() > 0.1  # the comparison is not between two near-zero outputs
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


# ---- hostile and damaged files: none of these needs torch ---------------------------------------------------


def _tensor_pickle_ops(storage_class=b"FloatStorage", numel=2, size=(2,), stride=(1,), offset=0):
    """A hand-written protocol-2 pickle of {'x': tensor} in the opcodes torch.save writes (pickle itself cannot
    name globals that do not import here)."""

    def value(v):  # one value's opcodes, without PROTO and STOP
        return pickle.dumps(v, protocol=2)[2:-1]

    buf = io.BytesIO()
    w = buf.write
    w(b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00x")
    w(b"ctorch._utils\n_rebuild_tensor_v2\n(")
    w(b"(X\x07\x00\x00\x00storagectorch\n" + storage_class + b"\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu")
    w(value(numel) + b"tQ")
    for v in (offset, size, stride, False):
        w(value(v))
    w(b"ccollections\nOrderedDict\n)RtRu.")
    return buf.getvalue()


def test_hand_written_pickle_reads(tmp_path):
    data = np.array([1.5, -2.0], dtype="<f4").tobytes()
    path = _zip(tmp_path, {"arch/data.pkl": _tensor_pickle_ops(), "arch/data/0": data, "arch/byteorder": b"little"})
    np.testing.assert_array_equal(pc.load(path)["x"].numpy(), [1.5, -2.0])


def _evil_pickle(module, name, arg):
    return b"\x80\x02c" + module + b"\n" + name + b"\n" + pickle.dumps((arg,), protocol=2)[2:-1] + b"R."


@pytest.mark.parametrize(
    "module,name,arg",
    [
        (b"os", b"system", "touch {sentinel}"),
        (b"builtins", b"eval", "open({sentinel!r}, 'w').close()"),
        (b"builtins", b"exec", "open({sentinel!r}, 'w').close()"),
        (b"subprocess", b"call", "touch {sentinel}"),
        (b"torch", b"load", "{sentinel}"),  # torch's own names beyond the storages are refused too
    ],
)
def test_pickle_that_would_run_code_is_refused(tmp_path, module, name, arg):
    sentinel = tmp_path / "ran"
    pkl = _evil_pickle(module, name, arg.format(sentinel=str(sentinel)))
    path = _zip(tmp_path, {"evil/data.pkl": pkl})
    with pytest.raises(pickle.UnpicklingError) as info:
        pc.load(path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith("[load]") and str(path) in message
    assert f"{module.decode()}.{name.decode()}" in message
    assert not sentinel.exists()


def test_global_hidden_in_a_state_dict_is_refused(tmp_path):
    sentinel = tmp_path / "ran"
    pkl = _tensor_pickle_ops().replace(
        b"u.", b"X\x01\x00\x00\x00y" + _evil_pickle(b"posix", b"system", f"touch {sentinel}")[2:-1] + b"u."
    )
    path = _zip(tmp_path, {"a/data.pkl": pkl, "a/data/0": bytes(8)})
    with pytest.raises(ValueError, match=r"\[load\].*refuses to unpickle posix\.system"):
        pc.load(path)
    assert not sentinel.exists()


def _bad_cases():
    good = np.array([1.0, 2.0], dtype="<f4").tobytes()
    return {
        "storage shorter than the view": (
            {"a/data.pkl": _tensor_pickle_ops(size=(3,), numel=2), "a/data/0": good},
            "reads past",
        ),
        "offset past the storage": (
            {"a/data.pkl": _tensor_pickle_ops(offset=2, size=(1,)), "a/data/0": good},
            "reads past",
        ),
        "data file short": ({"a/data.pkl": _tensor_pickle_ops(), "a/data/0": good[:5]}, "holds 5 bytes"),
        "data file missing": ({"a/data.pkl": _tensor_pickle_ops()}, "missing"),
        "negative stride": ({"a/data.pkl": _tensor_pickle_ops(stride=(-1,)), "a/data/0": good}, "stride"),
        "size and stride lengths": ({"a/data.pkl": _tensor_pickle_ops(stride=(1, 1)), "a/data/0": good}, "differ"),
        "complex storage": ({"a/data.pkl": _tensor_pickle_ops(b"ComplexFloatStorage"), "a/data/0": good}, "complex"),
        "unknown storage": (
            {"a/data.pkl": _tensor_pickle_ops(b"QInt8Storage"), "a/data/0": good},
            "torch.QInt8Storage",
        ),
        "no data.pkl": ({"a/data/0": good}, "data.pkl"),
        "two data.pkl": ({"a/data.pkl": _tensor_pickle_ops(), "b/data.pkl": _tensor_pickle_ops()}, "data.pkl"),
        "truncated pickle": ({"a/data.pkl": _tensor_pickle_ops()[:40]}, "corrupt"),
        "not a dict": ({"a/data.pkl": pickle.dumps([1, 2], protocol=2)}, "list"),
        "bad byteorder": (
            {"a/data.pkl": _tensor_pickle_ops(), "a/data/0": good, "a/byteorder": b"middle"},
            "byteorder",
        ),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_damaged_checkpoint_is_a_named_error(tmp_path, case):
    members, fragment = _bad_cases()[case]
    path = _zip(tmp_path, members)
    with pytest.raises(ValueError) as info:
        pc.load(path)
    message = str(info.value)
    assert message.startswith("[load]") and str(path) in message and fragment in message, message


def test_truncated_and_corrupt_zip(tmp_path):
    data = np.array([1.0, 2.0], dtype="<f4").tobytes()
    path = _zip(tmp_path, {"a/data.pkl": _tensor_pickle_ops(), "a/data/0": data})
    whole = path.read_bytes()
    for cut in (len(whole) // 2, len(whole) - 10, 10):
        path.write_bytes(whole[:cut])
        with pytest.raises(ValueError, match=r"^\[load\] .*hand\.pth"):
            pc.load(path)
    corrupt = bytearray(whole)
    corrupt[60:80] = b"\xff" * 20  # inside the first member's data: the zip's CRC check fails
    path.write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match=r"^\[load\] .*hand\.pth"):
        pc.load(path)


def test_legacy_format_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = _torch_file(tmp_path, {"x": torch.ones(2)}, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=r"^\[load\] .*legacy"):
        pc.load(path)


def test_load_torch_state_refuses_other_files(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=r"^\[load\] .*plain\.bin.*not a zip"):
        load_torch_state(path)


def test_random_damage_is_a_named_error_or_a_load(tmp_path):
    """Bytes flipped anywhere in the file or in the pickle, or the file cut short: a ValueError naming the
    file (or, where the damage hit bytes that do not matter, a load), never another exception."""
    data = np.array([1.0, 2.0, 3.0], dtype="<f4").tobytes()
    pkl = _tensor_pickle_ops(numel=3, size=(3,))
    whole = _zip(tmp_path, {"a/data.pkl": pkl, "a/data/0": data, "a/byteorder": b"little"}).read_bytes()
    rng = np.random.default_rng(0)
    path = tmp_path / "damaged.pth"
    for trial in range(300):
        if trial % 3 == 0:
            damaged = whole[: rng.integers(4, len(whole))]
        elif trial % 3 == 1:
            damaged = bytearray(whole)
            for at in rng.integers(4, len(whole), size=rng.integers(1, 5)):
                damaged[at] = rng.integers(256)
        else:  # a well-formed zip around a damaged pickle
            bad = bytearray(pkl)
            for at in rng.integers(2, len(pkl), size=rng.integers(1, 4)):
                bad[at] = rng.integers(256)
            damaged = _zip(tmp_path, {"a/data.pkl": bytes(bad), "a/data/0": data}, name="tmp.pth").read_bytes()
        path.write_bytes(bytes(damaged))
        try:
            pc.load(path)
        except ValueError as e:
            assert str(e).startswith(f"[load] {path}"), str(e)
