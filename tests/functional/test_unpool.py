"""max_unpool2d: values back at max_pool2d's indices, zeros elsewhere; its gradient a gather; errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def _distinct(shape, rng):
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1


def test_unpool_by_hand(device):
    x = _t([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 1], [2, 9, 1, 7]]]], device)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(i.numpy()[0, 0], [[1, 6], [13, 15]])
    u = F.max_unpool2d(y, i, 2)
    np.testing.assert_array_equal(u.numpy()[0, 0], [[0, 5, 0, 0], [0, 0, 8, 0], [0, 0, 0, 0], [0, 9, 0, 7]])
    u.backward(mdl.tensor(np.arange(16.0).reshape(1, 1, 4, 4), device=device))  # through unpool, then pool
    np.testing.assert_array_equal(mdl.tensor(x.grad).numpy()[0, 0], [[0, 1, 0, 0], [0, 0, 6, 0], [0, 0, 0, 0],
                                                                     [0, 13, 0, 15]])


def test_unpool_gradient_is_the_gather(device):
    x = _t([[[[5.0, 8.0], [9.0, 7.0]]]], device)
    indices = mdl.tensor(np.array([[[[1, 6], [13, 15]]]]), device=device)
    u = F.max_unpool2d(x, indices, 2)
    u.backward(mdl.tensor(np.arange(16.0).reshape(1, 1, 4, 4), device=device))
    np.testing.assert_array_equal(mdl.tensor(x.grad).numpy()[0, 0], [[1, 6], [13, 15]])  # gy read at the indices


@pytest.mark.parametrize("shape, k, s, p", [((2, 3, 8, 8), 2, None, 0), ((2, 2, 7, 7), 3, 2, 1),
                                            ((1, 2, 6, 9), (2, 3), (2, 3), 0), ((2, 1, 9, 8), 3, 3, 1)])
def test_round_trip(shape, k, s, p, device, rng):
    """Unpooling puts every maximum back where it was; pooling that again gives the same maxima."""
    x = _t(_distinct(shape, rng), device)
    y, i = F.max_pool2d(x, k, s, p, return_indices=True)
    u = F.max_unpool2d(y, i, k, s, p, output_size=shape[2:])
    assert u.shape == shape
    places = np.zeros(shape, dtype=bool).reshape(shape[0], shape[1], -1)
    np.put_along_axis(places, i.numpy().reshape(shape[0], shape[1], -1), True, axis=2)
    places = places.reshape(shape)  # the pixels that won a window
    np.testing.assert_array_equal(u.numpy()[places], x.numpy()[places])  # the maxima, in their places
    np.testing.assert_array_equal(u.numpy()[~places], 0)  # zeros elsewhere
    np.testing.assert_array_equal(F.max_pool2d(u, k, s, p).numpy(), y.numpy())


def test_output_size_choices(device, rng):
    """The indices count pixels in the plane the pooling read, so output_size must name that plane."""
    x = _t(_distinct((1, 2, 6, 6), rng), device)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    assert F.max_unpool2d(y, i, 2).shape == (1, 2, 6, 6)  # the default: (3 - 1)*2 + 2
    x = _t(_distinct((1, 2, 7, 6), rng), device)
    y, i = F.max_pool2d(x, 2, return_indices=True)  # 7 rows -> 3: the last row is dropped
    for size in ((7, 6), (1, 2, 7, 6)):  # (OH, OW) or (N, C, OH, OW)
        u = F.max_unpool2d(y, i, 2, output_size=size)
        assert u.shape == (1, 2, 7, 6)
        kept = u.numpy() != 0
        assert kept.sum() == 2 * 3 * 3
        np.testing.assert_array_equal(u.numpy()[kept], x.numpy()[kept])


@pytest.mark.parametrize("k, s, p, size", [(2, None, 0, None), (3, 3, 1, (7, 8)), ((2, 3), (2, 3), 0, (9, 10))])
def test_unpool_gradcheck(k, s, p, size, device, rng):
    shape = (2, 2, 7, 8) if size is None or size == (7, 8) else (1, 2, 9, 10)
    pooled, i = F.max_pool2d(mdl.tensor(_distinct(shape, rng)), k, s, p, return_indices=True)
    x = _t(rng.standard_normal(pooled.shape), device)
    indices = mdl.tensor(i.numpy(), device=device)
    assert mdl.gradcheck(lambda u: F.max_unpool2d(u, indices, k, s, p, size), (x,))


def test_unpool_errors():
    x = mdl.tensor(np.ones((1, 1, 2, 2)))
    good = np.array([[[[0, 3], [8, 15]]]])
    with pytest.raises(ValueError, match=r"indices must have the input's shape \(1, 1, 2, 2\), got \(1, 1, 2, 3\)"):
        F.max_unpool2d(x, np.zeros((1, 1, 2, 3), dtype=np.int64), 2)
    with pytest.raises(IndexError, match=r"index 16 is out of range for an output plane of 4x4 = 16 pixels; "
                                         r"expected indices in \[0, 15\]"):
        F.max_unpool2d(x, good + 1, 2)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.max_unpool2d(x, good - 1, 2)
    with pytest.raises(TypeError, match=r"indices must hold integers.*got dtype float64"):
        F.max_unpool2d(x, good.astype(np.float64), 2)
    with pytest.raises(ValueError, match=r"output_size \(7, 7\) has height 7; .* strictly between 2 and 6"):
        F.max_unpool2d(x, good, 2, output_size=(7, 7))
    with pytest.raises(ValueError, match=r"output_size must be \(OH, OW\) or \(N, C, OH, OW\), got \(4, 4, 4\)"):
        F.max_unpool2d(x, good, 2, output_size=(4, 4, 4))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(2, 2\)"):
        F.max_unpool2d(mdl.tensor(np.ones((2, 2))), good[0, 0], 2)
    with pytest.raises(IndexError, match=r"index 15 is out of range for an output plane of 3x3"):
        F.max_unpool2d(x, good, 2, output_size=(3, 3))  # a smaller output: the indices no longer fit
