# %% [markdown]
# # Lesson 6: Data pipelines
#
# What this teaches: how images sit in files (IDX, CSV, a folder per class),
# why a loader reads batch by batch from disk instead of holding everything
# in RAM, and how shuffling and epochs work in minidl's generator loader.
#
# What to look at: the 16 header bytes of an IDX file, the memory map that
# reads only what is sliced, and the counter that shows the loader reads only
# the batches it yields.

# %%
import tempfile
from pathlib import Path

import numpy as np

import minidl as mdl
from minidl.data import DataLoader, Dataset, read_idx, write_idx
from minidl.data.datasets import CSVDataset, FashionMNIST, ImageFolder

work = Path(tempfile.mkdtemp(prefix="lesson06-"))

# %% [markdown]
# ## IDX: a tiny header, then raw bytes
# Magic 00 00, a type code (0x08 = unsigned bytes), the number of dimensions,
# then each size as a 4-byte big-endian number. 60000 x 28 x 28 images follow.

# %%
train = FashionMNIST(train=True)
print(train)
images = np.asarray(train.images[:16])
write_idx(images, work / "sixteen.idx")
header = (work / "sixteen.idx").read_bytes()[:16]
print("header bytes:", header.hex(" "))
print("as numbers: magic", header[:2].hex(), "type", hex(header[2]), "dims", header[3],
      "sizes", [int.from_bytes(header[4 + 4 * i:8 + 4 * i], "big") for i in range(3)])
assert np.array_equal(read_idx(work / "sixteen.idx"), images)

# %% [markdown]
# ## RAM versus disk
# `train.images` is a *memory map*: the 47 MB file is not read until a slice
# is asked for; then only those pages come from disk. A batch of 128 images is
# 100 KB, the whole set 47 MB, and an ImageNet-sized set would not fit at all.

# %%
print(type(train.images).__name__, train.images.shape, f"{train.images.nbytes / 1e6:.0f} MB on disk")
x, y = train.get_batch(np.array([0, 1, 2]))
print("one batch:", x.shape, x.dtype, "labels", y)

# %% [markdown]
# ## CSV and image folders
# The same images as CSV rows (label, 784 pixels) and as PNG files in one
# folder per class. Both datasets read lazily too: CSV seeks to the rows of a
# batch; ImageFolder decodes only the files of a batch.

# %%
from PIL import Image

rows = ["label," + ",".join(f"p{i}" for i in range(784))]
for img, label in zip(images, train.labels[:16]):
    rows.append(f"{label}," + ",".join(map(str, img.ravel())))
    folder = work / "folder" / FashionMNIST.classes[label].replace("/", "-")
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(folder / f"{len(rows)}.png")
(work / "images.csv").write_text("\n".join(rows) + "\n")
csv = CSVDataset(work / "images.csv", image_shape=(1, 28, 28))
pngs = ImageFolder(work / "folder", grayscale=True)
print("CSV:", len(csv), "rows; first label", csv[0][1], "| folders:", pngs.classes)
assert np.allclose(csv[3][0], x[0] * 0 + images[3] / 255.0)

# %% [markdown]
# ## The generator loader
# Iterating a DataLoader is a generator: it reads a batch when asked for it.
# A dataset that counts its reads shows it.

# %%
class Counting(Dataset):
    def __init__(self):
        self.reads = 0

    def __len__(self):
        return 1000

    def __getitem__(self, i):
        self.reads += 1
        return np.zeros((1, 2, 2), np.float32), i % 10


counting = Counting()
loader = DataLoader(counting, batch_size=100)
for step, (xb, yb) in enumerate(loader):
    print(f"batch {step}: {counting.reads} samples read so far")
    if step == 2:
        break

# %% [markdown]
# ## Shuffling and epochs
# Each pass over the loader is one epoch with a fresh order, drawn from
# (seed, epoch): different epochs differ, and the same seed replays them.

# %%
small = DataLoader(mdl.data.TensorDataset(np.arange(10, dtype=np.float32)[:, None], np.arange(10)),
                   batch_size=10, shuffle=True, seed=42)
for epoch in range(3):
    print(f"epoch {epoch}: order", next(iter(small))[1].tolist())
again = DataLoader(mdl.data.TensorDataset(np.arange(10, dtype=np.float32)[:, None], np.arange(10)),
                   batch_size=10, shuffle=True, seed=42)
print("same seed, epoch 0:", next(iter(again))[1].tolist())
