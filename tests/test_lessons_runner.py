"""The step-through runner: parsing cells, running them, stopping on errors."""
import io

import pytest

from minidl import lessons

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
    with pytest.raises(lessons.LessonError, match=r"cell 2 \(line 3\) failed: ValueError\('boom'\)"):
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
    write(tmp_path, "01_add.py", LESSON.replace("print(\"fast\" if FAST else \"slow\")",
                                                "from minidl.lessons import fast\nprint('fast' if fast() else 'slow')"))
    monkeypatch.setenv(lessons.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(lessons.FAST_ENV, "0")  # restored (unset) after the test
    assert lessons.main([]) == 0
    assert "Adding numbers" in capsys.readouterr().out
    assert lessons.main(["run", "1", "--no-pause", "--fast"]) == 0
    assert "fast" in capsys.readouterr().out
    assert lessons.main(["run", "9", "--no-pause"]) == 2
