"""What the page says about AMC's own setup: hooks installed or not, data dir problems.

Place in the flow: settings files and the data dir -> here -> the core's `setup` (in every
snapshot, and a `setup` event when it changes) -> the page's empty state and banner. A read-only
or full data dir means the hooks cannot record sessions: the server keeps running and says so.
"""
import logging
import os
import shutil
from typing import Any, Dict

from ..install import hooks as hooks_config
from ..paths import Paths

log = logging.getLogger("amc.core")

LOW_SPACE_BYTES = 16 * 1024 * 1024


def read_setup(paths: Paths, watcher: str, doorbell_problem: str = "") -> Dict[str, Any]:
    """Return the setup object of /api/state (docs/api.md)."""
    try:
        report = hooks_config.status(paths)
        setup = {"claude_hooks": not report["claude"]["missing"],
                 "claude_settings": paths.claude_settings,
                 "codex_hooks": not report["codex"]["missing"]}
    except Exception as e:  # a broken settings file must not stop the core
        log.warning("cannot read the hooks configuration: %s", e)
        setup = {"claude_hooks": False, "claude_settings": paths.claude_settings,
                 "codex_hooks": False}
    setup["data_dir"] = paths.data
    setup["data_dir_problem"] = data_dir_problem(paths.data)
    setup["watcher"] = watcher
    if doorbell_problem:
        setup["doorbell_problem"] = doorbell_problem
    return setup


def data_dir_problem(data: str) -> str:
    """Return what is wrong with the data dir for a person ('' when nothing is)."""
    if not os.path.isdir(data):
        return "the data dir %s does not exist" % data
    if not os.access(data, os.W_OK | os.X_OK):
        return "the data dir %s is read-only: hooks cannot record sessions" % data
    try:
        free = shutil.disk_usage(data).free
    except OSError:
        return ""
    try:
        total = shutil.disk_usage(data).total
    except OSError:
        total = 0
    if free < min(LOW_SPACE_BYTES, total // 50):
        return "the disk of the data dir %s is full (%d KB free): hooks cannot record " \
               "sessions" % (data, free // 1024)
    return ""
