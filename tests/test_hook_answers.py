"""Hook answers: `amc-hook --wait-answer` as Claude Code runs it (real processes, real files).

The waiting hook announces itself in waiting/<sid>.json, takes answers/<sid>.json written by
`hook_answers.answer`, prints the exact PermissionRequest decision, and otherwise prints nothing
and exits 0 quickly: timeout, AMC not running, unattended session, garbage answers, the session
moving on, SIGTERM from the CLI. The real CLI's side is tests/test_e2e_hook_answers.py.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

from tests.support.helpers import AMC, HOOK, ROOT, IsolatedTestCase

from amc_server.hook import wait as hook_answers
from amc_server.install import hooks as hooks_config

SID = "0b8e4c1a-5d2f-4b7e-9c3a-1f2e3d4c5b6a"
QUESTION = "Which database should we use?"
ASK_INPUT = {"questions": [{"question": QUESTION, "header": "Choice", "multiSelect": False,
                            "options": [{"label": "Alpha", "description": "first"},
                                        {"label": "Beta", "description": "second"}]}]}
BASH_INPUT = {"command": "rm -rf build", "description": "Clean the build"}


def payload(event, tool="AskUserQuestion", tool_input=None, **extra):
    p = {"session_id": SID, "hook_event_name": event, "cwd": "/home/dev/work/demo",
         "transcript_path": "/home/dev/.claude/projects/x/%s.jsonl" % SID,
         "permission_mode": "default", "tool_name": tool,
         "tool_input": ASK_INPUT if tool_input is None and tool == "AskUserQuestion"
         else tool_input}
    p.update(extra)
    return p


class WaitingHook(IsolatedTestCase):
    """A real bin/amc-hook --wait-answer process against a data dir whose server 'runs'."""

    def setUp(self) -> None:
        super().setUp()
        self.env["CLAUDE_CODE_SESSION_ATTENDED"] = "1"
        self.env["CLAUDE_CODE_ENTRYPOINT"] = "cli"
        os.makedirs(self.paths.data, exist_ok=True)
        with open(self.paths.pid_file, "w") as f:  # the "server" is this test process
            f.write("%d\nhttp://127.0.0.1:1/\n" % os.getpid())

    def start(self, p, *args, env=None):
        proc = subprocess.Popen([sys.executable, HOOK, *(args or ("--wait-answer",))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env or self.env)
        proc.stdin.write(json.dumps(p).encode())
        proc.stdin.close()
        self.addCleanup(self._reap, proc)
        return proc

    def _reap(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()

    def finish(self, proc, timeout=5):
        rc = proc.wait(timeout)
        return rc, proc.stdout.read(), proc.stderr.read()

    def waiter(self, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            w = hook_answers.waiting(self.paths, SID)
            if w is not None:
                return w
            time.sleep(0.02)
        self.fail("no waiting hook appeared in %s" % hook_answers.waiting_file(self.paths, SID))

    # -- answers
    def test_question_answer_prints_the_exact_decision(self):
        self.assertEqual(self.run_hook(payload("PreToolUse", tool_use_id="toolu_ask0001"))
                         .returncode, 0)
        proc = self.start(payload("PermissionRequest"))
        w = self.waiter()
        self.assertEqual(w["kind"], "question")
        self.assertEqual(w["tool_use_id"], "toolu_ask0001")
        self.assertEqual(w["pid"], proc.pid)
        self.assertEqual(w["questions"][0]["question"], QUESTION)
        self.assertEqual([o["label"] for o in w["questions"][0]["options"]], ["Alpha", "Beta"])
        self.assertGreater(w["expires_at"], time.time() + 50)
        record = hook_answers.answer(self.paths, SID, w,
                                     {"kind": "question", "answers": {QUESTION: "Beta"}})
        started = time.monotonic()
        self.assertTrue(hook_answers.wait_delivered(self.paths, SID, record))
        rc, out, err = self.finish(proc)
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual((rc, err), (0, b""))
        self.assertEqual(json.loads(out), {"hookSpecificOutput": {
            "hookEventName": "PermissionRequest", "decision": {
                "behavior": "allow",
                "updatedInput": dict(ASK_INPUT, answers={QUESTION: "Beta"})}}})
        self.assertFalse(os.path.exists(hook_answers.waiting_file(self.paths, SID)))
        self.assertFalse(os.path.exists(hook_answers.answer_file(self.paths, SID)))
        # the event itself was recorded as without the flag
        self.assertEqual(self.session_file(SID)["attention"]["kind"], "question")

    def test_free_text_answer_is_passed_verbatim(self):
        proc = self.start(payload("PermissionRequest"))
        hook_answers.answer(self.paths, SID, self.waiter(),
                            {"kind": "question", "answers": {QUESTION: "Postgres, please"}})
        rc, out, _ = self.finish(proc)
        self.assertEqual(json.loads(out)["hookSpecificOutput"]["decision"]["updatedInput"]
                         ["answers"], {QUESTION: "Postgres, please"})

    def test_permission_allow_and_deny(self):
        for answer, verdict in (
                ({"kind": "permission", "behavior": "allow"}, {"behavior": "allow"}),
                ({"kind": "permission", "behavior": "deny"},
                 {"behavior": "deny", "message": "Denied from the AMC dashboard"}),
                ({"kind": "permission", "behavior": "deny", "message": "not now"},
                 {"behavior": "deny", "message": "not now"})):
            with self.subTest(answer=answer):
                proc = self.start(payload("PermissionRequest", "Bash", BASH_INPUT))
                w = self.waiter()
                self.assertEqual((w["kind"], w["tool_name"], w["questions"]),
                                 ("permission", "Bash", []))
                self.assertIn("rm -rf build", w["summary"])
                hook_answers.answer(self.paths, SID, w, answer)
                rc, out, _ = self.finish(proc)
                self.assertEqual(rc, 0)
                self.assertEqual(json.loads(out), {"hookSpecificOutput": {
                    "hookEventName": "PermissionRequest", "decision": verdict}})

    # -- no answer: nothing on stdout, exit 0, quickly
    def test_timeout_prints_nothing_and_exits_zero(self):
        started = time.monotonic()
        proc = self.start(payload("PermissionRequest"), "--wait-answer=0.5")
        self.waiter()
        rc, out, err = self.finish(proc)
        self.assertEqual((rc, out, err), (0, b"", b""))
        self.assertLess(time.monotonic() - started, 3)
        self.assertFalse(os.path.exists(hook_answers.waiting_file(self.paths, SID)))

    def test_amc_not_running_means_no_wait(self):
        os.unlink(self.paths.pid_file)
        started = time.monotonic()
        rc, out, err = self.finish(self.start(payload("PermissionRequest")))
        self.assertEqual((rc, out), (0, b""))
        self.assertLess(time.monotonic() - started, 3)
        self.assertIsNone(hook_answers.waiting(self.paths, SID))
        self.assertEqual(self.session_file(SID)["status"], "needs_attention")

    def test_stale_pid_file_means_no_wait(self):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        with open(self.paths.pid_file, "w") as f:
            f.write("%d\n" % dead.pid)
        rc, out, _ = self.finish(self.start(payload("PermissionRequest")))
        self.assertEqual((rc, out), (0, b""))

    def test_unattended_session_never_waits(self):
        # `claude -p` blocks on the hook until it exits: there is no dialog to fall back to
        for extra in ({"CLAUDE_CODE_SESSION_ATTENDED": "0"}, {"CLAUDE_CODE_ENTRYPOINT": "sdk-cli"}):
            with self.subTest(extra=extra):
                started = time.monotonic()
                rc, out, _ = self.finish(self.start(payload("PermissionRequest"),
                                                    env=dict(self.env, **extra)))
                self.assertEqual((rc, out), (0, b""))
                self.assertLess(time.monotonic() - started, 3)

    def test_data_dir_unusable_exits_zero_silently(self):
        blocker = os.path.join(self.home, "a-file")
        open(blocker, "w").close()
        env = dict(self.env, AMC_DATA_DIR=os.path.join(blocker, "amc"))
        rc, out, err = self.finish(self.start(payload("PermissionRequest"), env=env))
        self.assertEqual((rc, out), (0, b""))
        self.assertIn(b"amc-hook:", err)

    def test_other_events_and_bad_input_do_not_wait(self):
        for p in (payload("PreToolUse"), payload("Notification", notification_type="x"),
                  payload("PermissionRequest", tool_input={"questions": "nope"})):
            with self.subTest(event=p["hook_event_name"]):
                rc, out, _ = self.finish(self.start(p), timeout=3)
                self.assertEqual((rc, out), (0, b""))
        proc = subprocess.run([sys.executable, HOOK, "--wait-answer"], input=b"{not json",
                              env=self.env, capture_output=True, timeout=5)
        self.assertEqual((proc.returncode, proc.stdout), (0, b""))

    def test_garbage_and_foreign_answers_are_ignored(self):
        proc = self.start(payload("PermissionRequest"))
        w = self.waiter()
        path = hook_answers.answer_file(self.paths, SID)
        for junk in (b"{not json", b"[1, 2]",
                     json.dumps({"pid": w["pid"] + 1, "kind": "question",
                                 "answers": {QUESTION: "Alpha"}}).encode(),
                     json.dumps({"pid": w["pid"], "kind": "permission",
                                 "behavior": "allow"}).encode()):
            with open(path, "wb") as f:
                f.write(junk)
            deadline = time.monotonic() + 3
            while os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertFalse(os.path.exists(path), "the hook left %r in place" % junk)
            self.assertIsNone(proc.poll(), "the hook gave up on %r" % junk)
        hook_answers.answer(self.paths, SID, w,
                            {"kind": "question", "answers": {QUESTION: "Alpha"}})
        rc, out, _ = self.finish(proc)
        self.assertEqual(json.loads(out)["hookSpecificOutput"]["decision"]["updatedInput"]
                         ["answers"], {QUESTION: "Alpha"})

    # -- the session moves on without us
    def test_terminal_answer_first_ends_the_wait(self):
        """A key in the terminal does not kill the hook: the PostToolUse in the log does."""
        self.run_hook(payload("PreToolUse", tool_use_id="toolu_ask0001"))
        proc = self.start(payload("PermissionRequest"))
        self.waiter()
        other = payload("PostToolUse", "Read", {"file_path": "/x"}, tool_use_id="toolu_read01")
        self.assertEqual(self.run_hook(other).returncode, 0)
        time.sleep(0.3)
        self.assertIsNone(proc.poll(), "another tool finishing must not end the wait")
        started = time.monotonic()
        self.run_hook(payload("PostToolUse", tool_use_id="toolu_ask0001",
                              tool_response={"answers": {QUESTION: "Alpha"}}))
        rc, out, _ = self.finish(proc)
        self.assertEqual((rc, out), (0, b""))
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertIsNone(hook_answers.waiting(self.paths, SID))

    def test_stop_or_new_prompt_ends_the_wait(self):
        for event in ("Stop", "UserPromptSubmit"):
            with self.subTest(event=event):
                proc = self.start(payload("PermissionRequest", "Bash", BASH_INPUT))
                self.waiter()
                self.run_hook({"session_id": SID, "hook_event_name": event, "prompt": "hi"})
                self.assertEqual(self.finish(proc, timeout=3)[:2], (0, b""))

    def test_sigterm_from_the_cli_removes_the_waiter(self):
        """Esc or "No" in the terminal: Claude Code sends the hook SIGTERM."""
        proc = self.start(payload("PermissionRequest"))
        self.waiter()
        proc.send_signal(signal.SIGTERM)
        rc, out, err = self.finish(proc)
        self.assertEqual((rc, out, err), (0, b"", b""))
        self.assertFalse(os.path.exists(hook_answers.waiting_file(self.paths, SID)))

    def test_newer_request_takes_over(self):
        first = self.start(payload("PermissionRequest", "Bash", BASH_INPUT))
        w1 = self.waiter()
        second = self.start(payload("PermissionRequest"))
        deadline = time.monotonic() + 5
        while hook_answers.waiting(self.paths, SID)["pid"] != second.pid:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        self.assertEqual(self.finish(first, timeout=3)[:2], (0, b""))
        self.assertNotEqual(w1["pid"], second.pid)
        hook_answers.answer(self.paths, SID, self.waiter(),
                            {"kind": "question", "answers": {QUESTION: "Beta"}})
        self.assertIn(b"Beta", self.finish(second)[1])

    def test_without_the_flag_nothing_waits_or_loads(self):
        code = ("import sys, io; sys.stdin = io.TextIOWrapper(io.BytesIO(%r)); "
                "from amc_server.hook import record; record.main([]); "
                "print('amc_server.hook.wait' in sys.modules)"
                % json.dumps(payload("PermissionRequest")).encode())
        proc = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True,
                              timeout=10, cwd=ROOT)
        self.assertEqual(proc.stdout.strip(), b"False", proc.stderr)
        self.assertIsNone(hook_answers.waiting(self.paths, SID))


class ServerSide(IsolatedTestCase):
    """waiting() and answer(): what /api/respond relies on."""

    def write_waiter(self, **fields):
        w = {"version": 1, "session_id": SID, "pid": os.getpid(), "kind": "question",
             "tool_name": "AskUserQuestion", "tool_use_id": "toolu_ask0001",
             "questions": [{"question": QUESTION, "header": "Choice", "multiSelect": False,
                            "options": []},
                           {"question": "Features?", "header": "F", "multiSelect": True,
                            "options": []}],
             "summary": "", "started_at": time.time(), "expires_at": time.time() + 30}
        w.update(fields)
        path = hook_answers.waiting_file(self.paths, SID)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(w, f)
        return w

    def test_waiting_needs_a_fresh_live_waiter(self):
        self.assertIsNone(hook_answers.waiting(self.paths, SID))
        w = self.write_waiter()
        self.assertEqual(hook_answers.waiting(self.paths, SID), w)
        self.write_waiter(expires_at=time.time() - 1)
        self.assertIsNone(hook_answers.waiting(self.paths, SID))
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        self.write_waiter(pid=dead.pid)
        self.assertIsNone(hook_answers.waiting(self.paths, SID))
        self.write_waiter(kind="other")
        self.assertIsNone(hook_answers.waiting(self.paths, SID))
        with open(hook_answers.waiting_file(self.paths, SID), "w") as f:
            f.write("{torn")
        self.assertIsNone(hook_answers.waiting(self.paths, SID))
        self.assertIsNone(hook_answers.waiting(self.paths, "../etc"))

    def test_answer_writes_the_record_atomically(self):
        w = self.write_waiter()
        record = hook_answers.answer(self.paths, SID, w, {"kind": "question", "answers": {
            QUESTION: "Alpha", "Features?": ["Auth", "Logs"]}})
        with open(hook_answers.answer_file(self.paths, SID)) as f:
            on_disk = json.load(f)
        self.assertEqual(on_disk, record)
        self.assertEqual({k: v for k, v in record.items() if k != "answered_at"}, {
            "version": 1, "session_id": SID, "pid": os.getpid(), "tool_use_id": "toolu_ask0001",
            "kind": "question", "answers": {QUESTION: "Alpha", "Features?": "Auth, Logs"}})
        self.assertEqual(os.stat(hook_answers.answer_file(self.paths, SID)).st_mode & 0o777,
                         0o600)

    def test_answer_refuses_what_does_not_fit(self):
        w = self.write_waiter()
        for bad in ({"kind": "permission", "behavior": "allow"},
                    {"kind": "question", "answers": {QUESTION: "Alpha"}},        # one missing
                    {"kind": "question", "answers": {QUESTION: "A", "Features?": " "}},
                    {"kind": "question", "answers": {"Other?": "A", QUESTION: "A",
                                                     "Features?": "B"}},
                    {"kind": "question", "answers": []}, "allow"):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    hook_answers.answer(self.paths, SID, w, bad)
        p = self.write_waiter(kind="permission", questions=[])
        for bad in ({"kind": "permission", "behavior": "maybe"}, {"kind": "question"}):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    hook_answers.answer(self.paths, SID, p, bad)
        with self.assertRaises(ValueError):
            hook_answers.answer(self.paths, "another-session", p,
                                {"kind": "permission", "behavior": "allow"})
        self.assertFalse(os.path.exists(hook_answers.answer_file(self.paths, SID)))

    def test_wait_delivered_is_false_when_nobody_takes_it(self):
        w = self.write_waiter(kind="permission", questions=[])
        record = hook_answers.answer(self.paths, SID, w, {"kind": "permission",
                                                          "behavior": "allow"})
        started = time.monotonic()
        self.assertFalse(hook_answers.wait_delivered(self.paths, SID, record, timeout=0.3))
        self.assertLess(time.monotonic() - started, 1)


class PureParts(unittest.TestCase):
    def test_wait_seconds(self):
        self.assertEqual(hook_answers.wait_seconds(["--wait-answer"]), 60.0)
        self.assertEqual(hook_answers.wait_seconds(["--wait-answer=2.5"]), 2.5)
        self.assertEqual(hook_answers.wait_seconds(["--wait-answer=abc"]), 60.0)
        self.assertEqual(hook_answers.wait_seconds(["--wait-answer=nan"]), 60.0)
        self.assertEqual(hook_answers.wait_seconds(["--wait-answer=99999"]), 600.0)
        self.assertEqual(hook_answers.wait_seconds(["--wait-answer=-3"]), 0.0)

    def test_moved_on(self):
        rec = lambda **p: {"payload": p}  # noqa: E731
        self.assertFalse(hook_answers.moved_on([rec(hook_event_name="Notification")], "t1", "X"))
        self.assertFalse(hook_answers.moved_on(
            [rec(hook_event_name="PostToolUse", tool_use_id="t2", tool_name="X")], "t1", "X"))
        self.assertTrue(hook_answers.moved_on(
            [rec(hook_event_name="PostToolUseFailure", tool_use_id="t1")], "t1", "X"))
        self.assertTrue(hook_answers.moved_on(
            [rec(hook_event_name="PostToolUse", tool_name="X")], "", "X"))
        self.assertTrue(hook_answers.moved_on(["junk", rec(hook_event_name="Stop")], "t1", "X"))

    def test_attended(self):
        self.assertTrue(hook_answers.attended({}))
        self.assertTrue(hook_answers.attended({"CLAUDE_CODE_SESSION_ATTENDED": "1",
                                               "CLAUDE_CODE_ENTRYPOINT": "cli"}))
        self.assertFalse(hook_answers.attended({"CLAUDE_CODE_SESSION_ATTENDED": "0"}))
        self.assertFalse(hook_answers.attended({"CLAUDE_CODE_ENTRYPOINT": "sdk-ts"}))


class Install(IsolatedTestCase):
    def amc(self, *args):
        return subprocess.run([sys.executable, AMC, *args], env=self.env, capture_output=True,
                              text=True, timeout=30)

    def permission_hooks(self):
        with open(self.paths.claude_settings) as f:
            settings = json.load(f)
        return [h for g in settings["hooks"]["PermissionRequest"] for h in g["hooks"]]

    def test_hook_answers_is_opt_in_and_reversible(self):
        self.assertEqual(self.amc("hooks", "install").returncode, 0)
        [plain] = self.permission_hooks()
        self.assertNotIn("--wait-answer", plain["command"])
        self.assertEqual(plain["timeout"], hooks_config.HOOK_TIMEOUT_S)

        proc = self.amc("hooks", "install", "--hook-answers")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        [waiting] = self.permission_hooks()
        self.assertEqual(waiting["command"], plain["command"] + " --wait-answer")
        self.assertEqual(waiting["timeout"], 70)
        status = self.amc("hooks", "status")
        self.assertEqual(status.returncode, 0)
        self.assertIn("hook answers on", status.stdout)
        self.assertIn("unchanged", self.amc("hooks", "install", "--hook-answers").stdout)

        self.assertEqual(self.amc("hooks", "install").returncode, 0)
        self.assertEqual(self.permission_hooks(), [plain])
        self.assertNotIn("hook answers", self.amc("hooks", "status").stdout)


if __name__ == "__main__":
    unittest.main()
