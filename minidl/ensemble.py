"""Ensembles: several models vote, or average their probabilities.

Why it helps. Suppose three classifiers each err with probability e, and
their errors are *independent*. A majority vote is wrong only when at least
two of the three are wrong:

    p(e) = P(2 wrong) + P(3 wrong) = 3 e^2 (1 - e) + e^3
         = 1 - (1 - e)^3 - 3 (1 - e)^2 e          (1 minus "none or one wrong")

For e = 0.2 that is 0.104: three 80%-accurate models vote to 89.6%.
In general, for n voters, p(e) = sum over k > n/2 of C(n, k) e^k (1 - e)^(n - k)
(:func:`majority_error`).

The assumption carries the whole argument. Models trained on the same data
with the same architecture make *correlated* errors: they fail on the same
hard images. Then the vote gains far less than the formula says (in the limit
of identical models, nothing). Different seeds, architectures, augmentations
or data subsets decorrelate the errors; lesson 11 measures how much.

Modes:
  * ``"vote"``    each model's arg-max is one vote; the class with most votes
                  wins; a tie is broken by the summed probabilities.
  * ``"average"`` the softmax probabilities are averaged, then the arg-max is
                  taken ("soft voting"); usually a little better than voting.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy

from . import backend
from .autograd import Tensor, no_grad


def majority_error(e: float, n: int = 3) -> float:
    """P(a majority of n independent voters is wrong) when each errs with prob. e."""
    if not 0.0 <= e <= 1.0:
        raise ValueError(f"e must be a probability in [0, 1], got {e}")
    if n < 1 or n % 2 == 0:
        raise ValueError(f"n must be a positive odd number of voters, got {n}")
    return sum(math.comb(n, k) * e**k * (1 - e) ** (n - k) for k in range(n // 2 + 1, n + 1))


def _softmax(logits: numpy.ndarray) -> numpy.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = numpy.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _batches(data: Any, batch_size: int) -> Iterable:
    """Input batches from an array/Tensor, or the inputs of a loader's (x, y) batches."""
    if isinstance(data, Tensor) or backend.is_array(data):
        for start in range(0, len(data), batch_size):
            yield data[start : start + batch_size]
    else:
        for batch in data:
            yield batch[0] if isinstance(batch, (tuple, list)) else batch


def predict_proba(model: Any, data: Any, batch_size: int = 256) -> numpy.ndarray:
    """Softmax probabilities (N, classes) of one model in eval mode, as NumPy."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        out = []
        with no_grad():
            for x in _batches(data, batch_size):
                y = model(x)
                y = y.data if isinstance(y, Tensor) else y
                out.append(_softmax(backend.to_numpy(y).astype(numpy.float64)))
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return numpy.concatenate(out)


class Ensemble:
    """Several trained models combined by voting or by averaging probabilities.

    Example::

        ens = Ensemble([m1, m2, m3], mode="vote")
        labels = ens.predict(test_images)
        ens.evaluate(test_loader)       # {"accuracy": ..., "members": [...]}
    """

    def __init__(self, models: Sequence[Any], mode: str = "average"):
        if len(models) == 0:
            raise ValueError("an Ensemble needs at least one model")
        if mode not in ("vote", "average"):
            raise ValueError(f"mode must be 'vote' or 'average', got {mode!r}")
        self.models = list(models)
        self.mode = mode

    def member_probabilities(self, data: Any, batch_size: int = 256) -> numpy.ndarray:
        """(models, N, classes): every member's probabilities."""
        return numpy.stack([predict_proba(m, data, batch_size) for m in self.models])

    def combine(self, probs: numpy.ndarray) -> numpy.ndarray:
        """Class scores (N, classes) from the members' probabilities (M, N, classes)."""
        if self.mode == "average":
            return probs.mean(axis=0)
        classes = probs.shape[2]
        votes = numpy.eye(classes)[probs.argmax(axis=2)].sum(axis=0)  # (N, classes) vote counts
        # Break ties by the summed probabilities: they are below 1 per member
        # in total, so scaling them by 1/(M+1) can never outweigh one vote.
        return votes + probs.sum(axis=0) / (len(self.models) + 1)

    def predict_proba(self, data: Any, batch_size: int = 256) -> numpy.ndarray:
        """Averaged probabilities (average mode) or vote shares (vote mode)."""
        scores = self.combine(self.member_probabilities(data, batch_size))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, data: Any, batch_size: int = 256) -> numpy.ndarray:
        """Predicted class per sample (N,)."""
        return self.combine(self.member_probabilities(data, batch_size)).argmax(axis=1)

    def evaluate(self, loader: Iterable, batch_size: int = 256) -> dict:
        """Accuracy of the ensemble and of each member on a loader of (x, y) batches."""
        xs, ys = [], []
        for x, y in loader:
            xs.append(x)
            ys.append(backend.to_numpy(y.data if isinstance(y, Tensor) else y))
        labels = numpy.concatenate(ys)
        if labels.ndim == 2:  # soft targets
            labels = labels.argmax(axis=1)
        probs = numpy.stack(
            [numpy.concatenate([predict_proba(m, x, batch_size) for x in xs]) for m in self.models]
        )
        members = [float((p.argmax(axis=1) == labels).mean()) for p in probs]
        accuracy = float((self.combine(probs).argmax(axis=1) == labels).mean())
        return {"accuracy": accuracy, "members": members}
