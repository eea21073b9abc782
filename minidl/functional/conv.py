"""2-D convolution as one matrix product: im2col, matmul, col2im.

A convolution slides a (C, kh, kw) kernel over the input and takes a dot
product at every position. Written as loops that is six nested loops; written
as a matrix product it is one call to the BLAS, which is what makes it fast:

1. **im2col** copies every (C, kh, kw) patch of the input into one column of a
   matrix, the *column matrix* (a patch per output pixel)::

       x (N, C, H, W)  ->  cols (C*kh*kw, N*OH*OW)

2. **one matrix product** with the weight flattened to rows::

       W (O, C*kh*kw) @ cols (C*kh*kw, N*OH*OW)  ->  (O, N*OH*OW)  -> y (N, O, OH, OW)

3. **backward**, also matrix products (gy reshaped to G (O, N*OH*OW))::

       gW   = G @ cols^T          (O, C*kh*kw)       the weight gradient
       gcol = W^T @ G             (C*kh*kw, N*OH*OW)  the gradient of every patch
       gx   = col2im(gcol)        (N, C, H, W)

   **col2im** is the adjoint of im2col: an input pixel was copied into every
   patch that covers it (up to kh*kw of them), so its gradient is the *sum*
   of the gradients of those copies. That is why col2im adds where im2col
   copied; the test ``<im2col(x), y> == <x, col2im(y)>`` checks it.

Sizes (per spatial axis, with padding p on both sides, dilation d, stride s)::

    OH = (H + 2p - d*(kh - 1) - 1) // s + 1

Layout of the column matrix. We keep it as (C, kh, kw, N, OH, OW), that is
rows (C*kh*kw) by columns (N*OH*OW) with the whole batch side by side, so each
convolution is *one* large matrix product (the BLAS is fastest on large ones)
instead of N small ones. The product then comes out as (O, N, OH, OW), and
``y`` is returned as the transposed *view* (N, O, OH, OW) of it: no copy.
Its memory is ordered (O, N, OH, OW), which NumPy's elementwise ops keep, so
that the next convolution's im2col reads it in order and the gradient that
comes back has the same order, which makes ``gy`` -> G a free reshape too.
The public :func:`im2col` returns PyTorch's ``unfold`` layout
(N, C*kh*kw, OH*OW), a transposed view of the same array.

Memory. The column matrix is kh*kw times the size of the input (9 times for
3x3 kernels). When it would exceed :func:`get_memory_budget` (256 MB unless
:func:`set_memory_budget` says otherwise) the batch is processed in chunks of
samples, with the same result, and the columns are recomputed in backward
rather than kept.
"""
from __future__ import annotations

import contextlib
import numbers
from typing import Any, Iterator, Sequence, Union

from ..autograd import Function, Tensor
from ..validate import pair, positive_int
from ..backend import get_array_module
from ._dtypes import check_same_dtype

IntOrPair = Union[int, Sequence[int]]

# ------------------------------------------------------------ memory budget
_memory_budget = 256 * 2**20  # bytes a column matrix may take before we chunk


def get_memory_budget() -> int:
    """Bytes one column matrix may take before the batch is processed in chunks."""
    return _memory_budget


def set_memory_budget(nbytes: int) -> None:
    """Set the column-matrix budget in bytes (default 256 MB). Results do not change."""
    global _memory_budget
    if not isinstance(nbytes, numbers.Integral) or isinstance(nbytes, bool) or nbytes < 1:
        raise ValueError(f"memory budget must be a positive number of bytes, got {nbytes!r}")
    _memory_budget = int(nbytes)


@contextlib.contextmanager
def memory_budget(nbytes: int) -> Iterator[None]:
    """``with memory_budget(2**20): ...`` runs a block under another budget."""
    previous = get_memory_budget()
    set_memory_budget(nbytes)
    try:
        yield
    finally:
        set_memory_budget(previous)


# ------------------------------------------------------- argument checking
def _output_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """OH = (H + pad - d*(k-1) - 1) // s + 1, with ``pad`` the total of both sides."""
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def _geometry(x_shape, kernel, stride, padding, dilation, op: str):
    """Check the sizes and return (OH, OW). ``padding`` is ((top, bottom), (left, right))."""
    sizes = []
    for axis, name in enumerate(("height", "width")):
        size, k, s, d = x_shape[2 + axis], kernel[axis], stride[axis], dilation[axis]
        pad = sum(padding[axis])
        out = _output_size(size, k, s, pad, d)
        span = d * (k - 1) + 1
        if span > size + pad:
            raise ValueError(
                f"{op}: the kernel ({kernel[0]}x{kernel[1]}, dilation {dilation}) spans {span} "
                f"pixels of {name}, more than the padded input's {size + pad} "
                f"(input {size} + padding {pad}); the output {name} would be {out}"
            )
        sizes.append(out)
    return sizes[0], sizes[1]


def _check_4d(x: Any, op: str, name: str = "input") -> None:
    if len(x.shape) != 4:
        raise ValueError(f"{op}: {name} must be 4-D (N, C, H, W), got shape {tuple(x.shape)} ({len(x.shape)}-D)")


def _normalise(kernel_size, stride, padding, dilation, op):
    """(kernel, stride, ((top, bottom), (left, right)), dilation), all checked."""
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = pair(stride, "stride", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        padding = _string_padding(padding, kernel, stride, dilation, op)
    else:
        ph, pw = pair(padding, "padding", op, 0)
        padding = ((ph, ph), (pw, pw))
    return kernel, stride, padding, dilation


def _string_padding(padding: str, kernel, stride, dilation, op):
    """"valid" = no padding; "same" = the output as large as the input (stride 1).

    "same" pads d*(k-1) in total; when that is odd the extra pixel goes to the
    bottom/right, as PyTorch and TensorFlow do.
    """
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")


# ------------------------------------------------------ the array routines
def _channels_outer(x: Any) -> bool:
    """True when x (N, C, H, W) lies in memory as (C, N, H, W) (our conv outputs do)."""
    return x.ndim == 4 and x.shape[0] > 1 and x.shape[1] > 1 and x.strides[1] > x.strides[0]


def _new_image(xp, shape: tuple, dtype, channels_outer: bool, value: float = 0.0) -> Any:
    """A new (N, C, H, W) array filled with ``value``; with ``channels_outer``
    its memory is ordered (C, N, H, W) (allocated so, returned as the transposed view).

    Elementwise ops are fastest when all their operands share one memory
    order, so padded inputs and gradients are built in the order of the
    activations they meet.
    """
    n, c = shape[:2]
    memory_shape = (c, n) + tuple(shape[2:]) if channels_outer else tuple(shape)
    # zeros, not full(0): the system hands out zeroed pages without writing them
    out = xp.zeros(memory_shape, dtype=dtype) if value == 0 else xp.full(memory_shape, value, dtype=dtype)
    return out.transpose(1, 0, 2, 3) if channels_outer else out


def _pad(x: Any, padding, value: float = 0.0) -> Any:
    """Pad the last two axes of x (N, C, H, W) with ``value``; padding ((top, bottom), (left, right))."""
    (pt, pb), (pl, pr) = padding
    if pt == pb == pl == pr == 0:
        return x
    n, c, h, w = x.shape
    out = _new_image(get_array_module(x), (n, c, h + pt + pb, w + pl + pr), x.dtype, _channels_outer(x), value)
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def _im2col_array(x, kernel, stride, padding, dilation, out_hw):
    """x (N, C, H, W) -> cols (C, kh, kw, N, OH, OW), a contiguous copy.

    ``cols[c, i, j, n, oh, ow] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]``.

    First a *view* with those six axes is made with ``as_strided`` (no copy:
    it only says how many bytes to step along each axis), then one copy makes
    it contiguous, so that it can be reshaped to the matrix (C*kh*kw, N*OH*OW).
    """
    # BEGIN SOLUTION im2col
    # TODO: a strided view (C, kh, kw, N, OH, OW) of the padded input (as_strided), then one contiguous copy
    xp = get_array_module(x)
    xpad = _pad(x, padding)
    n, c = xpad.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    s_n, s_c, s_h, s_w = xpad.strides  # bytes to step along each axis
    patches = xp.lib.stride_tricks.as_strided(
        xpad,
        shape=(c, kh, kw, n, oh, ow),
        strides=(s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw),
    )
    return xp.ascontiguousarray(patches)  # (C, kh, kw, N, OH, OW): the one copy
    # END SOLUTION


def _col2im_array(cols, x_shape, kernel, stride, padding, dilation):
    """cols (C, kh, kw, N, OH, OW) -> gx (N, C, H, W): the adjoint of im2col.

    Every kernel offset (i, j) is one strided slice of the (padded) input::

        gxpad[:, :, i*dh + sh*oh, j*dw + sw*ow] += cols[:, i, j, :, oh, ow]

    so we loop over the kh*kw offsets and add whole slices: kh*kw vectorised
    adds. Within one offset no input pixel is hit twice, so a plain ``+=`` is
    exact; across offsets the pixels overlap and the adds sum them up.

    Why not ``np.add.at(gxpad, index_arrays, cols)``, which handles repeated
    indices by itself? It needs index arrays as large as ``cols`` built first,
    and then adds one element at a time, unbuffered: many times slower than
    kh*kw slice additions, on the path of every backward pass.

    The result lies in memory as (C, N, H, W), like ``cols``, and is returned
    as the (N, C, H, W) view.
    """
    # BEGIN SOLUTION col2im
    # TODO: zeros of the padded input's size, then for each kernel offset (i, j) add cols[:, i, j] into one strided slice; crop the padding
    xp = get_array_module(cols)
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, pb), (pl, pr) = padding
    oh, ow = cols.shape[-2:]
    gxpad = xp.zeros((c, n, h + pt + pb, w + pl + pr), dtype=cols.dtype)  # (C, N, Hp, Wp), as cols
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            gxpad[:, :, rows, columns] += cols[:, i, j]
    return gxpad[:, :, pt : pt + h, pl : pl + w].transpose(1, 0, 2, 3)
    # END SOLUTION


# ---------------------------------------------------------- im2col / col2im
class Im2col(Function):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), PyTorch's ``unfold``.

    Column l = oh*OW + ow of sample n holds the patch under output pixel
    (oh, ow), flattened in the order (c, i, j). Backward: col2im.
    """

    def __init__(self, kernel, stride, padding, dilation):
        self.args = (kernel, stride, padding, dilation)

    def forward(self, x):
        kernel, stride, padding, dilation = self.args
        self.x_shape = x.shape
        self.out_hw = _geometry(x.shape, kernel, stride, padding, dilation, "im2col")
        cols = _im2col_array(x, kernel, stride, padding, dilation, self.out_hw)
        n, c = x.shape[:2]
        # (C, kh, kw, N, OH, OW) -> (C*kh*kw, N, L) -> view (N, C*kh*kw, L); sizes spelled
        # out, never -1, so that an empty batch (N = 0) reshapes too
        return cols.reshape(c * kernel[0] * kernel[1], n, self.out_hw[0] * self.out_hw[1]).transpose(1, 0, 2)

    def backward(self, gy):
        kernel, stride, padding, dilation = self.args
        n, c = self.x_shape[:2]
        cols = gy.transpose(1, 0, 2).reshape((c,) + kernel + (n,) + self.out_hw)
        return _col2im_array(cols, self.x_shape, kernel, stride, padding, dilation)


class Col2im(Function):
    """cols (N, C*kh*kw, OH*OW) -> x (N, C, H, W), PyTorch's ``fold``: adds overlapping patches.

    The adjoint of :class:`Im2col`; its backward is im2col.
    """

    def __init__(self, x_shape, kernel, stride, padding, dilation, out_hw):
        self.x_shape, self.out_hw = x_shape, out_hw
        self.args = (kernel, stride, padding, dilation)

    def forward(self, cols):
        kernel, stride, padding, dilation = self.args
        n, c = self.x_shape[:2]
        cols6 = cols.transpose(1, 0, 2).reshape((c,) + kernel + (n,) + self.out_hw)
        return _col2im_array(cols6, self.x_shape, kernel, stride, padding, dilation)

    def backward(self, gy):
        kernel, stride, padding, dilation = self.args
        cols = _im2col_array(gy, kernel, stride, padding, dilation, self.out_hw)
        n, c = self.x_shape[:2]
        return cols.reshape(c * kernel[0] * kernel[1], n, self.out_hw[0] * self.out_hw[1]).transpose(1, 0, 2)


def im2col(
    x: Any, kernel_size: IntOrPair, stride: IntOrPair = 1, padding: Any = 0, dilation: IntOrPair = 1
) -> Tensor:
    """Unfold every sliding (C, kh, kw) patch of x into a column.

    Shapes: x (N, C, H, W) -> (N, C*kh*kw, OH*OW), with
    OH = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 (and OW alike)::

        out[n, c*kh*kw + i*kw + j, oh*OW + ow] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    Differentiable; its backward is :func:`col2im`. ``padding`` may also be
    "same" (stride 1) or "valid".
    """
    _check_4d(x, "im2col")
    args = _normalise(kernel_size, stride, padding, dilation, "im2col")
    _geometry(x.shape, *args, "im2col")
    return Im2col(*args)(x)


def col2im(
    cols: Any,
    output_size: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Any = 0,
    dilation: IntOrPair = 1,
) -> Tensor:
    """Fold columns back into an image, *adding* where patches overlap.

    Shapes: cols (N, C*kh*kw, OH*OW) -> (N, C, H, W) with (H, W) = ``output_size``.
    The adjoint of :func:`im2col`: ``<im2col(x), y> == <x, col2im(y)>`` for all
    x, y. (Not its inverse: a pixel covered by k patches comes back k times.)
    """
    if len(cols.shape) != 3:
        raise ValueError(f"col2im: cols must be 3-D (N, C*kh*kw, L), got shape {tuple(cols.shape)}")
    h, w = pair(tuple(output_size), "output_size", "col2im", 1)
    n, rows, length = cols.shape
    kernel, stride, padding, dilation = _normalise(kernel_size, stride, padding, dilation, "col2im")
    out_hw = _geometry((n, 1, h, w), kernel, stride, padding, dilation, "col2im")
    if rows % (kernel[0] * kernel[1]) or length != out_hw[0] * out_hw[1]:
        raise ValueError(
            f"col2im: cols of shape {tuple(cols.shape)} do not fit kernel {kernel} and output_size {(h, w)}: "
            f"expected (N, C*{kernel[0] * kernel[1]}, {out_hw[0] * out_hw[1]})"
        )
    x_shape = (n, rows // (kernel[0] * kernel[1]), h, w)
    return Col2im(x_shape, kernel, stride, padding, dilation, out_hw)(cols)


# ------------------------------------------------------------------- conv2d
class Conv2d(Function):
    """y = conv2d(x, W) + b as one matrix product per group.

    Shapes: x (N, C, H, W), W (O, C/g, kh, kw), b (O,) -> y (N, O, OH, OW).

    With g groups the channels split into g independent convolutions
    (C/g inputs -> O/g outputs each); the matrices get a leading group axis
    and ``matmul`` does the g products in one call::

        cols (g, C/g*kh*kw, N*L)   W (g, O/g, C/g*kh*kw)   y (g, O/g, N*L)

    Forward:   Y = W @ cols (+ b)                 (L = OH*OW)
    Backward:  G  = gy as (g, O/g, N*L)
               gW = G @ cols^T                    (g, O/g, C/g*kh*kw)
               gb = G summed over N*L             (O,)
               gx = col2im(W^T @ G)               (N, C, H, W)
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        n, c = x.shape[:2]
        o, cg, kh, kw = w.shape
        g = self.groups
        self.kernel = (kh, kw)
        self.x_shape = x.shape
        self.out_hw = oh, ow = _geometry(x.shape, self.kernel, self.stride, self.padding, self.dilation, "conv2d")
        self.w = w
        w_mat = w.reshape(g, o // g, cg * kh * kw)  # (g, O/g, C/g*kh*kw)
        per_sample = c * kh * kw * oh * ow * x.dtype.itemsize  # bytes of columns per sample
        chunk = max(1, get_memory_budget() // per_sample)
        self.chunk = chunk if chunk < n else None
        if self.chunk is None:
            self.cols = self._cols(x)  # (g, C/g*kh*kw, N*L), kept for backward
            y = xp.matmul(w_mat, self.cols)  # (g, O/g, N*L)
        else:  # over budget: a few samples at a time; keep x, not the columns
            self.x = x
            y = xp.empty((g, o // g, n, oh * ow), dtype=x.dtype)
            for start in range(0, n, chunk):
                part = slice(start, start + chunk)
                y[:, :, part] = xp.matmul(w_mat, self._cols(x[part])).reshape(g, o // g, -1, oh * ow)
        y = y.reshape(o, n, oh, ow)
        if b is not None:
            y += b.reshape(o, 1, 1, 1)  # in place: no new (O, N, OH, OW) array
        return y.transpose(1, 0, 2, 3)  # (N, O, OH, OW), a view: see the module docstring

    def _cols(self, x):
        """The column matrix of x, grouped: (g, C/g*kh*kw, n*L)."""
        cols = _im2col_array(x, self.kernel, self.stride, self.padding, self.dilation, self.out_hw)
        rows = x.shape[1] // self.groups * self.kernel[0] * self.kernel[1]  # C/g*kh*kw (not -1: N may be 0)
        return cols.reshape(self.groups, rows, x.shape[0] * self.out_hw[0] * self.out_hw[1])

    def backward(self, gy):
        # BEGIN SOLUTION conv2d_backward
        # TODO: gb = sum of gy; gW = gy @ cols^T (per group); gcols = W^T @ gy, then col2im
        xp = get_array_module(gy)
        n = self.x_shape[0]
        o = gy.shape[1]
        g = self.groups
        want_x, want_w = self.needs_input_grad[0], self.needs_input_grad[1]
        want_b = len(self.needs_input_grad) == 3 and self.needs_input_grad[2]
        # gy (N, O, OH, OW) -> (g, O/g, N, L): free when gy lies as (O, N, OH, OW)
        grad = xp.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(g, o // g, n, gy.shape[2] * gy.shape[3])
        gb = grad.sum(axis=(2, 3)).reshape(o) if want_b else None
        w_mat = self.w.reshape(g, o // g, -1)  # (g, O/g, C/g*kh*kw)
        if self.chunk is None:
            G = grad.reshape(g, o // g, grad.shape[2] * grad.shape[3])  # (g, O/g, N*L)
            gw = xp.matmul(G, self.cols.transpose(0, 2, 1)) if want_w else None
            gx = self._gx(xp.matmul(w_mat.transpose(0, 2, 1), G), self.x_shape) if want_x else None
        else:
            gw = xp.zeros(w_mat.shape, dtype=gy.dtype) if want_w else None
            gx = xp.empty(self.x_shape, dtype=gy.dtype) if want_x else None
            for start in range(0, n, self.chunk):
                part = slice(start, start + self.chunk)
                G = xp.ascontiguousarray(grad[:, :, part]).reshape(g, o // g, -1)  # (g, O/g, n*L), n >= 1
                if want_w:
                    gw += xp.matmul(G, self._cols(self.x[part]).transpose(0, 2, 1))
                if want_x:
                    gx[part] = self._gx(xp.matmul(w_mat.transpose(0, 2, 1), G), self.x[part].shape)
        if gw is not None:
            gw = gw.reshape(self.w.shape)
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)
        # END SOLUTION

    def _gx(self, gcols, x_shape):
        """gcols (g, C/g*kh*kw, n*L) -> gx (n, C, H, W) by col2im."""
        cols = gcols.reshape((x_shape[1],) + self.kernel + (x_shape[0],) + self.out_hw)
        return _col2im_array(cols, x_shape, self.kernel, self.stride, self.padding, self.dilation)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: IntOrPair = 1,
    padding: Union[IntOrPair, str] = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in every framework), in matrix form.

    Shapes: x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, OH, OW)
    with OH = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 and OW alike::

        y[n, o, oh, ow] = b[o] + sum_{c, i, j} W[o, c, i, j] * xpad[n, c', oh*sh + i*dh, ow*sw + j*dw]

    where c' runs over the input channels of o's group. ``stride``,
    ``padding`` and ``dilation`` are ints or (h, w) pairs; ``padding`` may
    also be "valid" (0) or "same" (output as large as the input; stride 1).
    How it is computed: the module docstring.
    """
    op = "conv2d"
    _check_4d(x, op)
    if len(weight.shape) != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (out_channels, in_channels/groups, kh, kw), got shape {tuple(weight.shape)}"
        )
    positive_int(groups, "groups", op)
    o, cg, kh, kw = weight.shape
    c = x.shape[1]
    if c % groups:
        raise ValueError(f"{op}: input channels ({c}) must be divisible by groups ({groups})")
    if o % groups:
        raise ValueError(f"{op}: out_channels ({o}) must be divisible by groups ({groups})")
    if cg * groups != c:
        raise ValueError(
            f"{op}: expected input with {cg * groups} channels (weight {tuple(weight.shape)}, groups={groups}), "
            f"got {c} channels (input shape {tuple(x.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)}")
    check_same_dtype(op, x, weight=weight, bias=bias)
    kernel, stride, padding, dilation = _normalise((kh, kw), stride, padding, dilation, op)
    _geometry(x.shape, kernel, stride, padding, dilation, op)
    fn = Conv2d(stride, padding, dilation, groups)
    return fn(x, weight) if bias is None else fn(x, weight, bias)
