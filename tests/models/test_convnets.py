"""The seed convnet, the MLP and the model registry."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.models import get_model, keras_mnist_convnet, list_models, mlp


def test_keras_mnist_convnet_has_34826_parameters(device):
    model = keras_mnist_convnet().to(device)
    assert sum(p.size for p in model.parameters()) == 34826
    y = model(mdl.tensor(np.zeros((2, 1, 28, 28), dtype=np.float32), device=device))
    assert y.shape == (2, 10)


def test_convnet_trains_on_a_tiny_problem(rng):
    """A few Adam steps on 16 fixed images drive the loss down (the whole stack end to end)."""
    mdl.manual_seed(0)
    model = keras_mnist_convnet(num_classes=2)
    x = mdl.tensor(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))
    t = np.arange(16) % 2
    x.data[t == 1, :, 10:18, 10:18] += 2.0  # class 1 has a bright square
    opt = mdl.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_mlp_and_registry():
    m = mlp(784, (32, 16), 10)
    assert sum(p.size for p in m.parameters()) == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert m(mdl.tensor(np.zeros((3, 1, 28, 28), dtype=np.float32))).shape == (3, 10)
    assert {"keras-mnist-convnet", "mlp"} <= set(list_models())
    assert isinstance(get_model("keras_mnist_convnet", num_classes=5)[-1], nn.Linear)
    assert get_model("MLP", hidden=(8,))[1].out_features == 8
    with pytest.raises(ValueError, match=r"unknown model 'resnet'.*keras-mnist-convnet"):
        get_model("resnet")
