"""Data-parallel training: every process holds the model and takes a shard of each batch.

    # train.py, started as:  mpirun -n 2 python train.py
    comm = mdl.distributed.init()                     # MPI from the launcher (one process: world size 1)
    loader = DataLoader(train, batch_size=64, shuffle=True, seed=0,
                        num_replicas=comm.world_size, rank=comm.rank)   # a disjoint shard per rank
    model = DistributedDataParallel(make_model(), comm)   # the same weights everywhere (rank 0's)
    fit(model, loader, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), epochs=3)

Why it is the same as one big batch: with a mean loss, the gradient of a
batch of B = k * b samples is the mean of the k shards' gradients (each over
b samples). So if every rank computes its shard's gradient and all of them
are averaged (an *all-reduce*: each rank ends with the sum of everyone's
array, divided by k), every rank takes exactly the step one process would
take on the whole batch, and the copies of the model never drift apart.

* :mod:`.comm` - the transport, behind one small interface (all-reduce,
  broadcast, barrier, rank, world size): MPI through mpi4py on CPUs, NCCL
  through CuPy on GPUs, and a one-process stand-in.
* :mod:`.ddp` - :class:`DistributedDataParallel` (PyTorch's name): rank 0's
  weights broadcast at the start, gradients averaged in buckets before each
  optimizer step (``fit`` does it; a hand-written loop calls
  ``model.sync_gradients()`` between ``backward()`` and ``step()``).

The communicator that :func:`init` returns is passed to the loader and the
model explicitly. PyTorch's spelling works too: ``init_process_group()``
sets a default group, which ``get_rank()``, ``all_reduce(array)``,
``DistributedDataParallel(model)`` and ``DistributedSampler(dataset)`` use
when given none. Gradients are averaged where the step is taken (``fit``, or
``model.sync_gradients()``), not inside ``backward`` as in PyTorch: minidl's
engine has no hooks.
"""
from .comm import (Communicator, MPICommunicator, NCCLCommunicator, SingleProcess, all_reduce, barrier, broadcast,
                   get_rank, get_world_size, init, init_process_group, launched_by_mpi)
from .ddp import DistributedDataParallel, average_gradients, broadcast_state, check_same_model
from .sampler import DistributedSampler

__all__ = ["Communicator", "MPICommunicator", "NCCLCommunicator", "SingleProcess", "init", "launched_by_mpi",
           "init_process_group", "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast",
           "DistributedDataParallel", "DistributedSampler", "average_gradients", "broadcast_state",
           "check_same_model"]
