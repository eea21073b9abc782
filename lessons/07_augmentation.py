# %% [markdown]
# # Lesson 7: Data augmentation
#
# What this teaches: every augmentation op, seen on the same images; and why
# augmentation helps with little data. The seeds' story: a model meant to
# tell car brands apart, trained on photos where every car of one brand faces
# left and every car of the other faces right, learns the *direction*, not the
# brand. Random flips remove that shortcut. We rebuild it with Fashion-MNIST
# shoes (sneakers vs ankle boots) and measure it.
#
# What to look at: the grid of ops, then the test accuracy with and without flips.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl import augment as A
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, output_dir, record, show
from minidl.train import evaluate, fit
from minidl.viz import save_grid

test_set = FashionMNIST(train=False)
sample, _ = test_set.get_batch(np.arange(6))

# %% [markdown]
# ## Every op on the same images
# Each row: one op applied to the six images (each image gets its own random parameters).

# %%
ops = {
    "flip": A.RandomFlip(p=0.5, seed=0), "crop": A.RandomCrop(28, padding=4, seed=0),
    "rotation": A.RandomRotation(30, seed=0), "shift": A.RandomShift(0.2, 0.2, seed=0),
    "zoom": A.RandomZoom(0.3, seed=0), "shear": A.RandomShear(25, seed=0),
    "affine": A.RandomAffine(20, (0.1, 0.1), (0.8, 1.2), 10, seed=0),
    "brightness/contrast": A.ColorJitter(0.5, 0.5, seed=0), "blur": A.GaussianBlur(5, sigma=(1.0, 2.0), seed=0),
    "sharpen": A.Sharpen(2.0, seed=0), "erasing": A.RandomErasing(p=1.0, seed=0),
    "noise": A.GaussianNoise(0.1, seed=0),
}
tiles, titles = list(sample), ["original"] * 6
for name, op in ops.items():
    tiles += list(op(sample))
    titles += [name] * 6
path = save_grid(tiles, output_dir("07") / "all_ops.png", ncols=6, scale=2, titles=titles)
show(path)

# %% [markdown]
# ## Mixing images
# MixUp blends two images and their labels; CutMix pastes a patch of one
# into the other and weighs the labels by area. Labels become soft: under
# each mixed tile, the two classes it is made of and their weights, which is
# what the network is trained to predict for it.

# %%
labels6 = test_set.labels[:6]
xm, ym = A.MixUp(0.4, num_classes=10, seed=0)(sample, labels6)
print("MixUp soft labels of the first image:", np.round(ym[0], 2))
for name, op in (("mixup", A.MixUp(0.4, num_classes=10, seed=0)), ("cutmix", A.CutMix(1.0, num_classes=10, seed=0))):
    show(A.show(op, sample, output_dir("07") / f"{name}.png", rows=2, scale=2, labels=labels6,
                class_names=FashionMNIST.classes))

# %% [markdown]
# ## The left-facing / right-facing shortcut
# Training set: sneakers (class 7) as they are (facing left), ankle boots
# (class 9) mirrored (facing right). Test set: both classes, each image
# facing either way at random. A model can score 100% in training by looking
# at the direction alone.

# %%
train_full = FashionMNIST(train=True)
n = 300 if fast() else 2000
rng = np.random.default_rng(0)


def shoes(dataset, count):
    idx = np.flatnonzero(np.isin(dataset.labels, [7, 9]))[:count]
    x, y = dataset.get_batch(idx)
    return x, (y == 9).astype(np.int64)  # 0 sneaker, 1 ankle boot


x_train, y_train = shoes(train_full, n)
x_train[y_train == 1] = x_train[y_train == 1][..., ::-1]  # every boot faces right
x_test, y_test = shoes(test_set, 1000)
flip = rng.random(len(x_test)) < 0.5
x_test[flip] = x_test[flip][..., ::-1]  # the test set faces both ways


def train_and_test(transform):
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(8 * 6 * 6, 2))
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True, seed=0, transform=transform)
    fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.Adam(model.parameters(), lr=3e-3), 3 if fast() else 6,
        verbose=0)
    tr = evaluate(model, DataLoader(TensorDataset(x_train, y_train), batch_size=500))["accuracy"]
    te = evaluate(model, DataLoader(TensorDataset(x_test, y_test), batch_size=500))["accuracy"]
    return tr, te


plain = train_and_test(None)
flipped = train_and_test(A.RandomFlip(p=0.5, seed=0))
print(f"without flips: train {plain[0]:.1%}, test {plain[1]:.1%}")
print(f"with flips:    train {flipped[0]:.1%}, test {flipped[1]:.1%}")
record("07", plain_train=plain[0], plain_test=plain[1], flipped_train=flipped[0], flipped_test=flipped[1])

# %% [markdown]
# Measured with `--fast` (300 training shoes, 3 epochs): without flips the
# model is perfect on its training set (100%) and poor on the test set (66%):
# it learnt which way the shoe faces. With random flips the direction tells
# it nothing, so it must learn the shoe: 92% on the test set. At full size
# (2,000 training shoes, 6 epochs): 99.9% and 60.1% without flips, 94.4% on
# the test set with them.
