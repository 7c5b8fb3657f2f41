"""One transcript file into the index, incrementally: only what changed is written.

Place in the flow: indexer.py (the walk of past transcripts, and the core's transcript changes)
-> `FileIndexer.index_file` -> db.py's tables. Per file the index keeps (path, device, inode,
size, mtime, offset of the last complete line, message count) and per message a fingerprint of
what was indexed. A file is looked at again only when its (device, inode, size, mtime) moved:
- a file changed while its reader is cached (a live session; up to MAX_READERS): the reader
  parses only the appended bytes, and only the new messages plus the recent ones that can still
  change (the last TAIL, and any waiting for a tool result) are compared and written;
- otherwise a fresh reader parses the file (as `/api/conversation` does at its first read: the
  ids are positional, `<agent>-<first 8 of session>-<n>`, so they come out the same) and each
  message's fingerprint is compared with the stored one, so only changed messages are written;
- a new inode, a file that shrank, or a reader that had to start over (agents/base.py: truncated
  or replaced) drops the file's rows and indexes it again.
A torn last line is left for the next look (the reader's offset stops before it).
"""
import collections
import contextlib
import logging
import os
import threading
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

from . import db
from .documents import document, fingerprint, project_dir_of, project_of, reader_for

log = logging.getLogger("amc.index")

MAX_READERS = 8
TAIL = 24                 # recent messages re-checked on every change (as consumers/conversations.py)
LOCK_STRIPES = 64


class Tracked(NamedTuple):
    """A cached reader and what was indexed from it."""
    reader: Any
    count: int                  # messages indexed
    watch: Dict[int, int]       # position -> fingerprint of the messages that may still change
    generation: int = 0         # the reader's generation when they were indexed


# A live transcript's conversation fold and the lock to read it under (core/tails.py): the
# index reads a live file through the tail every reader of it shares, so a line appended to a
# followed, usage-counted, indexed transcript is decoded once.
LiveFold = Callable[[str, str, str], Tuple[Any, Any]]


class FileIndexer:
    """Writes transcripts into the index; safe to call from several threads."""

    def __init__(self, path: str, conn: Any = None, live: Optional[LiveFold] = None) -> None:
        self.path = path
        self.live = live                       # live files: the shared fold (core/tails.py)
        self._conn = conn                      # the writer connection, open while in use
        self.write_lock = threading.Lock()     # one writer at a time on it
        self._users = 0
        self._users_lock = threading.Lock()
        # one file is worked on by one thread at a time (the walk, the live thread)
        self._locks = [threading.RLock() for _ in range(LOCK_STRIPES)]
        self._cache: "collections.OrderedDict[str, Tracked]" = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        self._next_id = 0
        # how many times the file was made (created, or rebuilt): the walk starts over on a new one
        self.generation = 0

    # -- the connection: open only while the index works -------------------------------------

    @property
    def conn(self) -> Any:
        """The writer connection (callers hold `write_lock`), opened on first use."""
        if self._conn is None:
            # checks the version; a file that is gone or not a database is made again
            self._conn, created = db.open_or_create(self.path)
            if created:
                self.generation += 1
                with self._cache_lock:
                    self._cache.clear()  # the readers' counts were of the old file
        if not self._next_id:
            self._next_id = (self._conn.execute("SELECT max(id) FROM messages").fetchone()[0]
                             or 0) + 1
        return self._conn

    def open(self) -> int:
        """Open the writer connection now (inside `session`); return the file's generation."""
        with self.write_lock:
            _ = self.conn  # opening is the point
            return self.generation

    def rebuild(self) -> None:
        """Close the connection and remove the file: the next use makes it again, empty."""
        with self.write_lock:
            conn, self._conn = self._conn, None
            self._next_id = 0
            if conn is not None:
                conn.close()
            db.remove_files(self.path)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Use the index for a while; the last user to leave closes the connection.

        Closed, SQLite folds the WAL into the file and removes it, and nothing of the index is
        open in the data dir while it is idle (it can be remounted, backed up, deleted).
        """
        with self._users_lock:
            self._users += 1
        try:
            yield
        finally:
            with self._users_lock:
                self._users -= 1
                last = self._users == 0
            if last:
                self.close()

    def close(self) -> None:
        with self.write_lock:
            conn, self._conn = self._conn, None
            self._next_id = 0
            if conn is not None:
                conn.close()

    # -- the file table -------------------------------------------------------------------------

    def _row(self, path: str) -> Optional["FileRow"]:
        with self.write_lock:
            r = self.conn.execute("SELECT id, agent, session_id, project, project_dir, dev, ino, "
                                  "size, mtime_ns, offset, count FROM files WHERE path = ?",
                                  (path,)).fetchone()
        return FileRow(*r) if r else None

    def known(self) -> Dict[str, str]:
        """Return {path: session id} of every indexed file."""
        with self.write_lock:
            return dict(self.conn.execute("SELECT path, session_id FROM files"))

    def session_id_of(self, path: str) -> str:
        row = self._row(path)
        return row.session_id if row else ""

    # -- indexing -------------------------------------------------------------------------------

    def index_file(self, agent: str, path: str, session_id: str, keep: bool = False,
                   project_dir: str = "") -> int:
        """Bring one transcript's rows up to date; return how many messages were written.

        `keep`: cache the reader (a live session will append again soon). `project_dir`: the
        session's directory when the transcript does not say (Claude writes `cwd` on records).
        """
        with self._lock_of(path):
            try:
                st = os.stat(path)
            except OSError:
                self.forget(path)
                return 0
            row = self._row(path)
            sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if row is not None and (row.dev, row.ino, row.size, row.mtime_ns) == sig \
                    and row.session_id == session_id and row.agent == agent:
                return 0
            with self._cache_lock:
                tracked = self._cache.pop(path, None)
            shared = self.live(agent, path, session_id) if keep and self.live else None
            if shared is not None:
                reader, lock = shared
                if tracked is not None and not (tracked.reader is reader
                                                and _still_live(tracked, row, agent, session_id)):
                    tracked = None
                with lock:  # the fold changes only under it (the tails' worker, requests)
                    reader, changes, watch, reset, stale = self._read(
                        tracked, row, agent, path, session_id, st, reader)
                    offset, generation = reader.offset, reader.generation
            else:
                if tracked is not None and not _still_valid(tracked, row, agent, session_id):
                    tracked = None
                reader, changes, watch, reset, stale = self._read(tracked, row, agent, path,
                                                                  session_id, st)
                offset, generation = reader.offset, reader.generation
            # the live session's directory (what its card shows), else what was stored, else
            # the transcript's own (Claude's first `cwd`, Codex's session_meta)
            pdir = project_dir or (row.project_dir if row else "") or project_dir_of(reader)
            self._write(path, row, offset, st, agent, session_id, pdir, changes, reset, stale)
            if keep:
                self._remember(path, Tracked(reader, stale, watch, generation))
            return len(changes)

    def _read(self, tracked: Optional[Tracked], row: Optional["FileRow"], agent: str, path: str,
              session_id: str, st: os.stat_result, reader: Any = None
              ) -> Tuple[Any, List[tuple], Dict[int, int], bool, int]:
        """Parse what is new (with `reader` when given: a live fold, maybe read meanwhile);
        return (reader, changed messages, watch, reset, message count)."""
        if tracked is not None:
            reader = tracked.reader
            messages = reader.refresh()
            reset = reader.generation != tracked.generation
            if reset:
                old: Dict[int, int] = {}
                candidates = range(len(messages))
            else:
                old = tracked.watch
                candidates = sorted({n for n in old if n < len(messages)}
                                    | set(range(tracked.count, len(messages))))
        else:
            reader = reader if reader is not None else reader_for(agent, path, session_id)
            messages = reader.refresh()
            reset = row is not None and ((row.dev, row.ino) != (st.st_dev, st.st_ino)
                                         or st.st_size < row.offset
                                         or row.session_id != session_id or row.agent != agent)
            old = self._fingerprints(row.id) if row is not None and not reset else {}
            candidates = range(len(messages))
        changes = []
        fps: Dict[int, int] = {}
        for n in candidates:
            msg = messages[n]
            doc = document(msg)
            fp = fingerprint(msg, doc)
            fps[n] = fp
            if old.get(n) != fp:
                changes.append((n, msg, doc, fp))
        watch = {n: fps.get(n, old.get(n, 0))
                 for n in _watched(messages, old, full=tracked is None or reset)}
        return reader, changes, watch, reset, len(messages)

    def _fingerprints(self, file_id: int) -> Dict[int, int]:
        with self.write_lock:
            return dict(self.conn.execute("SELECT n, fp FROM messages WHERE file_id = ?",
                                          (file_id,)))

    def _write(self, path: str, row: Optional["FileRow"], offset: int, st: os.stat_result,
               agent: str, session_id: str, project_dir: str, changes: List[tuple], reset: bool,
               count: int) -> None:
        """Write one file's changes and its new state, in one transaction."""
        with self.write_lock:
            conn = self.conn
            with conn:
                if row is None:
                    file_id = conn.execute(
                        "INSERT INTO files (path, agent, session_id, project, project_dir, dev, "
                        "ino, size, mtime_ns, offset, count) "
                        "VALUES (?, ?, ?, '', '', 0, 0, 0, 0, 0, 0)",
                        (path, agent, session_id)).lastrowid
                elif reset:
                    file_id = row.id
                    self._delete(file_id, 0)
                else:
                    file_id = row.id
                    self._delete(file_id, count)  # messages past the end (a rewritten file)
                    if changes:
                        self._delete(file_id, 0, [c[0] for c in changes])
                self._insert(file_id, changes)
                conn.execute(
                    "UPDATE files SET agent = ?, session_id = ?, project = ?, project_dir = ?, "
                    "dev = ?, ino = ?, size = ?, mtime_ns = ?, offset = ?, count = ? WHERE id = ?",
                    (agent, session_id, project_of(project_dir), project_dir, st.st_dev,
                     st.st_ino, st.st_size, st.st_mtime_ns, offset, count, file_id))

    def _insert(self, file_id: int, changes: List[tuple]) -> None:
        rows, docs = [], []
        for n, msg, doc, fp in changes:
            rid = self._next_id
            self._next_id += 1
            rows.append((rid, file_id, n, str(msg.get("id") or ""), str(msg.get("role") or ""),
                         str(msg.get("timestamp") or ""), fp, db.pack(doc[0]), db.pack(doc[1]),
                         db.pack(doc[2])))
            docs.append((rid,) + doc)
        self.conn.executemany("INSERT INTO messages (id, file_id, n, message_id, role, timestamp, "
                              "fp, text, tools, thinking) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              rows)
        self.conn.executemany("INSERT INTO fts (rowid, text, tools, thinking) VALUES (?, ?, ?, ?)",
                              docs)

    def _delete(self, file_id: int, from_n: int, only: Optional[List[int]] = None) -> None:
        """Delete a file's messages numbered `from_n` and up (or exactly `only`), FTS rows too."""
        if only is not None:
            old = []
            for i in range(0, len(only), 500):
                part = only[i:i + 500]
                old += self.conn.execute(
                    "SELECT id, text, tools, thinking FROM docs WHERE id IN (SELECT id FROM "
                    "messages WHERE file_id = ? AND n IN (%s))" % ",".join("?" * len(part)),
                    [file_id] + part).fetchall()
        else:
            old = self.conn.execute("SELECT id, text, tools, thinking FROM docs WHERE id IN "
                                    "(SELECT id FROM messages WHERE file_id = ? AND n >= ?)",
                                    (file_id, from_n)).fetchall()
        if not old:
            return
        # External content: FTS5 forgets a row only when given the exact text it indexed.
        self.conn.executemany("INSERT INTO fts (fts, rowid, text, tools, thinking) "
                              "VALUES ('delete', ?, ?, ?, ?)", old)
        self.conn.executemany("DELETE FROM messages WHERE id = ?", [(r[0],) for r in old])

    def forget(self, path: str) -> int:
        """Drop a file (gone) from the index; return 1 if it was there."""
        with self._lock_of(path):
            with self._cache_lock:
                self._cache.pop(path, None)
            row = self._row(path)
            if row is None:
                return 0
            with self.write_lock, self.conn:
                self._delete(row.id, 0)
                self.conn.execute("DELETE FROM files WHERE id = ?", (row.id,))
            return 1

    def _lock_of(self, path: str) -> Any:
        return self._locks[hash(path) % LOCK_STRIPES]

    def forget_missing(self, session_id: str) -> int:
        """Drop the files of a session that no longer exist (its transcript was deleted)."""
        with self.write_lock:
            paths = [r[0] for r in self.conn.execute("SELECT path FROM files WHERE session_id = ?",
                                                     (session_id,))]
        return sum(self.forget(p) for p in paths if not os.path.exists(p))

    def _remember(self, path: str, tracked: Tracked) -> None:
        with self._cache_lock:
            self._cache[path] = tracked
            while len(self._cache) > MAX_READERS:
                self._cache.popitem(last=False)

    def cached(self) -> Set[str]:
        with self._cache_lock:
            return set(self._cache)


class FileRow(NamedTuple):
    id: int
    agent: str
    session_id: str
    project: str
    project_dir: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int
    count: int



def _still_valid(tracked: Tracked, row: Optional[FileRow], agent: str, session_id: str) -> bool:
    """Tell whether a cached reader continues exactly where the stored rows end."""
    r = tracked.reader
    return row is not None and r.session_id == session_id and row.agent == agent \
        and r.identity == (row.dev, row.ino) and r.offset == row.offset \
        and tracked.count == row.count


def _still_live(tracked: Tracked, row: Optional[FileRow], agent: str, session_id: str) -> bool:
    """Tell whether the stored rows are what was indexed from this live fold (others read it
    on since: its offset moved; a re-read shows in its generation, checked by _read)."""
    return row is not None and tracked.reader.session_id == session_id and row.agent == agent \
        and tracked.count == row.count


def _watched(messages: List[Dict[str, Any]], old: Dict[int, int], full: bool) -> Set[int]:
    """Return the positions that may still change: the last TAIL, and calls awaiting a result
    (among all messages when `full`, else among those watched so far: only recent messages can
    start waiting)."""
    keep = set(range(max(0, len(messages) - TAIL), len(messages)))
    for n in (range(len(messages)) if full else old):
        if n < len(messages) and n not in keep \
                and any("result" not in c for c in messages[n].get("tool_calls") or ()):
            keep.add(n)
    return keep
