"""Which running Codex process writes a rollout, so that AMC can find the pane it runs in.

A Codex session discovered from its rollout (codex_discovery.py) comes with no pid and no pane.
Codex 0.169's native process (the npm `codex` is a node wrapper that spawns it; both carry the
same environment) keeps two files open for as long as it runs a thread, seen on Linux:
- the rollout itself, `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`, opened
  at the first turn (and again on `codex resume`);
- `$CODEX_HOME/thread-writer-locks/<thread id>.lock`, opened when the TUI starts.
So the process whose `/proc/<pid>/fd/*` points at the rollout (or at the lock named after the
session id) runs the session; procenv.py then reads its pane from `/proc/<pid>/environ`.

Cost: one scan reads `/proc/<pid>/comm` of every process (one small read each) and lists the fds
of those named codex only; scans happen at most every RESCAN_S seconds, and only when some session
asks. Between scans answers come from the last scan, checked against the process's start time
(a pid that was reused is not mistaken for the Codex that had it).
"""
import os
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ...terminals import procenv

RESCAN_S = 3.0
LOCK_DIR = "thread-writer-locks"
# comm is the executable's name cut to 15 bytes: "codex" (npm, Homebrew, cargo) or
# "codex-x86_64-un..." (the release binaries); "node" is the npm wrapper, which holds no rollout.
COMM_PREFIX = "codex"


def session_keys(path: str) -> Tuple[str, str]:
    """Return what an open file says about the thread it belongs to: ('rollout'|'lock', key)."""
    name = os.path.basename(path)
    if name.startswith("rollout-") and name.endswith(".jsonl"):
        return "rollout", path
    if name.endswith(".lock") and os.path.basename(os.path.dirname(path)) == LOCK_DIR:
        return "lock", name[:-len(".lock")]
    return "", ""


class Finder:
    """Maps rollouts and thread ids to the pid of the Codex process that has them open."""

    def __init__(self, proc: str = procenv.PROC, rescan_s: float = RESCAN_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.proc = proc
        self.rescan_s = rescan_s
        self.clock = clock
        self.scans = 0                      # how many /proc scans ran (tests check the rate)
        self._lock = threading.Lock()
        self._scanned_at: Optional[float] = None
        self._by_rollout: Dict[str, Tuple[int, int]] = {}   # real path -> (pid, start time)
        self._by_thread: Dict[str, Tuple[int, int]] = {}    # thread id -> (pid, start time)

    def __call__(self, session: Mapping[str, Any]) -> int:
        """Return the pid running `session` (a procenv.Matcher), 0 when none is found."""
        return self.find(str(session.get("transcript_path") or ""),
                         str(session.get("session_id") or ""))

    def find(self, rollout: str, session_id: str = "") -> int:
        """Return the pid of the Codex process writing `rollout` (or thread `session_id`), or 0."""
        real = os.path.realpath(rollout) if rollout else ""
        with self._lock:
            now = self.clock()
            if self._scanned_at is None or now - self._scanned_at >= self.rescan_s:
                self._scan(now)  # also catches a process that moved on to another thread (/new)
            hit = self._lookup(real, session_id)
            return hit[0] if hit and self._alive(hit) else 0

    def _lookup(self, real: str, session_id: str) -> Optional[Tuple[int, int]]:
        return (real and self._by_rollout.get(real)) or \
            (session_id and self._by_thread.get(session_id)) or None

    def _alive(self, hit: Tuple[int, int]) -> bool:
        return procenv.start_time(hit[0], self.proc) == hit[1]

    def _scan(self, now: float) -> None:
        by_rollout: Dict[str, Tuple[int, int]] = {}
        by_thread: Dict[str, Tuple[int, int]] = {}
        for pid in procenv.pids(self.proc):
            if not procenv.comm(pid, self.proc).startswith(COMM_PREFIX):
                continue
            files = procenv.open_files(pid, self.proc)
            if not files:
                continue  # not ours, or it exited
            ident = (pid, procenv.start_time(pid, self.proc))
            for path in files:
                kind, key = session_keys(path)
                if kind == "rollout":
                    by_rollout[os.path.realpath(key)] = ident
                elif kind == "lock":
                    by_thread[key] = ident
        self._by_rollout, self._by_thread = by_rollout, by_thread
        self._scanned_at = now
        self.scans += 1
