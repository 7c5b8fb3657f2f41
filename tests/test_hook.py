"""bin/amc-hook as Claude Code runs it: real processes, real files, recorded real payloads."""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

from tests.support.helpers import FIXTURES, HOOK, IsolatedTestCase

from amc_server.hook import record as hook
from amc_server import model

SCENARIOS = os.path.join(FIXTURES, "claude-code-2.1.329")
TMUX_ENV = {"TMUX": "/tmp/tmux-1000/work,4242,0", "TMUX_PANE": "%7"}


def recorded(scenario, scenarios=SCENARIOS):
    with open(os.path.join(scenarios, scenario, "hooks.jsonl")) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


class ReplayRealPayloads(IsolatedTestCase):
    """Each recorded session, replayed event by event, gives the status a user expects."""

    scenarios = SCENARIOS  # Claude Code 2.1.329; the class below replays 2.1.332's recordings

    def recorded(self, scenario):
        return recorded(scenario, self.scenarios)

    def replay(self, scenario, extra_env=TMUX_ENV):
        statuses = []
        for payload in self.recorded(scenario):
            result = self.run_hook(payload, extra_env)
            self.assertEqual(result.returncode, 0)
            self.assertEqual(result.stdout, b"")
            s = self.session_file(payload["session_id"])
            statuses.append((payload["hook_event_name"], s and s["status"], s))
        return statuses

    def test_ask_option_goes_needs_attention_with_questions_then_clears(self):
        steps = self.replay("ask-option")
        names = [(e, st) for e, st, _ in steps]
        self.assertEqual(names, [
            ("SessionStart", "starting"), ("UserPromptSubmit", "active"),
            ("PreToolUse", "needs_attention"), ("PermissionRequest", "needs_attention"),
            ("PostToolUse", "active"), ("Stop", "done"), ("SessionEnd", None)])
        waiting = steps[2][2]
        self.assertEqual(waiting["pending_questions"], [{
            "question": "Which database should we use?", "header": "Choice", "multiSelect": False,
            "options": [{"label": "Alpha", "description": "first"},
                        {"label": "Beta", "description": "second"},
                        {"label": "Gamma", "description": "third"}]}])
        self.assertEqual(waiting["attention"]["kind"], "question")
        self.assertEqual(steps[4][2]["pending_questions"], [])
        self.assertEqual(waiting["tmux_pane"], "%7")
        self.assertEqual(waiting["tmux_socket"], "/tmp/tmux-1000/work")
        self.assertEqual(waiting["project"], "demo-proj")
        self.assertEqual(waiting["project_dir"], "/home/dev/work/demo-proj")
        self.assertTrue(waiting["transcript_path"].endswith(
            "/%s.jsonl" % steps[0][2]["session_id"]))

    def test_session_end_removes_session_but_keeps_every_event(self):
        payloads = self.recorded("ask-option")
        self.replay("ask-option")
        sid = payloads[0]["session_id"]
        self.assertIsNone(self.session_file(sid))
        with open(self.paths.events_file(sid)) as f:
            events = [json.loads(line) for line in f]
        self.assertEqual([e["event"] for e in events],
                         [p["hook_event_name"] for p in payloads])
        self.assertEqual(events[2]["payload"]["tool_name"], "AskUserQuestion")
        self.assertEqual(events[0]["pane"]["tmux_pane"], "%7")

    def test_prose_question_needs_attention_with_the_question(self):
        steps = self.replay("chat-and-prose-question")
        self.assertEqual([st for _, st, _ in steps],
                         ["starting", "active", "done", "active", "needs_attention", None])
        attention = steps[4][2]["attention"]
        self.assertEqual(attention, {"kind": "prose_question",
                                     "text": "Should I continue with the migration?"})
        self.assertEqual(steps[2][2]["last_message_preview"], "OK: hello there")

    def test_permission_prompt_names_tool_and_command(self):
        steps = self.replay("permission-prompt")
        self.assertEqual([st for _, st, _ in steps], [
            "starting", "active", "active", "needs_attention", "needs_attention", "active",
            "done", None])
        attention = steps[3][2]["attention"]
        self.assertEqual(attention["kind"], "permission")
        self.assertEqual(attention["tool"], "Bash")
        self.assertEqual(attention["summary"], "touch made-by-agent.txt")
        # The later Notification keeps the precise permission, not the generic message.
        self.assertEqual(steps[4][2]["attention"]["tool"], "Bash")

    def test_bash_tool_in_auto_mode_never_needs_attention(self):
        steps = self.replay("bash-tool")
        self.assertNotIn("needs_attention", [st for _, st, _ in steps])

    def test_zellij_pane_is_recorded(self):
        payload = self.recorded("ask-option")[0]
        self.run_hook(payload, {"ZELLIJ_SESSION_NAME": "work", "ZELLIJ_PANE_ID": "3"})
        s = self.session_file(payload["session_id"])
        self.assertEqual((s["zellij_session"], s["zellij_pane"], s["tmux_pane"]), ("work", "3", ""))


class ReplayRealPayloads2_1_332(ReplayRealPayloads):
    """The same, with the payloads Claude Code 2.1.332 sent (tests/record_fixtures.py)."""

    scenarios = os.path.join(FIXTURES, "claude-code-2.1.332")

    def test_a_background_agent_notification_previews_as_its_summary(self):
        statuses = self.replay("subagents")
        previews = [s["last_message_preview"] for name, _, s in statuses
                    if name == "UserPromptSubmit"]
        self.assertEqual(previews[1:], ['Agent "Echo in a shell" finished',
                                        'Agent "Slow look around" finished'])


class NeverBreaksTheAgent(IsolatedTestCase):
    """Every bad input: exit 0, nothing on stdout, nothing written outside the data dir."""

    def assert_silent_success(self, result):
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"")

    def test_broken_json(self):
        self.assert_silent_success(self.run_hook(b'{"session_id": "abc", '))

    def test_empty_stdin_and_non_object(self):
        self.assert_silent_success(self.run_hook(b""))
        self.assert_silent_success(self.run_hook(b"[1, 2]"))
        self.assert_silent_success(self.run_hook(b"\xff\xfe garbage"))

    def test_hostile_session_id_writes_nothing_outside(self):
        for sid in ("../../x", "/etc/passwd", "a/b", "..", "x\x00y", ""):
            result = self.run_hook({"session_id": sid, "hook_event_name": "Stop"})
            self.assert_silent_success(result)
            self.assertIn(b"session_id", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home, ".local", "x.json")))
        self.assertFalse(os.path.exists(os.path.join(self.paths.data, "x.json")))

    def test_unwritable_data_dir(self):
        blocker = os.path.join(self.home, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("a file where the data dir should be")
        result = self.run_hook({"session_id": "s1", "hook_event_name": "SessionStart"},
                               {"AMC_DATA_DIR": blocker})
        self.assert_silent_success(result)

    def test_unknown_event_recorded_as_last_event(self):
        self.run_hook({"session_id": "s1", "hook_event_name": "SessionStart", "cwd": "/w/p"})
        self.run_hook({"session_id": "s1", "hook_event_name": "SubagentStart", "agent_id": "a"})
        self.run_hook({"session_id": "s1", "hook_event_name": "SomethingNew2027"})
        s = self.session_file("s1")
        self.assertEqual((s["status"], s["last_event"]), ("starting", "SomethingNew2027"))

    def test_huge_payload_is_capped_in_the_log_not_lost(self):
        big = "x" * 500_000
        self.run_hook({"session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": "Read",
                       "tool_response": {"content": big}})
        with open(self.paths.events_file("s1"), "rb") as f:
            line = f.read()
        self.assertLess(len(line), 70_000)
        event = json.loads(line)
        self.assertTrue(event["payload"]["amc_truncated"])
        self.assertEqual(event["payload"]["tool_name"], "Read")


class Concurrency(IsolatedTestCase):
    def test_parallel_hooks_lose_no_event_and_leave_valid_json(self):
        procs = []
        for i in range(30):
            payload = {"session_id": "par", "hook_event_name": "PreToolUse", "tool_name": "Bash",
                       "tool_input": {"command": "echo %d" % i}}
            procs.append(subprocess.Popen([sys.executable, HOOK], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, env=self.env))
            procs[-1].stdin.write(json.dumps(payload).encode())
            procs[-1].stdin.close()
        for p in procs:
            self.assertEqual(p.wait(timeout=60), 0)
            self.assertEqual(p.stdout.read(), b"")
            p.stdout.close()
        with open(self.paths.events_file("par")) as f:
            commands = sorted(json.loads(line)["payload"]["tool_input"]["command"] for line in f)
        self.assertEqual(commands, sorted("echo %d" % i for i in range(30)))
        self.assertEqual(self.session_file("par")["status"], "active")

    def test_session_file_never_half_written_even_when_hooks_are_killed(self):
        self.run_hook({"session_id": "k", "hook_event_name": "SessionStart"})
        seen_bad = []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    with open(self.paths.session_file("k"), "rb") as f:
                        data = f.read()
                    json.loads(data)
                except FileNotFoundError:
                    pass
                except ValueError:
                    seen_bad.append(data)

        t = threading.Thread(target=reader)
        t.start()
        rng = random.Random(7)
        try:
            for i in range(40):
                p = subprocess.Popen([sys.executable, HOOK], stdin=subprocess.PIPE, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                p.stdin.write(json.dumps({"session_id": "k", "hook_event_name": "UserPromptSubmit",
                                          "prompt": "p%d " % i + "y" * 5000}).encode())
                p.stdin.close()
                time.sleep(rng.uniform(0.0, 0.06))
                p.send_signal(signal.SIGKILL)
                p.wait()
        finally:
            stop.set()
            t.join()
        self.assertEqual(seen_bad, [])
        self.assertIsInstance(self.session_file("k"), dict)
        self.run_hook({"session_id": "k", "hook_event_name": "Stop", "last_assistant_message": "ok"})
        self.assertEqual(self.session_file("k")["status"], "done")


class StateMachine(unittest.TestCase):
    """apply_event as a pure function, for the transitions the recorded sessions do not cover."""

    def apply(self, session, payload, env=None):
        return hook.apply_event(session, dict({"session_id": "s"}, **payload), env or {})

    def test_a_channel_message_previews_as_what_the_user_wrote(self):
        # the UserPromptSubmit payload Claude Code 2.1.329 sends for an AMC channel message
        s = self.apply(None, {"hook_event_name": "UserPromptSubmit", "prompt":
                              '<channel source="amc" chat_id="amc-1" user="dashboard">\n'
                              'hello from the page\n</channel>'})
        self.assertEqual(s["last_message_preview"], "hello from the page")
        s = self.apply(None, {"hook_event_name": "UserPromptSubmit",
                              "prompt": "<channelx> is not a channel tag"})
        self.assertEqual(s["last_message_preview"], "<channelx> is not a channel tag")

    def test_stop_failure_needs_attention_with_error(self):
        s = self.apply(None, {"hook_event_name": "UserPromptSubmit", "prompt": "hi"})
        s = self.apply(s, {"hook_event_name": "StopFailure", "error": "rate_limit",
                           "error_details": "429 Too Many Requests"})
        self.assertEqual(s["status"], "needs_attention")
        self.assertEqual(s["attention"], {"kind": "error",
                                          "text": "rate_limit 429 Too Many Requests"})

    def test_post_tool_use_failure_clears_permission(self):
        s = self.apply(None, {"hook_event_name": "PermissionRequest", "tool_name": "Edit",
                              "tool_input": {"file_path": "/w/a.py"}})
        self.assertEqual(s["attention"]["summary"], "/w/a.py")
        s = self.apply(s, {"hook_event_name": "PostToolUseFailure", "tool_name": "Edit"})
        self.assertEqual((s["status"], s["attention"]), ("active", None))

    def test_other_tool_finishing_does_not_clear_a_pending_question(self):
        s = self.apply(None, {"hook_event_name": "PreToolUse", "tool_name": "AskUserQuestion",
                              "tool_input": {"questions": [{"question": "Q?", "options": ["a"]}]}})
        s = self.apply(s, {"hook_event_name": "PostToolUse", "tool_name": "Read"})
        self.assertEqual(s["status"], "needs_attention")
        self.assertEqual(s["pending_questions"][0]["options"], [{"label": "a", "description": ""}])

    def test_compaction_restart_keeps_status(self):
        s = self.apply(None, {"hook_event_name": "UserPromptSubmit", "prompt": "go"})
        s = self.apply(s, {"hook_event_name": "SessionStart", "source": "compact"})
        self.assertEqual(s["status"], "active")

    def test_first_event_mid_session_is_active(self):
        s = self.apply(None, {"hook_event_name": "PreToolUse", "tool_name": "Bash"})
        self.assertEqual(s["status"], "active")

    def test_notification_permission_without_request(self):
        s = self.apply(None, {"hook_event_name": "Notification",
                              "notification_type": "permission_prompt",
                              "message": "Claude needs your permission to use Bash"})
        self.assertEqual(s["attention"]["kind"], "permission")
        self.assertIn("permission", s["attention"]["text"])

    def test_project_dir_from_claude_project_dir_wins_over_cwd(self):
        s = self.apply(None, {"hook_event_name": "SessionStart", "cwd": "/w/proj/sub"},
                       {"CLAUDE_PROJECT_DIR": "/w/proj", "CLAUDE_PID": "123"})
        self.assertEqual((s["project"], s["project_dir"], s["pid"]), ("proj", "/w/proj", 123))


class ProseQuestion(unittest.TestCase):
    def test_question_is_last_paragraph(self):
        self.assertEqual(hook.prose_question("Done.\n\nWant me to push?"), "Want me to push?")
        self.assertEqual(hook.prose_question("**Shall I deploy?**"), "**Shall I deploy?**")

    def test_statement_is_not_a_question(self):
        self.assertEqual(hook.prose_question("Is it? No. It is done."), "")
        self.assertEqual(hook.prose_question(None), "")
        self.assertEqual(hook.prose_question(""), "")

    def test_long_question_is_cut_to_500_keeping_the_end(self):
        q = hook.prose_question("a " * 600 + "ok?")
        self.assertEqual(len(q), 500)
        self.assertTrue(q.endswith("ok?"))


class CodexNotify(IsolatedTestCase):
    def test_notify_updates_a_known_session_only(self):
        notify = {"type": "agent-turn-complete", "thread-id": "t1", "turn-id": "u",
                  "cwd": "/w/proj", "input-messages": ["hi"],
                  "last-assistant-message": "Done. Should I also add tests?"}
        self.run_hook(b"", args=("--codex-notify", json.dumps(notify)))
        self.assertIsNone(self.session_file("t1"))
        self.run_hook({"session_id": "t1", "hook_event_name": "UserPromptSubmit", "prompt": "hi",
                       "cwd": "/w/proj"}, args=("--agent", "codex"))
        result = self.run_hook(b"", args=("--codex-notify", json.dumps(notify)))
        self.assertEqual((result.returncode, result.stdout), (0, b""))
        s = self.session_file("t1")
        self.assertEqual((s["agent"], s["status"]), ("codex", model.NEEDS_ATTENTION))
        self.assertEqual(s["attention"]["text"], "Done. Should I also add tests?")


if __name__ == "__main__":
    unittest.main()
