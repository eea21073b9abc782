# %% [markdown]
# # Lesson 5: Pooling, and the seed convnet
#
# What this teaches: max pooling keeps the strongest response in each window
# (and sends the gradient back only there); average pooling keeps the mean.
# Then the classic small convnet of the Keras MNIST example: its summary
# (34,826 parameters) and a short training run on Fashion-MNIST.
#
# What to look at: where max pooling's gradient goes, where the parameters
# are (most in the last Linear layer), and the accuracy after one pass.

# %%
import time

import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.data.datasets import FashionMNIST
from minidl.lessons import fast
from minidl.models import keras_mnist_convnet

# %% [markdown]
# ## Max and average pooling on a 4x4 input
# A 2x2 window with stride 2 gives 2x2 outputs. Max pooling's gradient is 1
# at each window's maximum and 0 elsewhere; average pooling spreads 1/4 to all.

# %%
x = mdl.tensor(np.array([[[[1.0, 3.0, 2.0, 0.0],
                           [4.0, 2.0, 1.0, 5.0],
                           [0.0, 1.0, 3.0, 2.0],
                           [2.0, 6.0, 1.0, 1.0]]]]), requires_grad=True)
y = F.max_pool2d(x, 2)
print("max pool:\n", y.numpy()[0, 0])
y.sum().backward()
print("its gradient:\n", x.grad[0, 0])
x.grad = None
F.avg_pool2d(x, 2).sum().backward()
print("avg pool gradient:\n", x.grad[0, 0])

# %% [markdown]
# ## The seed convnet
# Conv 32 3x3 -> ReLU -> MaxPool 2 -> Conv 64 3x3 -> ReLU -> MaxPool 2 ->
# Flatten -> Dropout 0.5 -> Linear 1600 -> 10. A conv layer's parameters are
# out * (in * 3 * 3) + out: 32 * 9 + 32 = 320 and 64 * 288 + 64 = 18,496.

# %%
mdl.manual_seed(0)
model = keras_mnist_convnet()
text = nn.summary(model, (1, 28, 28))
assert "34,826" in text

# %% [markdown]
# ## Training it
# Adam with lr 1e-3, batches of 128. With `--fast` a small subset.

# %%
n_train, n_test = (2000, 500) if fast() else (60000, 10000)
x_train, y_train = FashionMNIST(train=True, download=True).get_batch(np.arange(n_train))  # (N, 1, 28, 28)
x_test, y_test = FashionMNIST(train=False, download=True).get_batch(np.arange(n_test))
optimizer = mdl.optim.Adam(model.parameters(), lr=1e-3)
rng = np.random.default_rng(0)
start = time.perf_counter()
order = rng.permutation(n_train)
for step, i in enumerate(range(0, n_train, 128)):
    idx = order[i:i + 128]
    loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        print(f"step {step}: loss {loss.item():.3f}")
print(f"one epoch over {n_train} images in {time.perf_counter() - start:.1f} s")

# %%
model.eval()
with mdl.no_grad():
    accuracy = np.mean([(model(x_test[i:i + 500]).numpy().argmax(1) == y_test[i:i + 500]).mean()
                        for i in range(0, n_test, 500)])
print(f"test accuracy: {accuracy:.1%}")
assert accuracy > 0.5
