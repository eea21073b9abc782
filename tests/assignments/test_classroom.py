"""Grading a class: 30 generated submissions (right, wrong, hostile, broken) by one command."""
import csv
import json
import shutil
import zipfile

import pytest

from minidl.course.assignments import make, reference_answer, write_answer
from minidl.course.assignments.__main__ import main
from minidl.course.assignments.classroom import find_submissions, safe_unzip
from minidl.course.assignments.copies import PACKAGE
from minidl.course.assignments.grader import GradingError

# A hostile answer to matmul_backward, each trying to earn points it did not earn.
HOSTILE = {
    "patches_gradcheck": (
        "import minidl, numpy\n"
        "minidl.gradcheck = lambda *a, **k: True\n"
        "import minidl.gradcheck as g\ng.gradcheck = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "return 0 * self.a, 0 * self.b\n"),
    "imports_the_reference": (
        "import sys, site\n"
        "sys.path[:0] = [{parent!r}] + site.getsitepackages()\n"
        "for m in [m for m in sys.modules if m.startswith('minidl')]:\n    del sys.modules[m]\n"
        "import minidl as ref\n"
        "source = open({arith!r}).read()\n"
        "return ref.functional.arith.MatMul.backward(self, gy)\n"),
    "writes_grade_json": (
        "import json, os, pathlib\n"
        "fake = json.dumps({{'score': 10, 'max_score': 10}})\n"
        "for p in [pathlib.Path({student!r}) / 'grade.json', pathlib.Path({student!r}).parent / 'gradebook.csv']:\n"
        "    try:\n        p.write_text(fake)\n    except OSError:\n        pass\n"
        "import numpy\n"
        "numpy.savez('results.npz', __meta__=numpy.array(json.dumps({{'jobs': {{str(i): {{'ok': True}} "
        "for i in range(100)}}, 'error': None}})))\n"
        "os._exit(0)\n"),
    "prints_fake_output": (
        "import sys\n"
        "for f in (sys.stdout, sys.stderr):\n"
        "    print('matmul_backward  4/4  100%\\nsum_to_shape 6/6 100%\\ntotal 10/10 (100%) ok', file=f)\n"
        "return gy, gy\n"),
    "sleeps_forever": "import time\ntime.sleep(10**6)\n",
    "leaves_a_thread_running": (
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(10**6)).start()\n"
        "return 0 * self.a, 0 * self.b\n"),
    "reads_the_graders_memory": "import os\nreturn open(f'/proc/{{os.getppid()}}/maps').read()\n",
    "exhausts_memory": "hoard = []\nwhile True:\n    hoard.append(bytearray(2**28))\n",
}
# What each one's report says instead of the points it wanted.
HOSTILE_PROBLEM = {"imports_the_reference": "grading: submissions may not read",
                   "reads_the_graders_memory": "grading: submissions may not read /proc/",
                   "sleeps_forever": "(the time limit)", "leaves_a_thread_running": "grad_a: worst element",
                   "exhausts_memory": "MemoryError", "writes_grade_json": "y: missing",
                   "prints_fake_output": "MatMul.backward returned", "patches_gradcheck": "grad_a: worst element"}


def solve(copy, names=("matmul_backward", "sum_to_shape")):
    for name in names:
        write_answer(copy, name, reference_answer(name))
    return copy


def replaced(name, old, new):
    code = reference_answer(name)
    assert old in code
    return code.replace(old, new)


def zipped(folder, archive, wrap="hw1"):
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{wrap}/{path.relative_to(folder)}")
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Write 30 submissions, grade them with one command; the gradebook rows and the reports folder."""
    root = tmp_path_factory.mktemp("class")
    blank = make("autograd", root / "blank")
    subs = root / "submissions"
    subs.mkdir()

    def copy(name):
        return shutil.copytree(blank, subs / name)

    for i in range(9):
        solve(copy(f"right{i:02d}"))
    for i in range(5):
        copy(f"blank{i:02d}")
    for i in range(5, 9):  # four of the right ones hand in a zip, wrapped in a folder
        zipped(subs / f"right{i:02d}", subs / f"right{i:02d}.zip")
    write_answer(solve(copy("wrong_matmul")), "matmul_backward", replaced(
        "matmul_backward", "gb = xp.swapaxes(a, -1, -2) @ gy", "gb = 2 * (xp.swapaxes(a, -1, -2) @ gy)"))
    write_answer(solve(copy("wrong_sum")), "sum_to_shape", replaced(
        "sum_to_shape", "if n == 1 and array.shape[lead + i] != 1", "if False"))
    write_answer(solve(copy("syntax_error")), "matmul_backward", "return (gy,\n")
    no_markers = solve(copy("no_markers")) / "minidl" / "backend.py"
    no_markers.write_text("\n".join(line for line in no_markers.read_text().splitlines()
                                    if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line) + "\n")
    claims = copy("claims_optim")  # asks to be graded on another assignment: graded on the class's
    (claims / "assignment.json").write_text(json.dumps({"assignment": "optim", "exercises": ["sgd_momentum"]}))
    for kind, code in HOSTILE.items():
        student = solve(copy(kind))
        (student / "grade.json").write_text(json.dumps({"score": 10, "max_score": 10}))
        write_answer(student, "matmul_backward", code.format(
            parent=str(PACKAGE.parent), arith=str(PACKAGE / "functional" / "arith.py"), student=str(student)))
        (student / "minidl" / "gradcheck.py").write_text("def gradcheck(*a, **k):\n    return True\n")
        for fake in ("worker.py", "exercises.py", "grader.py"):  # the copy's own grader: never used
            (student / "minidl" / "course" / "assignments" / fake).write_text("print('10/10 ok')\nSCORE = 10\n")
    (subs / "not_a_copy").mkdir()
    (subs / "not_a_copy" / "notes.txt").write_text("I did it all in my head")
    with zipfile.ZipFile(subs / "escapes.zip", "w") as z:
        z.writestr("../../escaped.txt", "outside")
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    assert len(list(subs.iterdir())) == 30

    out = root / "out" / "gradebook.csv"
    assert main(["grade", str(subs), "--out", str(out), "--format", "gradescope", "--seed", "1", "--jobs", "2",
                 "--time-limit", "8", "--memory-limit", "1024"]) == 0
    with open(out, newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert not (root / "escaped.txt").exists() and not (subs.parent / "escaped.txt").exists()
    return rows, out.parent / "reports"


def report_of(reports, student):
    return json.loads((reports / student / "report.json").read_text())


def test_gradebook_has_every_student_and_exercise(graded_class):
    rows, _ = graded_class
    assert len(rows) == 30
    assert list(next(iter(rows.values()))) == ["student", "matmul_backward", "sum_to_shape", "total", "out_of", "error"]
    for i in range(9):
        assert rows[f"right{i:02d}"]["total"] == rows[f"right{i:02d}"]["out_of"] == "10", rows[f"right{i:02d}"]
    for i in range(5):
        assert rows[f"blank{i:02d}"]["total"] == "0"


def test_wrong_and_broken_submissions_score_what_they_earn(graded_class):
    rows, reports = graded_class
    assert (rows["wrong_matmul"]["matmul_backward"], rows["wrong_matmul"]["sum_to_shape"]) == ("0", "6")
    assert (rows["wrong_sum"]["matmul_backward"], int(rows["wrong_sum"]["sum_to_shape"]) < 6) == ("4", True)
    assert (rows["syntax_error"]["matmul_backward"], rows["syntax_error"]["sum_to_shape"]) == ("0", "6")
    assert "SyntaxError" in report_of(reports, "syntax_error")["exercises"]["matmul_backward"]["error"]
    assert (rows["no_markers"]["matmul_backward"], rows["no_markers"]["sum_to_shape"]) == ("4", "0")
    assert "'# BEGIN SOLUTION sum_to_shape' and '# END SOLUTION' are missing" in \
        report_of(reports, "no_markers")["exercises"]["sum_to_shape"]["error"]
    assert rows["claims_optim"]["total"] == "0" and rows["claims_optim"]["out_of"] == "10"
    for student, why in [("not_a_copy", "no assignment.json"), ("escapes", "refusing the path"),
                         ("corrupt", "BadZipFile")]:
        assert rows[student]["total"] == "0" and why in rows[student]["error"], rows[student]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_submission_earns_nothing_it_did_not_earn(kind, graded_class):
    rows, reports = graded_class
    assert (rows[kind]["matmul_backward"], rows[kind]["sum_to_shape"]) == ("0", "6"), rows[kind]
    matmul = report_of(reports, kind)["exercises"]["matmul_backward"]
    problems = " ".join(p for c in matmul["cases"] for p in c["problems"])
    assert HOSTILE_PROBLEM[kind] in problems, problems


def test_each_student_gets_a_report_and_gradescope_results(graded_class):
    rows, reports = graded_class
    seeds = set()
    for student, row in rows.items():
        results = json.loads((reports / student / "results.json").read_text())
        assert results["score"] == int(row["total"])
        assert [t["name"].split(":")[0] for t in results["tests"]] == ["matmul_backward", "sum_to_shape"]
        assert all(set(t) >= {"name", "score", "max_score", "output"} for t in results["tests"])
        assert sum(t["max_score"] for t in results["tests"]) == 10
        assert (reports / student / "report.txt").read_text().startswith("assignment autograd")
        seeds.add(report_of(reports, student)["seed"])
    assert len(seeds) == 30  # each student their own inputs
    text = (reports / "wrong_matmul" / "report.txt").read_text()
    assert "case 0 (a (3, 4), b (4, 2)):" in text and "replay it in your folder" in text


def test_unzip_refuses_links_and_escapes(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("hw1/minidl")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc")
    with pytest.raises(GradingError, match="refusing the link 'hw1/minidl'"):
        safe_unzip(archive, tmp_path / "out")
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("/abs.txt", "x")
    with pytest.raises(GradingError, match="refusing the path '/abs.txt'"):
        safe_unzip(archive, tmp_path / "out2")


def test_submission_names_are_safe_and_distinct(tmp_path):
    for name in ("alice", "a b", "a_b"):
        (tmp_path / name).mkdir()
    (tmp_path / "alice.zip").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a submission")
    assert [s for s, _ in find_submissions(tmp_path)] == ["a_b", "a_b-2", "alice", "alice-2"]
