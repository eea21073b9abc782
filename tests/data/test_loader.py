"""DataLoader semantics: coverage, order, seeds, epochs, prefetch, laziness, devices."""
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl as mdl
from minidl.data import DataLoader, Dataset, Subset, TensorDataset, random_split


class Counting(Dataset):
    """Sample i is (i as an image, label i % 10); counts every read."""

    def __init__(self, n=50):
        self.n, self.reads = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.reads += 1
        return np.full((1, 2, 2), i, dtype=np.float32), i % 10


def ids(batch):
    return mdl.backend.to_numpy(batch[0])[:, 0, 0, 0].astype(int).tolist()


def epoch_ids(loader):
    return [i for batch in loader for i in ids(batch)]


def test_every_sample_once_per_epoch_and_labels_stay_with_samples():
    loader = DataLoader(Counting(53), batch_size=10, shuffle=True, seed=1)
    for _ in range(2):
        seen = []
        for x, y in loader:
            got = ids((x, y))
            assert (np.asarray(got) % 10).tolist() == mdl.backend.to_numpy(y).tolist()
            seen += got
        assert sorted(seen) == list(range(53))
    assert len(loader) == 6


def test_drop_last():
    loader = DataLoader(Counting(53), batch_size=10, drop_last=True)
    sizes = [len(y) for _, y in loader]
    assert sizes == [10] * 5 and len(loader) == 5


def test_no_shuffle_keeps_order():
    assert epoch_ids(DataLoader(Counting(7), batch_size=3)) == list(range(7))


def test_seeded_replay_and_epochs_differ():
    a = DataLoader(Counting(), batch_size=8, shuffle=True, seed=3)
    b = DataLoader(Counting(), batch_size=8, shuffle=True, seed=3)
    first_a, second_a = epoch_ids(a), epoch_ids(a)
    assert first_a == epoch_ids(b) and second_a == epoch_ids(b)
    assert first_a != second_a
    assert epoch_ids(DataLoader(Counting(), batch_size=8, shuffle=True, seed=4)) != first_a


def test_state_dict_resumes_on_the_next_epoch():
    a = DataLoader(Counting(), batch_size=8, shuffle=True, seed=3)
    epoch_ids(a)
    b = DataLoader(Counting(), batch_size=8, shuffle=True, seed=99)
    b.load_state_dict(a.state_dict())
    assert epoch_ids(a) == epoch_ids(b)


def test_manual_seed_fixes_an_unseeded_loader():
    mdl.manual_seed(5)
    a = epoch_ids(DataLoader(Counting(), batch_size=8, shuffle=True))
    mdl.manual_seed(5)
    assert epoch_ids(DataLoader(Counting(), batch_size=8, shuffle=True)) == a


@pytest.mark.parametrize("prefetch", [1, 3])
def test_prefetch_gives_the_same_batches(prefetch):
    plain = DataLoader(Counting(), batch_size=7, shuffle=True, seed=2)
    ahead = DataLoader(Counting(), batch_size=7, shuffle=True, seed=2, prefetch=prefetch)
    assert epoch_ids(plain) == epoch_ids(ahead)


def test_prefetch_stops_cleanly_when_the_consumer_stops():
    import threading

    loader = DataLoader(Counting(1000), batch_size=2, prefetch=2)
    for i, _ in enumerate(loader):
        if i == 3:
            break
    assert not any(t.name == "minidl-prefetch" and t.is_alive() for t in threading.enumerate())


def test_prefetch_passes_errors_on():
    class Broken(Counting):
        def __getitem__(self, i):
            if i == 9:
                raise OSError("disk error at 9")
            return super().__getitem__(i)

    with pytest.raises(OSError, match="disk error at 9"):
        list(DataLoader(Broken(20), batch_size=4, prefetch=2))


def test_lazy_reads_only_the_batches_it_yields():
    data = Counting(100)
    loader = DataLoader(data, batch_size=10)
    for i, _ in enumerate(loader):
        assert data.reads == 10 * (i + 1)
        if i == 2:
            break
    assert data.reads == 30


def test_transform_and_device(device):
    loader = DataLoader(Counting(10), batch_size=4, transform=lambda x: x * 2, device=device)
    x, y = next(iter(loader))
    assert mdl.backend.device_of(x) == mdl.backend.parse_device(device)
    assert mdl.backend.device_of(y) == mdl.backend.parse_device(device)
    assert ids((x / 2, y)) == [0, 1, 2, 3]


def test_tensor_dataset_subset_and_split():
    xs, ys = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    data = TensorDataset(xs, ys)
    assert data[3][1] == 3 and data.get_batch([1, 2])[0].tolist() == [[2, 3], [4, 5]]
    sub = Subset(data, [5, 1])
    assert sub[0][1] == 5 and sub.get_batch([1])[1].tolist() == [1]
    parts = random_split(data, [7, 3], seed=0)
    got = sorted(int(p[i][1]) for p in parts for i in range(len(p)))
    assert got == list(range(10)) and [len(p) for p in parts] == [7, 3]
    assert [len(p) for p in random_split(data, [0.5, 0.5], seed=0)] == [5, 5]
    with pytest.raises(ValueError, match="sum to 10"):
        random_split(data, [3, 3])
    with pytest.raises(ValueError, match="differ in length"):
        TensorDataset(xs, ys[:3])


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Counting(), batch_size=0)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(Counting(), prefetch=-1)
    with pytest.raises(ValueError, match="empty"):
        DataLoader(Counting(0))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), seed=st.integers(0, 99))
def test_batches_cover_the_epoch_exactly(n, batch_size, drop_last, seed):
    loader = DataLoader(Counting(n), batch_size=batch_size, shuffle=True, drop_last=drop_last, seed=seed)
    batches = [ids(b) for b in loader]
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    assert all(len(b) == batch_size for b in batches[:-1] if b)
    flat = [i for b in batches for i in b]
    assert len(set(flat)) == len(flat)  # no sample twice
    assert len(flat) == (len(loader) * batch_size if drop_last else n)


def test_order_depends_only_on_seed_and_epoch():
    a = DataLoader(Counting(), batch_size=8, shuffle=True, seed=3)
    runs = [epoch_ids(a) for _ in range(4)]
    b = DataLoader(Counting(), batch_size=8, shuffle=True, seed=3)
    b.set_epoch(2)  # jump straight to epoch 2: no need to replay epochs 0 and 1
    assert epoch_ids(b) == runs[2] and b.epoch == 3
    assert a.state_dict() == {"seed": 3, "epoch": 4}
    assert [list(i) for i in a.batch_indices(1)] == [runs[1][k:k + 8] for k in range(0, 50, 8)]
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        b.set_epoch(-1)


def test_prefetch_replays_a_random_transform_exactly():
    def noisy(seed):
        rng = np.random.default_rng(seed)
        return lambda x: x + rng.standard_normal(x.shape).astype(np.float32)

    plain = [x for x, _ in DataLoader(Counting(30), batch_size=4, shuffle=True, seed=1, transform=noisy(7))]
    ahead = [x for x, _ in DataLoader(Counting(30), batch_size=4, shuffle=True, seed=1, transform=noisy(7),
                                      prefetch=2)]
    assert len(plain) == len(ahead) == 8
    assert all(np.array_equal(p, q) for p, q in zip(plain, ahead))


def test_prefetch_reads_at_most_k_batches_ahead_and_the_thread_ends():
    data = Counting(1000)
    loader = DataLoader(data, batch_size=2, prefetch=3)
    it = iter(loader)
    next(it)
    next(it)
    # 2 consumed; the worker may hold 3 in the queue and 1 in its hands
    assert data.reads <= 2 * (2 + 3 + 1)
    it.close()  # what a `break` does to the generator
    assert not any(t.name == "minidl-prefetch" and t.is_alive() for t in threading.enumerate())
    assert data.reads <= 2 * (2 + 3 + 1)


def test_get_batch_fast_path_is_used_when_present():
    class Batched(Counting):
        def __getitem__(self, i):
            raise AssertionError("the loader should call get_batch, not [i]")

        def get_batch(self, indices):
            self.reads += 1
            idx = np.asarray(indices)
            return np.broadcast_to(idx[:, None, None, None], (len(idx), 1, 2, 2)).astype(np.float32), idx % 10

    data = Batched(20)
    assert epoch_ids(DataLoader(data, batch_size=6)) == list(range(20))
    assert data.reads == 4  # one call per batch


def test_labels_are_int64_and_inputs_keep_their_dtype():
    x, y = next(iter(DataLoader(Counting(5), batch_size=5)))
    assert x.dtype == np.float32 and x.shape == (5, 1, 2, 2)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3, 4]


def test_prefetch_on_strict_device():
    loader = DataLoader(Counting(9), batch_size=4, device="strict", prefetch=2, transform=lambda x: x + 1)
    got = [(mdl.backend.device_of(x), mdl.backend.device_of(y)) for x, y in loader]
    assert got == [("strict", "strict")] * 3


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader(Counting(), transform="flip")
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(42)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Counting(), batch_size=2.5)
    with pytest.raises(IndexError, match=r"Subset indices must be in \[0, 50\)"):
        Subset(Counting(), [0, 50])
    with pytest.raises(ValueError, match="fractions"):
        random_split(Counting(), [0.5, 0.6])


def test_drop_last_with_a_dataset_smaller_than_a_batch():
    loader = DataLoader(Counting(3), batch_size=4, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_tensor_dataset_accepts_tensors_and_default_get_batch_stacks():
    xs = mdl.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    data = TensorDataset(xs, np.array([2, 0, 1]))
    x, y = data.get_batch([2, 0])
    assert x.tolist() == [[4, 5], [0, 1]] and y.tolist() == [1, 2]
    x, y = Dataset.get_batch(Counting(5), [4, 1])  # the base class's one-by-one reader
    assert x.shape == (2, 1, 2, 2) and y.dtype == np.int64 and y.tolist() == [4, 1]
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(3))


def test_a_label_mixing_transform_gets_and_returns_the_labels():
    class Mixer:
        mixes_labels = True

        def __call__(self, x, y):
            return x, np.eye(10, dtype=np.float32)[y] * 0.5  # soft labels

    x, y = next(iter(DataLoader(Counting(6), batch_size=3, transform=Mixer(), prefetch=1)))
    assert y.shape == (3, 10) and y[2, 2] == 0.5 and ids((x, y)) == [0, 1, 2]
