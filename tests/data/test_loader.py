"""DataLoader semantics: coverage, order, seeds, epochs, prefetch, laziness, devices."""
import numpy as np
import pytest

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
