"""The Session record: status constants and the one function that gives a session every field.

A session file (`sessions/<id>.json`, written by the hook), a live-registry entry and a discovered
Codex rollout all become the same dict shape here, so the API and the dashboard see one model.
Keys may be added, never renamed or repurposed; `version` counts incompatible changes.
"""
import os
import time
from typing import Any, Dict, Mapping

SCHEMA_VERSION = 1

STARTING = "starting"
ACTIVE = "active"
NEEDS_ATTENTION = "needs_attention"
DONE = "done"
STATUSES = (NEEDS_ATTENTION, ACTIVE, STARTING, DONE)  # also the dashboard's group order

# Why a session needs attention (`attention.kind`).
ATTN_QUESTION = "question"          # AskUserQuestion: see pending_questions
ATTN_PERMISSION = "permission"      # a tool waits for permission: see attention.tool / summary
ATTN_PROSE = "prose_question"       # the last reply ends in a question: see attention.text
ATTN_ERROR = "error"                # the turn failed (StopFailure, stream error)
ATTN_INPUT = "input"                # the agent says it waits for input, reason unknown
ATTN_DIALOG = "dialog"              # a dialog at start (folder trust...): attention.options, read
                                    # off the screen of a session AMC launched (actions/start_dialogs.py)
# Waits an agent can end without firing any hook (Esc on a dialog, a denied approval).
SILENTLY_ENDED = (ATTN_QUESTION, ATTN_PERMISSION, ATTN_INPUT)


def now_iso(t: float = None) -> str:
    """Return `t` (default now) as ISO-8601 UTC with milliseconds and a Z."""
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def parse_iso(iso: Any) -> float:
    """Return an ISO-8601 UTC timestamp as epoch seconds (0.0 when it is not one)."""
    import calendar
    try:
        whole = float(calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")))
    except (TypeError, ValueError):
        return 0.0
    fraction = iso[19:].rstrip("Z")
    if fraction.startswith(".") and fraction[1:].isdigit():
        whole += float("0" + fraction)
    return whole


def new_session(session_id: str, agent: str = "claude", **fields: Any) -> Dict[str, Any]:
    """Return a session dict with every contract field present, then `fields` applied."""
    session = {
        "version": SCHEMA_VERSION,
        "session_id": session_id,
        "agent": agent,
        "source": "hook",                 # hook | registry | rollout: where the status comes from
        "project": "",
        "project_dir": "",
        "status": STARTING,
        "status_since": "",
        "started_at": "",
        "last_event_at": "",
        "last_event": "",
        "last_message_preview": "",
        "pending_questions": [],
        "attention": None,                # {kind, text, tool?, summary?} while needs_attention
        "transcript_path": "",
        "conversation_mtime_ns": 0,
        "pid": 0,
        "tmux_pane": "",
        "tmux_socket": "",
        "zellij_session": "",
        "zellij_pane": "",
        "channel": False,                 # AMC's Claude Code channel is connected (core/channels.py)
    }
    session.update(fields)
    if session["project_dir"] and not session["project"]:
        session["project"] = project_name(session["project_dir"])
    return session


def end_if_stale(session: Dict[str, Any], ended_at: float, ended_iso: str,
                 last_event: str) -> bool:
    """Mark a hook session done when the agent's own record (Claude's registry, a Codex rollout)
    shows its turn ended after the last hook event; return whether it did.

    Only states a further hook event would end are corrected (active, or a wait in
    SILENTLY_ENDED); a prose question or an error is a state of an idle session and stays.
    """
    if session.get("status") not in (ACTIVE, NEEDS_ATTENTION):
        return False
    if session["status"] == NEEDS_ATTENTION and \
            (session.get("attention") or {}).get("kind") not in SILENTLY_ENDED:
        return False
    if ended_at <= parse_iso(session.get("last_event_at", "")):
        return False
    session.update(status=DONE, status_since=ended_iso, attention=None, pending_questions=[],
                   last_event=last_event)
    return True


def project_name(project_dir: str) -> str:
    """Return the project shown for a working directory: its basename."""
    return os.path.basename(project_dir.rstrip("/\\")) or project_dir


# Input keys that say best what a tool call is about, most telling first.
_SUMMARY_KEYS = ("command", "cmd", "file_path", "path", "notebook_path", "url", "pattern",
                 "query", "prompt", "description", "subject")


def tool_summary(tool_input: Any, limit: int = 200) -> str:
    """Return a one-line summary of a tool's input: its most telling field, else compact JSON."""
    if isinstance(tool_input, dict):
        for key in _SUMMARY_KEYS:
            value = tool_input.get(key)
            if isinstance(value, str) and value.strip():
                return preview(value, limit)
    if tool_input in (None, {}, [], ""):
        return ""
    from . import store
    try:
        text = store.dumps(tool_input, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = str(tool_input)
    return preview(text, limit)


def preview(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cut `text` to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def pane_from_env(env: Mapping[str, str]) -> Dict[str, str]:
    """Return the multiplexer pane the agent runs in, from the environment the hook inherited."""
    tmux = env.get("TMUX", "")
    return {
        "tmux_pane": env.get("TMUX_PANE", ""),
        # $TMUX is "<socket path>,<server pid>,<session index>"
        "tmux_socket": tmux.split(",", 1)[0] if tmux else "",
        "zellij_session": env.get("ZELLIJ_SESSION_NAME", ""),
        "zellij_pane": env.get("ZELLIJ_PANE_ID", ""),
    }
