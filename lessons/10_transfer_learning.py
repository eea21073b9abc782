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
# The experiment (the seeds' digits one, on Fashion-MNIST): pretrain on
# classes 0-4, then learn classes 5-9 from only 100 images per class.
#
# What to look at: the transfer methods against training from scratch (on these
# easy classes the margin is small; the fewer the new images, the larger it gets).

# %%
import sys

from minidl import transfer
from minidl.lessons import fast, lessons_dir
from minidl.models import keras_mnist_convnet

sys.path.insert(0, str(lessons_dir().parent / "benchmarks"))
import transfer_demo  # noqa: E402  (the experiment, shared with the benchmark)

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
# ## The experiment

# %%
results = transfer_demo.run(fast=fast())
for name, acc in results.items():
    print(f"{name:40s} {acc:.3f}")
scratch = results["1. from scratch"]
print("transfer beats training from scratch:",
      all(v > scratch for k, v in results.items() if k[0] in "234"))
