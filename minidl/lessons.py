"""The step-through runner for the lessons in ``lessons/``.

    python -m minidl.lessons                  list the lessons
    python -m minidl.lessons run 4            run lesson 4 cell by cell, pausing
    python -m minidl.lessons run 4 --no-pause --fast

A lesson is a Python file in the "percent" format that Jupyter (with jupytext)
and VS Code open as a notebook: cells start at lines ``# %%``; a cell headed
``# %% [markdown]`` is text, written as comment lines. The runner prints each
text cell, then each code cell's code and its output, and waits for Enter
before the next. All code cells share one namespace, as in a notebook. A cell
that raises stops the run with the error and the cell's number.

Lessons ask :func:`fast` whether to use tiny sizes (``--fast``; CI runs every
lesson that way) and save their pictures into :func:`output_dir`.
"""
from __future__ import annotations

import argparse
import os
import re
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
    """True when the lesson should use tiny sizes (``--fast``)."""
    return os.environ.get(FAST_ENV, "") not in ("", "0")


def output_dir(lesson: Optional[str] = None) -> Path:
    """Where lessons save pictures: ``$MINIDL_LESSON_OUT`` or ``lessons/output``."""
    base = Path(os.environ.get(OUT_ENV) or lessons_dir() / "output")
    path = base / lesson if lesson else base
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def lessons_dir() -> Path:
    """``$MINIDL_LESSONS``, else ``lessons/`` beside the package (a source checkout)."""
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV])
    beside = Path(__file__).resolve().parent.parent / "lessons"
    return beside if beside.is_dir() else Path.cwd() / "lessons"


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


def run_lesson(path: Path, pause: bool = True, out=sys.stdout) -> None:
    """Run a lesson cell by cell in one namespace; raise LessonError on a failing cell."""
    cells = parse_cells(path.read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__", "__file__": str(path)}
    bar = "─" * 72
    for number, cell in enumerate(cells, start=1):
        if cell.kind == "markdown":
            print(f"\n{bar}\n{cell.source}\n", file=out)
            continue
        print(f"\n── cell {number} (line {cell.line}) ──\n{_indent(cell.source)}\n── output ──", file=out)
        out.flush()
        try:
            code = compile(cell.source, f"{path.name}, cell {number}", "exec")
            exec(code, namespace)  # noqa: S102 - running the lesson is the point
        except Exception as error:
            traceback.print_exc()
            raise LessonError(f"{path.name}: cell {number} (line {cell.line}) failed: {error!r}") from error
        sys.stdout.flush()
        if pause and number < len(cells):
            try:
                input("\n[Enter for the next cell] ")
            except EOFError:  # no terminal: go on without pausing
                pause = False


def _indent(code: str) -> str:
    return "\n".join("  │ " + line for line in code.splitlines())


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minidl.lessons", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="list the lessons (the default)")
    run = sub.add_parser("run", help="run a lesson cell by cell")
    run.add_argument("lesson", help="its number (4) or 'all'")
    run.add_argument("--no-pause", action="store_true", help="do not wait for Enter between cells")
    run.add_argument("--fast", action="store_true", help="tiny sizes, for a quick check")
    args = parser.parse_args(argv)

    lessons = find_lessons()
    if args.command in (None, "list"):
        if not lessons:
            print(f"no lessons found in {lessons_dir()}")
            return 1
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
        print(f"\n{path.name}: done in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
