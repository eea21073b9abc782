"""Checkpoint and resume: 4 epochs == 2 epochs + stop + resume + 2 epochs, to the last bit (CPU).

The run has every source of randomness a real one has: a shuffled loader
(its seed drawn from the default generator, prefetching in a thread),
dropout drawing from minidl's default generator, dropout with its own
generator, augmentation ops with their own generators (minidl.augment),
Adam's moments, a learning-rate schedule and an EarlyStopping that is counting. The resumed
run is built in a "fresh process": everything is constructed again after a
different ``manual_seed``, so only the checkpoint can make it match.
"""
import os

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import augment, backend
from minidl.data import DataLoader, TensorDataset
from minidl.train import EarlyStopping, ModelCheckpoint, find_generators, fit, load_checkpoint, save_checkpoint


def data(n=96):
    """Tiny 1x2x2 "images" whose first 3 pixels say the class, plus noise."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    x = np.eye(4)[y] * 2 + rng.standard_normal((n, 4))
    return x.reshape(n, 1, 2, 2).astype(np.float32), y


def build(init_seed):
    """Model, optimizer, scheduler, loaders and callbacks, as a script would build them."""
    mdl.manual_seed(init_seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 32), nn.ReLU(),
                          nn.Dropout(0.2, seed=init_seed + 7), nn.Linear(32, 3))
    opt = mdl.optim.Adam(model.parameters(), lr=0.01)
    sched = mdl.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.8)
    x, y = data()
    # seed=None: drawn from the default generator, so it differs between the two builds unless restored
    train = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, prefetch=2,
                       transform=augment.Compose([augment.RandomFlip("horizontal"),
                                                  augment.GaussianNoise(0.05, seed=init_seed)]))
    val = DataLoader(TensorDataset(*data(30)), batch_size=16)
    es = EarlyStopping(patience=100, restore_best_weights=False)
    return model, opt, sched, train, val, es


def train(init_seed, epochs, **kwargs):
    model, opt, sched, loader, val, es = build(init_seed)
    h = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs, val_loader=val, scheduler=sched, callbacks=[es],
            verbose=0, **kwargs)
    return model, opt, h, es


def assert_same_state(a, b):
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(x, y), name


def test_four_epochs_equal_two_plus_resume_plus_two(tmp_path):
    straight, opt_a, h_a, es_a = train(0, 4)
    after_straight = backend.default_generator().bit_generator.state

    ckpt = tmp_path / "run" / "ckpt.npz"
    train(0, 2, checkpoint=ckpt)
    mdl.manual_seed(12345)  # a new process: other draws happened in between
    resumed, opt_b, h_b, es_b = train(99, 4, checkpoint=ckpt, resume_from=ckpt)

    assert_same_state(straight, resumed)
    sa, sb = opt_a.state_dict(), opt_b.state_dict()
    for i in sa["state"]:
        for key in ("exp_avg", "exp_avg_sq"):
            assert np.array_equal(sa["state"][i][key], sb["state"][i][key])
    assert sa["param_groups"][0]["lr"] == sb["param_groups"][0]["lr"]
    assert h_b.epoch == [0, 1, 2, 3]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert h_b[key] == h_a[key], key
    assert (es_b.wait, es_b.best, es_b.best_epoch) == (es_a.wait, es_a.best, es_a.best_epoch)
    assert backend.default_generator().bit_generator.state == after_straight
    assert os.listdir(ckpt.parent) == ["ckpt.npz"]  # atomic saves: no temporary files left


def test_the_random_state_matters_here(tmp_path):
    """Control: restoring only weights, optimizer, schedule and loader epoch is not enough."""
    straight, *_ = train(0, 4)
    ckpt = tmp_path / "ckpt.npz"
    train(0, 2, checkpoint=ckpt)
    model, opt, sched, loader, val, es = build(99)
    state = mdl.load(ckpt)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    loader.set_epoch(2)
    fit(model, loader, nn.CrossEntropyLoss(), opt, 4, scheduler=sched, initial_epoch=2, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(straight.state_dict().values(), model.state_dict().values()))


def test_model_checkpoint_full_state_resumes_the_same_way(tmp_path):
    straight, *_ = train(0, 3)
    path = tmp_path / "last.npz"
    model, opt, sched, loader, val, es = build(0)
    fit(model, loader, nn.CrossEntropyLoss(), opt, 2, val_loader=val, scheduler=sched,
        callbacks=[ModelCheckpoint(path), es], verbose=0)  # saved after es has seen the epoch (runs_last)
    assert load_checkpoint(path, build(5)[0]) == 1
    resumed, *_ = train(42, 3, resume_from=path)
    assert_same_state(straight, resumed)


def test_resuming_a_finished_run_trains_no_more(tmp_path):
    ckpt = tmp_path / "c.npz"
    done, _, h, _ = train(0, 2, checkpoint=ckpt)
    again, _, h2, _ = train(3, 2, resume_from=ckpt)
    assert_same_state(done, again) and h2["loss"] == h["loss"]


def test_generators_are_found_by_path():
    model, opt, sched, loader, val, es = build(0)
    found = find_generators(model, [loader, val])
    assert list(found) == ["model.6.generator", "loaders.0.transform.rng", "loaders.0.transform.ops.0.rng",
                           "loaders.0.transform.ops.1.rng"]
    # a transform that is a closure is looked into as well
    noise = augment.GaussianNoise(0.1, seed=3)
    closure = DataLoader(TensorDataset(*data(8)), batch_size=4, transform=lambda x: noise(x))
    assert list(find_generators(None, [closure])) == ["loaders.0.transform.<noise>.rng"]


def test_checkpoint_that_does_not_fit_says_what_differs(tmp_path):
    model, opt, sched, loader, val, es = build(0)
    save_checkpoint(tmp_path / "c.npz", model, opt, epoch=0, scheduler=sched, loaders=[loader, val])
    other = nn.Sequential(*list(model), nn.Dropout(0.5, seed=1))
    with pytest.raises(ValueError, match=r"found but not saved: \['model.8.generator'\]"):
        load_checkpoint(tmp_path / "c.npz", other, loaders=[loader, val])
    with pytest.raises(ValueError, match="holds 2 loader states, 1 loaders were given"):
        load_checkpoint(tmp_path / "c.npz", model, loaders=[loader])
    mdl.save(model.state_dict(), tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"not a minidl training checkpoint.*load_state_dict\(mdl.load"):
        load_checkpoint(tmp_path / "w.npz", model)
    save_checkpoint(tmp_path / "noopt.npz", model, loaders=[loader, val])
    with pytest.raises(ValueError, match="holds no optimizer state"):
        load_checkpoint(tmp_path / "noopt.npz", model, opt, loaders=[loader, val])


def test_run_id_is_saved_and_checked_before_anything_changes(tmp_path):
    model, opt, sched, loader, val, es = build(0)
    save_checkpoint(tmp_path / "c.npz", model, opt, epoch=0, loaders=[loader, val], run_id="run-a")
    assert mdl.load(tmp_path / "c.npz")["run_id"] == "run-a"
    save_checkpoint(tmp_path / "plain.npz", model, opt, epoch=0, loaders=[loader, val])
    assert "run_id" not in mdl.load(tmp_path / "plain.npz")
    assert "run_id" not in mdl.train.training_state(model, opt)
    assert mdl.train.training_state(model, opt, run_id="r")["run_id"] == "r"

    other, other_opt, *_ = build(5)
    before = {k: v.copy() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"c\.npz belongs to another run: its run id is 'run-a', expected 'run-b'"):
        load_checkpoint(tmp_path / "c.npz", other, other_opt, run_id="run-b")
    with pytest.raises(ValueError, match=r"plain\.npz .*run id is missing.*expected 'run-b'"):
        load_checkpoint(tmp_path / "plain.npz", other, other_opt, run_id="run-b")
    with pytest.raises(ValueError, match=r"the state belongs to another run"):
        load_checkpoint(mdl.load(tmp_path / "c.npz"), other, other_opt, run_id="run-b")
    for name, value in other.state_dict().items():
        assert np.array_equal(value, before[name]), name  # nothing was changed
    assert load_checkpoint(tmp_path / "c.npz", other, other_opt, run_id="run-a") == 0
    assert load_checkpoint(tmp_path / "c.npz", other) == 0  # no run id asked for: not checked
    with pytest.raises(TypeError, match="run_id must be a str"):
        save_checkpoint(tmp_path / "bad.npz", model, run_id=3)


def _checkpoint_and_fresh_objects(tmp_path):
    """A saved 1-epoch run, and a freshly built set of objects to load it into (plus copies of their state)."""
    ckpt = tmp_path / "c.npz"
    train(0, 1, checkpoint=ckpt)
    model, opt, sched, loader, val, es = build(7)
    before = {"model": {k: v.copy() for k, v in model.state_dict().items()}, "opt": opt.state_dict(),
              "lr": [g["lr"] for g in opt.param_groups], "loader": loader.state_dict(),
              "default": backend.default_generator().bit_generator.state,
              "gens": {p: g.bit_generator.state for p, g in find_generators(model, [loader, val]).items()}}
    return ckpt, (model, opt, sched, loader, val, es), before


def assert_unchanged(objects, before):
    model, opt, sched, loader, val, es = objects
    for name, value in model.state_dict().items():
        assert np.array_equal(value, before["model"][name]), name  # bit-identical
        assert value.dtype == before["model"][name].dtype
    assert opt.state_dict()["state"].keys() == before["opt"]["state"].keys()
    assert [g["lr"] for g in opt.param_groups] == before["lr"]
    assert loader.state_dict() == before["loader"]
    assert backend.default_generator().bit_generator.state == before["default"]
    assert {p: g.bit_generator.state for p, g in find_generators(model, [loader, val]).items()} == before["gens"]


def _breakers():
    """(what to break in a loaded checkpoint, the error it must give)."""
    def opt_shape(s):
        s["optimizer"]["state"][0]["exp_avg"] = np.zeros((1, 2), np.float32)
    def opt_groups(s):
        s["optimizer"]["param_groups"].append(dict(s["optimizer"]["param_groups"][0]))
    def opt_unknown_param(s):
        s["optimizer"]["state"][99] = {}
    def model_dtype(s):
        key = next(iter(s["model"]))
        s["model"][key] = s["model"][key].astype(np.complex64)
    def model_key(s):
        s["model"]["extra.weight"] = np.zeros(3, np.float32)
    def scheduler_part(s):
        del s["scheduler"]["gamma"]
    def loader_part(s):
        s["loaders"][0] = {"seed": "x", "epoch": 1}
    def generator_part(s):
        s["random"]["generators"]["model.6.generator"] = {"bit_generator": "MT19937", "state": {}}
    def default_generator(s):
        s["random"]["default"] = 3
    def callback_part(s):
        s["callbacks"]["EarlyStopping"] = {"wait": 1}
    def missing_part(s):
        del s["random"]
    return [(opt_shape, r"optimizer: state\[0\]\['exp_avg'\] has shape \(1, 2\), its parameter has shape \(32, 4\)"),
            (opt_groups, "optimizer: it has 2 param groups, the optimizer has 1"),
            (opt_unknown_param, "optimizer: state for parameter 99, which no param group lists"),
            (model_dtype, "model: '1.weight' has dtype complex64, which does not cast to the model's float32"),
            (model_key, r"model: missing keys \[\], unexpected keys \['extra.weight'\]"),
            (scheduler_part, r"scheduler: the saved state lacks \['gamma'\]"),
            (loader_part, "loader 0: seed should be an int >= 0, got 'x'"),
            (generator_part, "random generator model.6.generator: the checkpoint holds a MT19937 state, "
                             "the generator is PCG64"),
            (default_generator, "the default random generator: the checkpoint holds a int state"),
            (callback_part, r"callback EarlyStopping: the saved state lacks \['best', 'best_epoch'"),
            (missing_part, "random: missing from the checkpoint")]


@pytest.mark.parametrize("breaker, message", _breakers(), ids=[b.__name__ for b, _ in _breakers()])
def test_a_broken_part_changes_nothing(tmp_path, breaker, message):
    ckpt, objects, before = _checkpoint_and_fresh_objects(tmp_path)
    model, opt, sched, loader, val, es = objects
    state = mdl.load(ckpt)
    breaker(state)
    with pytest.raises(ValueError, match="the state does not fit the objects given: " + message):
        load_checkpoint(state, model, opt, sched, [loader, val], callbacks=[es])
    assert_unchanged(objects, before)


def test_a_broken_optimizer_in_a_file_leaves_the_model_bit_identical(tmp_path):
    ckpt, objects, before = _checkpoint_and_fresh_objects(tmp_path)
    model, opt, sched, loader, val, es = objects
    state = mdl.load(ckpt)
    state["optimizer"]["state"][2]["exp_avg_sq"] = np.ones(5, np.float32)
    mdl.save(state, tmp_path / "broken.npz")
    with pytest.raises(ValueError, match=r"broken\.npz does not fit the objects given: optimizer"):
        load_checkpoint(tmp_path / "broken.npz", model, opt, sched, [loader, val])
    assert_unchanged(objects, before)


def test_a_failure_while_applying_puts_everything_back(tmp_path):
    """A value the checks cannot foresee (an lr < 0 only the optimizer refuses): all is undone."""
    ckpt, objects, before = _checkpoint_and_fresh_objects(tmp_path)
    model, opt, sched, loader, val, es = objects
    state = mdl.load(ckpt)
    state["optimizer"]["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        load_checkpoint(state, model, opt, sched, [loader, val], callbacks=[es])
    assert_unchanged(objects, before)
    assert load_checkpoint(ckpt, model, opt, sched, [loader, val], callbacks=[es]) == 0  # the good one still loads


def test_callback_states_are_all_checked_before_any_is_given(tmp_path):
    """fit() restores callbacks on their own, after on_train_begin: that step is all or nothing too."""
    first, second = EarlyStopping(patience=3), EarlyStopping(patience=3)
    first.wait, second.wait = 1, 2
    state = {"callbacks": {"EarlyStopping": {**EarlyStopping().state_dict(), "wait": 5},
                           "EarlyStopping.1": {"wait": 7}}}  # the second one's state is broken
    with pytest.raises(ValueError, match=r"ckpt.npz does not fit the objects given: callback EarlyStopping.1: "
                                         r"the saved state lacks \['best'"):
        mdl.train.checkpoint.load_callback_states(state, [first, second], where="ckpt.npz")
    assert (first.wait, second.wait) == (1, 2)


def test_all_or_nothing_on_every_device(tmp_path, device):
    def build_on(seed):
        mdl.manual_seed(seed)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).to(device)
        return model, mdl.optim.Adam(model.parameters(), lr=0.01)

    model, opt = build_on(0)
    model(mdl.tensor(np.ones((5, 3), np.float32), device=device)).sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "c.npz", model, opt, epoch=0)
    state = mdl.load(tmp_path / "c.npz")
    state["optimizer"]["param_groups"][0]["lr"] = -1.0  # refused only by the optimizer, while applying
    fresh, fresh_opt = build_on(1)
    before = {k: backend.to_numpy(v).copy() for k, v in fresh.state_dict().items()}
    with pytest.raises(ValueError, match="lr"):
        load_checkpoint(state, fresh, fresh_opt)
    for name, value in fresh.state_dict().items():
        assert backend.device_of(value) == backend.parse_device(device)
        assert np.array_equal(backend.to_numpy(value), before[name]), name
    assert load_checkpoint(tmp_path / "c.npz", fresh, fresh_opt) == 0
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert np.array_equal(backend.to_numpy(a), backend.to_numpy(b)), name


def test_fit_resume_with_a_broken_callback_state_changes_nothing(tmp_path):
    """fit(resume_from=...) checks the callbacks' part too before it restores anything."""
    ckpt, objects, before = _checkpoint_and_fresh_objects(tmp_path)
    model, opt, sched, loader, val, es = objects
    state = mdl.load(ckpt)
    state["callbacks"]["EarlyStopping"] = {"wait": 1}  # lacks best, best_epoch, ...
    mdl.save(state, tmp_path / "broken.npz")
    with pytest.raises(ValueError, match=r"broken\.npz does not fit the objects given: callback EarlyStopping"):
        fit(model, loader, nn.CrossEntropyLoss(), opt, 3, val_loader=val, scheduler=sched, callbacks=[es],
            verbose=0, resume_from=tmp_path / "broken.npz")
    assert_unchanged(objects, before)
