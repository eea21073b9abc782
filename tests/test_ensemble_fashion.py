"""Three models trained with different seeds vote to at least the best single one's accuracy (Fashion-MNIST)."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.data import DataLoader
from minidl.data.datasets import FashionMNIST
from minidl.ensemble import Ensemble
from minidl.train import fit

pytestmark = pytest.mark.needs_fashion_mnist


@pytest.fixture(scope="module")
def three_models():
    train = FashionMNIST(train=True)
    models = []
    for seed in range(3):
        mdl.manual_seed(seed)
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        fit(model, DataLoader(train, batch_size=128, shuffle=True, seed=seed), nn.CrossEntropyLoss(),
            mdl.optim.Adam(model.parameters(), lr=1e-3), 2, verbose=0)
        models.append(model)
    return models


@pytest.mark.parametrize("mode", ["vote", "average"])
def test_three_seeds_combine_to_at_least_the_best_member(mode, three_models):
    result = Ensemble(three_models, mode=mode).evaluate(DataLoader(FashionMNIST(train=False), batch_size=1000))
    assert result["accuracy"] >= max(result["members"]), result
    assert len(set(np.round(result["members"], 4))) > 1  # the seeds made different models
