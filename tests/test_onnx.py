"""pc.onnx: export (a traced program -> ONNX, checked by onnx.checker and run in onnxruntime) and load (ONNX ->
OnnxModule, run and trained in pycnn). Skips without onnx/onnxruntime; torch only for the import of a model
that torch exported.
"""

import io
import sys

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn.program import Program

from helpers import excite, torch_resnet18

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL, ATOL = 1e-4, 1e-5


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run_ort(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def program(nodes, constants, shape, out, dynamic=True):
    """A hand-written program (docs/program-format.md): input id 0, constants ids 1..k in dict order."""
    graph = {
        "inputs": [{"id": 0, "name": "input", "dtype": "float32", "shape": list(shape), "dynamic_batch": dynamic}],
        "outputs": [{"id": out, "name": "output"}],
        "constants": [{"id": i + 1, "tensor": name} for i, name in enumerate(constants)],
        "nodes": nodes,
    }
    return Program(graph, {k: pc.tensor(v) for k, v in constants.items()})


def node(kind, inputs, outputs, **attrs):
    return {"op": kind, "inputs": inputs, "outputs": outputs, "attrs": attrs}


CONV = {"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1}
POOL = {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "ceil_mode": True}


def small_net():
    """conv -> bn -> relu6 -> maxpool(ceil) -> avgpool -> lrn -> adaptive 2x2 -> reshape -> linear -> log_softmax"""
    c = {
        "conv.weight": rand(6, 3, 3, 3, seed=1),
        "conv.bias": rand(6, seed=2),
        "bn.weight": rand(6, seed=3),
        "bn.bias": rand(6, seed=4),
        "bn.running_mean": rand(6, seed=5),
        "bn.running_var": np.abs(rand(6, seed=6)) + 0.5,
        "fc.weight": rand(5, 24, seed=7),
        "fc.bias": rand(5, seed=8),
    }
    avg = {"kernel": [2, 2], "stride": [1, 1], "padding": [1, 1], "ceil_mode": False}
    nodes = [
        node("conv2d", [0, 1, 2], [9], **CONV),
        node("batch_norm", [9, 3, 4, 5, 6], [10], training=False, momentum=0.1, eps=1e-5),
        node("unary", [10], [11], op="relu6", alpha=0.0, beta=0.0),
        node("max_pool2d", [11], [12, 13], **POOL),
        node("avg_pool2d", [12], [14], **avg, count_include_pad=False, divisor_override=None),
        node("local_response_norm", [14], [15], size=3, alpha=1e-2, beta=0.75, k=2.0),
        node("adaptive_avg_pool2d", [15], [16], output_size=[2, 2]),
        node("reshape", [16], [17], shape=[0, -1], view_only=False),
        node("linear", [17, 7, 8], [18]),
        node("log_softmax", [18], [19], dim=1),
    ]
    return program(nodes, c, (2, 3, 8, 8), 19), c


def small_net_reference(x, c):
    t = {k: pc.tensor(v) for k, v in c.items()}
    y = F.conv2d(pc.tensor(x), t["conv.weight"], t["conv.bias"], padding=1)
    y = F.batch_norm(y, t["bn.running_mean"], t["bn.running_var"], t["bn.weight"], t["bn.bias"])
    y = F.max_pool2d(F.relu6(y), 3, 2, 1, ceil_mode=True)
    y = F.avg_pool2d(y, 2, 1, 1, count_include_pad=False)
    y = F.adaptive_avg_pool2d(F.local_response_norm(y, 3, 1e-2, 0.75, 2.0), 2)
    return F.log_softmax(F.linear(y.reshape(x.shape[0], -1), t["fc.weight"], t["fc.bias"]), 1).numpy()


def test_export_program_runs_in_onnxruntime_at_any_batch(tmp_path):
    prog, c = small_net()
    path = tmp_path / "net.onnx"
    pc.onnx.export(prog, None, path, dynamic_axes={"input": {0: "N"}, "output": [0]})
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    assert [i.name for i in proto.graph.initializer][:2] == ["conv.weight", "conv.bias"]
    for batch in (2, 3):
        x = rand(batch, 3, 8, 8, seed=batch)
        np.testing.assert_allclose(run_ort(proto, x), small_net_reference(x, c), rtol=RTOL, atol=ATOL)
    assert not [p for p in tmp_path.iterdir() if p.name != "net.onnx"]  # no temporary left behind


def test_export_to_file_object_and_names_and_static_batch():
    prog, c = small_net()
    buf = io.BytesIO()
    proto = pc.onnx.export(prog, None, buf, input_names=["image"], output_names=["logp"], opset_version=13)
    assert onnx.load_from_string(buf.getvalue()) == proto
    assert [i.name for i in proto.graph.input] == ["image"] and [o.name for o in proto.graph.output] == ["logp"]
    assert [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim] == [2, 5]
    assert proto.opset_import[0].version == 13
    x = rand(2, 3, 8, 8, seed=9)
    np.testing.assert_allclose(run_ort(proto, x), small_net_reference(x, c), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "op, alpha, beta, fn",
    [
        ("sigmoid", 0.0, 0.0, F.sigmoid),
        ("tanh", 0.0, 0.0, F.tanh),
        ("clamp", -0.5, 0.7, lambda x: x.clamp(-0.5, 0.7)),
        ("clamp", -float("inf"), 0.3, lambda x: x.clamp(None, 0.3)),
        ("leaky_relu", 0.2, 0.0, lambda x: F.leaky_relu(x, 0.2)),
        ("elu", 0.7, 0.0, lambda x: F.elu(x, 0.7)),
        ("selu", 0.0, 0.0, F.selu),
        ("silu", 0.0, 0.0, F.silu),
        ("gelu", 0.0, 0.0, F.gelu),
        ("hardswish", 0.0, 0.0, F.hardswish),
        ("hardsigmoid", 0.0, 0.0, F.hardsigmoid),
        ("abs", 0.0, 0.0, lambda x: x.abs()),
        ("square", 0.0, 0.0, lambda x: x * x),
        ("pow", 3.0, 0.0, lambda x: x.pow(3.0)),
        ("softplus", 2.0, 20.0, lambda x: F.softplus(x, 2.0)),
    ],
)
def test_export_unary(op, alpha, beta, fn):
    prog = program([node("unary", [0], [1], op=op, alpha=alpha, beta=beta)], {}, (2, 3, 4, 5), 1)
    proto = pc.onnx.export(prog, None, io.BytesIO())
    x = rand(2, 3, 4, 5, seed=len(op)) * 3
    np.testing.assert_allclose(run_ort(proto, x), fn(pc.tensor(x)).numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("size, out", [((7, 4), (3, 2)), ((2, 3), (6, 6)), ((6, 9), (3, 3))])
def test_export_adaptive_avg_pool2d(size, out):
    """1x1: GlobalAveragePool; sizes that divide: AveragePool; others (overlapping or growing bins): MatMuls."""
    proto = pc.onnx.export(
        program([node("adaptive_avg_pool2d", [0], [1], output_size=list(out))], {}, (2, 3, *size), 1),
        None,
        io.BytesIO(),
    )
    x = rand(2, 3, *size, seed=size[0])
    np.testing.assert_allclose(
        run_ort(proto, x), F.adaptive_avg_pool2d(pc.tensor(x), out).numpy(), rtol=RTOL, atol=ATOL
    )


def test_export_binary_cat_softmax_cast():
    c = {"scale": rand(1, 3, 1, 1, seed=1)}
    nodes = [
        node("binary", [0, 1], [2], op="mul"),
        node("binary", [2, 0], [3], op="sub"),
        node("cat", [3, 0], [4], dim=1),
        node("softmax", [4], [5], dim=-1),
        node("cast", [5], [6], dtype="float64"),
    ]
    proto = pc.onnx.export(program(nodes, c, (2, 3, 4, 4), 6), None, io.BytesIO())
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    x = rand(2, 3, 4, 4, seed=2)
    t = pc.tensor(x)
    ref = F.softmax(pc.cat([t * pc.tensor(c["scale"]) - t, t], 1), -1).double().numpy()
    np.testing.assert_allclose(run_ort(proto, x), ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "nodes, shape, message",
    [
        ([node("unary", [0], [1], op="trunc", alpha=0.0, beta=0.0)], (1, 2), "unary op 'trunc'"),
        ([node("conv3d", [0], [1])], (1, 2), "op 'conv3d'"),
        ([node("group_norm", [0, None, None], [1], groups=1, eps=1e-5)], (1, 2, 2, 2), "group_norm"),
        ([node("pad", [0], [1], pads=[1, 1], mode="circular", value=0.0)], (1, 2), "mode 'circular'"),
        ([node("max_pool2d", [0], [1, 2], **POOL), node("binary", [1, 2], [3], op="add")], (1, 1, 4, 4), "indices"),
        (
            [node("avg_pool2d", [0], [1], **{**POOL, "count_include_pad": True, "divisor_override": 3})],
            (1, 1, 4, 4),
            "divisor_override=3",
        ),
        ([node("local_response_norm", [0], [1], size=4, alpha=1.0, beta=0.5, k=1.0)], (1, 5, 2, 2), "even size 4"),
        (
            [node("batch_norm", [0, None, None, None, None], [1], training=True, momentum=0.1, eps=1e-5)],
            (2, 3),
            "batch",
        ),
    ],
)
def test_export_refuses_what_it_cannot_translate(nodes, shape, message):
    out = nodes[-1]["outputs"][0]
    with pytest.raises(NotImplementedError, match=r"^\[onnx.export\].*" + message):
        pc.onnx.export(program(nodes, {}, shape, out), None, io.BytesIO())


def test_export_bad_arguments(tmp_path):
    prog, _ = small_net()
    with pytest.raises(ValueError, match=r"^\[onnx.export\].*only axis 0"):
        pc.onnx.export(prog, None, io.BytesIO(), dynamic_axes={"input": {2: "h"}})
    with pytest.raises(ValueError, match=r"^\[onnx.export\].*'nope'"):
        pc.onnx.export(prog, None, io.BytesIO(), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match=r"^\[onnx.export\] opset_version .* got 11"):
        pc.onnx.export(prog, None, io.BytesIO(), opset_version=11)
    fixed, _ = small_net()
    fixed.graph["inputs"][0]["dynamic_batch"] = False
    with pytest.raises(ValueError, match=r"^\[onnx.export\].*fixed batch"):
        pc.onnx.export(fixed, None, io.BytesIO(), dynamic_axes={"input": [0]})
    with pytest.raises(FileNotFoundError, match=r"^\[onnx.export\]"):
        pc.onnx.export(prog, None, tmp_path / "missing" / "net.onnx")
    no_stride = {k: v for k, v in CONV.items() if k != "stride"}
    with pytest.raises(ValueError, match=r"^\[onnx.export\] node 0 \(conv2d\): a missing .*'stride'"):
        pc.onnx.export(program([node("conv2d", [0, 1, None], [2], **no_stride)], {"w": rand(2, 3, 1, 1)}, (1, 3, 2, 2), 2), None, io.BytesIO())  # fmt: skip
    with pytest.raises(TypeError, match=r"^\[onnx.export\] f must be a path or a binary file object"):
        pc.onnx.export(prog, None, io.StringIO())
    with pytest.raises(NotImplementedError, match=r"^\[onnx.export\].*hardswish at opset 13"):
        pc.onnx.export(
            program([node("unary", [0], [1], op="hardswish")], {}, (1, 2), 1), None, io.BytesIO(), opset_version=13
        )


# ---- the zoo: traced, exported with a dynamic batch, checked, run in onnxruntime at batches 2 and 3, loaded back
ZOO = [  # (constructor, input size): the smallest sizes the models take (AlexNetOriginal's head fixes 224)
    ("lenet5", 28),
    ("alexnet", 64),
    ("alexnet_original", 224),
    ("zfnet", 96),
    ("vgg11", 32),
    ("vgg11_bn", 32),
    ("vgg16", 32),
    ("vgg16_bn", 32),
    ("nin", 32),
    ("googlenet", 32),
    ("resnet18", 32),
    ("resnet50", 32),
    ("resnet20", 32),
    ("resnet18_cifar", 32),
    ("densenet121", 32),
    ("squeezenet1_1", 32),
    ("mobilenet_v2", 32),
]


@pytest.fixture
def narrow_heads(monkeypatch):
    """AlexNet/ZFNet/VGG's 4096-wide heads hold most of their weights and take seconds to initialise: models
    built under this fixture get 32-wide ones (the same ops, so the same translation).
    benchmarks/bench_export.py exports the full models."""
    wide = pc.nn.Linear

    class Narrow(wide):
        def __init__(self, fin, fout, *args, **kwargs):
            super().__init__(32 if fin == 4096 else fin, 32 if fout == 4096 else fout, *args, **kwargs)

    monkeypatch.setattr(pc.nn, "Linear", Narrow)


@pytest.mark.parametrize("name, size", ZOO, ids=[z[0] for z in ZOO])
def test_zoo_export_matches_onnxruntime_and_loads_back(name, size, narrow_heads):
    pc.manual_seed(0)
    model = excite(getattr(pc.models, name)(num_classes=10)).eval()
    channels = 1 if name == "lenet5" else 3
    x2 = pc.tensor(rand(2, channels, size, size, seed=1))
    proto = pc.onnx.export(model, (x2,), io.BytesIO(), dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    loaded = pc.onnx.load(proto).eval()
    for batch in (2, 3):
        x = rand(batch, channels, size, size, seed=batch)
        with pc.no_grad():
            expected = model(pc.tensor(x)).numpy()
            assert np.ptp(expected, axis=0).max() > 1e-3  # outputs that depend on the input
            np.testing.assert_allclose(loaded(pc.tensor(x)).numpy(), expected, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(session.run(None, {"input": x})[0], expected, rtol=RTOL, atol=ATOL)


# ---- load
def test_load_round_trip_and_train():
    prog, c = small_net()
    model = pc.onnx.load(pc.onnx.export(prog, None, io.BytesIO(), dynamic_axes={"input": [0]}))
    names = dict(model.named_parameters())
    assert {"conv_weight", "fc_bias", "bn_weight"} <= set(names) and "bn_running_mean" in dict(model.named_buffers())
    model.eval()
    x = rand(3, 3, 8, 8, seed=3)
    np.testing.assert_allclose(model(pc.tensor(x)).detach().numpy(), small_net_reference(x, c), rtol=RTOL, atol=ATOL)


def test_load_refuses_unsupported_and_bad_files(tmp_path):
    x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2])
    y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Erf", ["x"], ["y"], name="erf1")], "g", [x], [y])
    proto = onnx.helper.make_model(graph)
    with pytest.raises(NotImplementedError, match=r"^\[onnx.load\] op 'Erf' \(node 'erf1'\) is not supported"):
        pc.onnx.load(proto)
    conv = onnx.helper.make_node("Conv", ["x", "x"], ["y"], name="c", auto_pad="SAME_UPPER")
    with pytest.raises(NotImplementedError, match=r"^\[onnx.load\] Conv \(node 'c'\): auto_pad='SAME_UPPER'"):
        pc.onnx.load(onnx.helper.make_model(onnx.helper.make_graph([conv], "g", [x], [y])))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(ValueError, match=r"^\[onnx.load\]"):
        pc.onnx.load(bad)
    good = tmp_path / "good.onnx"
    good.write_bytes(pc.onnx.export(small_net()[0], None, io.BytesIO()).SerializeToString())
    bad.write_bytes(good.read_bytes()[:1000])  # truncated
    with pytest.raises(ValueError, match=r"^\[onnx.load\]"):
        pc.onnx.load(bad)
    with pytest.raises(FileNotFoundError, match=r"^\[onnx.load\]"):
        pc.onnx.load(tmp_path / "none.onnx")
    with pytest.raises(TypeError, match=r"^\[OnnxModule\] expected input 'input' to be a pycnn.Tensor, got ndarray"):
        pc.onnx.load(good)(rand(2, 3, 8, 8))


# ---- a model made in torch, exported by torch, trained in pycnn
# torch's legacy (dynamo=False) exporter warns that it is legacy, and about constant folding in PRESERVE mode
TORCH_EXPORT_WARNINGS = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


@TORCH_EXPORT_WARNINGS
@pytest.mark.parametrize("training_mode", ["eval", "train"])
def test_torch_resnet18_loads_matches_and_trains(training_mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch_resnet18(torch, num_classes=10, width=8)
    with torch.no_grad():  # non-trivial statistics, so eval-mode BatchNorm is not an identity
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    net.eval()
    buf = io.BytesIO()
    # "train" keeps BatchNormalization nodes (TrainingMode.PRESERVE); "eval" folds them into the convs
    mode = torch.onnx.TrainingMode.PRESERVE if training_mode == "train" else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(net, (torch.randn(2, 3, 32, 32),), buf, dynamo=False, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}}, opset_version=17, training=mode)  # fmt: skip
    model = pc.onnx.load(io.BytesIO(buf.getvalue()))
    model.eval()
    x = rand(3, 3, 32, 32, seed=4)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(pc.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-4)

    model.train()
    stats = {n: b.numpy().copy() for n, b in model.named_buffers() if n.endswith("running_mean")}
    assert len(stats) == (20 if training_mode == "train" else 0)  # torch folds BatchNorm into the convs in eval
    params = list(model.parameters())
    before = [p.detach().numpy().copy() for p in params]
    opt = pc.optim.SGD(params, lr=0.05)
    target = pc.tensor(np.random.default_rng(5).integers(0, 10, 3))
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(model(pc.tensor(x)), target)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    assert losses[1] < losses[0], losses
    # train mode: BatchNormalization normalises with the batch's statistics and updates the running ones
    assert all(not np.array_equal(v, getattr(model, n).numpy()) for n, v in stats.items())
    assert all(not np.array_equal(b, p.detach().numpy()) for b, p in zip(before, params))


def test_without_onnx_the_functions_say_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(ImportError, match=r"^\[onnx.export\] needs the onnx package: pip install onnx"):
        pc.onnx.export(small_net()[0], None, io.BytesIO())
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x00")
    with pytest.raises(ImportError, match=r"^\[onnx.load\] needs the onnx package: pip install onnx"):
        pc.onnx.load(path)


def test_load_external_weights(tmp_path):
    """Weights saved beside the model (onnx's external data, for models over 2 GB) are read from its folder."""
    prog, c = small_net()
    proto = pc.onnx.export(prog, None, io.BytesIO())
    onnx.save_model(proto, tmp_path / "net.onnx", save_as_external_data=True, location="net.weights", size_threshold=0)
    x = rand(2, 3, 8, 8, seed=7)
    np.testing.assert_allclose(pc.onnx.load(tmp_path / "net.onnx")(pc.tensor(x)).detach().numpy(), small_net_reference(x, c), rtol=RTOL, atol=ATOL)  # fmt: skip
    with pytest.raises(ValueError, match=r"^\[onnx.load\] initializer 'conv.weight' is stored in an external file"):
        pc.onnx.load(onnx.load(tmp_path / "net.onnx", load_external_data=False))
    (tmp_path / "net.weights").unlink()
    with pytest.raises(ValueError, match=r"^\[onnx.load\] cannot read the external weights.*net.weights"):
        pc.onnx.load(tmp_path / "net.onnx")


@TORCH_EXPORT_WARNINGS
def test_torch_export_with_shape_arithmetic_loads():
    """torch writes F.pad's pads and x.view(x.size(0), -1) as Shape/Gather/Unsqueeze/Concat/Slice/... on
    shapes: load evaluates those on the host; the rest (relu6 as Clip, ceil-mode pools, Concat) on tensors."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 4, 1), nn.Linear(12, 5)

        def forward(self, x):
            a = nn.functional.avg_pool2d(nn.functional.relu6(self.conv1(x)), 3, 2, 1, True, False)
            b = nn.functional.max_pool2d(
                torch.sigmoid(self.conv2(nn.functional.pad(x, (1, 0, 0, 1)))), 3, 2, ceil_mode=True
            )
            y = nn.functional.adaptive_avg_pool2d(torch.cat([a, b], 1), 1)
            return torch.log_softmax(self.fc(y.view(y.size(0), -1)), 1)

    torch.manual_seed(0)
    net = Net().eval()
    buf = io.BytesIO()
    torch.onnx.export(net, (torch.randn(2, 3, 9, 9),), buf, dynamo=False, input_names=["x"], dynamic_axes={"x": [0]})
    model = pc.onnx.load(io.BytesIO(buf.getvalue()))
    assert {"Shape", "Gather", "Pad", "ConstantOfShape"} <= {n["op"] for n in model._nodes}
    x = rand(3, 3, 9, 9, seed=6)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    y = model(pc.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_load_of_damaged_files_raises_named_errors():
    """Truncated files and random byte changes: each load (and run) succeeds or raises an error naming
    onnx.load / OnnxModule, never an unnamed KeyError or AttributeError from inside the interpreter."""
    data = pc.onnx.export(small_net()[0], None, io.BytesIO()).SerializeToString()
    rng = np.random.default_rng(0)
    x = pc.tensor(rand(2, 3, 8, 8))
    for k in range(150):
        damaged = bytearray(data[: rng.integers(0, len(data))] if k % 2 else data)
        for _ in range(0 if k % 2 else rng.integers(1, 4)):
            damaged[rng.integers(0, len(damaged))] = rng.integers(0, 256)
        try:
            pc.onnx.load(io.BytesIO(bytes(damaged)))(x)
        except (ValueError, TypeError, NotImplementedError, IndexError, RuntimeError) as e:
            assert str(e).startswith(("[onnx.load]", "[OnnxModule]")), (k, repr(e))


class _BeyondTheZoo(pc.nn.Module):
    """The program ops past the zoo's that ONNX translates: PReLU, reflect and constant pads, bilinear and
    nearest resize (by size and by scale factor), transposed conv, layer norm, adaptive max pool, pixel
    shuffle, mean (sum), permute, clone, matmul."""

    def __init__(self):
        super().__init__()
        self.conv, self.prelu = pc.nn.Conv2d(3, 8, 3, padding=1), pc.nn.PReLU(8)
        self.up = pc.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.ln, self.fc = pc.nn.LayerNorm([4, 14, 14]), pc.nn.Linear(4, 3)
        self.mix = pc.nn.Parameter(pc.randn(3, 3))

    def forward(self, x):
        y = F.pad(self.prelu(self.conv(x)), (1, 1, 2, 0), mode="reflect")  # 18x18: the pool's bins are static
        y = F.adaptive_max_pool2d(y, 2) + F.interpolate(F.adaptive_max_pool2d(y, 1), scale_factor=2.0, mode="nearest")
        y = F.pad(F.interpolate(y, size=(6, 7), mode="bilinear", align_corners=False), (0, 0, 1, 0), value=0.5)
        y = self.ln(self.up(y))
        y = F.interpolate(y, size=(3, 5), mode="bilinear", align_corners=True)
        y = F.pixel_shuffle(pc.cat([y, y * 2.0, y, y], 1), 2)
        z = y.mean((2, 3)).permute(1, 0).clone().permute(1, 0)
        return pc.matmul(self.fc(z), self.mix)


def test_export_of_ops_past_the_zoo():
    pc.manual_seed(3)
    model = _BeyondTheZoo().eval()
    proto = pc.onnx.export(model, pc.randn(2, 3, 16, 16), io.BytesIO(), dynamic_axes={"input": {0: "batch"}})
    onnx.checker.check_model(proto, full_check=True)
    for batch in (2, 3):
        x = pc.randn(batch, 3, 16, 16)
        with pc.no_grad():
            want = np.asarray(model(x))
        np.testing.assert_allclose(run_ort(proto, x.numpy()), want, rtol=1e-4, atol=1e-5)
    gn = pc.nn.Sequential(pc.nn.Conv2d(3, 4, 1), pc.nn.GroupNorm(2, 4))
    with pytest.raises(NotImplementedError, match=r"\[onnx.export\] node 1 \(group_norm\)"):
        pc.onnx.export(gn, pc.randn(1, 3, 4, 4), io.BytesIO())
