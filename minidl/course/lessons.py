"""The step-through runner for the lessons in ``lessons/``.

    python -m minidl.course.lessons                  list the lessons
    python -m minidl.course.lessons run 4            run lesson 4 cell by cell, pausing
    python -m minidl.course.lessons run 4 --no-pause --fast
    python -m minidl.course.lessons copy my-lessons  copy the lessons into a folder of yours

(``python -m minidl.lessons`` is a shortcut to the same commands.)

A lesson is a Python file in the "percent" format that Jupyter (with jupytext)
and VS Code open as a notebook: cells start at lines ``# %%``; a cell headed
``# %% [markdown]`` is text, written as comment lines. The runner prints each
text cell, then each code cell's code and its output, and waits for Enter
before the next (``q`` then Enter quits; so does Ctrl-C, with one line).
All code cells share one namespace, as in a notebook. A cell that raises
stops the run with the error and the cell's number.

Lessons ask :func:`fast` whether to use tiny sizes (``--fast``, or the
environment variable ``MINIDL_FAST=1`` when a lesson is opened in Jupyter;
CI runs every lesson that way), save their pictures into :func:`output_dir`
and :func:`record` the numbers they claim, which the lesson tests check.

Where the lessons are: ``lessons/`` at the top of a source checkout is where
they are written and read. The package ships the same files as package data,
``minidl/course/lesson_files`` (in a checkout a link to ``../../lessons``), so that
after a plain ``pip install minidl`` the runner finds them too; ``copy`` puts
a copy you can edit and open in Jupyter wherever you like. (A Windows
checkout without symbolic links holds the link as a one-line text file: the
runner still reads ``lessons/``, but build the package from a checkout with
links, or the wheel ships no lessons.)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

FAST_ENV = "MINIDL_FAST"
OUT_ENV = "MINIDL_LESSON_OUT"
DIR_ENV = "MINIDL_LESSONS"


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    source: str  # code, or the text without its leading "# "
    line: int  # where the cell starts in the file (1-based)


def fast() -> bool:
    """True when the lesson should use tiny sizes: ``--fast``, or ``MINIDL_FAST`` set to anything but 0."""
    return os.environ.get(FAST_ENV, "") not in ("", "0")


def output_dir(lesson: Optional[str] = None) -> Path:
    """Where lessons save pictures: ``$MINIDL_LESSON_OUT``, else ``output/`` beside the lessons.

    Lessons read from the installed package write to ``lesson-output/`` in the
    current folder instead (an installed package is no place for pictures).
    """
    folder = lessons_dir()
    if os.environ.get(OUT_ENV):
        base = Path(os.environ[OUT_ENV])
    elif _inside_package(folder):
        base = Path.cwd() / "lesson-output"
    else:
        base = folder / "output"
    path = base / lesson if lesson else base
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(lesson: str, **numbers: float) -> None:
    """Note measured numbers in ``output_dir(lesson)/results.json`` (merged with earlier ones).

    The lesson tests read this file and assert the effects the text claims.
    """
    path = output_dir(lesson) / "results.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved.update({key: float(value) for key, value in numbers.items()})
    path.write_text(json.dumps(saved, indent=1, sort_keys=True))


def show(path: os.PathLike) -> None:
    """Display a saved picture inside a notebook; elsewhere just say where it is."""
    try:
        from IPython import get_ipython  # type: ignore
        from IPython.display import Image, display  # type: ignore

        if get_ipython() is not None:
            display(Image(filename=str(path)))
            return
    except ImportError:
        pass
    print(f"[picture saved: {path}]")


_PACKAGE = Path(__file__).resolve().parent.parent  # minidl/
SHIPPED = _PACKAGE / "course" / "lesson_files"  # package data; in a checkout, a link to ../../lessons


def lessons_dir() -> Path:
    """Where the lessons are read from, the first that exists of:

    ``$MINIDL_LESSONS``; ``lessons/`` of the source checkout this minidl comes
    from; the copy shipped inside the package (``minidl/course/lesson_files``).
    """
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV])
    checkout = _PACKAGE.parent / "lessons"
    if checkout.is_dir() and (_PACKAGE.parent / "setup.cfg").is_file():
        return checkout
    return SHIPPED


def _inside_package(folder: Path) -> bool:
    """True for the copy inside an installed package (a checkout's link resolves outside it)."""
    return _PACKAGE in folder.resolve().parents


def find_lessons(folder: Optional[Path] = None) -> list[Path]:
    """The numbered lesson files, in order (``01_tensors.py``, ...)."""
    folder = folder or lessons_dir()
    return sorted(p for p in folder.glob("[0-9][0-9]_*.py"))


def lesson_title(path: Path) -> str:
    """The first markdown heading of a lesson, else its file name."""
    for cell in parse_cells(path.read_text(encoding="utf-8")):
        if cell.kind == "markdown":
            for line in cell.source.splitlines():
                if line.strip().startswith("#"):
                    return line.strip().lstrip("#").strip()
    return path.stem


_CELL = re.compile(r"^# %%(.*)$")


def parse_cells(text: str) -> list[Cell]:
    """Split percent-format text into cells (text before the first marker is a code cell)."""
    cells: list[Cell] = []
    kind, lines, start = "code", [], 1
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CELL.match(line)
        if match:
            cells.append(_make_cell(kind, lines, start))
            kind = "markdown" if "[markdown]" in match.group(1) else "code"
            lines, start = [], number
        else:
            lines.append(line)
    cells.append(_make_cell(kind, lines, start))
    return [c for c in cells if c.source.strip()]


def _make_cell(kind: str, lines: list[str], start: int) -> Cell:
    if kind == "markdown":
        lines = [re.sub(r"^# ?", "", line) for line in lines]
    return Cell(kind, "\n".join(lines).strip("\n"), start)


class LessonError(RuntimeError):
    """A cell raised: carries the cell's number."""


class LessonStopped(Exception):
    """The reader stopped the lesson (``q`` at the prompt, or Ctrl-C); says where."""


PROMPT = "\n[Enter: next cell, q: quit] "


def run_lesson(path: Path, pause: bool = True, out=sys.stdout) -> None:
    """Run a lesson cell by cell in one namespace.

    Raises LessonError when a cell fails, LessonStopped when the reader quits
    (``q`` at the prompt) or presses Ctrl-C.
    """
    cells = parse_cells(path.read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__", "__file__": str(path)}
    bar = "─" * 72
    for number, cell in enumerate(cells, start=1):
        where = f"{path.name}, cell {number} of {len(cells)} (line {cell.line})"
        try:
            if cell.kind == "markdown":
                print(f"\n{bar}\n{cell.source}\n", file=out)
                continue
            print(f"\n── cell {number} (line {cell.line}) ──\n{_indent(cell.source)}\n── output ──", file=out)
            out.flush()
            _run_cell(cell, f"{path.name}, cell {number}", namespace, where)
            sys.stdout.flush()
            if pause and number < len(cells):
                pause = _ask_to_go_on(where)
        except KeyboardInterrupt:
            raise LessonStopped(f"stopped with Ctrl-C in {where}") from None


def _run_cell(cell: Cell, filename: str, namespace: dict, where: str) -> None:
    """Execute one code cell in the lesson's namespace; a failure becomes a LessonError."""
    try:
        code = compile(cell.source, filename, "exec")
        exec(code, namespace)  # noqa: S102 - running the lesson is the point
    except Exception as error:
        traceback.print_exc()
        raise LessonError(f"{where} failed: {error!r}") from error


def _ask_to_go_on(where: str) -> bool:
    """Wait for Enter; ``q`` quits. Returns whether to keep pausing (False without a terminal)."""
    try:
        answer = input(PROMPT)
    except EOFError:  # no terminal (CI, a pipe): go on without pausing
        return False
    if answer.strip().lower() in ("q", "quit", "exit"):
        raise LessonStopped(f"quit after {where}")
    return True


def _indent(code: str) -> str:
    return "\n".join("  │ " + line for line in code.splitlines())


def copy_lessons(destination: Path) -> list[Path]:
    """Copy every lesson into ``destination`` (created); refuses to overwrite a file there."""
    lessons = find_lessons()
    if not lessons:
        raise FileNotFoundError(f"no lessons found in {lessons_dir()}")
    clashes = [p.name for p in lessons if (destination / p.name).exists()]
    if clashes:
        raise FileExistsError(f"{destination} already holds {', '.join(clashes[:3])}"
                              f"{' ...' if len(clashes) > 3 else ''}; choose an empty folder")
    destination.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(p, destination / p.name)) for p in lessons]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minidl.course.lessons", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", help="read the lessons from this folder (default: see `lessons_dir`)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="list the lessons (the default)")
    run = sub.add_parser("run", help="run a lesson cell by cell")
    run.add_argument("lesson", help="its number (4) or 'all'")
    run.add_argument("--no-pause", action="store_true", help="do not wait for Enter between cells")
    run.add_argument("--fast", action="store_true", help="tiny sizes, for a quick check (same as MINIDL_FAST=1)")
    copy = sub.add_parser("copy", help="copy the lessons into a folder, to edit them or open them in Jupyter")
    copy.add_argument("folder", help="where to put them (created; existing lessons there are not overwritten)")
    args = parser.parse_args(argv)
    if args.dir:
        os.environ[DIR_ENV] = args.dir

    if args.command == "copy":
        try:
            copied = copy_lessons(Path(args.folder))
        except (FileNotFoundError, FileExistsError) as error:
            print(f"python -m minidl.course.lessons copy: {error}", file=sys.stderr)
            return 1
        print(f"copied {len(copied)} lessons into {args.folder}; run one with "
              f"python -m minidl.course.lessons --dir {args.folder} run 1")
        return 0

    lessons = find_lessons()
    if not lessons:
        print(f"no lessons found in {lessons_dir()}", file=sys.stderr)
        return 1
    if args.command in (None, "list"):
        for path in lessons:
            print(f"{int(path.name[:2]):3d}  {lesson_title(path)}   ({path.name})")
        return 0

    by_number = {int(p.name[:2]): p for p in lessons}
    if args.lesson == "all":
        chosen = list(by_number.values())
    elif args.lesson.isdigit() and int(args.lesson) in by_number:
        chosen = [by_number[int(args.lesson)]]
    else:
        print(f"unknown lesson {args.lesson!r}; choose one of {sorted(by_number)} or 'all'", file=sys.stderr)
        return 2
    if args.fast:
        os.environ[FAST_ENV] = "1"
    for path in chosen:
        began = time.perf_counter()
        try:
            run_lesson(path, pause=not args.no_pause)
        except LessonError as error:
            print(f"\nLESSON FAILED: {error}", file=sys.stderr)
            return 1
        except LessonStopped as stop:
            print(f"\n{stop}.")
            return 130 if "Ctrl-C" in str(stop) else 0
        except KeyboardInterrupt:  # between cells' output and the next lesson
            print(f"\nstopped with Ctrl-C after {path.name}.")
            return 130
        print(f"\n{path.name}: done in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
