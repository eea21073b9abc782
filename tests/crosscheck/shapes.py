"""Cross-check rows of the shape and indexing ops of issue 10: flip, roll, expand, repeat, repeat_interleave,
split, chunk, unflatten, permute, clone, gather, scatter_add, one_hot, tril, triu, diagonal, flatten.

split and chunk give several pieces: a row joins them, each times its own weight, so every piece's
gradient is checked (and a row that keeps one piece checks the zeros of the others).
"""
import minidl as mdl
import minidl.nn.functional as F
from cases import TF, case, np, torch


def _weighted(pieces, cat, flat):
    return cat([flat(p) * (k + 1) for k, p in enumerate(pieces)])


def _ours(pieces):
    return _weighted(pieces, F.cat, lambda p: p.flatten())


def _theirs(pieces):
    return _weighted(pieces, torch.cat, lambda p: p.flatten())


# ------------------------------------------------------------------ flip, roll
for dims in (0, (-1,), (0, 2), (0, 1, 2)):
    case(f"flip dims={dims}", lambda a, d=dims: F.flip(a, d),
         lambda a, d=dims: torch.flip(a, d if isinstance(d, tuple) else (d,)), ((2, 3, 4),))
case("flip method *dims", lambda a: a.flip(1, 2), lambda a: a.flip(1, 2), ((2, 3, 4),))
for shifts, dims in ((1, None), (-7, None), (2, 1), ((1, -2), (0, 2)), (5, -1)):
    case(f"roll shifts={shifts} dims={dims}", lambda a, s=shifts, d=dims: F.roll(a, s, d),
         lambda a, s=shifts, d=dims: torch.roll(a, s, d), ((2, 3, 4),))

# ------------------------------------------------------------------ expand, repeat, repeat_interleave
for sizes in ((3, 4), (-1, 4), (2, 3, 4), (2, -1, 1)):
    case(f"expand {sizes}", lambda a, s=sizes: a.expand(*s), lambda a, s=sizes: a.expand(*s), ((3, 1),))
for sizes in ((2, 3), (1, 1), (3, 1, 2), (2, 0)):
    case(f"repeat {sizes}", lambda a, s=sizes: a.repeat(*s), lambda a, s=sizes: a.repeat(*s), ((2, 3),))
for repeats, dim in ((2, None), (3, 1), ([1, 0, 2], 1), ([2, 1], 0), (1, -1)):
    case(f"repeat_interleave repeats={repeats} dim={dim}", lambda a, r=repeats, d=dim: F.repeat_interleave(a, r, d),
         lambda a, r=repeats, d=dim: torch.repeat_interleave(a, r if isinstance(r, int) else torch.tensor(r), d),
         ((2, 3),))

# ------------------------------------------------------------------ split, chunk, unflatten
for pieces, dim in ((2, 1), ([1, 3, 1], 1), ([2, 0], 0), (1, -1), (7, 1)):
    case(f"split {pieces} dim={dim}", lambda a, p=pieces, d=dim: _ours(F.split(a, p, d)),
         lambda a, p=pieces, d=dim: _theirs(torch.split(a, p, d)), ((2, 5),))
case("split one piece used", lambda a: a.split(2, 1)[1], lambda a: a.split(2, 1)[1], ((2, 5),))
for chunks, dim in ((2, 0), (3, 1), (4, 1), (9, -1)):
    case(f"chunk {chunks} dim={dim}", lambda a, c=chunks, d=dim: _ours(F.chunk(a, c, d)),
         lambda a, c=chunks, d=dim: _theirs(torch.chunk(a, c, d)), ((2, 5),))
case("chunk last piece used", lambda a: a.chunk(3, 1)[-1], lambda a: a.chunk(3, 1)[-1], ((2, 5),))
for dim, sizes in ((1, (3, 4)), (-1, (1, 3)), (1, (2, -1, 3))):
    case(f"unflatten dim={dim} {sizes}", lambda a, d=dim, s=sizes: F.unflatten(a, d, s),
         lambda a, d=dim, s=sizes: torch.unflatten(a, d, s), ((2, 12, 3),))

# ------------------------------------------------------------------ permute, clone, flatten
for start, end in ((0, -1), (1, 2), (-2, -1)):
    case(f"flatten start_dim={start} end_dim={end}", lambda a, s=start, e=end: F.flatten(a, s, e),
         lambda a, s=start, e=end: torch.flatten(a, s, e), ((2, 3, 4, 5),))
for dims in ((0, 2, 3, 1), (3, 1, 0, 2), (-1, 0, 1, 2)):
    case(f"permute {dims}", lambda a, d=dims: F.permute(a, d), lambda a, d=dims: torch.permute(a, d),
         ((2, 3, 4, 5),))
case("permute method *dims", lambda a: a.permute(1, 0), lambda a: a.permute(1, 0), ((3, 4),))
case("clone", lambda a: F.clone(a) * a, lambda a: torch.clone(a) * a, ((3, 4),))

# ------------------------------------------------------------------ gather, scatter_add
for dim in (0, 1, 2, -1):
    shape = [2, 3, 4]
    shape[dim] = 6  # more picks than the axis has: indices repeat
    case(f"gather dim={dim}", lambda a, i, d=dim: F.gather(a, d, i), lambda a, i, d=dim: torch.gather(a, d, i),
         ((3, 4, 5),), constants=lambda rng, d=dim, s=tuple(shape): (rng.integers(0, (3, 4, 5)[d], s),))
    case(f"scatter_add dim={dim}", lambda a, b, i, d=dim: F.scatter_add(a, d, i, b),
         lambda a, b, i, d=dim: torch.scatter_add(a, d, i, b), ((3, 4, 5), tuple(shape)),
         constants=lambda rng, d=dim, s=tuple(shape): (rng.integers(0, (3, 4, 5)[d], s),))
case("gather method labels", lambda a, i: a.gather(1, i), lambda a, i: a.gather(1, i), ((4, 3),),
     constants=lambda rng: (rng.integers(0, 3, (4, 1)),))
case("scatter_add method", lambda a, b, i: a.scatter_add(0, i, b), lambda a, b, i: a.scatter_add(0, i, b),
     ((4, 3), (5, 3)), constants=lambda rng: (rng.integers(0, 4, (5, 3)),))
# (src larger than index: PyTorch 2.13's backward refuses it, "invalid gradient ... got [6, 3, 4]";
# minidl's gradient is 0 outside index's corner, checked by the gradchecks of test_shape_more.py)

# ------------------------------------------------------------------ one_hot (integers out, no gradient)
for classes in (-1, 5):
    case(f"one_hot num_classes={classes}", lambda i, c=classes: F.one_hot(mdl.tensor(i), c),
         lambda i, c=classes: TF.one_hot(i, c), (), grad=False,
         constants=lambda rng: (np.array([[0, 3, 1], [2, 2, 0]]),))

# ------------------------------------------------------------------ tril, triu, diagonal
for diagonal in (0, 1, -1, 3):
    case(f"tril diagonal={diagonal}", lambda a, k=diagonal: F.tril(a, k), lambda a, k=diagonal: torch.tril(a, k),
         ((2, 3, 4),))
    case(f"triu diagonal={diagonal}", lambda a, k=diagonal: F.triu(a, k), lambda a, k=diagonal: torch.triu(a, k),
         ((2, 3, 4),))
for offset, dim1, dim2 in ((0, 0, 1), (1, 0, 1), (-2, 0, 1), (0, 1, 2), (1, 2, 0), (-1, -1, -3), (9, 0, 1)):
    case(f"diagonal offset={offset} dim1={dim1} dim2={dim2}",
         lambda a, o=offset, d1=dim1, d2=dim2: F.diagonal(a, o, d1, d2),
         lambda a, o=offset, d1=dim1, d2=dim2: torch.diagonal(a, o, d1, d2), ((3, 4, 5),))
