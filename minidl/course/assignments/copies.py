"""Student copies: minidl with this assignment's solutions cut out.

The copy of assignment k (in the instructor's order, by default the order of
``ASSIGNMENTS``: autograd, optim, cnn, augment):

* keeps the solutions of the assignments before k (released: students may
  read them and build on them), marker lines dropped;
* cuts out k's own: its hint (the exercise's ``hint``, as ``# TODO: ...``)
  and a ``NotImplementedError`` between the kept ``# BEGIN SOLUTION`` /
  ``# END SOLUTION`` lines, where the student writes the answer (the grader
  grades exactly what is between them);
* cuts out the later assignments' too (not released): a call raises
  ``NotImplementedError`` naming the assignment that brings it.
"""
from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Optional, Sequence

from .exercises import ASSIGNMENTS, EXERCISES
from .markers import find_blocks, render_copy, solution_body

PACKAGE = Path(__file__).resolve().parents[2]  # the instructor's minidl (this file is in minidl/course/assignments/)


def assignment_order(order: Optional[Sequence[str]] = None) -> list:
    """The release order: ``order`` (checked), or the order of ASSIGNMENTS."""
    if order is None:
        return list(ASSIGNMENTS)
    order = list(order)
    unknown = [a for a in order if a not in ASSIGNMENTS]
    if unknown or len(set(order)) != len(order):
        raise ValueError(f"order: expected each of {sorted(ASSIGNMENTS)} at most once, got {order}")
    return order


def exercises_of(assignment: str) -> list:
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; choose one of {sorted(ASSIGNMENTS)}")
    return ASSIGNMENTS[assignment]


def unreleased_after(assignment: str, order: Optional[Sequence[str]] = None) -> dict:
    """exercise -> its assignment, for every assignment after ``assignment`` (or not in the order)."""
    order = assignment_order(order)
    if assignment not in order:
        raise ValueError(f"order: assignment {assignment!r} is not in the order {order}")
    released = set(order[: order.index(assignment) + 1])
    return {e: a for a, names in ASSIGNMENTS.items() if a not in released for e in names}


def make(assignment: str, out: os.PathLike, order: Optional[Sequence[str]] = None) -> Path:
    """Write the student copy of ``assignment`` into ``out`` (which must not hold a copy yet)."""
    graded = set(exercises_of(assignment))
    unreleased = unreleased_after(assignment, order)
    out = Path(out)
    if (out / "minidl").exists() or (out / "assignment.json").exists():
        raise FileExistsError(f"--out {out} already holds a student copy; choose an empty folder")
    shutil.copytree(PACKAGE, out / "minidl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    hints = {e.name: e.hint for e in EXERCISES.values()}
    for name in sorted({e.file for e in EXERCISES.values()}):
        path = out / "minidl" / name
        text = path.read_text(encoding="utf-8")
        blocks = set(find_blocks(text, name))
        path.write_text(render_copy(text, graded & blocks, {e: a for e, a in unreleased.items() if e in blocks},
                                    name, hints), encoding="utf-8")
    names = exercises_of(assignment)
    (out / "assignment.json").write_text(json.dumps({"assignment": assignment, "exercises": names}, indent=2) + "\n")
    _write_student_tests(out, assignment, names)
    _write_readme(out, assignment, names)
    return out


def _write_student_tests(out: Path, assignment: str, names: list) -> None:
    tests = out / "tests"
    tests.mkdir(exist_ok=True)
    (tests / "conftest.py").write_text(
        "import sys\nfrom pathlib import Path\n\n"
        "# Import the minidl of this folder (your copy), not an installed one.\n"
        "sys.path.insert(0, str(Path(__file__).resolve().parent.parent))\n"
    )
    (tests / f"test_{assignment}.py").write_text(
        f'"""Self-checks for assignment {assignment!r}: run `python -m pytest tests` in this folder.\n\n'
        "They run every case on your code and check what needs no reference (the finite-difference\n"
        'gradient check and the exercise\'s own rules); the grader also compares with the reference."""\n'
        "import pytest\n\nimport minidl\n"
        "from minidl.course.assignments.grader import check_locally\n\n\n"
        f"@pytest.mark.parametrize('name', {names!r})\n"
        "def test_exercise(name):\n"
        "    for case, problems in check_locally(minidl, name, seed=0):\n"
        "        assert not problems, f'{name}, case {case.label}: ' + '; '.join(problems)\n"
    )


def _write_readme(out: Path, assignment: str, names: list) -> None:
    lines = [f"# Assignment: {assignment}", "", "Write the parts marked `raise NotImplementedError` in:", ""]
    for n in names:
        lines.append(f"- `minidl/{EXERCISES[n].file}`: **{n}**, {EXERCISES[n].title}")
    lines += ["", "Write each answer between its `# BEGIN SOLUTION name` and `# END SOLUTION` lines and keep",
              "both lines: only the code between them is graded (put helper functions inside too).",
              "Each exercise is graded with the reference code for everything else, so a mistake in one",
              "costs points only there.", "",
              "Check yourself with `python -m pytest tests` in this folder, and replay a case the grader",
              "reported with the command its report gives, e.g.",
              f"`python -m minidl.course.assignments check {names[0]} --seed 1234 --case 0`.", ""]
    (out / "README.md").write_text("\n".join(lines))


def reference_answer(name: str) -> str:
    """The reference solution of an exercise: the lines between its markers (for tests and demos)."""
    file = EXERCISES[name].file
    return "\n".join(solution_body((PACKAGE / file).read_text(encoding="utf-8"), name, file)) + "\n"


def write_answer(copy: os.PathLike, name: str, code: str) -> Path:
    """Put ``code`` between the markers of exercise ``name`` in a student copy, as a student would."""
    path = Path(copy) / "minidl" / EXERCISES[name].file
    lines = path.read_text(encoding="utf-8").splitlines()
    block = find_blocks("\n".join(lines), str(path))[name]
    body = textwrap.indent(textwrap.dedent(code).rstrip("\n"), block.indent)  # at the markers' indentation
    lines[block.start + 1 : block.end] = body.splitlines()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
