"""Tests for the classic architectures in pycnn.models: parameter counts against the published /
torchvision numbers, output shapes on small inputs, and torchvision-compatible state dict names and shapes
(so converted torchvision checkpoints load). With torch installed, ResNet-18 is also rebuilt in plain
torch.nn with torchvision's structure: the key sets and shapes must agree and, after copying our weights,
so must the outputs.
"""

import numpy as np
import pytest

import pycnn as pc
from pycnn import models

from helpers import torch_resnet18


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _state_shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


# Published / torchvision parameter counts for 1000 classes (torchvision's model tables).
@pytest.mark.parametrize(
    "name,expected",
    [
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("alexnet", 61_100_840),
        ("squeezenet1_0", 1_248_424),
        ("squeezenet1_1", 1_235_496),
        ("mobilenet_v2", 3_504_872),
        ("googlenet", 6_624_904),
        ("densenet121", 7_978_856),
    ],
)
def test_parameter_counts_imagenet(name, expected):
    assert _count(getattr(models, name)()) == expected


@pytest.mark.parametrize("name,expected", [("vgg11", 132_863_336), ("vgg16", 138_357_544)])
def test_parameter_counts_vgg(name, expected):
    model = getattr(models, name)(init_weights=False)  # default layer init: quicker to build
    assert _count(model) == expected


def test_parameter_counts_other_variants():
    # resnet101/152 and vgg*_bn counts are torchvision's; the others are computed layer by layer in the
    # modules' docstrings (alexnet_original: conv 2,334,080 + fc 58,631,144; nin: 966,986).
    assert _count(models.resnet101()) == 44_549_160
    assert _count(models.vgg11_bn(init_weights=False)) == 132_868_840
    assert _count(models.alexnet_original()) == 60_965_224
    assert _count(models.zfnet()) == 62_357_608
    assert _count(models.nin()) == 966_986
    assert _count(models.googlenet(aux_logits=True)) == 13_004_888
    assert _count(models.resnet18(num_classes=10)) == 11_689_512 - 990 * 513


def test_parameter_counts_cifar():
    assert _count(models.resnet18_cifar()) == 11_173_962
    # Option-B shortcuts: two 1x1 conv + BN projections (16->32: 512+64, 32->64: 2048+128) on top of the
    # paper's 0.27M / 0.46M / 0.85M.
    assert _count(models.resnet20()) == 272_474
    assert _count(models.resnet32()) == 466_906
    assert _count(models.resnet56()) == 855_770
    with pytest.raises(ValueError, match="6n\\+2"):
        models.CifarResNet(21)


@pytest.mark.parametrize(
    "name,shape,classes",
    [
        ("resnet18", (2, 3, 224, 224), 1000),
        ("alexnet", (1, 3, 224, 224), 1000),
        ("alexnet_original", (1, 3, 227, 227), 1000),
        ("alexnet_original", (1, 3, 224, 224), 1000),
        ("zfnet", (1, 3, 224, 224), 1000),
        ("mobilenet_v2", (1, 3, 224, 224), 1000),
        ("resnet18_cifar", (2, 3, 32, 32), 10),
        ("resnet20", (2, 3, 32, 32), 10),
        ("resnet56", (2, 3, 32, 32), 10),
        ("nin", (2, 3, 32, 32), 10),
    ],
)
def test_output_shapes(name, shape, classes):
    pc.manual_seed(0)
    model = getattr(models, name)().eval()
    with pc.no_grad():
        y = model(pc.randn(*shape))
    assert y.shape == (shape[0], classes) and y.dtype == pc.float32
    assert np.isfinite(y.numpy()).all()


def test_cifar_resnet_stage_shapes_and_num_classes():
    model = models.resnet20(num_classes=7).eval()
    with pc.no_grad():
        x = model.relu(model.bn1(model.conv1(pc.randn(1, 3, 32, 32))))
        assert model.layer1(x).shape == (1, 16, 32, 32)
        assert model.layer2(model.layer1(x)).shape == (1, 32, 16, 16)
        assert model.layer3(model.layer2(model.layer1(x))).shape == (1, 64, 8, 8)
        assert model(pc.randn(3, 3, 32, 32)).shape == (3, 7)


def test_resnet_backward_reaches_every_parameter():
    model = models.resnet20()
    loss = pc.nn.CrossEntropyLoss()(model(pc.randn(2, 3, 32, 32)), pc.tensor([1, 2]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_resnet18_state_dict_matches_torchvision_names():
    shapes = _state_shapes(models.resnet18())
    # 62 parameters + 60 BN buffers (running_mean, running_var, num_batches_tracked for 20 BNs).
    assert len(shapes) == 122
    expected = {
        "conv1.weight": (64, 3, 7, 7),
        "bn1.weight": (64,),
        "bn1.running_mean": (64,),
        "bn1.num_batches_tracked": (),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer1.1.bn2.running_var": (64,),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1),
        "layer2.0.downsample.1.bias": (128,),
        "layer3.1.conv2.weight": (256, 256, 3, 3),
        "layer4.0.downsample.0.weight": (512, 256, 1, 1),
        "layer4.1.bn2.weight": (512,),
        "fc.weight": (1000, 512),
        "fc.bias": (1000,),
    }
    for key, shape in expected.items():
        assert shapes[key] == shape, key
    assert "layer1.0.downsample.0.weight" not in shapes
    assert list(shapes)[:2] == ["conv1.weight", "bn1.weight"] and list(shapes)[-1] == "fc.bias"


def test_vgg16_state_dict_matches_torchvision_names():
    shapes = _state_shapes(models.vgg16(init_weights=False))
    assert len(shapes) == 32  # 13 conv + 3 linear layers, weight and bias each
    expected = {
        "features.0.weight": (64, 3, 3, 3),
        "features.2.weight": (64, 64, 3, 3),
        "features.5.weight": (128, 64, 3, 3),
        "features.28.weight": (512, 512, 3, 3),
        "features.28.bias": (512,),
        "classifier.0.weight": (4096, 25088),
        "classifier.3.weight": (4096, 4096),
        "classifier.6.weight": (1000, 4096),
        "classifier.6.bias": (1000,),
    }
    for key, shape in expected.items():
        assert shapes[key] == shape, key


def test_other_torchvision_layouts():
    mb = _state_shapes(models.mobilenet_v2())
    assert mb["features.0.0.weight"] == (32, 3, 3, 3)
    assert mb["features.1.conv.0.0.weight"] == (32, 1, 3, 3)  # t=1 block: depthwise first
    assert mb["features.1.conv.1.weight"] == (16, 32, 1, 1)
    assert mb["features.2.conv.0.0.weight"] == (96, 16, 1, 1)
    assert mb["features.2.conv.3.running_mean"] == (24,)
    assert mb["features.18.0.weight"] == (1280, 320, 1, 1)
    assert mb["classifier.1.weight"] == (1000, 1280)
    sq = _state_shapes(models.squeezenet1_1())
    assert sq["features.3.squeeze.weight"] == (16, 64, 1, 1)
    assert sq["features.12.expand3x3.weight"] == (256, 64, 3, 3)
    assert sq["classifier.1.weight"] == (1000, 512, 1, 1)
    gn = _state_shapes(models.googlenet())
    assert gn["conv1.conv.weight"] == (64, 3, 7, 7)
    assert gn["inception3a.branch2.1.conv.weight"] == (128, 96, 3, 3)
    assert gn["inception5b.branch4.1.bn.running_var"] == (128,)
    assert gn["fc.weight"] == (1000, 1024) and not any(k.startswith("aux") for k in gn)
    assert _state_shapes(models.googlenet(aux_logits=True))["aux2.fc1.weight"] == (1024, 2048)
    dn = _state_shapes(models.densenet121())
    assert dn["features.conv0.weight"] == (64, 3, 7, 7)
    assert dn["features.denseblock1.denselayer1.norm1.weight"] == (64,)
    assert dn["features.denseblock1.denselayer6.conv1.weight"] == (128, 224, 1, 1)
    assert dn["features.denseblock4.denselayer16.conv2.weight"] == (32, 128, 3, 3)
    assert dn["features.transition3.conv.weight"] == (512, 1024, 1, 1)
    assert dn["features.norm5.running_mean"] == (1024,)
    assert dn["classifier.weight"] == (1000, 1024)
    ax = _state_shapes(models.alexnet())
    assert ax["features.10.weight"] == (256, 256, 3, 3) and ax["classifier.1.weight"] == (4096, 9216)
    ao = _state_shapes(models.alexnet_original())
    assert ao["features.4.weight"] == (256, 48, 5, 5)  # groups=2: each half sees 48 channels
    assert ao["features.12.weight"] == (256, 192, 3, 3)


def test_state_dict_round_trip_between_instances():
    a, b = models.resnet20(), models.resnet20()
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    x = pc.randn(2, 3, 32, 32)
    with pc.no_grad():
        np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_resnet18_matches_torch_structure_and_outputs():
    torch = pytest.importorskip("torch")
    ours = models.resnet18().eval()
    ref = torch_resnet18(torch).eval()
    ref_shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    assert _state_shapes(ours) == ref_shapes
    # Give the BN layers non-trivial statistics, then copy everything into the torch model.
    rng = np.random.default_rng(0)
    state = ours.state_dict()
    for key, value in state.items():
        if key.endswith(("running_mean", "bias")):
            value.numpy()[...] = rng.normal(0, 0.1, value.shape)
        elif key.endswith("running_var"):
            value.numpy()[...] = rng.uniform(0.5, 1.5, value.shape)
    ref.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})
    x = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
    with pc.no_grad():
        y = ours(pc.tensor(x)).numpy()
    with torch.no_grad():
        y_ref = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, y_ref, rtol=1e-3, atol=1e-4)


# ---- multi-branch models (channel concatenation with pycnn.cat) ----
@pytest.mark.parametrize(
    "name,shape",
    [
        ("squeezenet1_1", (1, 3, 224, 224)),
        ("squeezenet1_0", (1, 3, 96, 96)),
        ("googlenet", (1, 3, 64, 64)),
        ("densenet121", (1, 3, 64, 64)),
    ],
)
def test_concat_models_output_shapes(name, shape):
    pc.manual_seed(0)
    model = getattr(models, name)(num_classes=11).eval()
    with pc.no_grad():
        y = model(pc.randn(*shape))
    assert y.shape == (1, 11) and np.isfinite(y.numpy()).all()


def test_block_shapes_and_gradients_through_concatenation():
    from pycnn.models.squeezenet import Fire

    fire = Fire(8, 4, 6, 10)
    x = pc.randn(2, 8, 5, 5, requires_grad=True)
    y = fire(x)
    assert y.shape == (2, 16, 5, 5)
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert fire.expand1x1.weight.grad is not None and fire.expand3x3.weight.grad is not None
    from pycnn.models.densenet import _DenseBlock
    from pycnn.models.googlenet import Inception

    inc = Inception(16, 4, 4, 6, 2, 3, 5)
    assert inc(pc.randn(1, 16, 7, 7)).shape == (1, 4 + 6 + 3 + 5, 7, 7)
    block = _DenseBlock(3, 8, 2, 4, 0.0)
    assert block(pc.randn(1, 8, 6, 6)).shape == (1, 8 + 3 * 4, 6, 6)


def test_googlenet_aux_outputs_in_training_only():
    model = models.googlenet(num_classes=5, aux_logits=True)
    logits, aux2, aux1 = model(pc.randn(2, 3, 64, 64))
    assert logits.shape == aux2.shape == aux1.shape == (2, 5)
    model.eval()
    with pc.no_grad():
        assert model(pc.randn(1, 3, 64, 64)).shape == (1, 5)
