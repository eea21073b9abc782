"""Cross-check rows of the reductions added to minidl/functional/reduce.py (prod, var, std, logsumexp,
any, all, cumsum, argmax, argmin, sort, argsort, topk) and of einsum (minidl/functional/einsum.py)."""
import minidl.nn.functional as F
from cases import case, distinct, np, torch


def with_zeros(count):
    """Standard normal values with ``count`` exact zeros in each row of the last axis."""
    def make(rng, shape):
        a = rng.standard_normal(shape)
        a[..., :count] = 0.0
        return a
    return make


# ------------------------------------------------------------------ prod
for axis, keep in ((None, False), (0, False), (1, True), (-1, False)):
    case(f"prod axis={axis} keepdim={keep}", lambda a, ax=axis, k=keep: F.prod(a, dim=ax, keepdim=k),
         lambda a, ax=axis, k=keep: a.prod() if ax is None else a.prod(dim=ax, keepdim=k), ((2, 3, 4),))
for zeros in (1, 2):
    case(f"prod with {zeros} zero(s) per row", lambda a: F.prod(a, dim=-1), lambda a: a.prod(dim=-1), ((3, 4),),
         make=with_zeros(zeros))
case("prod with one zero, all axes", lambda a: a.prod(), lambda a: a.prod(), ((3, 4),),
     make=lambda rng, s: np.where(np.arange(12).reshape(s) == 5, 0.0, rng.uniform(0.5, 2, s)))

# ------------------------------------------------------------------ var, std
for name in ("var", "std"):
    for axis, correction, keep in ((None, 1, False), (0, 1, False), (1, 0, True), ((0, 2), 1, False),
                                   (-1, 2, False)):
        case(f"{name} dim={axis} correction={correction} keepdim={keep}",
             lambda a, n=name, ax=axis, c=correction, k=keep: getattr(F, n)(a, dim=ax, correction=c, keepdim=k),
             lambda a, n=name, ax=axis, c=correction, k=keep: getattr(torch, n)(a, dim=ax, correction=c, keepdim=k),
             ((2, 3, 4),))
    case(f"{name} unbiased=False", lambda a, n=name: getattr(F, n)(a, 1, False),
         lambda a, n=name: getattr(torch, n)(a, 1, False), ((3, 4),))

# ------------------------------------------------------------------ logsumexp, cumsum
for axis, keep in ((0, False), (-1, True), ((0, 1), False)):
    case(f"logsumexp dim={axis} keepdim={keep}", lambda a, ax=axis, k=keep: F.logsumexp(a, dim=ax, keepdim=k),
         lambda a, ax=axis, k=keep: torch.logsumexp(a, dim=ax, keepdim=k), ((2, 3, 4),))
case("logsumexp large logits", lambda a: F.logsumexp(a * 1000, dim=-1), lambda a: torch.logsumexp(a * 1000, dim=-1),
     ((3, 4),))
for axis in (0, 1, -1):
    case(f"cumsum dim={axis}", lambda a, ax=axis: F.cumsum(a, dim=ax), lambda a, ax=axis: torch.cumsum(a, dim=ax),
         ((2, 3, 4),))

# ------------------------------------------------------------------ any, all, argmax, argmin (no gradient)
for name in ("any", "all"):
    case(f"{name} dim=1", lambda a, n=name: getattr(F, n)(a > 0, dim=1),
         lambda a, n=name: getattr(torch, n)(a > 0, dim=1),
         ((3, 4),), grad=False)
    case(f"{name} everything", lambda a, n=name: getattr(F, n)(a > -1), lambda a, n=name: getattr(torch, n)(a > -1),
         ((3, 4),), grad=False)
    case(f"{name} keepdim", lambda a, n=name: getattr(F, n)(a > 0, dim=0, keepdim=True),
         lambda a, n=name: getattr(torch, n)(a > 0, dim=0, keepdim=True), ((3, 4),), grad=False)
for name in ("argmax", "argmin"):
    for axis, keep in ((None, False), (None, True), (1, False), (-1, True)):
        case(f"{name} dim={axis} keepdim={keep}",
             lambda a, n=name, ax=axis, k=keep: getattr(F, n)(a, dim=ax, keepdim=k),
             lambda a, n=name, ax=axis, k=keep: getattr(torch, n)(a, dim=ax, keepdim=k), ((3, 4),), make=distinct,
             grad=False)

# ------------------------------------------------------------------ sort, argsort, topk
for axis in (-1, 0):
    for descending in (False, True):
        tag = f"dim={axis} descending={descending}"
        case(f"sort values {tag}", lambda a, ax=axis, d=descending: F.sort(a, dim=ax, descending=d).values,
             lambda a, ax=axis, d=descending: torch.sort(a, dim=ax, descending=d).values, ((3, 4),), make=distinct)
        case(f"sort indices {tag}", lambda a, ax=axis, d=descending: F.sort(a, dim=ax, descending=d).indices,
             lambda a, ax=axis, d=descending: torch.sort(a, dim=ax, descending=d).indices, ((3, 4),), make=distinct,
             grad=False)
        case(f"argsort {tag}", lambda a, ax=axis, d=descending: F.argsort(a, dim=ax, descending=d),
             lambda a, ax=axis, d=descending: torch.argsort(a, dim=ax, descending=d), ((3, 4),), make=distinct,
             grad=False)
ties = lambda rng, s: rng.integers(0, 3, s).astype(np.float64)  # noqa: E731
for descending in (False, True):
    case(f"sort stable ties descending={descending}",
         lambda a, d=descending: F.sort(a, descending=d, stable=True).indices,
         lambda a, d=descending: torch.sort(a, descending=d, stable=True).indices, ((4, 9),), make=ties, grad=False)
    case(f"sort values with ties descending={descending}", lambda a, d=descending: F.sort(a, descending=d).values,
         lambda a, d=descending: torch.sort(a, descending=d, stable=True).values, ((4, 9),), make=ties)
for k, axis, largest in ((2, -1, True), (3, 0, True), (2, 1, False), (4, -1, True)):
    tag = f"k={k} dim={axis} largest={largest}"
    case(f"topk values {tag}", lambda a, k=k, ax=axis, lg=largest: F.topk(a, k, dim=ax, largest=lg).values,
         lambda a, k=k, ax=axis, lg=largest: torch.topk(a, k, dim=ax, largest=lg).values, ((3, 4),), make=distinct)
    case(f"topk indices {tag}", lambda a, k=k, ax=axis, lg=largest: F.topk(a, k, dim=ax, largest=lg)[1],
         lambda a, k=k, ax=axis, lg=largest: torch.topk(a, k, dim=ax, largest=lg)[1], ((3, 4),), make=distinct,
         grad=False)

# ------------------------------------------------------------------ einsum
for equation, shapes in (("ij,jk->ik", ((3, 4), (4, 5))), ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))),
                         ("i,i->", ((4,), (4,))), ("i,j->ij", ((3,), (4,))), ("ij->ji", ((3, 4),)),
                         ("ij->", ((3, 4),)), ("ij,k->ik", ((3, 4), (5,))), ("...ij,jk->...ik", ((2, 2, 3, 4), (4, 5))),
                         ("ij,jk", ((3, 4), (4, 5))), ("bhqd,bhkd->bhqk", ((2, 2, 3, 4), (2, 2, 5, 4))),
                         ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 5))), ("bij,bjk->bik", ((1, 3, 4), (5, 4, 2))),
                         ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("bii->bi", ((2, 3, 3),)),
                         ("ij,jj->i", ((2, 3), (3, 3)))):
    case(f"einsum {equation} {shapes}", lambda *ops, e=equation: F.einsum(e, *ops),
         lambda *ops, e=equation: torch.einsum(e, *ops), shapes)

# ------------------------------------------------------------------ sum, mean, max, min: PyTorch's dim=, keepdim=
for name, theirs in (("sum", torch.sum), ("mean", torch.mean), ("max", torch.amax), ("min", torch.amin)):
    case(f"{name} dim=1 keepdim=True (PyTorch's words)", lambda a, n=name: getattr(a, n)(dim=1, keepdim=True),
         lambda a, t=theirs: t(a, dim=1, keepdim=True), ((2, 3, 4),), make=distinct)
