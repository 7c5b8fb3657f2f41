"""What a Claude Code session transcript says about its Task / Agent calls (its subagents).

Place in the flow: agents/claude/transcript.py hands each Task/Agent call, tool result record, user text and
1.0.x sidechain record to these functions while it folds the parent transcript; they keep on the
call `subagent: {agent_id, status}` (and `inline: true` for a 1.0.x inline subagent). What the
subagents' own files say is added on the way out by agents/claude/subagents.py.

- The agent id: the tool result's `toolUseResult.agentId` (2.0.x on; 2.1.329 already at launch),
  else an "agentId: <id>" line in the result text, else a `<task-id>` of a task notification; for
  1.0.x the uuid of the inline sidechain that the call's prompt started.
- Running until the result arrives (a subagent in the foreground), except that 2.1.x background
  agents answer at once (`status: "async_launched"`): those run until a `<task-notification>`
  naming the call's tool-use id says they stopped.
"""
import re
from typing import Any, Dict, List

# Tools that start a subagent: 1.0.x-2.0.x Task, 2.1.x Agent.
AGENT_TOOLS = frozenset(("Task", "Agent"))
_NOTE = re.compile(r"<task-notification>(.*?)(?:</task-notification>|\Z)", re.S)
_NOTE_FIELD = re.compile(r"<(task-id|tool-use-id|status)>\s*([^<]{0,200}?)\s*</\1>")
_AGENT_ID_TEXT = re.compile(r"\bagentId: ([A-Za-z0-9_-]{1,100})")
_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")

Calls = Dict[str, Dict[str, Any]]   # tool_use id -> its call (the reader's own table)


def mark(call: Dict[str, Any]) -> None:
    """Give a Task/Agent call its `subagent` object (running, agent not known yet)."""
    if call.get("name") in AGENT_TOOLS:
        call["subagent"] = {"agent_id": "", "status": "running"}


def results(calls: Calls, record: Dict[str, Any], blocks: List[Dict[str, Any]]) -> None:
    """Learn agent ids and ends from the tool results of one user record (already paired)."""
    info = record.get("toolUseResult")
    info = info if isinstance(info, dict) and len(blocks) == 1 else {}
    for block in blocks:
        use_id = block.get("tool_use_id")
        call = calls.get(use_id) if isinstance(use_id, str) else None
        sub = call.get("subagent") if call is not None else None
        if sub is None:
            continue
        agent_id = info.get("agentId")
        if not isinstance(agent_id, str) or not _AGENT_ID.match(agent_id):
            found = _AGENT_ID_TEXT.search(call.get("result") or "")
            agent_id = found.group(1) if found else ""
        if agent_id and not sub["agent_id"]:
            sub["agent_id"] = agent_id
        if info.get("status") != "async_launched" and info.get("isAsync") is not True:
            sub["status"] = "done"


def notes(calls: Calls, blocks: List[Dict[str, Any]]) -> None:
    """Mark the calls whose background agent a `<task-notification>` in `blocks` says stopped."""
    for block in blocks:
        text = block.get("text") if block.get("type") == "text" else None
        if not isinstance(text, str) or "<task-notification>" not in text:
            continue
        for body in _NOTE.findall(text):
            fields = dict(_NOTE_FIELD.findall(body))
            call = calls.get(fields.get("tool-use-id", ""))
            sub = call.get("subagent") if call is not None else None
            if sub is None:
                continue  # a background shell, or a call this transcript never showed
            if not sub["agent_id"] and _AGENT_ID.match(fields.get("task-id", "")):
                sub["agent_id"] = fields["task-id"]
            if fields.get("status", "completed") not in ("running", "pending"):
                sub["status"] = "done"


def sidechain(calls: Calls, record: Dict[str, Any]) -> None:
    """Link a 1.0.x inline subagent (its chain's first record) to the call that started it."""
    uuid = record.get("uuid")
    if record.get("parentUuid") is not None or record.get("type") != "user" \
            or not isinstance(uuid, str) or not _AGENT_ID.match(uuid):
        return
    message = record.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        content = texts[0] if texts else ""
    prompt = content.strip() if isinstance(content, str) else ""
    for call in reversed(list(calls.values())):
        sub = call.get("subagent")
        args = call.get("input")
        if sub is not None and not sub["agent_id"] and isinstance(args, dict) \
                and isinstance(args.get("prompt"), str) and args["prompt"].strip() == prompt:
            sub["agent_id"] = uuid
            sub["inline"] = True
            return
