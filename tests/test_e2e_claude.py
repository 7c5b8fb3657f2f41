"""End to end: the real Claude Code TUI (pinned in tests/support/tools.py) in a private tmux,
watched by a real AMC.

The CLI talks to tests/support/fakemodel.py, its hooks are wired in by `amc hooks install`, and AMC
runs as `amc serve --port 0`; everything lives in a throwaway HOME (tests/support/agentenv.py). The
scenario walks through what a user sees on the dashboard: a session appears as `starting`, becomes
`active` while a prompt runs and `done` after; an AskUserQuestion makes it `needs_attention` with
the exact question and options, answering in the terminal clears that; a reply ending in a question
is flagged too; `/exit` removes the session, and its conversation is still readable afterwards.
"""
import json
import os
import re
import threading
import time
import unittest
from typing import Any, Dict, List

from tests.support import tools
from tests.support.agentenv import ROOT
from tests.support.amcproc import run_amc
from tests.support.e2ecase import AgentTuiCase
from tests.support.fakemodel_rules import ASK_OPTIONS, ClaudeReply
from tests.support.sse import SSEClient

from amc_server.agents.claude import questions as claude_questions

QUESTION = "Which database should we use?"
PROSE_QUESTION = "Should I continue with the migration?"
STEP_TIMEOUT = 15


class ClaudeCodeTuiE2E(AgentTuiCase):
    """Real Claude Code sessions watched by AMC (each test takes about 5 s)."""

    step_timeout = STEP_TIMEOUT

    def setUp(self) -> None:
        super().setUp()
        self.claude = tools.require("claude")
        self.home.write_claude_json([self.project])

    def start_amc(self) -> None:
        with self.step("amc hooks install"):
            proc = run_amc(["hooks", "install"], self.amc_env)
            self.assertEqual(proc.returncode, 0, "amc hooks install failed:\n%s%s"
                             % (proc.stdout, proc.stderr))
            commands = _hook_commands(self.home.claude_settings())
            hook = os.path.realpath(os.path.join(ROOT, "bin", "amc-hook"))
            for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                          "PostToolUse", "Stop", "SessionEnd"):
                self.assertTrue(any(hook in c for c in commands.get(event, [])),
                                "settings.json has no %s hook running %s: %s"
                                % (event, hook, json.dumps(self.home.claude_settings())))
        with self.step("amc serve"):
            self.serve()

    def type_prompt(self, text: str) -> None:
        self.tmux.type_line(text)

    def launch_claude(self, *args: str) -> Dict[str, Any]:
        """Start Claude Code in the private tmux; return its session once AMC lists it."""
        with self.step("Claude Code starts in tmux"):
            self.tmux.new_session([self.claude, *args], self.project,
                                  self.home.env(self.fake.url))
            self.tmux.wait_for("\u276f", timeout=30)  # the ❯ prompt
        with self.step("the session appears in /api/state"):
            s = self.amc.wait_session(
                lambda s: s.get("project_dir") == self.project, "a session for %s" % self.project)
            self.session_id = s["session_id"]
        return s

    def wait_dialog(self) -> None:
        """Wait until the AskUserQuestion dialog is fully drawn and takes keys."""
        # the dialog paints options before their descriptions and drops keys that arrive within
        # ~0.1 s of its first paint, as a person never would
        self.tmux.wait_for(lambda screen: "Chat about this" in screen and "third" in screen)
        time.sleep(0.5)

    def respond(self, body: Dict[str, Any]) -> Dict[str, Any]:
        status, answer = self.amc.post("/api/respond/" + self.session_id, body)
        self.assertEqual((status, answer.get("ok")), (200, True),
                         "POST /api/respond %s -> %s %s" % (json.dumps(body), status, answer))
        return answer

    # -- the scenario
    def test_dashboard_follows_a_real_claude_session(self) -> None:
        started = time.monotonic()
        self.start_amc()
        gate = threading.Event()
        self.addCleanup(gate.set)
        # hold the first reply until the test has seen the session `active`
        self.fake.claude_rules.insert(0, lambda turn: ClaudeReply.text(
            "OK: " + turn.prompt, gate=gate) if turn.prompt == "hello there" else None)

        s = self.launch_claude()
        with self.step("session appears as starting"):
            self.assertEqual(s["status"], "starting", s)
            self.assertEqual(s["agent"], "claude")
            self.assertEqual(s["project"], "demo-proj")
            self.assertEqual(s["pending_questions"], [])
            self.assertEqual(s["tmux_pane"], self.tmux.pane)
            self.assertEqual(s["tmux_socket"], self.tmux.socket_path)
            self.assertTrue(re.match(r"^[0-9a-f-]{36}$", self.session_id), self.session_id)

        with self.step("a prompt makes it active"):
            self.type_prompt("hello there")
            s = self.wait(lambda s: s["status"] == "active", "status active")
            self.assertEqual(s["pending_questions"], [])

        with self.step("the finished reply makes it done"):
            gate.set()
            self.tmux.wait_for("OK: hello there")
            s = self.wait(lambda s: s["status"] == "done", "status done")
            self.assertIn("OK: hello there", s.get("last_message_preview", ""))

        with self.step("AskUserQuestion makes it need attention"):
            self.type_prompt("ASK: " + QUESTION)
            s = self.wait(lambda s: s["status"] == "needs_attention", "status needs_attention")
            self.assertEqual(s["pending_questions"], [{
                "question": QUESTION, "header": "Choice", "multiSelect": False,
                "options": [{"label": o["label"], "description": o["description"]}
                            for o in ASK_OPTIONS]}])
            self.assertEqual((s.get("attention") or {}).get("kind"), "question", s)
            self.assertIn(QUESTION, (s.get("attention") or {}).get("text", ""))

        with self.step("answering in the terminal clears it"):
            self.wait_dialog()
            self.tmux.send_keys("2")
            self.tmux.wait_for("ANSWER-RECEIVED")
            s = self.wait(lambda s: s["status"] != "needs_attention" and not s["pending_questions"],
                          "the question cleared")
            s = self.wait(lambda s: s["status"] == "done", "status done after the answer")
            self.assertFalse(s.get("attention"), s)

        with self.step("a reply ending in a question needs attention"):
            self.type_prompt("PROSE? what next")
            self.tmux.wait_for(PROSE_QUESTION)
            s = self.wait(lambda s: s["status"] == "needs_attention",
                          "status needs_attention for the prose question")
            attention = s.get("attention") or {}
            self.assertEqual(attention.get("kind"), "prose_question", s)
            self.assertEqual(attention.get("text"), PROSE_QUESTION, s)
            self.assertEqual(s["pending_questions"], [])

        with self.step("the conversation while it runs"):
            # Claude Code flushes its transcript in batches, after the Stop hook: poll
            self.poll_conversation()

        with self.step("/exit removes it"):
            self.exit_and_wait_gone()

        with self.step("the conversation after exit"):
            self.poll_conversation(project_dir=self.project)

        with self.step("the run stayed fast"):
            self.assertLess(time.monotonic() - started, 60)

    def test_a_prose_question_opens_onto_the_prompt_that_led_to_it(self) -> None:
        """Issue 18: typed prompt -> prose question, again and again. When the card shows the
        question (its `session` event), the conversation answers with everything the transcript
        holds at that moment, and an open panel (a follower) gets the prompt and the question
        without any further hook, even when Claude Code writes them after its Stop hook."""
        rounds = 6
        self.fake.claude_rules.insert(0, lambda turn: ClaudeReply.text(
            "Round %s looked fine.\n\nShall I go on with round %s?" % ((turn.prompt[6:-1],) * 2))
            if re.match(r"^ROUND \d+\?$", turn.prompt) else None)
        self.start_amc()
        self.launch_claude()
        port = int(self.amc.url.rsplit(":", 1)[1])
        follower = SSEClient(port, "/api/stream?follow=" + self.session_id)
        self.addCleanup(follower.close)
        # the panel is open (no transcript yet: Claude Code writes it with the first prompt)
        follower.until(lambda e: e["event"] == "snapshot", STEP_TIMEOUT)
        behind = []
        for n in range(rounds):
            said, asked = "ROUND %d?" % n, "Shall I go on with round %d?" % n
            with self.step("round %d: the card shows the question" % n):
                self.type_prompt(said)
                event = follower.until(lambda e: e["event"] == "session" and (
                    e["data"].get("attention") or {}).get("text") == asked, STEP_TIMEOUT)
                with open(event["data"]["transcript_path"], "rb") as f:
                    held = _said(f.read())  # before the request leaves
                conv = self.amc.get("/api/conversation/" + self.session_id)
            with self.step("round %d: the answer holds all the file held" % n):
                texts = [m["content"] for m in conv["messages"]]
                for text in (said, asked):
                    if any(text in t for t in held):
                        self.assertTrue(any(text in t for t in texts),
                                        "%r is in the file but not in the answer: %s"
                                        % (text, texts[-4:]))
                    else:
                        behind.append((n, text))  # the CLI had not written it yet
            with self.step("round %d: the open panel catches up by itself" % n):
                def streamed(e: Dict[str, Any], text: str) -> bool:
                    return e["event"] == "messages" and any(
                        text in (m.get("content") or "") for m in e["data"]["messages"])
                for text in (said, asked):  # whether or not the request already had it
                    if not any(streamed(e, text) for e in follower.events):
                        follower.until(lambda e: streamed(e, text), STEP_TIMEOUT)
                self.tmux.wait_for(asked)
                self.wait(lambda s: s["status"] == "needs_attention", "the question waits")
        print("\n[issue 18] written by Claude Code after the card showed its question: %s"
              % (behind or "none"), flush=True)

    def test_escape_on_a_question_clears_attention(self) -> None:
        """Esc on the dialog fires no hook; AMC must still stop saying the session waits."""
        self.start_amc()
        self.launch_claude()
        with self.step("the question needs attention"):
            self.type_prompt("ASK: " + QUESTION)
            self.wait(lambda s: s["status"] == "needs_attention", "status needs_attention")
        with self.step("Esc in the terminal clears it"):
            self.wait_dialog()
            self.tmux.send_keys("Escape")
            s = self.wait(lambda s: s["status"] != "needs_attention", "the question cleared")
            self.assertEqual((s["status"], s["pending_questions"]), ("done", []), s)

    def test_a_question_answered_in_the_terminal_refuses_a_late_answer_from_the_page(self) -> None:
        """The card shows the question, the user answers it in the terminal: the card clears, and
        the page's answer that arrives afterwards is refused (409) with nothing typed."""
        self.start_amc()
        self.launch_claude()
        with self.step("the question is on the card"):
            self.type_prompt("ASK: " + QUESTION)
            s = self.wait(lambda s: s["status"] == "needs_attention" and s["pending_questions"],
                          "the question on the card")
            self.assertEqual(s["pending_questions"][0]["question"], QUESTION)
            self.wait_dialog()
        with self.step("answered in the terminal, the card clears"):
            self.tmux.send_keys("2")
            self.tmux.wait_for("ANSWER-RECEIVED")
            self.wait(lambda s: s["status"] != "needs_attention" and not s["pending_questions"],
                      "the question left the card")
            done = self.wait(lambda s: s["status"] == "done", "status done after the answer")
            # Claude Code writes a turn's lines up to ~100 ms after its Stop hook (more under
            # load): the refusal's words come from the tool result, once the file holds it
            deadline = time.monotonic() + 10
            while claude_questions.latest(done["transcript_path"]) is None \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
        with self.step("the page's late answer is refused, nothing typed"):
            requests = len(self.fake.requests_to("/v1/messages"))
            before = _input_line(self.tmux.capture())
            for body in ({"text": "3", "questionIndex": 0},
                         {"text": "Postgres", "freeform": True, "optionCount": 3,
                          "questionIndex": 0}):
                status, answer = self.amc.post("/api/respond/" + self.session_id, body)
                self.assertEqual(status, 409, answer)
                self.assertEqual(answer.get("ok"), False, answer)
                self.assertTrue(answer["error"].startswith(
                    "the question was closed: answered in the terminal"), answer)
            time.sleep(1.0)
            self.assertEqual(_input_line(self.tmux.capture()), before)
            self.assertEqual(len(self.fake.requests_to("/v1/messages")), requests)
            self.assertEqual((self.amc.session(self.session_id) or {}).get("status"), "done")

    def test_session_without_hooks_comes_from_the_live_registry(self) -> None:
        """No `amc hooks install`: Claude Code's own sessions/<pid>.json still shows the session."""
        with self.step("amc serve without hooks"):
            self.serve()
        s = self.launch_claude()
        with self.step("it appears from the registry with its pane"):
            self.assertEqual((s["source"], s["agent"], s["project"]),
                             ("registry", "claude", "demo-proj"), s)
            self.assertEqual(s["tmux_pane"], self.tmux.pane)
            # The registry says "busy" for a moment while the CLI starts up, then "idle".
            s = self.wait(lambda s: s["status"] == "starting", "status starting (registry idle)")
            self.assertGreater(s["pid"], 0)
            self.assertFalse(os.path.exists(os.path.join(self.home.data_dir, "sessions",
                                                         self.session_id + ".json")))
        with self.step("a finished prompt shows it idle, with its conversation"):
            self.type_prompt("hello there")
            self.tmux.wait_for("OK: hello there")
            s = self.wait(lambda s: s["status"] == "done", "status done (registry idle)")
            self.assertTrue(s["transcript_path"].endswith(self.session_id + ".jsonl"), s)
            self.poll_conversation(check=lambda conv: self.assertEqual(
                [m["content"] for m in conv["messages"]][:2], ["hello there", "OK: hello there"]))
        with self.step("a dead process is not live"):
            self.exit_and_wait_gone()

    def exit_and_wait_gone(self) -> None:
        """Type /exit, wait for the pane to close and the session to leave /api/state."""
        self.type_prompt("/exit")
        self.tmux.wait_gone()
        self.amc.wait_state(
            lambda st: all(x.get("session_id") != self.session_id for x in st["sessions"]),
            "the session gone from /api/state")

    def poll_conversation(self, timeout: float = STEP_TIMEOUT, check: Any = None,
                          **params: str) -> None:
        """Fetch the conversation until it passes `check` (default: the scenario's) or times out.

        Claude Code writes its transcript a little after the screen and the hooks show a turn.
        """
        deadline = time.monotonic() + timeout
        while True:
            conv = self.amc.get("/api/conversation/" + self.session_id, **params)
            try:
                (check or self.check_conversation)(conv)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def test_answers_from_the_dashboard_reach_the_tui(self) -> None:
        """POST /api/respond types into the pane: a prompt, an option, a free-text answer."""
        self.start_amc()
        self.launch_claude()
        with self.step("respond with nothing pending submits a prompt"):
            self.respond({"text": "hello from amc"})
            self.tmux.wait_for("OK: hello from amc")
            self.wait(lambda s: s["status"] == "done", "status done")
        with self.step("a multi-line respond is one prompt"):
            self.respond({"text": "first line\nsecond line"})
            self.tmux.wait_for("OK: first line")
            prompts = [r.get("prompt") for r in self.fake.requests_to("/v1/messages")]
            self.assertIn("first line\nsecond line", prompts)
            self.wait(lambda s: s["status"] == "done", "status done")
        with self.step("respond with an option number answers AskUserQuestion"):
            self.type_prompt("ASK: " + QUESTION)
            self.wait(lambda s: s["status"] == "needs_attention", "status needs_attention")
            self.wait_dialog()
            self.respond({"text": "3"})
            self.tmux.wait_for('"%s"="Gamma"' % QUESTION)
            self.wait(lambda s: s["status"] == "done" and not s["pending_questions"],
                      "status done after the answer")
        with self.step("respond with freeform text answers AskUserQuestion"):
            self.type_prompt("ASK: Which color should the button be?")
            self.wait(lambda s: s["status"] == "needs_attention", "status needs_attention")
            self.wait_dialog()
            self.respond({"text": "teal with a dark border", "freeform": True, "optionCount": 3})
            self.tmux.wait_for('="teal with a dark border"')
            self.wait(lambda s: s["status"] == "done" and not s["pending_questions"],
                      "status done after the free-text answer")

    def test_permission_prompts_allowed_and_denied_from_amc(self) -> None:
        """`--permission-mode default`: "1" allows the Bash command once, the last option denies."""
        self.start_amc()
        self.launch_claude("--permission-mode", "default")
        allowed = os.path.join(self.project, "allowed.txt")
        denied = os.path.join(self.project, "denied.txt")
        with self.step("a Bash command waits for permission"):
            self.type_prompt("BASH: touch allowed.txt")
            s = self.wait(lambda s: (s.get("attention") or {}).get("kind") == "permission",
                          "a pending permission")
            self.assertEqual((s["attention"]["tool"], s["attention"]["summary"]),
                             ("Bash", "touch allowed.txt"), s)
            self.tmux.wait_for("Do you want to proceed?")
        with self.step("AMC reads the options off the screen"):
            s = self.wait(lambda s: s["attention"].get("options_count"), "options_count")
            options = s["attention"]["options"]
            self.assertEqual(options[0], "Yes", options)
            self.assertEqual(options[-1], "No", options)
        with self.step("respond 1 allows it once"):
            answer = self.respond({"text": "1"})
            self.assertIn(self.tmux.pane, answer["delivered_to"])
            self.tmux.wait_for("TOOL-DONE")
            self.assertTrue(os.path.exists(allowed), "the allowed command did not run")
            self.wait(lambda s: s["status"] == "done", "status done after the command")
        with self.step("the last option denies"):
            self.type_prompt("BASH: touch denied.txt")
            s = self.wait(lambda s: (s.get("attention") or {}).get("kind") == "permission"
                          and s["attention"].get("options_count"), "a second permission")
            self.assertIn("touch denied.txt", s["attention"]["summary"])
            self.respond({"text": str(s["attention"]["options_count"])})
            s = self.wait(lambda s: s["status"] != "needs_attention", "the prompt answered")
            time.sleep(1)
            self.assertFalse(os.path.exists(denied), "the denied command ran")
            self.assertNotIn("Do you want to proceed?", self.tmux.capture())

    def test_a_prompt_sent_while_claude_works_is_queued_and_runs_next(self) -> None:
        """Claude Code queues a prompt typed during a turn; AMC confirms by its queue record."""
        gate = threading.Event()
        self.addCleanup(gate.set)
        self.fake.claude_rules.insert(0, lambda turn: ClaudeReply.text(
            "OK: " + turn.prompt, gate=gate) if turn.prompt == "long task" else None)
        self.start_amc()
        self.launch_claude()
        with self.step("a prompt while the first still runs"):
            self.type_prompt("long task")
            self.wait(lambda s: s["status"] == "active", "status active")
            answer = self.respond({"text": "then this one"})
            # its queue record, or (when Claude Code takes it at once) its UserPromptSubmit
            self.assertIn(answer["confirmed_by"], ("queued by Claude Code until its turn ends",
                                                   "hook event UserPromptSubmit"))
        with self.step("it runs when the turn ends"):
            gate.set()
            self.tmux.wait_for("OK: then this one")
            self.wait(lambda s: s["status"] == "done", "status done")

    def test_several_questions_and_a_multiselect_answered_one_by_one(self) -> None:
        """Two questions (the first multiSelect): each answer is confirmed, the last submits."""
        questions = [
            {"question": "Which checks should run?", "header": "Checks", "multiSelect": True,
             "options": [{"label": "Lint", "description": "ruff"},
                         {"label": "Types", "description": "mypy"},
                         {"label": "Tests", "description": "unit"}]},
            {"question": "Deploy after?", "header": "Deploy", "multiSelect": False,
             "options": [{"label": "Yes", "description": "ship"},
                         {"label": "No", "description": "wait"}]}]
        self.fake.claude_rules.insert(0, lambda turn: ClaudeReply.tool(
            "AskUserQuestion", {"questions": questions}) if turn.prompt == "MULTI" else None)
        self.start_amc()
        self.launch_claude()
        with self.step("two questions pending"):
            self.type_prompt("MULTI")
            self.wait(lambda s: len(s["pending_questions"]) == 2, "two pending questions")
            self.tmux.wait_for("Chat about this")
        with self.step("the multiSelect answer moves the dialog on"):
            answer = self.respond({"text": "1,3", "questionIndex": 0})
            self.assertEqual(answer["confirmed_by"], "the dialog moved to the next question")
        with self.step("the last answer submits both"):
            self.respond({"text": "2", "questionIndex": 1})
            self.tmux.wait_for("ANSWER-RECEIVED")
            screen = self.tmux.wait_for('"Deploy after?"="No"')
            self.assertIn('"Which checks should run?"="Lint, Tests"', screen)
            self.wait(lambda s: s["status"] == "done" and not s["pending_questions"], "done")

    def test_respond_without_the_token_types_nothing(self) -> None:
        """A request without X-AMC-Token (or with a wrong one) is refused and nothing is typed."""
        self.start_amc()
        self.launch_claude()
        with self.step("refused without a token"):
            self.tmux.wait_for("\u276f")
            before = _input_line(self.tmux.capture())
            for token in ("", "wrong-token"):
                status, answer = self.amc.post("/api/respond/" + self.session_id,
                                               {"text": "INJECTED-TEXT"}, token=token)
                self.assertEqual((status, answer.get("ok")), (403, False), answer)
            time.sleep(1)
            screen = self.tmux.capture()
            self.assertNotIn("INJECTED-TEXT", screen)
            self.assertEqual(_input_line(screen), before)  # (the logo animates: not the screen)
            self.assertEqual([r.get("prompt") for r in self.fake.requests_to("/v1/messages")
                              if r.get("prompt") == "INJECTED-TEXT"], [])
        with self.step("the same request with the token goes through"):
            self.respond({"text": "INJECTED-TEXT"})
            self.tmux.wait_for("OK: INJECTED-TEXT")

    def check_conversation(self, conv: Dict[str, Any]) -> None:
        self.assertEqual(conv.get("session_id"), self.session_id, conv)
        messages = conv["messages"]
        users = [m["content"] for m in messages if m["role"] == "user" and m["content"]]
        replies = [m["content"] for m in messages if m["role"] == "assistant" and m["content"]]
        _assert_in_order(self, ["hello there", "ASK: " + QUESTION, "PROSE? what next"],
                         users, "user prompts")
        answer = 'ANSWER-RECEIVED: Your questions have been answered: "%s"="Beta"' % QUESTION
        self.assertTrue(any(r.startswith(answer) for r in replies), replies)
        _assert_in_order(self, ["OK: hello there", answer,
                                "I looked at the code.\n\n" + PROSE_QUESTION],
                         replies, "assistant replies", prefix=True)
        calls = [c for m in messages for c in m.get("tool_calls") or []]
        asks = [c for c in calls if c.get("name") == "AskUserQuestion"]
        self.assertEqual(len(asks), 1, calls)
        self.assertEqual(asks[0]["input"]["questions"][0]["question"], QUESTION)
        self.assertIn('"%s"="Beta"' % QUESTION, _text(asks[0].get("result")), asks[0])
        self.assertFalse(asks[0].get("is_error"), asks[0])
        ids = [m["id"] for m in messages]
        self.assertEqual(len(ids), len(set(ids)), "message ids are not unique: %s" % ids)
        for m in messages:
            self.assertTrue(m["id"].startswith("claude-%s-" % self.session_id[:8]), m["id"])
            for key in ("role", "content", "timestamp", "tool_calls", "thinking"):
                self.assertIn(key, m)


def _said(data: bytes) -> List[str]:
    """Return the texts of the user and assistant lines a transcript holds (finished lines only;
    a prompt also appears in other records, as `queue-operation`, that are no message)."""
    out = []
    for raw in data.split(b"\n")[:-1]:
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("type") not in ("user", "assistant"):
            continue
        content = (record.get("message") or {}).get("content")
        blocks = [content] if isinstance(content, str) else [
            b.get("text") for b in content or () if isinstance(b, dict)]
        out += [b for b in blocks if isinstance(b, str)]
    return out


def _hook_commands(settings: Dict[str, Any]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for event, groups in (settings.get("hooks") or {}).items():
        for group in groups or []:
            for hook in group.get("hooks") or []:
                out.setdefault(event, []).append(hook.get("command", ""))
    return out


def _input_line(screen: str) -> str:
    """Return the TUI's input line (the last line starting with the ❯ prompt)."""
    lines = [line for line in screen.splitlines() if line.startswith("\u276f")]
    return lines[-1] if lines else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _assert_in_order(test: unittest.TestCase, wanted: List[str], got: List[str], what: str,
                     prefix: bool = False) -> None:
    """Assert each of `wanted` appears in `got` (exactly, or as a prefix), in that order."""
    i = 0
    for item in got:
        if i < len(wanted) and (item.startswith(wanted[i]) if prefix else item == wanted[i]):
            i += 1
    test.assertEqual(i, len(wanted), "%s: wanted %s in order, got %s" % (
        what, json.dumps(wanted), json.dumps(got, indent=1)))


if __name__ == "__main__":
    unittest.main()
