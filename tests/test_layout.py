"""The map of minidl's modules: imports run one way, from the course down to the engine.

Read from the source with ``ast`` (nothing is imported to find out):

* nothing outside ``minidl/course/`` imports the course, except the two
  command shortcuts (``python -m minidl.lessons``, ``python -m minidl.assignments``),
  and they only under ``if __name__ == "__main__":``;
* the engine, ``autograd.py``, and everything it imports, import nothing from
  the ops (``functional/``), the layers (``nn/``), training (``train/``) or the course;
* between the places of the map (each subpackage or top-level module: engine
  files, ops, layers, optimizers, training, data, augmentation, course, ...)
  imports run one way: no loop.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import minidl

PACKAGE = Path(minidl.__file__).resolve().parent
SHORTCUTS = {"minidl.lessons": "minidl.course.lessons", "minidl.assignments": "minidl.course.assignments"}


def module_name(path: Path) -> str:
    """minidl/functional/conv.py -> 'minidl.functional.conv'; minidl/nn/__init__.py -> 'minidl.nn'."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# (the lessons shipped in minidl/course/lesson_files, 01_tensors_and_graphs.py ..., are scripts, not modules)
MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if all(part.isidentifier() for part in module_name(p).split("."))}


def imports(path: Path, tree: ast.AST = None) -> list:
    """Every minidl module that ``path`` (or the part ``tree`` of it) imports, relative imports resolved.

    ``from .backend import sum_to_shape`` names minidl.backend; ``from . import nn`` names minidl.nn.
    """
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree if tree is not None else ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
    return [m for m in found if m == "minidl" or m.startswith("minidl.")]


def inside(module: str, place: str) -> bool:
    return module == place or module.startswith(place + ".")


def test_the_map_is_read_from_every_module():
    assert {"minidl.autograd", "minidl.course", "minidl.course.lessons", "minidl.course.assignments.grader",
            "minidl.functional.conv", "minidl.nn", "minidl.train"} <= set(MODULES)
    assert "minidl.backend" in imports(MODULES["minidl.autograd"])  # relative imports are resolved
    assert "minidl.functional" in imports(MODULES["minidl"])


def test_nothing_outside_the_course_imports_it():
    for name, path in MODULES.items():
        if inside(name, "minidl.course") or name in SHORTCUTS:
            continue
        wrong = [m for m in imports(path) if inside(m, "minidl.course")]
        assert not wrong, f"{path.relative_to(PACKAGE.parent)} imports {wrong}: the library never imports the course"


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
            and [type(op) for op in node.test.ops] == [ast.Eq]
            and [getattr(c, "value", None) for c in node.test.comparators] == ["__main__"])


@pytest.mark.parametrize("shortcut", sorted(SHORTCUTS))
def test_a_shortcut_is_only_a_docstring_and_a_main_guard(shortcut):
    """minidl/lessons.py and minidl/assignments.py hold no course code: importing them imports nothing."""
    path = MODULES[shortcut]
    body = ast.parse(path.read_text(encoding="utf-8")).body
    assert len(body) == 2 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), path
    assert "Only a shortcut" in body[0].value.value and _is_main_guard(body[1]), path
    assert any(inside(m, SHORTCUTS[shortcut]) for m in imports(path, body[1]))


def test_the_engine_imports_nothing_from_the_ops_layers_training_or_course():
    """autograd.py and what it imports, followed down: backend, grad_mode, ..., never functional/ and above."""
    above = ("minidl.functional", "minidl.nn", "minidl.train", "minidl.course")
    seen, todo = set(), ["minidl.autograd"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for m in imports(MODULES[name]):
            assert not any(inside(m, a) for a in above), f"{name} (imported by the engine) imports {m}"
            if m in MODULES and m != "minidl":
                todo.append(m)
    assert "minidl.backend" in seen


def place(module: str) -> str:
    """The place of the map a module belongs to: 'minidl.functional.fast.pool' -> 'functional'."""
    return module.split(".")[1]


def test_between_places_imports_run_one_way():
    """The graph of places (the package root, minidl/__init__.py, gathers the public names and is left
    out) has no loop: e.g. functional/ imports the engine, nn/ imports functional/, never the other way."""
    edges = {}
    for name, path in MODULES.items():
        if name == "minidl":
            continue
        for m in imports(path):
            if m != "minidl" and place(m) != place(name):
                edges.setdefault(place(name), {}).setdefault(place(m), f"{name} imports {m}")
    assert "autograd" in edges["functional"] and "functional" in edges["nn"] and "course" in edges["lessons"]

    def loop_from(start, path):
        for nxt in edges.get(path[-1], {}):
            if nxt == start:
                return path + [nxt]
            if nxt not in path:
                found = loop_from(start, path + [nxt])
                if found:
                    return found
        return None

    for start in edges:
        loop = loop_from(start, [start])
        assert loop is None, "imports run in a loop: " + "; ".join(
            edges[a][b] for a, b in zip(loop, loop[1:]))


def _run(*args, **kw):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, **kw)


def test_importing_minidl_and_the_shortcuts_loads_no_course_module():
    code = ("import sys, minidl, minidl.lessons, minidl.assignments\n"
            "print(sorted(m for m in sys.modules if m.startswith('minidl.course')))")
    out = _run("-c", code)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("shortcut", sorted(SHORTCUTS))
def test_the_old_command_runs_the_course_command(shortcut):
    """`python -m minidl.lessons list` prints what `python -m minidl.course.lessons list` prints (and so for
    the assignments); the exit status comes through too."""
    old, new = _run("-m", shortcut, "list"), _run("-m", SHORTCUTS[shortcut], "list")
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    assert old.stdout == new.stdout and len(new.stdout.splitlines()) >= 4
    assert _run("-m", shortcut, "no-such-command").returncode == 2
