"""Grade a class: a folder of submissions into a gradebook, a report each.

    python -m minidl.course.assignments grade submissions/ --out gradebook.csv [--format gradescope]

``submissions/`` holds one folder or ``.zip`` file per student (the student's
name is the folder's or the zip's name). Zips are unpacked safely (no
absolute paths, no ``..``, no links, a size and file-count limit). Each
submission is graded in its own process of a pool (``--jobs``), and each of
its exercises in a further process with a time and a memory limit (see
:mod:`minidl.course.assignments.grader`), so one broken or hostile submission never
stops the others: it gets 0 and a report saying why.

Written next to the gradebook:

* ``gradebook.csv``: student, each exercise's score, total, out of, error;
* ``reports/<student>/report.txt`` and ``report.json``: what each student
  reads (with ``--format gradescope`` also ``results.json``, Gradescope's).

All students of a class are graded on the assignment given by
``--assignment`` or, by default, the one most of their ``assignment.json``
name (a submission cannot choose an easier one). Each student gets their own
seed, derived from the class seed and their name, and written in the report.
"""
from __future__ import annotations

import collections
import concurrent.futures
import csv
import json
import multiprocessing
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Optional

from .copies import exercises_of
from .exercises import ASSIGNMENTS, EXERCISES, case_rng
from .grader import MEMORY_LIMIT, TIME_LIMIT, GradingError, format_report, fresh_seed, grade, reference_guard

MAX_UNZIPPED = 64 * 2**20  # bytes a submission's zip may unpack to
MAX_MEMBERS = 5000


def find_submissions(folder: Path) -> list:
    """[(student, path)] for every sub-folder and .zip file of ``folder``, sorted by name.

    The student's name is the folder's or the zip's, with characters other than
    letters, digits and ``.@+-`` replaced by ``_`` (and ``-2``, ``-3``... where
    two names would be the same).
    """
    out, taken = [], set()
    for path in sorted(Path(folder).iterdir()):
        if path.name.startswith(".") or path.name == "reports":
            continue
        if path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip"):
            name = base = re.sub(r"[^\w.@+-]", "_", path.stem if path.is_file() else path.name)
            k = 1
            while name in taken:
                k += 1
                name = f"{base}-{k}"
            taken.add(name)
            out.append((name, path))
    return out


def safe_unzip(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest``, refusing what could escape it or fill the disk."""
    total = 0
    with zipfile.ZipFile(archive) as z:
        members = z.infolist()
        if len(members) > MAX_MEMBERS:
            raise GradingError(f"{archive.name}: {len(members)} files, more than {MAX_MEMBERS}")
        for m in members:
            name = PurePosixPath(m.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", m.filename):
                raise GradingError(f"{archive.name}: refusing the path {m.filename!r} (outside the folder)")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise GradingError(f"{archive.name}: refusing the link {m.filename!r}")
            target = dest.joinpath(*name.parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(m) as src, open(target, "wb") as out:
                while True:
                    chunk = src.read(2**20)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > MAX_UNZIPPED:
                        raise GradingError(f"{archive.name}: unpacks to more than {MAX_UNZIPPED // 2**20} MiB")
                    out.write(chunk)
    return dest


def submission_root(path: Path) -> Path:
    """The folder of a submission that holds assignment.json: itself or its only sub-folder (zips wrap)."""
    if (path / "assignment.json").is_file():
        return path
    children = [c for c in path.iterdir() if c.is_dir() and not c.name.startswith(("_", "."))]
    if len(children) == 1 and (children[0] / "assignment.json").is_file():
        return children[0]
    raise GradingError(f"{path.name}: no assignment.json found (is it a student copy made by 'make'?)")


def student_seed(seed: int, student: str) -> int:
    return (int(seed) + zlib.crc32(student.encode())) % 2**31


def _failed_report(student: str, assignment: str, seed: int, error: str) -> dict:
    """The report of a submission that could not be graded at all: 0 of every exercise's points."""
    exercises = {}
    for name in exercises_of(assignment):
        n = len(EXERCISES[name].cases(case_rng(seed, name)))
        exercises[name] = {"title": EXERCISES[name].title, "file": f"minidl/{EXERCISES[name].file}",
                           "score": 0, "max_score": n, "cases": [], "error": error}
    return {"assignment": assignment, "seed": seed, "student": student, "exercises": exercises, "score": 0,
            "max_score": sum(e["max_score"] for e in exercises.values()), "error": error}


def grade_submission(student: str, path: str, assignment: str, seed: int, time_limit: float = TIME_LIMIT,
                     memory_limit: int = MEMORY_LIMIT) -> dict:
    """Grade one submission (folder or zip); never raises: a failure is a report of 0 saying why."""
    try:
        with tempfile.TemporaryDirectory(prefix="minidl-submission-") as tmp:
            root = Path(path)
            if root.is_file():
                root = safe_unzip(root, Path(tmp))
            report = grade(submission_root(root), seed, assignment=assignment, time_limit=time_limit,
                           memory_limit=memory_limit, report_path=None)
    except Exception as error:  # a broken submission (or zip): it gets 0, the class goes on
        report = _failed_report(student, assignment, seed, f"{type(error).__name__}: {error}"[:500])
    report["student"] = student
    return report


def class_assignment(submissions: list) -> str:
    """The assignment most submissions name in their assignment.json."""
    votes = collections.Counter()
    for _, path in submissions:
        try:
            if path.is_dir():
                votes[json.loads(submission_root(path).joinpath("assignment.json").read_text())["assignment"]] += 1
            else:
                with zipfile.ZipFile(path) as z:
                    info = [n for n in z.namelist() if n.rsplit("/", 1)[-1] == "assignment.json"]
                    votes[json.loads(z.read(min(info, key=len)))["assignment"]] += 1
        except Exception:  # unreadable: it does not vote
            continue
    known = [a for a, _ in votes.most_common() if a in ASSIGNMENTS]
    if not known:
        raise GradingError("no submission names a known assignment; give it with --assignment")
    return known[0]


def grade_class(folder: os.PathLike, out: os.PathLike = "gradebook.csv", *, seed: Optional[int] = None,
                assignment: Optional[str] = None, fmt: str = "text", jobs: Optional[int] = None,
                time_limit: float = TIME_LIMIT, memory_limit: int = MEMORY_LIMIT) -> list:
    """Grade every submission in ``folder``; write the gradebook CSV ``out`` and the reports. Returns the reports."""
    reference_guard()
    folder, out = Path(folder), Path(out)
    submissions = find_submissions(folder)
    if not submissions:
        raise GradingError(f"{folder} is not a student copy (no assignment.json) and holds no submissions "
                           "(folders or .zip files)")
    assignment = assignment or class_assignment(submissions)
    exercises_of(assignment)
    seed = fresh_seed() if seed is None else int(seed)
    jobs = jobs or min(4, os.cpu_count() or 1)
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no state shared with this one
    reports = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(grade_submission, student, str(path), assignment, student_seed(seed, student),
                               time_limit, memory_limit): student for student, path in submissions}
        for future in concurrent.futures.as_completed(futures):
            student = futures[future]
            try:
                reports[student] = future.result()
            except Exception as error:  # the grading process itself died
                reports[student] = _failed_report(student, assignment, student_seed(seed, student),
                                                  f"the grader's process failed: {type(error).__name__}: {error}")
    ordered = [reports[s] for s, _ in submissions]
    write_gradebook(ordered, exercises_of(assignment), out)
    for report in ordered:
        write_reports(report, out.parent / "reports" / report["student"], fmt)
    return ordered


def write_gradebook(reports: list, exercises: list, path: Path) -> None:
    """student, each exercise's score, total, out of, error: one row per student."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *exercises, "total", "out_of", "error"])
        for r in reports:
            writer.writerow([r["student"], *(r["exercises"][e]["score"] for e in exercises), r["score"],
                             r["max_score"], r.get("error") or ""])


def write_reports(report: dict, folder: Path, fmt: str = "text") -> None:
    """report.txt and report.json (and Gradescope's results.json with fmt 'gradescope') in ``folder``."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "report.txt").write_text(format_report(report) + "\n")
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if fmt == "gradescope":
        (folder / "results.json").write_text(json.dumps(gradescope_results(report), indent=2) + "\n")


def gradescope_results(report: dict) -> dict:
    """Gradescope's autograder results: one test per exercise (name, score, max_score, output)."""
    tests = []
    for name, ex in report["exercises"].items():
        one = dict(report, exercises={name: ex}, score=ex["score"], max_score=ex["max_score"])
        text = format_report(one).splitlines()[2:-2]  # this exercise's lines only
        tests.append({"name": f"{name}: {ex['title']}", "score": ex["score"], "max_score": ex["max_score"],
                      "output": "\n".join(text), "visibility": "visible"})
    return {"score": report["score"], "execution_time": report.get("seconds", 0),
            "output": f"assignment {report['assignment']}, seed {report['seed']}"
                      + (f"\nnot graded: {report['error']}" if report.get("error") else ""),
            "tests": tests}
