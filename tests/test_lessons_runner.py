"""The step-through runner: parsing cells, running them, stopping on errors, quitting; shipping the lessons."""
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minidl.course import lessons

LESSON = '''# %% [markdown]
# # Adding numbers
# What to look at: the sum.

# %%
a = 1 + 1
print("a is", a)

# %%
print("fast" if FAST else "slow")
'''


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parse_cells_splits_markdown_and_code():
    cells = lessons.parse_cells(LESSON)
    assert [c.kind for c in cells] == ["markdown", "code", "code"]
    assert cells[0].source.startswith("# Adding numbers")
    assert cells[1].source == 'a = 1 + 1\nprint("a is", a)'
    assert cells[1].line == 5


def test_run_shares_one_namespace_and_prints_code_and_output(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, "01_add.py", LESSON.replace("FAST", "a == 2"))
    out = io.StringIO()
    lessons.run_lesson(path, pause=False, out=out)
    printed = out.getvalue()
    assert "Adding numbers" in printed and "── cell 2" in printed and "a = 1 + 1" in printed
    assert "a is 2" in capsys.readouterr().out


def test_failing_cell_names_its_number(tmp_path):
    path = write(tmp_path, "02_bad.py", "# %%\nx = 1\n# %%\nraise ValueError('boom')\n")
    with pytest.raises(lessons.LessonError, match=r"02_bad.py, cell 2 of 2 \(line 3\) failed: ValueError\('boom'\)"):
        lessons.run_lesson(path, pause=False, out=io.StringIO())


def test_pause_waits_for_enter_and_survives_no_stdin(tmp_path, monkeypatch):
    path = write(tmp_path, "03_p.py", "# %%\nx = 1\n# %%\ny = 2\n# %%\nz = 3\n")
    answers = []

    def fake_input(prompt):
        answers.append(prompt)
        raise EOFError  # no terminal, as in CI

    monkeypatch.setattr("builtins.input", fake_input)
    lessons.run_lesson(path, pause=True, out=io.StringIO())
    assert len(answers) == 1  # asked once, then went on without pausing


def test_main_lists_and_runs_with_fast(tmp_path, monkeypatch, capsys):
    write(tmp_path, "01_add.py", LESSON.replace(
        "print(\"fast\" if FAST else \"slow\")",
        "from minidl.course.lessons import fast\nprint('fast' if fast() else 'slow')"))
    monkeypatch.setenv(lessons.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(lessons.FAST_ENV, "0")  # restored (unset) after the test
    assert lessons.main([]) == 0
    assert "Adding numbers" in capsys.readouterr().out
    assert lessons.main(["run", "1", "--no-pause", "--fast"]) == 0
    assert "fast" in capsys.readouterr().out
    assert lessons.main(["run", "9", "--no-pause"]) == 2


def test_q_at_the_prompt_quits_with_one_line(tmp_path, monkeypatch, capsys):
    write(tmp_path, "01_q.py", "# %%\nprint('first')\n# %%\nprint('second')\n")
    monkeypatch.setenv(lessons.DIR_ENV, str(tmp_path))
    monkeypatch.setattr("builtins.input", lambda prompt: "q")
    assert lessons.main(["run", "1"]) == 0
    out = capsys.readouterr().out
    assert "first" in out and "second" not in out
    assert out.strip().splitlines()[-1] == "quit after 01_q.py, cell 1 of 2 (line 1)."


def test_ctrl_c_in_a_cell_ends_with_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    write(tmp_path, "01_c.py", "# %%\nx = 1\n# %%\nraise KeyboardInterrupt\n# %%\nprint('never')\n")
    monkeypatch.setenv(lessons.DIR_ENV, str(tmp_path))
    assert lessons.main(["run", "1", "--no-pause"]) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "never" not in captured.out
    assert captured.out.strip().splitlines()[-1] == "stopped with Ctrl-C in 01_c.py, cell 2 of 3 (line 3)."


def test_ctrl_c_at_the_prompt_ends_with_one_line(tmp_path, monkeypatch, capsys):
    write(tmp_path, "01_p.py", "# %%\nx = 1\n# %%\ny = 2\n")

    def interrupted(prompt):
        raise KeyboardInterrupt

    monkeypatch.setenv(lessons.DIR_ENV, str(tmp_path))
    monkeypatch.setattr("builtins.input", interrupted)
    assert lessons.main(["run", "1"]) == 130
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("stopped with Ctrl-C in 01_p.py, cell 1")


def test_copy_puts_every_lesson_in_a_folder_and_never_overwrites(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(lessons.DIR_ENV, "")  # --dir sets it; monkeypatch puts it back after the test
    target = tmp_path / "mine"
    assert lessons.main(["copy", str(target)]) == 0
    names = sorted(p.name for p in target.glob("*.py"))
    assert names == [p.name for p in lessons.find_lessons()] and len(names) >= 13
    assert lessons.main(["--dir", str(target), "list"]) == 0
    assert "Lesson 1:" in capsys.readouterr().out
    (target / names[0]).write_text("# my notes\n")
    assert lessons.main(["copy", str(target)]) == 1
    assert "already holds" in capsys.readouterr().err
    assert (target / names[0]).read_text() == "# my notes\n"


def test_a_folder_without_lessons_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(lessons.DIR_ENV, "")  # --dir sets it; monkeypatch puts it back after the test
    for command in ([], ["run", "1"]):
        assert lessons.main(["--dir", str(tmp_path), *command]) == 1
        assert capsys.readouterr().err.strip() == f"no lessons found in {tmp_path}"


def test_the_package_ships_the_checkouts_lessons():
    """minidl/course/lesson_files (package data) is the lessons/ folder itself, not a copy that could drift."""
    shipped = sorted(p.name for p in lessons.SHIPPED.glob("[0-9][0-9]_*.py"))
    assert shipped == [p.name for p in lessons.find_lessons()]
    assert lessons.SHIPPED.resolve() == (lessons.SHIPPED.parents[2] / "lessons").resolve()


def test_no_lesson_imports_from_the_repository_outside_the_package():
    """An installed lesson has no benchmarks/ beside it: its code must not reach for one."""
    for path in lessons.find_lessons():
        for cell in lessons.parse_cells(path.read_text(encoding="utf-8")):
            if cell.kind == "code":
                assert "benchmarks" not in cell.source and "sys.path" not in cell.source, (path.name, cell.line)


def _copy_source(root, into):
    """The files `pip install .` needs, copied (links kept) so the build leaves the checkout alone."""
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(root / name, into / name)
    shutil.copytree(root / "minidl", into / "minidl", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(root / "lessons", into / "lessons", ignore=shutil.ignore_patterns("output", "__pycache__"))


def test_a_plain_install_finds_and_runs_the_lessons(tmp_path):
    """`pip install --no-deps --target T .`, then the runner from T with the current folder elsewhere."""
    root = Path(lessons.__file__).resolve().parents[2]  # minidl/course/lessons.py -> the checkout
    if not (root / "setup.cfg").is_file():
        pytest.skip("not a source checkout")
    source, target, elsewhere = tmp_path / "src", tmp_path / "site", tmp_path / "elsewhere"
    for folder in (source, elsewhere):
        folder.mkdir()
    _copy_source(root, source)
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                            str(source)], capture_output=True, text=True, timeout=300)
    if build.returncode != 0 and re.search(r"No matching distribution|Could not find a version|connection",
                                           build.stdout + build.stderr, re.IGNORECASE):
        pytest.skip("pip could not fetch the build backend (offline)")
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    assert (target / "minidl" / "course" / "lesson_files" / "01_tensors_and_graphs.py").is_file()

    env = {k: v for k, v in os.environ.items() if k not in (lessons.DIR_ENV, lessons.OUT_ENV)}
    env.update(PYTHONPATH=str(target), MPLBACKEND="Agg")
    run = lambda *args: subprocess.run([sys.executable, "-m", "minidl.course.lessons", *args],  # noqa: E731
                                       cwd=elsewhere, capture_output=True, text=True, timeout=120, env=env)
    listed = run()
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "no lessons found" not in listed.stdout and len(listed.stdout.splitlines()) >= 13
    ran = run("run", "2", "--no-pause", "--fast")
    assert ran.returncode == 0 and "done in" in ran.stdout, ran.stdout[-2000:] + ran.stderr[-2000:]
    copied = run("copy", "mine")
    assert copied.returncode == 0 and len(list((elsewhere / "mine").glob("*.py"))) >= 13


def test_jupytext_reads_every_lesson_into_the_same_cells_as_the_runner():
    jupytext = pytest.importorskip("jupytext")  # the `lessons` extra
    for path in lessons.find_lessons():
        notebook = jupytext.read(path)
        runner = lessons.parse_cells(path.read_text(encoding="utf-8"))
        assert [c.cell_type for c in notebook.cells] == [c.kind for c in runner], path.name
