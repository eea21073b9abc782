"""The grader: full marks for the reference, exercises graded uncoupled, feedback, and no way to fool it."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys

import numpy
import pytest

import minidl
from minidl.course.assignments import ASSIGNMENTS, format_report, grade, make, reference_answer, write_answer
from minidl.course.assignments.__main__ import main


def solved(copy, names=None):
    """Write the reference answer of every exercise (or of ``names``) into a copy, as a student would."""
    for name in names or json.loads((copy / "assignment.json").read_text())["exercises"]:
        write_answer(copy, name, reference_answer(name))
    return copy


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    """A fresh student copy of each assignment (answers not written)."""
    return {a: make(a, tmp_path_factory.mktemp(a) / "student") for a in ASSIGNMENTS}


def fresh(blank, tmp_path, assignment, name="student"):
    out = tmp_path / name
    shutil.copytree(blank[assignment], out)
    return out


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_reference_answers_get_full_marks(assignment, blank, tmp_path):
    report = grade(solved(fresh(blank, tmp_path, assignment)), seed=3)
    assert report["score"] == report["max_score"] > 0, format_report(report)


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_blank_copy_fails_every_case_cleanly(assignment, blank, tmp_path):
    student = fresh(blank, tmp_path, assignment)
    report = grade(student, seed=4)
    assert report["score"] == 0
    for name, ex in report["exercises"].items():
        assert all(f"NotImplementedError: exercise {name}: write this part" in c["problems"][0] for c in ex["cases"])
    saved = json.loads((student / "grade.json").read_text())
    assert saved["score"] == 0 and saved["seed"] == 4


def replaced(name, old, new):
    code = reference_answer(name)
    assert old in code, old
    return code.replace(old, new)


def test_wrong_backward_loses_exactly_its_cases_with_a_useful_message(blank, tmp_path):
    student = solved(fresh(blank, tmp_path, "autograd"))
    # A wrong factor in b's gradient where b is 2-D and a is not 1-D: right shapes, wrong values.
    write_answer(student, "matmul_backward", replaced(
        "matmul_backward", "gb = xp.swapaxes(a, -1, -2) @ gy",
        "gb = (2 if self.a.ndim > 1 and self.b.ndim > 1 else 1) * (xp.swapaxes(a, -1, -2) @ gy)"))
    report = grade(student, seed=5)
    ex = report["exercises"]["matmul_backward"]
    passed = [c["passed"] for c in ex["cases"]]
    assert passed == [False, True, True, False], format_report(report)  # (3, 4) @ (4, 2) and batched
    text = format_report(report)
    assert "case 0 (a (3, 4), b (4, 2)):" in text and "grad_b: worst element" in text and "expected" in text
    assert "grad_b disagrees with finite differences of the forward" in text
    assert ("replay it in your folder: python -m minidl.course.assignments check matmul_backward --seed 5 --case 0"
            in text)
    assert report["exercises"]["sum_to_shape"]["score"] == report["exercises"]["sum_to_shape"]["max_score"]


def test_wrong_sum_to_shape_is_reported_as_sum_to_shape(blank, tmp_path):
    student = solved(fresh(blank, tmp_path, "autograd"))
    write_answer(student, "sum_to_shape", replaced("sum_to_shape", "if n == 1 and array.shape[lead + i] != 1",
                                                           "if False"))  # forgets the axes of size 1
    report = grade(student, seed=6)
    text = format_report(report)
    assert report["exercises"]["matmul_backward"]["score"] == 4, text  # the engine uses the reference's
    cases = report["exercises"]["sum_to_shape"]["cases"]
    assert not cases[1]["passed"] and "sum: shape (3, 4), expected (3, 1)" in cases[1]["problems"][0]
    assert "a gradient (2, 3, 4) summed to shape (3, 1)" in text and "Mul.backward" not in text


def test_exercises_are_graded_uncoupled(blank, tmp_path):
    """A right im2col scores full marks beside a wrong col2im, and beside an unwritten one."""
    student = solved(fresh(blank, tmp_path, "cnn"), ["im2col", "col2im"])
    write_answer(student, "col2im", replaced("col2im", "gxpad[window] += cols[:, :, i, j]",
                                             "gxpad[window] = cols[:, :, i, j]"))
    report = grade(student, seed=7, exercises=["im2col", "col2im", "conv2d_backward"])
    im2col, col2im = report["exercises"]["im2col"], report["exercises"]["col2im"]
    assert im2col["score"] == im2col["max_score"], format_report(report)
    # `=` is right only where patches do not overlap: kernel 2, stride 2 (case 3)
    assert [c["passed"] for c in col2im["cases"]] == [False, False, False, True], format_report(report)
    assert report["exercises"]["conv2d_backward"]["score"] == 0  # unwritten, and not helped by the others
    write_answer(student, "col2im", 'raise NotImplementedError("exercise col2im: write this part")\n')
    report = grade(student, seed=8, exercises=["im2col"])
    assert report["exercises"]["im2col"]["score"] == report["exercises"]["im2col"]["max_score"]


def test_case_labels_name_the_values(blank, tmp_path):
    report = grade(fresh(blank, tmp_path, "cnn"), seed=9, exercises=["im2col", "max_pool2d_backward"])
    labels = [c["label"] for c in report["exercises"]["im2col"]["cases"]]
    assert "x (2, 1, 9, 9), kernel (3, 2), stride 2, padding (1, 0), dilation (2, 1)" in labels
    pool = [c["label"] for c in report["exercises"]["max_pool2d_backward"]["cases"]]
    assert pool[0] == "x (2, 3, 6, 6), kernel 2, stride 2, padding 0"


def test_traceback_shows_the_students_own_lines(blank, tmp_path):
    student = solved(fresh(blank, tmp_path, "autograd"))
    path = write_answer(student, "matmul_backward", "xp = get_array_module(gy)\nhelper = None\nhelper(gy)\n")
    line = next(i + 1 for i, s in enumerate(path.read_text().splitlines()) if s.strip() == "helper(gy)")
    case = grade(student, seed=10)["exercises"]["matmul_backward"]["cases"][0]
    assert case["problems"] == ["TypeError: 'NoneType' object is not callable"]
    assert case["trace"][-1] == f"minidl/functional/arith.py, line {line}, in backward (your code): helper(gy)"


def test_max_pool_readable_version_graded_on_every_case(blank, tmp_path):
    """A student who follows the hint writes the readable path only; it is graded on all cases,
    the non-overlapping one (kernel 2, stride 2) too, and that case is not passed by the fast path."""
    student = solved(fresh(blank, tmp_path, "cnn"), ["max_pool2d_backward"])
    report = grade(student, seed=11, exercises=["max_pool2d_backward"])
    pool = report["exercises"]["max_pool2d_backward"]
    assert pool["score"] == pool["max_score"] == 4, format_report(report)
    write_answer(student, "max_pool2d_backward", 'raise NotImplementedError("exercise max_pool2d_backward")\n')
    pool = grade(student, seed=11, exercises=["max_pool2d_backward"])["exercises"]["max_pool2d_backward"]
    assert pool["score"] == 0 and "NotImplementedError" in pool["cases"][0]["problems"][0]


def test_max_pool_fast_path_matches_the_readable_path():
    x = numpy.random.default_rng(0).permutation(2 * 3 * 8 * 6).reshape(2, 3, 8, 6) / 7.0
    results = []
    minidl.functional.fast.set_enabled(True)  # also under MINIDL_REFERENCE=1 (conftest restores it)
    for fast in (True, False):
        with contextlib.nullcontext() if fast else minidl.functional.fast.disabled():
            t = minidl.tensor(x, requires_grad=True)
            y = minidl.nn.functional.max_pool2d(t, 2)
            assert (type(y.creator).__module__ == "minidl.functional.fast.pool") == fast
            y.backward(numpy.arange(y.data.size, dtype=float).reshape(y.shape))
            results.append((y.data, t.grad))
    numpy.testing.assert_array_equal(results[0][0], results[1][0])
    numpy.testing.assert_array_equal(results[0][1], results[1][1])


# ------------------------------------------------------------------ isolation
def _cli(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "minidl.course.assignments", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, **(env or {})))


def test_grading_inside_the_students_folder_uses_the_instructors_reference(blank, tmp_path):
    """`cd copy && python -m minidl.course.assignments grade .` puts the copy's minidl first on the path."""
    student = solved(fresh(blank, tmp_path, "autograd"))
    write_answer(student, "matmul_backward", replaced("matmul_backward", "gb = xp.swapaxes(a, -1, -2) @ gy",
                                                      "gb = 2 * (xp.swapaxes(a, -1, -2) @ gy)"))
    inside = _cli(["grade", ".", "--seed", "12", "--format", "json"], cwd=student, env={"PYTHONPATH": str(student)})
    assert inside.returncode == 0, inside.stderr
    outside = grade(student, seed=12)
    got = json.loads(inside.stdout)
    assert got["exercises"]["matmul_backward"]["score"] == outside["exercises"]["matmul_backward"]["score"] == 0
    assert got["score"] == outside["score"] == 6


def test_check_replays_a_case_in_the_students_folder(blank, tmp_path):
    student = fresh(blank, tmp_path, "autograd")
    out = _cli(["check", "matmul_backward", "--seed", "3", "--case", "1"], cwd=student)
    assert out.returncode == 1
    assert str(student / "minidl") in out.stdout and "case 1 (a (4,), b (4, 3)): your code raised" in out.stdout
    assert 'raise NotImplementedError("exercise matmul_backward: write this part")' in out.stdout
    solved(student)
    out = _cli(["check", "matmul_backward", "--seed", "3"], cwd=student)
    assert out.returncode == 0 and out.stdout.count("finite-difference check and the exercise's rules pass") == 4


# -------------------------------------------------------------- command line
def test_cli_errors_are_one_line(tmp_path, capsys, blank):
    assert main(["make", "autograd", "--out", str(blank["autograd"])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make: error: --out" in err and "already holds a student copy" in err
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["grade", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a student copy (no assignment.json) nor a folder of submissions" in err
    assert main(["grade", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["check", "im2col", "--case", "9"]) == 2
    assert re.search(r"--case must be in 0\.\.3 for im2col, got 9", capsys.readouterr().err)


def test_one_copy_as_gradescope_results_and_as_a_zip(tmp_path, blank, capsys):
    student = solved(fresh(blank, tmp_path, "autograd"))
    out = tmp_path / "results.json"
    assert main(["grade", str(student), "--format", "gradescope", "--out", str(out), "--seed", "2"]) == 0
    results = json.loads(out.read_text())
    assert results["score"] == 10 and [t["score"] for t in results["tests"]] == [4, 6]
    assert results["tests"][0]["name"].startswith("matmul_backward: ") and "max_score" in results["tests"][0]
    shutil.make_archive(str(tmp_path / "hw"), "zip", student.parent, student.name)  # wrapped in a folder
    capsys.readouterr()
    assert main(["grade", str(tmp_path / "hw.zip"), "--format", "json", "--seed", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["score"] == 10


def test_the_copys_own_self_checks(blank, tmp_path):
    """`python -m pytest tests` in a copy: fails while unwritten, passes with right answers (no reference)."""
    student = fresh(blank, tmp_path, "autograd")
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    failing = subprocess.run(run, cwd=student, capture_output=True, text=True, timeout=300)
    assert failing.returncode == 1 and "2 failed" in failing.stdout, failing.stdout
    assert "NotImplementedError: exercise matmul_backward: write this part" in failing.stdout
    solved(student)
    passing = subprocess.run(run, cwd=student, capture_output=True, text=True, timeout=300)
    assert passing.returncode == 0 and "2 passed" in passing.stdout, passing.stdout
