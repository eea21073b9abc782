"""Course assignments cut from minidl's own source, and their autograder.

    python -m minidl.course.assignments list
    python -m minidl.course.assignments make autograd --out hw1 [--order autograd,optim,cnn,augment]
    python -m minidl.course.assignments grade hw1            # one copy: text report, hw1/grade.json
    python -m minidl.course.assignments grade submissions/ --out gradebook.csv [--format gradescope]
    python -m minidl.course.assignments check matmul_backward --seed 7 --case 2   # a student replays a case

(``python -m minidl.assignments`` is a shortcut to the same commands.)

See :mod:`minidl.course.assignments.copies` for what a copy holds,
:mod:`minidl.course.assignments.markers` for how solutions are marked,
:mod:`minidl.course.assignments.grader` for how one copy is graded (and why it
cannot be fooled), :mod:`minidl.course.assignments.classroom` for a whole class.

Gradescope
----------
The same grader runs inside a Gradescope autograder (its "results.json"
specification: tests with name, score, max_score, output). The autograder
zip you upload holds three files:

* ``minidl-<version>-py3-none-any.whl``: the instructor's minidl, with the
  solutions (``python -m pip wheel --no-deps -w . /path/to/minidl``);
* ``setup.sh`` (run once, as root, when the image is built)::

      #!/usr/bin/env bash
      set -euo pipefail
      apt-get update && apt-get install -y python3 python3-pip
      python3 -m pip install /autograder/source/minidl-*.whl

* ``run_autograder`` (run for each submission; the student uploads their
  copy's folder, or a zip of it, which Gradescope puts in
  /autograder/submission)::

      #!/usr/bin/env bash
      cd /autograder
      python3 -I -m minidl.course.assignments grade /autograder/submission --assignment cnn \\
          --format gradescope --out /autograder/results/results.json

``--assignment`` pins the assignment (a submission cannot pick an easier
one); ``-I`` keeps the submission's files off the import path; each
exercise runs in its own limited process (``--time-limit``, ``--memory-limit``).
"""
from .classroom import grade_class, gradescope_results
from .copies import assignment_order, make, reference_answer, write_answer
from .exercises import ASSIGNMENTS, EXERCISES, Case, Exercise
from .grader import GradingError, check_locally, format_report, grade
