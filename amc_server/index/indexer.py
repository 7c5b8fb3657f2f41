"""The search index's background work: a walk of every past transcript, and live changes.

Place in the flow: the core's `transcript_listeners` (a live session's transcript changed) and a
walk of Claude's projects dirs and Codex's rollouts -> files.py -> index.sqlite <- `search()`.
The indexer only reads transcripts; it never changes a session or the core.

Two daemon threads:
- `amc-index-walk` opens the index (db.py), then indexes every transcript, newest first, and
  counts them (`files_done` of `files_total`; `ready` once the first walk is done). It is the
  lowest priority work in the server: on Linux its thread runs at nice 10, and it sleeps PAUSE_S
  after every SLICE_S of work so request threads get the interpreter. Every QUICK_S it lists
  the directories whose mtime moved (new transcripts: the core names changed files, but not a
  file it first saw by listing a new directory), and every REWALK_S it looks at every file
  again (a stat each): files changed while nobody watched (old rollouts), files deleted since.
- `amc-index-live` takes the session ids the core names (on its own thread: the core's thread
  only adds them to a set) and indexes their transcripts at once, keeping their readers, so an
  appended line is searchable well within a second.
A failure to write (disk full, a read-only data dir) is logged, shown as `index.error`, and
retried at the next change or walk; it never stops the server.
"""
import logging
import os
import sqlite3
import sys
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Dict, Optional, Set, Tuple

from ..errors import ApiError, NotFound
from ..paths import Paths
from . import db, query
from .documents import files_in, transcript_dirs, transcript_files
from .files import FileIndexer

log = logging.getLogger("amc.index")

SLICE_S = 0.02         # the walk works this long...
PAUSE_S = 0.004        # ...then sleeps this long
REWALK_S = 300.0
QUICK_S = 2.0          # how often directories are looked at for new transcripts
RECENT_S = 600.0       # a file written this recently keeps its reader after the walk
JOIN_S = 5.0

Locate = Callable[[str], Tuple[str, str, str]]   # session id -> (agent, path, project_dir)


class SearchIndex:
    """The index of one server: its threads, its progress and its searches."""

    def __init__(self, paths: Paths, agents: Any = ("claude", "codex"),
                 locate: Optional[Locate] = None) -> None:
        self.paths = paths
        self.agents = tuple(agents)
        self.locate = locate
        self.files: Optional[FileIndexer] = None
        self.error = ""
        self.ready = False
        self.files_done = self.files_total = 0
        self.stats: Dict[str, float] = {"files": 0, "messages": 0, "busy_s": 0.0}
        self._pending: Set[str] = set()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list = []
        self._slice = time.monotonic()
        self._dir_mtimes: Dict[str, int] = {}

    # -- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the index and start indexing, on the index's own threads."""
        for name, target in (("amc-index-walk", self._walk_loop),
                             ("amc-index-live", self._live_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the threads (each finishes the file it is on) and close the connections."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(JOIN_S)
        if self.files is not None:
            self.files.close()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the first walk is done (tests, the bench); return whether it is."""
        deadline = time.monotonic() + timeout
        while not self.ready and not self.error and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.ready

    # -- what the core tells us -----------------------------------------------------------------

    def changed(self, session_ids: Set[str]) -> None:
        """The core saw these sessions' transcripts change (its thread: only note them)."""
        with self._wake:
            self._pending |= set(session_ids)
            self._wake.notify_all()

    # -- answers --------------------------------------------------------------------------------

    def status(self) -> Dict[str, Any]:
        """Return the `index` object of /api/search."""
        return {"ready": self.ready, "files_done": self.files_done,
                "files_total": self.files_total, "error": self.error}

    def search(self, params: Dict[str, str]) -> Dict[str, Any]:
        """Answer GET /api/search (docs/search.md); bad parameters raise BadRequest."""
        checked = query.parse_params(params)
        if self.files is None:
            if self.error:
                raise ApiError("search is unavailable: %s" % self.error,
                               HTTPStatus.SERVICE_UNAVAILABLE)
            return {"results": [], "index": self.status()}  # still opening
        if not checked["match"] or checked["machine"]:
            return {"results": [], "index": self.status()}  # nothing to look up
        # A connection per search: nothing of the index stays open while nobody searches.
        try:
            conn = db.connect(self.paths.index_file, create=False)
        except sqlite3.Error as e:
            raise ApiError("search is unavailable: cannot open %s: %s" % (
                self.paths.index_file, e), HTTPStatus.SERVICE_UNAVAILABLE) from None
        try:
            results = query.run(conn, checked)
        finally:
            conn.close()
        return {"results": results, "index": self.status()}

    # -- the threads ----------------------------------------------------------------------------

    def _walk_loop(self) -> None:
        _lower_priority()
        try:
            conn = db.open_index(self.paths.index_file)
        except db.IndexUnavailable as e:
            self.error = str(e)
            log.warning("search index: %s", e)
            return
        self.files = files = FileIndexer(self.paths.index_file, conn)
        with self._wake:
            self._wake.notify_all()
        first, walked = True, 0.0
        while not self._stop.is_set():
            try:
                with files.session():  # the connection closes when the work is done
                    if first or time.monotonic() - walked >= REWALK_S:
                        self._walk(first)
                        first, walked = False, time.monotonic()
                    else:
                        self._quick()
            except Exception:
                log.exception("search index: the walk failed")
            if self._stop.wait(QUICK_S):
                return

    def _walk(self, first: bool) -> None:
        files = self.files
        assert files is not None
        listing = transcript_files(self.paths, self.agents)
        if first:
            self.files_total, self.files_done = len(listing), 0
        known = files.known()
        now = time.time()
        for agent, path, sid in listing:
            if self._stop.is_set():
                return
            recent = _mtime(path) > now - RECENT_S
            self._index(agent, path, known.get(path) or sid, keep=recent)
            if first:
                self.files_done += 1
            self._yield()
        listed = {path for _, path, _ in listing}
        for path in known:
            if path not in listed and not os.path.exists(path) and not self._stop.is_set():
                self._guard(files.forget, path)
        self.files_total = self.files_done = len(listing)
        self.ready = True

    def _quick(self) -> None:
        """Index the transcripts of directories whose mtime moved (new files). The core tells
        of appends, but not of a transcript it first saw by listing a new directory."""
        files = self.files
        assert files is not None
        now = time.time()
        for d in transcript_dirs(self.paths, self.agents, RECENT_S):
            mtime = _mtime_ns(d)
            # An equal mtime may hide a second change in the same clock tick: look again while
            # the directory changed in the last two intervals.
            if self._dir_mtimes.get(d) == mtime and mtime / 1e9 < now - 2 * QUICK_S:
                continue
            self._dir_mtimes[d] = mtime
            for agent, path, sid in files_in(self.paths, d):
                if self._stop.is_set():
                    return
                self._index(agent, path, files.session_id_of(path) or sid, keep=True)

    def _live_loop(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                while not self._stop.is_set() and (not self._pending or self.files is None):
                    if self.error and self.files is None:
                        self._pending.clear()  # the index cannot open: nothing to do
                    self._wake.wait(1.0)
                pending, self._pending = self._pending, set()
            if not self._stop.is_set() and self.files is not None:
                with self.files.session():
                    self._live(pending)

    def _live(self, pending: Set[str]) -> None:
        files = self.files
        assert files is not None
        for sid in sorted(pending):
            if self._stop.is_set():
                return
            try:
                agent, path, project_dir = self.locate(sid) if self.locate else ("", "", "")
            except NotFound:  # deleted (or not written yet: its first line brings it)
                self._guard(files.forget_missing, sid)
                continue
            except Exception:
                log.exception("search index: cannot find the transcript of %s", sid)
                continue
            if agent in self.agents and path:
                self._index(agent, path, sid, keep=True, project_dir=project_dir)

    def _index(self, agent: str, path: str, sid: str, keep: bool, project_dir: str = "") -> None:
        files = self.files
        assert files is not None
        t0 = time.monotonic()
        written = self._guard(files.index_file, agent, path, sid, keep, project_dir)
        self.stats["busy_s"] += time.monotonic() - t0
        if written is not None:
            self.stats["files"] += 1
            self.stats["messages"] += written

    def _guard(self, func: Callable[..., int], *args: Any) -> Optional[int]:
        """Run one file's work; a failure is logged and shown, never raised."""
        try:
            result = func(*args)
        except (sqlite3.Error, db.IndexUnavailable) as e:
            message = "cannot write the search index %s: %s" % (self.paths.index_file, e)
            if message != self.error:
                log.warning("%s", message)
            self.error = message
            return None
        except Exception:
            log.exception("search index: %s failed for %s", func.__name__, args[:2])
            return None
        if self.error.startswith("cannot write"):
            self.error = ""
        return result

    def _yield(self) -> None:
        if time.monotonic() - self._slice >= SLICE_S:
            self._stop.wait(PAUSE_S)
            self._slice = time.monotonic()


def _lower_priority() -> None:
    """Run the calling thread at nice 10 (Linux: a thread is a task of its own)."""
    if sys.platform.startswith("linux") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except OSError:
            pass


def _mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
