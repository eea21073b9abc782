# %% [markdown]
# # Lesson 12: The GPU backend
#
# What this teaches: minidl's arrays come from one namespace, NumPy on the
# CPU or CuPy on the GPU, and the same model code runs on both. What moves
# where: `tensor.to("cuda")` and `model.to("cuda")` copy to the GPU;
# `.numpy()` copies back. Random numbers are drawn on the CPU, so a seed gives
# the same run on both.
#
# What to look at: the same outputs on both devices, and the error a NumPy-only
# code path gets on device data (shown with minidl's strict stand-in when no
# GPU is present).

# %%
import numpy as np

import minidl as mdl
from minidl import backend
from minidl.models import keras_mnist_convnet

print("CuPy with a GPU available:", backend.cuda_is_available())

# %% [markdown]
# ## One namespace
# Code asks for the namespace of its arrays instead of calling numpy directly.

# %%
for device in ["cpu", "strict"] + (["cuda"] if backend.cuda_is_available() else []):
    t = mdl.tensor([1.0, 2.0, 3.0], device=device)
    xp = backend.get_array_module(t.data)
    print(f"{device:7s} namespace {xp.__name__:14s} exp -> {backend.to_numpy(xp.exp(t.data)).round(3)}")

# %% [markdown]
# ## Why a stand-in
# CuPy refuses to turn GPU data into a NumPy array behind your back. On a
# laptop without a GPU, the strict device behaves the same way, so the tests
# catch code that would break on a GPU.

# %%
s = mdl.tensor([1.0, 2.0], device="strict")
try:
    np.asarray(s.data)
except TypeError as error:
    print("refused:", str(error)[:90], "...")
print("the explicit way:", s.numpy())

# %% [markdown]
# ## The same model on each device
# Same seed, same weights, same input: the outputs agree (up to float rounding).

# %%
x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
outputs = {}
for device in ["cpu", "strict"] + (["cuda"] if backend.cuda_is_available() else []):
    mdl.manual_seed(0)
    model = keras_mnist_convnet().to(device)
    model.eval()
    with mdl.no_grad():
        outputs[device] = model(mdl.tensor(x, device=device)).numpy()
    print(f"{device}: first logits {outputs[device][0, :3].round(4)}")
for device, out in outputs.items():
    assert np.allclose(out, outputs["cpu"], atol=1e-4), device
if not backend.cuda_is_available():
    print("No GPU here: the cuda part was skipped. With CuPy and a GPU it runs the same model on the GPU.")
