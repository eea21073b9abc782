"""Training: fit / evaluate / predict, callbacks, metrics, checkpoints (``mdl.train``).

    from minidl.train import fit, EarlyStopping
    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=10,
                  validation_split=0.1, callbacks=[EarlyStopping(patience=2)])
"""
from . import metrics
from .callbacks import (Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                        ProgressBar)
from .checkpoint import find_generators, load_checkpoint, save_checkpoint, training_state
from .history import History
from .loop import evaluate, fit, predict, split_validation
from .metrics import accuracy, confusion_matrix, top_k_accuracy
