# %% [markdown]
# # Lesson 10: Transfer learning
#
# What this teaches: features learned on one task help another. Which way to
# reuse them depends on how much data the new task has and how similar it is:
#
# |                 | similar task                    | different task                           |
# |-----------------|---------------------------------|------------------------------------------|
# | little data     | frozen features + a new head    | earlier-layer features + a shallow model |
# | a lot of data   | fine-tune, small lrs below      | fine-tune, or train from scratch         |
#
# The experiment (the seeds' digits one, on Fashion-MNIST): pretrain the seed
# convnet (lesson 5) on classes 0-4 (T-shirt, trouser, pullover, dress,
# coat), then learn classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) from
# only 10 labelled images per class, four ways.
#
# What to look at: each transfer method against training from scratch, and
# the curves: the frozen model reaches in 5 epochs what the one from
# scratch reaches in 15.

# %%
import copy

import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl import transfer
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, output_dir, record, show
from minidl.models import keras_mnist_convnet
from minidl.train import evaluate, fit
from minidl.viz import save_curves

# %% [markdown]
# ## The tools, one at a time
# Freezing sets `requires_grad=False`: no gradient is computed for those
# weights and the optimizer skips them. `replace_head` swaps the last Linear.
# `param_groups_by_depth` gives lower layers smaller learning rates.

# %%
model = keras_mnist_convnet(num_classes=5)
transfer.freeze(model)
head = transfer.replace_head(model, 5)
print("trainable:", [name for name, p in model.named_parameters() if p.requires_grad])
transfer.unfreeze(model)
for group in transfer.param_groups_by_depth(model, base_lr=1e-3, decay=0.3):
    print(f"layer {group['name']}: lr {group['lr']:.2e}")

# %% [markdown]
# ## The data
# `pick` draws images of some classes (labels renumbered from 0). The few
# labelled images of the new task are for training; a separate 50 per class,
# also from the training set, are the validation set that draws the curves
# below (nothing is chosen with it); the test images are used once, at the end.

# %%
def pick(dataset, classes, per_class=None, skip=0, seed=0):
    """``per_class`` images of each class (all with None), after skipping ``skip`` of each; labels from 0."""
    rng = np.random.default_rng(seed)
    idx = []
    for k in classes:
        members = rng.permutation(np.flatnonzero(dataset.labels == k))
        idx.append(members[skip:skip + per_class] if per_class else members)
    x, y = dataset.get_batch(np.sort(np.concatenate(idx)))
    return x, (y - min(classes)).astype(np.int64)


train_set, test_set = FashionMNIST(train=True), FashionMNIST(train=False)
PER_CLASS = 10
x_old, y_old = pick(train_set, range(5), per_class=600 if fast() else None)
x_new, y_new = pick(train_set, range(5, 10), per_class=PER_CLASS)
x_val, y_val = pick(train_set, range(5, 10), per_class=50, skip=PER_CLASS)
x_test, y_test = pick(test_set, range(5, 10), per_class=300 if fast() else None)
val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=500)
print(f"pretraining {len(x_old)} images; new task {len(x_new)} labelled, {len(x_val)} validation, {len(x_test)} test")


def train(model, x, y, epochs, lr=1e-3, params=None):
    """Adam on the trainable parameters (or the param groups given); returns fit's History."""
    params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    return fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.Adam(params, lr=lr), epochs,
               val_loader=val_loader, verbose=0)


def test_accuracy(model):
    return evaluate(model, DataLoader(TensorDataset(x_test, y_test), batch_size=500))["accuracy"]


# %% [markdown]
# ## Pretraining on the old classes

# %%
mdl.manual_seed(0)
pretrained = keras_mnist_convnet(num_classes=5)
fit(pretrained, DataLoader(TensorDataset(x_old, y_old), batch_size=128, shuffle=True, seed=0),
    nn.CrossEntropyLoss(), mdl.optim.Adam(pretrained.parameters(), lr=1e-3), 2 if fast() else 3, verbose=0)
x_old_test, y_old_test = pick(test_set, range(5), per_class=200)
print(f"pretrained convnet on classes 0-4: {evaluate(pretrained, DataLoader(TensorDataset(x_old_test, y_old_test), batch_size=500))['accuracy']:.3f}")

# %% [markdown]
# ## Four ways to learn the new classes
# 1. from scratch: a fresh convnet trained on the 50 new images alone;
# 2. frozen features + new head: the pretrained convnet, every layer frozen,
#    a fresh last layer trained (a logistic regression on its features);
# 3. features + a shallow classifier: the pretrained convnet's 1600 features
#    into a logistic regression fitted outside the network. A feature that is
#    zero on all 50 training images tells the classifier nothing and cannot be
#    standardised (its spread is 0), so we keep only the features that vary;
# 4. fine-tuning: every layer trained, lower layers with smaller learning rates.

# %%
EPOCHS = 15
histories, results = {}, {}

mdl.manual_seed(1)
scratch = keras_mnist_convnet(num_classes=5)
histories["1. from scratch"] = train(scratch, x_new, y_new, EPOCHS)
results["1. from scratch"] = test_accuracy(scratch)

frozen = copy.deepcopy(pretrained)
transfer.freeze(frozen)
mdl.manual_seed(1)
transfer.replace_head(frozen, 5)
histories["2. frozen + new head"] = train(frozen, x_new, y_new, EPOCHS, lr=3e-3)
results["2. frozen + new head"] = test_accuracy(frozen)

features = lambda x: transfer.extract_features(pretrained, [(x, None)], layer="6")[0]  # noqa: E731 - Flatten's output
f_new, f_test = features(x_new), features(x_test)
varies = f_new.std(axis=0) > 1e-3
clf = transfer.fit_linear_classifier(f_new[:, varies], y_new, epochs=100, lr=0.01, weight_decay=1e-3)
with mdl.no_grad():
    results["3. features + logistic regression"] = float((clf(f_test[:, varies]).numpy().argmax(1) == y_test).mean())
print(f"features that vary on the 50 images: {varies.sum()} of {varies.size}")

tuned = copy.deepcopy(pretrained)
mdl.manual_seed(1)
transfer.replace_head(tuned, 5)
groups = transfer.param_groups_by_depth(tuned, base_lr=1e-3, decay=0.3)
histories["4. fine-tuning"] = train(tuned, x_new, y_new, EPOCHS, params=groups)
results["4. fine-tuning"] = test_accuracy(tuned)

# %% [markdown]
# ## The results
# Measured with `--fast` (600 pretraining images per class, 2 epochs; 1,500
# test images): scratch 0.832, frozen + new head 0.882, logistic regression
# on the features 0.861, fine-tuning 0.874: every transfer method is 3 to 5
# points better. At full size (all 30,000 pretraining images, 3 epochs; the
# 5,000 test images; two minutes on two cores): scratch 0.825, frozen + new
# head 0.886, logistic regression 0.886, fine-tuning 0.884, 6 points better.
# With 100 labelled images per class instead of 10 (the benchmark's version,
# `benchmarks/transfer_demo.py --fast`, which also pretrains a little longer)
# scratch reached 0.911 and the transfer methods 0.90 to 0.92: classes 5-9
# are easy enough that 500 images teach a convnet from scratch almost as
# much. Transfer matters most when labels are fewest (set `PER_CLASS = 100`
# in the data cell above and see).

# %%
scratch_acc = results["1. from scratch"]
for name, acc in results.items():
    print(f"{name:36s} {acc:.3f}   {acc - scratch_acc:+.3f} against scratch")
record("10", scratch=scratch_acc, frozen=results["2. frozen + new head"],
       logistic=results["3. features + logistic regression"], finetune=results["4. fine-tuning"],
       scratch_val_epoch5=histories["1. from scratch"]["val_accuracy"][4],
       frozen_val_epoch5=histories["2. frozen + new head"]["val_accuracy"][4])
print("every transfer method beats training from scratch:", all(acc > scratch_acc for acc in list(results.values())[1:]))

# %% [markdown]
# ## The curves
# Training loss and validation accuracy per epoch. After 5 epochs (`--fast`)
# the frozen model is right on 0.87 of the validation images, the model from
# scratch on 0.57: the pretrained features already separate the new classes
# and only the head has to learn; from scratch, the features must be learnt
# from 50 images first.

# %%
show(save_curves(histories, output_dir("10") / "curves.png", keys=("loss", "val_accuracy"),
                 title=f"classes 5-9 from {PER_CLASS} images per class"))
