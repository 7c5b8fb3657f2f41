"""The merged view of every session: hook files, Claude's live registry and active Codex rollouts.

This is the only place that decides which sessions exist and which source wins:
1. `sessions/<id>.json` written by the hook (the most precise source);
2. Claude Code's registry of running interactive sessions (works without hooks);
3. Codex rollouts written in the last 10 minutes.
Hook data wins where a session has several; the others only fill fields the hook left empty.
Sessions whose process is known to be dead are not shown. Dismissed ids stay hidden unless the
hook later reports the session live again. Transcript readers are cached here so each poll only
parses what was appended.
"""
import collections
import logging
import os
import threading
from typing import Any, Dict, List, Optional, Tuple

from . import agents, hooks_config, model, procenv, store
from .agents import claude_registry, codex_process
from .dismissed import Dismissed
from .errors import NotFound
from .paths import Paths

log = logging.getLogger("amc.state")

CODEX_ACTIVE_WINDOW_S = 600
MAX_CACHED_TRANSCRIPTS = 64
STATUS_RANK = {status: i for i, status in enumerate(model.STATUSES)}
QUIET_EVENTS = ("Notification", "Dismissed")
PANE_KEYS = ("tmux_pane", "tmux_socket", "zellij_session", "zellij_pane")


class State:
    """Reads and merges session state on demand; safe to share between server threads."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.agents = agents.load()
        self.dismissed = Dismissed(paths.dismissed_file)
        self._lock = threading.Lock()
        self._codex_cache: Dict[str, Any] = {}
        # pid and pane of sessions seen without a hook, read from their process (procenv.py)
        self._panes = procenv.Panes({"codex": codex_process.Finder()})
        self._transcripts: "collections.OrderedDict[Tuple[str, str], Any]" = \
            collections.OrderedDict()

    # -- sessions ---------------------------------------------------------------------------

    def hook_sessions(self) -> List[Dict[str, Any]]:
        """Return the sessions written by the hook (unreadable files skipped)."""
        out = []
        for path in store.list_json(self.paths.sessions):
            data = store.read_json(path)
            if isinstance(data, dict) and isinstance(data.get("session_id"), str):
                out.append(model.new_session(data["session_id"], **{
                    k: v for k, v in data.items() if k != "session_id"}))
        return out

    def sessions(self) -> List[Dict[str, Any]]:
        """Return every live session, merged, filtered and sorted stably."""
        merged: Dict[str, Dict[str, Any]] = {}
        for s in self.hook_sessions():
            if s.get("pid") and not claude_registry.pid_alive(s["pid"]):
                continue  # the agent died without SessionEnd
            merged[s["session_id"]] = s
        for entry in claude_registry.live_entries(self.paths):
            sid = entry.get("sessionId")
            if sid in merged:
                live = claude_registry.from_entry(entry)
                _fill(merged[sid], {"pid": live["pid"], "tmux_pane": live["tmux_pane"]})
                claude_registry.reconcile(merged[sid], entry)
                continue
            found = self._find_transcript("claude", sid) if "claude" in self.agents else None
            s = claude_registry.from_entry(entry, found or "")
            if s is not None:
                merged[sid] = s
        if "codex" in self.agents:
            with self._lock:
                discovered = self.agents["codex"].discover(
                    self.paths, window_s=CODEX_ACTIVE_WINDOW_S, cache=self._codex_cache)
            for s in discovered:
                if s["session_id"] in merged:
                    self.agents["codex"].reconcile(merged[s["session_id"]], s)
                    _fill(merged[s["session_id"]], s)
                else:
                    merged[s["session_id"]] = s
        out = [s for s in merged.values() if self._visible(s)]
        for s in out:
            self._complete(s)
        out.sort(key=lambda s: (STATUS_RANK.get(s["status"], 9), _neg_time(s["started_at"]),
                                s["session_id"]))
        return out

    def _visible(self, s: Dict[str, Any]) -> bool:
        dismissed_at = self.dismissed.when(s["session_id"])
        if not dismissed_at:
            return True
        # A dismissed session comes back only if its hook reports it live again afterwards.
        return s.get("source") == "hook" and s["status"] != model.DONE \
            and model.parse_iso(s.get("status_since", "")) > dismissed_at

    def _complete(self, s: Dict[str, Any]) -> None:
        if not s.get("transcript_path"):
            s["transcript_path"] = self._find_transcript(s["agent"], s["session_id"]) or ""
        try:
            s["conversation_mtime_ns"] = os.stat(s["transcript_path"]).st_mtime_ns \
                if s["transcript_path"] else 0
        except OSError:
            s["conversation_mtime_ns"] = 0
        s["project"] = s.get("project") or model.project_name(s.get("project_dir", ""))
        if not (s.get("tmux_socket") or s.get("zellij_session")):  # no pane from a hook
            _fill(s, self._panes.lookup(s))

    def setup(self) -> Dict[str, Any]:
        """Return whether AMC's hooks are wired in (the dashboard's empty state says so)."""
        report = hooks_config.status(self.paths)
        return {"claude_hooks": not report["claude"]["missing"],
                "claude_settings": self.paths.claude_settings,
                "codex_hooks": not report["codex"]["missing"]}

    def session(self, session_id: str) -> Optional[Dict[str, Any]]:
        """Return one session as /api/state shows it, or None."""
        for s in self.sessions():
            if s["session_id"] == session_id:
                return s
        return None

    def activity(self, session: Dict[str, Any]) -> Dict[str, Any]:
        """Return where the agent's signs of life stand now (compare later with `moved_on`).

        Signs: a hook event (the events log grows), the transcript growing, Claude's live registry
        entry changing (busy/idle/waiting). Used to confirm an answer typed into a terminal.
        """
        sid = session["session_id"]
        return {"events": _size(self.paths.events_file(sid)),
                "transcript": _size(session.get("transcript_path") or ""),
                "registry": self._registry_mark(sid)}

    def moved_on(self, session: Dict[str, Any], before: Dict[str, Any]) -> str:
        """Return what shows the agent moved on since `before` ('' when nothing does yet)."""
        sid = session["session_id"]
        for event in store.read_jsonl_since(self.paths.events_file(sid), before["events"]):
            # a late "needs your permission" reminder is not an answer being taken
            if event.get("event") not in QUIET_EVENTS:
                return "hook event %s" % event.get("event")
        if _size(session.get("transcript_path") or "") > before["transcript"] >= 0:
            return "transcript grew"
        mark = self._registry_mark(sid)
        if mark != before["registry"] and mark:
            return "registry says %s" % mark[0]
        return ""

    def appended(self, session: Dict[str, Any], before: Dict[str, Any]
                 ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
        """Return the hook events and transcript records written since `before`."""
        events = store.read_jsonl_since(self.paths.events_file(session["session_id"]),
                                        before["events"])
        path = session.get("transcript_path") or ""
        records = store.read_jsonl_since(path, before["transcript"]) \
            if path and before["transcript"] >= 0 else []
        return events, records

    def _registry_mark(self, sid: str) -> Tuple[Any, ...]:
        for entry in claude_registry.live_entries(self.paths):
            if entry.get("sessionId") == sid:
                return (entry.get("status"), entry.get("updatedAt"))
        return ()

    def dismiss(self, session_id: str) -> None:
        """Hide a session for good: forget its hook file and keep its id out of discovery."""
        self.dismissed.add(session_id)
        session_file = self.paths.session_file(session_id)
        if os.path.exists(session_file):
            with store.SessionLog(self.paths.events_file(session_id)) as log_:
                log_.append({"received_at": model.now_iso(), "agent": "amc",
                             "event": "Dismissed", "payload": {}})
                store.remove(session_file)

    # -- conversations ----------------------------------------------------------------------

    def _find_transcript(self, agent: str, session_id: str) -> Optional[str]:
        module = self.agents.get(agent)
        if module is None:
            return None
        finder = getattr(module, "find_transcript", None) or getattr(module, "find_rollout")
        return finder(self.paths, session_id)

    def conversation(self, session_id: str, agent: str = "") -> List[Dict[str, Any]]:
        """Return the messages of a session's transcript (parsed incrementally, cached)."""
        hook = store.read_json(self.paths.session_file(session_id))
        path = ""
        if isinstance(hook, dict):
            agent = agent or str(hook.get("agent") or "")
            path = self._allowed_transcript(str(hook.get("transcript_path") or ""), session_id)
        candidates = [agent] if agent else list(self.agents)
        for name in candidates:
            if name not in self.agents:
                continue
            found = path or self._find_transcript(name, session_id)
            if found:
                return self._messages(name, found, session_id)
        raise NotFound("no transcript found for session %s" % session_id)

    def _allowed_transcript(self, path: str, session_id: str) -> str:
        # Never read an arbitrary file because a session file says so: only the agents' own
        # directories, or a .jsonl named after the session.
        if not path.endswith(".jsonl") or not os.path.isfile(path):
            return ""
        real = os.path.realpath(path)
        for root in (self.paths.claude_dir, self.paths.codex_home):
            if real.startswith(os.path.realpath(root) + os.sep):
                return path
        return path if session_id in os.path.basename(real) else ""

    def _messages(self, agent: str, path: str, session_id: str) -> List[Dict[str, Any]]:
        key = (agent, path)
        with self._lock:
            reader = self._transcripts.pop(key, None)
            if reader is None:
                cls = getattr(self.agents[agent], "%sTranscript" % agent.capitalize())
                reader = cls(path, session_id)
            self._transcripts[key] = reader
            while len(self._transcripts) > MAX_CACHED_TRANSCRIPTS:
                self._transcripts.popitem(last=False)
        with _reader_locks[hash(key) % len(_reader_locks)]:
            messages = reader.refresh()
            # Copy what a later refresh may mutate (tool results arrive late) before it is
            # serialised outside the lock.
            return [dict(m, tool_calls=[dict(t) for t in m.get("tool_calls", [])])
                    for m in messages]


_reader_locks = [threading.Lock() for _ in range(16)]


def _fill(target: Dict[str, Any], extra: Dict[str, Any]) -> None:
    """Copy fields from `extra` that `target` does not know yet (hook data wins)."""
    for key, value in extra.items():
        if value and not target.get(key):
            target[key] = value


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size if path else -1
    except OSError:
        return -1


def _neg_time(iso: str) -> float:
    return -model.parse_iso(iso)  # newest first within a status group
