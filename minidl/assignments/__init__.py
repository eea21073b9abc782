"""Course assignments cut from minidl's own source, and their autograder.

See :mod:`minidl.assignments.grader` for the commands, and
:mod:`minidl.assignments.markers` for how solutions are marked.
"""
from .exercises import ASSIGNMENTS, EXERCISES, Exercise
from .grader import format_report, grade, make
