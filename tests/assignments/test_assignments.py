"""Assignments: markers, student copies, and the grader's verdicts."""
import json
import shutil

import pytest

from minidl.assignments import ASSIGNMENTS, EXERCISES, format_report, grade, make
from minidl.assignments.grader import PACKAGE
from minidl.assignments.markers import MarkerError, find_blocks, strip_solutions

SOURCE = '''def f(x):
    # BEGIN SOLUTION double
    # TODO: return twice x
    y = 2 * x
    return y
    # END SOLUTION
'''


def test_strip_keeps_hint_and_indentation():
    out = strip_solutions(SOURCE, {"double"})
    assert out == ('def f(x):\n    # TODO: return twice x\n'
                   '    raise NotImplementedError("exercise double: write this part")\n')


def test_marker_errors():
    with pytest.raises(MarkerError, match="never closed"):
        find_blocks("# BEGIN SOLUTION a\nx = 1\n")
    with pytest.raises(MarkerError, match="without BEGIN"):
        find_blocks("# END SOLUTION\n")
    with pytest.raises(MarkerError, match=r"no solution markers for \['other'\]"):
        strip_solutions(SOURCE, {"other"})


def test_every_exercise_is_marked_in_the_source():
    for name, ex in EXERCISES.items():
        blocks = find_blocks((PACKAGE / ex.file).read_text(), ex.file)
        assert name in blocks, f"{name} has no markers in {ex.file}"
        assert blocks[name].hint, f"{name} has no # TODO hint"
    for assignment, names in ASSIGNMENTS.items():
        assert names and all(n in EXERCISES for n in names)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """A student copy and a 'perfect student' copy (the reference itself) per assignment."""
    out = {}
    for assignment in ASSIGNMENTS:
        student = make(assignment, tmp_path_factory.mktemp(assignment) / "student")
        perfect = tmp_path_factory.mktemp(assignment) / "perfect"
        shutil.copytree(student, perfect, ignore=shutil.ignore_patterns("minidl"))
        shutil.copytree(PACKAGE, perfect / "minidl", ignore=shutil.ignore_patterns("__pycache__"))
        out[assignment] = (student, perfect)
    return out


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_reference_gets_full_marks(assignment, copies):
    report = grade(copies[assignment][1], seed=3)
    assert report["score"] == report["max_score"] > 0, format_report(report)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_student_copy_imports_and_fails_every_exercise_cleanly(assignment, copies):
    student = copies[assignment][0]
    report = grade(student, seed=4)
    assert report["score"] == 0
    for ex in report["exercises"].values():
        assert ex["failures"] and all("NotImplementedError" in f for f in ex["failures"])
    saved = json.loads((student / "grade.json").read_text())
    assert saved["score"] == 0 and saved["seed"] == 4
    assert (student / "tests" / f"test_{assignment}.py").exists() and (student / "README.md").exists()


def test_wrong_backward_is_caught_with_a_useful_message(copies, tmp_path):
    student = tmp_path / "wrong"
    shutil.copytree(copies["autograd"][1], student)
    arith = student / "minidl" / "functional" / "arith.py"
    text = arith.read_text()
    # A wrong factor in the weight gradient: right shapes, wrong values.
    bug = "gb = 2 * (xp.swapaxes(a, -1, -2) @ gy)"
    text = text.replace("gb = xp.swapaxes(a, -1, -2) @ gy", bug)
    assert bug in text
    arith.write_text(text)
    report = grade(student, seed=5)
    ex = report["exercises"]["matmul_backward"]
    assert 0 <= ex["score"] < ex["max_score"]
    text = format_report(report)
    assert "grad_b: worst element" in text and "expected" in text
    assert "check: GradcheckError: gradient mismatch for input 1" in text
    assert report["exercises"]["sum_to_shape"]["score"] == report["exercises"]["sum_to_shape"]["max_score"]


def test_make_refuses_unknown_assignment_and_existing_folder(tmp_path, copies):
    with pytest.raises(ValueError, match="unknown assignment"):
        make("nope", tmp_path / "x")
    with pytest.raises(FileExistsError):
        make("autograd", copies["autograd"][0])
    with pytest.raises(FileNotFoundError, match="assignment.json"):
        grade(tmp_path)
