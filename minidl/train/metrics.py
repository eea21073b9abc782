"""Metrics on model outputs: accuracy, top-k accuracy, confusion matrix.

``outputs`` are class scores (N, C): logits or probabilities, the ranking is
the same. ``targets`` are integer labels (N,) or soft targets (N, C) (one-hot
rows, MixUp/CutMix mixtures), whose arg-max counts as the label.

The counting happens where the arrays live (NumPy, CuPy or the strict
stand-in: ``xp = backend.get_array_module(outputs)``); only the final number
crosses to the host. Results are Python numbers or NumPy arrays.

    accuracy     = #{n : argmax_c outputs[n, c] == label[n]} / N
    top-k        = #{n : rank of label[n] among outputs[n] < k} / N,
                   rank = how many classes score strictly higher than the label
    confusion[i, j] = #{n : label[n] == i and prediction[n] == j}
"""
from __future__ import annotations

from typing import Any, Optional

import numpy

from .. import backend


def _as_array(a: Any, like: Any = None) -> Any:
    """The array inside a Tensor, or a list made an array; on ``like``'s device when given."""
    a = getattr(a, "data", a) if not backend.is_array(a) else a
    if not backend.is_array(a):
        a = numpy.asarray(a)
    if like is not None and backend.device_of(a) != backend.device_of(like):
        a = backend.to_device(a, backend.device_of(like))  # labels on the host, scores on the GPU
    return a


def _scores(outputs: Any) -> Any:
    scores = _as_array(outputs)
    if scores.ndim != 2:
        raise ValueError(f"outputs must be class scores of shape (N, C), got shape {tuple(scores.shape)}")
    return scores


def _labels(targets: Any, scores: Any) -> Any:
    """Integer labels (N,) on the scores' device: labels as they are, soft targets by arg-max."""
    t = _as_array(targets, like=scores)
    if t.ndim == 2:
        t = t.argmax(axis=1)
    if t.ndim != 1 or t.shape[0] != scores.shape[0]:
        raise ValueError(
            f"targets must be labels (N,) or soft targets (N, C) with N = {scores.shape[0]} "
            f"(the number of outputs), got shape {tuple(_as_array(targets).shape)}"
        )
    return t.astype(numpy.int64)


def correct_count(outputs: Any, targets: Any) -> int:
    """How many samples have their highest score on the right class."""
    scores = _scores(outputs)
    return int((scores.argmax(axis=1) == _labels(targets, scores)).sum())


def accuracy(outputs: Any, targets: Any) -> float:
    """The fraction of samples whose highest score is the right class."""
    scores = _scores(outputs)
    return correct_count(scores, targets) / scores.shape[0]


def top_k_correct(outputs: Any, targets: Any, k: int) -> int:
    """How many samples have the right class among their k best scores.

    Ties count in the label's favour (as TensorFlow's ``in_top_k``): the
    label is in the top k when fewer than k classes score *strictly* higher.
    This needs no sort, and does not depend on how a sort breaks ties.
    """
    scores = _scores(outputs)
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be in [1, {scores.shape[1]}] (the number of classes), got {k!r}")
    t = _labels(targets, scores)
    xp = backend.get_array_module(scores)
    label_score = scores[xp.arange(scores.shape[0]), t][:, None]  # (N, 1)
    higher = (scores > label_score).sum(axis=1)  # (N,): classes beating the label
    return int((higher < k).sum())


def top_k_accuracy(outputs: Any, targets: Any, k: int = 5) -> float:
    """The fraction of samples whose right class is among their k highest scores."""
    scores = _scores(outputs)
    return top_k_correct(scores, targets, k) / scores.shape[0]


def confusion_matrix(predictions: Any, targets: Any, num_classes: Optional[int] = None) -> numpy.ndarray:
    """(C, C) int64 counts, row = true class, column = predicted class (NumPy).

    ``predictions`` may be class indices (N,) or scores (N, C); ``targets``
    labels (N,) or soft targets (N, C). ``num_classes`` defaults to one more
    than the largest class seen.
    """
    p = _as_array(predictions)
    if p.ndim == 2:
        p = p.argmax(axis=1)
    if p.ndim != 1:
        raise ValueError(f"predictions must be class indices (N,) or scores (N, C), got shape {tuple(p.shape)}")
    p = p.astype(numpy.int64)
    t = _as_array(targets, like=p)
    t = (t.argmax(axis=1) if t.ndim == 2 else t).astype(numpy.int64)
    if t.shape != p.shape:
        raise ValueError(f"targets must give one label per prediction: {p.shape[0]} predictions, "
                         f"targets of shape {tuple(t.shape)}")
    low = min(int(p.min()), int(t.min())) if p.size else 0
    high = max(int(p.max()), int(t.max())) if p.size else -1
    c = high + 1 if num_classes is None else int(num_classes)
    if low < 0 or high >= c:
        raise ValueError(f"classes must be in [0, {c}) (num_classes={c}), got values in [{low}, {high}]")
    xp = backend.get_array_module(p)
    # Each (true, predicted) pair is one cell t*C + p of the flattened matrix: count them all at once.
    counts = xp.bincount(t * c + p, minlength=c * c)
    return backend.to_numpy(counts).reshape(c, c).astype(numpy.int64)
