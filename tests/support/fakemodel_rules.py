"""The scripts of the fake model (tests/support/fakemodel.py): how a request's newest user turn is
read (`ClaudeTurn`, `CodexTurn`), what a reply is (`ClaudeReply`, `CodexReply`), and the ordered
rules that pick one. A test puts its own rule in front of DEFAULT_CLAUDE_RULES /
DEFAULT_CODEX_RULES."""
import json
import re
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

ASK_OPTIONS = [
    {"label": "Alpha", "description": "first"},
    {"label": "Beta", "description": "second"},
    {"label": "Gamma", "description": "third"},
]
PROSE_REPLY = "I looked at the code.\n\nShould I continue with the migration?"
CLAUDE_MODEL = "claude-opus-5-5"
SYSTEM_REMINDER = re.compile(r"^\s*<(system-reminder|command-[a-z-]+|local-command-[a-z-]+)>", re.S)


# ---------------------------------------------------------------------------------------- replies
class ClaudeReply:
    """An assistant message: blocks of ("text", str) or ("tool_use", name, input); stop reason."""

    def __init__(self, blocks: List[Tuple[Any, ...]], stop_reason: Optional[str] = None,
                 delay: float = 0.0, gate: Optional[threading.Event] = None) -> None:
        self.blocks = blocks
        self.stop_reason = stop_reason or (
            "tool_use" if any(b[0] == "tool_use" for b in blocks) else "end_turn")
        self.delay = delay
        self.gate = gate  # when set, the reply waits for it (a test holds the agent busy)

    @classmethod
    def text(cls, text: str, delay: float = 0.0, gate: Optional[threading.Event] = None
             ) -> "ClaudeReply":
        return cls([("text", text)], delay=delay, gate=gate)

    @classmethod
    def tool(cls, name: str, tool_input: Dict[str, Any]) -> "ClaudeReply":
        return cls([("tool_use", name, tool_input)])


class CodexReply:
    """A Responses turn: output items as Responses API dicts (message, function_call, reasoning)."""

    def __init__(self, items: List[Dict[str, Any]], delay: float = 0.0,
                 gate: Optional[threading.Event] = None) -> None:
        self.items = items
        self.delay = delay
        self.gate = gate

    @classmethod
    def text(cls, text: str) -> "CodexReply":
        return cls([{"type": "message", "role": "assistant", "status": "completed",
                     "content": [{"type": "output_text", "text": text, "annotations": []}]}])

    @classmethod
    def exec_command(cls, cmd: str) -> "CodexReply":
        return cls([{"type": "function_call", "name": "exec_command",
                     "arguments": json.dumps({"cmd": cmd})}])


# ---------------------------------------------------------------------------------------- turns
class ClaudeTurn:
    """What a Messages request asks for, seen from its newest user turn."""

    def __init__(self, body: Dict[str, Any]) -> None:
        self.body = body
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        self.messages = messages
        self.tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        # 2.1.329 appends a role "system" message (the environment) after the user's turn
        users = [i for i, m in enumerate(messages)
                 if isinstance(m, dict) and m.get("role") == "user"]
        last = messages[users[-1]] if users else {}
        blocks = _blocks(last.get("content"))
        self.tool_results = [b for b in blocks if b.get("type") == "tool_result"]
        texts = [b.get("text", "") for b in blocks if b.get("type") == "text"]
        prompts = [t for t in texts if t.strip() and not SYSTEM_REMINDER.match(t)]
        self.prompt = (prompts[-1] if prompts else (texts[-1] if texts else "")).strip()
        self.texts = texts  # every text block of the newest user turn, reminders included
        # role "system" messages after it: the environment, MCP instructions, and notes such as
        # a channel message that arrived mid-turn ("A message arrived from <server> while...")
        after = messages[users[-1] + 1:] if users else []
        self.notes = [b.get("text", "") for m in after if isinstance(m, dict)
                      and m.get("role") == "system" for b in _blocks(m.get("content"))
                      if b.get("type") == "text"]
        self.system = _system_text(body.get("system"))
        fmt = (body.get("output_config") or {}).get("format") \
            if isinstance(body.get("output_config"), dict) else None
        self.schema = fmt.get("schema") if isinstance(fmt, dict) and \
            fmt.get("type") == "json_schema" else None  # structured output wanted

    @property
    def is_side_request(self) -> bool:
        """Tell a helper request (title, topic, summary) from the main loop: it offers no tools."""
        return not self.tools

    def tool_use(self, tool_use_id: str) -> Dict[str, Any]:
        """Return the assistant's tool_use block with this id (searching backwards), or {}."""
        for message in reversed(self.messages):
            for block in _blocks(message.get("content") if isinstance(message, dict) else None):
                if block.get("type") == "tool_use" and block.get("id") == tool_use_id:
                    return block
        return {}


class CodexTurn:
    """What a Responses request asks for, seen from its newest input item."""

    def __init__(self, body: Dict[str, Any]) -> None:
        self.body = body
        items = body.get("input") if isinstance(body.get("input"), list) else []
        self.items = [i for i in items if isinstance(i, dict)]
        fmt = ((body.get("text") or {}).get("format") or {}) if isinstance(body.get("text"), dict) \
            else {}
        self.wants_json = fmt.get("type") == "json_schema"
        self.schema = fmt.get("schema") or {}
        last = self.items[-1] if self.items else {}
        self.function_output = last if last.get("type") == "function_call_output" else None
        self.prompt = ""
        for item in reversed(self.items):
            if item.get("type") == "message" and item.get("role") == "user":
                texts = [c.get("text", "") for c in item.get("content") or []
                         if isinstance(c, dict) and c.get("type") in ("input_text", "text")]
                texts = [t for t in texts if t.strip() and not t.lstrip().startswith("<")]
                if texts:
                    self.prompt = texts[-1].strip()
                    break

    def output_text(self) -> str:
        """Return the newest function_call_output's text."""
        out = (self.function_output or {}).get("output", "")
        if isinstance(out, list):  # content items form
            out = "".join(c.get("text", "") for c in out if isinstance(c, dict))
        return out if isinstance(out, str) else json.dumps(out)


def _blocks(content: Any) -> List[Dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    return "\n".join(b.get("text", "") for b in _blocks(system))


def tool_result_text(block: Dict[str, Any]) -> str:
    """Return a tool_result block's content as plain text."""
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in _blocks(content) if b.get("type") == "text")


# ---------------------------------------------------------------------------------------- rules
ClaudeRule = Callable[[ClaudeTurn], Optional[ClaudeReply]]
CodexRule = Callable[[CodexTurn], Optional[CodexReply]]


def fill_schema(schema: Any, text: str = "Fake session") -> Any:
    """Return a small value that satisfies a JSON schema (objects, strings, numbers, booleans)."""
    if not isinstance(schema, dict):
        return text
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {k: fill_schema(v, text) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return text


def claude_side_request(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    """Answer helper requests (session title, topic check...): schema-shaped JSON or short text.

    With nonessential traffic allowed, 2.1.329 names the session with a tool-less request whose
    `output_config.format` is a json_schema `{"title": string}`.
    """
    if turn.schema is not None:
        return ClaudeReply.text(json.dumps(fill_schema(turn.schema)))
    if not turn.is_side_request:
        return None
    system = turn.system.lower()
    if "json" in system and "title" in system:
        return ClaudeReply.text(json.dumps({"title": "Fake session"}))
    return ClaudeReply.text("Fake session")


# A channel message as the model sees it (Claude Code 2.1.329): a user turn
# `<channel source="amc" chat_id="c1" user="u">\nTEXT\n</channel>` when idle; during a turn, a
# role "system" note after the tool result, "A message arrived from amc while you were working:\n"
# + the tag + a warning. The server's instructions (also a system note) may quote the tag, so
# notes count only with that opening, and only a chat_id of identifier characters counts.
CHANNEL_NOTE = "A message arrived from "
CHANNEL_TAG = re.compile(r'<channel source="([^"]*)"([^>]*)>(.*?)</channel>', re.S)
CHANNEL_ATTR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"')
CHANNEL_CHAT_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
CHANNEL_REPLY_PREFIX = "CHANNEL-REPLY: "


def channel_messages(turn: ClaudeTurn) -> List[Dict[str, str]]:
    """Return the channel messages in the newest user turn: {source, <attributes>, text}."""
    found = []
    for text in turn.texts + [n for n in turn.notes if CHANNEL_NOTE in n]:
        for m in CHANNEL_TAG.finditer(text):
            attrs = dict(CHANNEL_ATTR.findall(m.group(2)))
            if CHANNEL_CHAT_ID.match(attrs.get("chat_id", "")):
                found.append(dict(attrs, source=m.group(1), text=m.group(3).strip()))
    return found


def claude_channel(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    """Answer the newest channel message with `mcp__<source>__reply` {"chat_id", "text"}.

    "CHANNEL-REPLY: <text>" is the reply; a message "BASH: <cmd>" asks for a Bash call instead (to
    reach a permission prompt from the channel). The reply call's own result then ends the turn
    through claude_tool_result ("TOOL-DONE").
    """
    messages = channel_messages(turn)
    if not messages:
        return None
    last = messages[-1]
    if last["text"].startswith("BASH:"):
        return ClaudeReply.tool("Bash", {"command": last["text"][len("BASH:"):].strip(),
                                         "description": "Run a command"})
    return ClaudeReply.tool("mcp__%s__reply" % last["source"], {
        "chat_id": last["chat_id"], "text": CHANNEL_REPLY_PREFIX + last["text"]})


def claude_tool_result(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    if not turn.tool_results:
        return None
    result = turn.tool_results[-1]
    if turn.tool_use(result.get("tool_use_id", "")).get("name") == "AskUserQuestion":
        return ClaudeReply.text("ANSWER-RECEIVED: " + tool_result_text(result))
    return ClaudeReply.text("TOOL-DONE")


def claude_ask(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    if not turn.prompt.startswith("ASK:"):
        return None
    question = turn.prompt[len("ASK:"):].strip()
    return ClaudeReply.tool("AskUserQuestion", {"questions": [{
        "question": question, "header": "Choice", "multiSelect": False,
        "options": [dict(o) for o in ASK_OPTIONS]}]})


def claude_bash(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    if not turn.prompt.startswith("BASH:"):
        return None
    return ClaudeReply.tool("Bash", {"command": turn.prompt[len("BASH:"):].strip(),
                                     "description": "Run a command"})


def claude_prose(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    return ClaudeReply.text(PROSE_REPLY) if turn.prompt.startswith("PROSE?") else None


def claude_slow(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    """"SLOW <n>: ..." waits n seconds before answering (to observe the busy state)."""
    m = re.match(r"SLOW (\d+(?:\.\d+)?)", turn.prompt)
    return ClaudeReply.text("OK: " + turn.prompt, delay=float(m.group(1))) if m else None


def claude_echo(turn: ClaudeTurn) -> Optional[ClaudeReply]:
    return ClaudeReply.text("OK: " + turn.prompt)


def codex_title(turn: CodexTurn) -> Optional[CodexReply]:
    if not turn.wants_json:
        return None
    value = fill_schema(turn.schema, "Fake task title")
    return CodexReply.text(json.dumps(value if isinstance(value, dict) and value
                                      else {"title": "Fake task title"}))


def codex_function_output(turn: CodexTurn) -> Optional[CodexReply]:
    if turn.function_output is None:
        return None
    return CodexReply.text("The command returned: " + turn.output_text())


def codex_runcmd(turn: CodexTurn) -> Optional[CodexReply]:
    if not turn.prompt.startswith("RUNCMD"):
        return None
    m = re.match(r"RUNCMD:\s*(.+)", turn.prompt, re.S)
    return CodexReply.exec_command(m.group(1).strip() if m else "echo hi")


def codex_echo(turn: CodexTurn) -> Optional[CodexReply]:
    return CodexReply.text("Hello from the fake model! You said: " + turn.prompt)


DEFAULT_CLAUDE_RULES: List[ClaudeRule] = [
    claude_side_request, claude_channel, claude_tool_result, claude_ask, claude_bash, claude_prose,
    claude_slow, claude_echo]
DEFAULT_CODEX_RULES: List[CodexRule] = [
    codex_title, codex_function_output, codex_runcmd, codex_echo]


ESCALATE_JUSTIFICATION = "Do you want to run this test command?"


def codex_escalate(turn: CodexTurn) -> Optional[CodexReply]:
    """"ESCALATE: <cmd>" asks to run <cmd> outside the sandbox (`sandbox_permissions`
    "require_escalated"), so that Codex with approval_policy "on-request" shows its approval
    prompt. Not in the default rules: a test puts it first (`codex_rules.insert(0, ...)`)."""
    if turn.wants_json or turn.function_output is not None:
        return None
    m = re.match(r"ESCALATE:\s*(.+)", turn.prompt, re.S)
    if not m:
        return None
    return CodexReply([{"type": "function_call", "name": "exec_command", "arguments": json.dumps({
        "cmd": m.group(1).strip(), "sandbox_permissions": "require_escalated",
        "justification": ESCALATE_JUSTIFICATION})}])
