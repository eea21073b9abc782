"""Solution markers: how a student copy is cut out of minidl's own source.

In minidl's source, the body of an exercise sits between two marker lines,
and nothing else marks it::

    def backward(self, gy):
        # BEGIN SOLUTION matmul_backward
        ...the reference code...
        # END SOLUTION

The hint a student gets is not in the library (a reader of the reference
code should not find a TODO above finished code): it is the exercise's
``hint`` in :mod:`minidl.course.assignments.exercises`, passed here as
``hints`` (name -> text). In the student copy the whole block becomes the
hint and a ``raise NotImplementedError``, at the block's indentation::

    def backward(self, gy):
        # TODO: ga = gy @ b^T and gb = a^T @ gy (mind the 1-D cases)
        raise NotImplementedError("exercise matmul_backward: write this part")
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION (?P<name>\w+)\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
TODO = re.compile(r"^[ \t]*# TODO")


class MarkerError(ValueError):
    """Unbalanced or unknown solution markers."""


@dataclass
class Block:
    name: str
    start: int  # line index of BEGIN
    end: int  # line index of END
    indent: str
    hint: list  # the "# TODO" lines inside: in a student copy, the hint it was given (none in the library)


def find_blocks(text: str, filename: str = "<source>") -> dict:
    """name -> Block for every marked solution in ``text``."""
    blocks, current = {}, None
    for i, line in enumerate(text.splitlines()):
        begin = BEGIN.match(line)
        if begin:
            if current is not None:
                raise MarkerError(f"{filename}:{i + 1}: BEGIN SOLUTION {begin['name']} inside {current.name}")
            current = Block(begin["name"], i, -1, begin["indent"], [])
        elif END.match(line):
            if current is None:
                raise MarkerError(f"{filename}:{i + 1}: END SOLUTION without BEGIN")
            current.end = i
            if current.name in blocks:
                raise MarkerError(f"{filename}: solution {current.name} is marked twice")
            blocks[current.name] = current
            current = None
        elif current is not None and TODO.match(line):
            current.hint.append(line.strip())
    if current is not None:
        raise MarkerError(f"{filename}: BEGIN SOLUTION {current.name} is never closed")
    return blocks


def hint_line(name: str, hints: Optional[dict] = None) -> str:
    """The comment a student copy shows where exercise ``name`` was cut: ``# TODO: <its hint>``."""
    return f"# TODO: {(hints or {}).get(name) or f'write {name}'}"


def strip_solutions(text: str, names: set, filename: str = "<source>", hints: Optional[dict] = None) -> str:
    """Replace the blocks named in ``names`` by their hint (from ``hints``) and NotImplementedError."""
    lines = text.splitlines()
    blocks = find_blocks(text, filename)
    missing = set(names) - set(blocks)
    if missing:
        raise MarkerError(f"{filename}: no solution markers for {sorted(missing)}")
    for block in sorted((blocks[n] for n in names), key=lambda b: b.start, reverse=True):
        replacement = [block.indent + hint_line(block.name, hints)]
        replacement.append(f'{block.indent}raise NotImplementedError("exercise {block.name}: write this part")')
        lines[block.start : block.end + 1] = replacement
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def remove_markers(text: str) -> str:
    """Drop the marker lines themselves, keeping the solutions (for tidy reference copies)."""
    return "\n".join(line for line in text.splitlines() if not (BEGIN.match(line) or END.match(line))) + (
        "\n" if text.endswith("\n") else ""
    )


def solution_body(text: str, name: str, filename: str = "<source>") -> list:
    """The lines strictly between ``# BEGIN SOLUTION name`` and ``# END SOLUTION``."""
    blocks = find_blocks(text, filename)
    if name not in blocks:
        raise MarkerError(f"{filename}: the lines '# BEGIN SOLUTION {name}' and '# END SOLUTION' are missing; "
                          "write your code between them and keep both lines")
    block = blocks[name]
    return text.splitlines()[block.start + 1 : block.end]


def splice(reference: str, student: str, name: str, filename: str = "<source>") -> str:
    """The reference text with the body of block ``name`` taken from the student's text.

    Everything outside that one block stays the reference's, so an exercise is
    graded with the reference for everything else (a mistake costs points once).
    """
    body = solution_body(student, name, filename)
    lines = reference.splitlines()
    block = find_blocks(reference, filename)[name]
    lines[block.start + 1 : block.end] = body
    return "\n".join(lines) + "\n"


def render_copy(text: str, graded: set, unreleased: dict, filename: str = "<source>",
                hints: Optional[dict] = None) -> str:
    """A source file as a student copy has it.

    * ``graded`` blocks (this assignment's): the hint (``hints[name]``) and
      ``NotImplementedError`` between the kept marker lines, where the student
      writes the answer;
    * ``unreleased`` blocks (name -> the later assignment that brings them):
      a ``NotImplementedError`` naming that assignment, no hint, no markers;
    * every other block (an earlier assignment's, released): the solution,
      marker lines dropped.
    """
    lines = text.splitlines()
    blocks = find_blocks(text, filename)
    missing = (set(graded) | set(unreleased)) - set(blocks)
    if missing:
        raise MarkerError(f"{filename}: no solution markers for {sorted(missing)}")
    for block in sorted(blocks.values(), key=lambda b: b.start, reverse=True):
        pad = block.indent
        if block.name in graded:
            new = [lines[block.start], pad + hint_line(block.name, hints)]
            new += [f'{pad}raise NotImplementedError("exercise {block.name}: write this part")', lines[block.end]]
        elif block.name in unreleased:
            new = [f'{pad}raise NotImplementedError("{block.name} comes with assignment '
                   f'{unreleased[block.name]!r}, which is not released yet")']
        else:
            new = lines[block.start + 1 : block.end]
        lines[block.start : block.end + 1] = new
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
