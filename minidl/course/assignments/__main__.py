"""python -m minidl.course.assignments {list, make, grade, check}."""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from .classroom import class_assignment, gradescope_results, grade_class, grade_submission
from .copies import PACKAGE, assignment_order, make
from .exercises import ASSIGNMENTS, EXERCISES, case_rng
from .grader import (MEMORY_LIMIT, TIME_LIMIT, GradingError, check_locally, format_report, fresh_seed, grade,
                     read_assignment)

PROG = "python -m minidl.course.assignments"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Make student copies of minidl and grade them.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the assignments (in release order) and their exercises")
    p_make = sub.add_parser("make", help="write a student copy")
    p_make.add_argument("assignment", choices=list(ASSIGNMENTS))
    p_make.add_argument("--out", required=True, help="an empty folder for the copy")
    p_make.add_argument("--order", default=",".join(ASSIGNMENTS),
                        help="the release order: earlier assignments' solutions are kept, later ones' cut "
                             "(default %(default)s)")
    p_grade = sub.add_parser("grade", help="grade a student copy, or a folder of them (folders or .zip files)")
    p_grade.add_argument("path")
    p_grade.add_argument("--out", default=None,
                         help="one copy: also write the report here; a class: the gradebook CSV "
                              "(default gradebook.csv), reports/ beside it")
    p_grade.add_argument("--format", choices=["text", "json", "gradescope"], default="text",
                         help="the report's format (gradescope: Gradescope's results.json; default text)")
    p_grade.add_argument("--json", action="store_true", help="the same as --format json")
    p_grade.add_argument("--seed", type=int, default=None, help="fix the random inputs (default: fresh)")
    p_grade.add_argument("--assignment", choices=list(ASSIGNMENTS), default=None,
                         help="grade as this assignment (default: the one the copies name)")
    p_grade.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: up to 4)")
    p_grade.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds per exercise (default %(default)g)")
    p_grade.add_argument("--memory-limit", type=int, default=MEMORY_LIMIT // 2**20, help="MiB of memory per exercise (default %(default)s)")
    p_check = sub.add_parser("check", help="replay an exercise's cases on the minidl of this folder (no reference)")
    p_check.add_argument("exercise", choices=sorted(EXERCISES))
    p_check.add_argument("--seed", type=int, default=0, help="the seed the report gives (default 0)")
    p_check.add_argument("--case", type=int, default=None, help="only this case (default: all)")
    return parser


def _isolated_rerun(argv: list) -> None:
    """``grade`` started inside a student copy would grade against the copy: rerun it isolated (python -I),
    so that the installed (instructor's) minidl is the reference."""
    if (PACKAGE.parent / "assignment.json").exists() and not sys.flags.isolated:
        os.execv(sys.executable, [sys.executable, "-I", "-m", "minidl.course.assignments", *argv])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    try:
        return _run(args, argv)
    except (GradingError, FileExistsError, FileNotFoundError, NotADirectoryError, ValueError) as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2


def _run(args, argv: list) -> int:
    if args.command == "list":
        for name, exercises in ASSIGNMENTS.items():
            print(name)
            for e in exercises:
                print(f"  {e:<20} {EXERCISES[e].file:<24} {EXERCISES[e].title}")
        return 0
    if args.command == "make":
        out = make(args.assignment, args.out, assignment_order([a for a in args.order.split(",") if a]))
        print(f"student copy of {args.assignment!r} written to {out} (see {out / 'README.md'})")
        return 0
    if args.command == "check":
        return _check(args)
    return _grade(args, argv)


def _grade(args, argv: list) -> int:
    """One copy (a folder with assignment.json, or a zip of one), or a class (a folder of them)."""
    _isolated_rerun(argv)
    if args.json:
        args.format = "json"
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if not args.time_limit > 0 or args.memory_limit < 256:
        raise ValueError(f"--time-limit must be > 0 and --memory-limit at least 256 MiB, got "
                         f"{args.time_limit} and {args.memory_limit}")
    path = Path(args.path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    limits = dict(time_limit=args.time_limit, memory_limit=args.memory_limit * 2**20)
    if (path / "assignment.json").exists() or path.suffix.lower() == ".zip":
        return _grade_one(args, path, limits)
    if path.is_dir() and not (path / "minidl").exists() and \
            any(p.is_dir() or p.suffix.lower() == ".zip" for p in path.iterdir()):
        out = Path(args.out or "gradebook.csv")
        reports = grade_class(path, out, seed=args.seed, assignment=args.assignment, fmt=args.format,
                              jobs=args.jobs, **limits)
        for r in reports:
            error = f"  {r['error']}" if r.get("error") else ""
            print(f"{r['student']:<24} {r['score']:>4}/{r['max_score']:<4}{error}")
        print(f"gradebook written to {out}, reports to {out.parent / 'reports'}")
        return 0
    raise GradingError(f"{path} is not a student copy (no assignment.json) nor a folder of submissions "
                       "(folders or .zip files)")


def _grade_one(args, path: Path, limits: dict) -> int:
    if path.is_dir():
        report = grade(path, args.seed, assignment=args.assignment or read_assignment(path.resolve()), **limits)
    else:
        seed = fresh_seed() if args.seed is None else args.seed
        report = grade_submission(path.stem, str(path), args.assignment or class_assignment([(path.stem, path)]),
                                  seed, **limits)
    if args.format == "gradescope":
        text = json.dumps(gradescope_results(report), indent=2)
    elif args.format == "json":
        text = json.dumps(report, indent=2)
    else:
        text = format_report(report)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


def _check(args) -> int:
    """Replay cases on the minidl imported here (in a student's folder: theirs), with full tracebacks."""
    import minidl

    print(f"{args.exercise} with seed {args.seed} on {Path(minidl.__file__).parent}")
    cases = EXERCISES[args.exercise].cases(case_rng(args.seed, args.exercise))
    if args.case is not None and not 0 <= args.case < len(cases):
        raise ValueError(f"--case must be in 0..{len(cases) - 1} for {args.exercise}, got {args.case}")
    indices = range(len(cases)) if args.case is None else [args.case]
    failed = 0
    for i in indices:
        try:
            (case, problems), = check_locally(minidl, args.exercise, args.seed, i)
        except Exception:  # the student's code: show all of it
            print(f"case {i} ({cases[i].label}): your code raised:\n{traceback.format_exc()}")
            failed += 1
            continue
        print(f"case {i} ({case.label}): " + ("; ".join(problems) if problems else "runs; the finite-difference "
                                               "check and the exercise's rules pass"))
        failed += bool(problems)
    print("(the grader also compares every output and gradient with the reference)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
