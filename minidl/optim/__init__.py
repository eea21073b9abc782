"""Optimizers and learning-rate schedules: ``mdl.optim.SGD(model.parameters(), lr=0.1)``.

=====================  ==================================================================
``Optimizer``          the base: param groups, zero_grad, step, state_dict (optimizer.py)
``SGD``                momentum, dampening, Nesterov, L2 weight decay (sgd.py)
``Adam`` / ``AdamW``   bias-corrected moments, amsgrad; L2 vs decoupled decay (adam.py)
``RMSprop``            running RMS of the gradients, centered, momentum (rmsprop.py)
``Adagrad``            the sum of all squared gradients divides the step (adagrad.py)
``NAdam``              Adam with Nesterov's look-ahead momentum (nadam.py)
``lr_scheduler``       StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
                       ReduceLROnPlateau (lr_scheduler.py)
=====================  ==================================================================

Every update rule is PyTorch's, written out in its class's docstring, so the
same run gives the same trajectory (up to rounding) in both frameworks.
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .adagrad import Adagrad
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "lr_scheduler"]
