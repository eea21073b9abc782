"""The Optimizer base: param groups, zero_grad, skipping, state_dict, errors."""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend, optim


def param(values=(1.0,), device="cpu", dtype=np.float64):
    return mdl.tensor(list(values), requires_grad=True, dtype=dtype, device=device)


def set_grads(xp, pairs):
    for p, g in pairs:
        p.grad = xp.asarray(np.array(g, dtype=np.float64))


# ------------------------------------------------------------------ groups
def test_groups_have_their_own_hyper_parameters(device, xp):
    a, b = param(device=device), param(device=device)
    opt = optim.SGD([{"params": [a], "lr": 0.5, "momentum": 0.9}, {"params": [b]}], lr=0.1)
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.0  # the defaults
    for _ in range(2):
        set_grads(xp, [(a, [1.0]), (b, [1.0])])
        opt.step()
    # a: lr .5, momentum .9: b1 = 1 -> .5; b2 = .9 + 1 = 1.9 -> .5 - .95 = -.45
    # b: lr .1, no momentum:  1 - .1 - .1 = .8
    assert a.tolist() == pytest.approx([-0.45]) and b.tolist() == pytest.approx([0.8])


def test_add_param_group_fills_defaults_and_keeps_extra_keys(device, xp):
    a, b = param(device=device), param(device=device)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01, "name": "head"})  # a single Tensor is fine inside a group
    group = opt.param_groups[1]
    assert group["params"] == [b] and group["lr"] == 0.01 and group["betas"] == (0.9, 0.999)
    assert group["name"] == "head"
    set_grads(xp, [(a, [1.0]), (b, [1.0])])
    opt.step()
    assert a.tolist() == pytest.approx([0.9]) and b.tolist() == pytest.approx([0.99])  # first Adam step: lr


def test_generators_are_accepted():
    a, b = param(), param()
    opt = optim.SGD((p for p in [a, b]), lr=0.1)
    assert opt.param_groups[0]["params"] == [a, b]


@pytest.mark.parametrize("make, error, match", [
    (lambda a, b: optim.SGD([], lr=0.1), ValueError, r"empty parameter list"),
    (lambda a, b: optim.SGD(a, lr=0.1), TypeError, r"got a single Tensor; wrap it in a list"),
    (lambda a, b: optim.SGD({"params": [a]}, lr=0.1), TypeError, r"got one dict; pass a list of dicts"),
    (lambda a, b: optim.SGD(3, lr=0.1), TypeError, r"iterable of Tensors or of dicts.*got int"),
    (lambda a, b: optim.SGD([a, np.ones(2)], lr=0.1), TypeError, r"parameter 1 of param group 0 is a ndarray"),
    (lambda a, b: optim.SGD([a, {"params": [b]}], lr=0.1), TypeError, r"all Tensors or all dicts"),
    (lambda a, b: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, r"param group 0 has no 'params' entry"),
    (lambda a, b: optim.SGD([{"params": {a, b}}], lr=0.1), TypeError, r"ordered collection.*not a set"),
    (lambda a, b: optim.SGD([a, b, a], lr=0.1), ValueError, r"parameter 2 of param group 0 appears twice"),
    (lambda a, b: optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1), ValueError,
     r"a parameter appears in more than one param group \(groups 0 and 1\)"),
    (lambda a, b: optim.SGD([a * 2], lr=0.1), ValueError, r"parameter 0 of param group 0 is not a leaf"),
    (lambda a, b: optim.SGD([{"params": [a]}, {"params": [b], "lr": -1}], lr=0.1), ValueError,
     r"invalid learning rate lr=-1 in param group 1"),
    (lambda a, b: optim.Adam([{"params": [a], "betas": (0.9, 1.0)}]), ValueError,
     r"invalid beta parameter at index 1: 1.0 in param group 0"),
])
def test_bad_params_and_groups_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make(param(), param())


def test_add_param_group_refuses_a_parameter_already_held():
    a = param()
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one param group"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 1


# -------------------------------------------------------- zero_grad, step
def test_zero_grad_to_none_or_to_zeros(device, xp):
    a = param([1.0, 2.0], device=device)
    opt = optim.SGD([a], lr=0.1)
    grad = xp.asarray(np.array([3.0, 4.0]))
    a.grad = grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and backend.to_numpy(a.grad).tolist() == [0.0, 0.0]  # in place
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.9, centered=True, weight_decay=0.1),
])
def test_parameters_without_a_gradient_are_skipped(make, device, xp):
    """A frozen or unused parameter: no crash, no change, no state (weight decay must not touch it)."""
    used = param([1.0, 2.0], device=device)
    unused = param([1.0, 2.0], device=device)
    frozen = param([1.0, 2.0], device=device)
    frozen.requires_grad_(False)
    opt = make([used, unused, frozen])
    loss = (used * used).sum()  # neither unused nor frozen takes part: their .grad stays None
    loss.backward()
    assert unused.grad is None and frozen.grad is None
    opt.step()
    frozen.grad = xp.ones(2)  # a stale gradient on a frozen parameter is skipped too
    opt.step()
    assert unused.tolist() == [1.0, 2.0] and frozen.tolist() == [1.0, 2.0]
    assert unused not in opt.state and frozen not in opt.state
    assert used.tolist() != [1.0, 2.0]


def test_a_model_with_a_frozen_layer_trains(rng):
    model = mdl.nn.Sequential(mdl.nn.Linear(3, 4), mdl.nn.ReLU(), mdl.nn.Linear(4, 2))
    model[0].requires_grad_(False)
    before = [p.numpy().copy() for p in model[0].parameters()]
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    x = mdl.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    for _ in range(2):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    for p, b in zip(model[0].parameters(), before):
        np.testing.assert_array_equal(p.numpy(), b)
    assert len(opt.state) == 2  # the second layer's weight and bias only


def test_gradient_of_the_wrong_shape_or_device_is_named(xp, device):
    a = param([1.0, 2.0], device=device)
    opt = optim.SGD([a], lr=0.1)
    a.grad = xp.ones(3)
    with pytest.raises(ValueError, match=r"parameter 0 of param group 0 has shape \(2,\) but its grad has shape \(3,\)"):
        opt.step()
    if device != "cpu":
        a.grad = np.ones(2)
        with pytest.raises(ValueError, match=rf"on device '{backend.device_of(a.data)}' but its grad is on 'cpu'"):
            opt.step()


def test_state_follows_a_parameter_that_moved():
    """module.to() swaps p.data; buffers made before the move follow it at the next step."""
    a = param([1.0, 2.0])
    opt = optim.Adam([a], lr=0.1)
    a.grad = np.ones(2)
    opt.step()
    a.data = backend.to_device(a.data, "strict").astype(np.float32)
    a.grad = backend.to_device(np.ones(2, dtype=np.float32), "strict")
    opt.step()
    for key in ("exp_avg", "exp_avg_sq"):
        assert backend.device_of(opt.state[a][key]) == "strict" and opt.state[a][key].dtype == np.float32


def test_step_returns_the_closures_loss():
    a = param([3.0])
    opt = optim.SGD([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0 and a.tolist() == pytest.approx([3.0 - 0.1 * 6.0])
    assert opt.step() is None


# -------------------------------------------------------------- state_dict
def _is_plain(value):
    """Only what an .npz (with its JSON structure) holds: dicts, lists, arrays, numbers, strings."""
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return backend.is_array(value) or value is None or isinstance(value, (bool, int, float, str))


def test_state_dict_names_parameters_by_index(device, xp):
    a, b, c = param(device=device), param(device=device), param(device=device)
    opt = optim.SGD([{"params": [a, b], "name": "body"}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    set_grads(xp, [(a, [1.0]), (c, [2.0])])  # b has no gradient: no state
    opt.step()
    sd = opt.state_dict()
    assert _is_plain(sd)
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][0]["name"] == "body" and sd["param_groups"][1]["lr"] == 0.5
    assert sorted(sd["state"]) == [0, 2]
    assert backend.to_numpy(sd["state"][2]["momentum_buffer"]).tolist() == [2.0]


def test_state_dict_is_a_snapshot(device, xp):
    a = param(device=device)
    opt = optim.Adam([a], lr=0.1)
    set_grads(xp, [(a, [1.0])])
    opt.step()
    sd = opt.state_dict()
    saved = backend.to_numpy(sd["state"][0]["exp_avg"]).copy()
    opt.step()
    np.testing.assert_array_equal(backend.to_numpy(sd["state"][0]["exp_avg"]), saved)
    assert sd["state"][0]["step"] == 1


TWO_GROUP_MAKERS = {
    "sgd": lambda groups: optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda groups: optim.Adam(groups, lr=0.1, betas=(0.8, 0.9), amsgrad=True, weight_decay=0.01),
    "adamw": lambda groups: optim.AdamW(groups, lr=0.1),
    "rmsprop": lambda groups: optim.RMSprop(groups, lr=0.01, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("name", sorted(TWO_GROUP_MAKERS))
def test_round_trip_through_npz_continues_identically(name, device, xp, tmp_path):
    rng = np.random.default_rng(0)
    grads = [[rng.standard_normal(3), rng.standard_normal((2, 2))] for _ in range(4)]

    def build():
        a = mdl.tensor(np.arange(3.0), requires_grad=True, dtype=np.float32, device=device)
        b = mdl.tensor(np.ones((2, 2)), requires_grad=True, dtype=np.float32, device=device)
        return (a, b), TWO_GROUP_MAKERS[name]([{"params": [a]}, {"params": [b], "lr": 0.05}])

    def run(params, opt, steps):
        for g in steps:
            set_grads(xp, zip(params, g))
            opt.step()

    params1, opt1 = build()
    run(params1, opt1, grads[:2])
    mdl.save({"optimizer": opt1.state_dict(), "params": [p.data for p in params1]}, tmp_path / "ckpt.npz")

    saved = mdl.load(tmp_path / "ckpt.npz")
    params2, opt2 = build()
    opt2.param_groups[1]["lr"] = 123.0  # restored from the file
    for p, value in zip(params2, saved["params"]):
        p.data[...] = xp.asarray(value)
    opt2.load_state_dict(saved["optimizer"])
    assert opt2.param_groups[1]["lr"] == 0.05
    assert opt2.param_groups[0].get("betas", (0.9, 0.999)) == opt1.param_groups[0].get("betas", (0.9, 0.999))
    for state in opt2.state.values():
        for value in state.values():
            if backend.is_array(value):
                assert backend.device_of(value) == backend.device_of(params2[0].data)
                assert value.dtype == np.float32

    run(params1, opt1, grads[2:])
    run(params2, opt2, grads[2:])
    for p1, p2 in zip(params1, params2):
        np.testing.assert_array_equal(p1.numpy(), p2.numpy())


def test_load_state_dict_maps_indices_group_by_group(device, xp):
    """The saved indices are matched to this optimizer's parameters by position in each group."""
    a, b = param([1.0], device), param([1.0, 1.0], device)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    set_grads(xp, [(a, [1.0]), (b, [2.0, 3.0])])
    opt.step()
    c, d = param([0.0], device, np.float32), param([0.0, 0.0], device, np.float32)
    fresh = optim.SGD([{"params": [c]}, {"params": [d]}], lr=0.1, momentum=0.9)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state[d]["momentum_buffer"].dtype == np.float32  # cast to the parameter's dtype
    assert backend.to_numpy(fresh.state[d]["momentum_buffer"]).tolist() == [2.0, 3.0]
    assert backend.to_numpy(fresh.state[c]["momentum_buffer"]).tolist() == [1.0]


def _trained_adam():
    a, b = param([1.0]), param([1.0, 2.0])
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(1), np.ones(2)
    opt.step()
    return opt


@pytest.mark.parametrize("edit, error, match", [
    (lambda sd: sd.update(param_groups=sd["param_groups"] * 2), ValueError,
     r"the state_dict has 2 param groups, this optimizer has 1"),
    (lambda sd: sd["param_groups"][0].update(params=[0]), ValueError,
     r"param group 0 has 2 parameters but the state_dict's has 1"),
    (lambda sd: sd["state"][1].update(exp_avg=np.zeros(3)), ValueError,
     r"state\[1\]\['exp_avg'\] has shape \(3,\) but the parameter has shape \(2,\)"),
    (lambda sd: sd["state"].update({5: {"step": 1}}), ValueError,
     r"state for parameter 5, which none of its param groups lists"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), ValueError,
     r"invalid learning rate lr=-1.0 in the state_dict's param group 0"),
    (lambda sd: sd.pop("state"), ValueError, r"needs a dict with 'state' and 'param_groups'"),
])
def test_bad_state_dicts_are_named_and_change_nothing(edit, error, match):
    target = _trained_adam()
    before = {k: backend.to_numpy(v).copy() for k, v in target.state[target.param_groups[0]["params"][1]].items()
              if backend.is_array(v)}
    sd = _trained_adam().state_dict()
    edit(sd)
    with pytest.raises(error, match=match):
        target.load_state_dict(sd)
    b = target.param_groups[0]["params"][1]
    assert target.param_groups[0]["lr"] == 0.1
    for k, v in before.items():
        np.testing.assert_array_equal(backend.to_numpy(target.state[b][k]), v)


def test_repr_lists_the_groups():
    opt = optim.SGD([{"params": [param()], "lr": 0.5}, {"params": [param(), param()]}], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (") and "param group 0: 1 params, lr=0.5" in text
    assert "param group 1: 2 params, lr=0.1" in text
