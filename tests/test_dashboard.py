"""The dashboard in a real Chromium against a real server, with sessions made by the real hook.

Every session here comes from the recorded Claude Code 2.1.329 hook payloads replayed through
bin/amc-hook, and every conversation from a recorded transcript in a temp CLAUDE_CONFIG_DIR, so the
page is tested against exactly what it will see. The selectors are the DOM contract the dashboard
promises (data-testid names, roles, data-* attributes); docs/api.md has the data shapes.
Screenshots land in tests/artifacts/ (git-ignored), and a failing test leaves FAILED-<name>.png.
"""
import json
import os
import re
import subprocess
import time
import unittest

from tests.browser import PHONE, DashboardTestCase
from tests.helpers import AMC, FIXTURES

HOSTILE = os.path.join(FIXTURES, "hostile", "hostile.jsonl")
# What Chromium itself logs when a request fails or answers an error status (not the page's code).
NETWORK_ERROR = r"Failed to load resource|net::ERR_"

QUESTION = "Which database should we use?"
PROSE = "Should I continue with the migration?"


class Fleet(DashboardTestCase):
    """Tests over one session in each status, made afresh in each test's own HOME."""

    def make_fleet(self):
        """Make one session per status, in three projects; return {name: session id}."""
        ids = {
            # AskUserQuestion pending: SessionStart, UserPromptSubmit, PreToolUse, PermissionRequest
            "ask": self.feed("ask-option", upto=4, project="alpha-proj", pane="%3"),
            # A reply ending in a question: up to (and with) the second Stop
            "prose": self.feed("chat-and-prose-question", upto=5, project="beta-proj", pane="%4"),
            # A finished tool turn: up to Stop
            "done": self.feed("bash-tool", upto=5, project="alpha-proj", pane="%5"),
            "starting": self.feed("bash-tool", upto=1, project="gamma-proj",
                                  session_id=self.new_id(), pane="%6"),
            "active": self.feed("chat-and-prose-question", start=1, upto=2, project="beta-proj",
                                session_id=self.new_id(), pane="%7"),
        }
        statuses = {s["session_id"]: s["status"] for s in self.get_json("/api/state")["sessions"]}
        self.assertEqual(statuses, {
            ids["ask"]: "needs_attention", ids["prose"]: "needs_attention", ids["done"]: "done",
            ids["starting"]: "starting", ids["active"]: "active"})
        return ids


class Overview(Fleet):
    @staticmethod
    def option_value(select, text):
        """Return the value (the DOM property: Preact sets no attribute) of the option `text`."""
        return select.locator("option", has_text=text).evaluate("o => o.value")

    def test_groups_in_status_order_with_counts_and_headings(self):
        ids = self.make_fleet()
        self.open_dashboard()
        expect = self.expect
        expected = [("needs_attention", "Needs attention", 2), ("active", "Active", 1),
                    ("starting", "Starting", 1), ("done", "Done", 1)]
        for status, label, count in expected:
            group = self.group(status)
            expect(group).to_have_attribute("data-count", str(count))
            heading = group.get_by_role("heading").first
            expect(heading).to_contain_text(label)
            expect(heading).to_contain_text(str(count))
            expect(group.locator('article[data-testid="session-card"]')).to_have_count(count)
        order = self.page.locator('[data-testid^="group-"]').evaluate_all(
            "els => els.map(e => e.dataset.testid)")
        self.assertEqual([t for t in order if t in {"group-" + s for s, _, _ in expected}],
                         ["group-" + s for s, _, _ in expected])
        self.assertEqual(set(self.card_ids()[:2]), {ids["ask"], ids["prose"]})
        self.assertEqual(self.card_ids()[2:], [ids["active"], ids["starting"], ids["done"]])
        self.screenshot("overview-1280-light")
        self.page.emulate_media(color_scheme="dark")
        self.screenshot("overview-1280-dark")

    def test_cards_show_project_agent_status_pane_and_reason(self):
        ids = self.make_fleet()
        self.open_dashboard()
        expect = self.expect
        want = {"ask": ("alpha-proj", "Needs attention", "%3"),
                "prose": ("beta-proj", "Needs attention", "%4"),
                "done": ("alpha-proj", "Done", "%5"),
                "starting": ("gamma-proj", "Starting", "%6"),
                "active": ("beta-proj", "Active", "%7")}
        for name, (project, status, pane) in want.items():
            card = self.card(ids[name])
            expect(card).to_be_visible()
            expect(card).to_have_attribute("tabindex", "0")
            expect(self.tid("project", card)).to_have_text(project)
            expect(self.tid("agent", card)).to_have_text("Claude")
            expect(self.tid("status", card)).to_have_text(status)
            expect(self.tid("pane", card)).to_contain_text(pane)
            expect(self.tid("status-age", card)).not_to_be_empty()
            expect(self.tid("reason", card)).to_have_count(1 if status == "Needs attention" else 0)
        expect(self.tid("reason", self.card(ids["ask"]))).to_contain_text(QUESTION)
        expect(self.tid("reason", self.card(ids["prose"]))).to_contain_text(PROSE)
        expect(self.tid("preview", self.card(ids["done"]))).to_contain_text("TOOL-DONE")
        expect(self.tid("preview", self.card(ids["active"]))).to_contain_text("hello there")

    def test_tab_title_counts_sessions_needing_attention_live(self):
        ids = self.make_fleet()
        self.open_dashboard()
        self.expect(self.page).to_have_title(re.compile(r"^\(2\) AMC"))
        # The question gets answered in the terminal: the next poll shows one fewer.
        self.feed("ask-option", start=4, upto=5, project="alpha-proj", session_id=ids["ask"])
        self.expect(self.page).to_have_title(re.compile(r"^\(1\) AMC"))
        self.expect(self.group("needs_attention")).to_have_attribute("data-count", "1")
        self.expect(self.group("active")).to_have_attribute("data-count", "2")

    def test_project_and_text_filters_narrow_the_cards(self):
        ids = self.make_fleet()
        self.open_dashboard()
        expect = self.expect
        select = self.page.locator('select[data-testid="project-filter"]')
        expect(select.locator("option").first).to_have_js_property("value", "")
        select.select_option(self.option_value(select, "beta-proj"))
        expect(self.cards()).to_have_count(2)
        self.assertEqual(set(self.card_ids()), {ids["prose"], ids["active"]})
        select.select_option("")
        expect(self.cards()).to_have_count(5)

        text = self.page.locator('input[data-testid="text-filter"]')
        text.fill("database")  # the pending question's text
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [ids["ask"]])
        text.fill("gamma-proj")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [ids["starting"]])
        text.fill("no-such-session-anywhere")
        expect(self.cards()).to_have_count(0)
        text.fill("")
        expect(self.cards()).to_have_count(5)
        # Both at once: project alpha-proj and text from the done card's preview.
        select.select_option(self.option_value(select, "alpha-proj"))
        text.fill("tool-done")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [ids["done"]])

    def test_phone_width_has_no_horizontal_scroll(self):
        ids = self.make_fleet()
        self.page.set_viewport_size(PHONE)
        self.open_dashboard()
        for sid in ids.values():
            self.expect(self.card(sid)).to_be_visible()
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            width = self.page.evaluate("() => document.documentElement.scrollWidth")
            self.assertLessEqual(width, PHONE["width"], "the page scrolls sideways at 390 px")
            self.screenshot("overview-390-%s" % scheme)
        card = self.card(ids["ask"])
        box = card.bounding_box()
        self.assertLessEqual(box["x"] + box["width"], PHONE["width"])
        self.tid("open-conversation", card).click()
        dialog = self.page.locator('[role="dialog"][data-testid="conversation"]')
        self.expect(dialog.locator('[data-testid="message"]').first).to_be_visible()
        self.assertLessEqual(self.page.evaluate("() => document.documentElement.scrollWidth"),
                             PHONE["width"])
        self.screenshot("conversation-390-dark")


class Answering(DashboardTestCase):
    """Answering a question from the page: what is sent, and what the page says when it fails."""

    def setUp(self):
        super().setUp()
        self.sid = self.feed("ask-option", upto=4)
        # The recorded pane (%3 on a tmux socket that does not exist here) is gone, so every
        # answer fails with 410; Chromium logs that status as an error.
        self.allow_console_error(NETWORK_ERROR)

    def test_question_shows_header_text_and_three_options(self):
        self.open_dashboard()
        question = self.tid("question", self.card(self.sid))
        expect = self.expect
        expect(self.tid("question-header", question)).to_have_text("Choice")
        expect(self.tid("question-text", question)).to_have_text(QUESTION)
        options = question.locator('button[data-testid="option"]')
        expect(options).to_have_count(3)
        for n, (label, description) in enumerate(
                [("Alpha", "first"), ("Beta", "second"), ("Gamma", "third")], 1):
            option = question.locator('button[data-testid="option"][data-option="%d"]' % n)
            expect(self.tid("option-label", option)).to_have_text(label)
            expect(self.tid("option-description", option)).to_have_text(description)
        expect(question.locator('input[data-testid="other-input"]')).to_be_visible()
        expect(question.locator('button[data-testid="multi-submit"]')).to_have_count(0)
        self.screenshot("question-card")

    def test_multi_question_and_multiselect(self):
        sid = self.new_id()
        questions = [
            {"question": "Which checks should run?", "header": "Checks", "multiSelect": True,
             "options": [{"label": "Lint", "description": "ruff"},
                         {"label": "Types", "description": "mypy"},
                         {"label": "Tests", "description": "unit"}]},
            {"question": "Deploy after?", "header": "Deploy", "multiSelect": False,
             "options": [{"label": "Yes", "description": ""}, {"label": "No", "description": ""}]}]
        for event in ("UserPromptSubmit", "PreToolUse"):
            self.run_hook({"session_id": sid, "hook_event_name": event, "prompt": "go",
                           "cwd": "/home/dev/work/multi", "tool_name": "AskUserQuestion",
                           "tool_input": {"questions": questions}})
        self.open_dashboard()
        card = self.card(sid)
        blocks = self.tid("question", card)
        expect = self.expect
        expect(blocks).to_have_count(2)
        expect(self.tid("question-header", blocks.nth(0))).to_have_text("Checks")
        expect(self.tid("question-header", blocks.nth(1))).to_have_text("Deploy")
        expect(blocks.nth(1).locator('button[data-testid="option"]')).to_have_count(2)
        first = blocks.nth(0)
        first.locator('button[data-testid="option"][data-option="1"]').click()
        first.locator('button[data-testid="option"][data-option="3"]').click()
        self.assertEqual(self.posts("/api/respond/"), [], "toggling a multiSelect option sends nothing")
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            first.locator('button[data-testid="multi-submit"]').click()
        self.assert_api_post(sent.value, "/api/respond/" + sid, {"text": "1,3", "questionIndex": 0})

    def test_option_click_posts_its_number_and_shows_why_the_pane_cannot_be_reached(self):
        self.open_dashboard()
        card = self.card(self.sid)
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="option"][data-option="2"]').click()
        request = sent.value
        self.assert_api_post(request, "/api/respond/" + self.sid, {"text": "2", "questionIndex": 0})
        response = request.response()
        self.assertEqual(response.status, 410)
        message = response.json()["error"]
        self.assertIn("%3", message)
        error = card.locator('[role="alert"][data-testid="action-error"]')
        self.expect(error).to_contain_text(message)
        self.assertEqual(len(self.posts("/api/respond/")), 1)
        self.screenshot("action-error")

    def test_free_text_posts_freeform_with_the_option_count(self):
        self.open_dashboard()
        card = self.card(self.sid)
        card.locator('input[data-testid="other-input"]').fill("Postgres, with a read replica")
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="other-send"]').click()
        self.assert_api_post(sent.value, "/api/respond/" + self.sid,
                             {"text": "Postgres, with a read replica", "freeform": True,
                              "optionCount": 3, "questionIndex": 0})
        self.expect(self.tid("action-error", card)).to_be_visible()

    def test_prose_question_reply_posts_the_text(self):
        sid = self.feed("chat-and-prose-question", upto=5, project="beta-proj")
        self.open_dashboard()
        card = self.card(sid)
        self.expect(self.tid("prose-question", card)).to_contain_text(PROSE)
        card.locator('textarea[data-testid="reply-input"]').fill("Yes, go on.\nCarefully.")
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="reply-send"]').click()
        request = sent.value
        self.assertEqual(request.headers.get("x-amc-token"), self.token)
        body = request.post_data_json
        self.assertEqual(body["text"], "Yes, go on.\nCarefully.")
        self.assertFalse(body.get("freeform"))
        self.expect(self.tid("action-error", card)).to_be_visible()

    def test_permission_prompt_shows_allow_deny_and_the_command(self):
        sid = self.feed("permission-prompt", upto=5, project="perm-proj")
        self.open_dashboard()
        card = self.card(sid)
        self.expect(self.tid("permission-detail", card)).to_contain_text("touch made-by-agent.txt")
        self.expect(card.locator('button[data-testid="allow"]')).to_be_visible()
        self.expect(card.locator('button[data-testid="deny"]')).to_be_visible()
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="allow"]').click()
        self.assertEqual(sent.value.headers.get("x-amc-token"), self.token)
        self.expect(self.tid("action-error", card)).to_be_visible()


class Conversation(DashboardTestCase):
    def dialog(self):
        return self.page.locator('[role="dialog"][data-testid="conversation"]')

    def message(self, role, text):
        return self.dialog().locator('[data-testid="message"][data-role="%s"]' % role,
                                     has_text=text)

    def test_open_shows_prompts_replies_and_collapsed_tool_calls(self):
        sid = self.feed("ask-option", upto=4)
        self.open_dashboard()
        expect = self.expect
        self.tid("open-conversation", self.card(sid)).click()
        expect(self.dialog()).to_be_visible()
        expect(self.message("user", "ASK: Which database should we use?")).to_have_count(1)
        expect(self.message("assistant", "ANSWER-RECEIVED")).to_have_count(1)
        messages = self.dialog().locator('[data-testid="message"]')
        ids = messages.evaluate_all("els => els.map(e => e.dataset.messageId)")
        self.assertEqual(ids, ["claude-%s-%d" % (sid[:8], n) for n in range(len(ids))])
        for i in range(messages.count()):
            expect(self.tid("message-time", messages.nth(i))).not_to_be_empty()
            expect(self.tid("message-body", messages.nth(i))).to_be_visible()

        call = self.dialog().locator('details[data-testid="tool-call"]')
        expect(call).to_have_count(1)
        self.assertFalse(call.evaluate("e => e.open"), "tool calls start collapsed")
        expect(self.tid("tool-name", call.locator("summary"))).to_have_text("AskUserQuestion")
        expect(self.tid("tool-summary", call.locator("summary"))).not_to_be_empty()
        expect(self.tid("tool-input", call)).not_to_be_visible()
        call.locator("summary").click()
        self.assertTrue(call.evaluate("e => e.open"))
        expect(self.tid("tool-input", call)).to_contain_text(QUESTION)
        expect(self.tid("tool-result", call)).to_contain_text('"Beta"')
        expect(self.tid("tool-error", call)).to_have_count(0)
        self.screenshot("conversation-1280")

        self.page.locator('button[data-testid="close-conversation"]').click()
        expect(self.dialog()).to_have_count(0)

    def test_enter_on_a_focused_card_opens_it_and_shows_the_bash_call(self):
        sid = self.feed("bash-tool", upto=5)
        self.open_dashboard()
        self.card(sid).focus()
        self.page.keyboard.press("Enter")
        expect = self.expect
        expect(self.dialog()).to_be_visible()
        expect(self.message("user", "BASH: echo hello-from-bash")).to_have_count(1)
        expect(self.message("assistant", "TOOL-DONE")).to_have_count(1)
        call = self.dialog().locator('details[data-testid="tool-call"]')
        expect(self.tid("tool-name", call)).to_have_text("Bash")
        expect(self.tid("tool-summary", call)).to_contain_text("echo hello-from-bash")
        call.locator("summary").click()
        expect(self.tid("tool-result", call)).to_contain_text("hello-from-bash")
        expect(self.dialog().locator('textarea[data-testid="conversation-input"]')).to_be_visible()
        self.page.keyboard.press("Escape")
        expect(self.dialog()).to_have_count(0)

    def assert_safe_links(self, where):
        """Assert every link inside `where` has a safe scheme (http(s), mailto, or same-page)."""
        hrefs = where.locator("a[href]").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            self.assertRegex(href.strip(), r"^(https?:|mailto:|/|#)", "unsafe link %r" % href)

    def make_hostile_session(self):
        """Make a session on the hostile transcript (+ a 1 MB line) with hostile card texts."""
        sid = self.new_id()
        transcript = os.path.join(self.home, "hostile.jsonl")
        with open(HOSTILE) as src, open(transcript, "w") as out:
            out.write(src.read())
            long_text = ("LONG-MESSAGE-START \u001b[35mmagenta\u001b[0m <b>not bold</b> "
                         + "".join("word%06d " % i for i in range(1024 * 1024 // 11))
                         + "LONG-MESSAGE-END")
            self.assertGreater(len(long_text), 1024 * 1024)
            out.write(json.dumps({"type": "user", "message": {"role": "user", "content":
                                  "LONG-PROMPT"}, "uuid": "u-long", "sessionId": sid,
                                  "timestamp": "2026-11-20T23:41:00.000Z"}) + "\n")
            out.write(json.dumps({"type": "assistant", "uuid": "a-long", "sessionId": sid,
                                  "timestamp": "2026-11-20T23:41:01.000Z",
                                  "message": {"id": "msg_long", "role": "assistant",
                                              "content": [{"type": "text", "text": long_text}]}})
                      + "\n")
        self.feed("chat-and-prose-question", upto=2, project="hostile", session_id=sid,
                  transcript=transcript)
        # The card's own texts (preview, reason) are hostile too.
        self.run_hook({"session_id": sid, "hook_event_name": "Stop",
                       "last_assistant_message": 'See <img src=x onerror="window.__pwned=11">'
                       '\u001b[31m [x](javascript:window.__pwned=12) <script>window.__pwned=13'
                       '</script> ok?'})
        return sid

    def test_hostile_card_texts_stay_text(self):
        sid = self.make_hostile_session()
        self.open_dashboard()
        card = self.card(sid)
        reason = self.tid("reason", card)
        self.expect(reason).to_contain_text('<img src=x onerror="window.__pwned=11">')
        self.expect(reason).to_contain_text("[x](javascript:window.__pwned=12)")
        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
        self.assertEqual(card.locator("img, script, iframe, svg, object, embed").count(), 0)
        self.assert_safe_links(card)
        self.assertNotIn("\u001b", card.evaluate("e => e.textContent"),
                         "ANSI escapes reached the card")

    def test_hostile_transcript_renders_inert_and_stays_responsive(self):
        sid = self.make_hostile_session()
        self.open_dashboard()
        expect = self.expect
        self.tid("open-conversation", self.card(sid)).click()
        dialog = self.dialog()
        expect(self.message("assistant", "LONG-MESSAGE-START")).to_have_count(1)
        expect(self.message("assistant", "HOSTILE-DONE")).to_have_count(1)

        # Expand every tool call and thinking block so their contents render too.
        for details in dialog.locator("details").all():
            details.locator("summary").first.click()
        expect(self.tid("tool-result", dialog).first).to_contain_text("HOSTILE-RESULT")
        expect(dialog.locator('[data-testid="tool-error"]')).to_have_count(1)
        expect(dialog.locator('details[data-testid="thinking"]')).to_have_count(1)
        expect(dialog.locator('[data-testid="image-placeholder"]')).to_have_count(1)

        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
        self.assertEqual(dialog.locator("img, script, iframe, svg, object, embed").count(), 0,
                         "hostile markup became elements")
        self.assert_safe_links(dialog)
        expect(self.message("assistant", "HOSTILE-REPLY")).to_contain_text("click")
        self.assertNotIn("\u001b", dialog.evaluate("e => e.textContent"),
                         "ANSI escapes reached the conversation")
        expect(self.message("assistant", "HOSTILE-REPLY")).to_contain_text("red")

        # The 1 MB line is cut, with a button to see more.
        long_msg = self.message("assistant", "LONG-MESSAGE-START")
        body = self.tid("message-body", long_msg)
        shown = len(body.evaluate("e => e.textContent"))
        self.assertLess(shown, 200000, "the 1 MB message was rendered whole")
        self.assertNotIn("LONG-MESSAGE-END", body.evaluate("e => e.textContent"))
        more = long_msg.locator('button[data-testid="show-more"]')
        expect(more).to_be_visible()
        self.message("assistant", "HOSTILE-REPLY").scroll_into_view_if_needed()
        self.screenshot("conversation-hostile", full_page=False)

        # Still responsive: an evaluate round-trip and a j/k keypress each well under a second.
        t = time.monotonic()
        self.page.evaluate("() => 1 + 1")
        self.assertLess(time.monotonic() - t, 1.0)
        t = time.monotonic()
        self.page.keyboard.press("j")
        self.page.keyboard.press("k")
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(1)))")
        self.assertLess(time.monotonic() - t, 1.0)
        more.click()
        self.page.wait_for_function("([e, n]) => e.textContent.length > n",
                                    arg=[body.element_handle(), shown])
        self.assertIsNone(self.page.evaluate("() => window.__pwned"))


class Keyboard(Fleet):
    def test_j_k_enter_escape_slash_and_digits(self):
        ids = self.make_fleet()
        self.allow_console_error(NETWORK_ERROR)  # the recorded pane is gone: respond answers 410
        self.open_dashboard()
        expect = self.expect
        order = self.card_ids()
        self.assertEqual(len(order), 5)
        self.card(order[0]).focus()
        self.assertEqual(self.active_session_id(), order[0])
        for sid in order[1:]:
            self.page.keyboard.press("j")
            self.assertEqual(self.active_session_id(), sid)
        self.page.keyboard.press("k")
        self.assertEqual(self.active_session_id(), order[-2])
        self.page.keyboard.press("k")
        self.assertEqual(self.active_session_id(), order[-3])

        self.page.keyboard.press("Enter")
        dialog = self.page.locator('[role="dialog"][data-testid="conversation"]')
        expect(dialog).to_be_visible()
        self.page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)

        self.page.keyboard.press("/")
        expect(self.page.locator('input[data-testid="text-filter"]')).to_be_focused()
        self.page.keyboard.type("j")  # typing in the filter is text, not navigation
        expect(self.page.locator('input[data-testid="text-filter"]')).to_have_value("j")
        self.page.locator('input[data-testid="text-filter"]').fill("")

        self.card(ids["ask"]).focus()
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            self.page.keyboard.press("3")
        self.assertEqual(sent.value.url, self.url + "api/respond/" + ids["ask"])
        self.assertEqual(sent.value.headers.get("x-amc-token"), self.token)
        self.assertEqual(sent.value.post_data_json, {"text": "3", "questionIndex": 0})
        expect(self.tid("action-error", self.card(ids["ask"]))).to_be_visible()


class Lifecycle(DashboardTestCase):
    def test_empty_state_shows_the_install_command_and_hook_status(self):
        self.open_dashboard(ready="empty")
        expect = self.expect
        empty = self.tid("empty-state")
        expect(empty).to_contain_text("bin/amc hooks install")
        expect(self.tid("hooks-status", empty)).to_contain_text("not installed")
        self.screenshot("empty-state")
        proc = subprocess.run([AMC, "hooks", "install"], env=self.env, capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(self.get_json("/api/state")["setup"]["claude_hooks"])
        self.page.reload()
        status = self.tid("hooks-status", self.tid("empty-state"))
        expect(status).to_contain_text("installed")
        expect(status).not_to_contain_text("not installed")

    def test_connection_banner_while_the_server_is_down(self):
        self.allow_console_error(NETWORK_ERROR)
        sid = self.feed("bash-tool", upto=5)
        server, port = self.serve_process()  # a real process, killed as `amc stop` would
        self.open_dashboard(port=port)
        banner = self.page.locator('[role="status"][data-testid="connection-banner"]')
        self.expect(banner).to_have_count(0)
        self.kill_process(server)
        self.expect(banner).to_be_visible()
        self.expect(self.card(sid)).to_be_visible()  # the last known state stays on screen
        self.screenshot("disconnected")
        self.serve_process(port)  # back on the same port, same data dir and token
        self.expect(banner).to_have_count(0, timeout=10000)  # after the backoff delay
        self.expect(self.card(sid)).to_be_visible()

        # Polls come at most every 2 s, and less often after a failure (backoff).
        polls = self.polls()
        gaps = [(b[0] - a[0], a[1].failure) for a, b in zip(polls, polls[1:])]
        self.assertTrue(all(gap > 1.8 for gap, _ in gaps), gaps)
        after_failure = [gap for gap, failure in gaps if failure]
        self.assertTrue(after_failure, "no failed poll was seen: %r" % gaps)
        self.assertGreater(after_failure[0], 2.5, "no backoff after a failed poll: %r" % gaps)

    def test_dismiss_shows_undo_then_posts_after_the_delay(self):
        sid = self.feed("bash-tool", upto=5)
        other = self.feed("ask-option", upto=4)
        self.open_dashboard()
        expect = self.expect
        card = self.card(sid)
        self.tid("dismiss", card).click()
        toast = self.tid("undo-toast")
        expect(toast).to_be_visible()
        self.tid("undo", toast).click()
        expect(toast).to_have_count(0)
        expect(card).to_be_visible()

        self.tid("dismiss", card).click()
        expect(toast).to_be_visible()
        clicked = time.monotonic()
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/dismiss/" in r.url, timeout=8000) as sent:
            pass
        waited = time.monotonic() - clicked
        self.assertGreater(waited, 3.0, "dismissed before the undo delay")
        self.assert_api_post(sent.value, "/api/dismiss/" + sid)
        self.assertEqual(sent.value.response().status, 200)
        expect(card).to_have_count(0)
        self.assertEqual(len(self.posts("/api/dismiss/")), 1, "the undone dismiss was sent")
        self.assertEqual([s["session_id"] for s in self.get_json("/api/state")["sessions"]],
                         [other])
        expect(self.card(other)).to_be_visible()


if __name__ == "__main__":
    unittest.main()


class LiveConversation(DashboardTestCase):
    """An open conversation follows its transcript as it grows, without losing the reader's place."""

    dialog = Conversation.dialog
    message = Conversation.message

    SCROLLER = """d => { const all = [d, ...d.querySelectorAll('*')];
        return all.find(e => e.scrollHeight > e.clientHeight + 20 &&
                             getComputedStyle(e).overflowY !== 'visible'); }"""

    def append_turn(self, path, n):
        stamp = "2026-11-21T00:00:%02d.000Z" % n
        lines = [
            {"type": "user", "uuid": "u-live-%d" % n, "timestamp": stamp, "isSidechain": False,
             "message": {"role": "user", "content": "LIVE-PROMPT-%d" % n}},
            {"type": "assistant", "uuid": "a-live-%d" % n, "timestamp": stamp, "isSidechain": False,
             "message": {"id": "msg_live_%d" % n, "role": "assistant", "model": "m",
                         "content": [{"type": "text", "text": "LIVE-REPLY-%d\n\n%s" % (
                             n, "filler line\n\n" * 8)}]}},
        ]
        with open(path, "a") as f:
            f.write("".join(json.dumps(line) + "\n" for line in lines))

    def scroll_state(self):
        return self.dialog().evaluate(
            "d => { const e = (%s)(d); return e ? [e.scrollTop, e.scrollHeight, e.clientHeight]"
            " : null; }" % self.SCROLLER)

    def test_follows_new_messages_and_keeps_the_place_when_scrolled_up(self):
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        for n in range(1, 9):
            self.append_turn(path, n)
        self.open_dashboard()
        expect = self.expect
        self.tid("open-conversation", self.card(sid)).click()
        expect(self.message("assistant", "LIVE-REPLY-8")).to_have_count(1)
        top, height, client = self.scroll_state()
        self.assertGreater(height, client, "the test needs a scrolling conversation")
        self.assertGreaterEqual(top + client, height - 5, "opens scrolled to the end")
        # Mark a rendered message: if the list were rebuilt (flicker), the mark would be gone.
        self.message("user", "LIVE-PROMPT-1").evaluate("e => { e.__amcMark = 1; }")

        self.append_turn(path, 9)  # the transcript's mtime changes: the page refetches
        expect(self.message("assistant", "LIVE-REPLY-9")).to_have_count(1, timeout=10000)
        self.page.wait_for_timeout(300)
        top, height, client = self.scroll_state()
        self.assertGreaterEqual(top + client, height - 5, "follows new messages at the end")
        self.assertEqual(self.message("user", "LIVE-PROMPT-1").evaluate("e => e.__amcMark"), 1)

        self.dialog().evaluate("d => { (%s)(d).scrollTop = 0; }" % self.SCROLLER)
        self.page.wait_for_timeout(300)
        self.append_turn(path, 10)
        expect(self.message("assistant", "LIVE-REPLY-10")).to_have_count(1, timeout=10000)
        self.page.wait_for_timeout(300)
        top, _, _ = self.scroll_state()
        self.assertLess(top, 50, "a reader who scrolled up is not pulled to the end")


class AttentionAlerts(DashboardTestCase):
    # A stand-in for the browser's Notification API that records what the page does with it.
    FAKE_NOTIFICATION = """
        window.__requests = 0; window.__shown = [];
        window.Notification = class {
            constructor(title, options) { window.__shown.push([title, (options || {}).body]); }
            static requestPermission() { window.__requests++; window.Notification.permission = 'granted';
                                         return Promise.resolve('granted'); }
        };
        window.Notification.permission = 'default';
    """

    def test_notification_is_opt_in_and_names_the_project_and_question(self):
        self.page.add_init_script(self.FAKE_NOTIFICATION)
        self.run_hook({"session_id": "n1", "hook_event_name": "UserPromptSubmit", "prompt": "go",
                       "cwd": "/home/dev/work/notify-proj"})
        self.open_dashboard()
        self.page.wait_for_timeout(500)
        self.assertEqual(self.page.evaluate("window.__requests"), 0, "never asked on load")
        self.tid("enable-notifications").click()
        self.page.wait_for_function("() => window.__requests === 1")
        self.run_hook({"session_id": "n1", "hook_event_name": "PreToolUse",
                       "tool_name": "AskUserQuestion", "tool_input": {"questions": [
                           {"question": "Ship it now?", "header": "Ship",
                            "options": [{"label": "Yes"}, {"label": "No"}]}]}})
        self.page.wait_for_function("() => window.__shown.length > 0", timeout=10000)
        title, body = self.page.evaluate("window.__shown[0]")
        self.assertIn("notify-proj", title + " " + body)
        self.assertIn("Ship it now?", title + " " + body)
        self.page.wait_for_timeout(2500)  # later polls of the same state do not notify again
        self.assertEqual(self.page.evaluate("window.__shown.length"), 1)


class LongConversation(DashboardTestCase):
    dialog = Conversation.dialog
    message = Conversation.message

    def test_most_recent_part_first_then_load_earlier(self):
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        with open(path, "a") as f:
            for n in range(260):
                f.write(json.dumps({"type": "user", "uuid": "u-%d" % n, "isSidechain": False,
                                    "timestamp": "2026-11-21T00:00:00.000Z",
                                    "message": {"role": "user", "content": "PROMPT-%03d" % n}})
                        + "\n")
        self.open_dashboard()
        self.tid("open-conversation", self.card(sid)).click()
        expect = self.expect
        expect(self.message("user", "PROMPT-259")).to_have_count(1)
        messages = self.dialog().locator('[data-testid="message"]')
        first_count = messages.count()
        self.assertLessEqual(first_count, 200)
        expect(self.message("user", "BASH: echo hello-from-bash")).to_have_count(0)
        self.tid("load-earlier", self.dialog()).click()
        expect(self.message("user", "BASH: echo hello-from-bash")).to_have_count(1)
        self.assertGreater(messages.count(), first_count)
