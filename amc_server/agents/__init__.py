"""The agent family: one module per coding agent AMC understands (transcripts, discovery).

`FAMILY` is the explicit list; a member that fails to import is logged, never silently dropped,
and the rest keep working. agents/ never imports terminals/ (and vice versa).
"""
import importlib
import logging
from types import ModuleType
from typing import Dict

log = logging.getLogger("amc.agents")

FAMILY = ("claude", "codex")


def load() -> Dict[str, ModuleType]:
    """Import every agent module; return those that loaded, by name."""
    loaded = {}
    for name in FAMILY:
        try:
            loaded[name] = importlib.import_module("%s.%s" % (__name__, name))
        except Exception:
            log.exception("agent module %s failed to load; its sessions will be missing", name)
    return loaded
