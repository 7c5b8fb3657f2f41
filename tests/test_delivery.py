"""POST /api/respond end to end against a real server, a real tmux and a stand-in agent.

The stand-in (tests/fakebin/line_agent.py) runs in a private tmux pane, reads lines from its
terminal, records them and reports each through the real bin/amc-hook, so these tests check what
AMC types, where, and when it says "delivered": only once the agent's hook confirms it. The real
Claude Code and Codex TUIs are driven in test_e2e_claude.py / test_e2e_codex_tui.py; the Zellij
backend in test_terminals_zellij.py.
"""
import json
import os
import sys
import threading
import time
import uuid
from typing import Any, Dict, List, Tuple
from unittest import mock

from tests.support import tools
from tests.support.agentenv import PrivateTmux
from tests.support.helpers import ROOT, ServerTestCase

from amc_server.actions import respond as delivery
from amc_server.terminals import base

AGENT = os.path.join(ROOT, "tests", "fakebin", "line_agent.py")


class RespondThroughTmux(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmux = PrivateTmux(tools.require("tmux"), env=dict(self.env))
        self.addCleanup(self.tmux.kill)
        self.record = os.path.join(self.home, "typed.jsonl")
        self.sid = str(uuid.uuid4())
        self.server.app.delivery.confirm_timeout_s = 2.0

    def start_agent(self, *flags: str) -> None:
        env = dict(self.env, AMC_DATA_DIR=self.paths.data, PATH=os.environ.get("PATH", ""))
        self.tmux.new_session([sys.executable, AGENT, self.sid, self.record, *flags], self.home,
                              env=env)
        self.tmux.wait_for("READY")
        deadline = time.monotonic() + 10
        while not self.session().get("tmux_pane"):
            self.assertLess(time.monotonic(), deadline, "the stand-in agent's session never appeared")
            time.sleep(0.05)

    def session(self) -> Dict[str, Any]:
        for s in self.get_json("/api/state")["sessions"]:
            if s["session_id"] == self.sid:
                return s
        return {}

    def typed(self) -> List[str]:
        try:
            with open(self.record, encoding="utf-8") as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def respond(self, body: Any, sid: str = "") -> Tuple[int, Dict[str, Any]]:
        status, answer, _ = self.request("POST", "/api/respond/" + (sid or self.sid), body)
        return status, answer

    def test_a_prompt_is_typed_into_the_recorded_pane_and_confirmed_by_the_hook(self):
        self.start_agent()
        s = self.session()
        self.assertEqual((s["tmux_pane"], s["tmux_socket"]), (self.tmux.pane, self.tmux.socket_path))
        status, answer = self.respond({"text": "run the tests"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["ok"], True)
        self.assertEqual(answer["confirmed_by"], "hook event UserPromptSubmit")
        self.assertIn(self.tmux.pane, answer["delivered_to"])
        self.assertEqual(self.typed(), ["run the tests"])

    def test_hostile_text_arrives_literally_as_one_argument(self):
        self.start_agent()
        text = "-t %0 Enter; $(touch pwned) `id` 'quote' \"dq\" \\ C-c \u00e9\u4e2d"
        status, answer = self.respond({"text": text})
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.typed(), [text])
        self.assertFalse(os.path.exists(os.path.join(self.home, "pwned")))

    def test_control_characters_are_not_typed(self):
        self.start_agent()
        status, answer = self.respond({"text": "up\x1b[Aand\x03 on\x7f"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.typed(), ["up[Aand on"])

    def test_an_agent_that_never_confirms_gets_504_and_the_text_is_typed_once(self):
        self.start_agent("--silent")
        status, answer = self.respond({"text": "are you there"})
        self.assertEqual(status, 504, answer)
        self.assertFalse(answer["ok"])
        self.assertIn("no sign of taking it", answer["error"])
        self.assertIn(self.tmux.pane, answer["error"])
        self.assertEqual(self.typed(), ["are you there"])
        # the user retries at once: refused, nothing typed twice
        status, answer = self.respond({"text": "are you there"})
        self.assertEqual(status, 409, answer)
        self.assertIn("already sent", answer["error"])
        time.sleep(0.5)
        self.assertEqual(self.typed(), ["are you there"])

    def test_a_second_answer_while_one_is_in_flight_is_refused(self):
        self.start_agent("--silent")
        results: List[Tuple[int, Dict[str, Any]]] = []
        first = threading.Thread(target=lambda: results.append(self.respond({"text": "first"})))
        first.start()
        time.sleep(0.5)
        status, answer = self.respond({"text": "second"})
        first.join()
        self.assertEqual(status, 409, answer)
        self.assertIn("still being delivered", answer["error"])
        self.assertEqual(results[0][0], 504)
        self.assertEqual(self.typed(), ["first"])

    def test_a_pane_that_is_gone_is_410_and_names_it(self):
        self.start_agent()
        self.tmux.run("kill-pane", "-t", self.tmux.pane, check=False)
        # the session file still names the pane (no SessionEnd came)
        self.assertTrue(self.session(), "the session vanished with its pane")
        status, answer = self.respond({"text": "hello"})
        self.assertEqual(status, 410, answer)
        self.assertIn("tmux", answer["error"])

    def test_an_unknown_pane_on_a_live_server_is_410(self):
        self.start_agent()
        self.write_session(tmux_pane="%999", tmux_socket=self.tmux.socket_path)
        status, answer = self.respond({"text": "hello"})
        self.assertEqual(status, 410, answer)
        self.assertIn("%999", answer["error"])
        self.assertEqual(self.typed(), [])

    def test_no_known_pane_is_409_with_what_to_do(self):
        self.start_agent()
        self.write_session(tmux_pane="", tmux_socket="")
        status, answer = self.respond({"text": "hello"})
        self.assertEqual(status, 409, answer)
        self.assertIn("answer in the session's own terminal", answer["error"])
        self.assertEqual(self.typed(), [])

    def test_tmux_not_installed_is_503(self):
        self.start_agent()
        app = self.server.app
        with mock.patch.object(base, "FALLBACK_DIRS", ()):
            for backend in app.delivery.backends:
                backend.env["PATH"] = os.path.join(self.home, "empty-bin")
            status, answer = self.respond({"text": "hello"})
        self.assertEqual(status, 503, answer)
        self.assertIn("tmux is not installed", answer["error"])
        self.assertEqual(self.typed(), [])

    def test_a_permission_prompt_takes_option_numbers_only(self):
        self.start_agent()
        self.write_session(status="needs_attention", attention={
            "kind": "permission", "tool": "Bash", "summary": "rm -rf build", "text": "",
            "options": ["Yes", "No"]})
        status, answer = self.respond({"text": "sure, go ahead"})
        self.assertEqual(status, 400, answer)
        self.assertIn("answer with an option number", answer["error"])
        status, answer = self.respond({"text": "7"})
        self.assertEqual(status, 400, answer)
        self.assertIn("option 7 does not exist", answer["error"])
        self.assertEqual(self.typed(), [])

    def test_a_dialog_the_pane_does_not_show_is_refused_and_nothing_typed(self):
        """The hooks say a dialog waits, the pane shows none (answered in the terminal): 409."""
        self.start_agent()
        question = {"question": "Which?", "header": "Q", "multiSelect": False,
                    "options": [{"label": "A", "description": ""},
                                {"label": "B", "description": ""}]}
        cases = (
            ("claude", {"kind": "question", "text": "Which?"}, [question], "question"),
            ("claude", {"kind": "permission", "tool": "Bash", "summary": "ls", "text": ""}, [],
             "permission"),
            ("codex", {"kind": "permission", "tool": "exec_command", "summary": "ls",
                       "text": ""}, [], "permission"))
        for agent, attention, questions, kind in cases:
            self.write_session(agent=agent, status="needs_attention", attention=attention,
                               pending_questions=questions,
                               status_since="2026-01-01T00:00:00.000Z")
            status, answer = self.respond({"text": "1"})
            self.assertEqual(status, 409, (agent, answer))
            self.assertIn("shows no %s dialog" % kind, answer["error"])
            self.assertIn("nothing was typed", answer["error"])
        self.assertEqual(self.typed(), [])

    def test_bad_bodies_are_400_and_unknown_sessions_404(self):
        for body in ({}, {"text": 3}, {"text": "x", "freeform": "yes"},
                     {"text": "x", "optionCount": -1}, {"text": "x", "questionIndex": "0"}, [1]):
            status, answer = self.respond(body, sid="no-such-session")
            self.assertEqual(status, 400, (body, answer))
            self.assertFalse(answer["ok"])
        status, answer = self.respond({"text": "x"}, sid="no-such-session")
        self.assertEqual(status, 404, answer)

    def write_session(self, **fields: Any) -> None:
        path = self.paths.session_file(self.sid)
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        data.update(fields)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f)


class EnterDelay(ServerTestCase):
    def test_enter_delay_is_read_from_the_environment_and_clamped(self):
        self.assertEqual(delivery.enter_delay_ms({}), 200)
        self.assertEqual(delivery.enter_delay_ms({"AMC_SUBMIT_ENTER_DELAY_MS": "50"}), 50)
        self.assertEqual(delivery.enter_delay_ms({"AMC_SUBMIT_ENTER_DELAY_MS": "99999"}), 2000)
        self.assertEqual(delivery.enter_delay_ms({"AMC_SUBMIT_ENTER_DELAY_MS": "-5"}), 0)
        self.assertEqual(delivery.enter_delay_ms({"AMC_SUBMIT_ENTER_DELAY_MS": "soon"}), 200)


if __name__ == "__main__":
    import unittest
    unittest.main()
