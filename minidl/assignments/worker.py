"""Runs one side of a grading: ``python worker.py MODE CASES OUT``.

Started by the grader in a fresh process, once with the reference minidl on
the path and once with the student's copy, so the two packages never meet in
one interpreter. The exercise definitions are loaded from this file's folder
(the instructor's copy), never from the student's package.
"""
import importlib.util
import json
import sys
import traceback
from pathlib import Path

import numpy


def load_exercises():
    path = Path(__file__).with_name("exercises.py")
    spec = importlib.util.spec_from_file_location("_minidl_grader_exercises", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module.EXERCISES


def short_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".strip()


def main(mode: str, cases_path: str, out_path: str, names: list) -> None:
    import minidl as mdl

    exercises = load_exercises()
    cases = numpy.load(cases_path, allow_pickle=False)
    meta = {"package": str(Path(mdl.__file__).resolve().parent), "results": {}}
    arrays = {}
    for name in names:
        ex = exercises[name]
        count = len({k.split("/")[1] for k in cases.files if k.startswith(name + "/")})
        result = {"cases": [], "check": None}
        for i in range(count):
            prefix = f"{name}/{i}/"
            case = {k[len(prefix):]: cases[k] for k in cases.files if k.startswith(prefix)}
            try:
                outputs = ex.run(mdl, case)
                for key, value in outputs.items():
                    arrays[f"{prefix}{key}"] = numpy.asarray(value)
                result["cases"].append({"ok": True, "keys": sorted(outputs)})
            except Exception as error:  # the student's code may raise anything
                result["cases"].append({"ok": False, "error": short_error(error),
                                        "trace": traceback.format_exc(limit=-3)})
            if mode == "student" and ex.check is not None and i == 0:
                try:
                    ex.check(mdl, case)
                    result["check"] = "ok"
                except Exception as error:
                    result["check"] = short_error(error)
        meta["results"][name] = result
    arrays["__meta__"] = numpy.array(json.dumps(meta))
    numpy.savez(out_path, **arrays)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
