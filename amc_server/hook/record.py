"""The hook: one agent event (JSON on stdin) -> one line in events/<id>.jsonl and a true sessions/<id>.json.

Claude Code (and Codex, with `--agent codex`) runs this on every hook event, in parallel, on the
agent's critical path. So it: imports only os/sys/json/fcntl/time and AMC's light modules; does O(1)
work (append one line, rewrite one small file, ring the server's doorbell: one non-blocking
datagram, core/doorbell.py); never prints to stdout (except the opt-in
`--wait-answer` mode, hook/wait.py, answering a PermissionRequest); exits 0 on every path,
whatever the input, the disk or the data dir looks like. `apply_event` is a pure function of
(session, event, payload, environment) so the state machine is tested without processes.
SubagentStart / SubagentStop (and a Stop's `background_tasks`) keep the session's
`running_subagents`, a bounded list (`track_subagents`), so counting them costs no file reads.
"""
import os
import re  # already loaded by json: costs the hook nothing
import sys
import time
from typing import Any, Dict, List, Mapping, Optional

from .. import model, paths, store
from ..core import doorbell

QUESTION_TOOL = "AskUserQuestion"
MAX_QUESTION_CHARS = 500
MAX_EVENT_LINE = 64 * 1024   # bigger payloads have their long strings cut in the event log
MAX_STDIN = 16 * 1024 * 1024
# Events that prove the agent is working: a session first seen through one of these is active;
# one first seen through anything else (an idle notification, a late SubagentStop) is idle.
ACTIVITY_EVENTS = frozenset({"UserPromptSubmit", "PreToolUse", "PermissionRequest", "PostToolUse",
                             "PostToolUseFailure", "SubagentStart"})
MAX_SUBAGENTS = 64  # running subagents remembered per session: the hook's work stays bounded


def prose_question(text: Any) -> str:
    """Return the question a reply ends with (its last paragraph, <= 500 chars), or ''."""
    if not isinstance(text, str):
        return ""
    body = text.strip()
    if not body.rstrip("*_`\"')] \t\n").endswith("?"):
        return ""
    paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    question = paragraphs[-1] if paragraphs else body
    if len(question) > MAX_QUESTION_CHARS:
        question = "\u2026" + question[-(MAX_QUESTION_CHARS - 1):]
    return question


# A message from a Claude Code channel (AMC's, docs/answering.md) reaches UserPromptSubmit wrapped.
_CHANNEL_TAG = re.compile(r"^\s*<channel\b[^>]*>\s*(.*?)\s*(?:</channel>\s*)?$", re.S)


# A background agent's end reaches UserPromptSubmit as a turn of its own (Claude Code 2.1.x).
_TASK_SUMMARY = re.compile(r"^\s*<task-notification>.*?<summary>(.*?)</summary>", re.S)


def prompt_text(prompt: str) -> str:
    """Return what the user wrote: a channel message without its <channel ...> wrapper, and a
    background agent's <task-notification> as its summary ('Agent "..." finished')."""
    m = _CHANNEL_TAG.match(prompt) or _TASK_SUMMARY.match(prompt)
    return m.group(1) if m else prompt


def normalize_questions(tool_input: Any) -> List[Dict[str, Any]]:
    """Return AskUserQuestion's questions in the contract's shape, dropping malformed parts."""
    questions = tool_input.get("questions") if isinstance(tool_input, dict) else None
    out = []
    for q in questions if isinstance(questions, list) else []:
        if not isinstance(q, dict):
            continue
        options = []
        for o in q.get("options") if isinstance(q.get("options"), list) else []:
            if isinstance(o, dict):
                options.append({"label": str(o.get("label", "")),
                                "description": str(o.get("description", ""))})
            elif isinstance(o, str):
                options.append({"label": o, "description": ""})
        out.append({"question": str(q.get("question", "")), "header": str(q.get("header", "")),
                    "options": options, "multiSelect": bool(q.get("multiSelect", False))})
    return out


def track_subagents(s: Dict[str, Any], name: str, payload: Dict[str, Any], now: str) -> None:
    """Keep `running_subagents` ([{agent_id, agent_type, since}]) in step with SubagentStart /
    SubagentStop, and with the `background_tasks` a Stop lists (2.1.x: the subagents still
    running in the background when the turn ended, which also repairs a lost hook)."""
    running = [r for r in s.get("running_subagents") or () if isinstance(r, dict)]
    agent_id = payload.get("agent_id") if isinstance(payload.get("agent_id"), str) else ""
    agent_id = agent_id[:200]
    if name == "SubagentStart" and agent_id:
        if all(r.get("agent_id") != agent_id for r in running):
            running.append({"agent_id": agent_id, "since": now,
                            "agent_type": str(payload.get("agent_type") or "")[:100]})
    elif name == "SubagentStop":
        running = [r for r in running if r.get("agent_id") != agent_id] if agent_id \
            else running[1:]  # older CLIs name no agent: one of them stopped
    elif name == "Stop" and isinstance(payload.get("background_tasks"), list):
        known = {r.get("agent_id"): r for r in running}
        running = [known.get(t["id"][:200]) or {"agent_id": t["id"][:200],
                                                "agent_type": str(t.get("agent_type") or "")[:100],
                                                "since": now}
                   for t in payload["background_tasks"][:MAX_SUBAGENTS]
                   if isinstance(t, dict) and t.get("type") == "subagent"
                   and t.get("status") == "running" and isinstance(t.get("id"), str) and t["id"]]
    elif name == "SessionStart" and payload.get("source") in ("startup", "resume"):
        running = []  # a new process: the old one's subagents are gone
    else:
        return
    s["running_subagents"] = running[-MAX_SUBAGENTS:]


def _set_status(s: Dict[str, Any], status: str, now: str) -> None:
    if s["status"] != status:
        s["status"] = status
        s["status_since"] = now


def _clear_attention(s: Dict[str, Any]) -> None:
    s["pending_questions"] = []
    s["attention"] = None


def _attend(s: Dict[str, Any], now: str, **attention: Any) -> None:
    _set_status(s, model.NEEDS_ATTENTION, now)
    s["attention"] = attention


def apply_event(session: Optional[Dict[str, Any]], payload: Dict[str, Any], env: Mapping[str, str],
                agent: str = "claude", now: Optional[float] = None) -> Optional[Dict[str, Any]]:
    """Return the session after `payload`, or None when the session ended (file to remove)."""
    name = str(payload.get("hook_event_name") or "")
    stamp = model.now_iso(now)
    sid = str(payload["session_id"])
    if name == "SessionEnd":
        return None
    s = session if isinstance(session, dict) and session.get("session_id") == sid else None
    if s is None:
        s = model.new_session(sid, agent, started_at=stamp, status_since=stamp,
                              status=model.STARTING if name == "SessionStart" else
                              model.ACTIVE if name in ACTIVITY_EVENTS else model.DONE)
    for key, value in model.new_session(sid).items():
        s.setdefault(key, value)  # a file written by an older hook gains new keys
    s["version"] = model.SCHEMA_VERSION
    s["last_event"] = name
    s["last_event_at"] = stamp
    project_dir = env.get("CLAUDE_PROJECT_DIR") or payload.get("cwd")
    if isinstance(project_dir, str) and project_dir and not s.get("project_dir"):
        s["project_dir"] = project_dir
        s["project"] = model.project_name(project_dir)
    if isinstance(payload.get("transcript_path"), str) and payload["transcript_path"]:
        s["transcript_path"] = payload["transcript_path"]
    for key, value in model.pane_from_env(env).items():
        if value:
            s[key] = value
    pid = env.get("CLAUDE_PID", "")
    if pid.isascii() and pid.isdigit() and len(pid) < 20:  # not "²", not 5000 digits
        s["pid"] = int(pid)

    tool = str(payload.get("tool_name") or "")
    tool_input = payload.get("tool_input")
    if name in ("SubagentStart", "SubagentStop", "Stop") or \
            (name == "SessionStart" and "running_subagents" in s):
        track_subagents(s, name, payload, stamp)
    if name == "SessionStart":
        if payload.get("source") != "compact":
            _set_status(s, model.STARTING, stamp)
            _clear_attention(s)
    elif name == "UserPromptSubmit":
        _set_status(s, model.ACTIVE, stamp)
        _clear_attention(s)
        if isinstance(payload.get("prompt"), str):
            s["last_message_preview"] = model.preview(prompt_text(payload["prompt"]))
    elif name in ("PreToolUse", "PermissionRequest") and tool == QUESTION_TOOL:
        questions = normalize_questions(tool_input)
        before = s.get("attention") or {}
        # PreToolUse names the call; PermissionRequest (the same call, a moment later) does not
        call = payload.get("tool_use_id") if isinstance(payload.get("tool_use_id"), str) else ""
        if not call and before.get("kind") == model.ATTN_QUESTION and \
                s.get("pending_questions") == questions:
            call = str(before.get("tool_use_id") or "")
        s["pending_questions"] = questions
        _attend(s, stamp, kind=model.ATTN_QUESTION, tool=tool,
                text=questions[0]["question"] if questions else "", tool_use_id=call[:200])
    elif name == "PermissionRequest":
        s["pending_questions"] = []
        summary = model.tool_summary(tool_input)
        _attend(s, stamp, kind=model.ATTN_PERMISSION, tool=tool, summary=summary,
                text=("Permission to use %s: %s" % (tool, summary)) if summary
                else "Permission to use %s" % tool)
    elif name == "PreToolUse":
        if s["status"] != model.NEEDS_ATTENTION:
            _set_status(s, model.ACTIVE, stamp)
    elif name == "Notification":
        kind = payload.get("notification_type")
        message = str(payload.get("message") or "")
        attention = s.get("attention") or {}
        if kind == "permission_prompt" and attention.get("kind") != model.ATTN_PERMISSION:
            _attend(s, stamp, kind=model.ATTN_PERMISSION, tool="", summary="", text=message)
        elif kind == "elicitation_dialog" and s["status"] != model.NEEDS_ATTENTION:
            _attend(s, stamp, kind=model.ATTN_INPUT, text=message)
    elif name in ("PostToolUse", "PostToolUseFailure"):
        pending_tool = (s.get("attention") or {}).get("tool")
        if s["status"] != model.NEEDS_ATTENTION or not pending_tool or pending_tool == tool:
            _clear_attention(s)
            _set_status(s, model.ACTIVE, stamp)
    elif name == "Stop":
        _clear_attention(s)
        reply = payload.get("last_assistant_message")
        if isinstance(reply, str) and reply.strip():
            s["last_message_preview"] = model.preview(reply)
        question = prose_question(reply)
        if question:
            _attend(s, stamp, kind=model.ATTN_PROSE, text=question)
        else:
            _set_status(s, model.DONE, stamp)
    elif name == "StopFailure":
        s["pending_questions"] = []
        error = " ".join(str(payload.get(k) or "") for k in ("error", "error_details")).strip()
        _attend(s, stamp, kind=model.ATTN_ERROR, text=error or "The turn failed")
    return s


def codex_notify_payload(raw: Any) -> Optional[Dict[str, Any]]:
    """Turn Codex's `notify` argument (agent-turn-complete) into a Stop hook payload."""
    if not isinstance(raw, dict) or raw.get("type") != "agent-turn-complete":
        return None
    return {"hook_event_name": "Stop", "session_id": raw.get("thread-id"), "cwd": raw.get("cwd"),
            "last_assistant_message": raw.get("last-assistant-message"), "notify": True}


def _capped(payload: Dict[str, Any]) -> Dict[str, Any]:
    line = store.dumps(payload, ensure_ascii=False)
    if len(line) <= MAX_EVENT_LINE:
        return payload

    def cut(value: Any) -> Any:
        if isinstance(value, str) and len(value) > 2000:
            return value[:2000] + "\u2026 [%d chars cut by AMC]" % (len(value) - 2000)
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        if isinstance(value, list):
            return [cut(v) for v in value[:200]]
        return value

    out = cut(payload)
    out["amc_truncated"] = True
    return out


def record(payload: Dict[str, Any], env: Mapping[str, str], agent: str = "claude",
           update_only: bool = False) -> None:
    """Append the event to its log and apply it to the session file, under the session lock."""
    sid = payload.get("session_id")
    if not paths.valid_id(sid):
        raise ValueError("hook payload has no usable session_id: %r" % (sid,))
    p = paths.get_paths(env)
    store.ensure_dir(p.events)
    store.ensure_dir(p.sessions)
    now = time.time()
    session_file = p.session_file(sid)
    with store.SessionLog(p.events_file(sid)) as log:
        log.append({"received_at": model.now_iso(now), "agent": agent,
                    "event": payload.get("hook_event_name"), "pane": model.pane_from_env(env),
                    "payload": _capped(payload)})
        # never a FIFO, a symlink or a file over store.MAX_JSON_BYTES: read as no session
        current = store.read_json(session_file, follow=False)
        if update_only and current is None:
            return
        updated = apply_event(current, payload, env, agent, now)
        if updated is None:
            store.remove(session_file)
        else:
            store.write_json_atomic(session_file, updated)
    doorbell.ring(p.data, sid)  # after the lock: the server reads a finished file


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of bin/amc-hook: never raises, always returns 0; prints only a hook answer."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        agent = "codex" if "--agent" in argv and "codex" in argv or "--codex-notify" in argv \
            else "claude"
        if "--codex-notify" in argv:
            # Codex passes the notification as the last argument, not on stdin.
            payload = codex_notify_payload(store.loads(argv[-1]))
            if payload is not None:
                record(payload, os.environ, "codex", update_only=True)
            return 0
        raw = sys.stdin.buffer.read(MAX_STDIN)
        payload = store.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("hook payload is not a JSON object")
        record(payload, os.environ, agent)
        if agent == "claude" and any(a.startswith("--wait-answer") for a in argv):
            from . import wait as hook_answers  # opt-in (docs/answering.md): only this path loads it
            verdict = hook_answers.wait_for_answer(payload, os.environ, argv)
            if verdict is not None:  # deliberately answering Claude
                sys.stdout.write(store.dumps(verdict))
                sys.stdout.flush()
    except BaseException as e:  # the agent must never see a failing hook
        try:
            sys.stderr.write("amc-hook: %s\n" % (e,))
        except Exception:
            pass
    return 0
