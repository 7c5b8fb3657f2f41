"""The sessions a user dismissed: a bounded, first-in-first-out memory that survives restarts.

Discovery (the Claude registry, Codex rollouts) would otherwise bring a dismissed session back on
the next poll. Stored as `dismissed.json` (`{"version": 1, "ids": [[id, dismissed_at], ...]}`),
written atomically; the oldest ids are forgotten past MAX_IDS.
"""
import os
import threading
import time
from typing import Dict, Tuple

from .. import store

MAX_IDS = 1000


class Dismissed:
    """Thread-safe set of dismissed session ids with the time each was dismissed."""

    def __init__(self, path: str, max_ids: int = MAX_IDS) -> None:
        self.path = path
        self.max_ids = max_ids
        self._lock = threading.Lock()
        self._ids: Dict[str, float] = {}
        self._seen: Tuple[int, int, int] = (0, 0, 0)
        self._read()

    def _stat(self) -> Tuple[int, int, int]:
        try:
            st = os.stat(self.path)
            return st.st_ino, st.st_size, st.st_mtime_ns
        except OSError:
            return 0, 0, 0

    def _read(self) -> None:
        self._seen = self._stat()
        ids: Dict[str, float] = {}
        data = store.read_json(self.path)
        for item in data.get("ids", []) if isinstance(data, dict) else []:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                ids[item[0]] = float(item[1]) if isinstance(item[1], (int, float)) else 0.0
        self._ids = ids

    def reload_if_changed(self) -> bool:
        """Read the file again when another process (`amc request` on this machine, answering a
        hub) changed it; return whether it did."""
        if self._stat() == self._seen:
            return False
        with self._lock:
            self._read()
        return True

    def add(self, session_id: str) -> None:
        """Remember `session_id` as dismissed now, forgetting the oldest beyond the bound."""
        with self._lock:
            self._ids.pop(session_id, None)
            self._ids[session_id] = time.time()
            while len(self._ids) > self.max_ids:
                del self._ids[next(iter(self._ids))]
            store.write_json_atomic(self.path, {"version": 1,
                                                "ids": [[k, v] for k, v in self._ids.items()]})
            self._seen = self._stat()

    def when(self, session_id: str) -> float:
        """Return when `session_id` was dismissed (epoch seconds), or 0.0 if it was not."""
        return self._ids.get(session_id, 0.0)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._ids
