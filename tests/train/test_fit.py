"""fit / evaluate / predict: mode switching, metrics, history, bit-exact resume."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.data import DataLoader, TensorDataset
from minidl.train import confusion_matrix, evaluate, fit, predict, top_k_accuracy
from minidl.train import metrics as M


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (np.eye(3)[y] * 3 + rng.standard_normal((n, 3))).astype(np.float32)
    return x, y


def make(seed=0, dropout=0.3):
    mdl.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def test_fit_learns_and_records_history():
    x, y = blobs()
    model = make()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    val = DataLoader(TensorDataset(*blobs(60, 1)), batch_size=30)
    h = fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.Adam(model.parameters(), lr=0.05), 5,
            val_loader=val, verbose=0, metrics=("accuracy", "top2_accuracy"))
    assert len(h) == 5 and set(h.history) >= {"loss", "accuracy", "top2_accuracy", "val_loss", "val_accuracy", "lr"}
    assert h["val_accuracy"][-1] > 0.85 and h["loss"][-1] < h["loss"][0]
    assert all(t >= a for t, a in zip(h["top2_accuracy"], h["accuracy"]))


class ModeSpy(nn.Module):
    """Records the mode it was called in; behaves like dropout (differs by mode)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.seen = []

    def forward(self, x):
        self.seen.append("train" if self.training else "eval")
        return self.lin(x)


def test_train_and_eval_modes_switch_around_validation():
    x, y = blobs(32)
    model = ModeSpy()
    train = DataLoader(TensorDataset(x, y), batch_size=16)
    val = DataLoader(TensorDataset(x, y), batch_size=32)
    fit(model, train, nn.CrossEntropyLoss(), mdl.optim.SGD(model.parameters(), lr=0.1), 2, val_loader=val, verbose=0)
    assert model.seen == ["train", "train", "eval"] * 2
    assert model.training  # left in training mode
    model.eval()
    evaluate(model, val)
    predict(model, x)
    assert not model.training  # evaluate/predict restore the mode they found


def test_evaluate_and_predict_values():
    x, y = blobs(40)
    model = make(dropout=0.0)
    out = predict(model, x, batch_size=7)
    assert out.shape == (40, 3)
    with mdl.no_grad():
        assert np.allclose(out, model(x).numpy(), atol=1e-6)
    r = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=16), loss=nn.CrossEntropyLoss())
    assert r["accuracy"] == pytest.approx(M.accuracy(out, y))
    assert r["loss"] == pytest.approx(nn.CrossEntropyLoss()(mdl.tensor(out), y).item(), rel=1e-5)


def test_metrics_by_hand():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    labels = np.array([1, 1, 2, 0])
    assert M.accuracy(scores, labels) == 0.5
    assert top_k_accuracy(scores, labels, k=2) == 1.0  # sample 3: class 0 ties for 2nd (0.3)... in top 2
    assert top_k_accuracy(scores, labels, k=1) == 0.5
    cm = confusion_matrix(scores, labels, 3)
    assert cm.tolist() == [[0, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert M.accuracy(scores, np.eye(3)[labels]) == 0.5  # soft targets count by arg-max
    with pytest.raises(ValueError, match="k must be in"):
        top_k_accuracy(scores, labels, k=4)


def test_bad_epochs_and_metric():
    x, y = blobs(8)
    model = make()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.SGD(model.parameters(), lr=0.1), 0, verbose=0)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.SGD(model.parameters(), lr=0.1), 1, verbose=0,
            metrics=("f2",))


def _training(tmp_path, epochs, resume=False, seed=0):
    x, y = blobs(96)
    model = make(seed)
    opt = mdl.optim.Adam(model.parameters(), lr=0.01)
    sched = mdl.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=seed)
    h = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs, scheduler=sched, verbose=0,
            checkpoint=tmp_path / "ckpt.npz", resume_from=(tmp_path / "ckpt.npz") if resume else None)
    return model, h


def test_resume_is_bit_exact(tmp_path):
    straight, h4 = _training(tmp_path / "a", 4)
    (tmp_path / "b").mkdir()
    _training(tmp_path / "b", 2)
    mdl.manual_seed(123)  # whatever happens in between must not matter
    resumed, h = _training(tmp_path / "b", 4, resume=True, seed=0)
    for (k, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert np.array_equal(a, b), k
    assert h["loss"] == h4["loss"] and len(h) == 4


def test_history_csv_and_plot(tmp_path):
    x, y = blobs(32)
    model = make()
    h = fit(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(),
            mdl.optim.SGD(model.parameters(), lr=0.1), 2, verbose=0)
    lines = h.to_csv(tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,loss,accuracy") and len(lines) == 3
    pytest.importorskip("matplotlib")
    path = h.plot(tmp_path / "curves.png")
    assert path.stat().st_size > 1000


def test_progress_prints_one_line_per_epoch_off_a_terminal(capsys):
    x, y = blobs(32)
    model = make()
    fit(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(),
        mdl.optim.SGD(model.parameters(), lr=0.1), 2, verbose=1)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("Epoch")]
    assert len(lines) == 2 and "loss:" in lines[0] and "accuracy:" in lines[0] and "s -" in lines[0]
