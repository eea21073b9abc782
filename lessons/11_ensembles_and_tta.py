# %% [markdown]
# # Lesson 11: Ensembles and test-time augmentation
#
# What this teaches: several models vote (or average their probabilities) and
# are right more often than a typical one of them alone. If three models err independently with
# probability e, the majority errs with p(e) = 1 - (1-e)^3 - 3 (1-e)^2 e. Real
# models' errors are correlated, so the gain is smaller: we measure both.
# Test-time augmentation (TTA) averages one model's predictions over
# augmented copies of each test image.
#
# What to look at: the formula's prediction against the measured ensemble
# error, and TTA's change in accuracy: it depends on whether the model was
# trained with the augmentation it is tested with.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl import augment as A
from minidl.data import DataLoader, Subset
from minidl.data.datasets import FashionMNIST
from minidl.ensemble import Ensemble, majority_error
from minidl.course.lessons import fast, record
from minidl.train import fit

n_train, epochs = (3000, 3) if fast() else (10000, 4)
train = Subset(FashionMNIST(train=True), range(n_train))
test = Subset(FashionMNIST(train=False), range(2000 if fast() else 10000))
test_loader = DataLoader(test, batch_size=500)

# %% [markdown]
# ## Three models, three seeds

# %%
def train_mlp(seed, transform=None):
    """A small MLP trained on ``train`` with its own seed (initial weights and shuffling)."""
    mdl.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    fit(model, DataLoader(train, batch_size=64, shuffle=True, seed=seed, transform=transform), nn.CrossEntropyLoss(),
        mdl.optim.Adam(model.parameters(), lr=1e-3), epochs, verbose=0)
    return model


models = [train_mlp(seed) for seed in range(3)]

# %%
for mode in ("vote", "average"):
    result = Ensemble(models, mode=mode).evaluate(test_loader)
    print(f"{mode:8s} ensemble accuracy {result['accuracy']:.3f}; members {np.round(result['members'], 3)}")
members_error = 1 - np.mean(result["members"])
vote_error = 1 - Ensemble(models, "vote").evaluate(test_loader)["accuracy"]
print(f"mean member error e = {members_error:.3f}; if independent, the vote would err "
      f"p(e) = {majority_error(members_error):.3f}; measured: {vote_error:.3f}")
record("11", member_error=members_error, vote_error=vote_error, independent_error=majority_error(members_error),
       average_accuracy=result["accuracy"], best_member=max(result["members"]))

# %% [markdown]
# Measured with `--fast` (3,000 training images, 2,000 test images): the
# members score 0.788, 0.773 and 0.804, the vote 0.798. The vote beats the
# average member by a point but not the best one, and it errs on 20% of the
# images where independent members would let it err on 12%: the three models
# learnt from the same images and mostly fail on the same ones. At full size
# (10,000 training and 10,000 test images, about a minute): members 0.830,
# 0.833, 0.828, the vote 0.835, better than each; error 0.165 against 0.076
# if the errors were independent (P(both wrong) is 0.139, not 0.028).

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
# Average the probabilities of the image and its mirror image (a left-right
# flip keeps a Fashion-MNIST class: a shoe facing the other way is still a
# shoe). Two models: `models[0]`, trained on the images as they are, and one
# trained with random flips (the same seed otherwise).

# %%
flipper = A.RandomFlip(p=1.0, seed=0)  # always flip: the second view is the mirror image
flip_trained = train_mlp(0, transform=A.RandomFlip(p=0.5, seed=0))
tta = {}
for name, model in (("trained as is", models[0]), ("trained with flips", flip_trained)):
    plain = (A.tta_predict(model, x_test, None, n=1).argmax(1) == y_test).mean()
    mirrored = (A.tta_predict(model, x_test, flipper, n=2).argmax(1) == y_test).mean()
    tta[name] = (plain, mirrored)
    print(f"{name:19s}: plain accuracy {plain:.3f}, with TTA (original + mirror) {mirrored:.3f} ({mirrored - plain:+.3f})")
record("11", tta_plain=tta["trained as is"][0], tta_mirror=tta["trained as is"][1],
       tta_flip_plain=tta["trained with flips"][0], tta_flip_mirror=tta["trained with flips"][1])

# %% [markdown]
# TTA is not free accuracy. Measured with `--fast` (3,000 training images):
# the model trained as is loses about 12 points with the mirror view
# (0.79 -> 0.67); at full size (10,000 images) 8.5 points (0.831 -> 0.746),
# and (in a separate run) a view shifted by 5% cost it 3. An MLP has no
# notion of "the same thing, elsewhere or mirrored": to it a mirrored shoe
# is a new pattern it never saw, and averaging in a confused guess makes the
# answer worse. The model trained with flips has seen mirrored images, and
# for it TTA changes little (-0.5 points with `--fast`, +0.4 at full size:
# 0.818 -> 0.821). TTA helps when the model is (nearly) invariant to the
# augmentation, because it was trained with it and can represent it:
# convnets on natural images with crops and flips gain about a point on
# ImageNet. Here, at most half a point, so the cheaper answer is no TTA at all.
