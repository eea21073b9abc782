"""dtype rules shared by the ops: integer promotion and the layer dtype check.

**Promotion** (PyTorch's rule, not NumPy's). NumPy turns ``int64 / 2``,
``int64 + 0.5`` and ``exp(int64)`` into float64; minidl is float32 by
default, so an integer (or bool) tensor that meets floating-point math
becomes the *default float dtype* (float32 unless ``set_default_dtype``
changed it)::

    mdl.tensor([1, 2]) / 2        -> float32   (true division of integers)
    mdl.tensor(1) + 0.5           -> float32   (a Python float)
    mdl.tensor(2).exp()           -> float32   (a float function of an integer)
    0.7 ** mdl.tensor([1, 2])     -> float32
    int_tensor * float64_tensor   -> float64   (the float operand's dtype wins)

Integer-only arithmetic stays integer (``int_tensor + 1``, ``int_tensor * 2``).

**Layers** (PyTorch's rule). An op with parameters (linear, conv2d,
batch_norm) refuses an input whose dtype differs from its parameters',
naming both, instead of silently computing in another dtype:
:func:`check_same_dtype`.
"""
from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Tensor


def is_float(a: Any) -> bool:
    """True for a floating-point array or Tensor."""
    return a.dtype.kind == "f"


def _cast(t: Any, dtype: Any) -> Any:
    """``t`` (an integer Tensor or array: it carries no gradient) as a constant of ``dtype``."""
    data = t.data if isinstance(t, Tensor) else t
    return Tensor(data.astype(dtype))


def to_float(x: Any) -> Any:
    """An integer/bool tensor -> the default float dtype; a float one unchanged.

    For ops that only make sense on floats (exp, log, sqrt, sigmoid, softmax, mean...).
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x if is_float(x) else _cast(x, backend.get_default_dtype())


def promote_pair(a: Tensor, b: Tensor, true_division: bool = False) -> tuple:
    """Cast the integer operand of a float/integer pair to the float operand's dtype.

    With ``true_division`` two integer operands both become the default float
    dtype (``/`` of integers is a float, as in Python and PyTorch).
    """
    fa, fb = is_float(a), is_float(b)
    if fa and not fb:
        return a, _cast(b, a.dtype)
    if fb and not fa:
        return _cast(a, b.dtype), b
    if true_division and not fa and not fb:
        dtype = backend.get_default_dtype()
        return _cast(a, dtype), _cast(b, dtype)
    return a, b


def check_same_dtype(op: str, x: Any, **params: Any) -> None:
    """Refuse an input whose dtype differs from the parameters' (None ones skipped).

    ``check_same_dtype("linear", x, weight=w, bias=b)`` raises::

        TypeError: linear: input dtype float64 does not match weight dtype float32;
        cast the input (x.float()) or the layer (layer.double() / layer.to(dtype=...))
    """
    for name, p in params.items():
        if p is not None and p.dtype != x.dtype:
            raise TypeError(
                f"{op}: input dtype {x.dtype} does not match {name} dtype {p.dtype}; cast the input "
                f"(x.to(dtype=...), x.float()) or the layer (layer.to(dtype=...), layer.double())"
            )
