# %% [markdown]
# # Lesson 13: A self-supervised pretext task
#
# What this teaches: labels are expensive, images are not. A *pretext task*
# makes labels out of the images themselves. Here (after Doersch et al., 2015):
# cut an image into a 3x3 grid of patches, show the network the centre patch
# and one of its 8 neighbours, and ask *which* neighbour it is. To answer, the
# network must learn what objects look like (a sleeve goes beside a body, a
# sole below a shoe). Then its patch features are reused for classification
# with very few labels.
#
# What to look at: the pretext accuracy (chance is 1/8), then the few-label
# accuracy with pretext features against the same network with random weights.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import transfer
from minidl.data.datasets import FashionMNIST
from minidl.lessons import fast

# %% [markdown]
# ## Patches and the 8 arrangements
# 28x28 images give a 3x3 grid of 8x8 patches with 2-pixel gaps (the gaps stop
# the network from cheating by matching edges pixel to pixel).

# %%
OFFSETS = [0, 10, 20]
NEIGHBOURS = [(r, c) for r in range(3) for c in range(3) if (r, c) != (1, 1)]  # the 8 answers


def patch(images, r, c):
    return images[:, :, OFFSETS[r]:OFFSETS[r] + 8, OFFSETS[c]:OFFSETS[c] + 8]


def pretext_batch(images, rng):
    """Centre patches, neighbour patches and which neighbour (0-7) each is."""
    which = rng.integers(0, 8, len(images))
    others = np.stack([patch(images[i:i + 1], *NEIGHBOURS[k])[0] for i, k in enumerate(which)])
    return patch(images, 1, 1), others, which


class PatchPair(nn.Module):
    """A shared encoder for both patches, then a classifier over the 8 arrangements."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(2 * 128, 64), nn.ReLU(), nn.Linear(64, 8))

    def forward(self, centre, other):
        return self.head(mdl.concat([self.encoder(centre), self.encoder(other)], axis=1))


# %% [markdown]
# ## Pretext training on unlabeled images

# %%
train = FashionMNIST(train=True)
n = 3000 if fast() else 30000
images = train.get_batch(np.arange(n))[0]  # the labels are not used here
mdl.manual_seed(0)
model = PatchPair()
opt = mdl.optim.Adam(model.parameters(), lr=2e-3)
rng = np.random.default_rng(0)
for epoch in range(2 if fast() else 5):
    order = rng.permutation(n)
    correct = 0
    for i in range(0, n, 128):
        centre, other, which = pretext_batch(images[order[i:i + 128]], rng)
        logits = model(centre, other)
        loss = F.cross_entropy(logits, which)
        opt.zero_grad()
        loss.backward()
        opt.step()
        correct += int((logits.numpy().argmax(1) == which).sum())
    print(f"epoch {epoch + 1}: pretext accuracy {correct / n:.1%} (chance 12.5%)")

# %% [markdown]
# ## Transfer with few labels
# Features of an image: the encoder applied to its 9 patches, concatenated.
# A logistic regression on 20 labelled images per class, with the pretext
# encoder against the same encoder with random weights.

# %%
def features(encoder, imgs):
    encoder.eval()
    with mdl.no_grad():
        return np.concatenate([encoder(patch(imgs, r, c)).numpy() for r in range(3) for c in range(3)], axis=1)


test = FashionMNIST(train=False)
labels = train.labels[:n]
few = np.concatenate([np.flatnonzero(labels == k)[:20] for k in range(10)])
x_test, y_test = test.get_batch(np.arange(2000))
mdl.manual_seed(0)
random_encoder = PatchPair().encoder
for name, encoder in (("random encoder", random_encoder), ("pretext encoder", model.encoder)):
    clf = transfer.fit_linear_classifier(features(encoder, images[few]), labels[few], epochs=100, lr=0.01)
    with mdl.no_grad():
        acc = (clf(features(encoder, x_test)).numpy().argmax(1) == y_test).mean()
    print(f"{name:16s}: {acc:.1%} test accuracy from {len(few)} labels")
