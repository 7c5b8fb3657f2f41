"""What AMC types into Claude Code's TUI for each answer (agents/claude/screen.py), on real screens.

The screens are the ones recorded from Claude Code 2.1.329, 2.1.332 and 2.1.337 in tests/fixtures
(`RecordedScreens` reads the same steps in each version's recording: 2.1.337 dropped the
permission dialog's "Tip: auto mode ..." line and starts tool rows with `●`; the footer warns
"tmux focus-events off" under tmux); the e2e tests (test_e2e_claude.py) prove these plans work
against the live TUI.
"""
import os
import unittest

from tests.support.helpers import ROOT

from amc_server import keystrokes as ks
from amc_server import model
from amc_server.agents.claude import screen as claude_screen
from amc_server.agents.answers import Answer, Refused

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "claude-code-2.1.329")


def first_screen(scenario: str) -> str:
    with open(os.path.join(FIXTURES, scenario, "screens.txt"), encoding="utf-8") as f:
        return f.read().split("=====")[0]


QUESTION = {"question": "Which database should we use?", "header": "Choice", "multiSelect": False,
            "options": [{"label": "Alpha", "description": "first"},
                        {"label": "Beta", "description": "second"},
                        {"label": "Gamma", "description": "third"}]}
MULTI = dict(QUESTION, question="Which checks?", multiSelect=True)


def asking(*questions):
    return model.new_session("s", status=model.NEEDS_ATTENTION, pending_questions=list(questions),
                             attention={"kind": "question", "text": questions[0]["question"]})


def permission(options=()):
    return model.new_session("s", status=model.NEEDS_ATTENTION, attention={
        "kind": "permission", "tool": "Bash", "summary": "touch x", "text": "",
        "options": list(options)})


class Plans(unittest.TestCase):
    def plan(self, session, text, screen="", **kw):
        return claude_screen.answer_plan(session, Answer(text, **kw), 200, screen)

    def test_an_option_is_its_digit_alone(self):
        self.assertEqual(self.plan(asking(QUESTION), "2", first_screen("ask-option")),
                         [ks.text("2")])

    def test_free_text_goes_through_type_something(self):
        self.assertEqual(self.plan(asking(QUESTION), "Postgres please"), [
            ks.text("4"), ks.pause(150), ks.text("Postgres please"), ks.pause(200),
            ks.key("Enter")])
        self.assertEqual(self.plan(asking(QUESTION), "3", freeform=True, option_count=3)[0],
                         ks.text("4"))  # freeform: "3" is the answer text, not option 3

    def test_multiselect_toggles_then_tabs_and_submits_the_review(self):
        self.assertEqual(self.plan(asking(MULTI), "3,1"), [
            ks.text("1"), ks.pause(80), ks.text("3"), ks.pause(80), ks.key("Tab"),
            ks.pause(500), ks.text("1")])

    def test_several_questions_submit_only_after_the_last(self):
        session = asking(QUESTION, dict(QUESTION, question="Deploy?"))
        self.assertEqual(self.plan(session, "2", question_index=0), [ks.text("2")])
        self.assertEqual(self.plan(session, "1", question_index=1),
                         [ks.text("1"), ks.pause(500), ks.text("1")])
        self.assertEqual(claude_screen.screen_confirms(
            session, Answer("2", question_index=0), "Which database", "Deploy? ..."),
            "the dialog moved to the next question")
        self.assertEqual(claude_screen.screen_confirms(
            session, Answer("2", question_index=0), "Deploy?", "Deploy?"), "")

    def test_numbers_out_of_range_or_too_many_are_refused(self):
        for text in ("0", "4", "1,2"):
            with self.assertRaises(Refused) as ctx:
                self.plan(asking(QUESTION), text)
            self.assertEqual(ctx.exception.status, 400, text)

    def test_permission_options_are_read_off_the_screen(self):
        screen = first_screen("permission-prompt")
        options = claude_screen.permission_options(screen)
        self.assertEqual((len(options), options[0], options[-1]), (4, "Yes", "No"))
        self.assertEqual(claude_screen.permission_options(first_screen("ask-option")), [])
        self.assertEqual(claude_screen.permission_options(
            " Do you want to make this edit to a.py?\n ❯ 1. Yes\n   2. Yes, allow all edits\n"
            "   3. No\n"), ["Yes", "Yes, allow all edits", "No"])
        # an unknown heading is found by its shape: 1. Yes ... N. No
        self.assertEqual(claude_screen.permission_options("Shall I?\n❯ 1. Yes\n  2. No\n"),
                         ["Yes", "No"])

    def test_a_permission_takes_one_number_in_range_and_nothing_else(self):
        screen = first_screen("permission-prompt")
        self.assertEqual(self.plan(permission(), "4", screen), [ks.text("4")])
        for text in ("5", "yes", "1,2"):
            with self.assertRaises(Refused) as ctx:
                self.plan(permission(), text, screen)
            self.assertEqual(ctx.exception.status, 400)

    def test_no_screen_trusts_the_hooks(self):
        # (a screen without the dialog is refused by delivery: test_delivery.py)
        idle = "\u276f \n"
        self.assertFalse(claude_screen.dialog_ready(permission(["Yes", "No"]), idle))
        self.assertFalse(claude_screen.dialog_ready(asking(QUESTION), idle))
        self.assertTrue(claude_screen.dialog_ready(asking(QUESTION), first_screen("ask-option")))
        self.assertEqual(self.plan(permission(["Yes", "No"]), "2"), [ks.text("2")])

    def test_with_nothing_pending_text_is_a_prompt_even_while_the_agent_works(self):
        done = model.new_session("s", status=model.DONE)
        self.assertEqual(self.plan(done, "go on"),
                         [ks.text("go on"), ks.pause(200), ks.key("Enter")])
        self.assertEqual(self.plan(done, "a\nb")[0], ks.paste("a\nb"))
        self.assertEqual(self.plan(model.new_session("s", status=model.ACTIVE), "more"),
                         [ks.text("more"), ks.pause(200), ks.key("Enter")])  # Claude queues it
        with self.assertRaises(Refused):
            self.plan(done, "   ")

    def test_a_prompt_sent_during_a_turn_is_confirmed_only_by_its_own_queue_record(self):
        answer = Answer("run  the\nlinter")
        busy_records = [{"type": "assistant", "message": {"content": "working"}},
                        {"type": "queue-operation", "operation": "enqueue", "content": "other"}]
        self.assertEqual(claude_screen.queued_confirms(answer, [], busy_records), "")
        self.assertEqual(claude_screen.queued_confirms(answer, [], busy_records + [
            {"type": "queue-operation", "operation": "enqueue", "content": "run the linter"}]),
            "queued by Claude Code until its turn ends")
        self.assertEqual(claude_screen.queued_confirms(answer, [
            {"event": "UserPromptSubmit", "payload": {"prompt": "run the\nlinter"}}], []),
            "hook event UserPromptSubmit")


def screens(version: str, scenario: str) -> dict:
    """Return {label: screen} of one recording's screens.txt (each step after a `label:` line)."""
    path = os.path.join(ROOT, "tests", "fixtures", "claude-code-%s" % version, scenario,
                        "screens.txt")
    with open(path, encoding="utf-8") as f:
        steps = [step.strip("\n") for step in f.read().split("=====")]
    return {step.split("\n", 1)[0]: step.split("\n", 1)[1] for step in steps if step.strip()}


class RecordedScreens:
    """The screen readers on one version's recorded screens (a subclass per version)."""
    VERSION = ""

    def screen(self, scenario: str, label: str) -> str:
        return screens(self.VERSION, scenario)[label]

    def assert_no_dialog(self, screen: str) -> None:
        self.assertEqual(claude_screen.permission_options(screen), [])
        self.assertIsNone(claude_screen.start_dialog(screen))
        self.assertFalse(claude_screen.dialog_ready(permission(["Yes", "No"]), screen))
        self.assertFalse(claude_screen.dialog_ready(asking(QUESTION), screen))

    def test_the_permission_dialog_is_read_with_or_without_its_tip(self):
        screen = self.screen("permission-prompt", "after 'BASH: touch made-by-agent.txt':")
        self.assertEqual("Tip: auto mode handles these prompts" in screen,
                         self.VERSION == "2.1.332")  # 2.1.337 dropped it
        options = claude_screen.permission_options(screen)
        self.assertEqual((len(options), options[0], options[-1]), (4, "Yes", "No"))
        self.assertTrue(options[2].startswith("Yes, and switch to auto mode"))
        self.assertTrue(claude_screen.dialog_ready(permission(), screen))
        self.assertFalse(claude_screen.dialog_ready(asking(QUESTION), screen))
        self.assertIsNone(claude_screen.start_dialog(screen))
        plan = claude_screen.answer_plan(permission(), Answer("4"), 200, screen)
        self.assertEqual(plan, [ks.text("4")])
        with self.assertRaises(Refused):
            claude_screen.answer_plan(permission(), Answer("5"), 200, screen)

    def test_the_channel_recording_s_permission_dialogs_are_read_and_gone_once_answered(self):
        steps = screens(self.VERSION, "channel")
        asked = [label for label in steps if label.startswith(("permission prompt for",
                                                                "a channel turn asked"))]
        self.assertEqual(len(asked), 2)
        for label in asked:
            options = claude_screen.permission_options(steps[label])
            self.assertEqual((len(options), options[0], options[-1]), (4, "Yes", "No"), label)
        self.assert_no_dialog(steps["final:"])

    def test_an_idle_screen_with_the_focus_events_warning_shows_no_dialog(self):
        screen = self.screen("permission-prompt", "after keys '1':")
        self.assertIn("tmux focus-events off", screen)  # the footer's warning under tmux
        self.assert_no_dialog(screen)

    def test_a_running_tool_row_is_not_a_dialog(self):
        screen = self.screen("interrupt", "while `sleep 5` runs:")
        row = [line for line in screen.splitlines() if "Running a command" in line]
        self.assertEqual(len(row), 1)
        self.assertEqual(row[0].startswith("\u25cf"), self.VERSION == "2.1.337")  # ● from 2.1.337
        self.assert_no_dialog(screen)

    def test_the_question_dialog_is_ready_and_closes_after_the_digit(self):
        steps = screens(self.VERSION, "ask-option")
        asked = steps["after 'ASK: Which database should we use?':"]
        self.assertTrue(claude_screen.dialog_ready(asking(QUESTION), asked))
        self.assertEqual(claude_screen.permission_options(asked), [])
        self.assert_no_dialog(steps["after keys '2':"])

    def test_the_development_channels_warning_is_a_start_dialog(self):
        screen = self.screen("channel", "the development-channels warning at start:")
        dialog = claude_screen.start_dialog(screen)
        self.assertEqual(dialog["options"], ["I am using this for local development", "Exit"])
        self.assertEqual(dialog["selected"], 1)
        self.assertIn("WARNING: Loading development channels", dialog["text"])
        self.assert_no_dialog(self.screen("channel", "after Enter: ready, the channel connected:"))


class Screens2_1_332(RecordedScreens, unittest.TestCase):
    VERSION = "2.1.332"


class Screens2_1_337(RecordedScreens, unittest.TestCase):
    VERSION = "2.1.337"


class HookDecisions(unittest.TestCase):
    def decide(self, session, text, kind, **kw):
        return claude_screen.hook_decision(session, Answer(text, **kw), {"kind": kind})

    def test_options_become_labels_and_text_goes_verbatim(self):
        self.assertEqual(self.decide(asking(QUESTION), "2", "question"),
                         {"kind": "question", "answers": {QUESTION["question"]: "Beta"}})
        self.assertEqual(self.decide(asking(MULTI), "3,1", "question"),
                         {"kind": "question", "answers": {"Which checks?": ["Alpha", "Gamma"]}})
        self.assertEqual(self.decide(asking(QUESTION), "2", "question", freeform=True),
                         {"kind": "question", "answers": {QUESTION["question"]: "2"}})

    def test_allow_deny_and_what_must_be_typed_instead(self):
        self.assertEqual(self.decide(permission(["Yes", "Always", "No"]), "1", "permission"),
                         {"kind": "permission", "behavior": "allow"})
        self.assertEqual(self.decide(permission(["Yes", "Always", "No"]), "3", "permission"),
                         {"kind": "permission", "behavior": "deny"})
        self.assertIsNone(self.decide(permission(["Yes", "Always", "No"]), "2", "permission"))
        self.assertIsNone(self.decide(permission(), "3", "permission"))  # options unknown
        two = asking(QUESTION, dict(QUESTION, question="Deploy?"))
        self.assertIsNone(self.decide(two, "1", "question"))  # one of several: typed


if __name__ == "__main__":
    unittest.main()
