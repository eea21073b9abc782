"""Callbacks against Keras' documented behaviour, on scripted metric sequences."""
import numpy as np
import pytest

import minidl.nn as nn
from minidl.train import CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from minidl.train.callbacks import CallbackList


class Scripted(nn.Module):
    """A model whose single weight we set to the epoch number, to see what gets restored."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.zeros(1, dtype=np.float32))


def run(callback, values, monitor="val_loss"):
    """Feed a metric sequence through the callback as fit() would; returns (epochs run, model)."""
    model = Scripted()
    cbs = CallbackList([callback], model, {"epochs": len(values)})
    model.stop_training = False
    cbs.on_train_begin()
    ran = 0
    for epoch, value in enumerate(values):
        model.w.data[...] = epoch
        cbs.on_epoch_end(epoch, {monitor: value})
        ran += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    return ran, model


def test_patience_counts_epochs_without_improvement():
    # best at epoch 1 (0.5); epochs 2, 3 do not improve; patience 2 -> stops after epoch 3 (index 3)
    ran, _ = run(EarlyStopping(patience=2), [1.0, 0.5, 0.6, 0.7, 0.1])
    assert ran == 4


def test_patience_zero_stops_at_first_non_improvement_but_never_at_epoch_0():
    assert run(EarlyStopping(patience=0), [1.0, 0.9, 0.95, 0.1])[0] == 3
    assert run(EarlyStopping(patience=0, baseline=0.5), [1.0, 2.0])[0] == 2  # epoch 0 never stops


def test_min_delta_is_strict():
    # an improvement of exactly min_delta does not count
    ran, _ = run(EarlyStopping(patience=1, min_delta=0.25), [1.0, 0.75, 0.5, 0.25])
    assert ran == 2
    ran, _ = run(EarlyStopping(patience=1, min_delta=0.25), [1.0, 0.5, 0.25, 0.0])
    assert ran == 3
    ran, _ = run(EarlyStopping(monitor="acc", patience=1, min_delta=0.25), [0.0, 0.25, 0.5], "acc")
    assert ran == 2


def test_mode_auto_from_the_name():
    # accuracy is maximised: a falling accuracy stops
    assert run(EarlyStopping(monitor="val_accuracy", patience=1), [0.5, 0.6, 0.55, 0.7], "val_accuracy")[0] == 3
    assert run(EarlyStopping(monitor="loss", patience=1), [0.5, 0.6, 0.4], "loss")[0] == 2
    with pytest.raises(ValueError, match="mode='max' or mode='min'"):
        run(EarlyStopping(monitor="val_score"), [1.0], "val_score")
    assert run(EarlyStopping(monitor="val_score", mode="max", patience=0), [1.0, 0.5], "val_score")[0] == 2


def test_baseline_must_be_beaten_to_reset_wait():
    # values improve on each other but never beat the baseline 0.3: wait keeps growing,
    # so the first epoch that does not improve stops at once
    ran, _ = run(EarlyStopping(patience=2, baseline=0.3), [1.0, 0.9, 0.8, 0.85, 0.1])
    assert ran == 4
    ran, _ = run(EarlyStopping(patience=2), [1.0, 0.9, 0.8, 0.85, 0.1])
    assert ran == 5
    ran, _ = run(EarlyStopping(patience=2, baseline=0.3), [0.2, 0.1, 0.15, 0.04, 0.03])
    assert ran == 5


def test_start_from_epoch_ignores_warmup():
    ran, _ = run(EarlyStopping(patience=0, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert ran == 5  # epochs 0-2 ignored; best at 3; epoch 4 is worse -> stop


def test_restore_best_weights_after_stopping_with_messages(capsys):
    _, model = run(EarlyStopping(patience=2, restore_best_weights=True, verbose=1), [1.0, 0.5, 0.6, 0.7, 0.1])
    assert model.w.data[0] == 1  # the weights of epoch 1
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_restore_best_weights_even_without_stopping(capsys):
    _, model = run(EarlyStopping(patience=10, restore_best_weights=True, verbose=1), [1.0, 0.4, 0.6])
    assert model.w.data[0] == 1
    out = capsys.readouterr().out
    assert "early stopping" not in out and "best epoch: 2." in out


def test_missing_metric_warns():
    with pytest.warns(UserWarning, match="not available"):
        run(EarlyStopping(monitor="val_loss"), [1.0], monitor="loss")


def test_model_checkpoint_best_only_and_every_epoch(tmp_path):
    import minidl as mdl

    run(ModelCheckpoint(tmp_path / "best.npz", save_best_only=True), [1.0, 0.5, 0.7, 0.6])
    assert mdl.load(tmp_path / "best.npz")["w"][0] == 1
    run(ModelCheckpoint(str(tmp_path / "e{epoch:02d}.npz")), [1.0, 0.5, 0.7])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "e01.npz", "e02.npz", "e03.npz"]
    assert mdl.load(tmp_path / "e03.npz")["w"][0] == 2


def test_csv_logger(tmp_path):
    run(CSVLogger(tmp_path / "log.csv"), [1.0, 0.5])
    assert (tmp_path / "log.csv").read_text().splitlines() == ["epoch,val_loss", "0,1.0", "1,0.5"]


def test_learning_rate_scheduler():
    import minidl as mdl

    p = mdl.tensor([1.0], requires_grad=True)
    opt = mdl.optim.SGD([p], lr=1.0)
    model = Scripted()
    cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
    cbs = CallbackList([cb], model, {"optimizer": opt})
    lrs = []
    for epoch in range(3):
        cbs.on_epoch_begin(epoch)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.25]


def test_callbacks_must_be_callbacks():
    with pytest.raises(TypeError, match="Callback"):
        CallbackList([object()], Scripted(), {})
