# %% [markdown]
# # Lesson 9: Batch normalisation
#
# What this teaches: in training, batch norm normalises each channel with the
# statistics of the current batch and keeps running averages of them; in
# evaluation it uses the running averages. Forgetting `model.eval()` is a
# classic bug: a prediction then depends on the other images in the batch.
# At inference the whole layer folds into the preceding convolution.
#
# What to look at: the per-channel mean and std after the layer, the
# prediction that changes with its batch-mates, and the fused conv's outputs.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn

rng = np.random.default_rng(0)

# %% [markdown]
# ## Batch statistics in training
# Channels with very different scales come out with mean 0 and std 1.

# %%
bn = nn.BatchNorm2d(3)
x = mdl.tensor((rng.standard_normal((16, 3, 8, 8)) * [[[[1.0]], [[10.0]], [[0.1]]]] + 5).astype(np.float32))
y = bn(x).numpy()
print("input mean/std per channel: ", x.numpy().mean(axis=(0, 2, 3)).round(2), x.numpy().std(axis=(0, 2, 3)).round(2))
print("output mean/std per channel:", y.mean(axis=(0, 2, 3)).round(3), y.std(axis=(0, 2, 3)).round(3))
print("running mean after one batch (momentum 0.1):", bn.running_mean.round(3))

# %% [markdown]
# ## Running statistics
# After many batches the running averages approach the data's statistics.

# %%
for _ in range(50):
    bn(x)
print("running mean:", bn.running_mean.round(2), " running var:", bn.running_var.round(2))

# %% [markdown]
# ## The train/eval bug
# In training mode the output for an image depends on its batch. Evaluate one
# image alone and within a batch of different images: the answers differ.
# In eval mode they agree.

# %%
image = x[:1]
others = mdl.tensor((rng.standard_normal((7, 3, 8, 8)) * 3).astype(np.float32))
batch = mdl.concat([image, others])
bn.train()
alone, together = bn(mdl.concat([image, image])).numpy()[0], bn(batch).numpy()[0]
print("train mode: same image, different outputs? max difference", np.abs(alone - together).max())
bn.eval()
alone, together = bn(image).numpy()[0], bn(batch).numpy()[0]
print("eval mode:  max difference", np.abs(alone - together).max())
assert np.allclose(alone, together)

# %% [markdown]
# ## Fusing into the convolution
# In eval mode, bn(conv(x)) = gamma (W x + b - mean) / sqrt(var + eps) + beta is
# itself a convolution with W' = W * gamma / sqrt(var + eps) and
# b' = (b - mean) * gamma / sqrt(var + eps) + beta: no extra work at test time.

# %%
conv = nn.Conv2d(3, 4, 3, padding=1)
bn4 = nn.BatchNorm2d(4)
for _ in range(5):
    bn4(conv(x))  # gather some running statistics
conv.eval()
bn4.eval()
fused = nn.fuse_conv_bn(conv, bn4)
with mdl.no_grad():
    a, b = bn4(conv(x)).numpy(), fused(x).numpy()
print("fused conv equals conv + bn: max difference", np.abs(a - b).max())
assert np.allclose(a, b, atol=1e-4)
