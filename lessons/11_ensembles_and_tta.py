# %% [markdown]
# # Lesson 11: Ensembles and test-time augmentation
#
# What this teaches: several models vote (or average their probabilities) and
# are right more often than each alone. If three models err independently with
# probability e, the majority errs with p(e) = 1 - (1-e)^3 - 3 (1-e)^2 e. Real
# models' errors are correlated, so the gain is smaller: we measure both.
# Test-time augmentation (TTA) averages one model's predictions over
# augmented copies of each test image.
#
# What to look at: the formula's prediction against the measured ensemble
# error, and TTA's change in accuracy.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl import augment as A
from minidl.data import DataLoader, Subset
from minidl.data.datasets import FashionMNIST
from minidl.ensemble import Ensemble, majority_error
from minidl.lessons import fast
from minidl.train import fit

n_train = 1000 if fast() else 10000
train = Subset(FashionMNIST(train=True), range(n_train))
test = Subset(FashionMNIST(train=False), range(1000 if fast() else 10000))
test_loader = DataLoader(test, batch_size=500)

# %% [markdown]
# ## Three models, three seeds

# %%
models = []
for seed in range(3):
    mdl.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    fit(model, DataLoader(train, batch_size=64, shuffle=True, seed=seed), nn.CrossEntropyLoss(),
        mdl.optim.Adam(model.parameters(), lr=1e-3), 2 if fast() else 4, verbose=0)
    models.append(model)

# %%
for mode in ("vote", "average"):
    result = Ensemble(models, mode=mode).evaluate(test_loader)
    print(f"{mode:8s} ensemble accuracy {result['accuracy']:.3f}; members {np.round(result['members'], 3)}")
members_error = 1 - np.mean(result["members"])
print(f"mean member error e = {members_error:.3f}; if independent, the vote would err "
      f"p(e) = {majority_error(members_error):.3f}; measured: {1 - Ensemble(models, 'vote').evaluate(test_loader)['accuracy']:.3f}")

# %% [markdown]
# ## How correlated are the errors?
# Of the images one model gets wrong, how many does another get wrong too?

# %%
x_test, y_test = test.dataset.get_batch(test.indices)
wrong = [Ensemble([m]).predict(x_test) != y_test for m in models]
both = (wrong[0] & wrong[1]).mean()
print(f"P(model 0 wrong) = {wrong[0].mean():.3f}, P(model 1 wrong) = {wrong[1].mean():.3f}, "
      f"P(both) = {both:.3f} vs {wrong[0].mean() * wrong[1].mean():.4f} if independent")

# %% [markdown]
# ## Test-time augmentation
# Average the probabilities of the image and small shifts of it.

# %%
probs = A.tta_predict(models[0], x_test, A.RandomShift(0.05, 0.05, seed=0), n=4)
plain = A.tta_predict(models[0], x_test, None, n=1)
print(f"one model: plain accuracy {(plain.argmax(1) == y_test).mean():.3f}, "
      f"with TTA (4 views) {(probs.argmax(1) == y_test).mean():.3f}")
