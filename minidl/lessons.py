"""Only a shortcut: ``python -m minidl.lessons ...`` runs ``python -m minidl.course.lessons ...``.

The lesson runner and the helpers lessons import live in the course package,
:mod:`minidl.course.lessons` (``from minidl.course.lessons import fast``).
This file holds no course code and importing it imports nothing: it only
keeps the shorter command of older instructions working.
"""
if __name__ == "__main__":
    import sys

    from minidl.course.lessons import main

    sys.exit(main())
