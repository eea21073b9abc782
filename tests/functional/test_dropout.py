"""dropout / dropout2d: scaling, fixed masks, gradcheck, eval identity, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F


def test_dropout_scales_kept_values_and_is_reproducible(device):
    x = mdl.tensor(np.ones((200, 50), dtype=np.float32), device=device)
    y = F.dropout(x, 0.3, generator=7).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02  # 10,000 draws
    np.testing.assert_array_equal(y, F.dropout(x, 0.3, generator=7).numpy())  # same seed, same mask
    assert y.dtype == np.float32


def test_dropout_mask_is_the_same_on_every_device():
    a = F.dropout(mdl.tensor(np.ones((4, 5)), device="cpu"), 0.5, generator=3).numpy()
    b = F.dropout(mdl.tensor(np.ones((4, 5)), device="strict"), 0.5, generator=3).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_follows_manual_seed():
    x = mdl.tensor(np.ones((10, 10)))
    mdl.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    mdl.manual_seed(5)
    np.testing.assert_array_equal(a, F.dropout(x, 0.5).numpy())


@pytest.mark.parametrize("fn,shape", [(F.dropout, (3, 4)), (F.dropout2d, (2, 3, 2, 2))])
def test_dropout_gradcheck_with_fixed_mask(fn, shape, device, rng):
    x = mdl.tensor(rng.standard_normal(shape), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda u: fn(u, 0.4, generator=np.random.default_rng(11)), (x,))


def test_dropout_gradient_is_the_mask(device):
    x = mdl.tensor(np.ones((3, 8)), requires_grad=True, device=device)
    y = F.dropout(x, 0.5, generator=1)
    y.sum().backward()
    np.testing.assert_array_equal(mdl.tensor(x.grad).numpy(), y.numpy())


def test_dropout2d_drops_whole_channels(device):
    x = mdl.tensor(np.ones((8, 16, 3, 3)), device=device)
    y = F.dropout2d(x, 0.5, generator=2).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # each map all kept or all dropped
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1


def test_identity_in_eval_and_extremes(device):
    x = mdl.tensor(np.arange(6.0).reshape(2, 3), device=device)
    assert F.dropout(x, 0.9, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((2, 3)))


@pytest.mark.parametrize("p", [-0.1, 1.5, "half"])
def test_dropout_p_out_of_range(p):
    x = mdl.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
        F.dropout(x, p)
    with pytest.raises(ValueError, match=r"dropout2d: p must be a probability in \[0, 1\]"):
        F.dropout2d(mdl.tensor(np.ones((1, 1, 2, 2))), p)
