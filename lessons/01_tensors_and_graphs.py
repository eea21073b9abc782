# %% [markdown]
# # Lesson 1: Tensors and the computational graph
#
# What this teaches: a `Tensor` is an array that remembers how it was made.
# Every operation adds a node to a graph; `backward()` walks that graph in
# reverse and applies the chain rule. We first differentiate a small function
# by hand, then let minidl do it, then look at the graph it built.
#
# What to look at: the gradients by hand and by minidl agree, and the graph
# has one box per operation.

# %%
import numpy as np

import minidl as mdl
from minidl.course.lessons import output_dir, show
from minidl.viz import save_graph, to_dot

# %% [markdown]
# ## By hand
# Take f(x, w, b) = (w * x + b)^2 with x = 2, w = 3, b = 1.
# Forward: u = w x = 6, v = u + b = 7, f = v^2 = 49.
# Backward, from the output to the inputs (the chain rule, one step at a time):
#
#     df/dv = 2 v = 14
#     df/db = df/dv * dv/db = 14 * 1 = 14
#     df/du = df/dv * dv/du = 14
#     df/dw = df/du * du/dw = 14 * x = 28
#     df/dx = df/du * du/dx = 14 * w = 42

# %%
x, w, b = 2.0, 3.0, 1.0
u = w * x
v = u + b
f = v**2
df_dv = 2 * v
print("by hand: f =", f, " df/dw =", df_dv * x, " df/dx =", df_dv * w, " df/db =", df_dv)

# %% [markdown]
# ## By minidl
# The same computation on tensors. `requires_grad=True` marks the inputs we
# want gradients for. After `f.backward()`, each has a `.grad`.

# %%
xt = mdl.tensor(2.0, requires_grad=True)
wt = mdl.tensor(3.0, requires_grad=True)
bt = mdl.tensor(1.0, requires_grad=True)
xt.name, wt.name, bt.name = "x", "w", "b"
ft = (wt * xt + bt) ** 2
ft.backward()
print("by minidl: f =", ft.item(), " df/dw =", wt.grad, " df/dx =", xt.grad, " df/db =", bt.grad)
assert float(wt.grad) == 28 and float(xt.grad) == 42 and float(bt.grad) == 14

# %% [markdown]
# ## The graph
# `ft.creator` is the function that made `ft` (a `Pow`), its `.inputs` the
# tensors it used, and so on back to the leaves. `to_dot` writes the graph in
# Graphviz's DOT language. `save_graph` turns it into a picture: with
# Graphviz's `dot` program when it is installed, otherwise drawn with
# matplotlib (`pip install 'minidl[lessons]'`). Blue: the leaves we asked
# gradients for; yellow boxes: the functions; the arrows follow the data,
# and backward walks them the other way.

# %%
ft = (wt * xt + bt) ** 2  # backward freed the first graph's saved values: build it again
print("ft was made by", ft.creator, "from", ft.creator.inputs)
print(to_dot(ft))
picture = save_graph(ft, output_dir("01") / "graph.png")
if picture:
    show(picture)
else:  # neither Graphviz nor matplotlib
    print("no picture: pip install 'minidl[lessons]' (matplotlib) or Graphviz; the .dot file is in", output_dir("01"))

# %% [markdown]
# ## Gradients add up
# When a value is used twice, its gradient is the sum over both uses (the
# multivariate chain rule). For g = x * x + x at x = 3: dg/dx = 2x + 1 = 7.

# %%
x = mdl.tensor(3.0, requires_grad=True)
g = x * x + x
g.backward()
print("dg/dx =", x.grad)
assert float(x.grad) == 7

# %% [markdown]
# ## Vectors, and no_grad
# On arrays the same rules apply elementwise, and a sum turns the output into
# the one number backward needs. Inside `mdl.no_grad()` no graph is built
# (evaluation needs none).

# %%
v = mdl.tensor(np.arange(4.0), requires_grad=True)
(v * v).sum().backward()
print("d/dv sum(v^2) = 2v =", v.grad)
with mdl.no_grad():
    y = v * 2
print("built a graph under no_grad?", y.creator is not None)
