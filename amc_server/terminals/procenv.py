"""A running agent's terminal pane, read from its process (Linux `/proc`), for sessions seen without hooks.

The hook learns the pane from the environment it inherits ($TMUX, $TMUX_PANE, $ZELLIJ_*). A session
found another way (Claude's live registry, a Codex rollout) has no hook, but its process carries the
same environment: `/proc/<pid>/environ` is readable for the user's own processes. This module is
the agent-neutral part: list processes cheaply, read a pid's environment, open files and start
time, and turn an environment into pane fields (`model.pane_from_env`). Which process belongs to a
session is agent knowledge (agents/codex/process.py); `Panes` puts the two together for the core.

Everything returns empty values where there is no `/proc` (macOS: see docs/answering.md) or
the process is not ours. `/proc/<pid>/environ` is the environment the process started with, so a
pid's pane is read once per process (pid + start time) and cached.
"""
import os
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..model import pane_from_env

PROC = "/proc"
MAX_CACHED = 256

# matcher(session) -> pid of the agent process that runs it (0 when none is found)
Matcher = Callable[[Mapping[str, Any]], int]


def available(proc: str = PROC) -> bool:
    """Tell whether this system has a Linux-style /proc with per-process directories."""
    return os.path.isdir(os.path.join(proc, "self", "fd"))


def pids(proc: str = PROC) -> List[int]:
    """Return the ids of all running processes ([] without /proc)."""
    try:
        return [int(name) for name in os.listdir(proc) if name.isdigit()]
    except OSError:
        return []


def _read(path: str, limit: int = 1 << 20) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:  # gone, or not ours
        return b""


def comm(pid: int, proc: str = PROC) -> str:
    """Return the process's short name (its executable's first 15 bytes), '' when unknown."""
    return _read(os.path.join(proc, str(pid), "comm"), 64).decode("utf-8", "replace").strip()


def cmdline(pid: int, proc: str = PROC) -> List[str]:
    """Return the process's argv ([] when unknown)."""
    raw = _read(os.path.join(proc, str(pid), "cmdline"))
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0")[:-1]] if raw else []


def environ(pid: int, proc: str = PROC) -> Dict[str, str]:
    """Return the environment the process started with ({} when unknown or not ours)."""
    env: Dict[str, str] = {}
    for entry in _read(os.path.join(proc, str(pid), "environ")).split(b"\0"):
        key, sep, value = entry.partition(b"=")
        if sep and key:
            env[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return env


def start_time(pid: int, proc: str = PROC) -> int:
    """Return the process's start time in clock ticks since boot (0 when it is gone).

    Together with the pid it names one process: pids are reused, (pid, start time) is not.
    """
    raw = _read(os.path.join(proc, str(pid), "stat"), 4096).decode("utf-8", "replace")
    fields = raw.rsplit(")", 1)[-1].split()  # the command name may contain spaces and ')'
    try:
        return int(fields[19])  # field 22 of stat(5); fields[0] is field 3 (state)
    except (IndexError, ValueError):
        return 0


def open_files(pid: int, proc: str = PROC) -> List[str]:
    """Return the paths the process has open (sockets, pipes and unreadable fds left out)."""
    fd_dir = os.path.join(proc, str(pid), "fd")
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return []
    out = []
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue  # closed meanwhile
        if target.startswith("/"):
            out.append(target)
    return out


def pane_of(pid: int, proc: str = PROC) -> Dict[str, str]:
    """Return the pane fields (tmux_pane, tmux_socket, zellij_*) the process runs in, non-empty only."""
    return {k: v for k, v in pane_from_env(environ(pid, proc)).items() if v}


class Panes:
    """Fills `pid` and the pane fields of sessions that have no pane from a hook.

    `matchers` map an agent name to a function finding the pid of the process that runs a session
    (for agents whose sessions come without a pid); a session that already has a pid is looked up
    directly. Results are cached per process (pid + start time): its environment never changes.
    """

    def __init__(self, matchers: Optional[Mapping[str, Matcher]] = None,
                 proc: str = PROC) -> None:
        self.matchers = dict(matchers or {})
        self.proc = proc
        self.enabled = available(proc)
        self._lock = threading.Lock()
        self._cache: Dict[Tuple[int, int], Dict[str, str]] = {}

    def lookup(self, session: Mapping[str, Any]) -> Dict[str, Any]:
        """Return {"pid", pane fields...} for the session's process, or {} when it is not found."""
        if not self.enabled:
            return {}
        pid = session.get("pid") or 0
        matcher = self.matchers.get(str(session.get("agent")))
        if not pid and matcher is not None:
            pid = matcher(session)
        if not isinstance(pid, int) or pid <= 0:
            return {}
        key = (pid, start_time(pid, self.proc))
        if not key[1]:
            return {}  # the process is gone
        with self._lock:
            pane = self._cache.get(key)
        if pane is None:
            pane = pane_of(pid, self.proc)
            with self._lock:
                if len(self._cache) >= MAX_CACHED:
                    self._cache.clear()  # cheap to rebuild: one small file per live session
                self._cache[key] = pane
        return dict(pane, pid=pid)
