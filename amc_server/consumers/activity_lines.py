"""What one line of the Activity feed's files says: a readable summary, and its raw record cut to
a bound.

Place in the flow: consumers/activity.py (the feed: which files, offsets, the backlog, publishing)
hands every whole line here: `from_hook_line` for a record of `events/<session>.jsonl` (what
hook/record.py appends: `{received_at, agent, event, pane, payload}`), `from_history_line` for one of
Claude Code's `history.jsonl` (`{display, pastedContents, timestamp (ms), project, sessionId}`).
Agent and hook knowledge of the feed stays in this one module; `bounded` keeps an event's `raw`
to about RAW_BYTES however large a payload is (the hub applies it to other machines' events too).
"""
import time
from typing import Any, Dict, Tuple

from .. import model, store

RAW_BYTES = 16 * 1024      # an event's raw is cut to about this
SUMMARY_CHARS = 200


def clip(text: Any, limit: int = SUMMARY_CHARS) -> str:
    return model.preview(text, limit) if isinstance(text, str) else ""


def first_line(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _cut(value: Any, chars: int) -> Any:
    if isinstance(value, str) and len(value) > chars:
        return value[:chars] + "\u2026 [%d chars cut by AMC]" % (len(value) - chars)
    if isinstance(value, dict):
        return {str(k): _cut(v, chars) for k, v in list(value.items())[:200]}
    if isinstance(value, list):
        return [_cut(v, chars) for v in value[:200]]
    return value


def bounded(raw: Any, limit: int = RAW_BYTES) -> Tuple[Any, bool]:
    """Return `raw` cut to about `limit` bytes of JSON (long strings shortened), and whether it
    was cut."""
    try:
        size = len(store.dumps(raw, ensure_ascii=False))
    except (TypeError, ValueError):
        return str(raw)[:limit], True
    if size <= limit:
        return raw, False
    for chars in (2000, 500, 100):
        out = _cut(raw, chars)
        if len(store.dumps(out, ensure_ascii=False)) <= limit:
            return out, True
    return {"amc_omitted_bytes": size}, True


def hook_summary(name: str, payload: Dict[str, Any]) -> str:
    """Return one readable line for a hook event (`name`, its payload)."""
    tool = str(payload.get("tool_name") or "")
    tool_input = payload.get("tool_input")
    if name == "UserPromptSubmit":
        return "Prompt: " + first_line(payload.get("prompt"))
    if name in ("PreToolUse", "PermissionRequest") and tool == "AskUserQuestion":
        questions = tool_input.get("questions") if isinstance(tool_input, dict) else None
        q = questions[0] if isinstance(questions, list) and questions else {}
        return "Question: %s" % (q.get("question", "") if isinstance(q, dict) else "")
    if name == "PreToolUse":
        return ("%s: %s" % (tool, model.tool_summary(tool_input))).rstrip(": ")
    if name == "PermissionRequest":
        return ("Permission asked for %s: %s" % (tool, model.tool_summary(tool_input))
                ).rstrip(": ")
    if name == "PostToolUse":
        return "%s done" % (tool or "tool")
    if name == "PostToolUseFailure":
        return "%s failed: %s" % (tool or "tool", first_line(payload.get("error")))
    if name == "Notification":
        return "Notification: " + str(payload.get("message") or payload.get("notification_type")
                                      or "")
    if name == "Stop":
        reply = first_line(payload.get("last_assistant_message"))
        return "Turn ended" + (": " + reply if reply else "")
    if name == "StopFailure":
        return "Turn failed: " + " ".join(str(payload.get(k) or "") for k in
                                          ("error", "error_details")).strip()
    if name == "SessionStart":
        return "Session started" + (" (%s)" % payload["source"]
                                    if isinstance(payload.get("source"), str) else "")
    if name == "SessionEnd":
        return "Session ended" + (" (%s)" % payload["reason"]
                                  if isinstance(payload.get("reason"), str) else "")
    if name == "Dismissed":
        return "Dismissed in AMC"
    if name in ("SubagentStart", "SubagentStop"):
        return "Subagent %s" % ("started" if name == "SubagentStart" else "stopped")
    if name == "PreCompact":
        return "Compacting" + (" (%s)" % payload["trigger"]
                               if isinstance(payload.get("trigger"), str) else "")
    return name or "event"


def from_hook_line(obj: Dict[str, Any], session_id: str) -> Dict[str, Any]:
    """Return the activity fields of one `events/<id>.jsonl` record (hook/record.py writes them)."""
    payload = obj.get("payload") if isinstance(obj.get("payload"), dict) else {}
    name = str(obj.get("event") or payload.get("hook_event_name") or "event")
    cwd = payload.get("cwd")
    return {"ts": str(obj.get("received_at") or ""), "type": name, "session_id": session_id,
            "summary": clip(hook_summary(name, payload)),
            "agent": str(obj.get("agent") or ""),
            "project": model.project_name(cwd) if isinstance(cwd, str) and cwd else ""}


def from_history_line(obj: Dict[str, Any]) -> Dict[str, Any]:
    """Return the activity fields of one history.jsonl record (what Claude Code writes:
    `display`, `pastedContents`, `timestamp` in ms, `project`, `sessionId`)."""
    stamp = obj.get("timestamp")
    ts = _iso_ms(stamp) if isinstance(stamp, (int, float)) and 0 < stamp < 1e14 else \
        (stamp if isinstance(stamp, str) else "")
    project = obj.get("project") if isinstance(obj.get("project"), str) else ""
    name = model.project_name(project) if project else ""
    text = first_line(obj.get("display"))
    sid = obj.get("sessionId")
    return {"ts": ts, "type": "history", "session_id": sid if isinstance(sid, str) else "",
            "summary": clip("Typed: %s%s" % (text, " \u2014 " + name if name else "")),
            "agent": "claude", "project": name}


def _iso_ms(ms: float) -> str:
    """Return epoch milliseconds as ISO-8601 UTC, exactly (no float rounding of the ms)."""
    whole = int(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole // 1000)) + \
        ".%03dZ" % (whole % 1000)
