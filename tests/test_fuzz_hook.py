"""Fuzzing the hook: payloads and environments of every shape, stdin of any bytes.

The hook runs on the agent's critical path, so whatever arrives it exits 0, prints nothing on
stdout, never shows a traceback and returns quickly; a payload that is a JSON object with a
usable session id is recorded (its event line and a session file in the contract's shape).
`apply_event` is fuzzed as the pure function it is, `record()` and `main()` in process against a
temporary data dir, and a few examples through the real `bin/amc-hook`. See
tests/support/fuzzing.py.
"""
import contextlib
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Any, Dict, List
from unittest import mock

from tests.support.fuzzing import (
    deep_nesting, examples, given, hostile_text, json_line, json_values, mutated, records_in,
    require, st)
from tests.support.helpers import FIXTURES, HOOK, isolated_env

from amc_server.hook import record as hook, wait as hook_answers
from amc_server import model, paths as amc_paths, store

SID = "0b5e55ed-0000-4000-8000-00000000f022"


def _payloads() -> List[Dict[str, Any]]:
    out = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "claude-code-*", "*", "hooks.jsonl"))):
        out += [r["payload"] for r in records_in(path, 60) if isinstance(r.get("payload"), dict)]
    for codex in sorted(glob.glob(os.path.join(FIXTURES, "codex-*", "codex-*-hook-payloads.jsonl"))):
        out += [r["stdin"] for r in records_in(codex) if isinstance(r.get("stdin"), dict)]
    seen: Dict[tuple, int] = {}
    unique = []
    for p in out:  # two of each event kind keep the sample small
        key = (p.get("hook_event_name"), p.get("tool_name"), p.get("notification_type"))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= 2:
            unique.append(p)
    return unique


PAYLOADS = _payloads()
NOTIFY = [r for p in sorted(glob.glob(os.path.join(FIXTURES, "codex-*",
                                               "codex-*-notify-payloads.jsonl")))
          for r in records_in(p)]
ENV_KEYS = ["CLAUDE_PID", "TMUX", "TMUX_PANE", "CLAUDE_PROJECT_DIR", "ZELLIJ_SESSION_NAME",
            "ZELLIJ_PANE_ID", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SESSION_ATTENDED"]
envs = st.dictionaries(st.sampled_from(ENV_KEYS), st.one_of(
    hostile_text(), st.sampled_from(["123", "\u00b2", "\u0663", "9" * 5000, "/tmp/s,1,0", "%3",
                                     "/tmp/caf\udce9,1,0", "/home/\udcff"])),
    max_size=4)
payloads = st.one_of(mutated(PAYLOADS), st.dictionaries(
    st.sampled_from(["hook_event_name", "tool_name", "tool_input", "prompt", "cwd",
                     "transcript_path", "agent_id", "background_tasks", "source", "message",
                     "notification_type", "last_assistant_message", "error"]),
    json_values(), max_size=6))
events = st.sampled_from(["SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                          "PostToolUse", "PostToolUseFailure", "Notification", "Stop",
                          "StopFailure", "SubagentStart", "SubagentStop", "SessionEnd", ""])
CONTRACT_KEYS = set(model.new_session(SID))


def with_sid(payload: Any, event: str) -> Dict[str, Any]:
    payload = dict(payload) if isinstance(payload, dict) else {}
    payload["session_id"] = SID
    if event and "hook_event_name" not in payload:
        payload["hook_event_name"] = event
    return payload


class HookCase(unittest.TestCase):
    def setUp(self) -> None:
        require()
        self.home = tempfile.mkdtemp(prefix="amc-fuzz-hook-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = dict(isolated_env(self.home), AMC_DATA_DIR=os.path.join(self.home, "data"))
        self.paths = amc_paths.get_paths(self.env)

    def assert_session(self, session: Any) -> None:
        self.assertIsInstance(session, dict)
        self.assertLessEqual(CONTRACT_KEYS, set(session))
        self.assertIn(session["status"], model.STATUSES)
        self.assertIsInstance(session["pending_questions"], list)
        self.assertIsInstance(session["pid"], int)
        attention = session["attention"]
        self.assertTrue(attention is None or isinstance(attention, dict))
        json.dumps(session)  # store writes it (as UTF-8, or escaped when it cannot be)


class ApplyEventFuzz(HookCase):
    @examples(300)
    @given(steps=st.lists(st.tuples(payloads, events, envs), min_size=1, max_size=6))
    def test_apply_event_never_raises_and_keeps_the_session_shape(self, steps):
        session = None
        for payload, event, env in steps:
            payload = with_sid(payload, event)
            out = hook.apply_event(session, payload, env, "claude", time.time())
            if str(payload.get("hook_event_name") or "") == "SessionEnd":
                self.assertIsNone(out)
            else:
                self.assert_session(out)
            session = out

    @examples(150)
    @given(steps=st.lists(st.tuples(payloads, events, envs), min_size=1, max_size=4),
           sid=st.one_of(st.just(SID), hostile_text(), json_values()))
    def test_record_writes_every_usable_event(self, steps, sid):
        for payload, event, env in steps:
            # as main() hands it over: decoded by store.loads (NaN, Infinity, 1e999 -> null)
            payload = store.loads(json.dumps(with_sid(payload, event)))
            payload["session_id"] = sid
            env = dict(env, AMC_DATA_DIR=self.env["AMC_DATA_DIR"], HOME=self.home)
            if not amc_paths.valid_id(sid):
                with self.assertRaises(ValueError):
                    hook.record(payload, env)
                continue
            before = self._event_lines(sid)
            hook.record(payload, env)
            self.assertEqual(self._event_lines(sid), before + 1)
            with open(self.paths.events_file(sid), "rb") as f:
                last = json.loads(f.read().splitlines()[-1])
            self.assertEqual(last["payload"]["session_id"], sid)
            if str(payload.get("hook_event_name") or "") != "SessionEnd":
                self.assert_session(self._session(sid))

    def _event_lines(self, sid: str) -> int:
        try:
            with open(self.paths.events_file(sid), "rb") as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0

    def _session(self, sid: str) -> Any:
        with open(self.paths.session_file(sid), "rb") as f:
            return json.loads(f.read())

    @examples(150)
    @given(raw=st.one_of(st.builds(json_line, st.one_of(mutated(NOTIFY) if NOTIFY else json_values(),
                                                        json_values()), st.booleans()),
                         st.binary(max_size=40), deep_nesting().map(str.encode)))
    def test_codex_notify_payload_never_raises(self, raw):
        value = None
        with contextlib.suppress(ValueError):
            value = store.loads(raw)  # as main() decodes it
        out = hook.codex_notify_payload(value)
        self.assertTrue(out is None or out["hook_event_name"] == "Stop")


def _environ_ok(value: str) -> bool:
    """Tell whether a process environment can hold `value` (no NUL; a non-UTF-8 byte comes in
    as a surrogate escape, "\\udcff", and is kept)."""
    try:
        return b"\0" not in os.fsencode(value)
    except UnicodeEncodeError:
        return False


class MainFuzz(HookCase):
    """hook.main() in process: stdin bytes, argv, the environment as the CLI gives them."""

    def run_main(self, stdin: bytes, argv: List[str], env: Dict[str, str]) -> str:
        env = {k: v for k, v in env.items() if _environ_ok(v)}
        fake_stdin = io.TextIOWrapper(io.BytesIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, env, clear=True), \
                mock.patch.object(sys, "stdin", fake_stdin), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.assertEqual(hook.main(argv), 0)
        self.assertEqual(out.getvalue(), "", "the hook printed on stdout")
        self.assertNotIn("Traceback", err.getvalue())
        return err.getvalue()

    @examples(200)
    @given(payload=st.one_of(payloads.map(lambda p: with_sid(p, "")), json_values()),
           ascii_only=st.booleans(), env=envs,
           argv=st.sampled_from([[], ["--agent", "codex"], ["--agent"], ["codex"]]))
    def test_main_records_each_object_with_a_session_id(self, payload, ascii_only, env, argv):
        env = dict(self.env, **env)
        self.run_main(json_line(payload, ascii_only), argv, env)
        if isinstance(payload, dict) and payload.get("session_id") == SID:
            self.assertTrue(os.path.exists(self.paths.events_file(SID)),
                            "a usable payload was not recorded")

    @examples(150)
    @given(stdin=st.one_of(st.binary(max_size=200), deep_nesting().map(str.encode),
                           st.sampled_from([b"", b"\xff", b"null", b"[]", b'"x"', b"{",
                                            b'{"session_id": "../../etc"}',
                                            b'{"session_id": "' + b"a" * 5000 + b'"}'])),
           notify=st.one_of(st.none(), hostile_text(), deep_nesting(),
                            st.builds(json_line, json_values(), st.booleans()).map(
                                lambda b: b.decode("utf-8", "surrogateescape"))))
    def test_main_exits_zero_on_any_bytes(self, stdin, notify):
        argv = [] if notify is None else ["--codex-notify", notify]
        self.run_main(stdin, argv, dict(self.env))


class HookAnswersFuzz(HookCase):
    @examples(200)
    @given(waiter=st.one_of(json_values(), st.fixed_dictionaries({
        "kind": st.sampled_from(["question", "permission"]),
        "questions": st.one_of(json_values(), st.lists(st.fixed_dictionaries(
            {"question": hostile_text()}), max_size=3))})),
        answer=json_values(), tool_input=json_values(),
        records=st.lists(st.one_of(json_values(), mutated(PAYLOADS).map(
            lambda p: {"payload": p})), max_size=5),
        argv=st.lists(st.one_of(hostile_text(), st.builds(
            lambda v: "--wait-answer=" + v, st.sampled_from(["nan", "inf", "-1", "1e400", "x",
                                                             "0", "3"]))), max_size=3))
    def test_answer_checks_never_raise(self, waiter, answer, tool_input, records, argv):
        if isinstance(waiter, dict):
            verdict = hook_answers.decision(waiter, tool_input, answer)
            if verdict is not None:
                json.dumps(verdict)
            with contextlib.suppress(ValueError):
                hook_answers.validated(waiter, answer)
        hook_answers.moved_on(records, "t1", "Bash")
        seconds = hook_answers.wait_seconds(argv)
        self.assertTrue(0 <= seconds <= hook_answers.MAX_WAIT_S)


class RealHookFuzz(HookCase):
    """A few examples through bin/amc-hook as Claude runs it: exit 0, quiet, quick."""

    @examples(8, slow_io=True)
    @given(stdin=st.one_of(st.binary(max_size=100), deep_nesting().map(str.encode),
                           payloads.map(lambda p: json_line(with_sid(p, "Stop"), True))),
           args=st.sampled_from([[], ["--agent", "codex"], ["--wait-answer=1"]]))
    def test_real_hook_exits_zero_quietly_and_quickly(self, stdin, args):
        started = time.monotonic()
        proc = subprocess.run([sys.executable, HOOK] + args, input=stdin, env=self.env,
                              capture_output=True, timeout=30)
        elapsed = time.monotonic() - started
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stdout, b"")
        self.assertNotIn(b"Traceback", proc.stderr)
        self.assertLess(elapsed, 5.0, "the hook held the agent up")


if __name__ == "__main__":
    unittest.main()
