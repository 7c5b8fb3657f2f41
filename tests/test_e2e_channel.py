"""End to end: AMC's Claude Code channel (bin/amc-channel) in the real, pinned Claude Code TUI.

Claude Code 2.1.329 runs in a private tmux against tests/support/fakemodel.py with the channel
feature flags seeded (REAL_AGENTS.md, "Claude Code Channels"), `bin/amc-channel` registered with
`--mcp-config` and loaded with `--dangerously-load-development-channels server:amc`, and a real
`amc serve --port 0` watching it. The fake model answers a `<channel source="amc" ...>` turn with
an `mcp__amc__reply` call (tests/support/fakemodel_rules.py, claude_channel). What is asserted is
what a user of the dashboard sees: the session has a channel; a message typed at the page reaches
the model and its reply shows in the conversation and on the stream; a permission prompt is a card
with Allow / Deny that works, and clears when answered in the terminal; after AMC restarts the
channel comes back and the next message arrives.
"""
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
from typing import Any, Callable, Dict, List

from tests.support import tools
from tests.support.agentenv import ROOT, accept_channel_warning, channel_argv, stdio_server
from tests.support.amcproc import AmcServer, run_amc
from tests.support.e2ecase import AgentTuiCase
from tests.support.fakemodel_rules import CHANNEL_REPLY_PREFIX
from tests.support.sse import SSEClient

CHANNEL = os.path.join(ROOT, "bin", "amc-channel")
STEP_TIMEOUT = 15
SETTLE_S = 1.0
# What the model gets for a message typed at the page (AMC's channel sets chat_id and user).
CHANNEL_TURN = re.compile(r'^<channel source="amc" chat_id="(amc-\d+)" user="dashboard">\n'
                          r'(.*)\n</channel>$', re.S)


class ClaudeChannelE2E(AgentTuiCase):
    """Real Claude Code with bin/amc-channel, watched by AMC (each test takes about 10 s)."""

    step_timeout = STEP_TIMEOUT

    def setUp(self) -> None:
        if not os.path.exists(CHANNEL):  # a failure in every mode: the feature is missing
            self.fail("bin/amc-channel is missing: these tests drive AMC's Claude Code channel "
                      "(issue 9) and cannot run without it")
        super().setUp()
        self.claude = tools.require("claude")
        self.home.write_claude_json([self.project], channels=True)
        self.mcp_config = self.home.write_mcp_config({"amc": stdio_server(
            sys.executable, [CHANNEL], {"AMC_DATA_DIR": self.home.data_dir})})
        self.started = time.monotonic()
        self.addCleanup(self.check_fast)
        with self.step("amc hooks install"):
            proc = run_amc(["hooks", "install"], self.amc_env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        with self.step("amc serve"):
            self.serve()

    def check_fast(self) -> None:
        self.assertLess(time.monotonic() - self.started, 60, "the test took over a minute")

    def failure_context(self) -> str:
        prompts = [r.get("prompt", "")[:200] for r in self.fake.requests_to("/v1/messages")
                   if not r.get("side")]
        return "--- prompts the fake model got ---\n%s\n" % "\n".join(map(repr, prompts))

    def launch(self) -> Dict[str, Any]:
        """Start Claude Code with the channel; return its session once AMC sees the channel."""
        with self.step("Claude Code starts with the channel and its warning is accepted"):
            argv = [self.claude] + channel_argv(
                self.mcp_config, allowed_tools=("mcp__amc__reply", "Bash(sleep *)")) + [
                "--permission-mode", "default"]
            self.tmux.new_session(argv, self.project, self.home.env(self.fake.url, channels=True))
            accept_channel_warning(self.tmux)
        with self.step("(a) the session carries channel: true"):
            s = self.amc.wait_session(lambda s: s.get("project_dir") == self.project
                                      and s.get("channel") is True,
                                      "a session for %s with a channel" % self.project)
            self.session_id = s["session_id"]
            self.assertEqual(s["tmux_pane"], self.tmux.pane)
        # The CLI takes channel messages only once it has the channel's tool list (~10 ms after
        # the handshake); the channel shows as live from its first connection to AMC, earlier.
        # test_a_message_sent_the_moment_the_channel_shows_is_not_lost covers that gap.
        time.sleep(SETTLE_S)
        return s

    def respond(self, text: str) -> Dict[str, Any]:
        status, answer = self.amc.post("/api/respond/" + self.session_id, {"text": text})
        self.assertEqual((status, answer.get("ok"), answer.get("via")), (200, True, "channel"),
                         "POST /api/respond %r -> %s %s" % (text, status, answer))
        return answer

    def channel_turn(self, text: str) -> str:
        """Wait until the model got `text` as a channel turn; return its chat_id."""
        deadline = time.monotonic() + self.step_timeout
        while True:
            for r in self.fake.requests_to("/v1/messages"):
                for candidate in [r.get("prompt") or ""] + _notes(r):
                    m = CHANNEL_TURN.search(candidate)
                    if m and m.group(2) == text:
                        return m.group(1)
            if time.monotonic() > deadline:
                raise AssertionError("the model never got %r as a channel turn" % text)
            time.sleep(0.1)

    def conversation(self, check: Callable[[List[Dict[str, Any]]], Any]) -> List[Dict[str, Any]]:
        """Poll /api/conversation until `check(messages)` passes (Claude writes it in batches)."""
        deadline = time.monotonic() + self.step_timeout
        while True:
            try:
                messages = self.amc.get("/api/conversation/" + self.session_id)["messages"]
            except urllib.error.HTTPError as e:  # 404 until the first turn creates the transcript
                if e.code != 404 or time.monotonic() > deadline:
                    raise
                messages = []
            try:
                check(messages)
                return messages
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def assert_chat(self, messages: List[Dict[str, Any]], text: str, chat_id: str,
                    **extra: Any) -> None:
        """Assert the page shows `text` as a channel message and the model's reply to it."""
        sent = [m for m in messages if m["role"] == "user" and m.get("kind") == "channel"
                and m["content"] == text]
        self.assertEqual(len(sent), 1, json.dumps(messages, indent=1)[-3000:])
        self.assertEqual(sent[0]["channel"], {"server": "amc", "chat_id": chat_id,
                                              "user": "dashboard"})
        for key, value in extra.items():
            self.assertEqual(sent[0].get(key), value, sent[0])
        later = messages[messages.index(sent[0]) + 1:]
        replies = [m for m in later if m.get("channel_reply") == CHANNEL_REPLY_PREFIX + text]
        self.assertEqual(len(replies), 1, json.dumps(later, indent=1)[-3000:])
        (call,) = [c for c in replies[0]["tool_calls"] if c["name"] == "mcp__amc__reply"]
        self.assertEqual(call["input"], {"chat_id": chat_id, "text": CHANNEL_REPLY_PREFIX + text})

    def wait_channel_prompt(self, command: str) -> Dict[str, Any]:
        """Type a Bash prompt; return the session once its card is the channel's prompt."""
        self.tmux.type_line("BASH: " + command)
        s = self.wait(lambda s: (s.get("attention") or {}).get("via") == "channel",
                      "a permission prompt relayed through the channel")
        attention = s["attention"]
        self.assertEqual((s["status"], attention["kind"], attention["tool"],
                          attention["options"], attention["options_count"]),
                         ("needs_attention", "permission", "Bash", ["Allow", "Deny"], 2), s)
        self.assertIn(command, attention["summary"])
        self.assertEqual(attention["text"], "Run a command")
        self.assertRegex(attention["request_id"], r"^[a-z]{5}$")
        self.tmux.wait_for("Do you want to proceed?")
        return s

    # -- the scenarios
    def test_a_message_from_the_page_reaches_the_model_and_its_reply_shows(self) -> None:
        self.launch()
        port = urllib.parse.urlsplit(self.amc.url).port
        stream = SSEClient(port, "/api/stream?follow=" + self.session_id)
        self.addCleanup(stream.close)
        with self.step("the stream is followed"):
            self.assertEqual(stream.read_headers(), 200)
            stream.until(lambda e: e["event"] == "snapshot")
        with self.step("(b) POST /api/respond goes through the channel"):
            answer = self.respond("hello from the page")
            self.assertEqual(answer["delivered_to"], "AMC's channel in the session")
        with self.step("the model gets it as a <channel source=\"amc\"> turn"):
            chat_id = self.channel_turn("hello from the page")
            self.tmux.wait_for("\u2190 amc \u00b7 dashboard: hello from the page")
        with self.step("its reply is in /api/conversation as channel_reply"):
            self.conversation(lambda ms: self.assert_chat(ms, "hello from the page", chat_id))
        with self.step("and arrives as a messages event on the followed stream"):
            event = stream.until(lambda e: e["event"] == "messages" and any(
                m.get("channel_reply") == CHANNEL_REPLY_PREFIX + "hello from the page"
                for m in e["data"]["messages"]), timeout=self.step_timeout)
            self.assertEqual(event["data"]["session_id"], self.session_id)
            self.wait(lambda s: s["status"] == "done", "status done")
        with self.step("a message sent while the model works is absorbed into its turn"):
            self.tmux.type_line("BASH: sleep 2")
            self.wait(lambda s: s["status"] == "active", "status active")
            self.tmux.wait_for("sleep 2")
            self.respond("sent while you work")
            chat_id = self.channel_turn("sent while you work")
            self.conversation(lambda ms: self.assert_chat(ms, "sent while you work", chat_id,
                                                          mid_turn=True))
            self.wait(lambda s: s["status"] == "done", "status done")

    def test_permission_prompts_relayed_allowed_denied_and_answered_in_the_terminal(self) -> None:
        self.launch()
        with self.step("(c) a prompt is a card with Allow / Deny; 1 allows"):
            self.wait_channel_prompt("touch allowed.txt")
            self.respond("1")
            s = self.wait(lambda s: s["status"] == "done" and not s.get("attention"),
                          "the card cleared and the turn done")
            self.assertTrue(os.path.exists(os.path.join(self.project, "allowed.txt")),
                            "the allowed command did not run")
        with self.step("2 denies: the command does not run"):
            self.wait_channel_prompt("touch denied.txt")
            self.respond("2")
            self.wait(lambda s: s["status"] == "done" and not s.get("attention"),
                      "the card cleared and the turn done")
            self.tmux.wait_for("Not run \u00b7 rejected")
            self.assertFalse(os.path.exists(os.path.join(self.project, "denied.txt")),
                             "the denied command ran")
            self.conversation(lambda ms: self.assertTrue(any(
                c.get("is_error") and "Denied via channel amc" in c.get("result", "")
                for m in ms for c in m["tool_calls"]), "no denied Bash call in the conversation"))
        with self.step("answered in the terminal first, the card clears"):
            self.wait_channel_prompt("touch terminal.txt")
            time.sleep(0.5)  # the dialog drops keys that arrive with its first paint
            self.tmux.send_keys("1")
            self.wait(lambda s: s["status"] != "needs_attention" and not s.get("attention"),
                      "the card cleared after the terminal answer")
            self.assertTrue(os.path.exists(os.path.join(self.project, "terminal.txt")))
            self.wait(lambda s: s["status"] == "done", "status done")

    def test_a_message_sent_the_moment_the_channel_shows_is_not_lost(self) -> None:
        """The page may send as soon as the card says "channel": nothing may be dropped."""
        with self.step("Claude Code starts with the channel"):
            argv = [self.claude] + channel_argv(self.mcp_config) + ["--permission-mode", "default"]
            self.tmux.new_session(argv, self.project, self.home.env(self.fake.url, channels=True))
            accept_channel_warning(self.tmux)
            s = self.amc.wait_session(lambda s: s.get("project_dir") == self.project
                                      and s.get("channel") is True, "a session with a channel",
                                      timeout=self.step_timeout, interval=0.01)
            self.session_id = s["session_id"]
        with self.step("a message sent at once reaches the model"):
            self.respond("sent at once")
            try:
                chat_id = self.channel_turn("sent at once")
            except AssertionError as e:
                raise AssertionError(
                    "%s. The channel was live (acked the message) but Claude Code dropped it: "
                    "2.1.329 ignores notifications/claude/channel until it has the channel's "
                    "tools/list answer, and bin/amc-channel opens its inbox (channel: true) "
                    "when it starts, before the MCP handshake" % e) from None
            self.conversation(lambda ms: self.assert_chat(ms, "sent at once", chat_id))

    def test_the_channel_reconnects_after_amc_restarts(self) -> None:
        self.launch()
        with self.step("(d) AMC's server restarts (another port) while the channel runs"):
            self.amc.stop()
            time.sleep(1)  # the channel's inbox is down for a moment: it retries with backoff
            self.amc = AmcServer(self.amc_env).start()
            self.addCleanup(self.amc.stop)
            self.wait(lambda s: s.get("channel") is True, "the channel back on the new server")
        with self.step("the next message arrives"):
            self.respond("after the restart")
            chat_id = self.channel_turn("after the restart")
            self.conversation(lambda ms: self.assert_chat(ms, "after the restart", chat_id))


def _notes(request: Dict[str, Any]) -> List[str]:
    """Return the channel tags a request carries in role "system" notes (a mid-turn message)."""
    messages = (request.get("body") or {}).get("messages") or []
    out = []
    for m in messages[-3:]:
        if isinstance(m, dict) and m.get("role") == "system" and isinstance(m.get("content"), list):
            for block in m["content"]:
                text = block.get("text", "") if isinstance(block, dict) else ""
                out += re.findall(r"<channel [^>]*>\n.*?\n</channel>", text, re.S)
    return out


if __name__ == "__main__":
    import unittest
    unittest.main()
