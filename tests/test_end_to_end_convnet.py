"""The seed convnet, one epoch on the real Fashion-MNIST (batch 128, Adam 1e-3): at least 82% test accuracy."""
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.data import DataLoader
from minidl.data.datasets import FashionMNIST
from minidl.train import evaluate, fit



@pytest.mark.needs_fashion_mnist
def test_seed_convnet_one_epoch_reaches_82_percent():
    mdl.manual_seed(0)
    model = mdl.models.keras_mnist_convnet()
    train = DataLoader(FashionMNIST(train=True), batch_size=128, shuffle=True, seed=0, prefetch=2)
    test = DataLoader(FashionMNIST(train=False), batch_size=1000)
    fit(model, train, nn.CrossEntropyLoss(), mdl.optim.Adam(model.parameters(), lr=1e-3), 1, verbose=0)
    accuracy = evaluate(model, test)["accuracy"]
    assert accuracy >= 0.82, accuracy
