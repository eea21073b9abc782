"""The parts of data parallelism that one process can check: shards, buckets, the one-rank communicator."""
import importlib.util

import numpy as np
import pytest

import minidl as mdl
from minidl import nn
from minidl.data import DataLoader, TensorDataset
from minidl.distributed import DistributedDataParallel, SingleProcess, average_gradients, init
from minidl.distributed.ddp import _buckets


def dataset(n):
    return TensorDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n))


@pytest.mark.parametrize("n, ranks", [(64, 2), (10, 3), (7, 4)])
def test_shards_are_disjoint_and_together_make_one_process_order(n, ranks):
    full = DataLoader(dataset(n), batch_size=4, shuffle=True, seed=5)
    shards = [DataLoader(dataset(n), batch_size=4, shuffle=True, seed=5, num_replicas=ranks, rank=r)
              for r in range(ranks)]
    for epoch in (0, 1):
        order = full.order(epoch)
        picked = [np.concatenate(s.batch_indices(epoch)) for s in shards]
        per_rank = -(-n // ranks)
        assert all(len(p) == per_rank for p in picked)  # padded: the same number of samples everywhere
        interleaved = np.stack(picked, axis=1).reshape(-1)  # rank 0's first, rank 1's first, ...
        assert np.array_equal(interleaved, np.resize(order, per_rank * ranks))
        if n % ranks == 0:
            assert sorted(interleaved) == list(range(n))  # disjoint, nothing repeated
    assert len(shards[0]) == -(-(-(-n // ranks)) // 4)


def test_first_batches_of_the_ranks_are_the_first_global_batch():
    full = DataLoader(dataset(64), batch_size=16, shuffle=True, seed=1)
    shards = [DataLoader(dataset(64), batch_size=8, shuffle=True, seed=1, num_replicas=2, rank=r) for r in (0, 1)]
    first = np.concatenate([s.batch_indices(0)[0] for s in shards])
    assert sorted(first) == sorted(full.batch_indices(0)[0])


def test_shard_arguments_are_checked():
    with pytest.raises(ValueError, match=r"rank must be in \[0, num_replicas\), got rank 2 of 2"):
        DataLoader(dataset(8), seed=0, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="give a seed"):
        DataLoader(dataset(8), shuffle=True, num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="num_replicas"):
        DataLoader(dataset(8), seed=0, num_replicas=0)


def test_buckets_group_by_size_and_dtype_last_layer_first():
    ps = [nn.Parameter(np.zeros(n, dtype=d)) for n, d in [(10, "float32"), (10, "float32"), (30, "float32"),
                                                         (5, "float64"), (5, "float64")]]
    buckets = _buckets(ps, bucket_bytes=100)  # 25 float32 values or 12 float64 per bucket
    position = {id(p): i for i, p in enumerate(ps)}
    assert [[position[id(p)] for p in b] for b in buckets] == [[4, 3], [2], [1, 0]]


def test_one_process_is_the_identity():
    comm = init("single")
    assert isinstance(comm, SingleProcess) and (comm.rank, comm.world_size) == (0, 1)
    a = np.arange(3.0)
    assert comm.all_reduce(a) is a and np.array_equal(a, [0, 1, 2])
    net = DistributedDataParallel(nn.Linear(3, 2), comm)
    x = mdl.tensor(np.ones((4, 3), dtype=np.float32))
    net(x).sum().backward()
    before = [p.grad.copy() for p in net.parameters()]
    net.sync_gradients()
    assert all(np.array_equal(b, p.grad) for b, p in zip(before, net.parameters()))
    assert list(net.state_dict()) == ["module.weight", "module.bias"]
    average_gradients([], comm)  # nothing to do


def test_bad_setups_say_what_is_wrong():
    with pytest.raises(ValueError, match="backend must be 'auto', 'mpi', 'nccl' or 'single'"):
        init("gloo")
    with pytest.raises(TypeError, match="needs a Module"):
        DistributedDataParallel(lambda x: x, SingleProcess())
    with pytest.raises(ValueError, match="all_reduce: op must be one of"):
        SingleProcess().all_reduce(np.zeros(2), op="mean")
    with pytest.raises(ValueError, match="contiguous"):
        SingleProcess().all_reduce(np.zeros((4, 4))[:, ::2])


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                    reason="CuPy is installed: benchmarks/gpu_check.sh runs NCCL on a GPU")
def test_nccl_without_cupy_says_how_to_install_it():
    from minidl.distributed import NCCLCommunicator
    with pytest.raises(RuntimeError, match=r"the NCCL backend needs CuPy with NCCL \(pip install 'minidl\[gpu\]'\)"):
        NCCLCommunicator(SingleProcess())


def test_pytorch_spelling_default_group_sampler_and_ddp(monkeypatch):
    from minidl.distributed import comm

    monkeypatch.setattr(comm, "_default", None)
    with pytest.raises(RuntimeError, match="get_rank: the default process group is not initialized"):
        mdl.distributed.get_rank()
    with pytest.raises(RuntimeError, match="DistributedDataParallel: the default process group is not initialized"):
        DistributedDataParallel(nn.Linear(2, 2))
    group = mdl.distributed.init_process_group()
    assert isinstance(group, SingleProcess)
    assert (mdl.distributed.get_rank(), mdl.distributed.get_world_size()) == (0, 1)
    a = np.arange(3.0)
    assert mdl.distributed.all_reduce(a) is a and mdl.distributed.broadcast(a, src=0) is a
    mdl.distributed.barrier()
    assert DistributedDataParallel(nn.Linear(2, 2)).comm is group
    sampler = mdl.distributed.DistributedSampler(dataset(8))
    assert (sampler.num_replicas, sampler.rank, sampler.shuffle, sampler.seed) == (1, 0, True, 0)


@pytest.mark.parametrize("drop_last", [False, True])
def test_a_sampler_shards_as_num_replicas_and_rank_do(drop_last):
    from minidl.distributed import DistributedSampler

    for r in range(3):
        sampler = DistributedSampler(dataset(10), num_replicas=3, rank=r, seed=4, drop_last=drop_last)
        by_sampler = DataLoader(dataset(10), batch_size=2, sampler=sampler)
        by_arguments = DataLoader(dataset(10), batch_size=2, shuffle=True, seed=4, num_replicas=3, rank=r)
        picked = np.concatenate(by_sampler.batch_indices(0))
        assert len(picked) == len(sampler) == (3 if drop_last else 4)
        assert np.array_equal(picked, np.concatenate(by_arguments.batch_indices(0))[:len(picked)])
    with pytest.raises(ValueError, match="give shuffle to the sampler, not to the loader"):
        DataLoader(dataset(10), shuffle=True, sampler=sampler)
    with pytest.raises(ValueError, match="the sampler is over 10 samples, the dataset has 4"):
        DataLoader(dataset(4), sampler=sampler)
    with pytest.raises(ValueError, match=r"rank must be in \[0, num_replicas\), got rank 3 of 3"):
        DistributedSampler(dataset(10), num_replicas=3, rank=3)
