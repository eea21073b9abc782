"""Communicators: the few collective operations data parallelism needs.

    all_reduce(a)   every rank's ``a`` becomes the elementwise sum (or max) over all ranks
    broadcast(a)    every rank's ``a`` becomes rank 0's
    barrier()       wait until every rank gets here

Each works in place on an array, as MPI and NCCL do. Three implementations:

* :class:`MPICommunicator` - MPI through ``mpi4py`` (``pip install
  'minidl[distributed]'`` brings mpi4py and the MPICH runtime; Debian's
  openmpi-bin works too). A CuPy array is copied to the host and back: plain
  MPI cannot read GPU memory.
* :class:`NCCLCommunicator` - NVIDIA's NCCL through ``cupy.cuda.nccl``, on the
  GPU arrays themselves; MPI is used once, at the start, to hand every rank
  NCCL's unique id.
* :class:`SingleProcess` - world size 1, every operation a no-op: the same
  script runs without a launcher.

An all-reduce of ``n`` bytes over ``k`` ranks with the ring algorithm sends
2 (k - 1) / k * n bytes from each rank: nearly 2n however many ranks there
are, which is why data parallelism scales.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any, Optional

import numpy

from .. import backend

OPS = ("sum", "max")
# Variables that MPI launchers set in every process they start.
_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MPI_LOCALRANKID")


class Communicator:
    """The interface: ``rank``, ``world_size``, ``all_reduce``, ``broadcast``, ``barrier``."""

    rank: int = 0
    world_size: int = 1
    name = "none"

    def all_reduce(self, array: Any, op: str = "sum") -> Any:
        """Replace ``array`` (in place) by its elementwise ``op`` over all ranks; return it."""
        raise NotImplementedError

    def broadcast(self, array: Any, root: int = 0) -> Any:
        """Replace ``array`` (in place) by rank ``root``'s; return it."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Return once every rank has called it."""
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """Stop every rank at once (after an error on this one)."""
        sys.exit(code)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} rank {self.rank} of {self.world_size}>"


def _check(array: Any, op: str = "sum") -> None:
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of {OPS}, got {op!r}")
    if not backend.is_array(array):
        raise TypeError(f"collectives work in place on an array, got {type(array).__name__}")
    if not array.flags.c_contiguous:
        raise ValueError("collectives need a contiguous array (use xp.ascontiguousarray)")


class SingleProcess(Communicator):
    """One process: the sum over one rank is the array itself."""

    name = "single"

    def all_reduce(self, array: Any, op: str = "sum") -> Any:
        _check(array, op)
        return array

    def broadcast(self, array: Any, root: int = 0) -> Any:
        _check(array)
        return array

    def barrier(self) -> None:
        pass


class MPICommunicator(Communicator):
    """MPI's ``COMM_WORLD`` through mpi4py."""

    name = "mpi"

    def __init__(self, comm: Any = None):
        self.MPI = _import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()

    def all_reduce(self, array: Any, op: str = "sum") -> Any:
        _check(array, op)
        host = backend.to_numpy(array)
        self.comm.Allreduce(self.MPI.IN_PLACE, host, op=self.MPI.SUM if op == "sum" else self.MPI.MAX)
        if host is not array:  # a GPU array went through the host
            array[...] = backend.to_device(host, backend.device_of(array))
        return array

    def broadcast(self, array: Any, root: int = 0) -> Any:
        _check(array)
        host = backend.to_numpy(array)
        self.comm.Bcast(host, root=root)
        if host is not array:
            array[...] = backend.to_device(host, backend.device_of(array))
        return array

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)


class NCCLCommunicator(Communicator):
    """NCCL on the GPU arrays, one GPU per rank (``cuda:<rank> % GPUs``).

    ``bootstrap`` hands every rank NCCL's unique id once, and gives the rank and
    world size: MPI by default; ``SingleProcess()`` for a one-rank run without MPI.
    """

    name = "nccl"

    def __init__(self, bootstrap: Optional[Communicator] = None):
        try:
            import cupy
            from cupy.cuda import nccl
        except ImportError as error:
            raise RuntimeError("the NCCL backend needs CuPy with NCCL (pip install 'minidl[gpu]')") from error
        self.cupy, self.nccl = cupy, nccl
        self.mpi = bootstrap if bootstrap is not None else MPICommunicator()
        self.rank, self.world_size = self.mpi.rank, self.mpi.world_size
        cupy.cuda.Device(self.rank % cupy.cuda.runtime.getDeviceCount()).use()
        uid = numpy.frombuffer(bytes(nccl.get_unique_id()) if self.rank == 0 else bytes(128), dtype=numpy.uint8).copy()
        self.mpi.broadcast(uid)  # every rank needs rank 0's id to join the same NCCL clique
        self.comm = nccl.NcclCommunicator(self.world_size, tuple(int(b) for b in uid), self.rank)

    def _nccl_dtype(self, array: Any) -> int:
        table = {"float16": self.nccl.NCCL_FLOAT16, "float32": self.nccl.NCCL_FLOAT32,
                 "float64": self.nccl.NCCL_FLOAT64, "int32": self.nccl.NCCL_INT32, "int64": self.nccl.NCCL_INT64,
                 "uint8": self.nccl.NCCL_UINT8}
        if array.dtype.name not in table:
            raise TypeError(f"NCCL cannot reduce dtype {array.dtype}")
        return table[array.dtype.name]

    def _on_gpu(self, array: Any) -> Any:
        return array if backend.device_of(array).startswith("cuda") else self.cupy.asarray(array)

    def all_reduce(self, array: Any, op: str = "sum") -> Any:
        _check(array, op)
        gpu = self._on_gpu(array)
        stream = self.cupy.cuda.get_current_stream().ptr
        self.comm.allReduce(gpu.data.ptr, gpu.data.ptr, gpu.size, self._nccl_dtype(gpu),
                            self.nccl.NCCL_SUM if op == "sum" else self.nccl.NCCL_MAX, stream)
        if gpu is not array:
            array[...] = self.cupy.asnumpy(gpu)
        return array

    def broadcast(self, array: Any, root: int = 0) -> Any:
        _check(array)
        gpu = self._on_gpu(array)
        stream = self.cupy.cuda.get_current_stream().ptr
        self.comm.bcast(gpu.data.ptr, gpu.size, self._nccl_dtype(gpu), root, stream)
        if gpu is not array:
            array[...] = self.cupy.asnumpy(gpu)
        return array

    def barrier(self) -> None:
        self.cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()

    def abort(self, code: int = 1) -> None:
        self.mpi.abort(code)


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(
            "the MPI backend needs mpi4py and an MPI runtime: pip install 'minidl[distributed]' "
            "(mpi4py and mpich), then start the script with mpirun -n <processes> python script.py"
        ) from error
    return MPI


def launched_by_mpi() -> bool:
    """True when an MPI launcher (mpirun, mpiexec) started this process."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def init(backend: str = "auto", abort_on_error: bool = True) -> Communicator:  # noqa: F811 (PyTorch's name)
    """The communicator of this process, from the launcher's environment.

    Args:
        backend: "mpi", "nccl" (GPUs; bootstrapped through MPI), "single"
            (one process), or "auto": MPI when an MPI launcher started the
            process, else a single process.
        abort_on_error: when an exception ends this process, print it with the
            rank and stop every rank (MPI's abort), so the others fail at once
            instead of waiting forever in their next collective.
    """
    if backend == "auto":
        backend = "mpi" if launched_by_mpi() else "single"
    if backend == "single":
        return SingleProcess()
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"init: backend must be 'auto', 'mpi', 'nccl' or 'single', got {backend!r}")
    comm = MPICommunicator() if backend == "mpi" else NCCLCommunicator()
    if abort_on_error and comm.world_size > 1:
        _abort_all_on_error(comm)
    return comm


# ------------------------------------------------ PyTorch's names: a default process group
# ``torch.distributed`` keeps one communicator per process, set up once; these functions are
# that spelling over :func:`init` (the one piece of state here, as the process has one launcher).
_default: Optional[Communicator] = None


def init_process_group(backend: Optional[str] = None) -> Communicator:
    """Set up the process's default group from the launcher's environment (``backend``: as :func:`init`)."""
    global _default
    _default = init("auto" if backend is None else backend)
    return _default


def default_group(who: str) -> Communicator:
    """The group of :func:`init_process_group`, or a clear error naming ``who`` asked."""
    if _default is None:
        raise RuntimeError(f"{who}: the default process group is not initialized; call "
                           f"mdl.distributed.init_process_group() first (or pass a communicator)")
    return _default


def get_rank() -> int:
    return default_group("get_rank").rank


def get_world_size() -> int:
    return default_group("get_world_size").world_size


def barrier() -> None:
    default_group("barrier").barrier()


def all_reduce(array: Any, op: str = "sum") -> Any:
    """``array`` (in place) summed (or maxed) over the default group's ranks."""
    return default_group("all_reduce").all_reduce(array, op)


def broadcast(array: Any, src: int = 0) -> Any:
    """``array`` (in place) replaced by rank ``src``'s."""
    return default_group("broadcast").broadcast(array, src)


def _abort_all_on_error(comm: Communicator) -> None:
    """Replace ``sys.excepthook``: an uncaught error on one rank stops them all, naming the rank."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        sys.stderr.write(f"minidl.distributed: rank {comm.rank} of {comm.world_size} failed; stopping every rank\n")
        sys.stderr.write("".join(traceback.format_exception(kind, value, tb)))
        sys.stderr.flush()
        comm.abort(1)
        previous(kind, value, tb)

    sys.excepthook = hook
