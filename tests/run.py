#!/usr/bin/env python3
"""The one test command: `python3 tests/run.py [unittest args]`.

Installs (or finds) the pinned tools the end-to-end tests need (tests/support/tools.py), then runs
`unittest discover -s tests -t .` from the repository root, or the tests named on the command line
(`python3 tests/run.py tests.test_e2e_claude -v`), and exits with unittest's status. When every tool
is already present this costs a few milliseconds.
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    """Ensure tools, then run unittest with `argv` (default: discover everything under tests/)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    os.chdir(ROOT)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from tests.support import tools
    found = tools.ensure_all(verbose=True)
    missing = [name for name, path in found.items() if not path]
    if missing:
        print("[tools] unavailable: %s (tests needing them %s)" % (
            ", ".join(missing), "FAIL under CI=true" if tools.in_ci() else "are skipped"),
            file=sys.stderr, flush=True)
    names = [a for i, a in enumerate(argv)
             if not a.startswith("-") and (i == 0 or argv[i - 1] != "-k")]
    if names:
        unittest_argv = ["python3 tests/run.py"] + argv
    else:
        unittest_argv = ["python3 tests/run.py", "discover", "-s", "tests", "-t", "."] + argv
    program = unittest.main(module=None, argv=unittest_argv, exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
