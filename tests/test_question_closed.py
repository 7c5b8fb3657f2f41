"""A question that closed without the page: off the card within one change event, and a late
answer from the page refused (409) with nothing typed.

Built from Claude Code 2.1.337's recorded `ask-option` scenario (its transcript lines and hook
payloads, the session id and paths replaced). No recording holds a question that resolved by
itself (Claude Code auto-resolves only after minutes of idle, which a recording cannot wait for):
the result line is the recorded one with `toolUseResult` made as 2.1.337's `sdk-tools.d.ts`
documents it (`answers` empty, `annotations[q].unanswered`, `afkTimeoutMs`) and the tool result's
text as the 2.1.337 binary writes it ("No response after 300s ..."). The pane is a private tmux
running tests/fakebin/line_agent.py, which records every line typed into it.
"""
import copy
import json
import os
import sys
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

from tests.support import tools
from tests.support.agentenv import PrivateTmux
from tests.support.helpers import ROOT, ServerTestCase
from tests.support.sse import SSEClient

from amc_server.agents.claude import questions as claude_questions

AGENT = os.path.join(ROOT, "tests", "fakebin", "line_agent.py")
RECORDED = os.path.join(ROOT, "tests", "fixtures", "claude-code-2.1.337", "ask-option")
QUESTION = "Which database should we use?"
AFK_TEXT = ("No response after 300s \u2014 the user may be away from keyboard. Proceed using your "
            "best judgment based on the context so far; you can re-ask this question later if "
            "it's still relevant.")


def recorded() -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], str]:
    """Return the recording's transcript records, hook payloads and session id."""
    with open(os.path.join(RECORDED, "transcript.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(RECORDED, "hooks.jsonl"), encoding="utf-8") as f:
        hooks = [json.loads(line)["payload"] for line in f if line.strip()]
    return lines, hooks, hooks[0]["session_id"]


def renamed(value: Any, old: str, new: str) -> Any:
    return json.loads(json.dumps(value).replace(old, new))


def auto_resolved(result_line: Dict[str, Any], mark: str = "skipped") -> Dict[str, Any]:
    """The recorded answer line, turned into the question resolving by itself (see above)."""
    line = copy.deepcopy(result_line)
    line["toolUseResult"].update(answers={}, annotations={QUESTION: {"unanswered": mark}},
                                 afkTimeoutMs=300000)
    line["message"]["content"][0]["content"] = AFK_TEXT
    line["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 1))
    return line


class Describe(ServerTestCase):
    def test_every_documented_way_a_question_closes_is_said_in_words(self):
        block = {"type": "tool_result"}
        cases = (
            ({"answers": {QUESTION: "Beta"}, "annotations": {}}, "answered in the terminal"),
            ({"answers": {}, "annotations": {QUESTION: {"unanswered": "skipped"}},
              "afkTimeoutMs": 300000}, "skipped after the user was away"),
            ({"answers": {}, "annotations": {QUESTION: {"unanswered": "dismissed"}},
              "afkTimeoutMs": 90000}, "dismissed after the user was away"),
            ({"answers": {}, "afkTimeoutMs": 300000}, "closed after the user was away"),
            ({"answers": {}, "annotations": {QUESTION: {"unanswered": "replied_in_chat"}}},
             "the user replied in the chat instead"),
            ({"answers": {}, "annotations": {QUESTION: {"unanswered": "skipped"}}},
             "skipped in the terminal"),
            ({"answers": {}, "annotations": {QUESTION: {"unanswered": "someday"}}},
             "answered in the terminal"),   # any other value: as if absent
        )
        for result, words in cases:
            self.assertIn(words, claude_questions.describe(result, block)[1], result)
        self.assertEqual(claude_questions.describe("x", dict(block, is_error=True))[1],
                         "declined in the terminal")


class ClosedQuestion(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmux = PrivateTmux(tools.require("tmux"), env=dict(self.env))
        self.addCleanup(self.tmux.kill)
        self.typed_file = os.path.join(self.home, "typed.jsonl")
        self.sid = str(uuid.uuid4())
        self.server.app.delivery.confirm_timeout_s = 2.0
        lines, hooks, old = recorded()
        project = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj")
        os.makedirs(project)
        self.transcript = os.path.join(project, self.sid + ".jsonl")
        lines = renamed(lines, old, self.sid)
        self.hooks = {h["hook_event_name"]: renamed(h, old, self.sid) for h in hooks}
        for h in self.hooks.values():
            h["transcript_path"] = self.transcript
        call = next(i for i, r in enumerate(lines) if r.get("type") == "assistant" and any(
            b.get("name") == "AskUserQuestion" for b in r["message"]["content"]))
        self.result = next(r for r in lines if r.get("toolUseResult"))
        self.append(lines[:call + 1])   # the prompt and the question's call, as written then
        env = dict(self.env, AMC_DATA_DIR=self.paths.data, PATH=os.environ.get("PATH", ""))
        self.tmux.new_session([sys.executable, AGENT, self.sid, self.typed_file], self.home,
                              env=env)
        self.tmux.wait_for("READY")
        self.wait(lambda s: s.get("tmux_pane"), "the stand-in agent's session never appeared")
        for name in ("UserPromptSubmit", "PreToolUse", "PermissionRequest"):
            self.run_hook(self.hooks[name])
        self.wait(lambda s: s.get("pending_questions"), "the question never reached the card")
        self.stream = SSEClient(self.port)
        self.addCleanup(self.stream.sock.close)
        while (self.stream.next() or {}).get("event") != "snapshot":
            pass

    def append(self, records: List[Dict[str, Any]]) -> None:
        with open(self.transcript, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))

    def session(self) -> Dict[str, Any]:
        for s in self.get_json("/api/state")["sessions"]:
            if s["session_id"] == self.sid:
                return s
        return {}

    def wait(self, ok: Any, why: str) -> Dict[str, Any]:
        deadline = time.monotonic() + 10
        while not ok(self.session()):
            self.assertLess(time.monotonic(), deadline, why)
            time.sleep(0.05)
        return self.session()

    def next_change(self) -> Optional[Dict[str, Any]]:
        """Return the next `session` event of this session on the stream (None: none in 5 s)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            event = self.stream.next(timeout=max(0.1, deadline - time.monotonic()))
            if event and event["event"] == "session" and event["data"]["session_id"] == self.sid:
                return event["data"]
        return None

    def typed(self) -> List[str]:
        try:
            with open(self.typed_file, encoding="utf-8") as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def answer(self, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        status, answer, _ = self.request("POST", "/api/respond/" + self.sid, body)
        return status, answer

    def assert_refused(self, words: str) -> None:
        for body in ({"text": "2", "questionIndex": 0},
                     {"text": "Postgres", "freeform": True, "optionCount": 3,
                      "questionIndex": 0}):
            status, answer = self.answer(body)
            self.assertEqual(status, 409, answer)
            self.assertEqual(answer["ok"], False)
            self.assertTrue(answer["error"].startswith("the question was closed: "), answer)
            self.assertIn(words, answer["error"])
        time.sleep(0.5)
        self.assertEqual(self.typed(), [], "keys reached the pane")

    def assert_off_the_card(self, change: Optional[Dict[str, Any]]) -> None:
        self.assertIsNotNone(change, "no change event after the question closed")
        self.assertEqual(change["pending_questions"], [])
        self.assertNotEqual(change["status"], "needs_attention")
        self.assertIsNone(change["attention"])

    def test_a_question_resolved_by_itself_leaves_the_card_from_the_transcript_alone(self):
        """No PostToolUse reaches AMC (a lost hook): the transcript's result closes it."""
        self.append([auto_resolved(self.result)])
        self.assert_off_the_card(self.next_change())
        self.assert_refused("skipped after the user was away")

    def test_a_question_resolved_by_itself_and_reported_by_the_hook(self):
        self.append([auto_resolved(self.result, "dismissed")])
        post = copy.deepcopy(self.hooks["PostToolUse"])
        post["tool_response"] = auto_resolved(self.result, "dismissed")["toolUseResult"]
        self.run_hook(post)
        self.assert_off_the_card(self.next_change())
        self.assertEqual(self.session()["pending_questions"], [])
        self.assert_refused("dismissed after the user was away")

    def test_an_answer_for_a_question_closed_a_moment_ago_is_checked_against_the_file(self):
        """The result is written but the core has not seen it yet: the file decides."""
        self.server.app.core.flush()
        with open(self.transcript, "a", encoding="utf-8") as f:
            f.write(json.dumps(auto_resolved(self.result)) + "\n")
            f.flush()
            status, answer = self.answer({"text": "2", "questionIndex": 0})
        self.assertEqual(status, 409, answer)
        self.assertIn("the question was closed: skipped after the user was away", answer["error"])
        time.sleep(0.5)
        self.assertEqual(self.typed(), [])

    def test_a_question_answered_in_the_terminal(self):
        self.append([self.result])   # the recorded answer ("Beta"), as typed in the terminal
        self.run_hook(self.hooks["PostToolUse"])
        self.assert_off_the_card(self.next_change())
        self.assert_refused("answered in the terminal")

    def test_a_late_answer_for_a_closed_question_never_answers_the_next_one(self):
        """The page still shows question A; in the terminal A was answered and the agent asks B.
        A's answer (with A's id) is refused; B's goes through."""
        first = self.session()["attention"]["tool_use_id"]
        self.assertTrue(first)
        self.append([self.result])
        self.run_hook(self.hooks["PostToolUse"])
        second = "toolu_" + uuid.uuid4().hex[:24]
        call = next(r for r in reversed(recorded()[0]) if r.get("type") == "assistant" and any(
            b.get("name") == "AskUserQuestion" for b in r["message"]["content"]))
        call = renamed(call, recorded()[2], self.sid)
        call["uuid"] = str(uuid.uuid4())
        for block in call["message"]["content"]:
            if block.get("name") == "AskUserQuestion":
                block["id"] = second
        self.append([call])
        for name in ("PreToolUse", "PermissionRequest"):
            hook = copy.deepcopy(self.hooks[name])
            if "tool_use_id" in hook:
                hook["tool_use_id"] = second
            self.run_hook(hook)
        now = self.wait(lambda s: (s.get("attention") or {}).get("tool_use_id") == second
                        and s.get("pending_questions"), "the second question never showed")
        self.assertEqual(now["status"], "needs_attention")
        status, answer = self.answer({"text": "2", "questionIndex": 0, "questionId": first})
        self.assertEqual(status, 409, answer)
        self.assertEqual(answer["error"], "the question was closed: another question is asked "
                                          "now; nothing was typed")
        status, answer = self.answer({"text": "2", "questionIndex": 0, "questionId": 7})
        self.assertEqual(status, 400, answer)
        time.sleep(0.5)
        self.assertEqual(self.typed(), [], "keys reached the pane")
        # The right id passes this check; the stand-in pane then shows no Claude Code dialog,
        # which the screen check refuses in its own words (nothing typed either way).
        status, answer = self.answer({"text": "2", "questionIndex": 0, "questionId": second})
        self.assertNotIn("another question", answer.get("error", ""), answer)
        self.assertIn("pane shows no question dialog", answer.get("error", ""), answer)

    def test_a_prompt_is_still_typed_when_no_question_is_meant(self):
        self.append([self.result])
        self.run_hook(self.hooks["PostToolUse"])
        self.run_hook(self.hooks["Stop"])
        self.wait(lambda s: s.get("status") == "done", "the turn never ended")
        status, answer = self.answer({"text": "2"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.typed(), ["2"])


if __name__ == "__main__":
    import unittest
    unittest.main()
