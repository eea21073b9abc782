"""Every op against PyTorch, forward and backward, in float64 (an OpInfo-style table).

Each row of the table names an op, how to call it in minidl and in PyTorch,
the inputs' shapes and the options; the rows live in ``tests/crosscheck/``,
one file per family of ops (``cases.py`` holds the machinery). For every row
the test draws the same inputs for both frameworks, compares the outputs,
then back-propagates the same random upstream gradient through both and
compares every input's gradient. Tolerances are PyTorch's own float64
defaults (rtol 1e-7, atol 1e-7) unless a row says otherwise.

The module skips when PyTorch is not installed (``pip install torch``); the
float64 gradient checks in the other test files cover every op without it.
Adding an op: add its rows, with the option values that change its code path.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F

torch = pytest.importorskip("torch")

TABLE = Path(__file__).with_name("crosscheck")
sys.path.insert(0, str(TABLE))
import cases  # noqa: E402  (tests/crosscheck/cases.py)

for _file in sorted(TABLE.glob("*.py")):
    if _file.stem != "cases":
        importlib.import_module(_file.stem)  # each file appends its rows to cases.CASES
Case, CASES = cases.Case, cases.CASES


# ------------------------------------------------------------------ the test
def _draw(case: Case, rng: np.random.Generator) -> list:
    return [(case.make or (lambda r, s: r.standard_normal(s)))(rng, shape).astype(np.float64) for shape in case.shapes]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_pytorch(case: Case):
    rng = np.random.default_rng(0)
    arrays = _draw(case, rng)
    constants = list(case.constants(rng))
    ours = [mdl.tensor(a, requires_grad=case.grad) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=case.grad) for a in arrays]
    ours_constants = [c if c.dtype == bool or np.issubdtype(c.dtype, np.integer) else mdl.tensor(c) for c in constants]
    theirs_constants = [torch.as_tensor(c) for c in constants]

    out = case.minidl(*ours, *ours_constants)
    expected = case.torch(*theirs, *theirs_constants)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=case.rtol, atol=case.atol,
                               err_msg=f"{case.name}: forward")
    if not case.grad:
        return
    upstream = rng.standard_normal(expected.shape)
    out.backward(upstream if upstream.ndim else float(upstream))
    expected.backward(torch.tensor(upstream))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad if not hasattr(a.grad, "numpy") else a.grad.numpy(), b.grad.numpy(),
                                   rtol=case.rtol, atol=case.atol, err_msg=f"{case.name}: gradient of input {k}")


def test_the_table_covers_every_functional_op():
    """A new op in minidl.nn.functional must get a row here (its name in a case's name)."""
    public = {name for name in dir(F) if not name.startswith("_") and callable(getattr(F, name))}
    not_differentiable_or_aliases = {"concat", "dropout", "dropout2d"}  # an alias of cat; random
    named = " ".join(c.name for c in CASES)
    missing = sorted(n for n in public - not_differentiable_or_aliases if n not in named)
    assert not missing, f"ops without a PyTorch cross-check row: {missing}"
