"""AMC's tests: run them all with `python3 tests/run.py` (see tests/run.py)."""
