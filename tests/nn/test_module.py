"""nn.Module and nn.Parameter: registration, walking, modes, state, devices, repr."""
import copy

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend


class Block(nn.Module):
    """A parameter, a buffer and a submodule, assigned in that order."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.full((3,), 2.0, dtype=np.float32))
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.register_buffer("mean", np.zeros(3, dtype=np.float32))
        self.fc = nn.Linear(3, 2)
        self.note = "not state"  # plain attribute: neither trained nor saved

    def forward(self, x):
        return self.fc(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(2, 1, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


# ---------------------------------------------------------------- Parameter
def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    assert isinstance(p, mdl.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(np.ones(2, dtype=np.float32), requires_grad=False).requires_grad
    t = mdl.tensor([1.0, 2.0])
    assert nn.Parameter(t).data is t.data  # wraps the array, no copy
    assert repr(p).startswith("Parameter containing:\ntensor(")


# ---------------------------------------------------------- registration
def test_registration_by_assignment_in_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert [n for n, _ in net.named_buffers()] == ["block.count", "block.mean"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head"]
    assert list(net.modules())[0] is net
    assert len(list(net.parameters())) == 4 and len(list(net.buffers())) == 2
    assert "note" not in net.block.state_dict()


def test_named_parameters_prefix_and_recurse():
    net = Net()
    assert [n for n, _ in net.block.named_parameters(prefix="b", recurse=False)] == ["b.scale"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.named_buffers(prefix="m")] == ["m.block.count", "m.block.mean"]


def test_reassignment_moves_a_name_between_tables():
    b = Block()
    b.fc = nn.Identity()  # a Linear replaced by a parameter-free module
    assert [n for n, _ in b.named_parameters()] == ["scale"]
    b.scale = 5.0  # a parameter replaced by a number: no longer a parameter
    assert list(b.named_parameters()) == [] and b.scale == 5.0
    b.mean = np.ones(3, dtype=np.float32)  # a buffer stays a buffer when re-assigned
    assert np.array_equal(b.state_dict()["mean"], np.ones(3))
    del b.fc
    assert list(b.named_children()) == []


def test_shared_parameter_listed_once_but_saved_under_both_names():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight  # tied weights
    seq = nn.Sequential(a, b)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    state = seq.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    seq.load_state_dict(state)  # round trip of its own state works


def test_assignment_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_register_errors():
    m = Block()
    with pytest.raises(TypeError, match="buffer 'bad' must be an array"):
        m.register_buffer("bad", [1, 2])
    with pytest.raises(KeyError, match="already a parameter"):
        m.register_buffer("scale", np.ones(3))
    with pytest.raises(TypeError, match="needs a Parameter"):
        m.register_parameter("w", np.ones(3))
    m.register_parameter("w", None)
    assert m.w is None and "w" not in dict(m.named_parameters())


def test_forward_missing_and_call_accepts_arrays(device, xp):
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)
    net = Net().to(device)
    x = xp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    y_array = net(x)
    y_tensor = net(mdl.tensor(x))
    assert isinstance(y_array, mdl.Tensor) and y_array.shape == (2, 1)
    assert np.allclose(y_array.numpy(), y_tensor.numpy())


def test_apply_visits_every_module_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "Linear", "Net"]


# ------------------------------------------------------------------- modes
def test_train_eval_reach_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.training and not net.block.fc.training
    with pytest.raises(TypeError, match="bool"):
        net.train("no")


def test_requires_grad_and_zero_grad():
    net = Net()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.block.requires_grad_(True)
    assert [p.requires_grad for p in net.parameters()] == [True, True, True, False]
    loss = net(np.ones((4, 3), dtype=np.float32)).sum()
    loss.backward()
    assert net.head.weight.grad is None and net.block.fc.weight.grad.shape == (2, 3)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ------------------------------------------------------------------- state
def test_state_dict_holds_the_module_arrays_in_order():
    net = Net()
    state = net.state_dict()
    assert list(state) == ["block.scale", "block.count", "block.mean", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert state["block.fc.weight"] is net.block.fc.weight.data
    assert state["block.count"] is net.block.count


def test_load_state_dict_copies_in_place_keeping_dtype_and_device(device, xp):
    src, dst = Net(), Net().to(device)
    src.block.mean[...] = [1, 2, 3]
    src.block.count[...] = 7
    weight = dst.block.fc.weight
    array_before = weight.data
    # float64 values from the CPU go into float32 arrays on `device`.
    state = {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in src.state_dict().items()}
    result = dst.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.block.fc.weight is weight and weight.data is array_before  # same objects
    assert weight.dtype == np.float32 and backend.device_of(weight.data) == backend.parse_device(device)
    for k, v in src.state_dict().items():
        assert np.array_equal(backend.to_numpy(dst.state_dict()[k]), v), k
    assert int(dst.block.count) == 7 and dst.block.count.dtype == np.int64


def test_load_state_dict_accepts_tensors_and_lists():
    m = nn.Linear(2, 1)
    m.load_state_dict({"weight": mdl.tensor([[1.0, 2.0]]), "bias": [0.5]})
    assert np.array_equal(m.weight.numpy(), [[1, 2]]) and np.array_equal(m.bias.numpy(), [0.5])


def test_load_state_dict_missing_key_named():
    net = Net()
    state = dict(Net().state_dict())
    del state["block.fc.bias"]
    with pytest.raises(RuntimeError, match=r"missing keys \['block.fc.bias'\]"):
        net.load_state_dict(state)


def test_load_state_dict_unexpected_key_named():
    state = dict(Net().state_dict(), extra=np.zeros(1))
    with pytest.raises(RuntimeError, match=r"unexpected keys \['extra'\]"):
        Net().load_state_dict(state)


def test_load_state_dict_misshapen_key_named_with_both_shapes():
    state = dict(Net().state_dict())
    state["head.weight"] = np.zeros((3, 2), dtype=np.float32)
    net = Net()
    before = net.block.fc.weight.numpy().copy()
    with pytest.raises(RuntimeError, match=r"'head.weight': this model has shape \(1, 2\), the state has \(3, 2\)"):
        net.load_state_dict(state)
    assert np.array_equal(net.block.fc.weight.numpy(), before)  # nothing half-loaded


def test_load_state_dict_all_problems_in_one_message_and_non_strict():
    state = dict(Net().state_dict(), extra=np.zeros(1))
    del state["head.weight"]
    with pytest.raises(RuntimeError, match=r"missing keys \['head.weight'\]; unexpected keys \['extra'\]"):
        Net().load_state_dict(state)
    net = Net()
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.weight"] and result.unexpected_keys == ["extra"]
    assert np.array_equal(net.block.fc.weight.numpy(), state["block.fc.weight"])
    state["block.scale"] = np.zeros(4, dtype=np.float32)  # shapes are checked even when not strict
    with pytest.raises(RuntimeError, match="block.scale"):
        Net().load_state_dict(state, strict=False)
    with pytest.raises(TypeError, match="mapping"):
        net.load_state_dict([1, 2])


# ----------------------------------------------------------------- devices
def test_to_strict_moves_everything_and_keeps_parameter_objects():
    net = Net()
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    params = list(net.parameters())
    state_before = {k: backend.to_numpy(v).copy() for k, v in net.state_dict().items()}
    assert net.to("strict") is net
    assert list(net.parameters()) == params and all(a is b for a, b in zip(net.parameters(), params))
    for key, value in net.state_dict().items():
        assert backend.device_of(value) == "strict", key
        assert np.array_equal(backend.to_numpy(value), state_before[key])
    assert all(backend.device_of(p.grad) == "strict" for p in params)
    assert backend.device_of(net.block.mean) == "strict"  # the attribute follows the buffer
    net.to("cpu")
    assert all(backend.device_of(v) == "cpu" for v in net.state_dict().values())


def test_to_dtype_casts_floats_only():
    net = Net().to(dtype=np.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.block.mean.dtype == np.float64 and net.block.count.dtype == np.int64
    net.to(np.float32)  # a dtype given first works too
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.double().block.fc.weight.dtype == np.float64 and net.float().head.weight.dtype == np.float32
    with pytest.raises(TypeError, match="floating dtype"):
        net.to(dtype=np.int32)
    with pytest.raises(ValueError, match="device must be"):
        net.to("tpu")


def test_deepcopy_gives_an_independent_model():
    net = Net()
    twin = copy.deepcopy(net)
    twin.head.weight.data[...] = 0
    assert not np.all(net.head.weight.numpy() == 0)
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]


# ------------------------------------------------------------------- repr
def test_repr_nested_like_pytorch():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(3, 2), nn.ReLU())

        def extra_repr(self):
            return "k=1"

    assert repr(WithExtra()) == (
        "WithExtra(\n"
        "  k=1\n"
        "  (inner): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=2, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Linear(4, 5, bias=False)) == "Linear(in_features=4, out_features=5, bias=False)"


def test_load_state_dict_unconvertible_value_writes_nothing():
    net = nn.Linear(2, 2)
    before = net.weight.numpy().copy()
    state = {"weight": np.zeros((2, 2), dtype=np.float32), "bias": np.array(["a", "b"])}
    with pytest.raises(TypeError, match="'bias' cannot be converted to float32"):
        net.load_state_dict(state)
    assert np.array_equal(net.weight.numpy(), before)


def test_optimizer_made_before_to_still_updates_the_parameters():
    net = nn.Linear(2, 1)
    opt = mdl.optim.SGD(net.parameters(), lr=0.5)
    net.to("strict")
    net(mdl.tensor(np.ones((1, 2), dtype=np.float32), device="strict")).sum().backward()
    before = net.weight.numpy().copy()
    opt.step()
    assert np.allclose(net.weight.numpy(), before - 0.5)  # dL/dW = x = (1, 1)
    assert backend.device_of(net.weight.data) == "strict"


@pytest.mark.skipif(backend.cuda_is_available(), reason="checks the message shown without a GPU")
def test_to_cuda_without_gpu_says_how_to_install():
    net = Net()
    with pytest.raises(RuntimeError, match=r"pip install 'minidl\[gpu\]'"):
        net.to("cuda")
    assert all(backend.device_of(v) == "cpu" for v in net.state_dict().values())  # nothing moved
