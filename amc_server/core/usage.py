"""Live usage: tokens, cost and context on every shown session, kept up to date as it grows.

Place in the flow: the core's merge -> `enrich` (adds the last known `usage` to the session,
and notices a transcript that moved) -> this tracker's own worker thread, which reads each live
session's transcript or rollout incrementally (usage.UsageFile: by file offset, appended bytes
only; a replaced or truncated file is read again from the start) -> `core.touch(id)` when the
numbers changed, so the session is merged again and published with them. A transcript can be
100 MB: it is never read on the core's thread, and the enricher never touches a file. Readers of
sessions no longer shown are dropped at the next sweep.
"""
import logging
import threading
import time
from typing import Any, Dict, Optional, Set, Tuple

from ..agents.usage import ACCUMULATORS, UsageFile
from ..core.sources import transcript_refusal

log = logging.getLogger("amc.usage")

SWEEP_S = 300.0  # how often readers of sessions that are gone are dropped
PAUSE_S = 0.002  # after each megabyte read: the core's thread gets the GIL (bench_usage.py)


class UsageTracker:
    """Keeps `usage` for the core's sessions; register once per core (server.py)."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._usage: Dict[str, Dict[str, Any]] = {}       # sid -> its last usage
        self._where: Dict[str, Tuple[str, str, int]] = {}  # sid -> (agent, path, mtime) asked
        self._readers: Dict[str, UsageFile] = {}           # sid -> reader (worker only)
        self._pending: Set[str] = set()
        self._busy = False                                 # the worker is reading
        self._thread: Optional[threading.Thread] = None
        self._swept = time.monotonic()
        core.add_enricher(self.enrich)
        core.on_transcripts(self.poke)

    # -- on the core's thread: dictionary work only -------------------------------------------

    def enrich(self, s: Dict[str, Any]) -> None:
        """Put the session's last known usage on it; ask the worker to read a moved transcript."""
        sid = s["session_id"]
        agent = str(s.get("agent") or "")
        where = (agent, str(s.get("transcript_path") or ""), int(s.get("conversation_mtime_ns")
                                                                  or 0))
        with self._lock:
            s["usage"] = self._usage.get(sid)
            if agent in ACCUMULATORS and where[1] and self._where.get(sid) != where:
                self._where[sid] = where
                self._pending.add(sid)
                self._ensure_worker()
                self._wake.notify()

    def poke(self, session_ids: Set[str]) -> None:
        """The core saw these transcripts change: read what they appended."""
        with self._lock:
            hit = {s for s in session_ids if s in self._where}
            if hit:
                self._pending |= hit
                self._ensure_worker()
                self._wake.notify()

    def settle(self, timeout: float) -> bool:
        """Wait until every asked-for read is done (a process that answers once: app.py)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    def usage(self, session_id: str) -> Optional[Dict[str, Any]]:
        """Return the last usage computed for a session (tests, debugging)."""
        with self._lock:
            return self._usage.get(session_id)

    # -- the worker ---------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="amc-usage", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        stop = self.core._stop
        while not stop.is_set():
            with self._lock:
                if not self._pending:
                    self._wake.wait(5.0)
                pending, self._pending = self._pending, set()
                jobs = {sid: self._where.get(sid) for sid in pending}
                self._busy = bool(jobs)
            try:
                for sid, where in jobs.items():
                    if where is None or stop.is_set():
                        continue
                    try:
                        self._read(sid, where[0], where[1])
                    except Exception:
                        log.exception("usage of %s: reading %s failed", sid, where[1])
            finally:
                with self._lock:
                    self._busy = False
                    self._wake.notify_all()
            if time.monotonic() - self._swept > SWEEP_S:
                self._sweep()

    def _read(self, sid: str, agent: str, path: str) -> None:
        if transcript_refusal(self.core.paths, path, sid):
            return  # the rule of the conversation API (logged there once)
        reader = self._readers.get(sid)
        if reader is None or reader.path != path or reader.kind != agent:
            reader = self._readers[sid] = UsageFile(path, agent, sid, pause_s=PAUSE_S,
                                                                 by_day=False)
        reader.refresh()
        usage = reader.usage()
        with self._lock:
            changed = self._usage.get(sid) != usage
            if changed:
                self._usage[sid] = usage
        if changed:
            self.core.touch(sid)

    def _sweep(self) -> None:
        """Forget sessions the core no longer shows (their readers hold memory)."""
        self._swept = time.monotonic()
        gone = [sid for sid in list(self._readers) if self.core.session(sid) is None]
        with self._lock:
            for sid in gone:
                self._readers.pop(sid, None)
                self._usage.pop(sid, None)
                self._where.pop(sid, None)

