"""The Activity feed: every hook event and every line of Claude Code's prompt history, newest first.

Place in the flow: the hook's `events/<session>.jsonl` (one line per hook event, append-only) and
`$CLAUDE_CONFIG_DIR/history.jsonl` (one line per prompt the user typed) -> the core's watchers and
the hooks' doorbell -> `Core.on_paths` -> here -> `GET /api/activity` and `activity` events
on the core's event log (`/api/stream?follow=*activity`, `amc stream`; a hub re-publishes its
remotes' ones, remote/hub.py). It is a consumer of the core's file changes, not a second watcher.

Why it is built like this:
- Files are tailed by offset: a change reads only the bytes appended since the last read; a line
  without its newline yet (a writer mid-write) waits for the next change; a file replaced or
  shorter than before is read again from its start. A line that does not parse is not dropped: it
  becomes an event of type `unparsed` with the parse error as its summary and the text as `raw`.
- The last MAX_KEPT events are kept in memory. At start they are read from the END of each file
  (blocks read backwards, newest files first, stopping once older files cannot hold newer
  events), never the whole history: a 200 MB history.jsonl costs a few reads.
- Memory is bounded: a line over MAX_LINE is not held (an `unparsed` event says how long it was),
  and each event's `raw` is cut to about RAW_BYTES (long strings shortened, `truncated: true`;
  what a line says, its summary and bound, is consumers/activity_lines.py).
- Events are published with `session_id=TOPIC` on the core's log, so only streams that follow
  TOPIC get them: the cards' stream, replays and `amc stream` stay as they were.
"""
import logging
import os
import threading
from typing import Any, Dict, List, Optional, Tuple

from .. import jsonl, model, store
from .activity_lines import RAW_BYTES, bounded, clip, from_history_line, from_hook_line

log = logging.getLogger("amc.activity")

TOPIC = "*activity"        # the follow "session" whose subscribers get `activity` events
MAX_KEPT = 1000
DEFAULT_LIMIT = 200
MAX_LINE = 1 << 20         # a longer line is skipped (shown as unparsed, without its text)
READ_CAP = 4 << 20         # at most this much is read per change (a burst is cut to its end)
MAX_BURST = 500            # events published per change at most (a subscriber queue holds 1024)
BLOCK = 64 * 1024          # backwards reads at start
BACKLOG_CAP = 8 << 20      # at most this much of one file is read at start
TITLE_BUDGET_S = 0.5       # reading transcripts for the titles of one GET /api/activity


class _Lines(jsonl.Sink):
    """What one read of a file hands over (jsonl.Tail): events, in file order."""

    def __init__(self, feed: "Activity", path: str, tail: jsonl.Tail) -> None:
        self.feed, self.path, self.tail = feed, path, tail
        self.events: List[Dict[str, Any]] = []

    def line(self, raw: bytes, line_no: int, obj: Any = jsonl.UNDECODED) -> None:
        event = self.feed._event(self.path, self.tail.at, raw)
        if event is not None:
            self.events.append(event)

    def skip(self, line_no: int, reason: str) -> None:
        # a line that never ends: said once, skipped to its newline
        self.events.append(self.feed._unparsed(
            self.path, self.tail.at, b"", "a line over %d bytes was skipped" % MAX_LINE, ""))


class Activity:
    """The feed; `core` is the live core (its paths, its event log, its path listeners)."""

    def __init__(self, core: Any, kept: int = MAX_KEPT) -> None:
        self.core = core
        self.paths = core.paths
        self.kept = kept
        self._events: List[Dict[str, Any]] = []     # oldest first, at most `kept`
        self._tails: Dict[str, jsonl.Tail] = {}
        self._lock = threading.Lock()
        self._loaded = False
        self.stats = {"read_bytes": 0, "unparsed": 0, "backlog_bytes": 0, "backlog_files": 0}
        core.on_paths(self.changed)

    # -- what the API asks -------------------------------------------------------------------

    def recent(self, limit: int = DEFAULT_LIMIT) -> List[Dict[str, Any]]:
        """Return the newest `limit` events, newest first (by `ts`, then arrival)."""
        self.load()
        if self.paths.claude_history:  # no doorbell for it: a missed watch event is caught here
            self.core.apply(self.paths.claude_history)
            self.core.flush()
        with self._lock:
            events = list(self._events)
        order = sorted(range(len(events)), key=lambda i: (events[i]["ts"], i), reverse=True)
        events = [events[i] for i in order[:max(0, limit)]]
        found = self.titles(events, TITLE_BUDGET_S)  # as they are now
        return [dict(e, title=found.get(e.get("session_id") or "", e.get("title") or ""))
                for e in events]

    def titles(self, events: List[Dict[str, Any]], budget_s: float) -> Dict[str, str]:
        """Return session id -> title (the History's: history.History.titles_for) of this
        machine's sessions named by `events`; {} when the History cannot say."""
        sids = {e.get("session_id") for e in events if not e.get("machine")}
        if not sids - {None, ""}:
            return {}
        from . import history  # the History (and its readers) only once something is titled
        try:
            return history.for_paths(self.paths, self.core).titles_for(sids, budget_s)
        except Exception:  # a title is never worth an event
            log.exception("activity: titling sessions failed")
            return {}

    # -- reading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the backlog from the ends of the files, once (the core calls it at start)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            try:
                self._events = self._backlog()
            except Exception:  # never keeps the core from starting
                log.exception("activity: reading the backlog failed")

    def changed(self, paths: List[str]) -> None:
        """The core saw these files change (or, for a directory, anything in it): publish what
        was appended to each."""
        self.load()
        files: List[str] = []
        for path in paths:
            if path == self.paths.events:
                files += [p for p, _ in self._sources() if p != self.paths.claude_history]
            elif path == self.paths.claude_dir:
                files.append(self.paths.claude_history)
            elif path not in files:
                files.append(path)
        for path in files:
            try:
                events = self._read_new(path)
                found = self.titles(events, 0.0)  # the core's thread: nothing slow
                for event in events:
                    event["title"] = found.get(event.get("session_id") or "", "")
                if len(events) > MAX_BURST:
                    log.warning("activity: %d new lines in %s at once: publishing the last %d",
                                len(events), path, MAX_BURST)
                for i, event in enumerate(events):
                    self._add(event, publish=i >= len(events) - MAX_BURST)
            except Exception:
                log.exception("activity: reading %s failed", path)

    def add_remote(self, event: Dict[str, Any]) -> None:
        """Keep and publish another machine's event (already checked and addressed by the hub)."""
        self.load()
        event.setdefault("title", "")
        self._add(event)

    def _add(self, event: Dict[str, Any], publish: bool = True) -> None:
        with self._lock:
            self._events.append(event)
            if len(self._events) > self.kept:
                del self._events[:len(self._events) - self.kept]
        if publish:
            self.core.log.publish("activity", store.dumps(event, ensure_ascii=False,
                                                      separators=(",", ":")), session_id=TOPIC)

    def _sources(self) -> List[Tuple[str, os.stat_result]]:
        """Return (path, stat) of every hook event log and of the history that exist now."""
        try:
            names = os.listdir(self.paths.events)
        except OSError:
            names = []
        paths = [os.path.join(self.paths.events, n) for n in names
                 if n.endswith(".jsonl") and not n.startswith(".")]
        if self.paths.claude_history:
            paths.append(self.paths.claude_history)
        out = []
        for path in paths:
            try:
                out.append((path, os.stat(path)))
            except OSError:
                continue
        return out

    def _backlog(self) -> List[Dict[str, Any]]:
        """Return the newest `kept` events of every file, oldest first; set every file's offset."""
        found: List[Tuple[str, int, Dict[str, Any]]] = []   # (ts, order, event)
        files = sorted(self._sources(), key=lambda ps: ps[1].st_mtime_ns, reverse=True)
        order = 0
        oldest: Optional[str] = None   # the oldest ts kept, once `kept` are found
        for path, st in files:
            if oldest is not None and oldest > model.now_iso(st.st_mtime_ns / 1e9):
                # last written before the oldest event we keep: nothing newer in it
                self._tails[path] = _started(path, st, st.st_size, self.paths)
                continue
            lines, end, read = jsonl.last_lines(path, st.st_size, self.kept,
                                                follow=path == self.paths.claude_history,
                                                block=BLOCK, max_line=MAX_LINE, cap=BACKLOG_CAP)
            self.stats["backlog_bytes"] += read
            self.stats["backlog_files"] += 1
            self._tails[path] = _started(path, st, end, self.paths)
            for offset, raw in lines:
                event = self._event(path, offset, raw)
                if event is not None:
                    order += 1
                    found.append((event["ts"], order, event))
            if len(found) >= 2 * self.kept or (oldest is None and len(found) >= self.kept):
                found = sorted(found, key=_by_time)[-self.kept:]
                oldest = found[0][0]
        return [e for _, _, e in sorted(found, key=_by_time)[-self.kept:]]

    def _read_new(self, path: str) -> List[Dict[str, Any]]:
        """Return the events of the whole lines appended to `path` since the last read."""
        try:
            st = os.stat(path)
        except OSError:
            with self._lock:
                self._tails.pop(path, None)  # gone (housekeeping): a new file starts at 0
            return []
        identity = (st.st_dev, st.st_ino)
        with self._lock:
            tail = self._tails.get(path)
            if tail is None or tail.identity != identity or st.st_size < tail.offset:
                # new, replaced or truncated: read from its start (store.open_read refuses a
                # FIFO; event logs are AMC's own files, so a symlink there reads as nothing)
                tail = self._tails[path] = _started(path, st, 0, self.paths)
        if st.st_size - tail.offset > READ_CAP:
            log.warning("activity: %s grew by %d bytes at once: reading its last %d only",
                        path, st.st_size - tail.offset, READ_CAP)
            tail.jump(st.st_size - READ_CAP)
        lines = _Lines(self, path, tail)
        before = tail.offset
        try:
            tail.refresh(lines)
        except OSError as e:
            log.warning("activity: cannot read %s: %s", path, e)
            return []
        self.stats["read_bytes"] += max(0, tail.offset - before)
        return lines.events

    # -- one line -> one event -------------------------------------------------------------------

    def _event(self, path: str, offset: int, raw: bytes) -> Optional[Dict[str, Any]]:
        """Return the event of one line (None for a blank one)."""
        history = path == self.paths.claude_history
        sid = "" if history else os.path.basename(path)[:-len(".jsonl")]
        if not raw.strip():
            return None
        if len(raw) > MAX_LINE:
            return self._unparsed(path, offset, b"", "a line of %d bytes was skipped (over %d)"
                                  % (len(raw), MAX_LINE), sid)
        try:
            obj = store.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("a JSON %s, not an object" % type(obj).__name__)
        except (ValueError, UnicodeDecodeError) as e:
            return self._unparsed(path, offset, raw, "not JSON: %s" % e, sid)
        fields = from_history_line(obj) if history else from_hook_line(obj, sid)
        raw_obj, cut = bounded(obj)
        event = {"id": self._id(path, offset), "ts": fields.pop("ts"), "type": fields.pop("type"),
                 "session_id": fields.pop("session_id"), "machine": "",
                 "summary": fields.pop("summary"), "raw": raw_obj,
                 "source": "history" if history else "events"}
        event.update(fields)
        if cut:
            event["truncated"] = True
        return event

    def _unparsed(self, path: str, offset: int, raw: bytes, error: str,
                  sid: str) -> Dict[str, Any]:
        self.stats["unparsed"] += 1
        history = path == self.paths.claude_history
        text = raw.decode("utf-8", "replace")
        event = {"id": self._id(path, offset), "ts": _mtime_iso(path), "type": "unparsed",
                 "session_id": "" if history else sid, "machine": "",
                 "summary": clip("Could not read a line of %s (at byte %d): %s" % (
                     os.path.basename(path), offset, error)),
                 "raw": text[:RAW_BYTES], "source": "history" if history else "events",
                 "error": error}
        if len(text) > RAW_BYTES:
            event["truncated"] = True
        return event

    def _id(self, path: str, offset: int) -> str:
        if path == self.paths.claude_history:
            return "h-%d" % offset
        return "e-%s-%d" % (os.path.basename(path)[:-len(".jsonl")], offset)


def _started(path: str, st: os.stat_result, offset: int, paths: Any) -> jsonl.Tail:
    """Return the tail of a file whose first `offset` bytes the backlog took."""
    tail = jsonl.Tail(path, follow=path == paths.claude_history, max_line=MAX_LINE)
    tail.start_at(offset, (st.st_dev, st.st_ino))
    return tail


def _by_time(item: Tuple[str, int, Dict[str, Any]]) -> Tuple[str, int]:
    return item[0], item[1]


def _mtime_iso(path: str) -> str:
    try:
        return model.now_iso(os.stat(path).st_mtime)
    except OSError:
        return model.now_iso()
