"""Transfer learning tools: freezing, heads, features, per-layer lrs, shallow classifiers, torch weights."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import transfer


def mlp():
    mdl.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))


def test_freeze_by_prefix_and_unfreeze():
    model = mlp()
    transfer.freeze(model, ["0", "2"])
    assert [p.requires_grad for p in model.parameters()] == [False, False, False, False, True, True]
    transfer.unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="no parameter name starts with"):
        transfer.freeze(model, "9")


def test_frozen_layers_get_no_gradient_and_optimizer_skips_them(rng):
    model = mlp()
    transfer.freeze(model, ["0", "2"])
    frozen_before = model[0].weight.numpy().copy()
    opt = mdl.optim.SGD(model.parameters(), lr=0.1)
    loss = mdl.nn.functional.cross_entropy(model(rng.standard_normal((5, 4)).astype(np.float32)), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    assert model[0].weight.grad is None and model[2].weight.grad is None and model[4].weight.grad is not None
    opt.step()
    assert np.array_equal(model[0].weight.numpy(), frozen_before)


def test_replace_head():
    model = mlp()
    new = transfer.replace_head(model, 7)
    assert model[4] is new and new.out_features == 7 and new.in_features == 6
    assert model(np.zeros((2, 4), dtype=np.float32)).shape == (2, 7)
    with pytest.raises(ValueError, match="no nn.Linear"):
        transfer.replace_head(nn.Sequential(nn.ReLU()), 3)


def test_extract_features_from_a_named_layer(rng):
    model = mlp()
    x = rng.standard_normal((10, 4)).astype(np.float32)
    y = np.arange(10) % 3
    loader = [(x[:6], y[:6]), (x[6:], y[6:])]
    feats, labels = transfer.extract_features(model, loader, layer="3")
    with mdl.no_grad():
        expected = model[3](model[2](model[1](model[0](x)))).numpy()
    assert feats.shape == (10, 6) and np.allclose(feats, expected)
    assert labels.tolist() == y.tolist()
    assert model.training and "forward" not in model[3].__dict__  # mode and layer restored
    out, none = transfer.extract_features(model, [x])
    assert out.shape == (10, 3) and none is None
    with pytest.raises(ValueError, match="not a submodule name"):
        transfer.extract_features(model, loader, layer="nope")


def test_param_groups_by_depth():
    model = mlp()
    groups = transfer.param_groups_by_depth(model, base_lr=0.1, decay=0.5)
    assert [g["lr"] for g in groups] == pytest.approx([0.025, 0.05, 0.1])
    assert [g["name"] for g in groups] == ["0", "2", "4"]
    opt = mdl.optim.SGD(groups, lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.025, 0.05, 0.1])
    transfer.freeze(model, "0")
    assert len(transfer.param_groups_by_depth(model, 0.1)) == 2
    with pytest.raises(ValueError, match="decay"):
        transfer.param_groups_by_depth(model, 0.1, decay=0)


def test_load_torch_state_dict_checks_names_and_shapes(rng):
    model = mlp()
    exported = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in model.state_dict().items()}
    exported["4.num_batches_tracked"] = np.array(5)  # PyTorch-only counters are skipped
    transfer.load_torch_state_dict(model, exported)
    assert np.array_equal(model[4].bias.numpy(), exported["4.bias"])
    bad = dict(exported)
    bad["0.weight"] = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(Exception, match=r"0\.weight"):
        transfer.load_torch_state_dict(model, bad)


def test_hinge_loss_gradcheck_and_value(rng):
    scores = mdl.tensor(np.array([[3.0, 1.0, 2.5], [0.0, 2.0, 1.0]]), requires_grad=True)
    labels = np.array([0, 2])
    # row 0: max(0, 1-3+1) + max(0, 2.5-3+1) = 0 + 0.5; row 1: max(0, 0-1+1) + max(0, 2-1+1) = 0 + 2
    assert transfer._hinge_loss(scores, labels).item() == pytest.approx((0.5 + 2.0) / 2)
    x = mdl.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert mdl.gradcheck(lambda s: transfer._hinge_loss(s, np.array([0, 1, 4, 2])), (x,))


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_linear_classifier_separates_blobs(loss, rng):
    centers = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3]], dtype=np.float32)
    labels = rng.integers(0, 3, 300)
    feats = centers[labels] + rng.standard_normal((300, 3)).astype(np.float32) * 0.5
    clf = transfer.fit_linear_classifier(feats, labels, loss=loss, epochs=20)
    with mdl.no_grad():
        acc = (clf(feats).numpy().argmax(axis=1) == labels).mean()
    assert acc > 0.95
    with pytest.raises(ValueError, match="loss must be"):
        transfer.fit_linear_classifier(feats, labels, loss="svm")


def test_frozen_batch_norm_stays_in_eval_mode():
    """The decks' classic bug: a frozen base's batch norms must not switch to batch statistics in train()."""
    import minidl.models as zoo

    mdl.manual_seed(0)
    model = zoo.resnet20_cifar(num_classes=3)
    rng = np.random.default_rng(0)
    with mdl.no_grad():  # give the running statistics values to lose
        model.train()
        for _ in range(3):
            model(mdl.tensor(rng.standard_normal((16, 3, 16, 16)).astype(np.float32) * 2 + 1))
    base = [name for name, _ in model.named_children() if name != "fc"]
    transfer.freeze(model, base)
    before = {k: np.array(v) for k, v in model.state_dict().items() if "running" in k}
    x = mdl.tensor(rng.standard_normal((4, 3, 16, 16)).astype(np.float32))
    with mdl.no_grad():
        expected = model.eval()(x).numpy()
    model.train()
    assert not model.bn1.training and not model.layer2[0].bn1.training and model.training
    opt = mdl.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = mdl.nn.functional.cross_entropy(model(x), np.array([0, 1, 2, 0]))
    loss.backward()
    opt.step()
    after = {k: v for k, v in model.state_dict().items() if "running" in k}
    assert all(np.array_equal(before[k], after[k]) for k in before)  # statistics untouched
    with mdl.no_grad():
        features_train_mode = model.train().layer3(model.layer2(model.layer1(model.relu(model.bn1(model.conv1(x))))))
        features_eval_mode = model.eval().layer3(model.layer2(model.layer1(model.relu(model.bn1(model.conv1(x))))))
    np.testing.assert_array_equal(features_train_mode.numpy(), features_eval_mode.numpy())
    assert not np.allclose(expected, model.eval()(x).numpy())  # the head did train
    transfer.unfreeze(model)
    model.train()
    assert model.bn1.training


def test_linear_classifier_ignores_a_feature_that_never_varied_in_training():
    """A dead unit on the few training images must not blow up when it fires on a test image."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    train = np.concatenate([x, np.zeros((40, 1), np.float32)], axis=1)  # feature 3: always 0 in training
    head = transfer.fit_linear_classifier(train, y, epochs=50)
    test = train[:5].copy()
    test[:, 3] = 5.0  # it fires at test time
    with mdl.no_grad():
        moved = head(mdl.tensor(test)).numpy() - head(mdl.tensor(train[:5])).numpy()
    assert np.abs(moved).max() < 1.0  # without the guard: 5 / 1e-6 standardised -> scores off by ~1e5
