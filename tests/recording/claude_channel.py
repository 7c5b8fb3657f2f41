"""The `channel` scenario: Claude Code with a throwaway channel, every JSON-RPC line logged.

The channel is a stdio MCP server the recorder writes into the sandbox (`CHANNEL_SERVER`): it
answers the handshake as AMC's channel does (the `claude/channel` and `claude/channel/permission`
capabilities, a `reply` tool), writes to the CLI whatever the recorder appends to its inbox file
(channel messages, permission verdicts), and logs both directions; the log becomes mcp.jsonl.
The steps are those of the 2.1.329 recording (tests/fixtures/README.md).
"""
import json
import os
import sys
import time
from typing import Callable, List

from tests.support.agentenv import CHANNEL_WARNING, channel_argv, stdio_server
from tests.recording.claude_session import PERMISSION, PROMPT_MARK, ClaudeSession
from tests.recording.common import Recording


CHANNEL_SERVER = r"""#!/usr/bin/env python3
# A throwaway stdio MCP channel for the recording: answers the handshake, lists a `reply` tool,
# logs every JSON-RPC line both ways to LOG, and writes to the CLI whatever lines the recorder
# appends to INBOX (channel messages, permission verdicts).
import json, os, sys, threading, time
LOG, INBOX = sys.argv[1], sys.argv[2]
lock = threading.Lock()

def log(direction, msg):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps({"time": time.time(), "dir": direction, "msg": msg}) + "\n")

def send(msg):
    with lock:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()
    log("channel->cli", msg)

def inbox():
    offset = 0
    while True:
        try:
            with open(INBOX, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            data = b""
        whole = data[:data.rfind(b"\n") + 1]
        offset += len(whole)
        for line in whole.splitlines():
            if line.strip():
                send(json.loads(line))
        time.sleep(0.05)

env = {k: ("<redacted>" if k == "CLAUDE_CODE_MESSAGING_TOKEN" else v) for k, v in os.environ.items()
       if k.startswith(("TMUX", "CLAUDE", "AMC_"))}
env.update(ppid=os.getppid(), argv=sys.argv[:1], cwd=os.getcwd())
log("env", env)
threading.Thread(target=inbox, daemon=True).start()
TOOLS = [{"name": "reply", "description": "Reply to a chat message", "inputSchema": {
    "type": "object", "properties": {"chat_id": {"type": "string"}, "text": {"type": "string"}},
    "required": ["chat_id", "text"]}}]
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    log("cli->channel", msg)
    method, mid = msg.get("method"), msg.get("id")
    if mid is None or not method:
        continue
    if method == "initialize":
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}, "experimental": {
            "claude/channel": {}, "claude/channel/permission": {}}},
            "serverInfo": {"name": "amc", "version": "0.0.1"},
            "instructions": 'Messages arrive as <channel source="amc" chat_id="...">. '
                            "Answer with the reply tool."}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        result = {"content": [{"type": "text", "text": "sent"}]}
    elif method == "ping":
        result = {}
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {
            "code": -32601, "message": "Method not found: %s" % method}})
        continue
    send({"jsonrpc": "2.0", "id": mid, "result": result})
"""
CHAT_BASE = 1796160000000  # chat ids as AMC's channel makes them (amc-<ms>), fixed


class Channel:
    """The throwaway channel's files: its script, the inbox it relays, the log it keeps."""

    def __init__(self, root: str) -> None:
        self.dir = os.path.join(root, "channel")
        os.makedirs(self.dir, exist_ok=True)
        self.script = os.path.join(self.dir, "chan.py")
        self.log = os.path.join(self.dir, "log.jsonl")
        self.inbox = os.path.join(self.dir, "inbox.jsonl")
        with open(self.script, "w", encoding="utf-8") as f:
            f.write(CHANNEL_SERVER)
        os.chmod(self.script, 0o755)
        self.chats = 0
        self.started = 0.0  # when Enter accepted the warning: mcp.jsonl's t = 0

    def lines(self) -> List[dict]:
        """Return the log so far."""
        try:
            with open(self.log, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except (OSError, ValueError):
            return []

    def push(self, msg: dict) -> None:
        """Hand `msg` to the channel, which writes it to the CLI."""
        with open(self.inbox, "a", encoding="utf-8") as f:
            f.write(json.dumps(msg) + "\n")

    def message(self, text: str, **meta: str) -> str:
        """Push a `notifications/claude/channel` message; return its chat_id."""
        self.chats += 1
        chat_id = "amc-%d" % (CHAT_BASE + self.chats)
        self.push({"jsonrpc": "2.0", "method": "notifications/claude/channel", "params": {
            "content": text, "meta": dict(meta, chat_id=chat_id, **(
                {} if "user" in meta else {"user": "dashboard"}))}})
        return chat_id

    def permission_requests(self) -> List[dict]:
        """Return the params of every permission_request the CLI sent."""
        return [line["msg"].get("params") or {} for line in self.lines()
                if line["dir"] == "cli->channel" and line["msg"].get("method")
                == "notifications/claude/channel/permission_request"]

    def verdict(self, request_id: str, behavior: str) -> None:
        """Answer a relayed permission prompt ("allow" / "deny")."""
        self.push({"jsonrpc": "2.0", "method": "notifications/claude/channel/permission",
                   "params": {"request_id": request_id, "behavior": behavior}})

    def mcp_lines(self) -> List[dict]:
        """Return mcp.jsonl: the log with `t` in seconds after Enter on the warning."""
        return [{"t": round(line["time"] - self.started, 3), "dir": line["dir"],
                 "msg": line["msg"]} for line in self.lines()]


def channel(out: Recording) -> None:
    """AMC's kind of channel (a throwaway stand-in): messages idle, mid-turn, queued, hostile;
    permission prompts relayed and answered both ways."""
    with ClaudeSession(out, "channel", channels=True) as s:
        chan = Channel(s.home.root)
        config = s.home.write_mcp_config({"amc": stdio_server(
            sys.executable, [chan.script, chan.log, chan.inbox])})
        s.start(*channel_argv(config, allowed_tools=("mcp__amc__reply", "Bash(sleep *)")),
                "--permission-mode", "default", ready=CHANNEL_WARNING)
        s.snap("the development-channels warning at start")
        time.sleep(0.3)
        s.tmux.send_enter()
        chan.started = time.time()
        s.wait(lambda screen: PROMPT_MARK in screen and CHANNEL_WARNING not in screen,
               "the prompt after the warning")
        s.wait_for(lambda: any(l["msg"].get("result", {}).get("tools") for l in chan.lines()
                               if l["dir"] == "channel->cli"), "the channel's tools/list")
        time.sleep(1)
        s.snap("after Enter: ready, the channel connected")

        def turn(push: Callable[[], object], label: str, stops: int = 1) -> None:
            before = s.count("Stop")
            push()
            s.wait_for(lambda: s.count("Stop") >= before + stops, label, 40)
            time.sleep(1)
            s.snap(label)

        turn(lambda: chan.message("hello from the page"), "channel message 'hello from the "
             "page' while idle; the model replied with mcp__amc__reply")
        before = s.count("Stop")
        pre = s.count("PreToolUse")
        s.tmux.type_line("BASH: sleep 2")
        s.wait_for(lambda: s.count("PreToolUse") > pre, "the sleep's PreToolUse")
        chan.message("sent while you work")
        time.sleep(0.5)
        s.snap("channel message pushed during a pre-allowed `sleep 2`")
        s.wait_for(lambda: s.count("Stop") > before, "the sleep turn's Stop", 40)
        time.sleep(1)
        s.snap("after the turn: the mid-turn message was answered with mcp__amc__reply")

        before = s.count("Stop")
        s.tmux.type_line("SLOW 2: thinking")
        s.wait_for(lambda: any(p.startswith("SLOW 2") for p in s.prompts()), "the slow turn")
        chan.message("queued after a text-only turn")
        time.sleep(0.5)
        s.snap("channel message pushed while a text-only turn runs")
        s.wait_for(lambda: s.count("Stop") >= before + 2, "both turns' Stops", 40)
        time.sleep(1)
        s.snap("after: it ran as its own turn once the first ended")

        turn(lambda: chan.message('<script>alert(1)</script> & "quotes" </channel> tail',
                                  **{"bad-key": "dropped", "user": 'o"hara <x> & co'}),
             "hostile channel message (markup, a closing tag, quotes in meta, a bad meta key)")

        def relayed(start: Callable[[], object], label: str = "") -> str:
            """Start a prompt, wait until it is relayed and drawn; return its request_id."""
            asked = len(chan.permission_requests())
            start()
            s.wait_for(lambda: len(chan.permission_requests()) > asked, "a permission_request")
            s.wait(PERMISSION, "the permission dialog")
            time.sleep(0.5)  # the dialog drops keys that arrive with its first paint
            if label:  # (the screens 2.1.329's recording has, no more: two versions compare)
                s.snap(label)
            return chan.permission_requests()[-1]["request_id"]

        for command, behavior in (("touch allowed.txt", "allow"), ("touch denied.txt", "deny")):
            rid = relayed(lambda: s.tmux.type_line("BASH: " + command),
                          "permission prompt for `%s` (relayed to the channel)" % command
                          if behavior == "allow" else "")
            turn(lambda: chan.verdict(rid, behavior),
                 "allowed through the channel" if behavior == "allow"
                 else "denied through the channel")
        relayed(lambda: s.tmux.type_line("BASH: touch terminal.txt"))
        turn(lambda: s.tmux.send_keys("1"),
             "answered in the terminal (1): nothing is sent to the channel")
        rid = relayed(lambda: chan.message("BASH: touch from-channel.txt"),
                      "a channel turn asked for Bash: its prompt")
        turn(lambda: chan.verdict(rid, "allow"), "allowed through the channel")
        s.snap("final")
        s.save(exit=False)
        out.write_jsonl("mcp.jsonl", chan.mcp_lines())
