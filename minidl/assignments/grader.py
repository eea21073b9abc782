"""Make student copies and grade them.

    python -m minidl.assignments list
    python -m minidl.assignments make autograd --out hw1
    python -m minidl.assignments grade hw1            # text report; hw1/grade.json too

``make`` copies the minidl package into ``OUT/minidl`` with this assignment's
solution blocks cut out (see :mod:`minidl.assignments.markers`), and writes
the student's self-check tests into ``OUT/tests``.

``grade`` draws fresh random inputs, runs every exercise once with the
reference minidl and once with the student's copy (each in its own process),
and compares: outputs and gradients must match the reference, and the
exercise's own check (a gradient check) must pass. A crash, an endless loop
(time limit) or a NotImplementedError costs points, never the grader.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy

from .exercises import ASSIGNMENTS, EXERCISES
from .markers import strip_solutions

PACKAGE = Path(__file__).resolve().parent.parent  # the reference minidl
RTOL, ATOL = 1e-6, 1e-9


def _exercises_of(assignment: str) -> list:
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; choose one of {sorted(ASSIGNMENTS)}")
    return ASSIGNMENTS[assignment]


def make(assignment: str, out: os.PathLike) -> Path:
    """Write the student copy of ``assignment`` into ``out``; returns the folder."""
    names = _exercises_of(assignment)
    out = Path(out)
    if (out / "minidl").exists():
        raise FileExistsError(f"{out / 'minidl'} already exists; choose an empty --out folder")
    shutil.copytree(PACKAGE, out / "minidl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_file: dict = {}
    for name in names:
        by_file.setdefault(EXERCISES[name].file, set()).add(name)
    for file, blocks in by_file.items():
        path = out / "minidl" / file
        path.write_text(strip_solutions(path.read_text(encoding="utf-8"), blocks, file), encoding="utf-8")
    (out / "assignment.json").write_text(json.dumps({"assignment": assignment, "exercises": names}, indent=2))
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
        f'"""Self-checks for assignment {assignment!r}: run `pytest tests` in this folder."""\n'
        "import numpy as np\nimport pytest\n\nimport minidl\n"
        "from minidl.assignments.exercises import EXERCISES\n\n\n"
        f"@pytest.mark.parametrize('name', {names!r})\n"
        "def test_exercise(name):\n"
        "    ex = EXERCISES[name]\n"
        "    for case in ex.cases(np.random.default_rng(0)):\n"
        "        ex.run(minidl, case)  # runs without error\n"
        "        if ex.check is not None:\n"
        "            ex.check(minidl, case)  # e.g. the gradient check\n"
    )


def _write_readme(out: Path, assignment: str, names: list) -> None:
    lines = [f"# Assignment: {assignment}", "", "Write the parts marked `raise NotImplementedError` in:", ""]
    for n in names:
        lines.append(f"- `minidl/{EXERCISES[n].file}`: **{n}**, {EXERCISES[n].title}")
    lines += ["", "Check yourself with `python -m pytest tests` in this folder.",
              "Your instructor grades with `python -m minidl.assignments grade THIS_FOLDER`.", ""]
    (out / "README.md").write_text("\n".join(lines))


# -------------------------------------------------------------------- grading
def _save_cases(names: list, seed: int, path: Path) -> dict:
    rng = numpy.random.default_rng(seed)
    arrays, shapes = {}, {}
    for name in names:
        cases = EXERCISES[name].cases(rng)
        shapes[name] = [{k: tuple(numpy.shape(v)) for k, v in c.items()} for c in cases]
        for i, case in enumerate(cases):
            for key, value in case.items():
                arrays[f"{name}/{i}/{key}"] = numpy.asarray(value)
    numpy.savez(path, **arrays)
    return shapes


def _run_worker(mode: str, package_parent: Path, cases: Path, out: Path, names: list, timeout: float) -> Optional[str]:
    """Run the worker; returns an error text when the process itself failed."""
    env = dict(os.environ, PYTHONPATH=str(package_parent), PYTHONDONTWRITEBYTECODE="1")
    worker = Path(__file__).with_name("worker.py")
    try:
        proc = subprocess.run([sys.executable, str(worker), mode, str(cases), str(out), *names],
                              env=env, capture_output=True, text=True, timeout=timeout, cwd=str(package_parent))
    except subprocess.TimeoutExpired:
        return f"the {mode} run took longer than {timeout:.0f} s and was stopped"
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"the {mode} run crashed: " + " | ".join(tail)
    return None


def _load(path: Path) -> tuple:
    with numpy.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("__meta__"))), arrays


def _compare(ref: numpy.ndarray, got: numpy.ndarray, key: str) -> Optional[str]:
    if ref.shape != got.shape:
        return f"{key}: shape {got.shape}, expected {ref.shape}"
    ref64, got64 = ref.astype(numpy.float64), got.astype(numpy.float64)
    if not numpy.all(numpy.isfinite(got64)):
        return f"{key}: contains nan or inf"
    excess = numpy.abs(got64 - ref64) - (ATOL + RTOL * numpy.abs(ref64))
    if excess.size == 0 or excess.max() <= 0:
        return None
    worst = numpy.unravel_index(int(excess.argmax()), ref.shape)
    return f"{key}: worst element {tuple(int(i) for i in worst)} is {got64[worst]:.6g}, expected {ref64[worst]:.6g}"


def grade(student_dir: os.PathLike, seed: Optional[int] = None, timeout: float = 300.0) -> dict:
    """Grade a student copy; returns the report (also written to grade.json there)."""
    student_dir = Path(student_dir).resolve()
    info_path = student_dir / "assignment.json"
    if not info_path.exists():
        raise FileNotFoundError(f"{info_path} not found: is {student_dir} a folder made by 'make'?")
    info = json.loads(info_path.read_text())
    names = info["exercises"]
    seed = int.from_bytes(os.urandom(4), "little") if seed is None else seed
    report = {"assignment": info["assignment"], "seed": seed, "student": str(student_dir),
              "exercises": {}, "score": 0.0, "max_score": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shapes = _save_cases(names, seed, tmp / "cases.npz")
        problem = _run_worker("reference", PACKAGE.parent, tmp / "cases.npz", tmp / "ref.npz", names, timeout)
        if problem:
            raise RuntimeError(f"the reference implementation failed ({problem}); this is a bug in minidl")
        ref_meta, ref = _load(tmp / "ref.npz")
        began = time.perf_counter()
        crash = _run_worker("student", student_dir, tmp / "cases.npz", tmp / "student.npz", names, timeout)
        meta, got = (None, {}) if crash else _load(tmp / "student.npz")
        if meta and Path(meta["package"]) != student_dir / "minidl":
            raise RuntimeError(f"the student run imported {meta['package']}, not the copy in {student_dir}")
        for name in names:
            report["exercises"][name] = _grade_exercise(name, shapes[name], ref_meta["results"][name],
                                                         ref, meta, got, crash)
        report["seconds"] = round(time.perf_counter() - began, 2)
    report["score"] = sum(e["score"] for e in report["exercises"].values())
    report["max_score"] = sum(e["max_score"] for e in report["exercises"].values())
    (student_dir / "grade.json").write_text(json.dumps(report, indent=2))
    return report


def _grade_exercise(name, shapes, ref_result, ref, meta, got, crash) -> dict:
    has_check = EXERCISES[name].check is not None
    out = {"title": EXERCISES[name].title, "max_score": len(shapes) + int(has_check), "score": 0, "failures": []}
    if crash:
        out["failures"].append(crash)
        return out
    result = meta["results"][name]
    for i, (case, ref_case) in enumerate(zip(result["cases"], ref_result["cases"])):
        where = f"case {i} (" + ", ".join(f"{k} {s}" for k, s in shapes[i].items()) + ")"
        if not case["ok"]:
            out["failures"].append(f"{where}: {case['error']}")
            continue
        problems = [p for key in ref_case["keys"]
                    for p in [_compare(ref[f"{name}/{i}/{key}"], got[f"{name}/{i}/{key}"], key)
                              if f"{name}/{i}/{key}" in got else f"{key}: missing"] if p]
        if problems:
            out["failures"].append(f"{where}: " + "; ".join(problems))
        else:
            out["score"] += 1
    if has_check:
        if result["check"] == "ok":
            out["score"] += 1
        else:
            out["failures"].append(f"check: {result['check']}")
    return out


def format_report(report: dict) -> str:
    lines = [f"assignment {report['assignment']}  (seed {report['seed']}, {report['student']})", ""]
    width = max(len(n) for n in report["exercises"]) + 2
    for name, ex in report["exercises"].items():
        pct = 100 * ex["score"] / ex["max_score"] if ex["max_score"] else 0
        lines.append(f"  {name:<{width}} {ex['score']:>2}/{ex['max_score']:<2} {pct:5.0f}%")
        for failure in ex["failures"]:
            lines.append(f"      - {failure}")
    total = 100 * report["score"] / report["max_score"] if report["max_score"] else 0
    lines += ["", f"total {report['score']}/{report['max_score']} ({total:.0f}%)"]
    return "\n".join(lines)
