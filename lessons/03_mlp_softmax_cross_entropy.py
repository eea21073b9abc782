# %% [markdown]
# # Lesson 3: Linear layers, softmax, cross-entropy, and an MLP on Fashion-MNIST
#
# What this teaches: a linear layer is y = x W^T + b; softmax turns scores
# into probabilities; cross-entropy measures how much probability the right
# class got. Together with ReLU they make a multilayer perceptron (MLP).
#
# What to look at: the softmax of huge scores stays finite, the loss
# starts near log(10) = 2.30 (a guess among 10 classes), and the accuracy.

# %%
import time

import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, record

# %% [markdown]
# ## Softmax, stably
# softmax(z)_i = exp(z_i) / sum_j exp(z_j). exp(1000) overflows, but
# subtracting max(z) first changes nothing in the result and keeps it finite.

# %%
z = mdl.tensor([[1000.0, 999.0, 0.0]])
print("softmax:", F.softmax(z).numpy(), " log_softmax:", F.log_softmax(z).numpy())

# %% [markdown]
# ## Cross-entropy by hand
# loss = -log softmax(z)[label]. Its gradient with respect to z is
# softmax(z) - onehot(label): push up the right class, down the others.

# %%
z = mdl.tensor([[2.0, 1.0, 0.1]], requires_grad=True)
loss = F.cross_entropy(z, np.array([0]))
p = np.exp([2.0, 1.0, 0.1]) / np.exp([2.0, 1.0, 0.1]).sum()
print("loss:", loss.item(), " by hand:", -np.log(p[0]))
loss.backward()
print("gradient:", z.grad, " softmax - onehot:", p - [1, 0, 0])

# %% [markdown]
# ## The data
# 60,000 training images of 28x28 pixels, 10 kinds of clothing. Flattened to
# 784 numbers in [0, 1].

# %%
def flat_images(train):
    """All images of a split as rows of 784 pixels in [0, 1], and the labels."""
    data = FashionMNIST(train=train, download=True)
    x, y = data.get_batch(np.arange(len(data)))
    return x.reshape(len(x), 784), y


x_train, y_train = flat_images(train=True)
x_test, y_test = flat_images(train=False)
if fast():
    x_train, y_train, x_test, y_test = x_train[:3000], y_train[:3000], x_test[:1000], y_test[:1000]
print(x_train.shape, y_train[:10])

# %% [markdown]
# ## An MLP and its training loop
# Two linear layers with a ReLU between them. Each step: forward, loss,
# zero the old gradients, backward, update.

# %%
mdl.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = mdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
rng = np.random.default_rng(0)
start = time.perf_counter()
for epoch in range(1 if fast() else 3):
    order = rng.permutation(len(x_train))
    for step, i in enumerate(range(0, len(order), 128)):
        idx = order[i : i + 128]
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch == 0 and step in (0, 10, 100):
            print(f"step {step}: loss {loss.item():.3f}")
        if epoch == 0 and step == 0:
            first_loss = loss.item()
    print(f"epoch {epoch + 1}: loss {loss.item():.3f} ({time.perf_counter() - start:.1f} s)")

# %%
model.eval()
with mdl.no_grad():
    predictions = model(x_test).data.argmax(axis=1)
accuracy = (predictions == y_test).mean()
print(f"test accuracy: {accuracy:.1%}")
record("03", first_loss=first_loss, test_accuracy=accuracy)
assert accuracy > 0.6

# %% [markdown]
# Measured: the first loss is 2.31 (log 10 = 2.30: the untrained network
# guesses uniformly). With `--fast` (3,000 images, one epoch of 24 steps) the
# test accuracy is 66.9%; at full size (60,000 images, 3 epochs, a few
# seconds) 83.9%. Lesson 5's convnet does better on the same images (about
# 90%): it looks at neighbourhoods of pixels instead of each pixel alone.
