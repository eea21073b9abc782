"""Optimizers and learning-rate schedules: ``mdl.optim.SGD(model.parameters(), lr=0.1)``."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
