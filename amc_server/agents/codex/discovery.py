"""Codex rollouts as sessions: finding one by session id, a parsed rollout as a Session, and
reconciling it with what the hook reported.

Codex writes `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`. The live core
(core/sources.py) watches the recent day directories and keeps a `CodexTranscript` per active
rollout, reading only appended bytes; `to_session` turns it into the Session it shows. Without
hooks this is how Codex sessions appear.
"""
import os
import re
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ... import model
from ...paths import Paths, valid_id
from ..base import text_preview
from .transcript import CodexTranscript

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


def rollout_id(name: str) -> str:
    """Return the session id in a rollout file name ('' when it is not a rollout of a valid id)."""
    m = _NAME.match(name)
    return m.group(1) if m and valid_id(m.group(1)) else ""


def _subdirs(path: str) -> List[str]:
    """Return the date-named subdirectories of `path`, newest first."""
    return [os.path.join(path, n) for n in sorted(_ls(path), reverse=True) if _DATED.match(n)]


def _all_days(root: str) -> Iterator[str]:
    """Yield every YYYY/MM/DD directory under `root`, newest first."""
    for year in _subdirs(root):
        for month in _subdirs(year):
            yield from _subdirs(month)


def date_dirs(root: str, now: float, window_s: Optional[float] = None) -> List[str]:
    """Return the date directories under `root` (years, months, days), newest first.

    With `window_s`, only the day directories that can hold a rollout written in the last
    `window_s` seconds, plus every year and month. Codex names day dirs by local creation date,
    so that is the window's days and yesterday (a session crossing midnight), or any day dir with
    a fresh mtime (clock or time zone skew); years of history are never walked.
    """
    out: List[str] = []
    cutoff = now - (window_s or 0)
    oldest = time.strftime("%Y/%m/%d", time.localtime(min(cutoff, now - 86400)))
    for year in _subdirs(root):
        out.append(year)
        for month in _subdirs(year):
            out.append(month)
            for day in _subdirs(month):
                if window_s is None or os.path.relpath(day, root) >= oldest or \
                        _mtime(day) >= cutoff:
                    out.append(day)
    return out


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


def to_session(t: CodexTranscript, mtime_ns: int) -> Dict[str, Any]:
    """Return the Session a parsed rollout describes (`mtime_ns`: the rollout file's mtime)."""
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
        conversation_mtime_ns=mtime_ns, model=t.model,
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


def session_files(paths: Paths) -> Iterator[Tuple[str, str, bool]]:
    """Yield (path, session id, linked) of every rollout on this machine:
    `sessions/YYYY/MM/DD/rollout-*.jsonl`; `linked`: its day folder is reached through a symlink."""
    root = paths.codex_sessions
    for day in date_dirs(root, time.time()):
        if os.path.relpath(day, root).count(os.sep) != 2:
            continue  # a year or a month
        linked = os.path.realpath(day) != day
        try:
            names = os.listdir(day)
        except OSError:
            continue
        for name in names:
            sid = rollout_id(name)
            if sid:
                yield os.path.join(day, name), sid, linked


def session_of(paths: Paths, path: str) -> str:
    """Return the session id of a rollout's path, or "" when it is none."""
    name = os.path.basename(path)
    return rollout_id(name) if path.startswith(paths.codex_sessions + os.sep) else ""


def cwd_of(record: Dict[str, Any]) -> str:
    """Return the working directory a record names ("" if none): `session_meta` and
    `turn_context` carry it."""
    payload = record.get("payload")
    if record.get("type") in ("session_meta", "turn_context") and isinstance(payload, dict) \
            and isinstance(payload.get("cwd"), str):
        return payload["cwd"]
    return ""


def started_of(record: Dict[str, Any]) -> str:
    """Return when `session_meta` says the session started ("" for other records)."""
    payload = record.get("payload")
    if record.get("type") == "session_meta" and isinstance(payload, dict) \
            and isinstance(payload.get("timestamp"), str):
        return payload["timestamp"]
    return ""
