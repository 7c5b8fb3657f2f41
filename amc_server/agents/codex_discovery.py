"""Finding Codex rollouts: by session id, and the active ones (written in the last minutes).

Codex writes `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`. Listing years of
history on every poll would not scale, so `discover` walks only the day directories that can hold
a recently written rollout, newest first, and keeps parsed `CodexTranscript`s in the caller's cache
so each poll reads only appended bytes. Without hooks this is how Codex sessions appear.
"""
import os
import re
import time
from typing import Any, Dict, Iterator, List, Optional

from .. import model
from ..paths import Paths, valid_id
from .base import text_preview
from .codex import CodexTranscript

_NAME = re.compile(r"^rollout-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-(.+)\.jsonl$")
_DATED = re.compile(r"^\d{2,4}$")


def _ls(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _session_id(name: str) -> str:
    """Return the session id in a rollout file name (empty when it is not a rollout)."""
    m = _NAME.match(name)
    return m.group(1) if m else ""


def _subdirs(path: str) -> List[str]:
    """Return the date-named subdirectories of `path`, newest first."""
    return [os.path.join(path, n) for n in sorted(_ls(path), reverse=True) if _DATED.match(n)]


def _all_days(root: str) -> Iterator[str]:
    """Yield every YYYY/MM/DD directory under `root`, newest first."""
    for year in _subdirs(root):
        for month in _subdirs(year):
            yield from _subdirs(month)


def find_rollout(paths: Paths, session_id: str) -> Optional[str]:
    """Return the rollout of `session_id` under CODEX_HOME/sessions, newest days first."""
    if not valid_id(session_id):
        return None
    suffix = "-%s.jsonl" % session_id
    for day in _all_days(paths.codex_sessions):
        for name in _ls(day):
            if name.startswith("rollout-") and name.endswith(suffix):
                return os.path.join(day, name)
    return None


def _recent_days(root: str, now: float, window_s: float) -> Iterator[str]:
    """Yield the day dirs that can hold a rollout written since now - window_s, newest first."""
    cutoff = now - window_s
    # Codex names day dirs by local creation date; yesterday too, for a session crossing midnight.
    oldest = os.path.join(root, time.strftime("%Y/%m/%d", time.localtime(min(cutoff, now - 86400))))
    for day in _all_days(root):
        if day < oldest and _mtime(day) < cutoff:   # a fresh mtime would mean clock/TZ skew
            return                    # names sort by date: every later one is older still
        yield day


def discover(paths: Paths, now: Optional[float] = None, window_s: float = 600,
             cache: Optional[Dict[str, CodexTranscript]] = None) -> List[Dict[str, Any]]:
    """Return a Session for every rollout written in the last `window_s` seconds, newest first."""
    now = time.time() if now is None else now
    cache = {} if cache is None else cache
    found: Dict[str, os.stat_result] = {}
    for day in _recent_days(paths.codex_sessions, now, window_s):
        for path in [os.path.join(day, n) for n in _ls(day) if _session_id(n)]:
            try:
                st = os.stat(path)
            except OSError:
                continue                  # rotated away between listdir and stat
            if st.st_mtime >= now - window_s:
                found[path] = st
    for path in [p for p in cache if p not in found]:
        del cache[path]               # bounded: only rollouts that are still active
    sessions = []
    for path, st in sorted(found.items(), key=lambda kv: -kv[1].st_mtime):
        sid = _session_id(os.path.basename(path))
        if not valid_id(sid):
            continue
        t = cache.setdefault(path, CodexTranscript(path, sid))
        t.refresh()
        if not (isinstance(t.meta.get("source"), dict) and "subagent" in t.meta["source"]):
            sessions.append(to_session(t, st))  # a sub-agent thread has no pane to answer in
    return sessions


def to_session(t: CodexTranscript, st: os.stat_result) -> Dict[str, Any]:
    """Return the Session a parsed rollout describes."""
    attention = None
    if t.approval:                    # the turn still runs, but it is blocked on the user
        status, attention = model.NEEDS_ATTENTION, dict(t.approval)
    elif t.busy:
        status = model.ACTIVE
    elif t.error:
        status = model.NEEDS_ATTENTION
        attention = {"kind": model.ATTN_ERROR, "text": t.error, "tool": "", "summary": ""}
    else:
        status = model.DONE if t.messages else model.STARTING
    last = next((m["content"] for m in reversed(t.messages)
                 if m["content"] and not m.get("is_error")), t.last_agent_message)
    return model.new_session(
        t.session_id, "codex", source="rollout", project_dir=t.cwd, status=status,
        status_since=t.status_at or t.last_event_at, attention=attention,
        started_at=str(t.meta.get("started_at") or ""), last_event_at=t.last_event_at,
        last_event="rollout:%s" % (t.last_event or "session_meta"),
        last_message_preview=text_preview(last), transcript_path=t.path,
        conversation_mtime_ns=st.st_mtime_ns, model=t.model,
        cli_version=str(t.meta.get("cli_version") or ""))


def reconcile(session: Dict[str, Any], rollout: Dict[str, Any]) -> None:
    """Correct a hook session its rollout proves stale: the turn ended after the last hook event.

    Codex 0.169 fires no hook when a denied approval (Esc, "No") aborts the turn, so the hook file
    would say "needs attention" forever; the rollout records `turn_aborted`.
    """
    if rollout.get("status") in (model.DONE, model.STARTING):
        ended = str(rollout.get("status_since") or "")
        model.end_if_stale(session, model.parse_iso(ended), ended,
                           rollout.get("last_event") or "rollout")
