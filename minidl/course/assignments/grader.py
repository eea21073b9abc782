"""Grade one student copy: the student's process evaluates, this process judges.

    python -m minidl.course.assignments grade hw1            # text report; hw1/grade.json too

For each exercise of the assignment, the grader

1. takes the code between the exercise's markers in the student's file and
   splices it into a copy of the *reference* minidl (this package): the
   exercise is graded with the reference for everything else, so a mistake
   costs points once (:func:`minidl.course.assignments.markers.splice`);
2. starts a fresh, isolated process on that copy (``python -I -S -B``, an
   explicit ``sys.path``, a temporary working folder, a time limit and a
   memory limit; see :mod:`minidl.course.assignments.worker`), which only evaluates
   the exercise on the inputs it is sent: each case, and each case with
   perturbed inputs for the finite differences;
3. judges here, from raw arrays (``.npz``, ``allow_pickle=False``): compares
   with the reference, evaluated in this process; computes the finite
   differences; applies the exercise's own rules. A case earns its point only
   when it passes all of them.

The student's process cannot change a verdict: it decides no comparison and
no score, and prints to nowhere. Its audit hook refuses reading the reference
package, writing outside its working folder and starting processes. It does
run the reference code of the *other* exercises of the assignment (that is
what grading uncoupled means), and its error messages come back, cut to one
line of 300 characters.

The audit hook is a guard inside Python, not an operating-system sandbox: for
a class of strangers run the grader as an unprivileged user in a container
(as a Gradescope autograder does), so that the limits of the machine hold too.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy

from .copies import PACKAGE, exercises_of
from .exercises import EXERCISES, Case, case_rng, finite_difference_problems, perturbations
from .markers import MarkerError, find_blocks, splice

try:
    import resource  # POSIX: the time and memory limits (on Windows only the wall-clock limit holds)
except ImportError:  # pragma: no cover
    resource = None

RTOL, ATOL = 1e-6, 1e-9
TIME_LIMIT = 120.0  # seconds per exercise process
MEMORY_LIMIT = 2 * 2**30  # bytes of address space per exercise process (RLIMIT_AS)
MAX_RESULTS = 64 * 2**20  # bytes the student's process may write (RLIMIT_FSIZE) and the grader will read


class GradingError(Exception):
    """Grading cannot start: not a student copy, or the grader is not the instructor's minidl."""


def reference_guard() -> None:
    """Refuse to grade with a student copy as the reference (e.g. imported from the current folder)."""
    if (PACKAGE.parent / "assignment.json").exists():
        raise GradingError(f"the grader was imported from the student copy in {PACKAGE.parent}, not from the "
                           "instructor's minidl; grade from another folder, or with "
                           "python -I -m minidl.course.assignments")


def read_assignment(folder: Path) -> str:
    """The assignment a copy says it is for (only its name is read from the student's folder)."""
    info_path = folder / "assignment.json"
    if not info_path.is_file():
        raise GradingError(f"{folder} is not a student copy: it has no assignment.json (made by 'make')")
    try:
        name = json.loads(info_path.read_text())["assignment"]
    except (ValueError, KeyError, TypeError, UnicodeError) as error:
        raise GradingError(f"{info_path} is not readable as made by 'make': {error}") from None
    exercises_of(name)  # a known assignment
    return name


def fresh_seed() -> int:
    return int.from_bytes(os.urandom(4), "little") % 2**31


def grade(student_dir: os.PathLike, seed: Optional[int] = None, *, assignment: Optional[str] = None,
          time_limit: float = TIME_LIMIT, memory_limit: int = MEMORY_LIMIT,
          report_path: Optional[os.PathLike] = "grade.json", exercises: Optional[Sequence[str]] = None) -> dict:
    """Grade a student copy; returns the report (also written to ``report_path``, relative to the copy).

    ``assignment`` (default: the one the copy's assignment.json names) decides
    the exercises; ``exercises`` grades only some of them (e.g. to regrade
    one); ``report_path=None`` writes nothing.
    """
    reference_guard()
    student_dir = Path(student_dir).resolve()
    name = assignment or read_assignment(student_dir)
    names = exercises_of(name) if exercises is None else list(exercises)
    unknown = [e for e in names if e not in exercises_of(name)]
    if unknown:
        raise ValueError(f"exercises: {unknown} are not part of assignment {name!r} ({exercises_of(name)})")
    seed = fresh_seed() if seed is None else int(seed)
    report = {"assignment": name, "seed": seed, "student": student_dir.name, "exercises": {}}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="minidl-grade-") as tmp:
        for exercise in names:
            report["exercises"][exercise] = grade_exercise(exercise, student_dir, seed, Path(tmp) / exercise,
                                                           time_limit, memory_limit)
    report["score"] = sum(e["score"] for e in report["exercises"].values())
    report["max_score"] = sum(e["max_score"] for e in report["exercises"].values())
    report["seconds"] = round(time.perf_counter() - began, 2)
    if report_path is not None:
        (student_dir / report_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


# -------------------------------------------------------------- one exercise
def grade_exercise(name: str, student_dir: Path, seed: int, work: Path, time_limit: float = TIME_LIMIT,
                   memory_limit: int = MEMORY_LIMIT) -> dict:
    """Grade one exercise of a student copy; ``work`` is an empty scratch folder."""
    ex = EXERCISES[name]
    cases = ex.cases(case_rng(seed, name))
    out = {"title": ex.title, "file": f"minidl/{ex.file}", "score": 0, "max_score": len(cases), "cases": [],
           "error": None}
    reference_text = (PACKAGE / ex.file).read_text(encoding="utf-8")
    try:
        student_text = (student_dir / "minidl" / ex.file).read_text(encoding="utf-8")
        spliced = splice(reference_text, student_text, name, f"minidl/{ex.file}")
        lines = _line_map(reference_text, student_text, name)
        _check_syntax(spliced, ex.file, lines)
    except (OSError, UnicodeError, MarkerError, SyntaxError) as error:
        out["error"] = str(error)
        out["cases"] = [{"label": c.label, "passed": False, "problems": [str(error)], "trace": []} for c in cases]
        return out
    package = work / "package"
    shutil.copytree(PACKAGE, package / "minidl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "minidl" / ex.file).write_text(spliced, encoding="utf-8")

    jobs, checks = [], []
    for i, case in enumerate(cases):
        jobs.append((f"{i}", case, True))
        checks.append(perturbations(ex, case, seed=i))
        for c, (_, _, plus, minus) in enumerate(checks[-1]):
            jobs += [(f"{i}+{c}", plus, False), (f"{i}-{c}", minus, False)]
    results, crash = run_worker(name, package, work / "run", jobs, time_limit, memory_limit)

    for i, case in enumerate(cases):
        entry = {"label": case.label, "passed": False, "problems": [], "trace": []}
        result = results.get(f"{i}")
        if crash:
            entry["problems"].append(crash)
        elif not result or not result["ok"]:
            entry["problems"].append((result or {}).get("error") or "no result came back")
            entry["trace"] = _frames(result, ex.file, lines)
        else:
            reference = ex.evaluate(_reference(), case, True) if ex.compare else {}  # a failure here is ours
            try:
                entry["problems"] = _judge(ex, case, result["arrays"], reference, checks[i], results, i)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:  # odd arrays
                entry["problems"] = [f"the result cannot be judged: {type(error).__name__}: {error}"[:300]]
        entry["passed"] = not entry["problems"]
        out["score"] += int(entry["passed"])
        if not entry["passed"]:
            entry["reproduce"] = f"python -m minidl.course.assignments check {name} --seed {seed} --case {i}"
        out["cases"].append(entry)
    return out


def _judge(ex, case: Case, got: dict, reference: dict, checks: list, results: dict, i: int) -> list:
    """Every problem of one case's result: against the reference, finite differences, the exercise's rules."""
    problems = []
    for key, ref in reference.items():
        problems += [p for p in [compare(ref, got[key], key) if key in got else f"{key}: missing"] if p]
    if checks:
        forward = []
        for c in range(len(checks)):
            plus, minus = results.get(f"{i}+{c}"), results.get(f"{i}-{c}")
            failed = [r or {} for r in (plus, minus) if not r or not r["ok"] or "y" not in r["arrays"]]
            if failed:
                problems.append("the forward failed on a slightly perturbed input: "
                                + (failed[0].get("error") or "no y came back"))
                break
            forward.append((plus["arrays"]["y"], minus["arrays"]["y"]))
        else:
            problems += finite_difference_problems(case, got, checks, forward)
    if ex.judge is not None and not problems:
        try:
            problems += ex.judge(case, got)
        except (KeyError, ValueError, TypeError, IndexError) as error:
            problems.append(f"the result cannot be checked: {type(error).__name__}: {error}")
    return problems


def _reference():
    import minidl  # this package, the instructor's

    return minidl


def compare(ref: numpy.ndarray, got: numpy.ndarray, key: str) -> Optional[str]:
    """None when ``got`` matches the reference array, else what is wrong (shape, nan, worst element)."""
    if ref.shape != got.shape:
        return f"{key}: shape {got.shape}, expected {ref.shape}"
    if got.dtype.kind not in "biuf":
        return f"{key}: dtype {got.dtype}, expected numbers"
    ref64, got64 = ref.astype(numpy.float64), got.astype(numpy.float64)
    if not numpy.all(numpy.isfinite(got64) == numpy.isfinite(ref64)):
        return f"{key}: contains nan or inf"
    finite = numpy.isfinite(ref64)
    excess = numpy.where(finite, numpy.abs(got64 - ref64) - (ATOL + RTOL * numpy.abs(ref64)), 0.0)
    if excess.size == 0 or excess.max() <= 0:
        return None
    worst = numpy.unravel_index(int(excess.argmax()), ref.shape)
    return f"{key}: worst element {tuple(int(i) for i in worst)} is {got64[worst]:.6g}, expected {ref64[worst]:.6g}"


def _line_map(reference: str, student: str, name: str) -> tuple:
    """(first body line in the graded file, first body line in the student's file, body length), 1-based."""
    ref_block, student_block = find_blocks(reference)[name], find_blocks(student)[name]
    return ref_block.start + 2, student_block.start + 2, student_block.end - student_block.start - 1


def _check_syntax(spliced: str, file: str, lines: tuple) -> None:
    """Compile (never run) the graded file here, so a syntax error is reported at the student's line."""
    try:
        compile(spliced, f"minidl/{file}", "exec", dont_inherit=True)
    except SyntaxError as error:
        ref_start, student_start, length = lines
        line = error.lineno or 0
        where = (f"line {line - ref_start + student_start} of your" if ref_start <= line < ref_start + length + 1
                 else "your")
        raise SyntaxError(f"{type(error).__name__}: {error.msg} ({where} minidl/{file})") from None


def _frames(result: Optional[dict], file: str, lines: tuple) -> list:
    """The traceback's last frames, with the lines of the student's block as in the student's file."""
    ref_start, student_start, length = lines
    out = []
    for path, line, function, code in (result or {}).get("trace", []):
        where = "reference code"
        if path == f"minidl/{file}" and ref_start <= line < ref_start + length:
            line, where = line - ref_start + student_start, "your code"
        out.append(f"{path}, line {line}, in {function} ({where}): {code}")
    return out


# ----------------------------------------------------- the student's process
def _site_dirs() -> list:
    """The folders NumPy (and CuPy) are imported from: the only ones besides the stdlib and the copy."""
    return sorted({str(Path(numpy.__file__).resolve().parent.parent)})


def _blocked(sites: list, own: list) -> list:
    """What the student's process may not read: this package, any minidl on its path, and, for a source
    checkout, everything in it except the folders the process needs (a virtualenv inside it, its ``own``)."""
    blocked = [str(PACKAGE)] + [os.path.join(s, "minidl") for s in sites]
    parent = PACKAGE.parent
    if (parent / "setup.cfg").exists() or (parent / "pyproject.toml").exists():
        needed = [Path(s) for s in sites] + [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
        needed += [Path(p).resolve() for p in own]
        for child in parent.iterdir():
            if not any(n == child or child in n.parents for n in needed):
                blocked.append(str(child))
    return blocked


def _limits(time_limit: float, memory_limit: int):
    """What runs in the student's process before Python starts: its resource limits."""
    if resource is None:  # pragma: no cover
        return None

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_RESULTS, MAX_RESULTS))
        resource.setrlimit(resource.RLIMIT_CPU, (int(time_limit) + 2, int(time_limit) + 3))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_worker(name: str, package: Path, run: Path, jobs: list, time_limit: float, memory_limit: int) -> tuple:
    """Evaluate ``jobs`` [(id, Case, backward)] in the student's process on ``package``.

    Returns ({id: {"ok", "arrays", "error", "trace"}}, crash) where crash is
    None, or why the process as a whole gave nothing (time, memory, crash).
    """
    run.mkdir(parents=True)
    arrays = {f"{j}/{k}": numpy.asarray(v) for j, case, _ in jobs for k, v in case.arrays.items()}
    numpy.savez(run / "jobs.npz", **arrays)
    sites = _site_dirs()
    config = {"root": str(package), "site": sites, "blocked": _blocked(sites, [package, run]), "exercise": name,
              "jobs": str(run / "jobs.npz"),
              "job_list": [{"id": j, "arrays": sorted(c.arrays), "options": c.options, "backward": b}
                           for j, c, b in jobs]}
    (run / "config.json").write_text(json.dumps(config))
    shutil.copy(Path(__file__).with_name("worker.py"), run / "worker.py")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(run), "LANG": "C.UTF-8",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with open(run / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", str(run / "worker.py"), str(run / "config.json")],
                                cwd=run, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True, preexec_fn=_limits(time_limit, memory_limit))
        try:
            proc.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            return {}, f"stopped after {time_limit:g} s (the time limit): an endless loop, or far too slow?"
        finally:
            _kill_group(proc)
    results = run / "results.npz"
    if not results.is_file():
        tail = (run / "stderr.txt").read_bytes()[-2000:].decode(errors="replace").strip().splitlines()[-1:]
        why = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        return {}, f"the process crashed ({why}; the memory limit is {memory_limit / 2**20:.0f} MiB)" + \
            (f": {tail[0][:300]}" if tail else "")
    return _read_results(results)


def _kill_group(proc: subprocess.Popen) -> None:
    """End the student's process and anything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # gone already; or Windows: no groups
        proc.kill()
    proc.wait()


def _read_results(path: Path) -> tuple:
    """Parse the student's results defensively: sizes, no pickles, only the fields we know."""
    try:
        with zipfile.ZipFile(path) as z:
            if sum(i.file_size for i in z.infolist()) > 4 * MAX_RESULTS:
                return {}, "the results are too large"
        with numpy.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("__meta__")))
        if meta.get("error"):
            error = meta["error"]
            return {}, "minidl did not import with this code in it: " + str(error.get("error"))[:300]
        results = {}
        for j, info in meta["jobs"].items():
            mine = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.split("/", 1)[0] == j}
            results[str(j)] = {"ok": info.get("ok") is True, "arrays": mine, "error": str(info.get("error", ""))[:300],
                               "trace": [list(f)[:4] for f in info.get("trace", [])[:5]]}
        return results, None
    except Exception as error:  # anything the student's process wrote that is not ours
        return {}, f"the results could not be read ({type(error).__name__})"


# -------------------------------------------------------- replaying a case locally
def check_locally(mdl: Any, name: str, seed: int = 0, case: Optional[int] = None) -> list:
    """[(Case, problems)] for one exercise on the given package, with no reference (in the student's folder).

    Evaluates every case (or only ``case``) in this process, then applies the
    checks that need no reference: the finite-difference check and the
    exercise's own rules. Errors propagate, with their full traceback.
    """
    ex = EXERCISES.get(name)
    if ex is None:
        raise ValueError(f"unknown exercise {name!r}; choose one of {sorted(EXERCISES)}")
    cases = ex.cases(case_rng(seed, name))
    if case is not None and not 0 <= case < len(cases):
        raise ValueError(f"--case must be in 0..{len(cases) - 1} for {name}, got {case}")
    out = []
    for i, c in enumerate(cases):
        if case is not None and i != case:
            continue
        got = ex.evaluate(mdl, c, True)
        checks = perturbations(ex, c, seed=i)
        forward = [(ex.evaluate(mdl, p, False)["y"], ex.evaluate(mdl, m, False)["y"]) for _, _, p, m in checks]
        problems = finite_difference_problems(c, got, checks, forward)
        if ex.judge is not None and not problems:
            problems += ex.judge(c, got)
        out.append((c, problems))
    return out


def format_report(report: dict) -> str:
    """The report as a student reads it: scores, each failed case with its label, problems and traceback."""
    lines = [f"assignment {report['assignment']}  (seed {report['seed']}, {report['student']})", ""]
    if report.get("error"):
        lines.append(f"  not graded: {report['error']}")
    width = max([len(n) for n in report["exercises"]] + [8]) + 2
    for name, ex in report["exercises"].items():
        pct = 100 * ex["score"] / ex["max_score"] if ex["max_score"] else 0
        lines.append(f"  {name:<{width}} {ex['score']:>2}/{ex['max_score']:<2} {pct:5.0f}%   {ex['file']}")
        if ex.get("error"):
            lines.append(f"      - {ex['error']}")
            continue
        shown = {}  # (problems, trace) -> the case that showed them first
        for i, case in enumerate(ex["cases"]):
            if case["passed"]:
                continue
            seen = (tuple(case["problems"]), tuple(case["trace"]))
            if seen in shown:
                lines.append(f"      - case {i} ({case['label']}): the same as case {shown[seen]}")
                continue
            shown[seen] = i
            lines.append(f"      - case {i} ({case['label']}):")
            lines += [f"          {p}" for p in case["problems"]]
            lines += [f"          at {f}" for f in case["trace"]]
            lines.append(f"          replay it in your folder: {case['reproduce']}")
    total = 100 * report["score"] / report["max_score"] if report["max_score"] else 0
    lines += ["", f"total {report['score']}/{report['max_score']} ({total:.0f}%)"]
    return "\n".join(lines)
