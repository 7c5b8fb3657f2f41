"""The search index's SQLite file: schema, opening, rebuild on a version change, connections.

Place in the flow: transcripts -> files.py -> here (`<data dir>/index.sqlite`) <- query.py <-
`GET /api/search`. The file is derived from the transcripts and can be deleted at any time, even
while the server runs: an unreadable file, or one whose `version` is not SCHEMA_VERSION, is
removed and built again (the migration is a rebuild), and a file found missing or damaged later is
made again by the next walk (indexer.py). `explain` turns SQLite's errors into words and kinds:
damaged (rebuilt), missing (made again), full (the disk), other. WAL mode, so searches read while the indexer writes;
connections are open only while the index works or a search runs (files.py: `session`), so
SQLite folds the WAL back into the file when it is idle.

Size matters (the index must stay under 15 % of the transcripts), so the text of a message is
stored once, zlib-compressed, in `messages`, and the FTS5 table is an external-content table over
the view `docs`, which decompresses it through the SQL function `amc_text`. FTS5 reads that view
only for `snippet()` of the rows a search returns, and to delete a row it is given the old text
(files.py reads it back). Every connection must register `amc_text` (`connect` does).
"""
import logging
import os
import sqlite3
import zlib
from typing import Any, Optional, Tuple

log = logging.getLogger("amc.index")

SCHEMA_VERSION = 1
WAL_LIMIT = 4 * 1024 * 1024
COMPRESS_OVER = 160        # shorter texts are stored as they are
# bm25 weights per column: what was said counts more than tool output or thinking.
RANK = "bm25(1.0, 0.5, 0.5)"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, agent TEXT NOT NULL,
    session_id TEXT NOT NULL, project TEXT NOT NULL, project_dir TEXT NOT NULL,
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE INDEX files_session ON files (session_id);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, n INTEGER NOT NULL,
    message_id TEXT NOT NULL, role TEXT NOT NULL, timestamp TEXT NOT NULL, fp INTEGER NOT NULL,
    text, tools, thinking);
CREATE UNIQUE INDEX messages_file_n ON messages (file_id, n);
CREATE VIEW docs AS SELECT id, amc_text(text) AS text, amc_text(tools) AS tools,
    amc_text(thinking) AS thinking FROM messages;
CREATE VIRTUAL TABLE fts USING fts5(text, tools, thinking, content='docs', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
"""


class IndexUnavailable(Exception):
    """The index cannot be used (no FTS5 in this SQLite, the file cannot be created...)."""


class NoFts(IndexUnavailable):
    """This Python's SQLite has no FTS5: search can never run (not retried)."""


class IndexDamaged(IndexUnavailable):
    """The file is not a database, is corrupt or is gone: the next walk makes it again."""


class IndexFull(IndexUnavailable):
    """The disk holding the index (or SQLite's size limit) is full: nothing more is written."""


_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_BUSY_WORDS = ("database is locked", "database table is locked")
_GARBLED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_GARBLED_WORDS = ("malformed", "not a database")
_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CANTOPEN", "SQLITE_READONLY_DBMOVED")
_DAMAGED_WORDS = ("malformed", "not a database", "unable to open", "no such table",
                  "no such function", "no such module")


def explain(e: BaseException, path: str) -> IndexUnavailable:
    """Return SQLite's error `e` on the index at `path` as words, of the kind it is.

    Python 3.11 names the error code (`sqlite_errorname`); 3.9 and 3.10 only have the message.
    A full disk is SQLITE_FULL ("database or disk is full"); a file removed while a connection
    had it open is READONLY_DBMOVED ("attempt to write a readonly database").
    """
    if isinstance(e, IndexUnavailable):
        return e
    name = str(getattr(e, "sqlite_errorname", "") or "")
    text = str(e)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return IndexFull("the disk holding the search index %s is full (%s): new messages are "
                         "not indexed until there is space" % (path, text))
    if name.startswith(_BUSY) or any(w in text for w in _BUSY_WORDS):
        return IndexUnavailable("the search index %s is in use: %s" % (path, text))
    # What the file held is damage even when the rebuild has removed it since (a race with
    # the walk): said as damage, not as a missing file.
    if name.startswith(_GARBLED) or any(w in text for w in _GARBLED_WORDS):
        return IndexDamaged("the search index %s is damaged (%s): it is being rebuilt"
                            % (path, text))
    if not os.path.exists(path):
        return IndexDamaged("the search index %s is missing: it is being made again" % path)
    if name.startswith(_DAMAGED) or any(w in text for w in _DAMAGED_WORDS):
        return IndexDamaged("the search index %s is damaged (%s): it is being rebuilt"
                            % (path, text))
    return IndexUnavailable("the search index %s cannot be used: %s" % (path, text))


def pack(text: str) -> Any:
    """Return `text` as stored: short texts as they are, longer ones zlib-compressed."""
    if len(text) < COMPRESS_OVER:
        return text
    return zlib.compress(text.encode("utf-8"), 6)


def unpack(value: Any) -> str:
    """Return the text of a stored value (what `pack` made; NULL is "")."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            return zlib.decompress(value).decode("utf-8", "replace")
        except zlib.error:
            return ""
    return str(value)


def connect(path: str, create: bool = True) -> sqlite3.Connection:
    """Open a connection with `amc_text` registered; any thread may use it (callers lock).

    With `create=False` a missing file is an error, not a new empty database (searches)."""
    if create:
        conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
    else:
        conn = sqlite3.connect("file:%s?mode=rw" % _uri_path(path), uri=True, timeout=5.0,
                               check_same_thread=False)
    conn.create_function("amc_text", 1, unpack, deterministic=True)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _uri_path(path: str) -> str:
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


def open_index(path: str) -> sqlite3.Connection:
    """Open (creating or rebuilding as needed) the index at `path`; return the writer connection.

    Raises IndexUnavailable with a reason for a person when the index cannot be used at all.
    """
    return open_or_create(path)[0]


def open_or_create(path: str) -> Tuple[sqlite3.Connection, bool]:
    """Return the writer connection to the index at `path`, and whether the file is new
    (created, or rebuilt: empty). Raises IndexUnavailable (or a kind of it) in words."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        # The data dir is the server's to make (at its start): one removed while it runs is a
        # problem the page shows (core/setup.py), not something the walk should hide by making it
        raise IndexUnavailable("the data dir %s does not exist" % directory)
    conn = None
    try:
        conn = connect(path)
        version = _version(conn)
        if version == str(SCHEMA_VERSION):
            _pragmas(conn)
            return conn, False
        if version is not None:
            log.info("search index %s has version %s, not %d: rebuilding it", path, version,
                     SCHEMA_VERSION)
    except sqlite3.DatabaseError as e:  # not a database, corrupt, unreadable
        problem = explain(e, path)
        if not isinstance(problem, IndexDamaged):  # a full disk or a lock: keep the file
            if conn is not None:
                conn.close()
            raise problem from None
        log.warning("search index %s is unusable (%s): rebuilding it", path, e)
    if conn is not None:
        conn.close()
    remove_files(path)
    try:
        return _create(path), True
    except sqlite3.DatabaseError as e:
        remove_files(path)
        if "fts5" in str(e).lower():
            raise NoFts("this Python's SQLite (%s) has no FTS5: search is "
                        "unavailable" % sqlite3.sqlite_version) from None
        if isinstance(explain(e, path), IndexFull):
            raise IndexFull("cannot create the search index %s: the disk is full (%s)"
                            % (path, e)) from None
        raise IndexUnavailable("cannot create the search index %s: %s" % (path, e)) from None


def _version(conn: sqlite3.Connection) -> Optional[str]:
    """Return the schema version stored in the file, or None for an empty (new) file."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "meta" not in tables:
        return "unknown"
    row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    return str(row[0]) if row else "unknown"


def _pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # derived data: a lost last commit is re-indexed
    conn.execute("PRAGMA journal_size_limit = %d" % WAL_LIMIT)  # the WAL shrinks back after use


def _create(path: str) -> sqlite3.Connection:
    conn = connect(path)
    try:
        os.chmod(path, 0o600)  # transcripts hold prompts and tool output
    except OSError:
        pass
    _pragmas(conn)
    with conn:
        conn.executescript(SCHEMA)
        conn.execute("INSERT INTO fts (fts, rank) VALUES ('rank', ?)", (RANK,))
        conn.execute("INSERT INTO meta (key, value) VALUES ('version', ?)", (str(SCHEMA_VERSION),))
    return conn


def remove_files(path: str) -> None:
    """Remove the index file and its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("cannot remove %s: %s", path + suffix, e)
