"""bin/amc-channel against a real AMC server: the MCP handshake, bad input, and everything the
dashboard sends or the CLI relays going through it. The test plays Claude Code: it writes the
CLI's JSON-RPC lines to the channel's stdin and reads what the channel writes back."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

from tests.support.helpers import ROOT, ServerTestCase, isolated_env

from amc_server import store

CHANNEL = os.path.join(ROOT, "bin", "amc-channel")
SID = "cha11e1-0000-4000-8000-000000000001"


class ChannelProcess:
    """bin/amc-channel as Claude Code runs it: pipes, its session's environment."""

    def __init__(self, env):
        self.proc = subprocess.Popen([sys.executable, CHANNEL], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: "queue.Queue[dict]" = queue.Queue()
        self.raw = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({"unparsable": line.decode("utf-8", "replace")})

    def send(self, obj):
        data = obj if isinstance(obj, bytes) else (json.dumps(obj) + "\n").encode()
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def handshake(self):
        """Do what Claude Code does at start: initialize, initialized, tools/list."""
        self.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
        self.next()
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        self.next()

    def next(self, timeout=5.0):
        return self.lines.get(timeout=timeout)

    def until(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            msg = self.next(max(0.01, deadline - time.monotonic()))
            if pred(msg):
                return msg

    def quiet(self, seconds=0.5):
        try:
            return self.lines.get(timeout=seconds)
        except queue.Empty:
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


class Protocol(unittest.TestCase):
    """The MCP side alone: no AMC server, no session."""

    def setUp(self):
        import tempfile
        import shutil
        home = tempfile.mkdtemp(prefix="amc-chan-")
        self.addCleanup(shutil.rmtree, home, True)
        self.ch = ChannelProcess(isolated_env(home))
        self.addCleanup(self.ch.close)

    def test_discover_probe_then_initialize_as_a_channel(self):
        self.ch.send({"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {}})
        self.assertEqual(self.ch.next()["error"]["code"], -32601)
        self.ch.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "claude-code", "version": "2.1.329"}}})
        result = self.ch.next()["result"]
        self.assertEqual(result["protocolVersion"], "2025-11-25")
        self.assertEqual(result["capabilities"], {"tools": {}, "experimental": {
            "claude/channel": {}, "claude/channel/permission": {}}})
        self.assertEqual(result["serverInfo"]["name"], "amc")
        self.assertIn("AMC dashboard", result["instructions"])
        self.assertIn("reply", result["instructions"])
        self.ch.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.ch.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        [tool] = self.ch.next()["result"]["tools"]
        self.assertEqual(tool["name"], "reply")
        self.assertEqual(tool["inputSchema"]["required"], ["text"])

    def test_bad_lines_get_errors_and_the_channel_goes_on(self):
        for line, code in ((b"{not json\n", -32700), (b"[1, 2]\n", -32600),
                           (b'{"jsonrpc": "2.0", "id": 5}\n', -32600),
                           (b'{"jsonrpc": "2.0", "id": 6, "method": "no/such"}\n', -32601),
                           (b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":'
                            b'{"name":"rm -rf"}}\n', -32602)):
            self.ch.send(line)
            msg = self.ch.next()
            self.assertEqual(msg["error"]["code"], code, line)
        self.ch.send({"jsonrpc": "2.0", "method": "notifications/whatever", "params": [1]})
        self.ch.send(b"\x00\xff\xfe garbage \xc3\n")
        self.assertEqual(self.ch.next()["error"]["code"], -32700)
        self.ch.send({"jsonrpc": "2.0", "id": 8, "method": "ping"})
        self.assertEqual(self.ch.next(), {"jsonrpc": "2.0", "id": 8, "result": {}})
        self.ch.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                      "params": {"name": "reply", "arguments": {"text": ""}}})
        self.assertTrue(self.ch.next()["result"]["isError"])

    def test_exits_when_claude_code_closes_its_stdin(self):
        self.ch.proc.stdin.close()
        self.assertEqual(self.ch.proc.wait(5), 0)


class ThroughAmc(ServerTestCase):
    """The channel connected to a real AMC server, for a session the hook reported."""

    def setUp(self):
        super().setUp()
        self.write_pid_file()
        self.run_hook({"session_id": SID, "hook_event_name": "UserPromptSubmit", "prompt": "hi",
                       "cwd": "/w/chan"})
        self.ch = self.start_channel()

    def write_pid_file(self):
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())

    def start_channel(self):
        env = dict(self.env, CLAUDE_CODE_SESSION_ID=SID, CLAUDE_PROJECT_DIR="/w/chan")
        ch = ChannelProcess(env)
        self.addCleanup(ch.close)
        ch.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
        ch.next()
        time.sleep(0.5)  # the CLI has not listed the tools yet: no pushes may go in
        self.assertFalse(self.wait_session(lambda s: True, "the session")["channel"])
        ch.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        ch.next()
        self.wait_session(lambda s: s["channel"] is True, "channel: true")
        return ch

    def wait_session(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            sessions = [s for s in self.get_json("/api/state")["sessions"]
                        if s["session_id"] == SID]
            if sessions and pred(sessions[0]):
                return sessions[0]
            if time.monotonic() > deadline:
                raise AssertionError("no %s: %s" % (what, sessions))
            time.sleep(0.05)

    def respond(self, body):
        return self.request("POST", "/api/respond/" + SID, body)

    def test_a_message_from_the_page_reaches_claude_code_through_the_channel(self):
        status, answer, _ = self.respond({"text": "hello from the page\nsecond line"})
        self.assertEqual((status, answer["ok"], answer["via"]), (200, True, "channel"), answer)
        msg = self.ch.until(lambda m: m.get("method") == "notifications/claude/channel")
        self.assertEqual(msg["params"]["content"], "hello from the page\nsecond line")
        self.assertEqual(msg["params"]["meta"]["user"], "dashboard")
        self.assertTrue(msg["params"]["meta"]["chat_id"].startswith("amc-"))
        self.assertTrue(all(isinstance(v, str) for v in msg["params"]["meta"].values()))

    def test_reply_tool_call_is_answered(self):
        self.ch.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "reply", "arguments": {"chat_id": "amc-1", "text": "Done: 3 files."}}})
        result = self.ch.next()["result"]
        self.assertEqual(result["content"][0]["text"], "shown to the user in AMC")

    def test_a_relayed_permission_prompt_is_on_the_card_and_deny_goes_back(self):
        self.ch.send({"jsonrpc": "2.0", "method": "notifications/claude/channel/permission_request",
                      "params": {"request_id": "abcde", "tool_name": "Bash",
                                 "description": "Run the tests",
                                 "input_preview": "{\"command\": \"make test\"}"}})
        s = self.wait_session(lambda s: s["status"] == "needs_attention", "the prompt")
        a = s["attention"]
        self.assertEqual((a["kind"], a["via"], a["tool"], a["text"], a["options"]),
                         ("permission", "channel", "Bash", "Run the tests", ["Allow", "Deny"]))
        self.assertIn("make test", a["summary"])
        status, err, _ = self.respond({"text": "3"})
        self.assertEqual((status, err["ok"]), (400, False))
        status, answer, _ = self.respond({"text": "2"})
        self.assertEqual((status, answer["via"]), (200, "channel"), answer)
        verdict = self.ch.until(
            lambda m: m.get("method") == "notifications/claude/channel/permission")
        self.assertEqual(verdict["params"], {"request_id": "abcde", "behavior": "deny"})
        self.wait_session(lambda s: s["status"] != "needs_attention", "the card cleared")

    def test_a_prompt_answered_in_the_terminal_clears_the_card(self):
        self.ch.send({"jsonrpc": "2.0", "method": "notifications/claude/channel/permission_request",
                      "params": {"request_id": "fghij", "tool_name": "Bash",
                                 "description": "d", "input_preview": "ls"}})
        self.wait_session(lambda s: s["status"] == "needs_attention", "the prompt")
        time.sleep(0.6)
        self.run_hook({"session_id": SID, "hook_event_name": "PostToolUse", "tool_name": "Bash",
                       "tool_input": {"command": "ls"}})
        s = self.wait_session(lambda s: s["status"] == "active", "the card cleared")
        self.assertIsNone(s["attention"])

    def test_a_question_dialog_is_not_the_channels_and_the_channel_going_away_is_seen(self):
        self.ch.close()
        self.wait_session(lambda s: s["channel"] is False, "channel: false")
        status, answer, _ = self.respond({"text": "hi"})
        self.assertNotEqual(answer.get("via"), "channel")

    def test_the_channel_reconnects_when_amc_restarts(self):
        port = self.port
        self.server.shutdown()
        self.server.server_close()
        from amc_server.http.server import make_server
        self.server = make_server(self.paths, "127.0.0.1", port)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.wait_session(lambda s: s["channel"] is True, "the channel back", timeout=15)
        status, answer, _ = self.respond({"text": "after the restart"})
        self.assertEqual(answer.get("via"), "channel", answer)
        msg = self.ch.until(lambda m: m.get("method") == "notifications/claude/channel")
        self.assertEqual(msg["params"]["content"], "after the restart")

    def test_the_inbox_needs_the_token(self):
        status, body, _ = self.request("GET", "/api/channel/%s/inbox" % SID)
        self.assertEqual((status, body["ok"]), (403, False))
        status, body, _ = self.request("POST", "/api/channel/%s/permission" % SID,
                                       {"request_id": "x"}, token=False)
        self.assertEqual(status, 403)


if __name__ == "__main__":
    unittest.main()
