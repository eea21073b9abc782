"""python -m minidl.assignments {list, make, grade}."""
import argparse
import json
import sys

from .exercises import ASSIGNMENTS, EXERCISES
from .grader import format_report, grade, make


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minidl.assignments",
                                     description="Make student copies of minidl and grade them.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the assignments and their exercises")
    p_make = sub.add_parser("make", help="write a student copy")
    p_make.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    p_make.add_argument("--out", required=True, help="an empty folder for the copy")
    p_grade = sub.add_parser("grade", help="grade a student copy")
    p_grade.add_argument("folder")
    p_grade.add_argument("--seed", type=int, default=None, help="fix the random inputs (default: fresh)")
    p_grade.add_argument("--json", action="store_true", help="print the JSON report instead of text")
    args = parser.parse_args(argv)

    if args.command == "list":
        for name, exercises in ASSIGNMENTS.items():
            print(name)
            for e in exercises:
                print(f"  {e:<18} {EXERCISES[e].file:<24} {EXERCISES[e].title}")
        return 0
    if args.command == "make":
        out = make(args.assignment, args.out)
        print(f"student copy of {args.assignment!r} written to {out} (see {out / 'README.md'})")
        return 0
    report = grade(args.folder, seed=args.seed)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
