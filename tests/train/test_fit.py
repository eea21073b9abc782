"""fit / evaluate / predict: learning, train/eval switching, metrics, history, progress, bad input."""
import io
import sys

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend
from minidl.data import DataLoader, TensorDataset
from minidl.train import EarlyStopping, History, confusion_matrix, evaluate, fit, predict, top_k_accuracy
from minidl.train import metrics as M


def blobs(n=120, seed=0):
    """Three well separated Gaussian blobs in 3-D: an easy 3-class problem."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (np.eye(3)[y] * 3 + rng.standard_normal((n, 3))).astype(np.float32)
    return x, y


def mlp(seed=0, dropout=0.3):
    mdl.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def sgd(model, lr=0.1):
    return mdl.optim.SGD(model.parameters(), lr=lr)


def test_fit_learns_and_records_history():
    x, y = blobs()
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    val = DataLoader(TensorDataset(*blobs(60, 1)), batch_size=25)  # a smaller last batch (10)
    h = fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.Adam(model.parameters(), lr=0.05), 5,
            val_loader=val, verbose=0, metrics=("accuracy", "top2_accuracy"))
    assert isinstance(h, History) and h.epoch == [0, 1, 2, 3, 4]
    assert list(h.history) == ["loss", "accuracy", "top2_accuracy", "val_loss", "val_accuracy",
                               "val_top2_accuracy", "lr", "time"]
    assert h["val_accuracy"][-1] > 0.85 and h["loss"][-1] < h["loss"][0]
    assert all(t >= a for t, a in zip(h["top2_accuracy"], h["accuracy"]))
    assert h["lr"] == [0.05] * 5 and all(t > 0 for t in h["time"])
    # the last val_loss is the sample-weighted mean that evaluate gives for the final weights
    assert h["val_loss"][-1] == evaluate(model, val, nn.CrossEntropyLoss())["loss"]


def test_fit_accepts_tensor_inputs_and_soft_targets():
    x, y = blobs(48)
    batches = [(mdl.tensor(x[i:i + 16]), np.eye(3, dtype=np.float32)[y[i:i + 16]]) for i in range(0, 48, 16)]
    model = mlp(dropout=0.0)
    h = fit(model, batches, nn.CrossEntropyLoss(), sgd(model), 3, val_loader=batches, verbose=0)
    assert h["val_accuracy"][-1] == M.accuracy(predict(model, x), y)
    assert h["loss"][-1] < h["loss"][0]


def test_scheduler_steps_once_per_epoch_and_lr_is_the_rate_used():
    x, y = blobs(32)
    model = mlp()
    opt = sgd(model, lr=1.0)
    sched = mdl.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(), opt, 3,
            scheduler=sched, verbose=0)
    assert h["lr"] == [1.0, 0.5, 0.25] and opt.param_groups[0]["lr"] == 0.125


class ModeSpy(nn.Module):
    """Records the mode and grad mode of every call; behaves differently in the two modes,
    like dropout (output scaled in training) and batch norm (statistics updated in training)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.seen = []
        self.updates = 0

    def forward(self, x):
        self.seen.append(("train" if self.training else "eval", mdl.is_grad_enabled()))
        if self.training:
            self.updates += 1  # as batch norm updates its running statistics
            return self.lin(x) * 2.0
        return self.lin(x)


def test_train_and_eval_modes_switch_around_validation():
    x, y = blobs(32)
    model = ModeSpy()
    train = DataLoader(TensorDataset(x, y), batch_size=16)
    val = DataLoader(TensorDataset(x, y), batch_size=32)
    fit(model, train, nn.CrossEntropyLoss(), sgd(model), 2, val_loader=val, verbose=0)
    assert model.seen == [("train", True), ("train", True), ("eval", False)] * 2
    assert model.updates == 4  # validation never updated the "statistics"
    assert model.training  # it came in training mode and leaves in it


def test_fit_evaluate_predict_restore_the_mode_they_found():
    x, y = blobs(32)
    model = ModeSpy()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    model.eval()
    fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 1, verbose=0)
    assert not model.training and model.seen[0] == ("train", True)
    evaluate(model, loader)
    predict(model, x)
    assert not model.training
    model.train()
    evaluate(model, loader)
    predict(model, loader)
    assert model.training and all(s == ("eval", False) for s in model.seen[-4:])


def test_mode_is_restored_when_training_fails():
    x, y = blobs(32)
    model = ModeSpy()
    model.eval()

    def bad_loss(out, target):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fit(model, DataLoader(TensorDataset(x, y), batch_size=16), bad_loss, sgd(model), 1, verbose=0)
    assert not model.training


def test_validation_uses_eval_mode_with_real_dropout_and_batch_norm():
    # Were validation run in training mode, dropout would change val_loss and batch norm's
    # running statistics would move, so evaluating afterwards would give another number.
    x, y = blobs(64)
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    val = DataLoader(TensorDataset(*blobs(40, 1)), batch_size=40)
    h = fit(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(), sgd(model), 2,
            val_loader=val, verbose=0)
    stats = model[1].running_mean.copy()
    assert evaluate(model, val, nn.CrossEntropyLoss())["loss"] == h["val_loss"][-1]
    assert np.array_equal(model[1].running_mean, stats)


def test_early_stopping_inside_fit_restores_best_weights():
    x, y = blobs(32)
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    # lr so large that training diverges: val_loss rises after the first epochs
    es = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model, lr=50.0), 20, val_loader=loader, callbacks=[es],
            verbose=0)
    assert len(h) < 20 and model.stop_training
    best = int(np.argmin(h["val_loss"]))
    assert es.best_epoch == best
    assert evaluate(model, loader, nn.CrossEntropyLoss())["loss"] == h["val_loss"][best]


def test_evaluate_and_predict_values():
    x, y = blobs(40)
    model = mlp(dropout=0.5)
    out = predict(model, x, batch_size=7)
    assert out.shape == (40, 3) and isinstance(out, np.ndarray)
    model.eval()
    with mdl.no_grad():
        assert np.allclose(out, model(x).numpy(), atol=1e-6)
    assert np.array_equal(predict(model, mdl.tensor(x), batch_size=40), out)
    r = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=16), loss=nn.CrossEntropyLoss(),
                 metrics=("accuracy", "top2_accuracy"))
    assert r["accuracy"] == M.accuracy(out, y) and r["top2_accuracy"] == M.top_k_accuracy(out, y, 2)
    assert r["loss"] == pytest.approx(nn.CrossEntropyLoss()(mdl.tensor(out), y).item(), rel=1e-5)
    assert set(evaluate(model, [(x, y)])) == {"accuracy"}


def test_metrics_by_hand(device):
    xp = backend.namespace(device)
    scores = xp.asarray(np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]]))
    labels = xp.asarray(np.array([1, 1, 2, 0]))
    # predictions 1, 0, 2, 1: samples 0 and 2 are right
    assert M.accuracy(scores, labels) == 0.5 and isinstance(M.accuracy(scores, labels), float)
    assert top_k_accuracy(scores, labels, k=1) == 0.5
    # k=2: sample 1 (label 1 is 2nd best) and sample 3 (label 0 ties with class 2 for 2nd) count
    assert top_k_accuracy(scores, labels, k=2) == 1.0
    assert top_k_accuracy(scores, labels, k=3) == 1.0
    cm = confusion_matrix(scores, labels, 3)
    assert isinstance(cm, np.ndarray) and cm.tolist() == [[0, 1, 0], [1, 1, 0], [0, 0, 1]]
    soft = xp.asarray(np.eye(3)[[1, 1, 2, 0]] * 0.8 + 0.2 / 3)  # label-smoothed targets count by arg-max
    assert M.accuracy(scores, soft) == 0.5 and confusion_matrix(scores, soft).tolist() == cm.tolist()
    assert confusion_matrix(xp.asarray(np.array([0, 2, 2])), np.array([0, 1, 2]), 4).tolist() == \
        [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert M.accuracy(mdl.tensor(np.array([[1.0, 0.0]]), device=device), [0]) == 1.0  # Tensors, lists


def test_metric_errors():
    scores = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\].*got 4"):
        top_k_accuracy(scores, np.zeros(4), k=4)
    with pytest.raises(ValueError, match=r"shape \(N, C\), got shape \(4,\)"):
        M.accuracy(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"N = 4.*got shape \(3,\)"):
        M.accuracy(scores, np.zeros(3))
    with pytest.raises(ValueError, match=r"classes must be in \[0, 2\).*\[0, 2\]"):
        confusion_matrix(np.array([0, 2]), np.array([0, 1]), num_classes=2)


def test_bad_arguments():
    x, y = blobs(8)
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    ce = nn.CrossEntropyLoss()
    for epochs in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="epochs must be a positive int"):
            fit(model, loader, ce, sgd(model), epochs, verbose=0)
    with pytest.raises(ValueError, match="unknown metric 'f2'.*top5_accuracy"):
        fit(model, loader, ce, sgd(model), 1, verbose=0, metrics=("f2",))
    with pytest.raises(TypeError, match="loss must be callable"):
        fit(model, loader, "ce", sgd(model), 1, verbose=0)
    with pytest.raises(TypeError, match=r"yield \(inputs, labels\) pairs"):
        fit(model, [x], ce, sgd(model), 1, verbose=0)
    with pytest.raises(ValueError, match="yielded no batches"):
        fit(model, [], ce, sgd(model), 1, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        predict(model, x, batch_size=0)
    with pytest.raises(FileNotFoundError, match="resume_from: no checkpoint"):
        fit(model, loader, ce, sgd(model), 1, verbose=0, resume_from="/nonexistent/ckpt.npz")


def test_history_csv_and_plot(tmp_path):
    x, y = blobs(32)
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 2, val_loader=loader, verbose=0)
    lines = h.to_csv(tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr,time" and len(lines) == 3
    assert lines[2].startswith(f"1,{h['loss'][1]},{h['accuracy'][1]},")
    pytest.importorskip("matplotlib")
    path = h.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    with pytest.raises(ValueError, match="nothing to plot for \\['f1'\\]"):
        h.plot(tmp_path / "x.png", keys=["f1"])


def test_history_plot_without_matplotlib_names_the_extra(tmp_path, monkeypatch):
    h = History()
    h.append(0, {"loss": 1.0})
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` fail
    with pytest.raises(ImportError, match=r"pip install 'minidl\[plot\]'"):
        h.plot(tmp_path / "c.png")


def test_history_fills_missing_keys_with_none():
    h = History()
    h.append(0, {"loss": 1.0})
    h.append(1, {"loss": 0.5, "val_loss": 0.7})
    h.append(2, {"val_loss": 0.6})
    assert h["loss"] == [1.0, 0.5, None] and h["val_loss"] == [None, 0.7, 0.6]
    with pytest.raises(KeyError, match="History has no 'acc'"):
        h["acc"]


def _fit_printing(verbose, val=True):
    x, y = blobs(32)
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 2, val_loader=loader if val else None, verbose=verbose)


def test_progress_prints_one_line_per_epoch_off_a_terminal(capsys):
    _fit_printing(1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - ") and lines[1].startswith("Epoch 2/2 - ")
    assert [part.split(":")[0] for part in lines[0].split(" - ")[2:]] == \
        ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert lines[0].split(" - ")[1].endswith("s")  # the epoch's time
    _fit_printing(0)
    assert capsys.readouterr().out == ""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    _fit_printing(1)
    out = terminal.getvalue()
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2" in out  # 2 batches per epoch
    last = out.split("\r")[-1]
    assert "val_accuracy=" in last and "time=" in last and "loss=" in last
    monkeypatch.setattr(sys, "stdout", terminal := FakeTerminal())
    _fit_printing(2)  # verbose=2: one plain line per epoch even on a terminal
    assert terminal.getvalue().count("\n") == 2 and "\r" not in terminal.getvalue()


def test_fit_evaluate_predict_on_every_device(device):
    """No NumPy-only path: on "strict" (CuPy's rules) the loop, the metrics and predict must work."""
    x, y = blobs(48)
    model = mlp().to(device)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0, device=device)
    h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 2, val_loader=loader, verbose=0,
            metrics=("accuracy", "top2_accuracy"))
    assert all(isinstance(v, float) for v in h["val_accuracy"] + h["loss"])
    out = predict(model, loader)
    assert isinstance(out, np.ndarray) and out.shape == (48, 3)
    assert evaluate(model, loader)["accuracy"] == h["val_accuracy"][-1]


def test_reduce_lr_on_plateau_steps_on_the_validation_loss():
    from minidl.optim.lr_scheduler import ReduceLROnPlateau

    seen = []

    class Spy(ReduceLROnPlateau):
        def step(self, metric=None):
            seen.append(metric)
            super().step(metric)

    x, y = blobs(32)
    model = mlp()
    opt = mdl.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    h = fit(model, loader, nn.CrossEntropyLoss(), opt, 3, val_loader=loader, scheduler=Spy(opt), verbose=0)
    assert seen == h["val_loss"]


# ---------------------------------------------------------------- validation_split / validation_data
class IdSpy(nn.Module):
    """Inputs carry their sample id in column 0; records the ids seen in training and in validation."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.trained, self.validated, self.batch_sizes = [], [], []

    def forward(self, x):
        ids = backend.to_numpy(x.data if isinstance(x, mdl.Tensor) else x)[:, 0].round().astype(int).tolist()
        (self.trained if self.training else self.validated).append(ids)
        if self.training:
            self.batch_sizes.append(len(ids))
        return self.lin(x)


def id_data(n):
    """Sample i is (i, 0, 0) with label i % 3."""
    x = np.zeros((n, 3), np.float32)
    x[:, 0] = np.arange(n)
    return x, np.arange(n) % 3


def test_validation_split_holds_out_the_last_fraction_never_trained_on():
    x, y = id_data(50)
    model = IdSpy()
    mark = lambda batch: batch + np.float32(1000)  # a "transform": training inputs get +1000
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=3, transform=mark)
    h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 2, validation_split=0.2, verbose=0)
    trained = [i - 1000 for batch in model.trained for i in batch]  # the transform ran on training batches
    assert sorted(trained) == sorted(list(range(40)) * 2)  # the first 80%, each sample once per epoch
    # validation: the last 20% (ids 40..49), in order, untransformed, batched as the training data
    assert model.validated == [[40, 41, 42, 43, 44, 45, 46, 47], [48, 49]] * 2
    assert model.batch_sizes == [8] * 5 * 2 and len(h["val_loss"]) == 2
    # the training loader's seed is kept: its order is a fresh permutation of the first part per epoch
    order = [i - 1000 for batch in model.trained[:5] for i in batch]
    assert order == DataLoader(mdl.data.Subset(TensorDataset(x, y), range(40)), batch_size=8, shuffle=True,
                               seed=3).order(0).tolist()
    assert loader.epoch == 2  # the caller's loader moved on, as it does without a split


def test_validation_split_rounds_as_keras():
    x, y = id_data(10)
    train, val = mdl.train.split_validation(DataLoader(TensorDataset(x, y), batch_size=4), 0.25)
    # Keras: split_at = ceil(10 * 0.75) = 8
    assert len(train.dataset) == 8 and val.dataset.indices.tolist() == [8, 9]


def test_validation_data_arrays_or_loader_equal_val_loader():
    x, y = blobs(48)
    vx, vy = blobs(30, 1)
    runs = []
    for kwargs in ({"val_loader": DataLoader(TensorDataset(vx, vy), batch_size=16)},
                   {"validation_data": (vx, vy)},
                   {"validation_data": DataLoader(TensorDataset(vx, vy), batch_size=7)}):
        model = mlp(dropout=0.0)
        runs.append(fit(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(), sgd(model),
                        2, verbose=0, **kwargs))
    for h in runs[1:]:
        np.testing.assert_allclose(h["val_loss"], runs[0]["val_loss"], rtol=1e-6)
        assert h["val_accuracy"] == runs[0]["val_accuracy"]


def test_resume_with_validation_split_is_exact(tmp_path):
    def run(epochs, **kwargs):
        x, y = blobs(60)
        model = mlp()
        loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=1)
        h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model), epochs, validation_split=0.25, verbose=0, **kwargs)
        return model, h

    straight, h3 = run(3)
    run(2, checkpoint=tmp_path / "c.npz")
    resumed, h = run(3, checkpoint=tmp_path / "c.npz", resume_from=tmp_path / "c.npz")
    assert h["val_loss"] == h3["val_loss"]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert np.array_equal(a, b)


def test_validation_arguments_errors():
    x, y = blobs(20)
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    ce = nn.CrossEntropyLoss()
    for bad in (1.0, -0.1, float("nan"), "0.1", True, 2):
        with pytest.raises(ValueError, match=r"validation_split must be a fraction in \[0, 1\)"):
            fit(model, loader, ce, sgd(model), 1, validation_split=bad, verbose=0)
    with pytest.raises(ValueError, match="one source of validation data, got val_loader and validation_split"):
        fit(model, loader, ce, sgd(model), 1, val_loader=loader, validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match="got validation_data and validation_split"):
        fit(model, loader, ce, sgd(model), 1, validation_data=(x, y), validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match="got val_loader and validation_data"):
        fit(model, loader, ce, sgd(model), 1, val_loader=loader, validation_data=(x, y), verbose=0)
    with pytest.raises(TypeError, match="validation_split needs train_loader to be a DataLoader.*got list"):
        fit(model, [(x, y)], ce, sgd(model), 1, validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match="validation_split=0.01 of 20 samples holds out none"):
        fit(model, loader, ce, sgd(model), 1, validation_split=0.01, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data must be \(inputs, labels\), got a tuple of 3"):
        fit(model, loader, ce, sgd(model), 1, validation_data=(x, y, y), verbose=0)
    with pytest.raises(TypeError, match="validation_data must be .* got int"):
        fit(model, loader, ce, sgd(model), 1, validation_data=3, verbose=0)


def test_run_id_is_in_every_checkpoint_and_resume_checks_it(tmp_path):
    x, y = blobs(32)
    ce = nn.CrossEntropyLoss()
    model = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    every = mdl.train.ModelCheckpoint(str(tmp_path / "full.npz"), save_weights_only=False, save_best_only=False,
                                      monitor="loss")
    fit(model, loader, ce, sgd(model), 1, checkpoint=tmp_path / "c.npz", callbacks=[every], run_id="run-a",
        verbose=0)
    assert mdl.load(tmp_path / "c.npz")["run_id"] == "run-a"
    assert mdl.load(tmp_path / "full.npz")["run_id"] == "run-a"
    fit(mlp(), loader, ce, sgd(model), 1, checkpoint=tmp_path / "no_id.npz", verbose=0)  # saved without a run id
    other = mlp(seed=5)
    before = [w.copy() for w in other.state_dict().values()]
    for name in ("c.npz", "no_id.npz"):
        with pytest.raises(ValueError, match=f"{name} belongs to another run"):
            fit(other, loader, ce, sgd(other), 2, resume_from=tmp_path / name, run_id="run-b", verbose=0)
        assert all(np.array_equal(a, b) for a, b in zip(before, other.state_dict().values()))  # nothing changed
    h = fit(other, loader, ce, sgd(other), 2, resume_from=tmp_path / "c.npz", run_id="run-a", verbose=0)
    assert h.epoch == [0, 1]
    with pytest.raises(TypeError, match="run_id must be a str .* got int"):
        fit(other, loader, ce, sgd(other), 1, checkpoint=tmp_path / "d.npz", run_id=7, verbose=0)
    assert not (tmp_path / "d.npz").exists()  # refused before training


def test_validation_split_and_data_on_every_device(device):
    """The split loaders keep the device; (x, y) validation arrays are batched onto it too."""
    x, y = blobs(40)
    model = mlp(dropout=0.0).to(device)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=0, device=device)
    train, val = mdl.train.split_validation(loader, 0.25)
    assert train.device == val.device == loader.device
    xb, _ = next(iter(val))
    assert backend.device_of(xb) == backend.parse_device(device)
    h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 1, validation_split=0.25, verbose=0)
    assert h["val_loss"][-1] == evaluate(model, val, nn.CrossEntropyLoss())["loss"]
    h = fit(model, loader, nn.CrossEntropyLoss(), sgd(model), 1, validation_data=(x[30:], y[30:]), verbose=0)
    assert isinstance(h["val_accuracy"][-1], float)
