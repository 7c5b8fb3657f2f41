"""End to end: the real Codex CLI (pinned in tests/support/tools.py) runs `codex exec` turns that
AMC then shows.

Codex keeps no live-session registry and needs no hooks: AMC discovers sessions from the rollouts
Codex writes under `$CODEX_HOME/sessions/` (recent ones), and reads conversations from them. The CLI
talks to tests/support/fakemodel.py's Responses endpoint; HOME, CODEX_HOME and AMC's data dir are
throwaway (tests/support/agentenv.py). A second test wires AMC's hooks into Codex (`amc hooks
install --codex`) and checks that hook events reach AMC's event log.
"""
import contextlib
import json
import re
import subprocess
import time
import unittest
from typing import Any, Dict, Iterator, List

from tests.support import tools
from tests.support.agentenv import AgentHome
from tests.support.amcproc import AmcServer, run_amc
from tests.support.fakemodel import FakeModel

MARKER = "e2e-marker-4711"
TIMEOUT = 15
SESSION_ID = re.compile(r"^session id: (\S+)$", re.M)


class CodexExecE2E(unittest.TestCase):

    def setUp(self) -> None:
        self.codex = tools.require("codex")
        self.home = AgentHome()
        self.addCleanup(self.home.cleanup)
        self.fake = FakeModel().start()
        self.addCleanup(self.fake.stop)
        self.project = self.home.project("codex-proj")
        self.home.write_codex_config(self.fake.url, [self.project])
        self.amc_env = self.home.amc_env()
        self.amc = None  # type: Any
        self.last_exec = ""

    def start_amc(self) -> None:
        self.amc = AmcServer(self.amc_env).start()
        self.addCleanup(self.amc.stop)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Name a step; on failure add the step, the last codex output and AMC's log."""
        try:
            yield
        except AssertionError as e:
            raise AssertionError("step %r failed: %s\n--- last codex exec output ---\n%s\n"
                                 "--- amc serve stderr (tail) ---\n%s\n--- fake model errors ---"
                                 "\n%s" % (name, e, self.last_exec[-3000:],
                                           self.amc.stderr() if self.amc else "",
                                           "\n".join(self.fake.errors))) from None

    def codex_exec(self, prompt: str, *flags: str) -> str:
        """Run one `codex exec` turn in the project; return the session (thread) id."""
        proc = subprocess.run(
            [self.codex, "exec", "--skip-git-repo-check"] + list(flags) + [prompt],
            cwd=self.project, env=self.home.env(self.fake.url), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, universal_newlines=True)
        self.last_exec = "exit %d\nstdout:\n%s\nstderr:\n%s" % (
            proc.returncode, proc.stdout, proc.stderr)
        self.assertEqual(proc.returncode, 0, "codex exec %r failed" % prompt)
        m = SESSION_ID.search(proc.stderr) or SESSION_ID.search(proc.stdout)
        self.assertIsNotNone(m, "codex exec printed no session id")
        return m.group(1)

    def wait_codex_session(self, session_id: str) -> Dict[str, Any]:
        return self.amc.wait_session(
            lambda s: s.get("status") == "done", "codex session %s done" % session_id,
            timeout=TIMEOUT, session_id=session_id)

    def conversation(self, session_id: str, check: Any) -> List[Dict[str, Any]]:
        """Poll /api/conversation/<id>?agent=codex until `check(messages)` passes."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            messages = self.amc.get("/api/conversation/" + session_id, agent="codex")["messages"]
            try:
                check(messages)
                return messages
            except AssertionError as e:
                if time.monotonic() > deadline:
                    raise AssertionError("%s\nconversation was:\n%s"
                                         % (e, json.dumps(messages, indent=1)[:6000])) from None
            time.sleep(0.2)

    def test_exec_turns_show_up_with_command_and_reply(self) -> None:
        started = time.monotonic()
        self.start_amc()
        with self.step("codex exec runs a command"):
            cmd_session = self.codex_exec("RUNCMD: echo " + MARKER)
            self.assertIn(MARKER, self.last_exec)
        with self.step("codex exec answers a plain prompt"):
            chat_session = self.codex_exec("say hi from the e2e test")
            self.assertNotEqual(cmd_session, chat_session)

        for session_id in (cmd_session, chat_session):
            with self.step("/api/state shows codex session %s" % session_id):
                s = self.wait_codex_session(session_id)
                self.assertEqual(s["agent"], "codex", s)
                self.assertEqual(s["project"], "codex-proj", s)
                self.assertEqual(s["project_dir"], self.project, s)
                self.assertEqual(s["pending_questions"], [], s)
                self.assertTrue(s.get("transcript_path", "").endswith(session_id + ".jsonl"), s)

        with self.step("the command session's conversation"):
            def check_command(messages: List[Dict[str, Any]]) -> None:
                users = [m["content"] for m in messages if m["role"] == "user"]
                self.assertEqual(users, ["RUNCMD: echo " + MARKER])
                calls = [c for m in messages for c in m.get("tool_calls") or []]
                self.assertEqual(len(calls), 1, calls)
                self.assertIn("echo " + MARKER, json.dumps(calls[0]["input"]))
                self.assertIn(MARKER, _text(calls[0].get("result")))
                self.assertFalse(calls[0].get("is_error"), calls[0])
                replies = [m["content"] for m in messages if m["role"] == "assistant"
                           and m["content"]]
                self.assertTrue(replies and replies[-1].startswith("The command returned:"),
                                replies)
                self.assertIn(MARKER, replies[-1])
                for m in messages:
                    for key in ("id", "role", "content", "timestamp", "tool_calls", "thinking"):
                        self.assertIn(key, m)
                ids = [m["id"] for m in messages]
                self.assertEqual(len(ids), len(set(ids)), ids)
            self.conversation(cmd_session, check_command)

        with self.step("the plain session's conversation"):
            def check_chat(messages: List[Dict[str, Any]]) -> None:
                self.assertEqual([(m["role"], m["content"]) for m in messages], [
                    ("user", "say hi from the e2e test"),
                    ("assistant", "Hello from the fake model! You said: say hi from the e2e test")])
            self.conversation(chat_session, check_chat)
        self.assertLess(time.monotonic() - started, 60)

    def test_codex_hooks_reach_amc(self) -> None:
        with self.step("amc hooks install --codex"):
            proc = run_amc(["hooks", "install", "--codex"], self.amc_env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.start_amc()
        with self.step("codex exec with hooks"):
            session_id = self.codex_exec("RUNCMD: echo hooked-" + MARKER,
                                         "--dangerously-bypass-hook-trust")
        with self.step("hook events in AMC's event log"):
            deadline = time.monotonic() + TIMEOUT
            names: List[str] = []
            while time.monotonic() < deadline:
                events = self.amc.get("/api/events/" + session_id).get("events", [])
                names = [_event_name(e) for e in events]
                if "Stop" in names:
                    break
                time.sleep(0.2)
            for wanted in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse",
                           "Stop"):
                self.assertIn(wanted, names, "events for %s: %s" % (session_id, names))
        with self.step("/api/state shows the hooked session"):
            s = self.wait_codex_session(session_id)
            self.assertEqual(s["agent"], "codex", s)
            self.assertEqual(s["project_dir"], self.project, s)


def _event_name(event: Dict[str, Any]) -> str:
    for key in ("event", "hook_event_name", "name", "type"):
        if isinstance(event.get(key), str):
            return event[key]
    payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    return str(payload.get("hook_event_name", ""))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


if __name__ == "__main__":
    unittest.main()
