# %% [markdown]
# # Lesson 2: Gradient checking
#
# What this teaches: how to test a backward pass you wrote. The derivative is
# a limit, (f(x + eps) - f(x - eps)) / (2 eps) for small eps, so we can compare
# any analytical gradient with a numerical one. minidl's `gradcheck` does
# this for every element of every input.
#
# What to look at: why float64 is needed, and how to read a failure.

# %%
import warnings

import numpy as np

import minidl as mdl
from minidl.course.lessons import record

# %% [markdown]
# ## Central differences by hand
# For f(x) = x^3 at x = 2 the derivative is 3 x^2 = 12. The central difference
# has error O(eps^2); a one-sided one would have O(eps).

# %%
def f(x):
    return x**3

for eps in (1e-1, 1e-3, 1e-6):
    central = (f(2 + eps) - f(2 - eps)) / (2 * eps)
    print(f"eps={eps:g}: central difference {central:.10f}  (exact 12)")

# %% [markdown]
# ## Why float64
# Each f(x +- eps) is rounded to the precision of the float. In float32
# (about 7 significant digits) the rounding error of f, divided by 2 eps,
# swamps the answer when eps is small; in float64 (16 digits) it does not.

# %%
for dtype in (np.float32, np.float64):
    x, eps = dtype(2.0), dtype(1e-4)
    central = (f(x + eps) - f(x - eps)) / (2 * eps)
    print(f"{np.dtype(dtype).name}: {float(central):.8f}   error {abs(float(central) - 12):.2e}")

# %% [markdown]
# ## A new op and its check
# A student writes `Cube` with its backward, and checks it in float64.

# %%
class Cube(mdl.Function):
    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, gy):
        return 3 * self.x**2 * gy


x = mdl.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
print("gradcheck:", mdl.gradcheck(lambda t: Cube()(t), (x,)))

# %% [markdown]
# ## Reading a failure
# A backward with a bug: the factor 3 forgotten. The error names the input,
# the worst element's index, both values, the relative error and the tolerance.

# %%
class BuggyCube(Cube):
    def backward(self, gy):
        return self.x**2 * gy  # forgot the 3


try:
    mdl.gradcheck(lambda t: BuggyCube()(t), (x,))
except mdl.GradcheckError as error:
    print("caught:", error)

# %% [markdown]
# ## Check in float32 and see it fail
# Even an honest op fails in float32 with the default tolerances, and minidl
# warns you about it.

# %%
x32 = mdl.tensor(np.random.default_rng(1).standard_normal(5).astype(np.float32), requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ok = mdl.gradcheck(lambda t: Cube()(t), (x32,), raise_exception=False)
print("float32 check passed?", ok, "| warning:", caught[0].message if caught else None)
record("02", float32_passed=ok, float32_warned=bool(caught))

# %% [markdown]
# ## fast_mode for big inputs
# One random direction u instead of every element: two forward passes and one
# backward, whatever the size. It catches a wrong backward with high probability.

# %%
big = mdl.tensor(np.random.default_rng(2).standard_normal((50, 50)), requires_grad=True)
correct = mdl.gradcheck(lambda t: Cube()(t), (big,), fast_mode=True)
buggy = mdl.gradcheck(lambda t: BuggyCube()(t), (big,), fast_mode=True, raise_exception=False)
print("fast_mode, correct op:", correct)
print("fast_mode, buggy op:", buggy)
record("02", fast_mode_correct=correct, fast_mode_buggy=buggy)

# %% [markdown]
# ## Gradients of gradients: Newton's method
# `mdl.grad(f, [x], create_graph=True)` returns df/dx as a Tensor whose
# backward pass is itself a graph, so it can be differentiated again. Newton's
# method uses both: x <- x - f'(x) / f''(x). On f(x) = x^4 - 3x^2 + x, from
# x = 2, compare it with gradient descent with a fixed step of 0.02. Both find
# the same minimum; Newton needs a handful of steps, descent about a hundred.
#
# Each op supports this through a second method, `differentiable_backward`,
# the same formula written with Tensor ops (`Mul`'s is `gy * b, gy * a` on the
# input Tensors). `mdl.gradgradcheck` checks it as gradcheck checks backward:
# the first derivative's own backward against finite differences of it.

# %%
def f(x):
    return x**4 - 3 * x**2 + x


def slope(x):  # f'(x) at x, a float
    return 4 * x**3 - 6 * x + 1


x = mdl.tensor(np.array([2.0]), requires_grad=True)
newton_steps = 0
while abs(slope(x.item())) > 1e-10 and newton_steps < 50:
    g, = mdl.grad(f(x).sum(), [x], create_graph=True)  # f'(x), still in a graph
    h, = mdl.grad(g.sum(), [x])                         # f''(x): the gradient of the gradient
    x = mdl.tensor(x.data - g.data / h.data, requires_grad=True)
    newton_steps += 1
x_newton = x.item()

x, descent_steps = 2.0, 0
while abs(slope(x)) > 1e-10 and descent_steps < 10_000:
    x -= 0.02 * slope(x)
    descent_steps += 1
print(f"Newton: {newton_steps} steps to x = {x_newton:.10f}")
print(f"gradient descent (lr 0.02): {descent_steps} steps to x = {x:.10f}")
print("second-order check of (tanh(t) * t) ** 2:",
      mdl.gradgradcheck(lambda t: (t.tanh() * t) ** 2, (big[:4, :4].detach().requires_grad_(),)))
record("02", newton_steps=newton_steps, descent_steps=descent_steps, newton_x=x_newton, descent_x=x)
