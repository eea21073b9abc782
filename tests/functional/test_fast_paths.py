"""Every fast path computes what its reference computes: forward and every gradient, on every option.

The references (``minidl/functional/conv.py``, ``pool.py``) are the code to
read; the fast paths (``minidl/functional/fast/``) are what training runs.
Each case here runs both on the same float64 inputs and upstream gradient
and requires the same numbers (to rounding: the sums run in another order).
These tests turn the fast paths on themselves, so they also run when the
rest of the suite runs on the references alone (MINIDL_REFERENCE=1).
"""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend
from minidl.functional import fast
from minidl.functional.fast import threads
from minidl.functional.fast.conv import get_memory_budget, memory_budget
from minidl.functional.fast.layout import batch_inner


@pytest.fixture(autouse=True)
def split_even_small_work(monkeypatch):
    """Every case here shares its work out over the threads (the test arrays are small), so each
    fast path is checked threaded too, with the machine's default count or the case's own."""
    monkeypatch.setattr(threads, "MIN_SIZE", 0)
    monkeypatch.setattr(threads, "MIN_PRODUCT", 0)
    monkeypatch.setattr(threads, "MIN_BLOCK", 1)


def run_both(fn, arrays, device, upstream_seed=0):
    """[(output, grads...)] of fn on the fast path and on the reference."""
    results = []
    for on in (True, False):
        previous = fast.enabled()
        fast.set_enabled(on)
        try:
            tensors = [mdl.tensor(a, requires_grad=True, device=device) for a in arrays]
            y = fn(*tensors)
            gy = np.random.default_rng(upstream_seed).standard_normal(y.shape)
            y.backward(mdl.tensor(gy, device=device))
            results.append([backend.to_numpy(y.data)] + [backend.to_numpy(t.grad) for t in tensors])
        finally:
            fast.set_enabled(previous)
    return results


def assert_same(results, rtol=1e-11, atol=1e-12):
    (fast_out, *fast_grads), (ref_out, *ref_grads) = results
    np.testing.assert_allclose(fast_out, ref_out, rtol=rtol, atol=atol, err_msg="forward")
    for k, (a, b) in enumerate(zip(fast_grads, ref_grads)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {k}")


CONV_CASES = [
    ((2, 3, 8, 7), (4, 3, 3, 3), dict()),
    ((2, 3, 8, 7), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ((2, 3, 9, 9), (4, 3, 3, 3), dict(dilation=2, padding=2)),
    ((2, 3, 8, 8), (4, 3, 2, 2), dict(padding="same")),
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="valid", stride=(2, 1))),
    ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((2, 4, 6, 6), (4, 1, 3, 3), dict(groups=4, padding=1)),          # depthwise
    ((2, 3, 9, 8), (3, 1, 5, 5), dict(groups=3, padding=2, stride=2)),  # depthwise 5x5, stride 2
    ((2, 3, 9, 9), (3, 1, 3, 3), dict(groups=3, dilation=2)),         # depthwise, dilated
    ((2, 3, 6, 6), (6, 1, 3, 3), dict(groups=3)),                     # two filters per channel: not depthwise
    ((2, 6, 5, 5), (3, 6, 1, 1), dict()),                              # 1x1
    ((1, 2, 7, 9), (3, 2, 3, 5), dict(padding=(1, 2), stride=(1, 2))),  # non-square
    ((0, 3, 5, 5), (2, 3, 3, 3), dict(padding=1)),                     # an empty batch
    # a batch longer than the image rows: columns and output with the batch innermost
    ((6, 3, 5, 5), (4, 3, 3, 3), dict()),
    ((6, 3, 6, 5), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ((8, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((7, 2, 7, 7), (3, 2, 3, 3), dict(dilation=2)),
    ((6, 3, 5, 4), (4, 3, 2, 3), dict(padding=(1, 0, 2, 1))),
    ((6, 3, 4, 4), (5, 3, 1, 1), dict()),
    ((7, 4, 5, 6), (6, 2, 1, 1), dict(groups=2, stride=2)),
]


@pytest.mark.parametrize("x_shape, w_shape, options", CONV_CASES, ids=[str(c[2]) for c in CONV_CASES])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_fast_equals_reference(device, x_shape, w_shape, options, bias):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)] + ([rng.standard_normal(w_shape[0])]
                                                                             if bias else [])
    assert_same(run_both(lambda x, w, *b: F.conv2d(x, w, *b, **options), arrays, device))


@pytest.mark.parametrize("groups, padding", [(1, 1), (2, 0)])
def test_conv2d_in_chunks_equals_the_reference(device, groups, padding):
    """Over the memory budget the fast path goes a few samples at a time: same numbers."""
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((5, 4, 6, 6)), rng.standard_normal((6, 4 // groups, 3, 3)),
              rng.standard_normal(6)]
    out = 6 - 2 + 2 * padding
    per_sample = 4 * 9 * out * out * 8
    fast.set_enabled(True)  # conftest puts the setting back after each test
    with memory_budget(2 * per_sample):  # two samples per chunk: 3 chunks for 5 samples
        probe = F.conv2d(mdl.tensor(arrays[0], requires_grad=True), mdl.tensor(arrays[1]), padding=padding,
                         groups=groups)
        assert probe.creator.chunk == 2
        results = run_both(lambda x, w, b: F.conv2d(x, w, b, padding=padding, groups=groups), arrays, device)
    assert get_memory_budget() == 256 * 2**20
    assert_same(results)


def test_conv2d_builds_columns_in_cache_sized_chunks_when_none_are_kept(device, monkeypatch):
    """Weights without a gradient (inference, a frozen base): the columns are never kept for
    backward, so they are built CACHE_BYTES at a time; with a weight gradient they stay whole."""
    from minidl.functional.fast import conv as fast_conv
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((5, 4, 6, 6)), rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(6)
    monkeypatch.setattr(fast_conv, "CACHE_BYTES", 2 * 4 * 9 * 6 * 6 * 8)  # two samples of columns
    fast.set_enabled(True)
    tensor = lambda a, grad=False: mdl.tensor(a, requires_grad=grad, device=device)  # noqa: E731
    assert F.conv2d(tensor(x), tensor(w, True), tensor(b), padding=1).creator.chunk is None  # kept whole
    with mdl.no_grad():
        y = F.conv2d(tensor(x), tensor(w), tensor(b), padding=1)
    x_fast, x_reference = tensor(x, True), tensor(x, True)
    frozen = F.conv2d(x_fast, tensor(w), tensor(b), padding=1)  # x wants a gradient, w does not
    assert frozen.creator.chunk == 2
    with fast.disabled():
        reference = F.conv2d(x_reference, tensor(w), tensor(b), padding=1)
    np.testing.assert_allclose(backend.to_numpy(y.data), backend.to_numpy(reference.data), rtol=1e-11, atol=1e-12)
    gy = rng.standard_normal(reference.shape)
    for out in (frozen, reference):
        out.backward(mdl.tensor(gy, device=device))
    np.testing.assert_allclose(backend.to_numpy(x_fast.grad), backend.to_numpy(x_reference.grad),
                               rtol=1e-11, atol=1e-12)


def test_small_images_in_training_lie_batch_innermost_through_relu_and_pooling(device):
    """A batch longer than the image rows: the conv output lies as (C, H, W, N), ReLU keeps that
    order, and max pooling takes the windowed path, which allocates in it too; every gradient
    equals the reference's."""
    from minidl.functional.fast.layout import batch_inner
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((8, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)]
    fast.set_enabled(True)
    x, w, b = (mdl.tensor(a, requires_grad=True, device=device) for a in arrays)
    y = F.conv2d(x, w, b, padding=1)
    assert batch_inner(y.data) and batch_inner(F.relu(y).data)
    pooled = F.max_pool2d(F.relu(y), 2)
    assert type(pooled.creator).__name__ == "WindowedMaxPool2d" and batch_inner(pooled.data)
    pointwise = F.conv2d(y, mdl.tensor(rng.standard_normal((5, 4, 1, 1)), device=device))  # a ResNet shortcut
    assert type(pointwise.creator).__name__ == "PointwiseConv2d" and batch_inner(pointwise.data)
    if device == "cpu":
        assert np.shares_memory(pointwise.creator.X, y.data)  # the conv output's memory, read as it lies
    odd = [rng.standard_normal((9, 3, 7, 7))] + arrays[1:]  # 7 = 3 windows of 2 and one row left over
    for inputs in (arrays, odd):
        for kernel, stride in ((2, 2), (2, 3), (3, 2), (3, 1)):
            results = run_both(lambda x, w, b: F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), kernel, stride),
                               inputs, device)
            assert_same(results)


POOL_CASES = [((2, 3, 8, 6), 2), ((2, 3, 7, 9), 2), ((1, 2, 9, 8), (3, 2)), ((2, 1, 6, 6), 3), ((0, 2, 4, 4), 2)]


@pytest.mark.parametrize("shape, kernel", POOL_CASES, ids=[f"{s}-{k}" for s, k in POOL_CASES])
def test_max_pool_fast_equals_reference(device, shape, kernel):
    x = np.random.default_rng(2).standard_normal(shape)
    assert_same(run_both(lambda t: F.max_pool2d(t, kernel), [x], device), rtol=0, atol=0)


def test_max_pool_paths_agree_on_ties(device):
    """Many equal values: both send each window's gradient to its first maximum in reading order."""
    x = np.random.default_rng(3).integers(0, 3, (2, 2, 8, 8)).astype(np.float64)
    results = run_both(lambda t: F.max_pool2d(t, 2), [x], device)
    assert_same(results, rtol=0, atol=0)
    grad = results[1][1]
    assert ((grad != 0).reshape(2, 2, 4, 2, 4, 2).sum(axis=(3, 5)) <= 1).all()  # one pixel a window


@pytest.mark.parametrize("shape, kernel", [((3, 4, 8, 8), 2), ((3, 4, 9, 7), 3), ((3, 4, 7, 9), (2, 3)),
                                           ((2, 3, 6, 8), (3, 2))])
@pytest.mark.parametrize("after_conv", [False, True], ids=["plain", "conv-output-layout"])
def test_max_pool_ties_go_to_the_first_in_reading_order(device, shape, kernel, after_conv):
    """The fast path finds column maxima first: where the maximum sits in several columns (and
    rows), it must still pick the reference's pixel, on every kernel, in both memory layouts."""
    x = np.random.default_rng(4).integers(0, 2, shape).astype(np.float64)
    one = np.zeros((shape[1], shape[1], 1, 1))
    one[np.arange(shape[1]), np.arange(shape[1])] = 1  # a 1x1 identity conv: x in conv-output memory order
    fn = (lambda t, w: F.max_pool2d(F.conv2d(t, w), kernel)) if after_conv else (lambda t: F.max_pool2d(t, kernel))
    results = run_both(fn, [x, one] if after_conv else [x], device)
    assert_same(results, **({} if after_conv else dict(rtol=0, atol=0)))  # (conv sums: rounding, not pixels)


def test_the_rules_are_visible():
    x = mdl.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    w = mdl.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    fast.set_enabled(True)  # conftest puts the setting back after each test
    assert type(F.conv2d(x, w).creator).__module__ == "minidl.functional.fast.conv"
    assert type(F.max_pool2d(x, 2).creator).__module__ == "minidl.functional.fast.pool"
    x3, w3 = mdl.tensor(np.ones((1, 3, 4, 4))), mdl.tensor(np.ones((3, 1, 3, 3)), requires_grad=True)
    assert type(F.conv2d(x3, w3, groups=3).creator).__module__ == "minidl.functional.fast.depthwise"
    assert type(F.max_pool2d(x, 3, 1).creator).__name__ == "WindowedMaxPool2d"  # overlapping windows
    with fast.disabled():
        assert not fast.enabled()
        assert type(F.conv2d(x, w).creator).__module__ == "minidl.functional.conv"
        assert type(F.max_pool2d(x, 2).creator).__module__ == "minidl.functional.pool"
    assert fast.enabled()


# ---- max pooling's options: the rule sends what the fast path does not do to the reference
POOL_OPTION_CASES = [  # (shape, kwargs): every one runs on both settings and must agree
    ((2, 3, 8, 6), dict(kernel_size=2, ceil_mode=True)),       # nothing left over: the fast path, ceil or not
    ((2, 3, 7, 9), dict(kernel_size=2, ceil_mode=True)),       # a last window hangs over: the reference
    ((2, 3, 8, 8), dict(kernel_size=2, dilation=2)),           # dilated: the reference
    ((2, 3, 9, 8), dict(kernel_size=(3, 2), ceil_mode=True)),
]


@pytest.mark.parametrize("shape, options", POOL_OPTION_CASES, ids=[str(c[1]) for c in POOL_OPTION_CASES])
def test_max_pool_options_fast_equals_reference(device, shape, options):
    x = np.random.default_rng(4).standard_normal(shape)
    assert_same(run_both(lambda t: F.max_pool2d(t, **options), [x], device), rtol=0, atol=0)


def test_max_pool_with_indices_agrees_with_the_fast_path(device):
    """return_indices takes the reference; its values and gradients are the fast path's."""
    x = np.random.default_rng(5).integers(0, 3, (2, 2, 8, 8)).astype(np.float64)  # ties too
    fast.set_enabled(True)
    fast_values = run_both(lambda t: F.max_pool2d(t, 2), [x], device)[0]
    with_indices = run_both(lambda t: F.max_pool2d(t, 2, return_indices=True)[0], [x], device)[0]
    assert_same([fast_values, with_indices], rtol=0, atol=0)


def test_the_max_pool_rule_is_visible():
    x = mdl.tensor(np.ones((1, 1, 6, 6)), requires_grad=True)
    fast.set_enabled(True)  # conftest puts the setting back after each test

    def path(**options):
        y = F.max_pool2d(x, 2, **options)
        creator = (y[0] if options.get("return_indices") else y).creator
        return f"{type(creator).__module__}.{type(creator).__name__}"

    assert path(ceil_mode=True) == "minidl.functional.fast.pool.MaxPool2d"  # 6 = 3 windows of 2: no overhang
    assert path(return_indices=True) == "minidl.functional.pool.MaxPool2d"  # indices: the reference's
    assert path(dilation=2) == "minidl.functional.fast.pool.WindowedMaxPool2d"
    assert type(F.max_pool2d(x[:, :, :5], 2, ceil_mode=True).creator).__name__ == "WindowedMaxPool2d"


ASYMMETRIC_CASES = [  # padding (left, right, top, bottom): the fast paths pad each side on its own
    ((2, 3, 8, 7), (4, 3, 3, 3), dict(padding=(1, 2, 0, 1))),
    ((2, 3, 8, 7), (4, 3, 3, 2), dict(padding=(0, 1, 2, 0), stride=2)),
    ((2, 3, 9, 9), (4, 3, 3, 3), dict(padding=(2, 0, 1, 3), dilation=2)),
    ((2, 4, 6, 6), (6, 2, 3, 3), dict(padding=(1, 0, 0, 1), groups=2)),
    ((2, 4, 6, 6), (4, 1, 3, 3), dict(padding=(0, 2, 1, 0), groups=4)),            # depthwise
    ((2, 3, 9, 8), (3, 1, 5, 5), dict(padding=(2, 1, 0, 2), groups=3, stride=2)),  # depthwise, stride 2
]


@pytest.mark.parametrize("x_shape, w_shape, options", ASYMMETRIC_CASES, ids=[str(c[2]) for c in ASYMMETRIC_CASES])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_fast_equals_reference_with_asymmetric_padding(device, x_shape, w_shape, options, bias):
    test_conv2d_fast_equals_reference(device, x_shape, w_shape, options, bias)


def test_conv2d_in_chunks_with_asymmetric_padding_equals_the_reference(device):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((5, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))]
    fast.set_enabled(True)  # conftest puts the setting back after each test
    with memory_budget(2 * 2 * 9 * 5 * 7 * 8):  # two samples of (2*9, 5*7) columns a chunk
        probe = F.conv2d(mdl.tensor(arrays[0], requires_grad=True), mdl.tensor(arrays[1]), padding=(0, 3, 1, 0))
        assert probe.creator.chunk == 2 and probe.shape == (5, 3, 5, 7)
        results = run_both(lambda x, w: F.conv2d(x, w, padding=(0, 3, 1, 0)), arrays, device)
    assert_same(results)


# ---- one pool of threads (fast/threads.py)
def test_over_rows_covers_the_rows_in_order_one_slice_a_thread(monkeypatch):
    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    parts = threads.over_rows(lambda rows: (rows.start, rows.stop), 10, np)
    assert parts == [(0, 3), (3, 6), (6, 10)]  # consecutive, no gap, no overlap, in order
    assert threads.over_rows(lambda rows: rows, 10, mdl.strict) == [slice(0, 10)]  # not NumPy: one call
    assert threads.over_rows(lambda rows: rows, 5, np, min_rows=2) == [slice(0, 2), slice(2, 5)]  # 2 rows a thread
    monkeypatch.setattr(threads, "MIN_SIZE", 100)
    assert threads.over_rows(lambda rows: rows, 10, np, size=99) == [slice(0, 10)]  # too little work to share
    assert len(threads.over_rows(lambda rows: rows, 10, np, size=100)) == 3
    monkeypatch.setenv("MINIDL_NUM_THREADS", "1")
    assert threads.over_rows(lambda rows: rows, 10, np) == [slice(0, 10)]


def test_over_rows_runs_the_parts_on_several_threads_at_once(monkeypatch):
    import threading

    monkeypatch.setenv("MINIDL_NUM_THREADS", "2")
    barrier = threading.Barrier(2, timeout=10)  # passes only when both parts run at the same time

    def part(rows):
        barrier.wait()
        return threading.get_ident()

    first, second = threads.over_rows(part, 2, np, min_rows=1)
    assert first == threading.get_ident() and second != first  # the caller takes the first slice


def test_over_rows_waits_for_every_part_and_raises_the_error(monkeypatch):
    import time

    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    finished = []

    def part(rows):
        if rows.start == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.05)
        finished.append(rows.start)

    with pytest.raises(ValueError, match="part 0 failed"):
        threads.over_rows(part, 3, np, min_rows=1)
    assert sorted(finished) == [1, 2]  # the others had finished writing before the error came out

    def failing_worker(rows):
        if rows.start:
            raise KeyError("worker failed")

    with pytest.raises(KeyError, match="worker failed"):
        threads.over_rows(failing_worker, 3, np, min_rows=1)


def test_a_part_that_splits_again_runs_its_rows_in_its_own_thread(monkeypatch):
    monkeypatch.setenv("MINIDL_NUM_THREADS", "2")
    inner = threads.over_rows(lambda rows: threads.over_rows(lambda r: r, 8, np, min_rows=1), 2, np, min_rows=1)
    assert inner == [[slice(0, 8)], [slice(0, 8)]]  # no pool inside the pool: no deadlock


def test_thread_count_from_the_setting_the_environment_or_the_cores(monkeypatch):
    assert mdl.set_num_threads is threads.set_num_threads and mdl.get_num_threads is threads.get_num_threads
    monkeypatch.delenv("MINIDL_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.get_num_threads() == threads._cores()  # threadpoolctl is installed with the test tools
    monkeypatch.setattr(threads, "_blas_control", lambda: False)
    assert threads.get_num_threads() == 1  # without it the BLAS keeps its own threads: none of ours
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert threads.get_num_threads() == 4  # as PyTorch reads it
    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    assert threads.get_num_threads() == 3  # minidl's own comes first
    threads.set_num_threads(5)
    try:
        assert threads.get_num_threads() == 5
    finally:
        threads.set_num_threads(None)
    assert threads.get_num_threads() == 3
    for name in ("MINIDL_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.setenv(name, "two")
        with pytest.raises(ValueError, match=f"{name} must be a whole number >= 1, got 'two'"):
            threads.get_num_threads()
        monkeypatch.delenv(name)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads takes a whole number >= 1"):
            threads.set_num_threads(bad)


def test_the_blas_keeps_to_one_thread_while_the_pool_works_and_gets_its_threads_back():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    threads.set_num_threads(1)
    before = blas_threads()
    threads.set_num_threads(2)
    try:
        threads.over_rows(lambda rows: None, 2, np, min_rows=1)
        assert set(blas_threads()) == {1}
    finally:
        threads.set_num_threads(1)  # 1: the BLAS's threads given back
    assert blas_threads() == before
    threads.set_num_threads(None)


def _child_splits(queue):
    queue.put(threads.over_rows(lambda rows: (rows.start, rows.stop), 4, np, min_rows=1))


def test_the_pool_is_made_again_in_a_forked_child(monkeypatch):
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this system")
    monkeypatch.setenv("MINIDL_NUM_THREADS", "2")
    threads.over_rows(lambda rows: None, 2, np, min_rows=1)  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_splits, args=(queue,))
    child.start()
    assert queue.get(timeout=30) == [(0, 2), (2, 4)]  # a copied pool has no threads: it would hang
    child.join(timeout=30)
    assert child.exitcode == 0


def _crew_threads():
    return [worker.thread for worker in threads._crew.workers]


def _wait_until_gone(thread_list):
    import time

    deadline = time.time() + 10
    while any(t.is_alive() for t in thread_list) and time.time() < deadline:
        time.sleep(0.01)
    return not any(t.is_alive() for t in thread_list)


def test_a_second_thread_splitting_meanwhile_runs_its_rows_alone(monkeypatch):
    import threading

    monkeypatch.setenv("MINIDL_NUM_THREADS", "2")
    inside, release, seen = threading.Event(), threading.Event(), {}

    def slow_part(rows):  # holds the split out until the other thread has split
        inside.set()
        assert release.wait(10)
        return rows

    def other_thread():
        inside.wait(10)
        seen["parts"] = threads.over_rows(lambda rows: (rows, threading.get_ident()), 6, np, min_rows=1)
        release.set()

    helper = threading.Thread(target=other_thread)
    helper.start()
    assert threads.over_rows(slow_part, 4, np, min_rows=1) == [slice(0, 2), slice(2, 4)]
    helper.join(10)
    assert seen["parts"] == [(slice(0, 6), helper.ident)]  # all of it, in its own thread: no wait, no mix-up


def test_after_ctrl_c_the_workers_are_not_reused_and_the_next_split_is_right(monkeypatch):
    import time

    monkeypatch.setenv("MINIDL_NUM_THREADS", "2")
    threads.over_rows(lambda rows: None, 2, np, min_rows=1)
    old = _crew_threads()
    finished = []

    def part(rows):
        if rows.start == 0:
            raise KeyboardInterrupt  # as Ctrl-C arrives in the calling thread
        time.sleep(0.2)  # the worker is still writing when the caller gives up
        finished.append(rows.start)

    with pytest.raises(KeyboardInterrupt):
        threads.over_rows(part, 2, np, min_rows=1)
    assert threads.over_rows(lambda rows: (rows.start, rows.stop), 4, np, min_rows=1) == [(0, 2), (2, 4)]
    assert _crew_threads() != old  # a new crew
    assert _wait_until_gone(old) and finished == [1]  # the abandoned worker finished its part, then left


def test_a_new_thread_count_lets_the_old_workers_go_and_parts_are_not_kept(monkeypatch):
    import gc
    import weakref

    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    big = np.ones(10)
    ref = weakref.ref(big)
    threads.over_rows(lambda rows, big=big: big[rows].sum(), 3, np, min_rows=1)
    old = _crew_threads()
    assert len(old) == 2 and all(t.is_alive() for t in old)
    del big
    gc.collect()
    assert ref() is None  # no worker holds on to the last part's arrays
    monkeypatch.setenv("MINIDL_NUM_THREADS", "2")
    threads.over_rows(lambda rows: None, 2, np, min_rows=1)
    assert len(_crew_threads()) == 1
    assert _wait_until_gone(old)  # the three-thread crew's workers exited


@pytest.mark.parametrize("shapes, transposed, split", [
    (((6, 5), (5, 300)), False, True),          # by columns
    (((300, 5), (5, 6)), True, True),           # by rows, a transposed operand
    (((2, 3, 4000), (2, 4000, 5)), False, True),  # by the sum (a weight gradient), a leading group axis
    (((3, 4), (4, 2)), False, False),           # too small: one product
])
def test_matmul_on_threads_equals_one_product(monkeypatch, shapes, transposed, split):
    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    monkeypatch.setattr(threads, "MIN_PRODUCT", 1 if split else 10**9)
    rng = np.random.default_rng(30)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    if transposed:
        a = np.ascontiguousarray(a.T).T  # a view that the BLAS reads transposed
    calls = []
    split_rows = threads.over_rows
    monkeypatch.setattr(threads, "over_rows", lambda part, *args, **kw: calls.append(1) or split_rows(part, *args, **kw))
    np.testing.assert_allclose(threads.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert bool(calls) == split  # split exactly when it is large enough


@pytest.mark.parametrize("tile_bytes", [1, 3000, 2**19])  # one channel a block, two, all of them
def test_depthwise_in_cache_sized_blocks_equals_the_reference(monkeypatch, tile_bytes):
    from minidl.functional.fast import depthwise

    monkeypatch.setattr(depthwise, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((7, 4, 6, 6)), rng.standard_normal((4, 1, 3, 3)), rng.standard_normal(4)]
    assert_same(run_both(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=4), arrays, "cpu"))


@pytest.mark.parametrize("count", ["1", "2", "5"])
def test_max_pool_on_threads_equals_the_reference(monkeypatch, count):
    """Both memory orders: a plain batch, and a conv output (channels outer), split over its leading axis."""
    monkeypatch.setenv("MINIDL_NUM_THREADS", count)
    rng = np.random.default_rng(9)
    x = rng.integers(0, 4, (7, 5, 9, 8)).astype(np.float64)  # ties, and a row and column no window reaches
    assert_same(run_both(lambda t: F.max_pool2d(t, 2), [x], "cpu"), rtol=0, atol=0)
    w = rng.standard_normal((6, 5, 1, 1))
    assert_same(run_both(lambda t, k: F.max_pool2d(F.conv2d(t, k), (2, 3)), [x, w], "cpu"))


@pytest.mark.parametrize("count", ["1", "3"])
def test_relu_fast_path_equals_the_reference(monkeypatch, count):
    monkeypatch.setenv("MINIDL_NUM_THREADS", count)
    x = np.random.default_rng(10).standard_normal((7, 3, 5, 4))
    x[0, 0, 0, :2] = 0.0  # the kink: gradient 0, as the reference
    assert_same(run_both(F.relu, [x], "cpu"), rtol=0, atol=0)
    fast.set_enabled(True)
    t = mdl.tensor(x, requires_grad=True)
    y = F.relu(t)
    assert type(y.creator).__module__ == "minidl.functional.fast.relu"
    gy = np.ones_like(x)
    gy[x <= 0] = np.inf  # an infinite gradient where the unit is off must give 0, not inf * 0 = NaN
    gy[0, 0, 0, 0] = np.nan  # (x is 0 there: off)
    on = np.argwhere(x > 0)[0]
    gy[tuple(on)] = -0.0  # passed on as it is, sign and all
    y.backward(mdl.tensor(gy))
    expected = np.where(x > 0, gy, 0.0)
    assert np.array_equal(t.grad, expected) and np.array_equal(np.signbit(t.grad), np.signbit(expected))
    for dtype in (np.float32, np.float16):  # the bits of every float width
        t = mdl.tensor(x.astype(dtype), requires_grad=True)
        F.relu(t).backward(mdl.tensor(gy.astype(dtype)))
        assert t.grad.dtype == dtype and np.array_equal(t.grad, np.where(x > 0, gy, 0).astype(dtype))
    with mdl.no_grad():  # no backward to come: the fast path keeps no mask, the values are the same
        assert np.array_equal(F.relu(mdl.tensor(x)).data, np.maximum(x, 0))
    one_d = F.relu(mdl.tensor(np.ones(3), requires_grad=True))  # no batch axis: the reference
    assert type(one_d.creator).__module__ == "minidl.functional.activation"


WINDOWED_CASES = [  # (shape, kwargs): windows that do not tile the input
    ((7, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1)),   # ResNet's stem pooling
    ((2, 3, 8, 7), dict(kernel_size=3, stride=1)),
    ((3, 2, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ((2, 3, 7, 9), dict(kernel_size=2, ceil_mode=True)),        # the last window hangs over
    ((0, 2, 5, 5), dict(kernel_size=3, stride=2, padding=1)),   # an empty batch
]


@pytest.mark.parametrize("pieces", [False, True], ids=["whole", "a-row-a-piece"])
@pytest.mark.parametrize("count", ["1", "3"])
@pytest.mark.parametrize("shape, options", WINDOWED_CASES, ids=[str(c[1]) for c in WINDOWED_CASES])
def test_windowed_max_pool_equals_the_reference(device, monkeypatch, count, shape, options, pieces):
    from minidl.functional.fast import pool as fast_pool

    monkeypatch.setenv("MINIDL_NUM_THREADS", count)
    if pieces:  # every input goes in pieces, of one row (one sample of a plain batch) each
        monkeypatch.setattr(fast_pool, "PIECES_FROM", 0)
        monkeypatch.setattr(fast_pool, "BLOCK_BYTES", 1)
    x = np.random.default_rng(11).integers(0, 4, shape).astype(np.float64)  # many ties
    assert_same(run_both(lambda t: F.max_pool2d(t, **options), [x], device), rtol=0, atol=0)
    with mdl.no_grad():  # no arg-max kept: the forward alone
        fast.set_enabled(True)
        y = F.max_pool2d(mdl.tensor(x, device=device), **options)
    with fast.disabled():
        reference = F.max_pool2d(mdl.tensor(x, device=device), **options)
    np.testing.assert_array_equal(backend.to_numpy(y.data), backend.to_numpy(reference.data))


def test_windowed_max_pool_of_a_conv_output_in_pieces_equals_the_reference(monkeypatch):
    """Pieces of channels of a batch-innermost conv output (the layout of training on small images)."""
    from minidl.functional.fast import pool as fast_pool

    monkeypatch.setattr(fast_pool, "PIECES_FROM", 0)
    monkeypatch.setattr(fast_pool, "BLOCK_BYTES", 1)
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal((9, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
    fn = lambda t, k: F.max_pool2d(F.conv2d(t, k, padding=1), 3, stride=2, padding=1)  # noqa: E731
    fast.set_enabled(True)
    conv = F.conv2d(mdl.tensor(x), mdl.tensor(w, requires_grad=True), padding=1)
    assert batch_inner(conv.data) and type(F.max_pool2d(conv, 3, 2, 1).creator).__name__ == "WindowedMaxPool2d"
    assert_same(run_both(fn, [x, w], "cpu"))


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(7, 4, 3, 5), (6, 4), (5, 4, 9)])
def test_batch_norm_eval_fast_path_equals_the_reference(monkeypatch, affine, shape):
    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    rng = np.random.default_rng(12)
    mean, var = rng.standard_normal(shape[1]), rng.random(shape[1]) + 0.5
    arrays = [rng.standard_normal(shape)] + ([rng.standard_normal(shape[1]), rng.standard_normal(shape[1])] if affine else [])
    fn = lambda x, *wb: F.batch_norm(x, mean, var, *wb, training=False, eps=1e-3)  # noqa: E731
    assert_same(run_both(fn, arrays, "cpu"))
    fast.set_enabled(True)
    assert type(fn(*[mdl.tensor(a, requires_grad=True) for a in arrays]).creator).__name__ == "BatchNormEval"
    train = F.batch_norm(mdl.tensor(arrays[0], requires_grad=True), mean.copy(), var.copy(), training=True)
    assert type(train.creator).__name__ == "BatchNorm"  # batch statistics on a plain batch: the reference


@pytest.mark.parametrize("batch", [3, 9], ids=["channels-outer", "batch-innermost"])  # 9 > the 4-pixel rows
@pytest.mark.parametrize("affine, wants", [(True, (True, True, True)), (True, (True, False, False)),
                                           (True, (False, True, True)), (False, (True,))],
                         ids=["affine", "affine, x only", "affine, parameters only", "no parameters"])
def test_batch_norm_training_fast_path_equals_the_reference(affine, batch, wants):
    """Batch statistics on a conv output (both of its memory layouts): the forward, every gradient asked
    for, and the running statistics, as the reference computes them."""
    from minidl.functional.fast.layout import batch_inner, channels_outer
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal((batch, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    gy = rng.standard_normal((batch, 4, 4, 4))
    results = []
    for on in (True, False):
        fast.set_enabled(True)  # the same conv output (and layout) for both
        conv = F.conv2d(mdl.tensor(x), mdl.tensor(w))
        assert (batch_inner if batch == 9 else channels_outer)(conv.data)
        fast.set_enabled(on)
        h = mdl.tensor(conv.data, requires_grad=wants[0])
        g, b = (mdl.tensor(p, requires_grad=want) for p, want in zip((gamma, beta), wants[1:] or (False, False)))
        mean, var = np.zeros(4), np.ones(4)
        y = F.batch_norm(h, mean, var, *((g, b) if affine else ()), training=True, momentum=0.3)
        assert type(y.creator).__name__ == ("BatchNormTrain" if on else "BatchNorm")
        y.backward(mdl.tensor(gy))
        grads = [t.grad for t in ((h, g, b) if affine else (h,))]
        results.append([y.data, mean, var] + [np.zeros(1) if gr is None else gr for gr in grads])
    for k, (a, r) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12, err_msg=f"output {k}")


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_fast_path_passes_gradcheck(affine):
    """BatchNormTrain's gradients against finite differences, in float64: batch norm of a conv output
    (batch-innermost), the conv's weights fixed, every input of the pair checked."""
    rng = np.random.default_rng(16)
    fast.set_enabled(True)
    w = mdl.tensor(rng.standard_normal((3, 2, 3, 3)))
    paths = []

    def fn(x, *gamma_beta):
        y = F.batch_norm(F.conv2d(x, w), None, None, *gamma_beta, training=True)
        if y.creator is not None:  # (the finite differences run without a graph)
            paths.append(type(y.creator).__name__)
        return y

    params = [rng.standard_normal(3), rng.standard_normal(3)] if affine else []
    assert mdl.gradcheck(fn, [rng.standard_normal((6, 2, 5, 5))] + params)
    assert paths and set(paths) == {"BatchNormTrain"}


# ---- the 1x1 (pointwise) and depthwise paths: every option, every needs_input_grad, both dtypes
def run_both_with(fn, arrays, device, wants, dtype=np.float64):
    """run_both, with only the inputs flagged in ``wants`` requiring a gradient (None for the others)."""
    results = []
    for on in (True, False):
        previous = fast.enabled()
        fast.set_enabled(on)
        try:
            tensors = [mdl.tensor(a.astype(dtype), requires_grad=want, device=device) for a, want in zip(arrays, wants)]
            y = fn(*tensors)
            gy = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
            y.backward(mdl.tensor(gy, device=device))
            grads = [None if t.grad is None else backend.to_numpy(t.grad) for t in tensors]
            assert [g is not None for g in grads] == list(wants)
            results.append([backend.to_numpy(y.data)] + grads)
        finally:
            fast.set_enabled(previous)
    return results


def assert_same_with(results, dtype):
    (fast_out, *fast_grads), (ref_out, *ref_grads) = results
    rtol, atol = (1e-11, 1e-12) if dtype == np.float64 else (1e-4, 1e-4)
    assert fast_out.dtype == ref_out.dtype == dtype
    np.testing.assert_allclose(fast_out, ref_out, rtol=rtol, atol=atol, err_msg="forward")
    for k, (a, b) in enumerate(zip(fast_grads, ref_grads)):
        if a is not None:
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {k}")


WANTS = [(True, True, True), (True, False, False), (False, True, True), (False, False, True), (True, True, False)]

POINTWISE_CASES = [  # (x shape, w shape, options): all go to fast/pointwise.py
    ((3, 6, 5, 4), (4, 6, 1, 1), dict()),
    ((3, 6, 7, 6), (4, 6, 1, 1), dict(stride=2)),                    # ResNet's shortcut
    ((2, 6, 7, 5), (5, 6, 1, 1), dict(stride=(1, 3), dilation=2)),   # dilation does nothing to a 1x1
    ((3, 6, 5, 5), (4, 3, 1, 1), dict(groups=2)),
    ((2, 6, 5, 6), (9, 2, 1, 1), dict(groups=3, stride=2)),
    ((1, 6, 4, 4), (4, 6, 1, 1), dict()),                            # one sample
    ((0, 6, 4, 4), (4, 6, 1, 1), dict(stride=2)),                    # an empty batch
]


def assert_same_with_and_without_bias(options, arrays, device, wants, dtype):
    """conv2d(x, w, b, **options) on both paths, then without the bias (the Function gets two inputs)."""
    assert_same_with(run_both_with(lambda x, w, b: F.conv2d(x, w, b, **options), arrays, device, wants, dtype), dtype)
    if any(wants[:2]):
        assert_same_with(run_both_with(lambda x, w: F.conv2d(x, w, **options), arrays[:2], device, wants[:2], dtype),
                         dtype)


@pytest.mark.parametrize("options", [dict(), dict(stride=2), dict(groups=2, stride=(2, 1))], ids=str)
@pytest.mark.parametrize("wants", WANTS, ids=[str(w) for w in WANTS])
def test_pointwise_on_a_conv_output_equals_reference(device, options, wants):
    """x lying as (C, N, H, W) (a fast conv's output): one product for the whole batch, the same numbers."""
    rng = np.random.default_rng(14)
    arrays = [rng.standard_normal((3, 4, 8, 7)), rng.standard_normal((6, 4, 3, 3)),
              rng.standard_normal((4, 6 // options.get("groups", 1), 1, 1)), rng.standard_normal(4)]
    fast.set_enabled(True)
    h = F.conv2d(mdl.tensor(arrays[0]), mdl.tensor(arrays[1]))
    assert h.data.strides[1] > h.data.strides[0]  # channels outer
    assert type(F.conv2d(h, mdl.tensor(arrays[2], requires_grad=True), **options).creator).__name__ == "PointwiseConv2d"

    def fn(x, w3, w1, b):
        return F.conv2d(F.conv2d(x, w3), w1, b, **options) ** 2  # the square: a gradient in (O, N, H, W) order

    assert_same_with(run_both_with(fn, arrays, device, (True, True) + wants[1:]), np.float64)


def test_pointwise_rule_leaves_padded_and_larger_kernels_to_the_others():
    fast.set_enabled(True)
    x = mdl.tensor(np.ones((2, 4, 5, 5)))
    name = lambda w, **o: type(F.conv2d(x, mdl.tensor(np.ones(w), requires_grad=True), **o).creator).__name__  # noqa: E731
    assert name((3, 4, 1, 1)) == "PointwiseConv2d"
    assert name((3, 4, 1, 1), padding=1) == "Conv2d"          # a border of bias only: the general path
    assert name((3, 4, 1, 1), padding=(0, 0, 0, 1)) == "Conv2d"
    assert name((3, 4, 1, 3)) == "Conv2d"
    assert name((4, 1, 1, 1), groups=4) == "DepthwiseConv2d"   # one filter per channel: depthwise first


DEPTHWISE_CASES = [
    ((3, 4, 7, 6), (4, 1, 3, 3), dict(padding=1)),
    ((3, 4, 9, 8), (4, 1, 3, 3), dict(padding=1, stride=2)),              # MobileNet's downsampling
    ((2, 3, 10, 9), (3, 1, 5, 5), dict(padding=2, stride=(2, 3))),
    ((2, 3, 11, 10), (3, 1, 3, 2), dict(padding=(1, 2, 0, 3), stride=2, dilation=(2, 3))),
    ((2, 3, 6, 6), (3, 1, 2, 2), dict(padding="same")),                   # an even kernel: more after than before
    ((2, 3, 5, 5), (3, 1, 1, 1), dict()),                                 # a 1x1 depthwise
    ((0, 3, 5, 5), (3, 1, 3, 3), dict(padding=1)),                        # an empty batch
]


# (the path's Function, x shape, w shape, options): the 1x1 and the depthwise fast paths
MOBILE_CASES = ([("PointwiseConv2d",) + case for case in POINTWISE_CASES]
                + [("DepthwiseConv2d", x, w, dict(options, groups=x[1])) for x, w, options in DEPTHWISE_CASES])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("wants", WANTS, ids=[str(w) for w in WANTS])
@pytest.mark.parametrize("path, x_shape, w_shape, options", MOBILE_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in MOBILE_CASES])
def test_pointwise_and_depthwise_fast_equal_reference(device, path, x_shape, w_shape, options, wants, dtype):
    rng = np.random.default_rng(13)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])]
    fast.set_enabled(True)
    probe = F.conv2d(*[mdl.tensor(a, requires_grad=True) for a in arrays], **options)
    assert type(probe.creator).__name__ == path
    assert_same_with_and_without_bias(options, arrays, device, wants, dtype)


@pytest.mark.parametrize("count", ["1", "2", "3"])
@pytest.mark.parametrize("tile_bytes", [1, 3000, 2**19])
@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_blocks_and_threads_equal_the_reference(monkeypatch, count, tile_bytes, stride):
    """One channel a block, two, all of them; the samples on 1, 2 or 3 threads (weight gradients summed)."""
    from minidl.functional.fast import depthwise

    monkeypatch.setattr(depthwise, "TILE_BYTES", tile_bytes)
    monkeypatch.setenv("MINIDL_NUM_THREADS", count)
    rng = np.random.default_rng(16)
    arrays = [rng.standard_normal((7, 5, 6, 6)), rng.standard_normal((5, 1, 3, 3)), rng.standard_normal(5)]
    assert_same(run_both(lambda x, w, b: F.conv2d(x, w, b, padding=1, stride=stride, groups=5), arrays, "cpu"))


@pytest.mark.parametrize("case", ["pointwise", "pointwise groups stride", "depthwise", "depthwise stride dilation"])
def test_fast_paths_pass_gradcheck(case):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 4, 5, 6))
    fast.set_enabled(True)
    w, options = {
        "pointwise": ((3, 4, 1, 1), dict()),
        "pointwise groups stride": ((6, 2, 1, 1), dict(groups=2, stride=2)),
        "depthwise": ((4, 1, 3, 3), dict(groups=4, padding=1)),
        "depthwise stride dilation": ((4, 1, 3, 2), dict(groups=4, padding=(1, 0, 2, 1), stride=2, dilation=(1, 2))),
    }[case]
    inputs = [x, rng.standard_normal(w), rng.standard_normal(w[0])]
    assert mdl.gradcheck(lambda a, b, c: F.conv2d(a, b, c, **options), inputs)


def test_depthwise_and_pointwise_outputs_lie_channels_outer():
    """As fast/conv.py's: (N, C, H, W) views of (C, N, H, W) memory, so a 1x1 conv after them copies nothing."""
    from minidl.functional.fast.layout import channels_outer

    fast.set_enabled(True)
    rng = np.random.default_rng(18)
    x = mdl.tensor(rng.standard_normal((3, 4, 6, 6)), requires_grad=True)
    dw = F.conv2d(x, mdl.tensor(rng.standard_normal((4, 1, 3, 3))), padding=1, groups=4)
    pw = F.conv2d(dw, mdl.tensor(rng.standard_normal((5, 4, 1, 1))))
    assert channels_outer(dw.data) and channels_outer(pw.data)
    assert type(pw.creator).__name__ == "PointwiseConv2d" and np.shares_memory(pw.creator.X, dw.data)
    pw.sum().backward()
    assert x.grad.shape == x.shape and not channels_outer(x.grad)  # x's gradient in x's order


# ---- the bias inside the product (fast/conv.py: a row of ones under the columns)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("wants", WANTS, ids=[str(w) for w in WANTS])
@pytest.mark.parametrize("batch", [2, 7], ids=["channels-outer", "batch-inner"])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_with_the_bias_in_the_product_equals_reference(device, batch, groups, wants, dtype):
    """One group and a bias: y = [W | b] @ [cols; 1], and dL/db is the weight product's last column;
    every subset of gradients, both memory layouts (7 samples > 3 output columns: batch innermost)."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((batch, 4, 7, 7)), rng.standard_normal((6, 4 // groups, 3, 3)),
              rng.standard_normal(6)]
    options = dict(stride=(1, 2), padding=(1, 0), groups=groups)  # 7x3 outputs
    fast.set_enabled(True)  # conftest puts the setting back after each test
    probe = F.conv2d(*[mdl.tensor(a, requires_grad=True, device=device) for a in arrays], **options).creator
    assert probe.fold == (groups == 1) and probe.batch_last == (batch == 7)
    no_bias = F.conv2d(*[mdl.tensor(a, requires_grad=True, device=device) for a in arrays[:2]], **options)
    assert not no_bias.creator.fold  # nothing to fold
    assert_same_with_and_without_bias(options, arrays, device, wants, dtype)


@pytest.mark.parametrize("batch", [2, 7], ids=["channels-outer", "batch-inner"])
@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=(1, 0, 2, 1)), dict(dilation=2, padding=1)],
                         ids=["plain", "stride, asymmetric padding", "dilation"])
def test_conv2d_with_the_bias_in_the_product_passes_gradcheck_on_every_option(options, batch):
    rng = np.random.default_rng(14)
    inputs = [mdl.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in [(batch, 2, 6, 6), (3, 2, 3, 3), (3,)]]
    fast.set_enabled(True)
    assert F.conv2d(*inputs, **options).creator.fold
    assert mdl.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), inputs)


def test_conv2d_with_the_bias_in_the_product_passes_gradcheck():
    rng = np.random.default_rng(6)
    inputs = [mdl.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in [(6, 2, 5, 5), (3, 2, 3, 3), (3,)]]
    fast.set_enabled(True)
    assert F.conv2d(*inputs, padding=1).creator.fold
    assert mdl.gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), inputs)


# ---- conv2d in blocks of output rows (fast/conv_blocks.py)
BLOCK_CASES = [  # (x shape, w shape, options): all batch-inner (N > OW), 8 input channels or more
    ((9, 8, 6, 6), (5, 8, 3, 3), dict(padding=1)),
    ((9, 8, 7, 6), (4, 8, 3, 3), dict(stride=2, padding=(1, 0, 2, 1))),   # asymmetric padding, stride 2
    ((8, 10, 7, 7), (3, 10, 3, 2), dict(dilation=2, stride=(1, 2))),     # dilated, non-square
    ((10, 8, 5, 5), (6, 8, 5, 5), dict(padding=2)),                       # 5x5
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("wants", [w for w in WANTS if w[1]], ids=[str(w) for w in WANTS if w[1]])
@pytest.mark.parametrize("x_shape, w_shape, options", BLOCK_CASES, ids=[str(c[2]) for c in BLOCK_CASES])
@pytest.mark.parametrize("block_bytes", [1, 3000, 2**30], ids=["a-row-a-block", "uneven-blocks", "one-block"])
@pytest.mark.parametrize("count", ["1", "3"])
def test_blocked_conv2d_equals_reference(monkeypatch, x_shape, w_shape, options, wants, dtype, block_bytes, count):
    from minidl.functional.fast import conv_blocks

    monkeypatch.setenv("MINIDL_NUM_THREADS", count)
    monkeypatch.setattr(threads, "MIN_SIZE", 0)
    monkeypatch.setattr(conv_blocks, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(conv_blocks, "applies", lambda *args: True)  # the rule, whatever the block size
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])]
    fast.set_enabled(True)
    probe = F.conv2d(*[mdl.tensor(a, requires_grad=True) for a in arrays], **options)
    assert type(probe.creator).__name__ == "BlockedConv2d" and batch_inner(probe.data)
    assert_same_with_and_without_bias(options, arrays, "cpu", wants, dtype)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("options", [c[2] for c in BLOCK_CASES], ids=[str(c[2]) for c in BLOCK_CASES])
def test_blocked_conv2d_passes_gradcheck_on_every_option(monkeypatch, options, bias):
    """Float64 gradients against central differences, blocks of one output row, on BLOCK_CASES' options."""
    from minidl.functional.fast import conv_blocks

    monkeypatch.setattr(conv_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(conv_blocks, "applies", lambda *args: True)
    rng = np.random.default_rng(10)
    kernel = (5, 5) if options.get("padding") == 2 else (3, 2) if "dilation" in options else (3, 3)
    shapes = [(3, 2, 6, 6), (2, 2) + kernel] + ([(2,)] if bias else [])
    inputs = [mdl.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]
    fast.set_enabled(True)
    assert type(F.conv2d(*inputs, **options).creator).__name__ == "BlockedConv2d"
    assert mdl.gradcheck(lambda *a: F.conv2d(*a, **options), inputs)


def test_blocked_conv2d_is_taken_in_training_only_where_the_rule_says():
    from minidl.functional.fast import conv_blocks

    rng = np.random.default_rng(8)
    tensor = lambda shape, grad=False: mdl.tensor(rng.standard_normal(shape).astype(np.float32),  # noqa: E731
                                                  requires_grad=grad)
    fast.set_enabled(True)
    x, w = tensor((64, 16, 12, 12)), tensor((16, 16, 3, 3), True)  # columns 144*10*10*64*4 B = 3.7 MB
    path = lambda y: type(y.creator).__name__  # noqa: E731
    assert 144 * 100 * 64 * 4 > 2 * conv_blocks.BLOCK_BYTES
    assert path(F.conv2d(x, w)) == "BlockedConv2d"
    assert path(F.conv2d(x, tensor((16, 16, 3, 3)), tensor((16,), True))) == "Conv2d"  # frozen weights
    with mdl.no_grad():
        assert F.conv2d(x, w).creator is None  # inference: the batched path's cache-sized chunks
    assert path(F.conv2d(x, tensor((16, 8, 3, 3), True), groups=2)) == "Conv2d"  # groups
    assert path(F.conv2d(tensor((64, 4, 24, 24)), tensor((8, 4, 3, 3), True))) == "Conv2d"  # 4 channels
    assert path(F.conv2d(tensor((8, 16, 12, 12)), w)) == "Conv2d"  # batch 8 < 10 output columns
    assert path(F.conv2d(tensor((64, 16, 4, 4)), w)) == "Conv2d"  # columns of under two blocks


def test_blocked_conv2d_passes_gradcheck_and_double_backward(monkeypatch):
    from minidl.functional.fast import conv_blocks

    monkeypatch.setattr(conv_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(conv_blocks, "applies", lambda *args: True)
    rng = np.random.default_rng(9)
    inputs = [mdl.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in [(7, 8, 5, 5), (3, 8, 3, 3), (3,)]]
    fast.set_enabled(True)
    assert type(F.conv2d(*inputs, padding=1, stride=(1, 2)).creator).__name__ == "BlockedConv2d"
    assert mdl.gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, stride=(1, 2)), inputs)
    grads = []
    for on in (True, False):  # a gradient penalty: d/dw of |dL/dx|^2, through create_graph
        fast.set_enabled(on)
        x, w = mdl.tensor(inputs[0].data, requires_grad=True), mdl.tensor(inputs[1].data, requires_grad=True)
        (gx,) = mdl.grad((F.conv2d(x, w, padding=1) ** 2).sum(), [x], create_graph=True)
        (gx * gx).sum().backward()
        grads.append(backend.to_numpy(w.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-10)


# ---- kernel taps that read only padding (fast/conv.py live_taps)
LIVE_TAP_CASES = [  # (x shape, w shape, options, the kernel left: (kh, kw))
    ((4, 3, 1, 1), (5, 3, 3, 3), dict(padding=1), (1, 1)),                # ResNet-18's last stage at CIFAR size
    ((4, 3, 2, 2), (5, 3, 3, 3), dict(padding=1, stride=2), (2, 2)),      # its first conv there
    ((3, 2, 1, 6), (4, 2, 3, 3), dict(padding=1), (1, 3)),                # a one-row image
    ((3, 2, 2, 7), (4, 2, 5, 3), dict(padding=(2, 1)), (3, 3)),           # two dead rows of five
    ((3, 2, 1, 1), (4, 2, 3, 3), dict(padding=(0, 2, 1, 1)), (1, 1)),     # asymmetric padding
    ((3, 4, 1, 1), (4, 1, 3, 3), dict(padding=1, groups=4), (1, 1)),      # depthwise
    ((3, 2, 4, 4), (4, 2, 3, 3), dict(padding=1), (3, 3)),                # every tap live: nothing cut
    ((3, 2, 1, 1), (4, 2, 3, 3), dict(padding=2, dilation=2), (1, 1)),    # dilated: the centre tap alone
    ((3, 2, 3, 3), (4, 2, 3, 3), dict(padding=1, dilation=2), (3, 3)),    # the cut would need a crop: none
]


@pytest.mark.parametrize("x_shape, w_shape, options, left", LIVE_TAP_CASES, ids=[str(c[2]) for c in LIVE_TAP_CASES])
def test_taps_that_read_only_padding_are_cut_with_the_same_results(x_shape, w_shape, options, left):
    rng = np.random.default_rng(31)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])]
    assert_same(run_both(lambda x, w, b: F.conv2d(x, w, b, **options), arrays, "cpu"))
    # The taps that read a real pixel, found by the reference: on ones, dL/dW is a count of them.
    fast.set_enabled(False)
    w = mdl.tensor(arrays[1], requires_grad=True)
    F.conv2d(mdl.tensor(np.ones(x_shape)), w, **options).sum().backward()
    live = np.any(w.grad != 0, axis=(0, 1))  # (kh, kw)
    rows, columns = np.flatnonzero(live.any(axis=1)), np.flatnonzero(live.any(axis=0))
    fast.set_enabled(True)
    w = mdl.tensor(arrays[1], requires_grad=True)
    y = F.conv2d(mdl.tensor(arrays[0]), w, **options)
    assert tuple(y.creator.inputs[1].shape[2:]) == left  # the kernel the op got
    if left != w_shape[2:]:
        assert left == (len(rows), len(columns))  # cut to exactly the live taps' box
        if left == (1, 1) and "groups" not in options:
            assert type(y.creator).__name__ == "PointwiseConv2d"  # one matrix product now
    y.sum().backward()
    assert np.all(w.grad[:, :, ~live] == 0)  # the taps cut get exactly 0
    assert mdl.gradcheck(lambda a, b, c: F.conv2d(a, b, c, **options), arrays)  # float64, through the cut
