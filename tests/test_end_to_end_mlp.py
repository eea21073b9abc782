"""One epoch of an MLP on the real Fashion-MNIST reaches at least 80% test accuracy."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.data.datasets import FashionMNIST



def flat_images(train):
    data = FashionMNIST(train=train)
    x, y = data.get_batch(np.arange(len(data)))
    return x.reshape(len(x), 784), y


@pytest.mark.needs_fashion_mnist
def test_mlp_one_epoch_reaches_80_percent():
    x_train, y_train = flat_images(train=True)
    x_test, y_test = flat_images(train=False)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = mdl.optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x_train))
    for i in range(0, len(order), 128):
        idx = order[i : i + 128]
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with mdl.no_grad():
        accuracy = float((model(x_test).data.argmax(axis=1) == y_test).mean())
    assert accuracy >= 0.80, accuracy
