# %% [markdown]
# # Lesson 15: Data-parallel training
#
# What this teaches: when one process is too slow, give each of k processes
# (ranks) the whole model and 1/k of every batch. Each computes the gradient
# of its shard; an *all-reduce* sums those gradients across the ranks; every
# rank divides by k and takes the same step. For a mean loss that step is
# exactly the step of one process on the whole batch, so the k copies never
# drift apart. Then: why the learning rate grows with the batch (the linear
# scaling rule) and where that stops working, and what batch norm does when
# each rank sees only its shard.
#
# What to look at: the ring all-reduce's bytes per rank, the difference
# between the big batch's gradient and the averaged shards' (rounding only),
# the losses of the scaling rule at k = 1, 4 and 32, and the spread of
# per-shard batch statistics.

# %%
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, output_dir, record

rng = np.random.default_rng(0)
train = FashionMNIST(train=True, download=True)
n_images = 2_000 if fast() else 12_000
x_all = (train.images[:n_images].reshape(n_images, -1) / 255.0).astype(np.float64)
y_all = np.asarray(train.labels[:n_images]).astype(np.int64)
print(f"{n_images} Fashion-MNIST images as 784-vectors")

# %% [markdown]
# ## An all-reduce, by hand
# Four ranks each hold an array; afterwards each must hold the sum of all
# four. Sending everything to everyone costs each rank (k - 1) arrays. The
# *ring* does better: cut every array into k chunks; in k - 1 steps each rank
# passes one chunk to its right neighbour, which adds it to its own
# (reduce-scatter: now rank r owns the full sum of chunk r + 1); in k - 1 more
# steps the finished chunks travel round (all-gather). Each rank sends
# 2 (k - 1) chunks of n / k values: 2 (k - 1) / k * n, under 2n however many
# ranks there are. That is why data parallelism scales.

# %%
def ring_all_reduce(arrays):
    """Every rank's array replaced by the sum over ranks; returns the values each rank sent."""
    k = len(arrays)
    chunks = [np.array_split(a.astype(np.float64), k) for a in arrays]  # chunks[rank][c]
    sent = 0
    for step in range(k - 1):  # reduce-scatter: rank r sends chunk (r - step) to rank r + 1
        messages = [(r, (r - step) % k, chunks[r][(r - step) % k].copy()) for r in range(k)]
        for r, c, values in messages:
            chunks[(r + 1) % k][c] += values
            sent += values.size
    for step in range(k - 1):  # all-gather: rank r now owns the finished chunk (r + 1) % k and passes it on
        messages = [(r, (r + 1 - step) % k, chunks[r][(r + 1 - step) % k].copy()) for r in range(k)]
        for r, c, values in messages:
            chunks[(r + 1) % k][c] = values
            sent += values.size
    return [np.concatenate(c) for c in chunks], sent / k


ranks = [rng.standard_normal(1000) for _ in range(4)]
reduced, sent_per_rank = ring_all_reduce(ranks)
exact = sum(ranks)
ring_error = max(float(np.abs(r - exact).max()) for r in reduced)
print(f"every rank holds the sum: largest error {ring_error:.1e}")
print(f"values sent per rank: {sent_per_rank:.0f} of n = 1000 (2 (k-1)/k n = {2 * 3 / 4 * 1000:.0f})")
record("15", ring_error=ring_error, ring_sent_per_rank=sent_per_rank)

# %% [markdown]
# ## Averaged shards = one big batch
# A small MLP, a batch of 256, in float64. One process takes the gradient of
# the batch's mean loss; four "ranks" take the gradients of their 64-image
# shards, and we average them as DistributedDataParallel does after its
# all-reduce. The two agree to rounding: the mean over 256 is the mean of four
# means over 64.

# %%
def mlp(seed=0):
    mdl.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)).double()


def gradients(model, x, y):
    for p in model.parameters():
        p.grad = None
    nn.functional.cross_entropy(model(mdl.tensor(x)), y).backward()
    return [p.grad.copy() for p in model.parameters()]


model = mlp()
big = gradients(model, x_all[:256], y_all[:256])
shards = [gradients(model, x_all[r * 64:(r + 1) * 64], y_all[r * 64:(r + 1) * 64]) for r in range(4)]
averaged = [sum(parts) / 4 for parts in zip(*shards)]
shard_gap = max(float(np.abs(a - b).max()) for a, b in zip(big, averaged))
one_shard_gap = max(float(np.abs(a - b).max()) for a, b in zip(big, shards[0]))
print(f"big batch vs averaged shards: largest difference {shard_gap:.1e} (rounding)")
print(f"big batch vs one shard alone: {one_shard_gap:.1e} (a different gradient)")
record("15", shard_gap=shard_gap, one_shard_gap=one_shard_gap)

# %% [markdown]
# ## The linear scaling rule, and where it breaks
# With k ranks of b images, the step sees k b images: its gradient is less
# noisy, and there are k times fewer steps per epoch. The linear scaling rule
# (Goyal et al., 2017) keeps an epoch's progress the same by multiplying the
# learning rate by k. It holds while k b is small against the data and k lr
# stays below the rate where SGD is unstable; beyond that, the big steps
# overshoot and the few steps cannot make up for it. Same epochs, batch
# 16 k, learning rate 0.05 k. Measured on 12,000 images (the full run of this
# lesson): training loss 0.508 at k = 1, 0.477 at k = 4 (the rule holds), and
# 2.318 at k = 32, worse than the 2.30 of guessing uniformly (lr 1.6 is past
# the stable rate: the rule broke). Warming the rate up over the first
# epochs, as Goyal et al. do, pushes that limit further out.

# %%
def train_epochs(batch, lr, epochs=2):
    model = mlp()
    opt = mdl.optim.SGD(model.parameters(), lr=lr)
    order = np.random.default_rng(1)
    for _ in range(epochs):
        perm = order.permutation(n_images)
        for i in range(0, n_images - batch + 1, batch):
            idx = perm[i:i + batch]
            loss = nn.functional.cross_entropy(model(mdl.tensor(x_all[idx])), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with mdl.no_grad():
        final = nn.functional.cross_entropy(model(mdl.tensor(x_all)), y_all).item()
    return final if np.isfinite(final) else float("inf")


scaling = {k: train_epochs(16 * k, 0.05 * k) for k in (1, 4, 32)}
for k, value in scaling.items():
    print(f"k = {k:2d}: batch {16 * k:4d}, lr {0.05 * k:.2f}  ->  training loss {value:.3f}")
record("15", loss_k1=scaling[1], loss_k4=scaling[4], loss_k32=scaling[32])

# %% [markdown]
# ## Batch norm sees only its shard
# In training, batch norm normalises with the statistics of the batch it is
# given, and under data parallelism that is each rank's shard. The smaller
# the shard, the noisier its mean: here the spread of a pixel-feature's mean
# over shards of 8 against shards of 64. minidl's DistributedDataParallel does
# what PyTorch's does by default: every rank normalises with its own shard,
# and the *running* statistics of rank 0 are sent to all ranks at every
# forward, so evaluation is the same everywhere. With tiny shards (a few
# images per GPU) frameworks offer SyncBatchNorm, which all-reduces the
# statistics themselves.

# %%
feature = x_all[:, 400]
spread = {b: float(np.std([feature[i:i + b].mean() for i in range(0, 512, b)])) for b in (8, 64)}
print(f"spread of the shard mean: {spread[8]:.3f} with 8 images, {spread[64]:.3f} with 64")
record("15", bn_spread_8=spread[8], bn_spread_64=spread[64])

# %% [markdown]
# ## For real: two processes
# `mdl.distributed` runs this over MPI (`pip install 'minidl[distributed]'`
# brings mpi4py and MPICH). A script built as below, started with
# `mpirun -n 2 python script.py`, trains exactly as one process with the
# global batch; `python -m minidl train --distributed` does the same for the
# command line. When MPI is installed this cell runs the script on two
# processes and compares the weights with one process trained here.

# %%
SCRIPT = textwrap.dedent('''
    import sys, numpy as np, minidl as mdl, minidl.nn as nn
    from minidl.data import DataLoader, TensorDataset
    from minidl.distributed import DistributedDataParallel, init
    comm = init()                                            # rank and world size from mpirun
    x, y = np.load(sys.argv[1])["x"], np.load(sys.argv[1])["y"]
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0,
                        num_replicas=comm.world_size, rank=comm.rank)   # this rank's shard
    mdl.manual_seed(comm.rank)                               # different on purpose: DDP sends rank 0's
    model = DistributedDataParallel(
        nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)).double(), comm)
    opt = mdl.optim.SGD(model.parameters(), lr=0.1)
    mdl.train.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=1, verbose=0)
    if comm.rank == 0:
        mdl.save(model.module.state_dict(), sys.argv[2])
''')
folder = output_dir("15")
mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
try:
    import mpi4py  # noqa: F401
except ImportError:
    mpiexec = None
if mpiexec is None:
    print("MPI not installed (pip install 'minidl[distributed]'): the two-process run is skipped")
else:
    (folder / "dp.py").write_text(SCRIPT)
    np.savez(folder / "data.npz", x=x_all[:512], y=y_all[:512])
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    subprocess.run([mpiexec, "-n", "2", sys.executable, str(folder / "dp.py"), str(folder / "data.npz"),
                    str(folder / "two.npz")], check=True, env=env, stdin=subprocess.DEVNULL)
    one = mlp(seed=0)
    loader = mdl.data.DataLoader(mdl.data.TensorDataset(x_all[:512], y_all[:512]), batch_size=64, shuffle=True, seed=0)
    mdl.train.fit(one, loader, nn.CrossEntropyLoss(), mdl.optim.SGD(one.parameters(), lr=0.1), epochs=1, verbose=0)
    two = mdl.load(folder / "two.npz")
    mpi_gap = max(float(np.abs(two[k] - v).max()) for k, v in one.state_dict().items())
    print(f"2 processes x 32 against 1 process x 64, after one epoch: largest weight difference {mpi_gap:.1e}")
    record("15", mpi_gap=mpi_gap)
