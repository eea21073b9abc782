"""What each MPI rank runs in tests/distributed/test_mpi.py: ``mpiexec -n 2 python worker.py <scenario> <out>``."""
import sys
from pathlib import Path

import numpy as np

import minidl as mdl
from minidl import nn
from minidl.data import DataLoader, TensorDataset
from minidl.distributed import DistributedDataParallel, init
from minidl.optim import SGD
from minidl.train import fit


def data(n=64):
    rng = np.random.default_rng(42)
    x = rng.standard_normal((n, 1, 6, 6))
    y = rng.integers(0, 3, n)
    return TensorDataset(x, y)


def model(seed, batch_norm=False):
    mdl.manual_seed(seed)
    layers = [nn.Conv2d(1, 4, 3, padding=1)]
    layers += [nn.BatchNorm2d(4)] if batch_norm else []
    layers += [nn.Tanh(), nn.Flatten(), nn.Linear(144, 3)]
    return nn.Sequential(*layers).double()


def seed_convnet_epoch(comm, batch_size):
    """The loss of every step of one Fashion-MNIST epoch (the mean over the ranks' shards), float32, Adam."""
    from minidl.data.datasets import FashionMNIST
    from minidl.models import keras_mnist_convnet

    train = FashionMNIST(train=True, download=False)
    x = (np.asarray(train.images, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    loader = DataLoader(TensorDataset(x, np.asarray(train.labels)), batch_size=batch_size, shuffle=True, seed=0,
                        num_replicas=comm.world_size, rank=comm.rank)
    mdl.manual_seed(0)
    net = keras_mnist_convnet()
    net = DistributedDataParallel(net, comm) if comm.world_size > 1 else net
    opt = mdl.optim.Adam(net.parameters(), lr=1e-3)
    curve = []
    for images, labels in loader:
        value = nn.functional.cross_entropy(net(images), labels)
        opt.zero_grad()
        value.backward()
        if comm.world_size > 1:
            net.sync_gradients()
        opt.step()
        step_loss = np.array([value.item()])
        comm.all_reduce(step_loss)
        curve.append(step_loss[0] / comm.world_size)
    return np.array(curve)


def main(scenario, out):
    comm = init()
    out = Path(out)
    if scenario in ("fit", "loop", "resume"):
        # Each rank starts from different weights: DDP must broadcast rank 0's.
        net = DistributedDataParallel(model(seed=comm.rank), comm, bucket_cap_mb=0.001)  # tiny buckets: several
        loader = DataLoader(data(), batch_size=8, shuffle=True, seed=3, num_replicas=comm.world_size, rank=comm.rank)
        opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
        loss = nn.CrossEntropyLoss()
        if scenario == "fit":
            history = fit(net, loader, loss, opt, epochs=3, verbose=0, checkpoint=out / "ckpt.npz")
            np.save(out / f"losses{comm.rank}.npy", np.array(history["loss"]))
        elif scenario == "resume":  # stop after epoch 1, then a fresh start of every object resumes to epoch 3
            fit(net, loader, loss, opt, epochs=1, verbose=0, checkpoint=out / "ckpt.npz", run_id="r")
            net = DistributedDataParallel(model(seed=comm.rank), comm)
            loader = DataLoader(data(), batch_size=8, shuffle=True, seed=3, num_replicas=comm.world_size,
                                rank=comm.rank)
            opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
            fit(net, loader, loss, opt, epochs=3, verbose=0, checkpoint=out / "ckpt.npz", run_id="r",
                resume_from=out / "ckpt.npz")
        else:
            for _ in range(3):
                for x, y in loader:
                    value = loss(net(x), y)
                    opt.zero_grad()
                    value.backward()
                    net.sync_gradients()
                    opt.step()
        mdl.save(net.module.state_dict(), out / f"weights{comm.rank}.npz")
    elif scenario == "seed-convnet":  # one Fashion-MNIST epoch of the course's convnet, 2 x 64 images a step
        np.save(out / f"curve{comm.rank}.npy", seed_convnet_epoch(comm, batch_size=64))
    elif scenario == "batchnorm":
        net = DistributedDataParallel(model(seed=comm.rank, batch_norm=True), comm)
        loader = DataLoader(data(), batch_size=8, shuffle=True, seed=3, num_replicas=comm.world_size, rank=comm.rank)
        fit(net, loader, nn.CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), epochs=1, verbose=0)
        net(mdl.tensor(data().arrays[0][:8]))  # one more training forward: rank 0's buffers go out again
        mdl.save(net.module.state_dict(), out / f"weights{comm.rank}.npz")
    elif scenario == "mismatch":
        net = nn.Linear(3, 2 + comm.rank)  # rank 1 builds another shape
        DistributedDataParallel(net, comm)
    elif scenario == "die":
        if comm.rank == 1:
            raise RuntimeError("rank 1 fell over")
        comm.all_reduce(np.zeros(3))  # rank 0 would wait here forever without the abort
    else:
        raise SystemExit(f"unknown scenario {scenario}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
