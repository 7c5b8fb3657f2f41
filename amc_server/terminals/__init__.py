"""The terminal family: one backend per multiplexer that AMC can type into, and a no-op fallback.

`FAMILY` is the explicit order of preference (a session with both a Zellij and a tmux pane, e.g.
tmux inside Zellij, is answered in the innermost one the hook saw: tmux). A member that fails to
import is logged and skipped; `Noop` is always last and says why nothing can be delivered.
terminals/ never imports agents/ (and vice versa): plans arrive as keystrokes.Step lists.
"""
import importlib
import logging
from typing import List, Mapping, Optional

from .base import Backend, Runner, run
from .noop import Noop

log = logging.getLogger("amc.terminals")

FAMILY = (("tmux", "Tmux"), ("zellij", "Zellij"))


def load(runner: Runner = run, env: Optional[Mapping[str, str]] = None) -> List[Backend]:
    """Return an instance of every backend that imports, in preference order, then Noop."""
    backends: List[Backend] = []
    for module_name, class_name in FAMILY:
        try:
            module = importlib.import_module("%s.%s" % (__name__, module_name))
            backends.append(getattr(module, class_name)(runner=runner, env=env))
        except Exception:
            log.exception("terminal backend %s failed to load; its panes cannot be answered",
                          module_name)
    backends.append(Noop(runner=runner, env=env))
    return backends


def for_session(backends: List[Backend], session: Mapping[str, object]) -> Backend:
    """Return the first backend that applies to the session (Noop when none does)."""
    for backend in backends:
        if backend.applies(session):
            return backend
    return backends[-1]
