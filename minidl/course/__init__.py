"""The course: the lessons' step-through runner, and the assignments cut from minidl's own source.

    python -m minidl.course.lessons ...        the lessons (lessons.py; they ship as lesson_files/)
    python -m minidl.course.assignments ...    student copies and their autograder (assignments/)

The course sits on top of the library and only uses it: nothing in the rest
of minidl imports the course (``tests/test_layout.py`` checks). The library's
reference code carries only the ``# BEGIN SOLUTION <name>`` / ``# END SOLUTION``
lines around the parts an assignment cuts out; what a student is told to
write there, each exercise's hint, is kept here, in
:mod:`minidl.course.assignments.exercises`.
"""
