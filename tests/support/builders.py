"""One set of builders for what the agents hand AMC, for tests that need a record no fixture has.

Hook payloads are what Claude Code (and Codex) pipe to `bin/amc-hook` on stdin; Claude records are
lines of a Claude Code transcript (`~/.claude/projects/<project>/<session>.jsonl`); Codex records
are lines of a rollout (`$CODEX_HOME/sessions/.../rollout-*.jsonl`). The shapes follow the recorded
fixtures (tests/fixtures/) and docs/claude-jsonl-reference/, trimmed to the keys AMC reads: a test
that needs a real CLI's whole line copies it from a fixture instead. Every builder returns a fresh
dict; keyword `fields` are added to (or replace) its top-level keys, so a test says only what it
changes. `jsonl` turns records into file bytes.

Numbered records (`n`) get ids and timestamps from their number, so a transcript written as
`claude_user("go", 0), claude_assistant("ok", n=1)` has distinct uuids ("u0", "a1") and
timestamps in order.
"""
import json
from typing import Any, Dict, Optional

DEMO_CWD = "/home/dev/work/demo-proj"   # the project of the recorded fixtures
CODEX_TS = "2026-11-20T10:00:00.000Z"   # the day of the Codex 0.169.0 recordings


def jsonl(*records: Any) -> bytes:
    """Return `records` as JSONL bytes: one `json.dumps` line each, every line ending in a newline."""
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


# ------------------------------------------------------------------------------- hook payloads
def hook_payload(event: str, sid: str, **fields: Any) -> Dict[str, Any]:
    """Return the payload of hook `event` for session `sid` (`session_id`, `hook_event_name`,
    then `fields`: `cwd`, `tool_name`, `tool_input`, `prompt`, `transcript_path`...)."""
    return dict({"session_id": sid, "hook_event_name": event}, **fields)


def prompt_payload(sid: str, text: str = "hi", cwd: Optional[str] = DEMO_CWD,
                   **fields: Any) -> Dict[str, Any]:
    """Return a UserPromptSubmit payload: the user typed `text` in `cwd` (None: no `cwd` key)."""
    payload = hook_payload("UserPromptSubmit", sid, prompt=text)
    if cwd is not None:
        payload["cwd"] = cwd
    payload.update(fields)
    return payload


# ----------------------------------------------------------------------- Claude transcript lines
def stamp(n: int) -> str:
    """Return the timestamp of record number `n`: 2026-12-01T10:00:<n % 60>Z."""
    return "2026-12-01T10:00:%02dZ" % (n % 60)


def text_block(text: str) -> Dict[str, Any]:
    """Return a `text` content block."""
    return {"type": "text", "text": text}


def tool_use_block(tool_use_id: str, name: str, tool_input: Any) -> Dict[str, Any]:
    """Return a `tool_use` content block: a call of tool `name` with `tool_input`."""
    return {"type": "tool_use", "id": tool_use_id, "name": name, "input": tool_input}


def claude_user(content: Any, n: int = 0, ts: Optional[str] = None,
                **fields: Any) -> Dict[str, Any]:
    """Return a `user` line: a typed prompt (`content` a string) or a list of content blocks;
    uuid "u<n>", timestamp `ts` (default `stamp(n)`)."""
    record = {"type": "user", "uuid": "u%d" % n, "timestamp": ts or stamp(n),
              "message": {"role": "user", "content": content}}
    record.update(fields)
    return record


def claude_assistant(*blocks: Any, n: int = 1, msg_id: Optional[str] = None, model: str = "m",
                     usage: Optional[Dict[str, Any]] = None, ts: Optional[str] = None,
                     **fields: Any) -> Dict[str, Any]:
    """Return an `assistant` line: one API message (`msg_id`, default "msg_<n>") holding
    `blocks` (a string is a text block); `usage` when given; uuid "a<n>", timestamp `ts`
    (default `stamp(n)`). Claude Code writes one line per block, all with the same `msg_id`."""
    message = {"id": msg_id or "msg_%d" % n, "role": "assistant", "model": model,
               "content": [text_block(b) if isinstance(b, str) else b for b in blocks]}
    if usage is not None:
        message["usage"] = usage
    record = {"type": "assistant", "uuid": "a%d" % n, "timestamp": ts or stamp(n),
              "message": message}
    record.update(fields)
    return record


def claude_tool_result(tool_use_id: str, content: Any, n: int = 2, is_error: bool = False,
                       ts: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
    """Return the `user` line carrying the result of call `tool_use_id` (`content` a string or
    content blocks); uuid "r<n>", timestamp `ts` (default `stamp(n)`). Claude Code also writes a
    `toolUseResult` (the tool's own output object): pass it in `fields` when a test needs it."""
    record = {"type": "user", "uuid": "r%d" % n, "timestamp": ts or stamp(n),
              "message": {"role": "user", "content": [
                  {"type": "tool_result", "tool_use_id": tool_use_id, "content": content,
                   "is_error": is_error}]}}
    record.update(fields)
    return record


# -------------------------------------------------------------------------- Codex rollout lines
def codex_line(kind: str, payload: Any, ts: str = CODEX_TS) -> Dict[str, Any]:
    """Return a rollout line: `{"timestamp", "type": kind, "payload"}`."""
    return {"timestamp": ts, "type": kind, "payload": payload}


def codex_event(kind: str, ts: str = CODEX_TS, **payload: Any) -> Dict[str, Any]:
    """Return an `event_msg` line whose payload is `{"type": kind, **payload}`
    (task_started, item_completed, token_count, exec_command_end...)."""
    return codex_line("event_msg", dict(payload, type=kind), ts)


def codex_item(kind: str, ts: str = CODEX_TS, **payload: Any) -> Dict[str, Any]:
    """Return a `response_item` line whose payload is `{"type": kind, **payload}`
    (message, reasoning, function_call, function_call_output...)."""
    return codex_line("response_item", dict(payload, type=kind), ts)


def codex_session_meta(sid: str, cwd: str, cli_version: str = "0.169.0",
                       originator: str = "codex-tui", **fields: Any) -> Dict[str, Any]:
    """Return the `session_meta` line a rollout starts with: thread `sid` in `cwd`."""
    return codex_line("session_meta", dict({
        "id": sid, "cwd": cwd, "timestamp": "2026-11-20T09:59:59.000Z", "originator": originator,
        "cli_version": cli_version}, **fields))


def codex_rollout(sid: str, cwd: str, *records: Dict[str, Any]) -> bytes:
    """Return a rollout file's bytes: `codex_session_meta(sid, cwd)`, then `records`."""
    return jsonl(codex_session_meta(sid, cwd), *records)
