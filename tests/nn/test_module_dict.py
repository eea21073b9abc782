"""nn.ModuleDict: dict-like, registers its modules in order, PyTorch's state_dict names."""
from collections import OrderedDict

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.heads = nn.ModuleDict({"digit": nn.Linear(4, 10), "parity": nn.Linear(4, 2, bias=False)})

    def forward(self, x, task):
        return self.heads[task](self.body(x))


def test_state_dict_names_and_order_as_pytorch():
    model = TwoHeads()
    assert list(model.state_dict()) == ["body.weight", "body.bias", "heads.digit.weight", "heads.digit.bias",
                                        "heads.parity.weight"]
    assert len(list(model.parameters())) == 5
    assert model(mdl.tensor(np.ones((2, 3), np.float32)), "parity").shape == (2, 2)


def test_matches_torch_state_dict_names():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ModuleDict({"b": torch.nn.Linear(2, 3), "a": torch.nn.BatchNorm1d(3)})
    ours = nn.ModuleDict({"b": nn.Linear(2, 3), "a": nn.BatchNorm1d(3)})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours["b"].weight.numpy(), theirs["b"].weight.detach().numpy())


def test_dict_protocol_keeps_insertion_order():
    d = nn.ModuleDict([("z", nn.ReLU()), ("a", nn.Tanh())])
    d["m"] = nn.Sigmoid()
    assert list(d) == d.keys() == ["z", "a", "m"] and len(d) == 3
    assert "a" in d and "q" not in d
    assert [type(m).__name__ for m in d.values()] == ["ReLU", "Tanh", "Sigmoid"]
    assert [k for k, _ in d.items()] == ["z", "a", "m"]
    d["a"] = nn.ReLU6()  # replacing keeps the place
    assert d.keys() == ["z", "a", "m"] and isinstance(d["a"], nn.ReLU6)
    assert isinstance(d.pop("z"), nn.ReLU) and d.keys() == ["a", "m"]
    del d["m"]
    assert d.keys() == ["a"] and not hasattr(d, "m")
    d.update(OrderedDict([("x", nn.Tanh()), ("y", nn.ReLU())]))
    assert d.keys() == ["a", "x", "y"]
    d.clear()
    assert len(d) == 0 and list(d.state_dict()) == []


def test_train_eval_and_to_reach_the_modules():
    d = nn.ModuleDict({"bn": nn.BatchNorm1d(2), "fc": nn.Linear(2, 2)})
    d.eval()
    assert not d["bn"].training
    d.to(dtype=np.float64)
    assert d["fc"].weight.dtype == np.float64


@pytest.mark.parametrize("key, match", [
    (1, r"ModuleDict keys must be non-empty strings without '.', got 1"),
    ("a.b", r"keys must be non-empty strings without '.', got 'a.b'"),
    ("", r"got ''"),
    ("keys", r"ModuleDict key 'keys' would shadow the attribute ModuleDict.keys"),
    ("training", r"would shadow the attribute ModuleDict.training"),
])
def test_bad_keys_are_named(key, match):
    with pytest.raises(KeyError, match=match):
        nn.ModuleDict()[key] = nn.ReLU()


def test_missing_key_and_bad_values():
    d = nn.ModuleDict({"a": nn.ReLU()})
    with pytest.raises(KeyError, match=r"ModuleDict has no module 'b'; its keys are \['a'\]"):
        d["b"]
    with pytest.raises(KeyError, match=r"no module 'b'"):
        del d["b"]
    with pytest.raises(TypeError, match=r"add_module\('c'\) needs a Module, got int"):
        d["c"] = 3
    with pytest.raises(TypeError, match=r"ModuleDict.update: element 0 must be a \(key, module\) pair, got 'ab'"):
        nn.ModuleDict(["ab"])
