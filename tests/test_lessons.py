"""Every lesson runs start to finish with --fast --no-pause: a broken lesson breaks the build."""
import os
import subprocess
import sys

import pytest

from minidl.lessons import find_lessons

LESSONS = find_lessons()


def test_there_are_lessons():
    assert len(LESSONS) >= 3


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs(path, tmp_path):
    env = dict(os.environ, MINIDL_LESSON_OUT=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "minidl.lessons", "run", path.name[:2], "--no-pause", "--fast"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "done in" in proc.stdout
