"""A plain (non-editable) install of minidl makes and grades copies: nothing depends on the source checkout."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
sys.path[:0] = [sys.argv[1]]
sys.path.append(sys.argv[2])
import minidl, minidl.course.assignments as A
assert minidl.__file__.startswith(sys.argv[1]), minidl.__file__
out = sys.argv[3]
right = A.make("autograd", out + "/right")
for name in ("matmul_backward", "sum_to_shape"):
    A.write_answer(right, name, A.reference_answer(name))
A.write_answer(right, "sum_to_shape", "import sys\\nsys.path.insert(0, %r)\\n"
               "for m in [m for m in sys.modules if m.startswith('minidl')]:\\n    del sys.modules[m]\\n"
               "import minidl.backend\\nreturn minidl.backend.sum_to_shape(array, shape)\\n" % sys.argv[1])
report = A.grade(right, seed=1)
print(report["exercises"]["matmul_backward"]["score"], report["exercises"]["sum_to_shape"]["score"])
print(report["exercises"]["sum_to_shape"]["cases"][0]["problems"][0].replace(" ", "_"))
print(A.grade(A.make("autograd", out + "/blank"), seed=1)["score"])
"""


def test_copy_made_and_graded_from_a_plain_install(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "minidl", source / "minidl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(target), str(source)], capture_output=True, text=True,
                         timeout=300)
    assert pip.returncode == 0, pip.stderr
    assert (target / "minidl" / "course" / "assignments" / "worker.py").is_file()
    site = str(Path(numpy.__file__).resolve().parents[1])
    # -I -S: no current folder, no site-packages (so not the editable checkout): only the installed copy
    run = subprocess.run([sys.executable, "-I", "-S", "-c", SCRIPT, str(target), site, str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    # matmul right; sum_to_shape "answered" by importing the installed reference: refused, 0 points
    scores, problem, blank = run.stdout.split("\n")[:3]
    assert scores == "4 0" and blank == "0", run.stdout
    assert problem.startswith("PermissionError:_grading:_submissions_may_not_read_" + str(target / "minidl")), problem
