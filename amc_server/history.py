"""History: every session AMC can find on this machine, live or long finished, with its usage.

Place in the flow: Claude's transcripts (`$CLAUDE_CONFIG_DIR/projects/<dir>/<id>.jsonl`) and
Codex's rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*-<id>.jsonl`) -> `History.scan` ->
`GET /api/history` (the list, newest first) and `GET /api/usage` (totals per project and per
day). Each file is read once (usage.UsageFile plus what a list needs: title, project, times;
the title by agents/titles.py, and a `summary` another file wrote for this file's last record
when it has no title of its own)
and remembered by (path, size, mtime, inode) in `<data dir>/history.json`, so a second request
reads no unchanged file; a file that grew is read on from where it was when its reader is still
in memory. A request reads for at most READ_BUDGET_S: a first scan of years of transcripts
answers with what it has (`complete: false`, the rest listed from the file alone) and the next
request goes on. Other machines' history is not listed yet (`machine` is always "").

The same titles name sessions in search results and the Activity feed: `titles_for` answers
from what the History already holds (a file that grew is read on), so one rule and one cache
serve all three (docs/search.md, docs/activity.md).
"""
import collections
import logging
import os
import stat
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .. import model, store
from ..agents import pricing
from .history_file import HistoryFile
from ..agents import titles
from ..errors import BadRequest
from ..paths import Paths
from ..agents.usage import FIELDS

log = logging.getLogger("amc.history")

CACHE_VERSION = 2        # 2: titles by agents/titles.py (a cache of 1 holds "/clear" titles)
READ_BUDGET_S = 3.0      # reading per request; the rest is read in the background
SLICE_S = 0.5            # the background reads this long at a time, between requests
READERS = 32             # files kept open for incremental reads (the ones that grow: live)
TITLE_BUDGET_S = 0.5     # reading per titles_for of a request (search, activity)
RESCAN_S = 5.0           # titles_for looks for sessions it does not know at most this often
LIVE_READ_BYTES = 1 << 20  # on the core's thread, only this much is read on at once
LIVE_WAIT_S = 0.02       # ... and it waits this long at most for the History's lock
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
AGENTS = ("claude", "codex")

Sig = Tuple[int, int, int]   # size, mtime_ns, inode


def _sig(path: str) -> Optional[Sig]:
    """Return (size, mtime_ns, inode) of a regular file, else None (gone, a directory...)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def find_files(paths: Paths) -> List[Tuple[str, str, str]]:
    """Return (agent, session id, path) of every session file on this machine (the one walk of
    Claude's projects and Codex's rollouts: index/documents.py)."""
    from ..index.documents import walk
    return [(agent, sid, path) for agent, path, sid in walk(paths)]


class History:
    """The history of this machine's sessions; one per server, safe to call from any thread."""

    def __init__(self, paths: Paths, budget_s: float = READ_BUDGET_S) -> None:
        self.paths = paths
        self.budget_s = budget_s
        self._lock = threading.Lock()
        self._files: Dict[str, Dict[str, Any]] = {}     # path -> {"sig", "entry", "days"}
        self._loaded = False
        self._dirty = False
        self._readers: "collections.OrderedDict[str, HistoryFile]" = collections.OrderedDict()
        self.stats = collections.Counter()
        self._finisher: Optional[threading.Thread] = None
        self._by_sid: Dict[str, str] = {}                # session id -> path (of _files)
        self._generation = 0                             # bumped when _files changes
        self._summaries: Tuple[int, Dict[str, str]] = (-1, {})
        self._walked = float("-inf")                     # monotonic time of the last scan

    # -- the scan -----------------------------------------------------------------------------

    def scan(self, budget_s: Optional[float] = None) -> Tuple[List[Dict[str, Any]], bool]:
        """Return (one record per session file, whether every file was read for this answer).

        Files not read within the budget are listed bare and read by a background thread, so
        the next request finds them.
        """
        with self._lock:
            self._load()
            self._walked = time.monotonic()
            deadline = time.monotonic() + (self.budget_s if budget_s is None else budget_s)
            complete = True
            read = 0
            records = []
            files = [(agent, sid, path, _sig(path)) for agent, sid, path in find_files(self.paths)]
            files = [f for f in files if f[3] is not None]
            files.sort(key=lambda f: -f[3][1])       # newest first: read those first
            seen = set()
            for agent, sid, path, sig in files:
                seen.add(path)
                cached = self._files.get(path)
                if cached is not None and tuple(cached["sig"]) == sig:
                    records.append(cached)
                    continue
                if read and time.monotonic() > deadline:
                    complete = False  # the next request goes on from here
                    records.append(cached or self._bare(agent, sid, path, sig))
                    continue
                records.append(self._read(agent, sid, path, sig))
                read += 1
            for path in [p for p in self._files if p not in seen]:
                sid = self._files.pop(path)["entry"].get("session_id")  # the file is gone
                if self._by_sid.get(sid) == path:
                    del self._by_sid[sid]
                self._readers.pop(path, None)
                self._dirty = True
                self._generation += 1
            if self._dirty:
                self._save()
            if not complete and budget_s is None:
                self._finish_later()
            return records, complete

    def _finish_later(self) -> None:
        """Read the rest on a thread of its own (one at a time), for the next request."""
        if self._finisher is not None and self._finisher.is_alive():
            return

        def finish() -> None:
            try:  # in slices: a request waits for one slice at most, never for all of it
                while not self.scan(budget_s=SLICE_S)[1]:
                    time.sleep(0.01)
            except Exception:
                log.exception("history: reading the rest failed")
        self._finisher = threading.Thread(target=finish, name="amc-history", daemon=True)
        self._finisher.start()

    def _read(self, agent: str, sid: str, path: str, sig: Sig) -> Dict[str, Any]:
        reader = self._readers.pop(path, None)
        if reader is None or reader.kind != agent:
            reader = HistoryFile(path, agent, sid, pause_s=0.002)  # the core runs beside
            self.stats["full_reads"] += 1
        else:
            self.stats["continued_reads"] += 1
        try:
            reader.refresh()
        except OSError as e:
            log.warning("history: cannot read %s: %s", path, e)
            return self._bare(agent, sid, path, sig)
        self._readers[path] = reader
        while len(self._readers) > READERS:
            self._readers.popitem(last=False)
        size = reader.offset if reader.offset else sig[0]
        project_dir = reader.cwd
        entry = {
            "session_id": sid, "machine": "", "agent": agent,
            "project": model.project_name(project_dir) if project_dir else "",
            "project_dir": project_dir, "title": reader.title(),
            "started_at": reader.started_at or reader.acc.first_at or _iso_ns(sig[1]),
            "last_activity": reader.last_at or _iso_ns(sig[1]),
            "bytes": max(size, sig[0]), "usage": reader.usage(),
        }
        record = {"sig": list(sig), "entry": entry, "days": reader.acc.day_state(),
                  "title_source": reader.titles.source(), "leaf": reader.titles.leaf,
                  "summaries": dict(reader.titles.other_leaves())}
        self._files[path] = record
        self._by_sid[sid] = path
        self._dirty = True
        self._generation += 1
        return record

    @staticmethod
    def _bare(agent: str, sid: str, path: str, sig: Sig) -> Dict[str, Any]:
        """What the file alone says, for a file not read yet (this request ran out of time)."""
        when = _iso_ns(sig[1])
        return {"sig": list(sig), "days": {}, "pending": True, "entry": {
            "session_id": sid, "machine": "", "agent": agent, "project": "", "project_dir": "",
            "title": "", "started_at": when, "last_activity": when, "bytes": sig[0],
            "usage": None}}

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        data = store.read_json(self.paths.history_cache) if self.paths.history_cache else None
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or \
                not isinstance(data.get("files"), dict):
            if data is not None:
                log.info("history: %s is not a cache of this version, read again",
                         self.paths.history_cache)
            return
        for path, record in data["files"].items():
            if isinstance(record, dict) and isinstance(record.get("entry"), dict) and \
                    isinstance(record.get("sig"), list) and len(record["sig"]) == 3:
                self._files[path] = record
                if isinstance(record["entry"].get("session_id"), str):
                    self._by_sid[record["entry"]["session_id"]] = path
        self._generation += 1

    def _save(self) -> None:
        self._dirty = False
        if not self.paths.history_cache:
            return
        try:
            store.ensure_dir(os.path.dirname(self.paths.history_cache))
            store.write_json_atomic(self.paths.history_cache,
                                    {"version": CACHE_VERSION, "files": self._files})
        except OSError as e:  # a read-only data dir: the history still answers, uncached
            log.warning("history: cannot write %s: %s", self.paths.history_cache, e)

    # -- titles for the search and the Activity feed ------------------------------------------

    def titles_for(self, session_ids: Iterable[str],
                   budget_s: float = TITLE_BUDGET_S) -> Dict[str, str]:
        """Return session id -> title (agents/titles.py, as GET /api/history says it) of the
        sessions of this machine among `session_ids` that the History knows.

        A known file that changed is read on, within `budget_s`; a session not known yet has
        the History scan for new files (within `budget_s`, at most every RESCAN_S; the rest in
        the background). With `budget_s` 0 (the core's thread) nothing is walked and only a
        file whose reader is in memory is read on, at most LIVE_READ_BYTES of it: the rest is
        read in the background, for the next call.
        """
        wanted = {s for s in session_ids if isinstance(s, str) and s and ":" not in s}
        if not wanted:
            return {}
        # The core's thread never waits for a scan that holds the lock (a slice, SLICE_S).
        if not self._lock.acquire(timeout=-1 if budget_s > 0 else LIVE_WAIT_S):
            return {}
        try:
            self._load()
            out, missing, later = self._known_titles(wanted, budget_s)
            walk = bool(missing) and time.monotonic() - self._walked >= RESCAN_S
        finally:
            self._lock.release()
        if walk and budget_s > 0:
            complete = self.scan(budget_s=budget_s)[1]
            later = later or not complete
            with self._lock:
                found, _, _ = self._known_titles(missing, 0.0)
            out.update(found)
        elif walk:
            self._walked = time.monotonic()  # at most every RESCAN_S, as the walk above
            later = True
        if later:
            self._finish_later()
        return out

    def _known_titles(self, wanted: Iterable[str], budget_s: float
                      ) -> Tuple[Dict[str, str], set, bool]:
        """Return (titles of the known sessions, the unknown ids, whether some file was left
        for the background); under the lock."""
        deadline = time.monotonic() + budget_s
        out: Dict[str, str] = {}
        missing, later = set(), False
        for sid in wanted:
            path = self._by_sid.get(sid)
            record = self._files.get(path) if path else None
            if record is None:
                missing.add(sid)
                continue
            sig = _sig(path)
            if sig is not None and tuple(record["sig"]) != sig:
                reader = self._readers.get(path)
                if budget_s > 0 and time.monotonic() <= deadline or \
                        budget_s <= 0 and reader is not None and \
                        sig[0] - reader.offset <= LIVE_READ_BYTES:
                    record = self._read(record["entry"]["agent"], sid, path, sig)
                else:
                    later = True
            if record.get("title_source") in ("prompt", "command", "") and record.get("leaf"):
                out[sid] = _titled(record, self._all_summaries())["title"]
            else:
                out[sid] = record["entry"]["title"]
        return out, missing, later

    def _all_summaries(self) -> Dict[str, str]:
        """Return _summaries of every file, computed again only when a file changed."""
        if self._summaries[0] != self._generation:
            self._summaries = (self._generation, _summaries(list(self._files.values())))
        return self._summaries[1]

    # -- the answers --------------------------------------------------------------------------

    def sessions(self, query: Dict[str, str]) -> Dict[str, Any]:
        """GET /api/history[?project=&agent=&limit=&before=]: sessions, newest first."""
        project, agent, before = (str(query.get(k) or "") for k in ("project", "agent", "before"))
        if agent and agent not in AGENTS:
            raise BadRequest("agent must be one of %s" % ", ".join(AGENTS))
        if before and model.parse_iso(before) <= 0:
            raise BadRequest("before must be an ISO-8601 time (a last_activity), got %r"
                             % before[:100])
        limit = _limit(query.get("limit"))
        records, complete = self.scan()
        rows = [_titled(r, summaries) for summaries in [_summaries(records)]
                for r in records if _matches(r["entry"], project, agent)]
        rows.sort(key=lambda e: (e["last_activity"], e["session_id"]), reverse=True)
        if before:
            rows = [e for e in rows if e["last_activity"] < before]
        more = len(rows) > limit
        rows = rows[:limit]
        return {"sessions": rows, "complete": complete, "more": more,
                "next_before": rows[-1]["last_activity"] if more and rows else None}

    def totals(self, query: Dict[str, str]) -> Dict[str, Any]:
        """GET /api/usage[?days=N&agent=]: totals per project and per local day (N days, 0 all)."""
        agent = str(query.get("agent") or "")
        if agent and agent not in AGENTS:
            raise BadRequest("agent must be one of %s" % ", ".join(AGENTS))
        days = _int(query.get("days"), 30, 0, 3660)
        since = time.strftime("%Y-%m-%d", time.localtime(time.time() - (days - 1) * 86400)) \
            if days else ""
        records, complete = self.scan()
        total = _Total()
        by_project: Dict[str, _Total] = {}
        by_day: Dict[str, _Total] = {}
        for r in records:
            entry = r["entry"]
            if agent and entry["agent"] != agent:
                continue
            key = entry["project_dir"] or ""
            for day, state in (r.get("days") or {}).items():
                if since and (not day or day < since):
                    continue
                for bucket in (total, by_project.setdefault(key, _Total(entry)),
                               by_day.setdefault(day, _Total())):
                    bucket.add(state, entry["session_id"])
        projects = sorted(by_project.values(), key=lambda t: (-t.pico, t.project_dir))
        return {"days": days, "since": since or None, "complete": complete,
                "total": total.as_dict(),
                "projects": [dict(p.as_dict(), project=p.project, project_dir=p.project_dir)
                             for p in projects],
                "per_day": [dict(by_day[d].as_dict(), day=d) for d in sorted(by_day) if d]}


class _Total:
    """Sums of day buckets (usage.Sums.state) over sessions."""

    def __init__(self, entry: Optional[Dict[str, Any]] = None) -> None:
        self.project = entry["project"] if entry else ""
        self.project_dir = entry["project_dir"] if entry else ""
        self.tokens = [0, 0, 0, 0]
        self.pico = 0
        self.turns = 0
        self.unpriced: Dict[str, int] = {}
        self.sessions: set = set()

    def add(self, state: Any, sid: str) -> None:
        try:
            tokens, pico, unpriced, turns = state
            for i in range(4):
                self.tokens[i] += int(tokens[i])
            self.pico += int(pico)
            self.turns += int(turns)
            for name, n in dict(unpriced).items():
                self.unpriced[str(name)] = self.unpriced.get(str(name), 0) + int(n)
        except (TypeError, ValueError, IndexError):
            return  # a cache entry of another shape: counted when the file is read again
        self.sessions.add(sid)

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(zip(FIELDS, self.tokens))
        out.update(cost_usd=pricing.usd(self.pico), turns=self.turns,
                   sessions=len(self.sessions),
                   unpriced_models=sorted(m or "unknown" for m in self.unpriced),
                   unpriced_tokens=sum(self.unpriced.values()))
        return out


def _summaries(records: List[Dict[str, Any]]) -> Dict[str, str]:
    """Return leafUuid -> summary of every `summary` line that titles another file's chain."""
    out: Dict[str, str] = {}
    for r in records:
        if isinstance(r.get("summaries"), dict):
            out.update((k, v) for k, v in r["summaries"].items() if isinstance(v, str))
    return out


def _titled(record: Dict[str, Any], summaries: Dict[str, str]) -> Dict[str, Any]:
    """Return the record's entry, titled by a summary another file wrote for its chain (1.0.x-
    2.0.x wrote them at the top of later sessions' files) when the file has no title of its own
    (agents/titles.py)."""
    entry = record["entry"]
    if record.get("title_source") not in ("prompt", "command", ""):
        return entry
    text = titles.summary_for(record.get("leaf"), summaries)
    return dict(entry, title=model.preview(text, titles.TITLE_CHARS)) if text else entry


def _matches(entry: Dict[str, Any], project: str, agent: str) -> bool:
    if agent and entry["agent"] != agent:
        return False
    if project:
        return entry["project_dir"] == project if "/" in project else entry["project"] == project
    return True


def _int(value: Any, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadRequest("expected an integer, got %r" % str(value)[:50]) from None
    return max(low, min(high, n))


def _limit(value: Any) -> int:
    n = _int(value, DEFAULT_LIMIT, -1, 10 ** 9)
    if not 1 <= n <= MAX_LIMIT:
        raise BadRequest("limit must be between 1 and %d" % MAX_LIMIT)
    return n


def _iso_ns(mtime_ns: int) -> str:
    return model.now_iso(mtime_ns / 1e9)


def for_paths(paths: Paths, owner: Any) -> History:
    """Return the History kept on `owner` (the core), made at the first request."""
    with _MAKE:
        history = getattr(owner, "session_history", None)
        if history is None:
            history = owner.session_history = History(paths)
        return history


_MAKE = threading.Lock()

