"""The protocol every augmentation op follows, and the helpers they share.

An op is called on a whole batch, an array (N, C, H, W) of the backend
(NumPy, CuPy or the strict stand-in)::

    out = op(x)                                  # new random parameters per image
    out, params = op(x, return_params=True)      # ...and the parameters it drew
    again = op(x, params=params)                 # replay exactly
    x2, y2 = mixing_op(x, y)                     # mixing ops also take the labels

Each op does its work in two steps, which a student can call separately:

1. ``params = op.sample(n, shape)``: draw the random parameters of every image,
   on the CPU, from the op's own NumPy generator (``seed=``, or split off the
   default generator so that ``minidl.manual_seed`` governs it). ``params`` is
   a dict of small host arrays whose first axis is the image (length N).
2. ``op.apply(x, params)``: the heavy work, on the batch's own array namespace
   (``xp = backend.get_array_module(x)``), so the same code runs on a GPU.

Because every array in ``params`` is indexed by image, ``select(params, i)``
gives the parameters of image ``i`` alone: the batch result and the one-image
result agree, which the tests check for every op.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence, Tuple, Union

import numpy

from .. import backend

Range = Union[float, Tuple[float, float]]


class Transform:
    """Base class of every op. Subclasses write ``sample`` and ``apply``.

    Mixing ops (MixUp, CutMix) set ``mixes_labels = True`` and write
    ``apply_xy(x, y, params)`` instead of ``apply``.
    """

    mixes_labels = False  # True for ops that need and change the labels
    geometric = False  # True for ops with a per-image affine matrix (see geometric.py)

    def __init__(self, seed: Optional[int] = None):
        self.rng = backend.new_generator(seed)

    def reseed(self, seed: Optional[int]) -> None:
        """Restart the op's generator from ``seed`` (containers reseed their children)."""
        self.rng = backend.new_generator(seed)

    # -------------------------------------------------------- the two steps
    def sample(self, n: int, shape: tuple) -> dict:
        """Per-image parameters for n images of ``shape`` (N, C, H, W): host arrays of length n."""
        return {}

    def apply(self, x: Any, params: dict) -> Any:
        """Transform the batch ``x`` with the given parameters (no randomness here)."""
        raise NotImplementedError(f"{type(self).__name__} has no apply()")

    def apply_xy(self, x: Any, y: Any, params: dict) -> tuple:
        """Images and labels; ops that leave the labels alone pass ``y`` through."""
        return self.apply(x, params), y

    def apply_inplace(self, x: Any, params: dict) -> Any:
        """Like ``apply`` but may overwrite ``x`` (and return it).

        Compose calls this once the batch it carries is its own (an earlier op
        made a new array), so a pipeline allocates one output array instead of
        one per op: new memory is slow to hand out, slower than a colour change.
        Ops that can work in place override it; the default is ``apply``.
        """
        return self.apply(x, params)

    # ----------------------------------------------------------- the call
    def __call__(self, x: Any, y: Any = None, return_params: bool = False, params: Optional[dict] = None):
        name = type(self).__name__
        x = check_batch(x, name)
        if self.mixes_labels and y is None:
            raise ValueError(f"{name} mixes images and their labels: call it as {name.lower()}(x, y)")
        if params is None:
            params = self.sample(x.shape[0], tuple(x.shape))
        else:
            check_params(params, x.shape[0], name)
        out, y_out = self.apply_xy(x, y, params)
        result = out if y is None else (out, y_out)
        return (result, params) if return_params else result

    def __repr__(self) -> str:
        hidden = {"rng", "geometric", "mixes_labels", "sampling", "groups"}  # bookkeeping, not options
        shown = {k: v for k, v in vars(self).items() if k not in hidden and not k.startswith("_")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


# ------------------------------------------------------------ per-image params
def select(params: Any, index: Any) -> Any:
    """The parameters of the images ``index`` (an int, a slice or an index array).

    Works through nested dicts and lists (Compose, RandomApply, OneOf nest them).
    """
    if isinstance(params, dict):
        return {k: select(v, index) for k, v in params.items()}
    if isinstance(params, list):
        return [select(v, index) for v in params]
    if isinstance(params, numpy.ndarray) and params.ndim >= 1:
        return params[[index] if isinstance(index, numbers.Integral) else index]
    return params


def check_params(params: Any, n: int, who: str) -> None:
    """Replayed parameters must be host arrays drawn for this many images."""
    if isinstance(params, dict):
        for v in params.values():
            check_params(v, n, who)
    elif isinstance(params, list):
        for v in params:
            check_params(v, n, who)
    elif backend.is_array(params) and not isinstance(params, numpy.ndarray):
        raise TypeError(f"{who}: params must be host (NumPy) arrays, as op.sample() returns them")
    elif isinstance(params, numpy.ndarray) and params.ndim >= 1 and len(params) != n:
        raise ValueError(f"{who}: params were drawn for {len(params)} images, the batch has {n}")


# ------------------------------------------------------------ input checking
def check_batch(x: Any, who: str) -> Any:
    """The raw array of a batch (N, C, H, W) of floating images; Tensors are looked through."""
    if not backend.is_array(x) and backend.is_array(getattr(x, "data", None)):
        x = x.data  # a minidl Tensor
    if not backend.is_array(x):
        x = numpy.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{who} expects a batch of images x of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{who} expects floating images x (e.g. float32 in [0, 1]), got dtype {x.dtype}")
    return x


def check_probability(p: Any, name: str = "p") -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def check_positive(value: Any, name: str, strict: bool = True) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not (value > 0 if strict else value >= 0):
        raise ValueError(f"{name} must be a number {'> 0' if strict else '>= 0'}, got {value!r}")
    return float(value)


def as_range(value: Any, name: str, center: float = 0.0, minimum: Optional[float] = None) -> Tuple[float, float]:
    """A strength ``a`` -> (center - a, center + a); a pair (lo, hi) is kept as it is.

    A negative strength, a pair with lo > hi, or a range reaching below
    ``minimum`` (for a strength: clipped at ``minimum`` instead) is an error
    that names the argument.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be >= 0 (a strength) or a pair (lo, hi), got {value!r}")
        lo, hi = center - float(value), center + float(value)
        if minimum is not None:
            lo = max(lo, minimum)
    else:
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number or a pair (lo, hi), got {value!r}") from None
        if lo > hi:
            raise ValueError(f"{name} must have lo <= hi, got ({lo}, {hi})")
        if minimum is not None and lo < minimum:
            raise ValueError(f"{name} must not go below {minimum}, got ({lo}, {hi})")
    return (lo, hi)


def uniform(rng: numpy.random.Generator, bounds: Sequence[float], n: int) -> numpy.ndarray:
    """n draws from U(lo, hi); a degenerate range gives the constant without using the generator."""
    lo, hi = bounds
    return rng.uniform(lo, hi, n) if hi > lo else numpy.full(n, float(lo))


def per_image(values: Any, xp: Any, dtype: Any, ndim: int = 4) -> Any:
    """A host array of N values -> shape (N, 1, 1, 1) on the batch's device, for broadcasting."""
    return xp.asarray(numpy.asarray(values, dtype=dtype).reshape((-1,) + (1,) * (ndim - 1)))


def soft_labels(y: Any, num_classes: int, xp: Any, dtype: Any, who: str) -> Any:
    """Class labels (N,) -> one-hot rows (N, K); soft targets (N, K) are kept (as ``dtype``).

    The result lives on the images' device ``xp`` (host labels are moved there).
    """
    if not backend.is_array(y) and backend.is_array(getattr(y, "data", None)):
        y = y.data
    if not backend.is_array(y):
        y = numpy.asarray(y)
    if backend.get_array_module(y) is not xp:
        y = xp.asarray(backend.to_numpy(y))
    if y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise TypeError(f"{who}: labels y of shape (N,) must be integer classes, got dtype {y.dtype}")
        if y.shape[0] and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise ValueError(f"{who}: labels y must lie in [0, {num_classes}), got {int(y.min())}..{int(y.max())}")
        return (y[:, None] == xp.arange(num_classes)[None, :]).astype(dtype)
    if y.ndim == 2 and y.shape[1] == num_classes:
        return y.astype(dtype)
    raise ValueError(
        f"{who}: labels y must be classes (N,) or soft targets (N, {num_classes}), got shape {tuple(y.shape)}"
    )
