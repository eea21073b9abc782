"""The fully connected layer's op: y = x W^T + b."""
from __future__ import annotations

from typing import Any

from ..autograd import Function, Tensor


class Linear(Function):
    """y = x @ W^T + b.

    Shapes: x (..., in), W (out, in), b (out,)  ->  y (..., out).
    Backward (x flattened to rows X (M, in), gy to G (M, out)):
        gx = G @ W          (M, in)
        gW = G^T @ X        (out, in)
        gb = sum of G's rows (out,)
    """

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        y = x @ w.T  # (..., out)
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        g = gy.reshape(-1, gy.shape[-1])  # (M, out)
        gx = (gy @ self.w) if self.needs_input_grad[0] else None  # (..., in)
        gw = g.T @ self.x.reshape(-1, self.x.shape[-1]) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 3:
            gb = g.sum(axis=0) if self.needs_input_grad[2] else None
            return gx, gw, gb
        return gx, gw


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x W^T + b for x (..., in_features), W (out_features, in_features), b (out_features,)."""
    in_x = x.shape[-1] if len(x.shape) else None
    out_features, in_features = weight.shape
    if in_x != in_features:
        raise ValueError(
            f"linear: input has {in_x} features (shape {tuple(x.shape)}) but the weight expects "
            f"in_features={in_features} (weight shape {tuple(weight.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise ValueError(f"linear: bias must have shape ({out_features},), got {tuple(bias.shape)}")
    return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)
