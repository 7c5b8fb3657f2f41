"""What the core knows of each source, in memory, and how one changed file updates it.

Place in the flow: sources (files) -> here -> merge.py -> live.py. Each source is a table keyed
the way its files are: AMC's hook files by session id, Claude's registry by file, Codex rollouts by
file, Claude transcripts by session id (path and mtime). `Sources.changed(path)` re-reads exactly
one file, updates its table and returns the session ids whose merged view may have moved; nothing
here ever lists a directory except `scan_*`, which the core runs at start and when a watcher or
the reconcile says a directory changed. A file is re-read only when its (inode, size, mtime)
differs from what was read last time.
"""
import logging
import os
import time
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from .. import agents as agent_family
from .. import model, store
from ..agents.claude import registry as claude_registry
from ..agents.codex.discovery import to_session as rollout_session
from ..agents.codex.transcript import CodexTranscript
from ..agents.codex.discovery import date_dirs, rollout_id
from ..paths import Paths, valid_id

log = logging.getLogger("amc.core")

CODEX_ACTIVE_WINDOW_S = 600

Sig = Tuple[int, int, int]


def stat_sig(path: str) -> Optional[Sig]:
    """Return (inode, size, mtime_ns) of `path`, or None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


_refused: Dict[str, str] = {}  # transcript path -> the reason last logged (bounded)


def transcript_refusal(paths: Paths, path: str, session_id: str) -> str:
    """Return why `path` must not be read as the transcript of `session_id` ('' when it may).

    The one rule for every path that names a transcript (a hook file's `transcript_path`, a file
    found in Claude's projects/ or Codex's sessions/): a regular `.jsonl` file named exactly after
    the session (`<id>.jsonl`, or Codex's `rollout-<time>-<id>.jsonl`), and when the path is in
    an agent's transcript directory (Claude's projects/, Codex's sessions/), its real path stays
    in that directory's real path: a symlink pointing out is refused, a symlinked ~/.claude or
    projects/ as a whole still works.
    A refusal is logged once per path and reason.
    """
    if not path or not valid_id(session_id):
        return "no transcript path or session id"
    real = os.path.realpath(path)
    name = os.path.basename(real)
    where = os.path.abspath(path)
    outside = [root for root in (paths.claude_projects, paths.codex_sessions)
               if where.startswith(os.path.abspath(root) + os.sep)
               and not real.startswith(os.path.realpath(root) + os.sep)]
    if name != session_id + ".jsonl" and rollout_id(name) != session_id:
        reason = "its file name %r is not the session's" % name
    elif outside:
        reason = "its real path %s is outside %s" % (real, outside[0])
    elif not os.path.exists(real):
        return "missing"  # not logged: it may be written later
    elif not os.path.isfile(real):
        reason = "not a regular file"
    else:
        return ""
    if _refused.get(path) != reason:
        if len(_refused) > 1000:
            _refused.clear()
        _refused[path] = reason
        log.warning("transcript %s of session %s not read: %s", path, session_id, reason)
    return reason


def _ls(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


class Sources:
    """The in-memory tables of every source; used only from the core's thread (or under its lock)."""

    def __init__(self, paths: Paths, agents: Iterable[str] = agent_family.FAMILY) -> None:
        self.paths = paths
        self.agents = set(agents)
        self.sigs: Dict[str, Optional[Sig]] = {}           # path -> what we read last
        self.hooks: Dict[str, Dict[str, Any]] = {}          # sid -> session file contents
        self.registry: Dict[str, Dict[str, Any]] = {}       # registry file -> entry
        self.registry_sid: Dict[str, str] = {}              # sid -> registry file
        self.transcripts: Dict[str, str] = {}               # sid -> Claude transcript path
        self.mtimes: Dict[str, int] = {}                    # transcript path -> mtime_ns
        self.rollout_paths: Dict[str, str] = {}             # sid -> rollout path (all known)
        self.rollouts: Dict[str, CodexTranscript] = {}      # path -> parsed, while active
        self.rollout_sessions: Dict[str, Dict[str, Any]] = {}  # sid -> Session from its rollout
        self.alive: Dict[int, bool] = {}                    # pid -> last liveness seen
        self.names: Dict[str, Set[str]] = {}                # directory -> entries we know
        self.checked: Dict[str, int] = {}                   # transcript path -> inode let in
        self.window_s = CODEX_ACTIVE_WINDOW_S               # a rollout is live this long

    # -- which file is what ---------------------------------------------------------------------


    def transcript_of(self, agent: str, session_id: str) -> str:
        """Return the transcript file the tables know for a session of `agent` ("" if none)."""
        table = self.transcripts if agent == "claude" else self.rollout_paths
        return table.get(session_id) or ""
    def kind(self, path: str) -> str:
        """Return what `path` is: hook, registry, transcript, rollout, setup, events, history
        or ''."""
        d, name = os.path.split(path)
        p = self.paths
        if d == p.sessions:
            return "hook" if name.endswith(".json") and not name.startswith(".") else ""
        if d == p.claude_sessions:
            return "registry" if name.endswith(".json") and not name.startswith(".") else ""
        if os.path.dirname(d) == p.claude_projects:
            return "transcript" if name.endswith(".jsonl") else ""
        if name.startswith("rollout-") and path.startswith(p.codex_sessions + os.sep):
            return "rollout"
        if path in (p.claude_settings, p.codex_hooks, p.codex_config):
            return "setup"
        # Read by the Activity feed (consumers/activity.py), not by these tables.
        if d == p.events:
            return "events" if name.endswith(".jsonl") and not name.startswith(".") else ""
        if path == p.claude_history:
            return "history"
        return ""

    def changed(self, path: str, now: Optional[float] = None) -> Set[str]:
        """Re-read one changed file; return the session ids whose view may have changed."""
        kind = self.kind(path)
        if kind in ("", "setup", "events", "history"):
            return set()
        sig = stat_sig(path)
        if sig is not None and self.sigs.get(path) == sig:
            return set()  # touched, not changed (the active window moves in `expire`)
        d, name = os.path.split(path)
        if sig is None:
            self.sigs.pop(path, None)
            self.names.get(d, set()).discard(name)
        else:
            self.sigs[path] = sig
            self.names.setdefault(d, set()).add(name)
        return getattr(self, "_" + kind)(path, sig, time.time() if now is None else now)

    def _hook(self, path: str, sig: Optional[Sig], now: float) -> Set[str]:
        sid = os.path.basename(path)[:-5]
        # never a symlink (it could lead out of the data dir), a FIFO or a huge file (store)
        data = store.read_json(path, follow=False) if sig is not None else None
        if isinstance(data, dict) and data.get("session_id") == sid and valid_id(sid):
            self.hooks[sid] = data
        elif sig is not None and sid in self.hooks:
            # Unreadable now (a writer not using atomic writes?): keep what we had; the next
            # change or the reconcile re-reads it.
            self.sigs.pop(path, None)
            return set()
        else:
            self.hooks.pop(sid, None)
        return {sid}

    def _registry(self, path: str, sig: Optional[Sig], now: float) -> Set[str]:
        old = self.registry.pop(path, None)
        affected = set()
        if old is not None:
            affected.add(str(old.get("sessionId")))
            if self.registry_sid.get(str(old.get("sessionId"))) == path:
                del self.registry_sid[str(old.get("sessionId"))]
        entry = store.read_json(path) if sig is not None else None
        if isinstance(entry, dict) and entry.get("kind", "interactive") == "interactive" \
                and valid_id(entry.get("sessionId")):
            self.registry[path] = entry
            sid = entry["sessionId"]
            current = self.registry.get(self.registry_sid.get(sid, ""))
            if current is None or _updated(entry) >= _updated(current):
                self.registry_sid[sid] = path
            affected.add(sid)
        for sid in affected:  # another file of the same session may remain
            if sid not in self.registry_sid:
                for p, e in self.registry.items():
                    if e.get("sessionId") == sid:
                        self.registry_sid[sid] = p
        return {s for s in affected if valid_id(s)}

    def _transcript(self, path: str, sig: Optional[Sig], now: float) -> Set[str]:
        sid = os.path.basename(path)[:-6]
        if not valid_id(sid):
            return set()
        if sig is not None and not self._readable(path, sig, sid):
            sig = None  # a symlink out of projects/, a FIFO: as if it were not there
        if sig is None:
            self.mtimes.pop(path, None)
            if self.transcripts.get(sid) == path:
                del self.transcripts[sid]
                others = [p for p in self.mtimes if os.path.basename(p) == sid + ".jsonl"]
                if others:
                    self.transcripts[sid] = max(others, key=lambda p: (self.mtimes[p], p))
        else:
            self.mtimes[path] = sig[2]
            current = self.transcripts.get(sid)
            if current is None or current == path or sig[2] >= self.mtimes.get(current, 0):
                self.transcripts[sid] = path  # the newest, if in several projects
        return {sid}

    def _readable(self, path: str, sig: Sig, sid: str) -> bool:
        """Apply transcript_refusal once per file (inode): not again on every append."""
        if self.checked.get(path) == sig[0]:
            return True
        if transcript_refusal(self.paths, path, sid):
            return False
        if len(self.checked) > 10000:
            self.checked.clear()
        self.checked[path] = sig[0]
        return True

    def _rollout(self, path: str, sig: Optional[Sig], now: float) -> Set[str]:
        sid = rollout_id(os.path.basename(path))
        if not sid:
            return set()
        if sig is not None and not self._readable(path, sig, sid):
            sig = None  # a symlink out of sessions/, a FIFO: as if it were not there
        if sig is None:
            if self.rollout_paths.get(sid) == path:
                del self.rollout_paths[sid]
            self.rollouts.pop(path, None)
            self.mtimes.pop(path, None)
            return {sid} if self.rollout_sessions.pop(sid, None) is not None else set()
        self.rollout_paths[sid] = path
        self.mtimes[path] = sig[2]
        before = self.rollout_sessions.get(sid)
        if sig[2] / 1e9 < now - self.window_s or "codex" not in self.agents:
            self.rollouts.pop(path, None)
            self.rollout_sessions.pop(sid, None)
            return {sid} if before is not None else set()
        t = self.rollouts.get(path)
        if t is None:
            t = self.rollouts[path] = CodexTranscript(path, sid)
        t.refresh()
        source = t.meta.get("source")
        if isinstance(source, dict) and "subagent" in source:
            self.rollout_sessions.pop(sid, None)  # a sub-agent thread has no pane to answer in
        else:
            self.rollout_sessions[sid] = rollout_session(t, sig[2])
        return {sid}

    # -- listing (start, overflow, reconcile) --------------------------------------------------

    def scan_dir(self, directory: str, now: Optional[float] = None) -> Set[str]:
        """Bring one directory's entries up to date; return the sessions that may have changed."""
        names = set(_ls(directory))
        affected: Set[str] = set()
        for name in self.names.get(directory, set()) - names:
            affected |= self.changed(os.path.join(directory, name), now)
        for name in names:
            affected |= self.changed(os.path.join(directory, name), now)
        return affected

    def roots(self) -> Set[str]:
        """Return the directories whose appearance or loss matters (watched, or waited for)."""
        p = self.paths
        return {p.data, p.sessions, p.claude_dir, p.claude_sessions, p.claude_projects,
                p.codex_home, p.codex_sessions, p.events}

    def session_dirs(self) -> List[str]:
        """Return the directories of the files that say a session is there: the hooks' session
        files and Claude's live-session registry (a few entries each, looked at often)."""
        p = self.paths
        return [p.sessions] + ([p.claude_sessions] if "claude" in self.agents else [])

    def dirs(self) -> List[str]:
        """Return the directories whose entries are sources (scanned and watched)."""
        p = self.paths
        out = [p.sessions]
        if "claude" in self.agents:
            out += [p.claude_sessions] + self.claude_project_dirs()
        if "codex" in self.agents:
            out += self.codex_dirs(recent=True)
        return out

    def claude_project_dirs(self) -> List[str]:
        return [os.path.join(self.paths.claude_projects, n) for n in _ls(self.paths.claude_projects)
                if os.path.isdir(os.path.join(self.paths.claude_projects, n))]

    def codex_dirs(self, now: Optional[float] = None, recent: bool = False) -> List[str]:
        """Return the Codex date directories, newest first; with `recent`, only the day dirs
        that can hold a rollout of the active window (agents/codex/discovery.date_dirs)."""
        return date_dirs(self.paths.codex_sessions, time.time() if now is None else now,
                         self.window_s if recent else None)

    def index_rollouts(self) -> None:
        """Learn the path of every rollout (by session id) without reading any of them."""
        for d in self.codex_dirs():
            for name in _ls(d):
                sid = rollout_id(name)
                if sid and sid not in self.rollout_paths:
                    self.rollout_paths[sid] = os.path.join(d, name)

    def expire(self, now: float) -> Set[str]:
        """Drop rollouts that left the active window; return their session ids."""
        gone = set()
        for path in list(self.rollouts):
            sig = self.sigs.get(path)
            if sig is None or sig[2] / 1e9 < now - self.window_s:
                t = self.rollouts.pop(path)
                if self.rollout_sessions.pop(t.session_id, None) is not None:
                    gone.add(t.session_id)
        return gone

    def pids(self) -> Dict[int, Set[str]]:
        """Return the pids the sources know, with the sessions each belongs to."""
        out: Dict[int, Set[str]] = {}
        for sid, data in self.hooks.items():
            if isinstance(data.get("pid"), int) and data["pid"] > 0:
                out.setdefault(data["pid"], set()).add(sid)
        for entry in self.registry.values():
            if isinstance(entry.get("pid"), int) and entry["pid"] > 0:
                out.setdefault(entry["pid"], set()).add(str(entry.get("sessionId")))
        return out

    def live_entry(self, sid: str) -> Optional[Dict[str, Any]]:
        """Return the registry entry of `sid` if its process still runs."""
        path = self.registry_sid.get(sid)
        entry = self.registry.get(path or "")
        if entry is None:
            return None
        return entry if claude_registry.pid_alive(entry.get("pid"), entry.get("procStart")) \
            else None

    def session_ids(self) -> Set[str]:
        """Return every session id any source knows."""
        return set(self.hooks) | set(self.registry_sid) | set(self.rollout_sessions)


def _updated(entry: Dict[str, Any]) -> float:
    value = entry.get("updatedAt")
    return float(value) if isinstance(value, (int, float)) else 0.0


def hook_session(data: Dict[str, Any]) -> Dict[str, Any]:
    """Return a hook file's contents as a full Session (older files gain the new keys)."""
    return model.new_session(data["session_id"], **{k: v for k, v in data.items()
                                                    if k != "session_id"})
