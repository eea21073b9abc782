"""Assignments: markers, hints, and the student copies (what they keep, what they cut, what they never hold)."""
import re
import subprocess
import sys

import pytest

from minidl.course.assignments import ASSIGNMENTS, EXERCISES, make, reference_answer
from minidl.course.assignments.copies import PACKAGE, assignment_order, unreleased_after
from minidl.course.assignments.markers import MarkerError, find_blocks, render_copy, splice, strip_solutions

SOURCE = '''def f(x):
    # BEGIN SOLUTION double
    y = 2 * x
    return y
    # END SOLUTION
'''
HINTS = {"double": "return twice x"}  # as the course keeps them: beside the exercises, not in the source


def test_strip_puts_the_hint_at_the_blocks_indentation():
    out = strip_solutions(SOURCE, {"double"}, hints=HINTS)
    assert out == ('def f(x):\n    # TODO: return twice x\n'
                   '    raise NotImplementedError("exercise double: write this part")\n')
    assert "    # TODO: write double\n" in strip_solutions(SOURCE, {"double"})  # an exercise without a hint


def test_marker_errors():
    with pytest.raises(MarkerError, match="never closed"):
        find_blocks("# BEGIN SOLUTION a\nx = 1\n")
    with pytest.raises(MarkerError, match="without BEGIN"):
        find_blocks("# END SOLUTION\n")
    with pytest.raises(MarkerError, match=r"no solution markers for \['other'\]"):
        strip_solutions(SOURCE, {"other"})


def test_render_copy_graded_unreleased_and_released():
    graded = render_copy(SOURCE, {"double"}, {}, hints=HINTS)
    assert graded == ('def f(x):\n    # BEGIN SOLUTION double\n    # TODO: return twice x\n'
                      '    raise NotImplementedError("exercise double: write this part")\n    # END SOLUTION\n')
    later = render_copy(SOURCE, set(), {"double": "optim"}, hints=HINTS)
    assert "y = 2 * x" not in later and "BEGIN" not in later and "TODO" not in later
    assert "comes with assignment 'optim', which is not released yet" in later
    released = render_copy(SOURCE, set(), {}, hints=HINTS)  # finished code, and no TODO above it
    assert released == "def f(x):\n    y = 2 * x\n    return y\n"


def test_splice_takes_only_the_students_block():
    student = SOURCE.replace("y = 2 * x", "y = x + x").replace("def f(x):", "def f(x):  # edited outside")
    out = splice(SOURCE, student, "double")
    assert "y = x + x" in out and "y = 2 * x" not in out and "edited outside" not in out
    with pytest.raises(MarkerError, match=r"'# BEGIN SOLUTION double' and '# END SOLUTION' are missing"):
        splice(SOURCE, "def f(x):\n    return 2 * x\n", "double")


def test_every_exercise_is_marked_in_the_source():
    for name, ex in EXERCISES.items():
        blocks = find_blocks((PACKAGE / ex.file).read_text(), ex.file)
        assert name in blocks, f"{name} has no markers in {ex.file}"
    assert sorted(n for names in ASSIGNMENTS.values() for n in names) == sorted(EXERCISES)


def _library_files() -> list:
    """minidl's own source: every .py file outside the course package."""
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "course" not in p.relative_to(PACKAGE).parts]


def test_every_marker_in_the_library_has_a_hint_in_the_course_and_no_todo_is_left():
    """The library keeps only the marker lines; the hints live beside the exercises (a reader of the
    reference code never finds a TODO above finished code)."""
    marked = {}
    for path in _library_files():
        text, rel = path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix()
        for name in find_blocks(text, rel):
            marked[name] = rel
        todo = [i + 1 for i, line in enumerate(text.splitlines()) if re.search(r"#\s*TODO", line)]
        assert not todo, f"minidl/{rel}, lines {todo}: a TODO in the library (hints go in EXERCISES' hint=)"
    assert marked == {name: ex.file for name, ex in EXERCISES.items()}
    for name, ex in EXERCISES.items():
        assert ex.hint.strip() and "\n" not in ex.hint, f"{name}: needs a one-line hint"


def test_order_is_checked():
    assert assignment_order() == list(ASSIGNMENTS)
    with pytest.raises(ValueError, match=r"order: expected each of .* at most once, got \['autograd', 'nope'\]"):
        assignment_order(["autograd", "nope"])
    with pytest.raises(ValueError, match="not in the order"):
        unreleased_after("cnn", ["autograd", "optim"])


def _distinctive_lines(name: str) -> list:
    """The lines of a solution that appear nowhere else in the reference source (ignoring comments)."""
    elsewhere = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        rel = path.relative_to(PACKAGE).as_posix()
        blocks = find_blocks(text, rel) if rel in {e.file for e in EXERCISES.values()} else {}
        inside = {i for b in blocks.values() for i in range(b.start, b.end + 1)}
        elsewhere |= {line.strip() for i, line in enumerate(text.splitlines()) if i not in inside}
    lines = [line.strip() for line in reference_answer(name).splitlines()]
    return [line for line in lines if len(line) > 12 and not line.startswith("#") and line not in elsewhere]


@pytest.fixture(scope="module")
def all_copies(tmp_path_factory):
    return {a: make(a, tmp_path_factory.mktemp(a) / "copy") for a in ASSIGNMENTS}


def test_no_copy_holds_a_solution_it_must_not(all_copies):
    order = list(ASSIGNMENTS)
    for assignment, copy in all_copies.items():
        text = "\n".join(p.read_text() for p in copy.rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".json"))
        for later in order[order.index(assignment):]:
            for name in ASSIGNMENTS[later]:
                lines = _distinctive_lines(name)
                assert len(lines) >= 2, f"{name}: too few distinctive lines to check"
                leaked = [line for line in lines if line in text]
                assert not leaked, f"the copy of {assignment!r} holds the solution of {name}: {leaked}"


def test_copy_keeps_earlier_solutions_and_marks_its_own(all_copies):
    order = list(ASSIGNMENTS)
    for assignment, copy in all_copies.items():
        for earlier in order[: order.index(assignment)]:
            for name in ASSIGNMENTS[earlier]:
                text = (copy / "minidl" / EXERCISES[name].file).read_text()
                assert all(line in text for line in _distinctive_lines(name)), f"{assignment}: {name} was cut"
                assert EXERCISES[name].hint not in text  # released: finished code, no TODO above it
        for name in ASSIGNMENTS[assignment]:
            blocks = find_blocks((copy / "minidl" / EXERCISES[name].file).read_text())
            assert blocks[name].hint == [f"# TODO: {EXERCISES[name].hint}"]  # where the student writes, the hint
        (copy / "minidl").joinpath("course", "assignments", "markers.py").read_text()  # the grader's code ships too


def _run_in_copy(copy, code: str) -> str:
    prelude = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy as np; import minidl as mdl\n"
               "assert mdl.__file__.startswith(sys.argv[1])\n"
               "def call(f):\n    try:\n        f(); print('ran')\n    except NotImplementedError as e:\n"
               "        print(e)\n")
    out = subprocess.run([sys.executable, "-I", "-c", prelude + code, str(copy)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_unreleased_exercise_names_its_assignment(all_copies):
    """In the autograd copy optimizers and convolutions are not released yet; the cnn copy has optimizers."""
    code = ("p = mdl.tensor(np.ones(3), requires_grad=True); p.grad = np.ones(3)\n"
            "call(lambda: mdl.optim.SGD([p], lr=0.1).step())\n"
            "call(lambda: mdl.nn.functional.im2col(mdl.tensor(np.ones((1, 1, 3, 3))), 2))\n"
            "call(lambda: mdl.augment.RandomErasing(p=1.0)(np.ones((1, 1, 8, 8))))\n")
    out = _run_in_copy(all_copies["autograd"], code).splitlines()
    assert out == ["sgd_momentum comes with assignment 'optim', which is not released yet",
                   "im2col comes with assignment 'cnn', which is not released yet",
                   "random_erasing comes with assignment 'augment', which is not released yet"]
    out = _run_in_copy(all_copies["cnn"], code).splitlines()
    assert out[0] == "ran" and out[1] == "exercise im2col: write this part" and "'augment'" in out[2]


def test_instructor_order_decides_what_is_released(tmp_path):
    copy = make("optim", tmp_path / "c", order=["optim", "autograd", "cnn", "augment"])
    arith = (copy / "minidl" / "functional" / "arith.py").read_text()
    assert "matmul_backward comes with assignment 'autograd'" in arith
    assert not [line for line in _distinctive_lines("matmul_backward") if line in arith]


def test_make_refuses_unknown_assignment_and_existing_folder(tmp_path):
    with pytest.raises(ValueError, match="unknown assignment 'nope'"):
        make("nope", tmp_path / "x")
    make("autograd", tmp_path / "y")
    with pytest.raises(FileExistsError, match="already holds a student copy"):
        make("autograd", tmp_path / "y")
