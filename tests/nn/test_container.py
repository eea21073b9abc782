"""nn.Sequential and nn.ModuleList."""
from collections import OrderedDict

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


class AddOne(nn.Module):
    def forward(self, x):
        return x + 1


class Double(nn.Module):
    def forward(self, x):
        return x * 2


def test_sequential_applies_in_order(device, xp):
    seq = nn.Sequential(AddOne(), Double(), AddOne())
    y = seq(xp.asarray(np.array([1.0, 2.0], dtype=np.float32)))
    assert y.tolist() == [5.0, 7.0]  # (x + 1) * 2 + 1, not x * 2 + 2
    assert nn.Sequential()(mdl.tensor([3.0])).tolist() == [3.0]  # empty: identity


def test_sequential_indexing_len_iteration_append(rng):
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    assert seq.append(nn.Linear(4, 2)) is seq
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head_less = seq[:-1]
    assert isinstance(head_less, nn.Sequential) and len(head_less) == 2 and head_less[0] is seq[0]
    x = rng.standard_normal((1, 3)).astype(np.float32)
    manual = seq[2](seq[1](seq[0](x)))
    assert np.allclose(seq(x).numpy(), manual.numpy())
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError, match="index 3 is out of range for Sequential of length 3"):
        seq[3]


def test_sequential_setitem_replaces_a_layer_in_place():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seq[-1] = nn.Linear(4, 5)  # a new head
    assert seq[2].out_features == 5 and [n for n, _ in seq.named_children()] == ["0", "1", "2"]


def test_sequential_named_layers_from_ordered_dict():
    seq = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert [n for n, _ in seq.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert seq[0] is seq.hidden


def test_sequential_refuses_non_modules():
    with pytest.raises(TypeError, match="needs a Module, got function"):
        nn.Sequential(lambda x: x)


def test_sequential_repr():
    seq = nn.Sequential(nn.Flatten(), nn.Linear(4, 2), nn.Sigmoid())
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (2): Sigmoid()\n"
        ")"
    )


def test_module_list_registers_parameters_and_moves_with_the_model():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
            self.plain = [nn.Linear(2, 2)]  # a plain list: NOT registered

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    tower = Tower()
    assert [n for n, _ in tower.named_parameters()] == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                                        "blocks.1.bias"]
    tower.to("strict")
    assert mdl.backend.device_of(tower.blocks[1].weight.data) == "strict"
    assert tower(mdl.tensor(np.ones((1, 2), dtype=np.float32), device="strict")).shape == (1, 1)


def test_module_list_operations():
    ml = nn.ModuleList([nn.ReLU()])
    assert ml.append(nn.Tanh()) is ml and ml.extend([nn.Sigmoid(), nn.ReLU()]) is ml
    assert len(ml) == 4 and isinstance(ml[-1], nn.ReLU) and isinstance(ml[1:3], nn.ModuleList)
    assert [type(m).__name__ for m in ml] == ["ReLU", "Tanh", "Sigmoid", "ReLU"]
    ml[0] = nn.Identity()
    assert isinstance(ml[0], nn.Identity)
    with pytest.raises(IndexError, match="out of range for ModuleList"):
        ml[4]
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        ml(mdl.tensor([1.0]))
