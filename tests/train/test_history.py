"""History: rows by index (history[-1]), quantities by key, and the CSV's epoch numbering."""
import numpy as np
import pytest

from minidl.train import History


def three_epochs():
    h = History()
    for epoch, (loss, acc) in enumerate([(0.9, 0.5), (0.6, 0.7), (0.4, 0.8)]):
        h.append(epoch, {"loss": loss, "accuracy": acc})
    return h


def test_last_row_by_index():
    h = three_epochs()
    assert h[-1] == {"epoch": 2, "loss": 0.4, "accuracy": 0.8}
    assert h[0] == {"epoch": 0, "loss": 0.9, "accuracy": 0.5}
    assert h[np.int64(1)]["loss"] == 0.6
    assert h["loss"] == [0.9, 0.6, 0.4]  # keys still give a quantity's list


def test_slices_and_iteration_give_rows():
    h = three_epochs()
    assert [r["epoch"] for r in h[-2:]] == [1, 2]
    assert [r["accuracy"] for r in h] == [0.5, 0.7, 0.8]
    assert "loss" in h and len(h) == 3


def test_row_out_of_range_and_unknown_key():
    h = three_epochs()
    with pytest.raises(IndexError, match="History row 3 out of range: it has 3 epochs"):
        h[3]
    with pytest.raises(IndexError, match="it has 0 epochs"):
        History()[-1]
    with pytest.raises(KeyError, match="History has no 'val_loss'"):
        h["val_loss"]


def test_csv_numbers_epochs_from_0_or_as_the_console(tmp_path):
    h = three_epochs()
    rows = h.to_csv(tmp_path / "a.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2"]
    rows = h.to_csv(tmp_path / "b.csv", first_epoch=1).read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "1", "2", "3"]
    with pytest.raises(ValueError, match="first_epoch must be 0 or 1, got 2"):
        h.to_csv(tmp_path / "c.csv", first_epoch=2)
