"""Claude Code's own live-session registry: `$CLAUDE_CONFIG_DIR/sessions/<pid>.json`.

Claude Code 2.1.x keeps one file per running interactive session with its status (busy, idle,
waiting), what it waits for, its cwd and its tmux pane. AMC reads it so a session shows up even
when hooks are not installed; hook data wins where both exist (see core/merge.py). A file whose process
is gone (or whose pid was reused by another process) is not a live session.
"""
import os
from typing import Any, Dict, List, Optional

from ... import model, store
from ...paths import Paths, valid_id

STATUS = {"busy": model.ACTIVE, "idle": model.DONE, "waiting": model.NEEDS_ATTENTION}


def pid_alive(pid: int, proc_start: Optional[str] = None) -> bool:
    """Tell whether `pid` runs; with `proc_start` (Linux starttime ticks), that it is the same process."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no pid is that big
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    fields = _proc_stat(pid)
    if fields is None:
        return True  # not Linux: the kill() probe decided
    if fields[0] in ("Z", "X"):
        return False  # exited, not yet reaped
    return not proc_start or len(fields) <= 19 or fields[19] == str(proc_start)


def _proc_stat(pid: int) -> Optional[list]:
    """Return /proc/<pid>/stat fields from field 3 (state) on, or None off Linux."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # Field 2 (comm) may contain spaces and parens: split after the last ')'.
    return stat[stat.rfind(")") + 2:].split()


def _ms_iso(value: Any) -> str:
    if not isinstance(value, (int, float)) or not value > 0:
        return ""
    try:
        return model.now_iso(value / 1000.0)
    except (OverflowError, OSError, ValueError):  # past year 9999, or not a finite number
        return ""


def _tmux_pane(value: Any) -> str:
    # "agent:@0.%0" -> "%0"
    if isinstance(value, str) and "%" in value:
        return "%" + value.rsplit("%", 1)[1]
    return ""


def from_entry(entry: Dict[str, Any], transcript_path: str = "") -> Optional[Dict[str, Any]]:
    """Return a Session for one registry entry, or None when it is not a usable session."""
    sid = entry.get("sessionId")
    if not valid_id(sid):
        return None
    raw_status = entry.get("status")
    status = STATUS.get(raw_status, model.ACTIVE) if isinstance(raw_status, str) else model.ACTIVE
    if status == model.DONE and not transcript_path:
        status = model.STARTING  # idle before the first prompt: no transcript yet
    attention = None
    if status == model.NEEDS_ATTENTION:
        waiting = str(entry.get("waitingFor") or "input needed")
        kind = model.ATTN_PERMISSION if "permission" in waiting else model.ATTN_INPUT
        attention = {"kind": kind, "text": waiting[:1].upper() + waiting[1:], "tool": "",
                     "summary": ""}
    since = _ms_iso(entry.get("statusUpdatedAt") or entry.get("updatedAt"))
    return model.new_session(
        sid, "claude", source="registry", project_dir=str(entry.get("cwd") or ""),
        status=status, status_since=since, attention=attention,
        started_at=_ms_iso(entry.get("startedAt")), last_event_at=_ms_iso(entry.get("updatedAt")),
        last_event="registry:%s" % (raw_status or "unknown"), transcript_path=transcript_path,
        pid=entry.get("pid") if isinstance(entry.get("pid"), int) else 0,
        tmux_pane=_tmux_pane(entry.get("tmux")), name=str(entry.get("name") or ""))


def reconcile(session: Dict[str, Any], entry: Dict[str, Any]) -> None:
    """Correct a hook session the registry proves stale: idle since after the last hook event.

    Claude Code fires no hook when the user presses Esc on a question or permission dialog, or
    interrupts a turn (Stop does not run on interrupts), so the hook file would say "waiting" or
    "active" forever; the registry flips to idle.
    """
    idle_ms = entry.get("statusUpdatedAt") or entry.get("updatedAt")
    idle_iso = _ms_iso(idle_ms)  # "" also for a time no clock can show (inf, NaN, year 10000)
    if entry.get("status") == "idle" and idle_iso:
        model.end_if_stale(session, idle_ms / 1000.0, idle_iso, "registry:idle")


def live_entries(paths: Paths) -> List[Dict[str, Any]]:
    """Return the registry entries whose process is still running."""
    out = []
    for path in store.list_json(paths.claude_sessions):
        entry = store.read_json(path)
        if not isinstance(entry, dict) or entry.get("kind", "interactive") != "interactive":
            continue
        if pid_alive(entry.get("pid"), entry.get("procStart")):
            out.append(entry)
    return out

