"""The fully connected layer's op: y = x W^T + b, as one Function."""
from __future__ import annotations

from typing import Any

from ..autograd import Function, Tensor
from ._dtypes import check_same_dtype


class Linear(Function):
    """y = x @ W^T + b.

    Shapes: x (..., in), W (out, in), b (out,)  ->  y (..., out).
    Backward, with the leading axes of x flattened into rows X (M, in) and gy
    into G (M, out):

        gx = G @ W            (M, in), reshaped back to x's shape
        gW = G^T @ X          (out, in)
        gb = sum of G's rows  (out,)

    One product each, and none at all for an input that needs no gradient
    (a frozen layer's weight).
    """

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        y = x @ w.T  # (..., out); w.T is a view, BLAS reads it transposed
        if b is not None:
            y += b  # in place: y is a fresh array
        return y

    def backward(self, gy):
        g = gy.reshape(-1, gy.shape[-1])  # (M, out)
        gx = gy @ self.w if self.needs_input_grad[0] else None  # (..., in)
        gw = g.T @ self.x.reshape(-1, self.x.shape[-1]) if self.needs_input_grad[1] else None  # (out, in)
        if len(self.needs_input_grad) == 2:  # called without a bias
            return gx, gw
        gb = g.sum(axis=0) if self.needs_input_grad[2] else None  # (out,)
        return gx, gw, gb

    def differentiable_backward(self, gy):  # the same products on the input Tensors
        x, w = self.inputs[:2]
        g = gy.reshape(-1, gy.shape[-1])  # (M, out)
        gx, gw = gy @ w, g.T @ x.reshape(-1, x.shape[-1])
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, g.sum(axis=0))


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x W^T + b for x (..., in_features), W (out_features, in_features), b (out_features,).

    Raises:
        ValueError: x's last dimension is not in_features (naming both), or W
            is not 2-D, or b is not (out_features,).
        TypeError: x's dtype is not W's (float64 or integer input to a float32
            layer): naming both, as PyTorch refuses it too.
    """
    if len(weight.shape) != 2:
        raise ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}"
        )
    out_features, in_features = weight.shape
    if len(x.shape) == 0 or x.shape[-1] != in_features:
        got = x.shape[-1] if len(x.shape) else "no"
        raise ValueError(
            f"linear: input has {got} features (last dimension of shape {tuple(x.shape)}) but the "
            f"weight expects in_features={in_features} (weight shape {tuple(weight.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise ValueError(f"linear: bias must have shape ({out_features},), got {tuple(bias.shape)}")
    check_same_dtype("linear", x, weight=weight, bias=bias)
    return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)
