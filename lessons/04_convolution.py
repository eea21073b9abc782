# %% [markdown]
# # Lesson 4: Convolution arithmetic, and convolution as a matrix product
#
# What this teaches: how big a convolution's output is, what padding, stride
# and dilation do, how im2col turns a convolution into one matrix product,
# and why col2im *adds*.
#
# What to look at: the output-size formula against real outputs, the edge
# maps of a real image, and the counts that col2im produces.

# %%
import numpy as np

import minidl as mdl
import minidl.nn.functional as F
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import output_dir, show
from minidl.viz import save_grid

# %% [markdown]
# ## The output size
# Per dimension, with input n, kernel k, padding p (each side), stride s, dilation d:
#
#     n_out = floor((n + 2p - d (k - 1) - 1) / s) + 1      (d = 1: floor((n + 2p - k) / s) + 1)
#
# Padding p = (k - 1) / 2 with stride 1 keeps the size ("same"); stride 2
# halves it; dilation spreads the kernel out without more weights.

# %%
def conv_output_size(n, k, s, p, d):
    """The formula above, with p the padding on each side."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


x = mdl.tensor(np.zeros((1, 1, 28, 28), dtype=np.float32))
print(" k  p  s  d   formula  conv2d")
for k, p, s, d in [(3, 0, 1, 1), (3, 1, 1, 1), (5, 2, 1, 1), (3, 1, 2, 1), (3, 0, 1, 2), (4, 0, 3, 1)]:
    w = mdl.tensor(np.zeros((1, 1, k, k), dtype=np.float32))
    got = F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    print(f"{k:2d} {p:2d} {s:2d} {d:2d}   {conv_output_size(28, k, s, p, d):7d}  {got:6d}")
    assert got == conv_output_size(28, k, s, p, d)

# %% [markdown]
# ## On a real image
# A vertical-edge and a horizontal-edge kernel (Sobel), and a blur, applied to
# a Fashion-MNIST image. Each output channel is one kernel's response.

# %%
image, _ = FashionMNIST(train=False, download=True).get_batch([0])  # (1, 1, 28, 28)
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
kernels = np.stack([sobel_x, sobel_x.T, np.full((3, 3), 1 / 9, dtype=np.float32)])[:, None]  # (3, 1, 3, 3)
maps = F.conv2d(mdl.tensor(image), mdl.tensor(kernels), padding=1).numpy()[0]
strided = F.conv2d(mdl.tensor(image), mdl.tensor(kernels[:1]), stride=2).numpy()[0, 0]
print("input", image.shape, "-> same-padded maps", maps.shape, "; stride 2 without padding:", strided.shape)
path = save_grid([image[0, 0], *maps, strided], output_dir("04") / "edges.png", scale=4,
                 titles=["input", "d/dx", "d/dy", "blur", "stride 2"])
show(path)

# %% [markdown]
# ## im2col: every patch becomes a column
# A 1-channel 4x4 input and a 2x2 kernel with stride 1 give 3x3 = 9 patches
# of 4 values: im2col makes a 4 x 9 matrix. Row r = kernel offset, column l = output pixel.

# %%
x = mdl.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
col = F.im2col(x, kernel_size=2)
print(x.numpy()[0, 0])
print("im2col ->", col.shape)
print(col.numpy()[0])

# %% [markdown]
# ## The convolution is W @ col
# The kernel flattened to a row (1 x 4) times the 4 x 9 matrix gives the 9
# outputs. minidl's conv2d is exactly this, plus reshapes. Check it against
# a plain double loop.

# %%
w = np.array([[1.0, 2.0], [3.0, 4.0]])
via_matmul = (w.reshape(1, 4) @ col.numpy()[0]).reshape(3, 3)
loops = np.array([[(x.numpy()[0, 0, i:i + 2, j:j + 2] * w).sum() for j in range(3)] for i in range(3)])
print(via_matmul)
assert np.allclose(via_matmul, loops)
assert np.allclose(F.conv2d(x, mdl.tensor(w.reshape(1, 1, 2, 2))).numpy()[0, 0], loops)

# %% [markdown]
# ## Why col2im adds
# im2col copies each input pixel into every patch that covers it. Going back
# (the gradient of im2col), each copy's gradient must be *added* into the
# pixel. col2im of a matrix of ones therefore counts the patches per pixel:
# corners are in 1 patch, the middle in 4.

# %%
counts = F.col2im(mdl.tensor(np.ones((1, 4, 9))), (4, 4), kernel_size=2).numpy()[0, 0]
print(counts)
assert counts[0, 0] == 1 and counts[1, 1] == 4
# The adjoint identity <im2col(x), y> == <x, col2im(y)>:
rng = np.random.default_rng(0)
a, b = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 4, 9))
lhs = (F.im2col(mdl.tensor(a), 2).numpy() * b).sum()
rhs = (a * F.col2im(mdl.tensor(b), (4, 4), 2).numpy()).sum()
print("<im2col(x), y> =", lhs, " <x, col2im(y)> =", rhs)
