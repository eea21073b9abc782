"""The cross-check table's machinery: a Case is one op with one set of options, run in minidl and in PyTorch.

Each file of this folder adds the rows of one family of ops with ``case(...)``
(``from cases import *``); ``tests/test_torch_crosscheck.py`` runs every
row. A new op's rows go in its family's file, or a new file here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pytest

torch = pytest.importorskip("torch")
TF = torch.nn.functional

__all__ = ["Case", "CASES", "case", "torch", "TF", "positive", "away_from_zero", "distinct", "labels",
           "labels_and_weights", "_t", "np"]


@dataclass
class Case:
    """One op with one set of options.

    ``minidl`` and ``torch`` take the inputs (Tensors of their framework) and
    return one output. ``shapes`` are the differentiable inputs' shapes;
    ``make`` can replace the default draw (standard normal) to keep inputs
    away from kinks and outside the op's domain edges. ``constants`` are
    extra non-differentiable arguments (labels, indices), given to both as
    NumPy arrays.
    """

    name: str
    minidl: Callable
    torch: Callable
    shapes: Sequence[tuple]
    make: Callable[[np.random.Generator, tuple], np.ndarray] | None = None
    constants: Callable[[np.random.Generator], Sequence[np.ndarray]] = lambda rng: ()
    grad: bool = True
    rtol: float = 1e-7
    atol: float = 1e-7
    id: str = field(default="")


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng, shape):
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng, shape):
    """Values with no ties (max/min/max-pool have a gradient only away from ties)."""
    return rng.permutation(np.prod(shape, dtype=int)).reshape(shape) / 7.0 + rng.uniform(0, 0.01, shape)


def labels(n: int, classes: int, extra: tuple = ()):
    return lambda rng: (rng.integers(0, classes, (n,) + extra),)


def labels_and_weights(n: int, classes: int):
    return lambda rng: (rng.integers(0, classes, n), rng.uniform(0.5, 2.0, classes))


def _t(a):  # a constant for PyTorch (labels, indices)
    return torch.as_tensor(a)


CASES: list[Case] = []


def case(*args, **kwargs):
    CASES.append(Case(*args, **kwargs))
