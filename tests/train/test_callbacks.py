"""Callbacks against Keras 3's behaviour, on scripted metric sequences.

A fake fit loop (``run``) feeds a callback one monitored value per epoch, as
fit() would, after setting the model's single weight to the epoch number, so
the restored weights tell which epoch they came from. The expected stopping
epochs are worked by hand from Keras' rules (see EarlyStopping's docstring).
"""
import os

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import serialization
from minidl.train import CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from minidl.train.callbacks import CallbackList, infer_mode


class Scripted(nn.Module):
    """A model whose single weight we set to the epoch number, to see what gets restored."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.zeros(1, dtype=np.float32))


def run(callback, values, monitor="val_loss", model=None, params=None):
    """Feed a metric sequence through a callback as fit() does; returns (epochs run, model)."""
    model = model or Scripted()
    cbs = CallbackList([callback], model, params or {"epochs": len(values)})
    model.stop_training = False
    cbs.on_train_begin()
    ran = 0
    for epoch, value in enumerate(values):
        cbs.on_epoch_begin(epoch)
        model.w.data[...] = epoch
        cbs.on_epoch_end(epoch, {monitor: value})
        ran += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    return ran, model


# ------------------------------------------------------------- EarlyStopping
def test_patience_counts_epochs_without_improvement(capsys):
    # e0 first value (best 1.0); e1 improves (0.5); e2, e3 do not: wait 1, 2 -> stop after e3
    ran, _ = run(EarlyStopping(patience=2, verbose=1), [1.0, 0.5, 0.6, 0.7, 0.1])
    assert ran == 4
    assert capsys.readouterr().out == "Epoch 4: early stopping\n"


def test_patience_zero_stops_at_the_first_non_improvement():
    assert run(EarlyStopping(patience=0), [1.0, 0.9, 0.95, 0.1])[0] == 3
    assert run(EarlyStopping(patience=1), [1.0, 0.9, 0.95, 0.1])[0] == 3
    assert run(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.1])[0] == 4
    # an equal value is not an improvement
    assert run(EarlyStopping(patience=0), [1.0, 1.0, 0.5])[0] == 2


def test_min_delta_is_strict():
    # min mode: an improvement of exactly min_delta does not count (0.75 + 0.25 < 1.0 is false)
    assert run(EarlyStopping(patience=1, min_delta=0.25), [1.0, 0.75, 0.5, 0.25])[0] == 2
    # improvements of 0.5 count; then 0.25 - 0.25 = 0.0 is not more than min_delta
    assert run(EarlyStopping(patience=1, min_delta=0.25), [1.0, 0.5, 0.25, 0.0])[0] == 3
    # max mode, and a negative min_delta means its absolute value, as in Keras
    assert run(EarlyStopping(monitor="acc", patience=1, min_delta=-0.25), [0.0, 0.25, 0.5], "acc")[0] == 2
    assert run(EarlyStopping(monitor="acc", patience=1, min_delta=0.25), [0.0, 0.5, 1.0], "acc")[0] == 3


def test_mode_auto_decides_from_the_name():
    assert infer_mode("val_loss", "X") == "min" and infer_mode("loss", "X") == "min"
    assert infer_mode("val_accuracy", "X") == "max" and infer_mode("top5_accuracy", "X") == "max"
    assert infer_mode("val_acc", "X") == "max" and infer_mode("auc", "X") == "max"
    assert infer_mode("val_mse", "X") == "min"
    # a falling accuracy stops, a rising one does not
    assert run(EarlyStopping(monitor="val_accuracy", patience=0), [0.5, 0.6, 0.55, 0.7], "val_accuracy")[0] == 3
    assert run(EarlyStopping(monitor="val_accuracy", patience=0), [0.5, 0.6, 0.7], "val_accuracy")[0] == 3
    assert run(EarlyStopping(monitor="loss", patience=0), [0.5, 0.6, 0.4], "loss")[0] == 2
    # a name it cannot read is an error (as in Keras), fixed by an explicit mode
    with pytest.raises(ValueError, match=r"monitor=val_score.*Pass mode='max'.*mode='min'"):
        run(EarlyStopping(monitor="val_score"), [1.0], "val_score")
    assert run(EarlyStopping(monitor="val_score", mode="max", patience=0), [1.0, 0.5], "val_score")[0] == 2
    assert run(EarlyStopping(monitor="val_score", mode="min", patience=0), [1.0, 0.5, 0.7], "val_score")[0] == 3
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown, fallback to auto mode"):
        es = EarlyStopping(mode="sideways")
    assert es.mode == "auto"


def test_baseline_must_be_beaten_to_reset_wait():
    # Values improve on each other but never beat the baseline 0.3, so wait is never reset:
    # e0..e2 improve (wait 1, 2, 3), e3 does not and wait 4 >= 2 -> stop after e3.
    assert run(EarlyStopping(patience=2, baseline=0.3), [1.0, 0.9, 0.8, 0.85, 0.1])[0] == 4
    assert run(EarlyStopping(patience=2), [1.0, 0.9, 0.8, 0.85, 0.1])[0] == 5  # no baseline: wait 1 at e3
    # Keras' rule to the letter: an epoch that improves on the best never stops, baseline or not
    assert run(EarlyStopping(patience=0, baseline=0.3), [1.0, 0.9, 0.8, 0.7, 0.6])[0] == 5
    # beating the baseline resets wait as usual
    assert run(EarlyStopping(patience=2, baseline=0.3), [0.2, 0.1, 0.15, 0.04, 0.03])[0] == 5
    # the baseline is beaten only by more than min_delta: 0.25 + 0.1 < 0.3 is false
    assert run(EarlyStopping(patience=1, baseline=0.3, min_delta=0.1), [0.25, 0.3])[0] == 2


def test_baseline_with_restore_gives_the_best_epoch_of_the_patience_window(capsys):
    _, model = run(EarlyStopping(patience=2, baseline=0.3, restore_best_weights=True, verbose=1),
                   [0.9, 0.8, 0.85, 0.95])
    assert model.w.data[0] == 1
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 3: early stopping", "Restoring model weights from the end of the best epoch: 2."]


def test_start_from_epoch_ignores_the_warmup():
    # e0-e2 are not looked at; e3 is the first value (best); e4 is worse -> stop
    ran, model = run(EarlyStopping(patience=0, start_from_epoch=3, restore_best_weights=True),
                     [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert ran == 5 and model.w.data[0] == 3
    assert run(EarlyStopping(patience=0, start_from_epoch=0), [1.0, 2.0, 3.0])[0] == 2


def test_restore_best_weights_after_stopping_with_both_messages(capsys):
    _, model = run(EarlyStopping(patience=2, restore_best_weights=True, verbose=1), [1.0, 0.5, 0.6, 0.7, 0.1])
    assert model.w.data[0] == 1  # the weights of epoch index 1
    assert capsys.readouterr().out == ("Epoch 4: early stopping\n"
                                       "Restoring model weights from the end of the best epoch: 2.\n")


def test_restore_best_weights_even_without_stopping(capsys):
    _, model = run(EarlyStopping(patience=10, restore_best_weights=True, verbose=1), [1.0, 0.4, 0.6])
    assert model.w.data[0] == 1
    assert capsys.readouterr().out == "Restoring model weights from the end of the best epoch: 2.\n"


def test_no_messages_when_quiet_and_no_restore_without_the_flag(capsys):
    _, model = run(EarlyStopping(patience=0), [1.0, 0.4, 0.6])
    assert model.w.data[0] == 2  # the last epoch's weights stay
    assert capsys.readouterr().out == ""


def test_best_weights_are_a_copy():
    es = EarlyStopping(patience=5, restore_best_weights=True)
    _, model = run(es, [0.1, 0.5, 0.6])  # later epochs overwrite w in place; the copy keeps 0
    assert model.w.data[0] == 0


def test_missing_metric_warns_and_does_not_count():
    es = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match=r"`val_loss` which is not available. Available metrics are: loss"):
        ran, _ = run(es, [1.0, 2.0, 3.0], monitor="loss")
    assert ran == 3 and es.wait == 0 and es.best is None


def test_reused_callback_starts_afresh():
    es = EarlyStopping(patience=0)
    assert run(es, [0.1, 0.2])[0] == 2
    assert run(es, [1.0, 0.9, 0.8])[0] == 3  # 1.0 is not compared with the old best 0.1


def test_state_round_trips_through_a_file(tmp_path):
    es = EarlyStopping(patience=3, restore_best_weights=True)
    run(es, [1.0, 0.5, 0.7])
    serialization.save(es.state_dict(), tmp_path / "es.npz")
    other = EarlyStopping(patience=3, restore_best_weights=True)
    other.load_state_dict(serialization.load(tmp_path / "es.npz"))
    assert (other.wait, other.best, other.best_epoch, other.direction) == (1, 0.5, 1, "min")
    assert other.best_weights["w"][0] == 1


def test_patience_must_not_be_negative():
    with pytest.raises(ValueError, match="patience must be >= 0"):
        EarlyStopping(patience=-1)


# ----------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_best_only_with_keras_messages(tmp_path, capsys):
    path = tmp_path / "best.npz"
    run(ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1), [1.0, 0.5, 0.7, 0.6])
    assert mdl.load(path)["w"][0] == 1
    assert [line for line in capsys.readouterr().out.splitlines() if line] == [
        f"Epoch 1: val_loss improved from inf to 1.00000, saving model to {path}",
        f"Epoch 2: val_loss improved from 1.00000 to 0.50000, saving model to {path}",
        "Epoch 3: val_loss did not improve from 0.50000",
        "Epoch 4: val_loss did not improve from 0.50000",
    ]
    assert os.listdir(tmp_path) == ["best.npz"]  # atomic writes leave no temporary files


def test_model_checkpoint_max_mode_and_threshold(tmp_path):
    path = tmp_path / "best.npz"
    run(ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, save_weights_only=True),
        [0.5, 0.7, 0.6], "val_accuracy")
    assert mdl.load(path)["w"][0] == 1
    path.unlink()
    run(ModelCheckpoint(path, save_best_only=True, save_weights_only=True, initial_value_threshold=0.4),
        [1.0, 0.5, 0.45])
    assert not path.exists()  # nothing beat the threshold


def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path, capsys):
    run(ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{val_loss:.1f}.npz"), save_weights_only=True, verbose=1),
        [1.0, 0.5, 0.7])
    assert sorted(os.listdir(tmp_path)) == ["e01-1.0.npz", "e02-0.5.npz", "e03-0.7.npz"]
    assert mdl.load(tmp_path / "e03-0.7.npz")["w"][0] == 2
    assert f"Epoch 2: saving model to {tmp_path / 'e02-0.5.npz'}" in capsys.readouterr().out
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        run(ModelCheckpoint(str(tmp_path / "{nope}.npz"), save_weights_only=True), [1.0])


def test_model_checkpoint_missing_monitor_warns_and_saves(tmp_path):
    path = tmp_path / "m.npz"
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        run(ModelCheckpoint(path, save_best_only=True, save_weights_only=True), [1.0], monitor="loss")
    assert path.exists()


def test_model_checkpoint_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    model = Scripted()
    cb = ModelCheckpoint(path, save_weights_only=True)
    run(cb, [1.0], model=model)
    before = path.read_bytes()

    def broken(file, arrays):  # the disk fills up halfway through the write
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("No space left on device")

    monkeypatch.setattr(serialization, "_write_npz", broken)
    with pytest.raises(OSError, match="No space left"):
        run(cb, [0.5, 0.4], model=model)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.npz"]


def test_model_checkpoint_full_state_needs_fit(tmp_path):
    with pytest.raises(RuntimeError, match="inside fit"):
        run(ModelCheckpoint(tmp_path / "c.npz"), [1.0])


# --------------------------------------------------- CSVLogger, LR scheduler
def test_csv_logger_sorted_keys_epochs_from_zero(tmp_path):
    path = tmp_path / "log.csv"
    model = Scripted()
    cbs = CallbackList([CSVLogger(path)], model, {})
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"val_loss": 1.0, "loss": 2.0})
    cbs.on_epoch_end(1, {"val_loss": 0.5, "loss": 1.5})
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,2.0,1.0", "1,1.5,0.5"]
    # a new training run starts a new file; append=True (or a resumed run) adds to it
    run(CSVLogger(path), [0.25])
    assert path.read_text().splitlines() == ["epoch,val_loss", "0,0.25"]
    run(CSVLogger(path, append=True), [0.125])
    run(CSVLogger(path), [0.0625], params={"initial_epoch": 1})
    assert path.read_text().splitlines() == ["epoch,val_loss", "0,0.25", "0,0.125", "0,0.0625"]


def _optimizer(*lrs):
    groups = [{"params": [mdl.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return mdl.optim.SGD(groups, lr=lrs[0])


def test_learning_rate_scheduler_sets_each_epochs_rate(capsys):
    opt = _optimizer(1.0)
    cbs = CallbackList([LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr, verbose=1)],
                       Scripted(), {"optimizer": opt})
    lrs = []
    for epoch in range(3):
        cbs.on_epoch_begin(epoch)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.25]
    assert "Epoch 3: LearningRateScheduler setting learning rate to 0.25." in capsys.readouterr().out


def test_learning_rate_scheduler_one_argument_schedule_keeps_group_ratios():
    opt = _optimizer(0.1, 0.01)  # e.g. a smaller rate for lower layers
    cbs = CallbackList([LearningRateScheduler(lambda epoch: 0.05)], Scripted(), {"optimizer": opt})
    cbs.on_epoch_begin(0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 0.005])
    cb = LearningRateScheduler(lambda epoch, lr: -1.0)
    CallbackList([cb], Scripted(), {"optimizer": opt})
    with pytest.raises(ValueError, match="schedule returned lr=-1.0"):
        cb.on_epoch_begin(0)


def test_callbacks_must_be_callbacks():
    with pytest.raises(TypeError, match="minidl.train.Callback"):
        CallbackList([object()], Scripted(), {})


def test_csv_logger_on_resume_drops_the_rows_after_the_checkpoint(tmp_path):
    """A crash between the logger's append and the checkpoint: the resumed run writes each epoch once."""
    from minidl.data import DataLoader, TensorDataset
    from minidl.train import fit

    def build():
        mdl.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2))
        rng = np.random.default_rng(0)
        x, y = rng.standard_normal((16, 2)).astype(np.float32), rng.integers(0, 2, 16)
        return model, mdl.optim.SGD(model.parameters(), lr=0.1), DataLoader(TensorDataset(x, y), batch_size=8)

    log, ckpt = tmp_path / "log.csv", tmp_path / "ckpt.npz"
    model, opt, loader = build()
    fit(model, loader, nn.CrossEntropyLoss(), opt, 2, callbacks=[CSVLogger(log)], checkpoint=ckpt, verbose=0)
    with open(log, "a", newline="") as f:  # epoch 2's row was written, then the process died before its checkpoint
        f.write("2,0.5,0.5,0.1,1.0\r\n")
    model, opt, loader = build()
    fit(model, loader, nn.CrossEntropyLoss(), opt, 4, callbacks=[CSVLogger(log)], checkpoint=ckpt,
        resume_from=ckpt, verbose=0)
    rows = log.read_text().splitlines()
    assert rows[0].startswith("epoch,accuracy,loss") and [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2", "3"]
    assert "2,0.5,0.5,0.1,1.0" not in rows
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz", "log.csv"]  # the rewrite left no temporary file


def test_csv_logger_resume_keeps_rows_before_the_first_epoch_and_drops_damaged_ones(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss\n0,1.0\n1,0.5\n2,0.25\n3,0.1\nbroken\n")
    run(CSVLogger(path), [], params={"initial_epoch": 2})
    assert path.read_text().splitlines() == ["epoch,val_loss", "0,1.0", "1,0.5"]
    run(CSVLogger(path, append=True), [])  # a plain append (no resume) keeps every row
    assert path.read_text().splitlines() == ["epoch,val_loss", "0,1.0", "1,0.5"]
