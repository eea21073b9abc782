"""Training: fit / evaluate / predict, callbacks, metrics, checkpoints (``mdl.train``)."""
from . import metrics
from .callbacks import (Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                        ProgressBar)
from .checkpoint import load_checkpoint, save_checkpoint, training_state
from .history import History
from .loop import evaluate, fit, predict
from .metrics import accuracy, confusion_matrix, top_k_accuracy
