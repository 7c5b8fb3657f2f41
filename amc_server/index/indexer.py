"""The search index's background work: a walk of every past transcript, and live changes.

Place in the flow: the core's transcript listeners (`Core.on_transcripts`) (a live session's transcript changed) and a
walk of Claude's projects dirs and Codex's rollouts -> files.py -> index.sqlite <- `search()`.
The indexer only reads transcripts; it never changes a session or the core.

Two daemon threads:
- `amc-index-walk` opens the index (db.py), then indexes every transcript, newest first, and
  counts them (`files_done` of `files_total`; `ready` once the first walk is done). It is the
  lowest priority work in the server: on Linux its thread runs at nice 10, and it sleeps PAUSE_S
  after every SLICE_S of work so request threads get the interpreter. Every QUICK_S it opens
  the index again (a file removed or damaged is made again), and every REWALK_S it looks at
  every file again (a stat each): files changed while nobody watched (old rollouts), files
  deleted since. New transcripts need no listing of directories: the core names every changed
  transcript, those it first saw by listing a new directory included.
- `amc-index-live` takes the session ids the core names (on its own thread: the core's thread
  only adds them to a set) and indexes their transcripts at once, keeping their readers, so an
  appended line is searchable well within a second.
A failure to write (disk full, a read-only data dir) is logged, shown as `index.error` in words,
and retried at the next change or walk; it never stops the server. The walk opens the index at
every round: a file removed or overwritten while the server runs is made again there, and one
found damaged by a search or a write (SQLite's "malformed") is removed and rebuilt; either way
the walk then starts over from every transcript (`ready` false until it is done). A search
answers each index error in words: the index being made again (no hits, `ready` false, the
reason in `index.error`), 507 for a full disk, 503 otherwise (`_search_failed`).
"""
import logging
import os
import sqlite3
import sys
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Dict, Optional, Set, Tuple

from .. import agents as agent_family
from ..errors import ApiError, NotFound
from ..paths import Paths
from . import db, query
from .documents import transcript_files
from .files import FileIndexer, LiveFold

log = logging.getLogger("amc.index")

SLICE_S = 0.02         # the walk works this long...
PAUSE_S = 0.004        # ...then sleeps this long
REWALK_S = 300.0
QUICK_S = 2.0          # how often the index file is opened again (removed? damaged?)
RECENT_S = 600.0       # a file written this recently keeps its reader after the walk
JOIN_S = 5.0
RETRY_MAX_S = 60.0     # the longest wait before opening an index that failed again

Locate = Callable[[str], Tuple[str, str, str]]   # session id -> (agent, path, project_dir)


class SearchIndex:
    """The index of one server: its threads, its progress and its searches."""

    def __init__(self, paths: Paths, agents: Any = agent_family.FAMILY,
                 locate: Optional[Locate] = None, live: Optional[LiveFold] = None) -> None:
        self.paths = paths
        self.agents = tuple(agents)
        self.locate = locate
        self.live = live      # a live transcript's shared fold (core/tails.py)
        self.files: Optional[FileIndexer] = None
        self.error = ""
        self.ready = False
        self.files_done = self.files_total = 0
        self.stats: Dict[str, float] = {"files": 0, "messages": 0, "busy_s": 0.0}
        self._pending: Set[str] = set()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._nudge = threading.Event()   # wakes the walk (a damaged file, stop)
        self._threads: list = []
        self._slice = time.monotonic()
        self._damaged: Optional[Tuple[int, str]] = None  # (generation, why): rebuild it
        self._rebuilding = ""     # the words shown while a new file is being filled
        self._full = False        # self.error is a full disk (searches: 507)
        self._write_failed = False  # a file could not be written: the next round walks again

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
        self._nudge.set()
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
        while not self.ready and not (self.error and self.files is None) \
                and time.monotonic() < deadline:
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
        files = self.files
        if files is None:
            if self.error:
                raise ApiError("search is unavailable: %s" % self.error,
                               HTTPStatus.INSUFFICIENT_STORAGE if self._full
                               else HTTPStatus.SERVICE_UNAVAILABLE)
            return {"results": [], "index": self.status()}  # still opening
        if not checked["match"] or checked["machine"]:
            return {"results": [], "index": self.status()}  # nothing to look up
        generation = files.generation
        # A connection per search: nothing of the index stays open while nobody searches.
        try:
            conn = db.connect(self.paths.index_file, create=False)
            try:
                results = query.run(conn, checked)
            finally:
                conn.close()
        except sqlite3.Error as e:
            return self._search_failed(db.explain(e, self.paths.index_file), generation)
        return {"results": results, "index": self.status()}

    def _search_failed(self, problem: db.IndexUnavailable, generation: int) -> Dict[str, Any]:
        """Answer a search the index could not run, in words (and have a damaged file rebuilt)."""
        if isinstance(problem, db.IndexDamaged):
            self._damage(generation, str(problem))
            return {"results": [], "index": dict(self.status(), ready=False, error=str(problem))}
        if isinstance(problem, db.IndexFull):
            raise ApiError("search is unavailable: %s" % problem, HTTPStatus.INSUFFICIENT_STORAGE)
        raise ApiError("search is unavailable: %s" % problem, HTTPStatus.SERVICE_UNAVAILABLE)

    def _damage(self, generation: int, why: str) -> None:
        """Have the walk rebuild the file of `generation` (a later file is not rebuilt)."""
        if self._damaged is None:
            log.warning("%s", why)
        self._damaged = (generation, why)
        self._nudge.set()  # the walk rebuilds it now

    # -- the threads ----------------------------------------------------------------------------

    def _walk_loop(self) -> None:
        _lower_priority()
        files = FileIndexer(self.paths.index_file, live=self.live)
        walked: Optional[float] = None  # when the last full walk ended; None: start over
        generation, failures = -1, 0
        while not self._stop.is_set():
            try:
                with files.session():  # the connection closes when the work is done
                    damaged, self._damaged = self._damaged, None
                    if damaged is not None and damaged[0] == files.generation:
                        self._rebuilding = damaged[1]
                        files.rebuild()
                    opened = self._open(files)
                    if opened != generation:  # a new file (the first, or made again): all of it
                        if generation >= 0:
                            self._rebuilding = self._rebuilding or \
                                "the search index %s was made again: it is being rebuilt" \
                                % self.paths.index_file
                            self.ready, self.error = False, self._rebuilding
                        generation, walked = opened, None
                    again, self._write_failed = self._write_failed, False
                    if walked is None or again or time.monotonic() - walked >= REWALK_S:
                        if self._walk(walked is None):  # `again`: files a write failed on
                            walked = time.monotonic()
                failures = failures + 1 if self._write_failed else 0
            except db.NoFts as e:
                self.error = str(e)
                log.warning("search index: %s", e)
                return
            except (db.IndexUnavailable, sqlite3.Error) as e:
                failures += 1
                self._problem(db.explain(e, self.paths.index_file), files.generation)
            except Exception:
                failures += 1
                log.exception("search index: the walk failed")
            # an index that cannot be opened is tried again less and less often
            self._nudge.wait(min(RETRY_MAX_S, QUICK_S * 2 ** min(failures, 6)))
            self._nudge.clear()

    def _open(self, files: FileIndexer) -> int:
        """Open the index (making the file again if it is gone or not a database); return its
        generation. The first success hands `files` to searches and the live thread."""
        generation = files.open()
        if self.files is None:
            self.files = files
            self.error, self._full = "", False
            with self._wake:
                self._wake.notify_all()
        return generation

    def _problem(self, problem: db.IndexUnavailable, generation: int) -> None:
        """Show an index error in words (logged once); have a damaged file rebuilt."""
        message = str(problem)
        if message != self.error:
            log.warning("search index: %s", message)
        self.error = message
        self._full = isinstance(problem, db.IndexFull)
        if isinstance(problem, db.IndexDamaged):
            self._damage(generation, message)

    def _walk(self, first: bool) -> bool:
        """Look at every transcript (`first`: counting them); return whether it got through."""
        files = self.files
        assert files is not None
        listing = transcript_files(self.paths, self.agents)
        if first:
            self.files_total, self.files_done = len(listing), 0
        known = files.known()
        now = time.time()
        for agent, path, sid in listing:
            damaged = self._damaged
            if self._stop.is_set() or (damaged is not None and damaged[0] == files.generation):
                return False  # a damaged file is rebuilt first
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
        if first and self._rebuilding:
            if self.error == self._rebuilding:
                self.error = ""
            self._rebuilding = ""
        return True

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
        """Run one file's work; a failure is logged and shown in words, never raised."""
        files = self.files
        generation = files.generation if files is not None else 0
        try:
            result = func(*args)
        except (sqlite3.Error, db.IndexUnavailable) as e:
            problem = db.explain(e, self.paths.index_file)
            if type(problem) is db.IndexUnavailable:
                problem = db.IndexUnavailable("cannot write the search index %s: %s"
                                              % (self.paths.index_file, e))
            self._problem(problem, generation)
            self._write_failed = True
            return None
        except Exception:
            log.exception("search index: %s failed for %s", func.__name__, args[:2])
            return None
        if self.error and self.error != self._rebuilding:
            self.error, self._full = "", False  # written again: the problem is over
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


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
