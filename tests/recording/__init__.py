"""Re-recording the fixtures from the pinned agent CLIs (`python3 tests/record_fixtures.py`).

`common.py` holds what every scenario shares (the temporary home's paths rewritten to /home/dev/...,
writing a fixture's files), `claude.py` and `codex.py` the scenarios per CLI, each a name -> function
table `SCENARIOS`, and `changes.py` compares two recordings and says what changed between versions.
"""
