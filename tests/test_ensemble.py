"""Ensembles: the error formula, voting with tie-breaks, averaging."""
import numpy as np
import pytest

import minidl as mdl
from minidl.ensemble import Ensemble, majority_error, predict_proba


class FixedModel:
    """A 'model' that returns given logits for each row index in x[:, 0]."""

    def __init__(self, logits):
        self.logits = np.asarray(logits, dtype=np.float64)
        self.training = True
        self.modes = []

    def eval(self):
        self.training = False
        self.modes.append("eval")

    def train(self):
        self.training = True
        self.modes.append("train")

    def __call__(self, x):
        rows = np.asarray(x)[:, 0].astype(int)
        return mdl.tensor(self.logits[rows])


def test_majority_error_matches_the_seed_formula():
    for e in (0.0, 0.1, 0.2, 0.35, 0.5, 1.0):
        assert majority_error(e, 3) == pytest.approx(1 - (1 - e) ** 3 - 3 * (1 - e) ** 2 * e)
    assert majority_error(0.2, 3) == pytest.approx(0.104)
    assert majority_error(0.2, 5) < majority_error(0.2, 3)  # more voters, fewer errors
    assert majority_error(0.6, 3) > 0.6  # worse than chance members make it worse


def test_majority_error_rejects_bad_arguments():
    with pytest.raises(ValueError, match="probability"):
        majority_error(1.5)
    with pytest.raises(ValueError, match="odd"):
        majority_error(0.1, 2)


def test_vote_majority_and_tie_break_by_probabilities():
    x = np.arange(2, dtype=np.float32)[:, None]
    # sample 0: votes 0, 0, 1 -> class 0
    # sample 1: votes 0, 1, 2 (a three-way tie) -> class with most probability mass (2)
    m1 = FixedModel([[5, 0, 0], [1.0, 0.9, 0]])
    m2 = FixedModel([[5, 0, 0], [0, 1.0, 0.9]])
    m3 = FixedModel([[0, 5, 0], [0, 0, 9]])
    ens = Ensemble([m1, m2, m3], mode="vote")
    assert ens.predict(x).tolist() == [0, 2]
    shares = ens.predict_proba(x)
    assert np.allclose(shares.sum(axis=1), 1)


def test_average_mode_averages_softmax_probabilities():
    x = np.arange(1, dtype=np.float32)[:, None]
    m1 = FixedModel([[2.0, 0.0]])
    m2 = FixedModel([[0.0, 1.0]])
    p1 = np.exp([2.0, 0.0]) / np.exp([2.0, 0.0]).sum()
    p2 = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    probs = Ensemble([m1, m2], mode="average").predict_proba(x)
    assert np.allclose(probs[0], (p1 + p2) / 2)


def test_evaluate_reports_members_and_restores_training_mode():
    x = np.arange(4, dtype=np.float32)[:, None]
    y = np.array([0, 1, 1, 0])
    right = FixedModel(np.eye(2)[y] * 3)
    wrong_half = FixedModel(np.eye(2)[[0, 1, 0, 1]] * 3)
    ens = Ensemble([right, right, wrong_half], mode="vote")
    result = ens.evaluate([(x[:2], y[:2]), (x[2:], y[2:])])
    assert result["members"] == [1.0, 1.0, 0.5]
    assert result["accuracy"] == 1.0
    assert right.training and right.modes[0] == "eval"


def test_predict_proba_takes_loaders_and_arrays():
    x = np.arange(3, dtype=np.float32)[:, None]
    m = FixedModel([[0, 0], [1, 0], [0, 1]])
    a = predict_proba(m, x, batch_size=2)
    b = predict_proba(m, [(x[:1], None), (x[1:], None)])
    assert np.allclose(a, b) and a.shape == (3, 2)


def test_ensemble_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least one"):
        Ensemble([])
    with pytest.raises(ValueError, match="mode must be"):
        Ensemble([FixedModel([[0]])], mode="median")
