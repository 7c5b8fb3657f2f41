"""End to end: hook answers with the real Claude Code TUI (pinned in tests/support/tools.py) in a
private tmux.

`amc hooks install --hook-answers` makes the PermissionRequest hook `amc-hook --wait-answer`; a
real `amc serve` runs (the hook waits only when AMC runs). Claude Code draws its dialog while the
hook waits, so each test checks the dialog is on screen, then answers through
`hook_answers.answer` (what /api/respond calls) with no keystroke, and checks what the model got
(the fake model's requests) and what the hooks saw. The terminal stays in charge: a key there wins
and ends the wait; Esc ends the hook; a hook that times out leaves the dialog to the terminal.
"""
import json
import os
import time
import unittest
from typing import Any, Dict, List

from tests.support import tools
from tests.support.amcproc import run_amc
from tests.support.e2ecase import AgentTuiCase
from tests.support.fakemodel_rules import tool_result_text

from amc_server.hook import wait as hook_answers
from amc_server.paths import get_paths

QUESTION = "Which database should we use?"
STEP_TIMEOUT = 15


class HookAnswersE2E(AgentTuiCase):
    """Real Claude Code answered through the waiting PermissionRequest hook (~5-10 s each)."""

    step_timeout = STEP_TIMEOUT

    def setUp(self) -> None:
        super().setUp()
        self.claude = tools.require("claude")
        self.home.write_claude_json([self.project])
        self.paths = get_paths(self.amc_env)

    def failure_context(self) -> str:
        return "--- events ---\n%s\n" % "\n".join(self.event_names())

    def start(self, wait_answer: str = "--wait-answer") -> None:
        """Install hooks with hook answers, start AMC and Claude Code (permission prompts on)."""
        with self.step("amc hooks install --hook-answers"):
            proc = run_amc(["hooks", "install", "--hook-answers"], self.amc_env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            settings = self.home.claude_settings()
            [entry] = [h for g in settings["hooks"]["PermissionRequest"] for h in g["hooks"]]
            self.assertTrue(entry["command"].endswith(" --wait-answer"), entry)
            if wait_answer != "--wait-answer":  # a shorter wait, to watch the timeout
                entry["command"] = entry["command"].replace("--wait-answer", wait_answer)
                with open(os.path.join(self.home.claude_dir, "settings.json"), "w") as f:
                    json.dump(settings, f)
        with self.step("amc serve"):
            self.serve()
        with self.step("Claude Code starts in tmux"):
            self.tmux.new_session([self.claude, "--permission-mode", "default"], self.project,
                                  self.home.env(self.fake.url))
            self.tmux.wait_for("\u276f", timeout=30)
            s = self.amc.wait_session(lambda s: s.get("project_dir") == self.project,
                                      "a session for %s" % self.project)
            self.session_id = s["session_id"]

    def waiter(self, kind: str, timeout: float = STEP_TIMEOUT) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            w = hook_answers.waiting(self.paths, self.session_id)
            if w is not None and w["kind"] == kind:
                return w
            if time.monotonic() > deadline:
                raise AssertionError("no waiting %s hook (waiting/ holds %r)" % (
                    kind, os.listdir(os.path.dirname(
                        hook_answers.waiting_file(self.paths, self.session_id)))
                    if os.path.isdir(os.path.join(self.paths.data, "waiting")) else "nothing"))
            time.sleep(0.05)

    def no_waiter(self, timeout: float = 3) -> None:
        deadline = time.monotonic() + timeout
        # an expired waiter stops counting at once; its file goes when the hook exits, just after
        while hook_answers.waiting(self.paths, self.session_id) is not None or \
                os.path.exists(hook_answers.waiting_file(self.paths, self.session_id)):
            if time.monotonic() > deadline:
                raise AssertionError("the hook still waits (or left its file) after %.0fs"
                                     % timeout)
            time.sleep(0.05)

    def wait_question_dialog(self) -> None:
        self.tmux.wait_for(lambda screen: "Chat about this" in screen and "third" in screen)
        time.sleep(0.5)  # the dialog drops keys in its first ~0.1 s

    def answer(self, waiter: Dict[str, Any], body: Dict[str, Any]) -> None:
        record = hook_answers.answer(self.paths, self.session_id, waiter, body)
        self.assertTrue(hook_answers.wait_delivered(self.paths, self.session_id, record),
                        "the waiting hook did not take the answer")

    def events(self) -> List[Dict[str, Any]]:
        try:
            with open(self.paths.events_file(self.session_id)) as f:
                return [json.loads(line)["payload"] for line in f if line.strip()]
        except (OSError, ValueError):
            return []

    def event_names(self) -> List[str]:
        return ["%s %s" % (e.get("hook_event_name"), e.get("tool_name") or "")
                for e in self.events()]

    def tool_results(self) -> List[Dict[str, Any]]:
        """Return every tool_result block the model received, in order."""
        seen, out = set(), []
        for r in self.fake.requests_to("/v1/messages"):
            for m in (r["body"] or {}).get("messages") or []:
                content = m.get("content") if isinstance(m, dict) else None
                for b in content if isinstance(content, list) else []:
                    if isinstance(b, dict) and b.get("type") == "tool_result" and \
                            b.get("tool_use_id") not in seen:
                        seen.add(b.get("tool_use_id"))
                        out.append(b)
        return out

    def post_tool_use(self, tool: str) -> Dict[str, Any]:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            found = [e for e in self.events() if e.get("hook_event_name") == "PostToolUse"
                     and e.get("tool_name") == tool]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError("no PostToolUse for %s: %s" % (tool, self.event_names()))
            time.sleep(0.1)

    # -- the scenarios
    def test_api_respond_goes_through_the_waiting_hook(self) -> None:
        """/api/respond prefers a waiting hook: the dialog closes by the hook, no key is typed."""
        self.start()
        with self.step("an option number becomes the option's label"):
            self.tmux.type_line("ASK: " + QUESTION)
            self.waiter("question")
            self.amc.wait_session(lambda s: s["status"] == "needs_attention", "needs attention",
                                  session_id=self.session_id)
            status, answer = self.amc.post("/api/respond/" + self.session_id, {"text": "3"})
            self.assertEqual((status, answer.get("ok")), (200, True), answer)
            self.assertEqual(answer["delivered_to"], "Claude Code's PermissionRequest hook")
            # PostToolUse, or the transcript or Claude's registry turning busy a moment before it
            self.assertIn(answer["confirmed_by"], ("hook event PostToolUse", "registry says busy",
                                                   "transcript grew"))
            self.tmux.wait_for('"%s"="Gamma"' % QUESTION)
            self.assertIn("PermissionRequest hook", self.tmux.capture())
            self.no_waiter()
            self.amc.wait_session(lambda s: s["status"] == "done", "status done",
                                  session_id=self.session_id)
        with self.step("a permission: 1 allows, the last option denies, through the hook"):
            self.tmux.type_line("BASH: touch via-hook.txt")
            self.waiter("permission")
            s = self.amc.wait_session(
                lambda s: (s.get("attention") or {}).get("options_count"), "options read",
                session_id=self.session_id)
            status, answer = self.amc.post("/api/respond/" + self.session_id, {"text": "1"})
            self.assertEqual((status, answer.get("ok")), (200, True), answer)
            self.assertEqual(answer["delivered_to"], "Claude Code's PermissionRequest hook")
            self.tmux.wait_for("TOOL-DONE")
            self.assertTrue(os.path.exists(os.path.join(self.project, "via-hook.txt")))
            self.amc.wait_session(lambda s: s["status"] == "done", "status done",
                                  session_id=self.session_id)
            self.tmux.type_line("BASH: touch not-via-hook.txt")
            self.waiter("permission")
            s = self.amc.wait_session(
                lambda s: (s.get("attention") or {}).get("options_count"), "options read",
                session_id=self.session_id)
            status, answer = self.amc.post("/api/respond/" + self.session_id,
                                           {"text": str(s["attention"]["options_count"])})
            self.assertEqual((status, answer.get("ok")), (200, True), answer)
            self.assertEqual(answer["delivered_to"], "Claude Code's PermissionRequest hook")
            self.tmux.wait_for("Denied by PermissionRequest hook")
            self.assertFalse(os.path.exists(os.path.join(self.project, "not-via-hook.txt")))

    def test_question_answered_through_the_hook_without_keystrokes(self) -> None:
        self.start()
        with self.step("the dialog is drawn while the hook waits"):
            self.tmux.type_line("ASK: " + QUESTION)
            w = self.waiter("question")
            self.assertEqual([o["label"] for o in w["questions"][0]["options"]],
                             ["Alpha", "Beta", "Gamma"])
            self.assertTrue(w["tool_use_id"].startswith("toolu_"), w)
            self.wait_question_dialog()
        with self.step("the hook's answer closes the dialog and reaches the model"):
            self.answer(w, {"kind": "question", "answers": {QUESTION: "Beta"}})
            self.tmux.wait_for('"%s"="Beta"' % QUESTION)
            self.assertEqual(self.post_tool_use("AskUserQuestion")["tool_response"]["answers"],
                             {QUESTION: "Beta"})
            [result] = self.tool_results()
            self.assertEqual(result["tool_use_id"], w["tool_use_id"])
            self.assertIn('"%s"="Beta"' % QUESTION, tool_result_text(result))
            self.no_waiter()
            self.amc.wait_session(lambda s: s["status"] == "done", "status done",
                                  session_id=self.session_id)
        with self.step("a free-text answer (not an option) goes through verbatim"):
            self.tmux.type_line("ASK: Which color should the button be?")
            w = self.waiter("question")
            self.answer(w, {"kind": "question", "answers": {
                "Which color should the button be?": "teal with a dark border"}})
            self.tmux.wait_for('="teal with a dark border"')

    def test_permission_allowed_and_denied_through_the_hook(self) -> None:
        self.start()
        allowed = os.path.join(self.project, "allowed.txt")
        denied = os.path.join(self.project, "denied.txt")
        with self.step("allow: the command runs"):
            self.tmux.type_line("BASH: touch allowed.txt")
            w = self.waiter("permission")
            self.assertEqual((w["tool_name"], w["summary"]), ("Bash", "touch allowed.txt"))
            self.tmux.wait_for("Do you want to proceed?")
            self.answer(w, {"kind": "permission", "behavior": "allow"})
            self.tmux.wait_for("TOOL-DONE")
            self.assertTrue(os.path.exists(allowed))
            self.assertIs(self.tool_results()[-1].get("is_error"), False)
            self.no_waiter()
        with self.step("deny: the command does not run, the model reads the reason"):
            self.tmux.type_line("BASH: touch denied.txt")
            w = self.waiter("permission")
            self.tmux.wait_for("touch denied.txt")
            self.answer(w, {"kind": "permission", "behavior": "deny",
                            "message": "Not now, from the dashboard"})
            self.tmux.wait_for("Denied by PermissionRequest hook")
            deadline = time.monotonic() + STEP_TIMEOUT
            while len(self.tool_results()) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            last = self.tool_results()[-1]
            self.assertEqual((last.get("is_error"), tool_result_text(last)),
                             (True, "Not now, from the dashboard"))
            self.assertFalse(os.path.exists(denied), "the denied command ran")
            self.assertNotIn("Do you want to proceed?", self.tmux.capture())

    def test_terminal_answer_first_wins_and_ends_the_wait(self) -> None:
        self.start()
        with self.step("a key in the terminal answers while the hook waits"):
            self.tmux.type_line("ASK: " + QUESTION)
            w = self.waiter("question")
            self.wait_question_dialog()
            self.tmux.send_keys("3")
            self.tmux.wait_for('"%s"="Gamma"' % QUESTION)
        with self.step("the hook sees the PostToolUse and stops waiting, silently"):
            self.no_waiter()
            [result] = self.tool_results()
            self.assertEqual(result["tool_use_id"], w["tool_use_id"])
        with self.step("Esc on a permission prompt ends the hook (SIGTERM)"):
            self.tmux.type_line("BASH: touch never.txt")
            self.waiter("permission")
            self.tmux.wait_for("Do you want to proceed?")
            time.sleep(0.5)
            self.tmux.send_keys("Escape")
            self.no_waiter()
            self.assertFalse(os.path.exists(os.path.join(self.project, "never.txt")))

    def test_hook_timeout_falls_back_to_the_terminal_dialog(self) -> None:
        self.start("--wait-answer=2")
        with self.step("the hook gives up after 2 s, printing nothing"):
            self.tmux.type_line("ASK: " + QUESTION)
            self.waiter("question")
            started = time.monotonic()
            self.no_waiter(timeout=5)
            self.assertGreater(time.monotonic() - started, 1.0)
        with self.step("the dialog is still there and takes the terminal's answer"):
            self.wait_question_dialog()
            self.tmux.send_keys("1")
            self.tmux.wait_for('"%s"="Alpha"' % QUESTION)
            self.assertEqual(self.post_tool_use("AskUserQuestion")["tool_response"]["answers"],
                             {QUESTION: "Alpha"})


if __name__ == "__main__":
    unittest.main()
