# %% [markdown]
# # Lesson 9: Batch normalisation
#
# What this teaches: in training, batch norm normalises each channel with the
# statistics of the current batch and keeps running averages of them; in
# evaluation it uses the running averages. Forgetting `model.eval()` is a
# classic bug: a prediction then depends on the other images in the batch.
# At inference the whole layer folds into the preceding convolution. And it
# makes deep networks train much faster.
#
# What to look at: the per-channel mean and std after the layer, the
# prediction that changes with its batch-mates, the fused conv's outputs, and
# the training curves of a deep MLP with and without batch norm.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, output_dir, record, show
from minidl.train import fit
from minidl.viz import save_curves

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

# %% [markdown]
# ## Batch norm and the speed of training
# The same five-layer MLP (four hidden layers of 128) twice, once with a
# BatchNorm1d after each hidden Linear, trained by plain SGD (lr 0.02, no
# momentum) on the same Fashion-MNIST images in the same order. First, why
# the plain one will struggle: with the default initialisation each layer's
# outputs are smaller than its inputs, so after four layers the signal (and,
# going back, the gradient) is a fraction of what it was. Batch norm rescales
# every layer's outputs to unit variance, whatever the weights.

# %%
def deep_mlp(batch_norm):
    layers, width = [nn.Flatten()], 784
    for _ in range(4):
        layers += [nn.Linear(width, 128)] + ([nn.BatchNorm1d(128)] if batch_norm else []) + [nn.ReLU()]
        width = 128
    return nn.Sequential(*layers, nn.Linear(128, 10))


N = 2000 if fast() else 10000
images, labels = FashionMNIST(train=True).get_batch(np.arange(N + 1000))  # the last 1,000 validate
for batch_norm in (False, True):
    mdl.manual_seed(0)
    net = deep_mlp(batch_norm)
    out, stds = mdl.tensor(images[:256]), []
    with mdl.no_grad():
        for layer in net:
            out = layer(out)
            if isinstance(layer, nn.ReLU):
                stds.append(float(out.numpy().std()))
    print(f"{'with' if batch_norm else 'without'} batch norm: std of each hidden layer's output at the start",
          np.round(stds, 3))

# %%
histories = {}
for batch_norm in (False, True):
    mdl.manual_seed(0)
    net = deep_mlp(batch_norm)
    name = "with batch norm" if batch_norm else "without"
    histories[name] = fit(net, DataLoader(TensorDataset(images[:N], labels[:N]), batch_size=64, shuffle=True, seed=0),
                          nn.CrossEntropyLoss(), mdl.optim.SGD(net.parameters(), lr=0.02), 4,
                          validation_data=(images[N:], labels[N:]), verbose=0)
    print(f"{name:16s} training loss per epoch {np.round(histories[name]['loss'], 3)}, "
          f"validation accuracy {np.round(histories[name]['val_accuracy'], 3)}")
record("09", loss_plain=histories["without"]["loss"][-1], loss_bn=histories["with batch norm"]["loss"][-1],
       val_plain=histories["without"]["val_accuracy"][-1], val_bn=histories["with batch norm"]["val_accuracy"][-1])
show(save_curves(histories, output_dir("09") / "speed.png", keys=("loss", "val_accuracy"),
                 title="a 5-layer MLP, plain SGD lr 0.02"))

# %% [markdown]
# Measured with `--fast` (2,000 images, 4 epochs): without batch norm the
# loss does not leave log(10) = 2.30, the value of a uniform guess, and the
# validation accuracy stays at chance (0.105); with it the loss is 0.53 and
# the validation accuracy 0.72-0.77 from the first epoch on. At full size
# (10,000 images, 4 epochs, 30 s) the plain network starts to learn in its
# fourth epoch (loss 1.63, validation accuracy 0.47) while batch norm's is at
# 0.36 and 0.77-0.85. Batch norm's validation accuracy wobbles from epoch to
# epoch: in eval mode it uses running averages of statistics that move while
# the weights change, and with a larger learning rate (try 0.05) the wobble
# grows. Part of the plain network's trouble is its start: its signal
# shrinks layer by layer (the standard deviations above), and batch norm
# undoes that. Its practical gift is that the scale of the weights stops
# mattering much, so larger learning rates and deeper networks train
# without tuning the start.
#
# Try it: initialise the plain network's Linear weights for ReLU
# (`nn.init.kaiming_normal_`) and add momentum 0.9. Does the plain network
# train now, and how far behind batch norm is it after 4 epochs?
