"""einsum: products and sums of tensors written as index subscripts.

``einsum("ij,jk->ik", a, b)`` is the matrix product: the subscripts name each
operand's axes, a letter shared by two operands is multiplied along, and a
letter missing from the output (after ``->``) is summed over::

    y[i, k] = sum_j  a[i, j] * b[j, k]

More: ``"bij,bjk->bik"`` (batched matmul), ``"i,i->"`` (dot), ``"i,j->ij"``
(outer), ``"ij->ji"`` (transpose), ``"...ij,jk->...ik"`` (``...`` stands for
any leading axes). Without ``->`` the output is every letter that appears
once, in alphabetical order (NumPy's and PyTorch's rule).

**The backward is one einsum per operand, with the subscripts rearranged.**
y is linear in each operand, so the gradient for operand k is gy multiplied
by all the *other* operands and summed over every letter that operand k does
not have. That is again an einsum: take the equation, swap operand k's
subscripts with the output's::

    forward:  "ij,jk->ik"   (a, b)  -> y
    grad a:   "ik,jk->ij"   (gy, b) -> ga       (= gy @ b^T)
    grad b:   "ik,ij->jk"   (gy, a) -> gb       (= a^T @ gy)

Every letter is multiplied and summed exactly as in the forward sum, just
read from the other side: ga[i, j] = sum_k gy[i, k] * b[j, k]. One more case:
a letter that only operand k has and the output lacks (``"ij->"`` sums j
away) does not appear on the right of the backward einsum: y does not
depend on *where* along j a value sits, so ga is the same along j, which is
a broadcast.

A letter repeated within one operand (``"ii->i"``, a diagonal; ``"ii->"``, the
trace) is rewritten before anything runs: the second ``i`` becomes a fresh
letter ``j`` and an identity matrix joins as a constant operand, since
x_ii = sum_j x_ij * I_ij::

    "ii->i"  (x)   becomes   "ij,ij->i"  (x, I)

so every operand's subscripts are distinct and the rule above covers the
backward: gx = einsum("i,ij->ij", gy, I), gy on the diagonal and 0 elsewhere.
"""
from __future__ import annotations

import string

from ..autograd import Function, Tensor, _as_tensors
from ..backend import get_array_module
from ._dtypes import is_float, promote_pair


class Einsum(Function):
    """y = einsum(equation, *operands), the equation in explicit form ("ij,jk->ik", no "...").

    g_k = einsum("<out>,<the other operands' subscripts>-><operand k's>", gy, *others),
    then broadcast along the letters only operand k has (see the module's docstring).
    """

    def __init__(self, terms: list, out: str):
        self.terms, self.out = terms, out  # ["ij", "jk"], "ik"

    def forward(self, *operands):
        self.operands = operands
        xp = get_array_module(*operands)
        return xp.einsum(",".join(self.terms) + "->" + self.out, *operands)

    def backward(self, gy):
        xp = get_array_module(gy)
        grads = []
        for k, term in enumerate(self.terms):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [t for i, t in enumerate(self.terms) if i != k]
            arrays = [a for i, a in enumerate(self.operands) if i != k]
            seen = set(self.out).union(*others)  # letters the backward einsum has
            reduced = "".join(c for c in term if c in seen)  # operand k's letters, less its own sums
            g = xp.einsum(",".join([self.out] + others) + "->" + reduced, gy, *arrays)
            for axis, c in enumerate(term):  # put back the summed-away letters as length 1 ...
                if c not in seen:
                    g = xp.expand_dims(g, axis)
            shape = tuple(n if c not in seen else g.shape[axis] for axis, (c, n) in
                          enumerate(zip(term, self.operands[k].shape)))
            grads.append(xp.broadcast_to(g, shape))  # ... and copy gy's share along them
        return tuple(grads)


def _parse(equation: str, shapes: list) -> tuple:
    """"...ij,jk" and the operands' shapes -> (["abij", "jk"], "abik", {letter: size}): explicit letters and output."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string such as 'ij,jk->ik', got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} has {len(terms)} operand(s), but "
                         f"{len(shapes)} tensor(s) were given")
    letters = set(c for c in eq if c.isalpha())
    bad = sorted(set(eq.replace("...", "").replace(",", "").replace("->", "")) - set(string.ascii_letters))
    if bad:
        raise ValueError(f"einsum: equation {equation!r} may hold only letters, ',', '->' and '...'; got {bad}")
    # "..." stands for the leading axes not named by letters, aligned from the right; give them unused letters.
    spare = [c for c in string.ascii_letters if c not in letters]
    widths = [len(shape) - len(t.replace("...", "")) for t, shape in zip(terms, shapes)]
    widest = max([w for t, w in zip(terms, widths) if "..." in t], default=0)
    dots = "".join(spare[:widest])
    explicit = []
    for t, w, shape in zip(terms, widths, shapes):
        if "..." in t:
            t = t.replace("...", dots[widest - w:] if w > 0 else "")
        if len(t) != len(shape):
            raise ValueError(f"einsum: subscripts {t!r} name {len(t)} axes, but the operand has shape "
                             f"{tuple(shape)} ({len(shape)} axes)")
        explicit.append(t)
    if arrow:
        out = rhs.replace("...", dots)
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: output subscripts {rhs!r} repeat a letter")
        unknown = sorted(set(out) - set("".join(explicit)))
        if unknown:
            raise ValueError(f"einsum: output letters {unknown} appear in no operand of {equation!r}")
    else:
        joined = "".join(explicit)
        out = dots + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in dots))
    sizes = {}
    for t, shape in zip(explicit, shapes):
        for c, n in zip(t, shape):
            if sizes.get(c, n) != n and 1 not in (n, sizes[c]):
                raise ValueError(f"einsum: letter {c!r} has size {sizes[c]} in one operand and {n} in another")
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    return explicit, out, sizes


def _split_diagonals(terms: list, sizes: dict) -> tuple:
    """Each repeat of a letter within one operand -> a fresh letter, and an identity operand that ties the two.

    ["ii"] -> (["ij"], [("ij", 3)]): the new subscripts, and the (subscripts, size) of each identity matrix.
    """
    spare = iter(c for c in string.ascii_letters if c not in set("".join(terms)))
    new_terms, identities = [], []
    for t in terms:
        renamed = ""
        for c in t:
            if c in renamed:
                fresh = next(spare)
                identities.append((c + fresh, sizes[c]))
                c = fresh
            renamed += c
        new_terms.append(renamed)
    return new_terms, identities


def einsum(equation: str, *operands) -> Tensor:
    """PyTorch's ``einsum(equation, *operands)`` (operands may also come as one list).

    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; see this module's docstring for
    the subscripts and for the backward (one einsum per operand). An integer
    operand takes a float operand's dtype.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    tensors = _as_tensors(operands)
    ref = next((t for t in tensors if is_float(t)), None)
    if ref is not None:
        tensors = tuple(promote_pair(t, ref)[0] for t in tensors)
    terms, out, sizes = _parse(equation, [t.shape for t in tensors])
    terms, identities = _split_diagonals(terms, sizes)
    xp = get_array_module(tensors[0].data)
    dtype = ref.dtype if ref is not None else tensors[0].dtype
    eyes = [Tensor(xp.eye(n, dtype=dtype)) for _, n in identities]  # constants: no gradient
    return Einsum(terms + [t for t, _ in identities], out)(*tensors, *eyes)
