"""The student's side of grading: evaluate one exercise's jobs, return raw arrays.

Started by the grader as ``python -I -S -B worker.py CONFIG`` from a copy of
this file in a fresh temporary folder (its working directory), so neither the
current folder, PYTHONPATH, site-packages' ``.pth`` hooks nor the submission's
own files decide what is imported. It then:

1. sets ``sys.path`` to the graded package (the reference minidl with the
   student's block spliced in), the standard library and NumPy's folder only;
2. installs an audit hook (which nothing can remove) that refuses to read
   the reference package or any other ``minidl`` on the path (or another
   process's ``/proc`` files), to write or delete outside its working folder,
   and to start processes, send signals, open sockets or load C libraries;
3. evaluates each job (an exercise's ``evaluate`` on the given inputs) and
   writes the arrays, and any error with the last frames of its traceback, to
   ``results.npz``.

It judges nothing: no comparison, no gradient check, no score. Whatever it
writes is only data for the grader, read with ``allow_pickle=False``.
"""
import json
import os
import sys
import traceback

BLOCKED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "socket.",
                  "ctypes.", "sys.addaudithook", "os.startfile", "webbrowser.open")
CHANGING_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink",
                   "os.link", "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
MAX_TEXT = 300  # characters of an error message or a traceback line that go back to the grader


def _under(path, roots) -> bool:
    path = os.path.realpath(os.fsdecode(path))
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def _other_process(path) -> bool:
    """/proc/<pid>/... of another process (the grader's memory, say)."""
    parts = os.path.realpath(os.fsdecode(path)).split(os.sep)
    return len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and parts[2] != str(os.getpid())


def install_guard(blocked: list, workdir: str) -> None:
    """The audit hook: no reading the reference, no writing outside ``workdir``, no processes."""
    blocked = [os.path.realpath(b) for b in blocked]
    workdir = [os.path.realpath(workdir)]

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            if _under(path, blocked) or _other_process(path):
                raise PermissionError(f"grading: submissions may not read {os.fsdecode(path)}")
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & WRITE_FLAGS)
            if writing and not _under(path, workdir):
                raise PermissionError(f"grading: submissions may not write {os.fsdecode(path)}")
        elif event in ("os.listdir", "os.scandir"):
            if args and isinstance(args[0], (str, bytes, os.PathLike)) and _under(args[0], blocked):
                raise PermissionError(f"grading: submissions may not list {os.fsdecode(args[0])}")
        elif event.startswith(BLOCKED_EVENTS):
            raise PermissionError(f"grading: submissions may not use {event}")
        elif event in CHANGING_EVENTS:
            for a in args:
                if isinstance(a, (str, bytes, os.PathLike)) and not _under(a, workdir):
                    raise PermissionError(f"grading: submissions may not change {os.fsdecode(a)}")

    sys.addaudithook(hook)


def short_error(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:MAX_TEXT].strip()


def last_frames(error: BaseException, root: str, count: int = 3) -> list:
    """The last frames of the traceback as [file inside the package, line, function, code]."""
    frames = traceback.extract_tb(error.__traceback__)[-count:]
    out = []
    for f in frames:
        name = f.filename[len(root) + 1:] if f.filename.startswith(root + os.sep) else os.path.basename(f.filename)
        out.append([name[:MAX_TEXT], int(f.lineno or 0), str(f.name)[:MAX_TEXT], (f.line or "")[:MAX_TEXT]])
    return out


def main(config_path: str) -> int:
    with open(config_path) as f:
        config = json.load(f)
    root, workdir = config["root"], os.getcwd()
    sys.path[:] = [root] + [p for p in sys.path if p] + config["site"]
    import numpy  # NumPy loads its C libraries before the guard refuses ctypes

    install_guard(config["blocked"], workdir)  # before any submitted code runs

    meta = {"jobs": {}, "error": None}
    arrays = {}
    try:
        import minidl
        from minidl.course.assignments.exercises import EXERCISES, Case

        if not _under(minidl.__file__, [root]):
            raise ImportError(f"minidl was imported from {minidl.__file__}, not the graded copy")
        exercise = EXERCISES[config["exercise"]]
        with numpy.load(config["jobs"], allow_pickle=False) as data:
            inputs = {k: data[k] for k in data.files}
        for job in config["job_list"]:
            j = str(job["id"])
            case = Case("", {k: inputs[f"{j}/{k}"] for k in job["arrays"]}, job["options"])
            try:
                result = exercise.evaluate(minidl, case, job["backward"])
                for key, value in result.items():
                    arrays[f"{j}/{key}"] = numpy.asarray(value)
                meta["jobs"][j] = {"ok": True}
            except BaseException as error:  # the student's code may raise anything (but not stop the rest)
                stopped = f"the code raised {type(error).__name__}"  # SystemExit, KeyboardInterrupt
                message = short_error(error) if isinstance(error, Exception) else stopped
                meta["jobs"][j] = {"ok": False, "error": message, "trace": last_frames(error, root)}
    except BaseException as error:  # importing the package failed: every job fails alike
        meta["error"] = {"error": short_error(error), "trace": last_frames(error, root)}
    arrays["__meta__"] = numpy.array(json.dumps(meta))
    numpy.savez(os.path.join(workdir, "results.part.npz"), **arrays)
    os.replace(os.path.join(workdir, "results.part.npz"), os.path.join(workdir, "results.npz"))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1])
    sys.stderr.flush()
    os._exit(code)  # now: no waiting for threads the submission left running, no atexit hooks of its own
