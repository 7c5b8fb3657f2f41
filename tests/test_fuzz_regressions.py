"""Every crash the fuzz tests (tests/test_fuzz_*.py) found, as a plain test named for its input.

No Hypothesis here: each test replays the one input that broke something, so it runs (and fails
if the bug comes back) even where Hypothesis cannot be installed.
"""
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from tests.support.helpers import ROOT, IsolatedTestCase, isolated_env, serve

from amc_server import jsonl
from amc_server.commands import channel
from amc_server.hook import record as hook, wait as hook_answers
from amc_server import store
from amc_server.agents import usage
from amc_server.agents.claude import registry as claude_registry
from amc_server.agents.claude import subagents
from amc_server.agents.claude.transcript import ClaudeTranscript
from amc_server.agents.codex.transcript import CodexTranscript
from amc_server.consumers.conversations import index_of, wire
from amc_server.paths import get_paths

SID = "5c0375b4-0000-4000-8000-00000000f022"
DEEP = b"[" * 5000 + b"]" * 5000
LONE_SURROGATE_LINE = b'{"type":"user","message":{"content":"cut emoji \\ud83d"}}'


class Files(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="amc-regress-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path


class TranscriptRegressions(Files):
    def test_transcript_line_nested_5000_deep_is_skipped_not_raised(self):
        path = self.write(SID + ".jsonl", DEEP + b"\n" + b'{"type":"user","message":'
                          b'{"content":"after"}}\n')
        reader = ClaudeTranscript(path, SID)
        self.assertEqual([m["content"] for m in reader.refresh()], ["after"])
        self.assertEqual(reader.skipped, 1)

    def test_lone_surrogate_escape_in_a_prompt_becomes_a_replacement_character(self):
        path = self.write(SID + ".jsonl", LONE_SURROGATE_LINE + b"\n")
        [msg] = ClaudeTranscript(path, SID).refresh()
        self.assertEqual(msg["content"], "cut emoji \ufffd")
        json.dumps(wire(msg), ensure_ascii=False).encode("utf-8")  # what server.py sends

    def test_surrogate_written_as_raw_bytes_ed_a0_80_in_a_codex_argument_key(self):
        path = self.write("rollout.jsonl", b'{"type": "response_item", "payload": {"type": '
                          b'"function_call", "name": "shell", "arguments": {"\xed\xa0\x80": 1}, '
                          b'"call_id": "c1"}}\n')
        [msg] = CodexTranscript(path, SID).refresh()
        self.assertEqual(msg["tool_calls"][0]["input"], {"\ufffd": 1})
        json.dumps(wire(msg), ensure_ascii=False).encode("utf-8")

    def test_escaped_surrogate_pair_is_kept_as_its_character(self):
        path = self.write(SID + ".jsonl", b'{"type":"user","message":{"content":"\\ud83d\\ude00"}}')
        [msg] = ClaudeTranscript(path, SID).refresh()
        self.assertEqual(msg["content"], "\U0001f600")

    def test_codex_record_whose_type_is_a_list_is_not_lost_to_a_type_error(self):
        path = self.write("rollout.jsonl", b'{"type": [], "payload": {"type": "task_started"}}\n'
                          b'{"type": "event_msg", "payload": {"type": ["x"]}}\n'
                          b'{"type": "response_item", "payload": {"type": {"a": 1}}}\n')
        reader = CodexTranscript(path, SID)
        reader.refresh()
        self.assertEqual(sorted(k for k in reader._warned if k.startswith("err:")), [])

    def test_huge_last_line_without_its_newline_is_clipped_too(self):
        record = {"type": "user", "message": {"content": "x" * 65537}}
        path = self.write(SID + ".jsonl", json.dumps(record).encode())
        [msg] = ClaudeTranscript(path, SID).refresh()
        self.assertLess(len(msg["content"]), 5000)
        self.assertIn("more characters not loaded", msg["content"])

    def test_usage_with_output_tokens_10_pow_400_does_not_overflow(self):
        record = {"type": "assistant", "timestamp": "2026-01-01T00:00:00Z", "message": {
            "id": "m", "model": "claude-opus-4-5", "usage": {"output_tokens": 10 ** 400,
                                                             "input_tokens": 3}}}
        path = self.write(SID + ".jsonl", json.dumps(record).encode() + b"\n")
        out = usage.read(path, "claude")
        self.assertEqual((out["input_tokens"], out["output_tokens"]), (3, 0))
        json.dumps(out, allow_nan=False)

    def test_subagent_meta_nested_5000_deep_reads_as_no_meta(self):
        project = os.path.join(self.dir, "proj")
        transcript = self.write("proj/%s.jsonl" % SID, b"")
        self.write("proj/%s/subagents/agent-a1.jsonl" % SID,
                   b'{"type":"user","isSidechain":true,"message":{"content":"hi"}}\n')
        self.write("proj/%s/subagents/agent-a1.meta.json" % SID, DEEP)
        [found] = subagents.files(transcript, SID)
        self.assertEqual((found.agent_id, found.meta), ("a1", {}))
        self.assertTrue(os.path.isdir(project))


class RegistryRegressions(Files):
    ENTRY = {"pid": 30354, "sessionId": SID, "cwd": "/home/dev/p", "status": "idle",
             "startedAt": 1795217918219, "updatedAt": 1795217920138, "kind": "interactive"}

    def test_registry_updated_at_6_77e19_ms_is_no_time(self):
        for value in (6.77680361916768e+19, float("inf"), 10 ** 400):
            s = claude_registry.from_entry(dict(self.ENTRY, updatedAt=value), "t.jsonl")
            self.assertEqual(s["last_event_at"], "")
            session = {"status": "active", "attention": None, "last_event_at": ""}
            claude_registry.reconcile(session, dict(self.ENTRY, statusUpdatedAt=value))
            self.assertEqual(session["status"], "active")

    def test_registry_pid_2_pow_31_is_not_alive(self):
        self.assertFalse(claude_registry.pid_alive(2 ** 31))
        self.assertFalse(claude_registry.pid_alive(10 ** 30))

    def test_registry_status_that_is_a_list_reads_as_active(self):
        s = claude_registry.from_entry(dict(self.ENTRY, status=[]), "t.jsonl")
        self.assertEqual(s["status"], "active")

    def test_registry_file_nested_5000_deep_is_skipped(self):
        paths = get_paths({"HOME": self.dir, "CLAUDE_CONFIG_DIR": os.path.join(self.dir, "c")})
        self.write("c/sessions/1.json", DEEP)
        self.assertEqual(claude_registry.live_entries(paths), [])


class HookRegressions(IsolatedTestCase):
    def test_claude_pid_superscript_two_and_5000_digits_are_no_pid(self):
        for pid in ("\u00b2", "\u0663", "9" * 5000):
            s = hook.apply_event(None, {"session_id": SID, "hook_event_name": "Stop"},
                                 {"CLAUDE_PID": pid})
            self.assertEqual(s["pid"], 0)

    def test_tmux_path_with_a_non_utf8_byte_still_records_the_session(self):
        env = dict(self.env, AMC_DATA_DIR=os.path.join(self.home, "data"),
                   TMUX="/tmp/caf\udce9,1,0", TMUX_PANE="%3")
        hook.record({"session_id": SID, "hook_event_name": "UserPromptSubmit", "prompt": "x"},
                    env)
        paths = get_paths(env)
        session = store.read_json(paths.session_file(SID))
        self.assertEqual((session["tmux_socket"], session["tmux_pane"]), ("/tmp/caf\ufffd", "%3"))
        self.assertEqual(len(jsonl.read_objects(paths.events_file(SID))), 1)

    def test_real_hook_records_a_prompt_with_a_lone_surrogate_escape(self):
        payload = b'{"session_id": "%s", "hook_event_name": "UserPromptSubmit", ' \
                  b'"prompt": "cut \\ud83d"}' % SID.encode()
        proc = self.run_hook(payload)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, b"", b""))
        self.assertEqual(self.session_file(SID)["last_message_preview"], "cut \ufffd")

    def test_moved_on_with_a_hook_event_name_that_is_a_list(self):
        records = [{"payload": {"hook_event_name": []}}, {"payload": {"hook_event_name": "Stop"}}]
        self.assertTrue(hook_answers.moved_on(records, "t1", "Bash"))


class ChannelRegressions(unittest.TestCase):
    def answer(self, line: bytes):
        out = io.BytesIO()
        text = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
        channel.Channel(text, None).handle_line(line.decode("utf-8", "replace"))
        text.detach()
        return [json.loads(raw) for raw in out.getvalue().splitlines()]

    def test_ping_whose_id_is_a_lone_surrogate_escape_is_answered(self):
        [msg] = self.answer(b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}')
        self.assertEqual((msg["id"], msg["result"]), ("\ufffd", {}))

    def test_method_that_is_a_lone_surrogate_escape_gets_method_not_found(self):
        [msg] = self.answer(b'{"jsonrpc":"2.0","id":1,"method":"\\udfff"}')
        self.assertEqual(msg["error"]["code"], channel.METHOD_NOT_FOUND)

    def test_line_nested_5000_deep_gets_a_parse_error(self):
        [msg] = self.answer(DEEP)
        self.assertEqual((msg["id"], msg["error"]["code"]), (None, channel.PARSE_ERROR))

    def test_real_channel_survives_a_surrogate_id_and_answers_the_next_request(self):
        home = tempfile.mkdtemp(prefix="amc-regress-")
        self.addCleanup(shutil.rmtree, home, True)
        env = dict(isolated_env(home), AMC_DATA_DIR=os.path.join(home, "data"))
        data = b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}\n' + DEEP + b"\n" + \
            b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n'
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "amc-channel")],
                              input=data, env=env, capture_output=True, timeout=30)
        answers = [json.loads(raw) for raw in proc.stdout.splitlines()]
        self.assertEqual([a.get("id") for a in answers], ["\ufffd", None, 2])
        self.assertNotIn(b"Traceback", proc.stderr)


class HttpRegressions(unittest.TestCase):
    """Raw requests that got a 500, an HTML error page or an answer without a status line."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.home = tempfile.mkdtemp(prefix="amc-regress-http-")
        env = dict(isolated_env(cls.home), AMC_DATA_DIR=os.path.join(cls.home, "data"))
        paths = get_paths(env)
        project = os.path.join(paths.claude_projects, "-p")
        os.makedirs(project)
        transcript = os.path.join(project, SID + ".jsonl")
        with open(transcript, "wb") as f:
            f.write(b'{"type":"user","message":{"content":"hi"}}\n' + LONE_SURROGATE_LINE + b"\n")
        hook.record({"session_id": SID, "hook_event_name": "UserPromptSubmit",
                     "transcript_path": transcript}, env)
        cls.server = serve(paths)
        cls.port = cls.server.server_address[1]
        cls.token = cls.server.guard.token

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()
        shutil.rmtree(cls.home, True)

    def exchange(self, raw: bytes) -> bytes:
        """Send `raw` (HOST and TOKEN filled in) on one connection; return all it answered."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
            s.sendall(raw.replace(b"HOST", b"127.0.0.1:%d" % self.port)
                      .replace(b"TOKEN", self.token.encode()))
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data
                data += chunk

    def send(self, raw: bytes):
        """Return (status, decoded JSON body) of the first answer to `raw`."""
        head, _, body = self.exchange(raw).partition(b"\r\n\r\n")
        self.assertRegex(head.split(b"\r\n")[0], rb"^HTTP/1\.1 \d{3} ")
        self.assertIn(b"application/json", head)
        return int(head.split(b" ")[1]), json.loads(body)

    def assert_error(self, raw: bytes, status: int) -> None:
        got, answer = self.send(raw)
        self.assertEqual(got, status, answer)
        self.assertEqual((set(answer), answer["ok"]), ({"ok", "error"}, False))

    def test_post_body_nested_3000_deep_is_400(self):
        body = b"[" * 3000 + b"]" * 3000
        self.assert_error(b"POST /api/login HTTP/1.1\r\nHost: HOST\r\nContent-Length: %d\r\n\r\n"
                          % len(body) + body, 400)

    def test_origin_http_open_bracket_is_403(self):
        self.assert_error(b"GET /api/state HTTP/1.1\r\nHost: HOST\r\nOrigin: http://[\r\n\r\n", 403)

    def test_get_percent_00_is_404(self):
        self.assert_error(b"GET /%00 HTTP/1.1\r\nHost: HOST\r\n\r\n", 404)

    def test_after_x_superscript_two_is_answered(self):
        got, answer = self.send(b"GET /api/conversation/%s?after=x-%%C2%%B2 HTTP/1.1\r\n"
                                b"Host: HOST\r\n\r\n" % SID.encode())
        self.assertEqual(got, 200, answer)

    def test_conversation_with_a_lone_surrogate_escape_is_answered(self):
        got, answer = self.send(b"GET /api/conversation/%s HTTP/1.1\r\nHost: HOST\r\n\r\n"
                                % SID.encode())
        self.assertEqual(got, 200, answer)
        self.assertEqual(answer["messages"][-1]["content"], "cut emoji \ufffd")

    def test_method_foo_gets_the_json_error_shape(self):
        self.assert_error(b"FOO /api/state HTTP/1.1\r\nHost: HOST\r\n\r\n", 501)

    def test_http_2_0_and_a_broken_version_get_a_status_line_and_the_json_shape(self):
        self.assert_error(b"GET /api/state HTTP/2.0\r\nHost: HOST\r\n\r\n", 505)
        self.assert_error(b"GET /api/state HTTP/x\r\nHost: HOST\r\n\r\n", 400)

    def answers(self, raw: bytes):
        """Return the status lines of every answer to `raw` on one connection."""
        # an answer's body has no CRLF after it: the next status line may follow it directly
        return re.findall(rb"HTTP/1\.[01] \d{3}[^\r\n]*", self.exchange(raw))

    def test_a_get_with_a_body_is_answered_once_not_as_two_requests(self):
        smuggled = b"GET /api/nothing HTTP/1.1\r\nHost: HOST\r\n\r\n"
        raw = (b"GET /api/state HTTP/1.1\r\nHost: HOST\r\nContent-Length: %d\r\n\r\n"
               % len(smuggled)) + smuggled
        self.assertEqual(self.answers(raw), [b"HTTP/1.1 200 OK"])

    def test_a_post_with_a_negative_content_length_is_400_and_the_end(self):
        raw = (b"POST /api/dismiss/%s HTTP/1.1\r\nHost: HOST\r\nX-AMC-Token: TOKEN\r\n"
               b"Content-Length: -5\r\n\r\nGET /api/nothing HTTP/1.1\r\nHost: HOST\r\n\r\n"
               % SID.encode())
        self.assertEqual(self.answers(raw), [b"HTTP/1.1 400 Bad Request"])
        self.assert_error(raw, 400)

    def test_a_chunked_post_is_refused_and_its_chunks_not_read_as_a_request(self):
        raw = (b"POST /api/dismiss/%s HTTP/1.1\r\nHost: HOST\r\nX-AMC-Token: TOKEN\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
               b"GET /api/nothing HTTP/1.1\r\nHost: HOST\r\n\r\n" % SID.encode())
        self.assertEqual(self.answers(raw), [b"HTTP/1.1 400 Bad Request"])

    def test_request_line_without_a_version_gets_a_status_line(self):
        self.assert_error(b"GET /api/nothing\r\n\r\n", 403)


class RemoteRegressions(unittest.TestCase):
    """What another machine prints is hostile too (the same decoder, store.loads)."""

    def test_a_remote_stream_line_nested_5000_deep_is_rejected_not_raised(self):
        from amc_server.remote.feed import Feed

        class Hub:
            def __init__(self):
                self.reasons = []

            def rejected(self, name, reason):
                self.reasons.append((name, reason))

        hub = Hub()
        feed = Feed(hub, "m1", "m1")
        feed._line(DEEP)
        self.assertEqual(hub.reasons, [("m1", "a line that is not JSON")])
        self.assertEqual(feed.lines, 0)

    def test_a_remote_request_nested_5000_deep_is_refused_in_words(self):
        from amc_server.remote import request as answer
        with self.assertRaises(ValueError):
            answer.parse(DEEP)


if __name__ == "__main__":
    unittest.main()
