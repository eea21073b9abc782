"""Only a shortcut: ``python -m minidl.assignments ...`` runs ``python -m minidl.course.assignments ...``.

Student copies and the autograder live in the course package,
:mod:`minidl.course.assignments`. This file holds no course code and
importing it imports nothing: it only keeps the shorter command of older
instructions working.
"""
if __name__ == "__main__":
    import sys

    from minidl.course.assignments.__main__ import main

    sys.exit(main())
