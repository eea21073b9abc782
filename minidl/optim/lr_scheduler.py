"""Learning-rate schedules: change each group's lr as the epochs go by.

    opt = mdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = mdl.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(90):
        train_one_epoch(model, opt)        # opt.step() many times
        sched.step()                       # then once per epoch, after them

Each schedule here (but :class:`ReduceLROnPlateau`) is a *closed form*: the lr
of a group at epoch ``e`` is a function of ``e`` and the group's lr when the
schedule started (``initial_lr``, stored in the group; the list of them is
``base_lrs``). These are the formulas PyTorch documents (its
``_get_closed_form_lr``), so the values match PyTorch's. Two consequences:
a schedule saved and loaded resumes exactly (its state is a count), and an lr
changed by hand is overwritten at the next ``step()``. (PyTorch computes most
schedules recursively from the current lr, which lets several schedulers be
chained on one optimizer; minidl's closed forms do not chain: the last one to
step sets the lr.)

Epochs are counted from 0: building a scheduler sets the epoch-0 lr, and each
``step()`` moves to the next epoch (``last_epoch`` says which).
"""
from __future__ import annotations

import bisect
import math
import numbers
from typing import Any, Callable, Sequence

from ..validate import positive_int
from .optimizer import Optimizer


class LRScheduler:
    """Base class: sets every group's ``lr = lr_at(base_lr, last_epoch)`` at each step.

    A subclass writes ``lr_at(base_lr, epoch)`` and lists in ``_hyper`` the
    names of its settings, which :meth:`state_dict` saves with the epoch count.

    Args:
        optimizer: the optimizer whose groups' lrs this schedule sets.
        last_epoch: the epoch count to resume from (-1: a fresh start). To
            resume, the groups must hold their ``initial_lr`` (they do after
            ``optimizer.load_state_dict`` of a scheduled run).
    """

    _hyper: tuple = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name} needs an Optimizer, got {type(optimizer).__name__}")
        if not isinstance(last_epoch, int) or isinstance(last_epoch, bool) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: param group {i} has no 'initial_lr', needed to resume with "
                                   f"last_epoch={last_epoch}; load the optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.step()  # to epoch last_epoch + 1 (0 for a fresh start): set its lrs

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The lr of a group that started at ``base_lr``, at ``epoch``; subclasses write this."""
        raise NotImplementedError(f"{type(self).__name__} must define lr_at(base_lr, epoch)")

    def get_lr(self) -> list:
        """The lrs of the current epoch (``last_epoch``), one per param group."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        """Advance one epoch and set every group's lr. Call it after ``optimizer.step()``."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs: Sequence[float]) -> None:
        if len(lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__} has {len(lrs)} lrs for "
                             f"{len(self.optimizer.param_groups)} param groups (a group was added after "
                             "the scheduler was made?)")
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def get_last_lr(self) -> list:
        """The lrs this schedule set last, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """``{"last_epoch", "base_lrs", "last_lr", and the settings}``: numbers and lists, savable."""
        state = {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs), "last_lr": list(self._last_lr)}
        for key in self._hyper:
            value = getattr(self, key)
            state[key] = list(value) if isinstance(value, (list, tuple)) else value
        return state

    def load_state_dict(self, state: dict) -> None:
        """Resume from :meth:`state_dict`: restore the count and settings, set the lrs."""
        name = type(self).__name__
        missing = [k for k in ("last_epoch", "base_lrs", *self._hyper) if k not in state]
        if missing:
            raise KeyError(f"{name}.load_state_dict: the state lacks {missing}")
        base_lrs = [float(b) for b in state["base_lrs"]]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(base_lrs)} base_lrs, the optimizer "
                             f"{len(self.optimizer.param_groups)} param groups")
        for key in self._hyper:
            setattr(self, key, state[key])
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = base_lrs
        self._set_lrs(self.get_lr())


def _check_gamma(owner: str, gamma: Any) -> None:
    if not isinstance(gamma, numbers.Real) or isinstance(gamma, bool) or not gamma > 0:
        raise ValueError(f"{owner}: gamma must be a number > 0, got {gamma!r}")


class StepLR(LRScheduler):
    """Multiply the lr by gamma every ``step_size`` epochs::

        lr(e) = initial_lr * gamma ** (e // step_size)
    """

    _hyper = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        positive_int(step_size, "step_size", "StepLR")
        _check_gamma("StepLR", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the lr by gamma at each milestone epoch::

        lr(e) = initial_lr * gamma ** (number of milestones <= e)

    A milestone listed twice counts twice, as in PyTorch.
    """

    _hyper = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1):
        milestones = list(milestones)
        for m in milestones:
            if not isinstance(m, int) or isinstance(m, bool) or m < 0:
                raise ValueError(f"MultiStepLR: milestones must be integers >= 0, got {milestones!r}")
        _check_gamma("MultiStepLR", gamma)
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """Multiply the lr by gamma every epoch::

        lr(e) = initial_lr * gamma ** e
    """

    _hyper = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        _check_gamma("ExponentialLR", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial lr down to eta_min over T_max epochs::

        lr(e) = eta_min + (initial_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2

    PyTorch's closed form (SGDR without restarts): lr(0) = initial_lr,
    lr(T_max) = eta_min, and past T_max the cosine climbs back up.
    """

    _hyper = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803
        positive_int(T_max, "T_max", "CosineAnnealingLR")
        if not isinstance(eta_min, numbers.Real) or isinstance(eta_min, bool) or eta_min < 0:
            raise ValueError(f"CosineAnnealingLR: eta_min must be a number >= 0, got {eta_min!r}")
        self.T_max, self.eta_min = T_max, eta_min  # noqa: N815 (PyTorch's name)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """The lr times a factor of your choosing::

        lr(e) = initial_lr * lr_lambda(e)

    ``lr_lambda`` is one function for every group, or a list with one per
    group. The functions are not saved by :meth:`state_dict` (code is never
    saved); build the scheduler with them again and load the count.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1):
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if isinstance(optimizer, Optimizer) and len(lambdas) != n:
            raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per param group), got {len(lambdas)}")
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got {type(f).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """Used only when every group shares one function."""
        return base_lr * self.lr_lambdas[0](epoch)


class ReduceLROnPlateau(LRScheduler):
    """Cut the lr by ``factor`` when a metric has stopped improving (PyTorch's rules).

    Call ``step(metric)`` once per epoch with, say, the validation loss. The
    metric *improves* when it beats the best so far by more than the
    threshold: ``metric < best * (1 - threshold)`` (mode "min", threshold_mode
    "rel"), ``metric < best - threshold`` ("min", "abs"), ``metric > best *
    (1 + threshold)`` ("max", "rel"), ``metric > best + threshold`` ("max",
    "abs"). After more than ``patience`` epochs in a row without improvement::

        lr <- max(lr * factor, min_lr)        (skipped when it would change by eps or less)

    and then ``cooldown`` epochs pass in which bad epochs are not counted.
    This schedule follows the metric, not the epoch count: it has no closed
    form, and changes each group's current lr.
    """

    _hyper = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lrs", "eps",
              "best", "num_bad_epochs", "cooldown_counter")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0.0, eps: float = 1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau needs an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"ReduceLROnPlateau: {name} must be an integer >= 0, got {value!r}")
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs (one per param group), got {len(min_lrs)}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown = threshold, threshold_mode, cooldown
        self.min_lrs, self.eps = [float(m) for m in min_lrs], eps
        self.best = math.inf if mode == "min" else -math.inf  # the worst value: any metric beats it
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self._last_lr = list(self.base_lrs)

    def is_better(self, metric: float, best: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return metric < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return metric > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics: Any) -> None:  # type: ignore[override]  (this one needs the metric)
        """Record one epoch's metric (a number or one-element Tensor); cut the lr after a plateau."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # cooling down after a cut: bad epochs do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def load_state_dict(self, state: dict) -> None:
        """Resume the counters and settings (the lrs themselves come with the optimizer's state)."""
        missing = [k for k in ("last_epoch", *self._hyper) if k not in state]
        if missing:
            raise KeyError(f"ReduceLROnPlateau.load_state_dict: the state lacks {missing}")
        for key in self._hyper:
            setattr(self, key, state[key])
        self.min_lrs = [float(m) for m in self.min_lrs]
        self.best = float(self.best)
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = [float(b) for b in state.get("base_lrs", self.base_lrs)]
        self._last_lr = [float(x) for x in state.get("last_lr", [g["lr"] for g in self.optimizer.param_groups])]
