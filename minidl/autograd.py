"""Reverse-mode automatic differentiation: Tensor, Function, backward, no_grad.

The whole engine fits in this file. Read it in this order:

1. :class:`Function` - one operation. ``forward`` maps input arrays to an
   output array; ``backward`` maps the gradient of the loss with respect to the
   output (``gy``) to the gradients with respect to each input. Calling a
   Function on tensors runs ``forward`` and, when gradients are wanted, links
   the output to the function (``output.creator = function``) and the function
   to its inputs. Those links are the computational graph.
2. :class:`Tensor` - an array plus what autograd needs: ``requires_grad``,
   ``grad`` and ``creator``. Its operators and other methods (``+``,
   ``.sum()``, ``[...]``) are bound from one table, ``functional/methods.py``,
   so this file needs no op and imports nothing from ``functional/``.
3. :meth:`Tensor.backward` - sorts the functions of the graph so that each
   comes after every function that used its output (a topological order,
   found without recursion, so a graph 10,000 ops deep works), then walks them
   from the loss back to the leaves applying the chain rule::

       dL/dx = sum over the uses of x of  backward_of_that_use(dL/dy)

   Gradients of leaves (tensors made by the user, such as weights) are added
   into their ``.grad``.

Two conveniences sit in the engine rather than in every op:

* Broadcasting. ``a + b`` with ``a`` of shape (3, 1) and ``b`` of shape (4,)
  gives (3, 4); the gradient that comes back for ``a`` is (3, 4) too and must be
  summed back to (3, 1). The engine does that (``sum_to_shape``) for every
  input, so an op's backward may return gradients of the broadcast shape.
* Freeing. After a backward pass the functions drop what they saved (the
  activations), unless ``retain_graph=True``. A second backward through a freed
  graph is an error, never a silent doubling of the gradients.

Gradients of gradients (``create_graph=True``, :func:`grad`): the walk then
calls each function's :meth:`Function.differentiable_backward`, the same
formula written with Tensor ops, so the backward pass is itself a graph.
"""
from __future__ import annotations

import weakref
from typing import Any, Sequence

import numpy

from . import backend
from .backend import get_array_module, sum_to_shape

from .grad_mode import enable_grad, is_grad_enabled, no_grad  # noqa: F401  (mdl.no_grad lives there)
from .torch_habits import TorchHabits, method as _method

# ------------------------------------------------------------------- Function
class Function(TorchHabits):
    """One differentiable operation: ``forward`` and ``backward`` side by side.

    Subclass it and write both on raw arrays (NumPy or CuPy)::

        class Square(Function):
            def forward(self, x):          # x: array
                self.x = x                 # save what backward needs
                return x * x
            def backward(self, gy):        # gy: dL/dy, same shape as y
                return 2 * self.x * gy     # dL/dx = dL/dy * dy/dx

        y = Square()(t)                    # calling it builds the graph

    Options of an op (a stride, an axis) go to ``__init__``; a fresh Function
    object is made for every call, so ``self`` may hold what forward saved.

    ``backward`` receives one gradient per output and returns one gradient per
    input (a tuple when there are several), or ``None`` for an input that needs
    none. ``self.needs_input_grad[i]`` tells whether input ``i`` wants one, so
    an op can skip work (a frozen weight costs nothing). A ``None`` (or a
    missing ``return``) for an input that wants a gradient is an error.

    PyTorch habits work too (``Square.apply(t)``, ``save_for_backward``, the
    ``@staticmethod`` form with a ``ctx``): see :mod:`minidl.torch_habits`.
    """

    # Set by __call__ when the graph is recorded.
    inputs: tuple
    needs_input_grad: tuple

    def __call__(self, *inputs: Any):
        tensors = _as_tensors(inputs)
        self.needs_input_grad = tuple(t.requires_grad for t in tensors)
        ys = _method(self, "forward")(*[t.data for t in tensors])
        single = not isinstance(ys, tuple)
        ys = (ys,) if single else ys
        record = is_grad_enabled() and any(self.needs_input_grad)
        outputs = tuple(Tensor(y, requires_grad=record) for y in ys)
        if record:
            self.inputs = tensors
            self._outputs = [weakref.ref(o) for o in outputs]
            self._output_meta = [(y.shape, y.dtype) for y in ys]
            for o in outputs:
                o.creator = self
        return outputs[0] if single else outputs

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    def differentiable_backward(self, *gys: Any) -> Any:
        """``backward`` written with Tensor ops on ``self.inputs`` (Tensors), used by
        ``create_graph=True``: its gradients are graphs, to differentiate again."""
        raise RuntimeError(
            f"{type(self).__name__}'s backward is written on raw arrays, so it cannot be differentiated "
            f"again: create_graph=True (a gradient of a gradient) does not support this op"
        )

    def _release(self) -> None:
        """Forget everything saved for backward (and the inputs): free memory."""
        self.__dict__.clear()
        self._freed = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _as_tensors(inputs: Sequence[Any]) -> tuple:
    """The arguments of a Function as Tensors; a Python number becomes a constant
    beside the first Tensor (its device and dtype: :func:`backend.constant_like`)."""
    ref = next((x.data for x in inputs if isinstance(x, Tensor)), None)
    out = []
    for x in inputs:
        if not isinstance(x, Tensor) and ref is not None and isinstance(x, (int, float, bool, numpy.generic)):
            x = backend.constant_like(x, ref)
        out.append(x if isinstance(x, Tensor) else Tensor(x))
    return tuple(out)


# --------------------------------------------------------------------- Tensor
class Tensor:
    """An array that remembers how it was made.

    Attributes:
        data: the array (NumPy, CuPy or the strict stand-in).
        requires_grad: whether gradients flow to (and through) it.
        grad: after ``backward``, dL/d(this tensor), an array of ``data``'s
            shape on the same device (leaves only, or after ``retain_grad``);
            a Tensor after ``backward(create_graph=True)``.
        creator: the Function that produced it, or None for a leaf.
    """

    __array_priority__ = 1000  # so ndarray * Tensor calls Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        if not backend.is_array(data):
            data = backend.from_python(data)
        if requires_grad and data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating point tensors can require gradients, got dtype {data.dtype}"
            )
        self.data = data
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.creator: Function | None = None
        self.name = name
        self._retains_grad = False

    # ---- basic facts
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> numpy.dtype:
        return self.data.dtype

    @property
    def device(self) -> backend.Device:
        return backend.Device(backend.device_of(self.data))

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def grad_fn(self) -> Function | None:
        """PyTorch's name for :attr:`creator`."""
        return self.creator

    # ---- leaving the graph
    def detach(self) -> "Tensor":
        """The same data, cut from the graph (no creator, no grad)."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError("requires_grad_ can only change leaf tensors; use detach()")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"only floating point tensors can require gradients, got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (handy for lessons)."""
        self._retains_grad = True

    def zero_grad(self) -> None:
        self.grad = None

    # ---- backward
    def backward(self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Fill ``.grad`` of every leaf this tensor depends on with dL/dleaf.

        Args:
            grad: dL/d(self). May be omitted for a one-element tensor (then 1).
            retain_graph: keep the saved activations for another backward
                (default: ``create_graph``).
            create_graph: record the backward pass too, so that ``.grad`` holds
                Tensors that can be differentiated again (see :func:`grad`).
        """
        grad = _initial_gradient(self, grad, create_graph)
        if self.creator is None:  # backward on a leaf: its gradient is grad itself
            _accumulate(self, grad)
            return
        _run_backward(self, grad, create_graph if retain_graph is None else retain_graph, create_graph)

    # Operators (+, @, <, ...), elementwise methods, reductions, reshaping and
    # indexing are bound onto Tensor from one table: minidl/functional/methods.py.

    __hash__ = object.__hash__  # tensors are dict keys and set members by identity


# ------------------------------------------------------------ backward engine
def grad(outputs: Tensor, inputs: Sequence[Tensor], grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs), returned, not added into any ``.grad`` (PyTorch's ``autograd.grad``).

    With ``create_graph=True`` the gradients are Tensors in a graph of their own,
    to differentiate again: ``g, = mdl.grad(f, [x], create_graph=True)`` then
    ``g.backward()`` puts d2f/dx2 in ``x.grad`` (Newton's method), or ``g`` enters
    a loss (a gradient penalty). Only the functions between outputs and inputs
    run. An unused input is an error, or ``None`` with ``allow_unused=True``.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wanted = {x: None for x in inputs}
    g = _initial_gradient(outputs, grad_outputs, create_graph)
    if outputs in wanted:
        wanted[outputs] = g
    elif outputs.creator is not None:
        _run_backward(outputs, g, create_graph if retain_graph is None else retain_graph, create_graph, wanted)
    for i, x in enumerate(inputs):
        if wanted[x] is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the output (or does not require "
                f"grad); pass allow_unused=True to get None for it"
            )
    return tuple(wanted[x] for x in inputs)


def _initial_gradient(root: Tensor, grad: Any, create_graph: bool) -> Any:
    """dL/d(root) to start from: 1 for a one-element root, else ``grad`` checked."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward() on a tensor that does not require grad: no input of the "
            "computation had requires_grad=True (or it ran under no_grad())"
        )
    xp = get_array_module(root.data)
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a one-element output (a loss), "
                f"got shape {root.shape}; pass backward(grad=...) of that shape"
            )
        grad = xp.ones_like(root.data)
    elif not (create_graph and isinstance(grad, Tensor)):
        grad = grad.data if isinstance(grad, Tensor) else grad
        grad = grad if backend.is_array(grad) else xp.asarray(grad, dtype=root.dtype)
    if grad.shape != root.shape:
        raise ValueError(f"backward(grad=...) needs shape {root.shape} (the tensor's), got {grad.shape}")
    return Tensor(grad) if create_graph and not isinstance(grad, Tensor) else grad


def _topological_order(root: Tensor, wanted: dict | None = None) -> list:
    """Functions reachable from ``root``, each after all functions it feeds.

    An iterative depth-first search: a function is appended once all of its
    inputs' creators are appended (post-order), using an explicit stack
    instead of recursion so that very deep graphs work. With ``wanted``
    (:func:`grad`), only the functions that lead to a wanted tensor are kept.
    """
    order, visited = [], set()
    stack = [(root.creator, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for x in getattr(fn, "inputs", ()):
            if x.creator is not None and id(x.creator) not in visited:
                stack.append((x.creator, False))
    if wanted is not None:  # inputs' creators come first in the order, so one pass decides
        useful: set = set()
        for fn in order:
            if getattr(fn, "_freed", False) or any(x in wanted or id(x.creator) in useful for x in fn.inputs):
                useful.add(id(fn))
        order = [fn for fn in order if id(fn) in useful]
    return order


def _run_backward(root: Tensor, grad: Any, retain_graph: bool, create_graph: bool = False,
                  wanted: dict | None = None) -> None:
    """The chain rule, from ``root`` to the leaves; gradients of ``wanted`` tensors go there, not into ``.grad``."""
    order = _topological_order(root, wanted)
    # dL/dt for the non-leaf tensors met so far. Keyed by the tensor itself
    # (hashed by identity), which also keeps it alive until its creator runs.
    grads = {root: grad}
    with enable_grad() if create_graph else no_grad():  # create_graph: record the backward ops too
        for fn in reversed(order):  # from the loss towards the leaves
            if getattr(fn, "_freed", False):
                raise RuntimeError(
                    "Trying to backward through the graph a second time: its saved values were freed by the "
                    "first backward(). Pass backward(retain_graph=True) the first time to go through it again."
                )
            gys = []
            for ref, (shape, dtype) in zip(fn._outputs, fn._output_meta):
                out = ref()
                g = grads.pop(out, None) if out is not None else None
                if g is None:  # an output that did not reach the loss
                    g = get_array_module(fn.inputs[0].data).zeros(shape, dtype=dtype)
                    g = Tensor(g) if create_graph else g
                gys.append(g)
            step = fn.differentiable_backward if create_graph else _method(fn, "backward")
            for x, gx in zip(fn.inputs, _check_gradients(fn, step(*gys))):
                if gx is None or not x.requires_grad:
                    continue
                gx = _fit_gradient(fn, x, gx)
                if wanted is not None:  # grad(): collect the wanted ones, change no .grad
                    if x in wanted:
                        wanted[x] = gx if wanted[x] is None else wanted[x] + gx
                elif x.creator is None or x._retains_grad:
                    _accumulate(x, gx)
                if x.creator is not None:
                    grads[x] = grads[x] + gx if x in grads else gx
            if not retain_graph:
                fn._release()


def _check_gradients(fn: Function, gxs: Any) -> tuple:
    """One gradient per input, and an array (not None) for each input that needs one."""
    gxs = tuple(gxs) if isinstance(gxs, (tuple, list)) else (gxs,)
    name = type(fn).__name__
    if len(gxs) != len(fn.inputs):
        raise RuntimeError(
            f"{name}.backward returned {len(gxs)} gradient(s) for {len(fn.inputs)} input(s); "
            f"return one per input of forward (None for an input that needs none)"
        )
    for i, (x, gx) in enumerate(zip(fn.inputs, gxs)):
        if gx is None and x.requires_grad:
            raise RuntimeError(
                f"{name}.backward returned None for input {i} (shape {x.shape}), which requires a "
                f"gradient; did backward forget a return? None is only for inputs with "
                f"needs_input_grad[{i}] False"
            )
    return gxs


def _fit_gradient(fn: Function, x: Tensor, gx: Any) -> Any:
    """Sum a broadcast gradient back to ``x``'s shape (a Tensor's under create_graph); refuse a wrong shape."""
    if gx.shape != x.shape:
        try:
            gx = gx.sum_to_size(x.shape) if isinstance(gx, Tensor) else sum_to_shape(gx, x.shape)
        except ValueError:
            gx = None
        if gx is None or gx.shape != x.shape:
            raise RuntimeError(
                f"{type(fn).__name__}.backward returned a gradient that cannot be summed to "
                f"the input's shape {x.shape}"
            )
    if gx.dtype != x.dtype:
        gx = gx.to(dtype=x.dtype) if isinstance(gx, Tensor) else gx.astype(x.dtype)
    return gx


def _accumulate(x: Tensor, gx: Any) -> None:
    """``x.grad += gx``, keeping a private copy (an op may hand the same array to two inputs,
    and an optimizer must not change one through the other); a Tensor is never changed in place."""
    if x.grad is None:
        x.grad = gx if isinstance(gx, Tensor) else gx.copy()
    else:
        x.grad = x.grad + gx
