"""Codex CLI rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`) -> Messages, Sessions.

Codex keeps no live-session registry, so its rollout is both the conversation (`find_rollout` +
`CodexTranscript`) and, without hooks, the only status source (the live core keeps one reader per
active rollout, core/sources.py). Codex reports most things twice, a `response_item` for the
model's history and an `event_msg` for the UI, in an order and a mix that changed between versions (0.53 to 0.169).
Rather than trust either channel to exist, each report is matched by text against recent reports
from the other channels, so every real message appears exactly once.
"""
import os
import re
from collections import deque
from typing import Any, Dict, Optional, Tuple

from ... import model
from ...store import dumps, loads
from ..base import Transcript, make_message, make_tool_call

# Record, event and item types that carry nothing a conversation or a status shows.
IGNORED_RECORDS = frozenset("world_state token_usage_record compacted "
                            "inter_agent_communication_metadata".split())
IGNORED_EVENTS = frozenset("""
    token_count thread_settings_applied context_compacted thread_name_updated thread_goal_updated
    sub_agent_activity guardian_assessment entered_review_mode exited_review_mode undo_started
    undo_completed account/rateLimits/updated agent_message_delta agent_reasoning_delta
    agent_reasoning_raw_content agent_reasoning_raw_content_delta agent_reasoning_section_break
    item_started exec_command_begin exec_command_output_delta patch_apply_begin mcp_tool_call_begin
    mcp_tool_call_end web_search_begin web_search_end view_image_tool_call image_generation_begin
    image_generation_end plan_update turn_diff background_event session_configured
    shutdown_complete stream_error dynamic_tool_call_request dynamic_tool_call_response
    collab_agent_spawn_begin collab_agent_spawn_end collab_agent_interaction_begin
    collab_agent_interaction_end collab_waiting_begin collab_waiting_end collab_close_begin
    collab_close_end""".split())
IGNORED_ITEMS = frozenset("ghost_snapshot compaction compaction_summary agent_message other"
                          .split())
IGNORED_COMPLETED = frozenset("""Plan Extension WebSearch ImageView ImageGeneration McpToolCall
    ContextCompaction HookPrompt EnteredReviewMode ExitedReviewMode DynamicToolCall
    CollabAgentToolCall""".split())
NOISE = frozenset({"token_count", "thread_settings_applied", "stream_error"})  # never "last event"

# User-role text Codex injects itself (instructions, context, markers): never shown as a prompt.
INJECTED = ("<environment_context", "<user_instructions", "# AGENTS.md instructions for",
            "<permissions instructions", "<turn_aborted", "<user_shell_command", "<INSTRUCTIONS",
            "<skills_instructions", "<collaboration_mode", "<subagent_notification",
            "<personality_spec", "<apps_instructions", "<model_switch", "<hook_prompt")
_EXIT = re.compile(r"^(?:Exit code:|Process exited with code) (-?\d+)", re.M)
_SHELLS = ("bash", "sh", "zsh", "pwsh", "powershell.exe")
_FAILED = ("failed", "declined")


def _kind(value: Any) -> Any:
    """Return a record's `type` fit for a set lookup (a list or an object there is no type)."""
    return value if isinstance(value, (str, int, float, bool, type(None))) else \
        "<%s>" % type(value).__name__


def _text(value: Any) -> str:
    """Return the text of a string, a content part or a list of parts (images dropped)."""
    if isinstance(value, str):
        return value
    parts = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
    return "\n".join(p["text"] for p in parts
                     if isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"])


def _json(value: Any) -> Any:
    """Return `value` decoded when it is a string holding a JSON object or array, else as is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return loads(value)
        except ValueError:
            pass
    return value


def _output(value: Any) -> Tuple[str, bool]:
    """Return a tool output's text and whether it reports a non-zero exit code."""
    value = _json(value)
    if isinstance(value, dict) and "output" in value:  # 0.2x-0.4x: {"output", "metadata"}
        meta = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
        return _text(value["output"]), meta.get("exit_code") not in (0, None)
    if not isinstance(value, str):
        return "" if value is None else _text(value) or dumps(value, ensure_ascii=False), False
    # Only the header ("Exit code: 1\nWall time...\nOutput:") is Codex's; never read the output.
    m = _EXIT.search(value.split("\nOutput:", 1)[0]) if "\nOutput:" in value else None
    return value, bool(m and int(m.group(1)) != 0)


def _cmd(command: Any) -> str:
    """Return a command argv as the line the user would type (`bash -lc X` -> X)."""
    if not isinstance(command, list):
        return command if isinstance(command, str) else ""
    argv = [str(c) for c in command]
    if len(argv) == 3 and argv[1] in ("-lc", "-c") and os.path.basename(argv[0]) in _SHELLS:
        return argv[2]
    return " ".join(argv)


def _joined(d: Dict[str, Any], *keys: str) -> str:
    return "".join(str(d.get(k) or "") for k in keys)


def _harness(payload: Dict[str, Any]) -> bool:
    """Tell whether a 0.16x message item says the harness wrote it, not the user."""
    meta = payload.get("internal_chat_message_metadata_passthrough")
    items = meta.get("content_item_metadata") if isinstance(meta, dict) else None
    return isinstance(items, list) and any(
        isinstance(i, dict) and isinstance(i.get("provenance"), dict)
        and i["provenance"].get("type") == "harness" for i in items)


class CodexTranscript(Transcript):
    """One Codex rollout, folded into Messages plus the state discovery needs."""

    agent = "codex"

    def reset_state(self) -> None:
        """Forget everything learnt from the rollout (first read, truncation)."""
        self.meta: Dict[str, Any] = {}                 # id, cwd, originator, cli_version, ...
        self.cwd = self.model = self.approval_policy = ""
        self.busy = False                              # task_started .. task_complete/turn_aborted
        self.approval: Optional[Dict[str, str]] = None  # an `attention` dict, plus call_id
        self.error = ""                                # the last turn failed with this
        self.last_event = self.last_event_at = self.status_at = self.last_agent_message = ""
        self._cur: Optional[Dict[str, Any]] = None      # the assistant message tool calls join
        self._calls: Dict[str, Dict[str, Any]] = {}
        self._recent: deque = deque(maxlen=32)          # ((kind, text), {channels seen on})

    def feed(self, record: Dict[str, Any], where: str) -> None:
        """Fold one rollout line into the messages and the session state."""
        kind, p = _kind(record.get("type")), record.get("payload")
        p = p if isinstance(p, dict) else {}
        ts = record.get("timestamp") if isinstance(record.get("timestamp"), str) else ""
        self.last_event_at = ts or self.last_event_at
        if kind == "session_meta":
            if not self.meta:                           # later ones describe a forked parent
                self.meta = {k: p.get(k) for k in ("id", "cwd", "originator", "cli_version",
                                                   "source")}
                self.meta["started_at"] = p.get("timestamp") or ts
                self.cwd = self.cwd or str(p.get("cwd") or "")
        elif kind == "turn_context":
            self.cwd = str(p.get("cwd") or self.cwd)
            self.model = str(p.get("model") or self.model)
            self.approval_policy = str(p.get("approval_policy") or self.approval_policy)
        elif kind == "response_item":
            self._item(p, ts, where)
        elif kind == "event_msg":
            self._event(p, ts, where)
        elif kind not in IGNORED_RECORDS:
            self.warn_once("rec:%s" % kind, "%s: unknown Codex record %r skipped" % (where, kind))

    # -- building messages ----------------------------------------------------------------
    def _once(self, kind: str, text: str, channel: str) -> bool:
        """Tell whether a report is new: the same text already seen on another channel is not."""
        key = (kind, " ".join(text.split()))
        for seen, channels in self._recent:
            if seen == key and channel not in channels:
                channels.add(channel)
                return False
        self._recent.append((key, {channel}))
        return True

    def _add(self, role: str, ts: str, content: str = "", **extra: Any) -> Dict[str, Any]:
        msg = make_message(self.next_id(), role, content, ts, **extra)
        self.messages.append(msg)
        return msg

    def _bare(self) -> Optional[Dict[str, Any]]:
        """Return the turn's open assistant message while it holds only thinking."""
        cur = self._cur
        return cur if cur is not None and not cur["content"] and not cur["tool_calls"] else None

    def _user(self, text: Any, ts: str, channel: str) -> None:
        text = _text(text)
        if (text.strip() and not text.lstrip().startswith(INJECTED)
                and self._once("user", text, channel)):
            self._add("user", ts, text)
            self._cur = None
            self._status(ts, busy=True)

    def _assistant(self, text: Any, ts: str, channel: str) -> None:
        text = _text(text)
        if not text.strip() or not self._once("assistant", text, channel):
            return
        if self._bare() is not None:
            self._cur["content"] = text                 # the reply to the thinking shown above it
        else:
            self._cur = self._add("assistant", ts, text)
        self.last_agent_message = text

    def _thinking(self, parts: Any, ts: str, channel: str) -> None:
        # Old versions send one agent_reasoning event per summary part: match part by part.
        parts = parts if isinstance(parts, list) else [parts]
        new = [t for t in map(_text, parts) if t.strip() and self._once("thinking", t, channel)]
        if new and self._bare() is not None:
            self._cur["thinking"] = "\n\n".join(filter(None, [self._cur["thinking"]] + new))
        elif new:
            self._cur = self._add("assistant", ts, thinking="\n\n".join(new))

    def _call(self, call_id: Any, name: str, input_: Any, ts: str,
              own: bool = False) -> Dict[str, Any]:
        """Return call `call_id`, made on the turn's assistant message; `own`: the model's view."""
        call_id = str(call_id or "")
        tc = self._calls.get(call_id) if call_id else None
        if tc is None:
            tc = make_tool_call(call_id, name, input_)
            if call_id:
                self._calls[call_id] = tc
            if self._cur is None:
                self._cur = self._add("assistant", ts)
            self._cur["tool_calls"].append(tc)
        elif own:
            tc.update(name=name, input=input_)
        return tc

    def _result(self, call_id: Any, result: str, is_error: bool, ts: str, name: str = "tool",
                input_: Any = None, final: bool = False) -> None:
        """Attach an output; structured events (`final`) beat the model-facing output text."""
        tc = self._call(call_id, name, {} if input_ is None else input_, ts)
        if final or "result" not in tc:
            tc["result"], tc["is_error"] = result, bool(is_error)
        if self.approval and self.approval["call_id"] == tc["id"]:
            self._status(ts, approval=None)

    def _status(self, ts: str, **changes: Any) -> None:
        """Change busy/approval/error and remember when the status last changed."""
        if any(getattr(self, k) != v for k, v in changes.items()):
            self.__dict__.update(changes)
            self.status_at = ts

    # -- record kinds ---------------------------------------------------------------------
    def _item(self, p: Dict[str, Any], ts: str, where: str) -> None:
        t, call_id = _kind(p.get("type")), p.get("call_id") or p.get("id")
        if t == "message" and p.get("role") == "user" and not _harness(p):
            self._user(p.get("content"), ts, "item")
        elif t == "message" and p.get("role") == "assistant":
            self._assistant(p.get("content"), ts, "item")
        elif t == "message":
            pass                                        # developer / system: instructions
        elif t == "reasoning":
            self._thinking(p.get("summary") or p.get("content") or [], ts, "item")
        elif t == "function_call":
            name = str(p.get("name") or "function")
            name = "%s.%s" % (p["namespace"], name) if p.get("namespace") else name
            args = _json(p.get("arguments"))
            self._call(call_id, name, args, ts, own=True)
            if isinstance(args, dict) and self.approval_policy != "never" and (
                    args.get("sandbox_permissions") == "require_escalated"
                    or args.get("with_escalated_permissions") is True):
                # Codex asks before it runs this; nothing in the rollout says it asked until the
                # output arrives (the approval itself is not recorded).
                self._status(ts, approval={
                    "kind": model.ATTN_PERMISSION, "tool": name, "call_id": str(call_id),
                    "summary": model.tool_summary(args),
                    "text": str(args.get("justification") or "Run outside the sandbox?")})
        elif t == "custom_tool_call":
            raw = _json(p.get("input"))
            # Codex's own hooks show a freeform input (apply_patch's patch) as {"command": ...}.
            self._call(call_id, str(p.get("name") or "tool"),
                       raw if isinstance(raw, dict) else {"command": raw}, ts, own=True)
        elif t in ("local_shell_call", "tool_search_call", "web_search_call",
                   "image_generation_call"):
            input_ = p.get("action") or p.get("arguments") or {"prompt": p.get("revised_prompt")}
            self._call(call_id, t[:-len("_call")], input_, ts, own=True)
        elif t in ("function_call_output", "custom_tool_call_output", "tool_search_output"):
            self._result(call_id, *_output(p["output"] if "output" in p else p.get("tools")), ts)
        elif t not in IGNORED_ITEMS:
            self.warn_once("item:%s" % t, "%s: unknown Codex response item %r skipped" % (where, t))

    def _event(self, p: Dict[str, Any], ts: str, where: str) -> None:
        t = _kind(p.get("type"))
        self.last_event = self.last_event if t in NOISE else str(t)
        if t == "task_started":
            self._cur = None
            self._status(ts, busy=True, approval=None, error="")
        elif t in ("task_complete", "turn_aborted"):
            self._status(ts, busy=False, approval=None)
            if isinstance(p.get("last_agent_message"), str):
                self.last_agent_message = p["last_agent_message"]
            if t == "turn_aborted" and p.get("reason") in (None, "interrupted"):
                # Like claude.py: the turn's reply (or an empty one) carries `interrupted`.
                (self._cur or self._add("assistant", ts))["interrupted"] = True
            elif p.get("error"):
                self._fail(p["error"], ts)
            self._cur = None
        elif t == "error":
            self._fail(p.get("error") or p, ts)
        elif t == "user_message" and p.get("kind") in (None, "plain"):  # else injected context
            self._user(p.get("message"), ts, "event")
        elif t == "agent_message":
            self._assistant(p.get("message"), ts, "event")
        elif t == "agent_reasoning":
            self._thinking(p.get("text"), ts, "event")
        elif t == "item_completed" and isinstance(p.get("item"), dict):
            self._completed(p["item"], ts, where)
        elif t == "exec_command_end":
            out = p.get("aggregated_output") or _joined(p, "stdout", "stderr")
            self._exec(p.get("call_id"), p.get("command"), out, p.get("exit_code") not in (0, None),
                       ts)
        elif t == "patch_apply_end":
            self._patch(p, p.get("call_id"), p.get("success") is False, ts)
        elif t not in IGNORED_EVENTS and t != "user_message":
            self.warn_once("event:%s" % t, "%s: unknown Codex event %r skipped" % (where, t))

    def _completed(self, item: Dict[str, Any], ts: str, where: str) -> None:
        t = _kind(item.get("type"))
        if t == "UserMessage":
            self._user(item.get("content"), ts, "completed")
        elif t == "AgentMessage":
            self._assistant(item.get("content"), ts, "completed")
        elif t == "Reasoning":
            self._thinking(item.get("summary_text") or [], ts, "completed")
        elif t == "CommandExecution":
            failed = item.get("exit_code") not in (0, None) or item.get("status") in _FAILED
            self._exec(item.get("id"), item.get("command"), item.get("aggregated_output"), failed,
                       ts)
        elif t == "FileChange":
            self._patch(item, item.get("id"), item.get("status") in _FAILED, ts)
        elif t not in IGNORED_COMPLETED:
            self.warn_once("done:%s" % t, "%s: unknown Codex item %r skipped" % (where, t))

    def _exec(self, call_id: Any, command: Any, output: Any, failed: bool, ts: str) -> None:
        self._result(call_id, str(output or ""), failed, ts, "exec_command",
                     {"command": _cmd(command)}, final=True)

    def _patch(self, p: Dict[str, Any], call_id: Any, failed: bool, ts: str) -> None:
        changes = p.get("changes") if isinstance(p.get("changes"), dict) else {}
        self._result(call_id, _joined(p, "stdout", "stderr"), failed, ts, "apply_patch",
                     {"changes": sorted(changes)}, final=True)

    def _fail(self, err: Any, ts: str) -> None:
        err = err if isinstance(err, dict) else {"message": err}
        text = str(err.get("message") or err)
        self._status(ts, error=text)
        last = self.messages[-1] if self.messages else {}
        if not (last.get("is_error") and last.get("content") == text):  # error event + turn end
            self._add("assistant", ts, text, is_error=True,
                      api_error=str(err.get("codex_error_info") or err.get("kind") or "error"))
        self._cur = None
