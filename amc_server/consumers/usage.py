"""Live usage: tokens, cost and context on every shown session, kept up to date as it grows.

Place in the flow: the core's merge -> `enrich` (adds the last known `usage` to the session, and
asks for a usage fold on the session's transcript: core/tails.py, where each appended line is
read once for every reader of that file) -> the tails' worker reads what was appended ->
`_read` (a tails consumer) compares the fold's numbers with the last ones -> `core.touch(id)`
when they changed, so the session is merged again and published with them. A transcript can be
100 MB: it is never read on the core's thread, and the enricher never touches a file. Sessions
no longer shown are forgotten at the next sweep.
"""
import logging
import threading
import time
from typing import Any, Dict, Optional, Set, Tuple

from ..agents.usage import UsageFile, accumulator
from ..core.sources import transcript_refusal

log = logging.getLogger("amc.usage")

SWEEP_S = 300.0  # how often sessions that are gone are forgotten


class UsageTracker:
    """Keeps `usage` for the core's sessions; register once per core (app.py)."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.tails = core.tails
        self._lock = threading.Lock()
        self._usage: Dict[str, Dict[str, Any]] = {}       # sid -> its last usage
        self._where: Dict[str, Tuple[str, str, int]] = {}  # sid -> (agent, path, mtime) asked
        self._sids: Dict[Tuple[str, str], Set[str]] = {}   # (agent, path) -> the sessions on it
        self._swept = time.monotonic()
        core.add_enricher(self.enrich)
        self.tails.on_read(self._read)

    # -- on the core's thread: dictionary work only -------------------------------------------

    def enrich(self, s: Dict[str, Any]) -> None:
        """Put the session's last known usage on it; ask for a fold of a moved transcript."""
        sid = s["session_id"]
        agent = str(s.get("agent") or "")
        path = str(s.get("transcript_path") or "")
        where = (agent, path, int(s.get("conversation_mtime_ns") or 0))
        with self._lock:
            s["usage"] = self._usage.get(sid)
            if accumulator(agent) is None or not path or self._where.get(sid) == where:
                return
            old = self._where.get(sid)
            if old is not None:
                self._sids.get(old[:2], set()).discard(sid)
            self._where[sid] = where
            self._sids.setdefault((agent, path), set()).add(sid)
        self.tails.want_usage(agent, path, sid, lambda: self._fold(agent, path, sid))

    def _fold(self, agent: str, path: str, sid: str) -> Optional[UsageFile]:
        """Return the usage fold of a transcript (on the tails' worker), or None if refused."""
        if transcript_refusal(self.core.paths, path, sid):
            return None  # the rule of the conversation API (logged there once)
        return UsageFile(path, agent, sid, by_day=False)

    def settle(self, timeout: float) -> bool:
        """Wait until every asked-for read is done (a process that answers once: app.py)."""
        return self.tails.settle(timeout)

    def usage(self, session_id: str) -> Optional[Dict[str, Any]]:
        """Return the last usage computed for a session (tests, debugging)."""
        with self._lock:
            return self._usage.get(session_id)

    # -- after a tail read (the tails' worker, or a request that read it) ----------------------

    def _read(self, sid: str, tail: Any) -> None:
        fold = tail.usage
        if not isinstance(fold, UsageFile):
            return
        with tail.lock:
            usage = fold.usage()
        touched = []
        with self._lock:
            for other in self._sids.get((tail.agent, tail.path), ()):
                if self._usage.get(other) != usage:
                    self._usage[other] = usage
                    touched.append(other)
        for other in touched:
            self.core.touch(other)
        if time.monotonic() - self._swept > SWEEP_S:
            self._sweep()

    def _sweep(self) -> None:
        """Forget sessions the core no longer shows (their folds hold memory)."""
        self._swept = time.monotonic()
        with self._lock:
            gone = [sid for sid in self._where if self.core.session(sid) is None]
            for sid in gone:
                self._usage.pop(sid, None)
                where = self._where.pop(sid, None)
                if where is not None:
                    self._sids.get(where[:2], set()).discard(sid)
            live = set(self._where)
        self.tails.forget(lambda sid: sid in live)
