"""Metrics on model outputs: accuracy, top-k accuracy, confusion matrix.

Outputs are class scores (N, C) (logits or probabilities: the arg-max is the
same); targets are labels (N,) or soft targets (N, C), whose arg-max counts as
the label. Arrays of any backend, or Tensors; results are Python numbers or
NumPy arrays.
"""
from __future__ import annotations

from typing import Any

import numpy

from .. import backend


def _host(a: Any) -> numpy.ndarray:
    a = a.data if hasattr(a, "creator") else a
    return backend.to_numpy(a) if backend.is_array(a) else numpy.asarray(a)


def _labels(targets: Any) -> numpy.ndarray:
    t = _host(targets)
    return t.argmax(axis=1) if t.ndim == 2 else t.astype(numpy.int64)


def correct_count(outputs: Any, targets: Any) -> int:
    """How many arg-max predictions equal the labels."""
    return int((_host(outputs).argmax(axis=1) == _labels(targets)).sum())


def accuracy(outputs: Any, targets: Any) -> float:
    """The fraction of samples whose highest score is the right class."""
    t = _labels(targets)
    return correct_count(outputs, t) / len(t)


def top_k_correct(outputs: Any, targets: Any, k: int) -> int:
    scores, t = _host(outputs), _labels(targets)
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be in [1, {scores.shape[1]}] (the number of classes), got {k}")
    top = numpy.argpartition(-scores, k - 1, axis=1)[:, :k]  # the k best classes, in any order
    return int((top == t[:, None]).any(axis=1).sum())


def top_k_accuracy(outputs: Any, targets: Any, k: int = 5) -> float:
    """The fraction of samples whose right class is among the k highest scores."""
    t = _labels(targets)
    return top_k_correct(outputs, t, k) / len(t)


def confusion_matrix(predictions: Any, targets: Any, num_classes: int | None = None) -> numpy.ndarray:
    """(C, C) counts: row = true class, column = predicted class.

    ``predictions`` may be class indices (N,) or scores (N, C).
    """
    p = _host(predictions)
    p = p.argmax(axis=1) if p.ndim == 2 else p.astype(numpy.int64)
    t = _labels(targets)
    c = num_classes or int(max(p.max(initial=0), t.max(initial=0))) + 1
    m = numpy.zeros((c, c), dtype=numpy.int64)
    numpy.add.at(m, (t, p), 1)  # host-side bookkeeping on small arrays: add.at is fine here
    return m
