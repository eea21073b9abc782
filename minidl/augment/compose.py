"""Pipelines: Compose, RandomApply, OneOf.

Compose runs ops in order; a run of consecutive geometric ops is fused into
one matrix per image (M = M_k ... M_2 M_1, op 1 first) and sampled once (see
:mod:`minidl.augment.geometric`): one interpolation instead of k, and content
that one op moves out and the next moves back in is not lost to the fill.

RandomApply and OneOf decide per image. Their parameters are drawn for every
image of the batch (the inner op's parameters too, even for images that do
not use them), so that, like every op's, they can be sliced per image with
:func:`~minidl.augment.base.select`. A geometric op inside them is still
geometric: its matrix is the identity for the images that skip it, so it
fuses into the surrounding Compose as well.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy

from .. import backend
from .base import Transform, check_probability, select, soft_labels
from .geometric import identity_matrices, warp


def _sampling(op: Transform) -> Optional[tuple]:
    return op.sampling if op.geometric else None


def _settings_agree(ops: Sequence[Transform]) -> Optional[tuple]:
    """The common sampling settings of geometric ops, None if any; raises ValueError if they differ."""
    found = {s for s in (_sampling(op) for op in ops) if s is not None}
    if len(found) > 1:
        raise ValueError("different sampling settings")
    return found.pop() if found else None


def _group_settings(ops: Sequence[Transform]) -> tuple:
    """(geometric, sampling) of a group of ops (a Compose or a OneOf).

    The group counts as one geometric op, able to join a fused run of
    matrices, only when all its ops are geometric with the same sampling
    settings; otherwise it is applied on its own.
    """
    if not all(op.geometric for op in ops):
        return False, None
    try:
        return True, _settings_agree(ops)
    except ValueError:  # fill modes differ: no single sampling serves them all
        return False, None


def _check_ops(ops: Any, who: str) -> list:
    ops = list(ops)
    if not ops:
        raise ValueError(f"{who} needs at least one op")
    for op in ops:
        if not isinstance(op, Transform):
            raise TypeError(f"{who} takes augmentation ops (minidl.augment.Transform), got {type(op).__name__}")
    return ops


def _child_seeds(seed: Optional[int], k: int) -> list:
    """k independent seeds from one (None stays None: each child keeps its own generator)."""
    if seed is None:
        return [None] * k
    return [int(s.generate_state(1)[0]) for s in numpy.random.SeedSequence(seed).spawn(k)]


class Compose(Transform):
    """Apply ``ops`` in order; consecutive geometric ops are sampled once, together.

    ``seed``, when given, reseeds every op inside (each its own stream), so a
    whole pipeline is reproducible from one number. Mixing ops (MixUp, CutMix)
    may be part of it: call it with the labels, ``x, y = pipeline(x, y)``.
    """

    def __init__(self, ops: Sequence[Transform], seed: Optional[int] = None):
        super().__init__(seed)
        self.ops = _check_ops(ops, "Compose")
        self.mixes_labels = any(op.mixes_labels for op in self.ops)
        self.groups = self._fusable_runs()
        self.geometric, self.sampling = _group_settings(self.ops)
        if seed is not None:
            self.reseed(seed)

    def reseed(self, seed: Optional[int]) -> None:
        super().reseed(seed)
        for op, s in zip(self.ops, _child_seeds(seed, len(self.ops))):
            op.reseed(s)

    def _fusable_runs(self) -> list:
        """Split the ops into runs: consecutive geometric ops with agreeing settings share a run."""
        runs: list = []
        for i, op in enumerate(self.ops):
            if runs and op.geometric and all(self.ops[j].geometric for j in runs[-1]):
                try:
                    _settings_agree([self.ops[j] for j in runs[-1]] + [op])
                    runs[-1].append(i)
                    continue
                except ValueError:
                    pass
            runs.append([i])
        return runs

    def sample(self, n: int, shape: tuple) -> dict:
        params = []
        for op in self.ops:
            params.append(op.sample(n, shape))
            if isinstance(op, _CROPS):  # the only op that changes the size
                shape = shape[:2] + op.size
        return {"ops": params}

    def apply_xy(self, x: Any, y: Any, params: dict) -> tuple:
        given = x  # the caller's batch: never written to
        for run in self.groups:
            ops = [self.ops[i] for i in run]
            if len(run) > 1:  # consecutive geometric ops: one matrix per image, one sampling
                m = self._product(ops, [params["ops"][i] for i in run], tuple(x.shape))
                fill_mode, fill_value, interpolation = _settings_agree(ops) or ("reflect", 0.0, "bilinear")
                x = warp(x, m, fill_mode, fill_value, interpolation)
            elif x is not given and not ops[0].mixes_labels:
                x = ops[0].apply_inplace(x, params["ops"][run[0]])  # the batch is ours now
            else:
                x, y = ops[0].apply_xy(x, y, params["ops"][run[0]])
        return x, y

    def apply(self, x: Any, params: dict) -> Any:
        return self.apply_xy(x, None, params)[0]

    @staticmethod
    def _product(ops: Sequence[Transform], params: Sequence[dict], shape: tuple) -> numpy.ndarray:
        total = None
        for op, p in zip(ops, params):
            m = op.matrices(p, shape)
            total = m if total is None else m @ total  # later ops act after earlier ones
        return total

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        """The product of the ops' matrices (only when every op is geometric)."""
        return self._product(self.ops, params["ops"], shape)

    def __repr__(self) -> str:
        return "Compose([\n" + "".join(f"    {op!r},\n" for op in self.ops) + "])"


def _check_size(op: Transform, sub: Any, x: Any) -> Any:
    if sub.shape[1:] != x.shape[1:]:
        raise ValueError(f"{type(op).__name__} changes the image size, so it cannot be applied to some images only")
    return sub


def _apply_to_some(op: Transform, x: Any, y: Any, chosen: numpy.ndarray, params: dict, num_classes: Any) -> tuple:
    """Run ``op`` on the images ``chosen`` (host bool mask) only; the others are copied through."""
    xp = backend.get_array_module(x)
    if not chosen.any():
        return x.copy(), y
    if op.mixes_labels:
        # a mixing op needs partners from the whole batch: mix all, keep the chosen rows
        x_all, y_all = op.apply_xy(x, y, params)
        mask = xp.asarray(chosen)
        y_soft = soft_labels(y, num_classes, xp, x.dtype, type(op).__name__)
        return xp.where(mask.reshape(-1, 1, 1, 1), x_all, x), xp.where(mask.reshape(-1, 1), y_all, y_soft)
    if chosen.all():
        return op.apply_xy(x, y, params)
    idx = numpy.flatnonzero(chosen)
    sub = _check_size(op, op.apply(x[xp.asarray(idx)], select(params, idx)), x)
    out = x.copy()
    out[xp.asarray(idx)] = sub
    return out, y


class RandomApply(Transform):
    """Apply ``op`` to each image with probability ``p`` (a coin per image)."""

    def __init__(self, op: Transform, p: float = 0.5, seed: Optional[int] = None):
        super().__init__(seed)
        self.op = _check_ops([op], "RandomApply")[0]
        self.p = check_probability(p)
        self.geometric, self.mixes_labels = op.geometric, op.mixes_labels
        if seed is not None:
            self.reseed(seed)

    @property
    def sampling(self) -> Optional[tuple]:
        return _sampling(self.op)

    def reseed(self, seed: Optional[int]) -> None:
        own, inner = _child_seeds(seed, 2)
        super().reseed(own)
        self.op.reseed(inner)

    def sample(self, n: int, shape: tuple) -> dict:
        return {"apply": self.rng.random(n) < self.p, "op": self.op.sample(n, shape)}

    def apply_xy(self, x: Any, y: Any, params: dict) -> tuple:
        return _apply_to_some(self.op, x, y, params["apply"], params["op"], getattr(self.op, "num_classes", None))

    def apply(self, x: Any, params: dict) -> Any:
        return self.apply_xy(x, None, params)[0]

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        m = self.op.matrices(params["op"], shape)
        return numpy.where(params["apply"][:, None, None], m, identity_matrices(len(m)))


class OneOf(Transform):
    """Give each image one of ``ops``, chosen uniformly or with probabilities ``weights``."""

    def __init__(self, ops: Sequence[Transform], weights: Optional[Sequence[float]] = None,
                 seed: Optional[int] = None):
        super().__init__(seed)
        self.ops = _check_ops(ops, "OneOf")
        if weights is not None:
            w = numpy.asarray(weights, dtype=float)
            if w.shape != (len(self.ops),) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"weights must be {len(self.ops)} numbers >= 0 with a positive sum, got {weights!r}")
            weights = w / w.sum()
        self.weights = weights
        self.mixes_labels = any(op.mixes_labels for op in self.ops)
        self.geometric, self.sampling = _group_settings(self.ops)
        if seed is not None:
            self.reseed(seed)

    def reseed(self, seed: Optional[int]) -> None:
        seeds = _child_seeds(seed, len(self.ops) + 1)
        super().reseed(seeds[0])
        for op, s in zip(self.ops, seeds[1:]):
            op.reseed(s)

    def sample(self, n: int, shape: tuple) -> dict:
        return {"choice": self.rng.choice(len(self.ops), size=n, p=self.weights),
                "ops": [op.sample(n, shape) for op in self.ops]}

    def apply_xy(self, x: Any, y: Any, params: dict) -> tuple:
        xp = backend.get_array_module(x)
        choice = params["choice"]
        num_classes = next((op.num_classes for op in self.ops if op.mixes_labels), None)
        if num_classes is not None:  # labels become soft targets for every image
            y = soft_labels(y, num_classes, xp, x.dtype, "OneOf")
        out, y_out = x.copy(), y
        for k, op in enumerate(self.ops):
            chosen = choice == k
            if not chosen.any():
                continue
            if op.mixes_labels:  # partners come from the whole batch: mix all, keep the chosen rows
                x_all, y_all = op.apply_xy(x, y, params["ops"][k])
                mask = xp.asarray(chosen)
                out = xp.where(mask.reshape(-1, 1, 1, 1), x_all, out)
                y_out = xp.where(mask.reshape(-1, 1), y_all, y_out)
            else:
                idx = numpy.flatnonzero(chosen)
                out[xp.asarray(idx)] = _check_size(op, op.apply(x[xp.asarray(idx)], select(params["ops"][k], idx)), x)
        return out, y_out

    def apply(self, x: Any, params: dict) -> Any:
        return self.apply_xy(x, None, params)[0]

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        stacked = numpy.stack([op.matrices(p, shape) for op, p in zip(self.ops, params["ops"])])  # (K, N, 3, 3)
        return stacked[params["choice"], numpy.arange(len(params["choice"]))]


from .geometric import RandomCrop  # noqa: E402  (after the classes: only used in Compose.sample)

_CROPS = (RandomCrop,)
