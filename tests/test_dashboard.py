"""The dashboard in a real Chromium against a real server, with sessions made by the real hook.

Every session here comes from the recorded Claude Code 2.1.329 hook payloads replayed through
bin/amc-hook, and every conversation from a recorded transcript in a temp CLAUDE_CONFIG_DIR, so the
page is tested against exactly what it will see. The selectors are the DOM contract the dashboard
promises (data-testid names, roles, data-* attributes); docs/api.md has the data shapes.
The page follows the server over /api/stream; tests break the stream with Playwright's
page.route (abort, hold) or by killing a real `amc serve` process, and assert from the recorded
requests which of /api/state, /api/stream and /api/conversation the page asked for.
Screenshots land in tests/artifacts/ (git-ignored), and a failing test leaves FAILED-<name>.png.
"""
import json
import os
import re
import shutil
import subprocess
import time
import unittest

from tests.support.browser import PHONE, STATE_CALL, DashboardTestCase, state_modules
from tests.support.helpers import AMC, FIXTURES

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
        # The question gets answered in the terminal: the stream shows one fewer.
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
        self.assertEqual(self.question_id(sid), {})  # no tool_use_id in these hooks: none sent

    def test_option_click_posts_its_number_and_shows_why_the_pane_cannot_be_reached(self):
        self.open_dashboard()
        card = self.card(self.sid)
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="option"][data-option="2"]').click()
        request = sent.value
        self.assertTrue(self.question_id(self.sid))  # the recorded question has its id
        self.assert_api_post(request, "/api/respond/" + self.sid, {
            "text": "2", "questionIndex": 0, **self.question_id(self.sid)})
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
                              "optionCount": 3, "questionIndex": 0, **self.question_id(self.sid)})
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
        sid = self.feed("ask-option", upto=4, whole_transcript=True)  # with what followed
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
        self.assertEqual(dialog.locator("img:not([data-testid=image-thumb]), script, iframe, svg, "
                                        "object, embed").count(), 0,
                         "hostile markup became elements")
        # the only image is the prompt's thumbnail, served by AMC (docs/conversation-views.md)
        for src in dialog.locator('img[data-testid="image-thumb"]').evaluate_all(
                "els => els.map(e => e.getAttribute('src'))"):
            self.assertTrue(src.startswith("/api/conversation/%s/image?" % sid), src)
        self.assert_safe_links(dialog)
        expect(self.message("assistant", "HOSTILE-REPLY")).to_contain_text("click")
        self.assertNotIn("\u001b", dialog.evaluate("e => e.textContent"),
                         "ANSI escapes reached the conversation")
        expect(self.message("assistant", "HOSTILE-REPLY")).to_contain_text("red")

        # The 1 MB text comes as its start (the server sends texts over 64 KB as a placeholder);
        # loaded whole, it is cut again before rendering, with a button to see more.
        long_msg = self.message("assistant", "LONG-MESSAGE-START")
        body = self.tid("message-body", long_msg)
        omitted = long_msg.locator('[data-testid="part-omitted"][data-field="content"]')
        expect(omitted).to_contain_text(re.compile(r"Text of 1(\.\d)? MB not loaded"))
        with self.page.expect_response(lambda r: "/part?" in r.url) as answer:
            long_msg.locator('button[data-testid="load-part"][data-field="content"]').click()
        self.assertIn("field=content", answer.value.url)
        self.assertNotIn("call=", answer.value.url)
        expect(omitted).to_have_count(0)
        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
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
        self.assertEqual(sent.value.post_data_json, {"text": "3", "questionIndex": 0,
                                                     **self.question_id(ids["ask"])})
        expect(self.tid("action-error", self.card(ids["ask"]))).to_be_visible()


class Lifecycle(DashboardTestCase):
    dialog = Conversation.dialog

    def session_with_channel(self):
        """Return a hook session and bin/amc-channel connected for it, as Claude Code runs it."""
        from amc_server import store
        from tests.test_channel import ChannelProcess
        sid = self.feed("chat-and-prose-question", upto=2)
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())
        channel = ChannelProcess(dict(self.env, CLAUDE_CODE_SESSION_ID=sid))
        self.addCleanup(channel.close)
        channel.handshake()
        return sid, channel
    message = Conversation.message

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

    def test_server_killed_and_restarted_under_a_live_page(self):
        """Live -> the banner at once -> polling (with backoff) -> live again, nothing lost."""
        self.allow_console_error(NETWORK_ERROR)
        sid = self.feed("bash-tool", upto=5)
        server, port = self.serve_process()  # a real process, killed as `amc stop` would
        self.open_dashboard(port=port)
        expect = self.expect
        banner = self.page.locator('[role="status"][data-testid="connection-banner"]')
        expect(self.connection()).to_have_attribute("data-state", "live")
        expect(self.connection()).to_have_text("Live")
        expect(banner).to_have_count(0)
        self.assertEqual(self.polls(), [], "a live page does not poll")

        self.tid("open-conversation", self.card(sid)).click()  # followed over the stream
        expect(self.message("assistant", "TOOL-DONE")).to_have_count(1)

        self.kill_process(server)
        expect(banner).to_be_visible()
        expect(self.card(sid)).to_be_visible()  # the last known state stays on screen
        self.screenshot("disconnected")
        # The browser retries the stream once (the server said retry: 2000); the second failure
        # falls back to polling, which fails too while the server is away.
        expect(self.connection()).to_have_attribute("data-state", "polling", timeout=10000)
        expect(self.connection()).to_have_text("Polling")
        self.wait_until(lambda: any(r.failure for _, r in self.polls()), "no failed poll")
        expect(banner).to_be_visible()
        # What happens meanwhile is on disk, and shows once the server is back.
        other = self.feed("ask-option", upto=4, project="while-down")
        LiveConversation.append_turn(self, os.path.join(
            self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl"), 1)

        self.serve_process(port)  # back on the same port, same data dir and token
        expect(banner).to_have_count(0, timeout=10000)  # after the backoff delay
        expect(self.connection()).to_have_attribute("data-state", "live", timeout=10000)
        expect(self.card(sid)).to_be_visible()
        expect(self.card(other)).to_be_visible()
        expect(self.message("assistant", "LIVE-REPLY-1")).to_have_count(1)

        # Polls came at most every 2 s, and less often after a failure (backoff)...
        polls = self.polls()
        gaps = [(b[0] - a[0], a[1].failure) for a, b in zip(polls, polls[1:])]
        self.assertTrue(all(gap > 1.8 for gap, _ in gaps), gaps)
        after_failure = [gap for gap, failure in gaps if failure]
        self.assertTrue(after_failure, "no failed poll was followed by another: %r" % gaps)
        self.assertGreater(after_failure[0], 2.5, "no backoff after a failed poll: %r" % gaps)
        # ...and stop once the stream is live again.
        count = len(self.polls())
        self.page.wait_for_timeout(2500)
        self.assertEqual(len(self.polls()), count, "still polling while live")

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


class LiveConversation(DashboardTestCase):
    """An open conversation follows its transcript as it grows, without losing the reader's place."""

    dialog = Conversation.dialog

    def session_with_channel(self):
        """Return a hook session and bin/amc-channel connected for it, as Claude Code runs it."""
        from amc_server import store
        from tests.test_channel import ChannelProcess
        sid = self.feed("chat-and-prose-question", upto=2)
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())
        channel = ChannelProcess(dict(self.env, CLAUDE_CODE_SESSION_ID=sid))
        self.addCleanup(channel.close)
        channel.handshake()
        return sid, channel
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

        self.append_turn(path, 9)  # the transcript grows: a messages event brings it
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
        self.page.wait_for_timeout(2500)  # later events of the same state do not notify again
        self.assertEqual(self.page.evaluate("window.__shown.length"), 1)


class LongConversation(DashboardTestCase):
    dialog = Conversation.dialog

    def session_with_channel(self):
        """Return a hook session and bin/amc-channel connected for it, as Claude Code runs it."""
        from amc_server import store
        from tests.test_channel import ChannelProcess
        sid = self.feed("chat-and-prose-question", upto=2)
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())
        channel = ChannelProcess(dict(self.env, CLAUDE_CODE_SESSION_ID=sid))
        self.addCleanup(channel.close)
        channel.handshake()
        return sid, channel
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


class Streaming(DashboardTestCase):
    """The page follows the server over /api/stream, and polls only when the stream fails."""

    dialog = Conversation.dialog

    def session_with_channel(self):
        """Return a hook session and bin/amc-channel connected for it, as Claude Code runs it."""
        from amc_server import store
        from tests.test_channel import ChannelProcess
        sid = self.feed("chat-and-prose-question", upto=2)
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())
        channel = ChannelProcess(dict(self.env, CLAUDE_CODE_SESSION_ID=sid))
        self.addCleanup(channel.close)
        channel.handshake()
        return sid, channel
    message = Conversation.message
    append_turn = LiveConversation.append_turn

    def test_page_uses_an_event_stream_and_shows_live(self):
        self.feed("bash-tool", upto=5)
        self.open_dashboard()
        expect = self.expect
        indicator = self.connection()
        expect(indicator).to_have_attribute("data-state", "live")
        expect(indicator).to_have_text("Live")
        streams = self.streams()
        self.assertEqual(len(streams), 1, [r.url for r in streams])
        self.assertEqual(streams[0].url, self.url + "api/stream")
        self.assertEqual(self.polls(), [], "a live page does not poll /api/state")
        expect(self.page.locator('[data-testid="connection-banner"]')).to_have_count(0)

    def test_hook_event_changes_a_card_without_any_state_request(self):
        sid = self.feed("ask-option", upto=4)
        self.open_dashboard()
        expect = self.expect
        expect(self.connection()).to_have_attribute("data-state", "live")
        card = self.card(sid)
        expect(self.tid("status", card)).to_have_text("Needs attention")
        # Answered in the terminal: PostToolUse arrives through the real hook.
        self.feed("ask-option", start=4, upto=5, session_id=sid)
        expect(self.tid("status", card)).to_have_text("Active")
        expect(self.group("needs_attention")).to_have_attribute("data-count", "0")
        self.assertEqual(self.polls(), [], "the change came without a GET /api/state")
        self.assertEqual(len(self.streams()), 1, "the stream was not reopened")

    def test_new_session_is_inserted_in_the_servers_order(self):
        first = self.feed("bash-tool", upto=5, project="one")  # done
        self.open_dashboard()
        asking = self.feed("ask-option", upto=4, project="two", session_id=self.new_id())
        starting = self.feed("bash-tool", upto=1, project="three", session_id=self.new_id())
        self.expect(self.cards()).to_have_count(3)
        self.assertEqual(self.card_ids(), [asking, starting, first])
        server = [s["session_id"] for s in self.get_json("/api/state")["sessions"]]
        self.assertEqual(self.card_ids(), server)

    def test_removed_session_disappears(self):
        keep = self.feed("ask-option", upto=4)
        gone = self.feed("bash-tool", upto=5)
        self.open_dashboard()
        expect = self.expect
        expect(self.card(gone)).to_be_visible()
        status, body, _ = self.request("POST", "/api/dismiss/" + gone)  # from elsewhere: the CLI, another page
        self.assertEqual(status, 200, body)
        expect(self.card(gone)).to_have_count(0)
        expect(self.card(keep)).to_be_visible()
        expect(self.group("done")).to_have_attribute("data-count", "0")
        self.assertEqual(self.polls(), [])

    def test_stream_failing_twice_falls_back_to_polling_then_comes_back(self):
        self.allow_console_error(NETWORK_ERROR)
        sid = self.feed("ask-option", upto=4)
        broken = re.compile(r"/api/stream")
        self.page.route(broken, lambda route: route.abort())
        self.open_dashboard()  # the cards come from polling
        expect = self.expect
        expect(self.connection()).to_have_attribute("data-state", "polling")
        expect(self.connection()).to_have_text("Polling")
        self.assertGreaterEqual(len(self.streams()), 2, "fell back before two stream failures")
        self.wait_until(lambda: len(self.polls()) >= 2, "no polls of /api/state")
        self.assertTrue(all(r.headers.get("if-none-match") for _, r in self.polls()[1:]),
                        "later polls are conditional")
        self.assertTrue(any(r.response() and r.response().status == 304
                            for _, r in self.polls()[1:]), "no 304 for an unchanged state")
        # The polling banner is only for a server that cannot be reached: this one can.
        expect(self.page.locator('[data-testid="connection-banner"]')).to_have_count(0)
        self.feed("ask-option", start=4, upto=5, session_id=sid)
        expect(self.tid("status", self.card(sid))).to_have_text("Active")

        self.page.unroute(broken)
        expect(self.connection()).to_have_attribute("data-state", "live", timeout=15000)
        count = len(self.polls())
        self.page.wait_for_timeout(2500)
        self.assertEqual(len(self.polls()), count, "still polling while live")
        self.feed("bash-tool", upto=5, project="after", session_id=self.new_id())
        expect(self.cards()).to_have_count(2)
        self.assertEqual(len(self.polls()), count)

    def test_a_stream_that_never_gets_going_counts_as_failed(self):
        """A proxy that holds the stream (or buffers it) delivers nothing: after 10 s that is an
        error like any other, and the second one falls back to polling."""
        self.allow_console_error(NETWORK_ERROR)
        self.feed("bash-tool", upto=5)
        held = []

        def hold_the_first(route):
            if held:
                route.abort()
            else:
                held.append(route)  # never answered
        self.page.route(re.compile(r"/api/stream"), hold_the_first)
        self.page.goto(self.url)
        expect = self.expect
        expect(self.connection()).to_have_attribute("data-state", "connecting")
        self.assertEqual(self.polls(), [])
        expect(self.connection()).to_have_attribute("data-state", "polling", timeout=20000)
        expect(self.cards()).to_have_count(1)
        self.assertEqual(len(held), 1)
        try:
            held[0].abort()  # the page gave up on it long ago; let Playwright's handler finish
        except Exception:
            pass

    def test_polling_fills_a_followed_conversation_when_its_transcript_changes(self):
        self.allow_console_error(NETWORK_ERROR)
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        self.page.route(re.compile(r"/api/stream"), lambda route: route.abort())
        self.open_dashboard()
        expect = self.expect
        expect(self.connection()).to_have_attribute("data-state", "polling")
        self.tid("open-conversation", self.card(sid)).click()
        expect(self.message("assistant", "TOOL-DONE")).to_have_count(1)
        with self.page.expect_request(lambda r: "after=claude-%s-" % sid[:8] in r.url,
                                      timeout=10000):
            self.append_turn(path, 1)  # conversation_mtime_ns changes at the next poll
        expect(self.message("assistant", "LIVE-REPLY-1")).to_have_count(1)
        full = [r for r in self.gets("/api/conversation/") if "after=" not in r.url]
        self.assertEqual(len(full), 1, "the window was fetched again: %r" % [r.url for r in full])

    def test_stream_reopens_with_the_follow_set_and_the_last_event_id(self):
        sid = self.feed("bash-tool", upto=5)
        self.open_dashboard()
        self.expect(self.connection()).to_have_attribute("data-state", "live")
        with self.page.expect_request(lambda r: "/api/stream?" in r.url) as reopened:
            self.tid("open-conversation", self.card(sid)).click()
        query = reopened.value.url.split("?", 1)[1]
        self.assertRegex(query, r"^follow=%s&last_event_id=[0-9a-z]+-\d+$" % sid)
        with self.page.expect_request(lambda r: "/api/stream" in r.url
                                      and "follow=" not in r.url) as reopened:
            self.page.locator('button[data-testid="close-conversation"]').click()
        self.assertRegex(reopened.value.url, r"/api/stream\?last_event_id=[0-9a-z]+-\d+$")
        self.assertEqual(self.polls(), [])

    def test_followed_conversation_appends_a_new_message_without_refetching(self):
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        self.open_dashboard()
        expect = self.expect
        expect(self.connection()).to_have_attribute("data-state", "live")
        with self.page.expect_request(lambda r: "follow=" + sid in r.url):
            self.tid("open-conversation", self.card(sid)).click()
        expect(self.message("assistant", "TOOL-DONE")).to_have_count(1)
        self.page.wait_for_timeout(500)  # the fetch that covers the follow's start is done
        fetched = len(self.gets("/api/conversation/"))
        self.message("assistant", "TOOL-DONE").evaluate("e => { e.__amcMark = 1; }")

        self.append_turn(path, 1)
        expect(self.message("assistant", "LIVE-REPLY-1")).to_have_count(1)
        expect(self.message("user", "LIVE-PROMPT-1")).to_have_count(1)
        ids = self.dialog().locator('[data-testid="message"]').evaluate_all(
            "els => els.map(e => e.dataset.messageId)")
        self.assertEqual(ids, ["claude-%s-%d" % (sid[:8], n) for n in range(len(ids))])
        self.page.wait_for_timeout(500)
        self.assertEqual(len(self.gets("/api/conversation/")), fetched,
                         "the conversation was fetched again")
        self.assertEqual(self.message("assistant", "TOOL-DONE").evaluate("e => e.__amcMark"), 1,
                         "the list was rebuilt")
        self.assertEqual(self.polls(), [])

    def test_messages_appended_before_the_follow_starts_are_fetched(self):
        """The server reads a follow's baseline when the stream opens: what came between the
        panel's fetch and that moment is filled in with ?after=, not lost."""
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        self.open_dashboard()
        expect = self.expect
        expect(self.connection()).to_have_attribute("data-state", "live")
        held = []
        self.page.route(re.compile(r"/api/stream\?follow="), lambda route: held.append(route))
        self.tid("open-conversation", self.card(sid)).click()
        expect(self.message("assistant", "TOOL-DONE")).to_have_count(1)
        self.wait_until(lambda: held, "the page did not reopen the stream to follow")
        self.append_turn(path, 1)  # nobody follows the transcript yet: no messages event for it
        self.page.wait_for_timeout(300)
        with self.page.expect_request(lambda r: "after=claude-" in r.url) as filled:
            held[0].continue_()
        self.assertIn("/api/conversation/%s?" % sid, filled.value.url)
        expect(self.message("assistant", "LIVE-REPLY-1")).to_have_count(1)
        self.append_turn(path, 2)  # followed now: it comes as a messages event
        expect(self.message("assistant", "LIVE-REPLY-2")).to_have_count(1)

    def test_a_server_reachable_from_the_network_streams_on_the_login_cookie(self):
        """Bound to 0.0.0.0 even 127.0.0.1 gets the login form; then the stream and every read
        ride on the session cookie: no token in any URL or read (tests/test_login.py has more)."""
        self.allow_console_error(NETWORK_ERROR)  # the 401 of the read before logging in
        sid = self.feed("bash-tool", upto=5)
        _, port = self.serve_process(host="0.0.0.0")
        with open(self.paths.token_file) as f:
            token = f.read().strip()
        self.assertEqual(self.context.request.get(
            "http://127.0.0.1:%d/api/state" % port).status, 401)
        self.page.goto("http://127.0.0.1:%d/" % port)
        self.page.get_by_label("Token").fill(token)
        self.page.get_by_role("button", name="Log in").click()
        expect = self.expect
        expect(self.card(sid)).to_be_visible()
        expect(self.connection()).to_have_attribute("data-state", "live")
        self.tid("open-conversation", self.card(sid)).click()
        expect(self.message("assistant", "TOOL-DONE")).to_have_count(1)
        self.assertTrue(any("follow=" + sid in r.url for r in self.streams()))
        self.assertEqual([r.url for r in self.requests if "token" in r.url], [])
        for request in self.gets("/api/"):
            self.assertIsNone(request.headers.get("x-amc-token"), request.url)
        self.assertEqual(self.polls(), [])

    def test_big_parts_load_on_demand(self):
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        command = "BIG-INPUT-START " + "x" * 100000 + " BIG-INPUT-END"
        output = "BIG-OUTPUT-START " + "y" * 150000 + " BIG-OUTPUT-END"
        thinking = "BIG-THINKING-START " + "z" * 70000
        lines = [
            {"type": "assistant", "uuid": "a-big", "timestamp": "2026-11-21T00:00:01.000Z",
             "isSidechain": False,
             "message": {"id": "msg_big", "role": "assistant", "model": "m", "content": [
                 {"type": "thinking", "thinking": thinking, "signature": "s"},
                 {"type": "tool_use", "id": "toolu_big", "name": "Bash",
                  "input": {"command": command}}]}},
            {"type": "user", "uuid": "u-big", "timestamp": "2026-11-21T00:00:02.000Z",
             "isSidechain": False, "message": {"role": "user", "content": [
                 {"type": "tool_result", "tool_use_id": "toolu_big", "content": output,
                  "is_error": False}]}},
        ]
        with open(path, "a") as f:
            f.write("".join(json.dumps(line) + "\n" for line in lines))
        self.open_dashboard()
        self.tid("open-conversation", self.card(sid)).click()
        expect = self.expect
        call = self.dialog().locator('details[data-testid="tool-call"]').last
        expect(self.tid("tool-name", call)).to_have_text("Bash")
        call.locator("summary").click()
        missing_input = call.locator('[data-testid="part-omitted"][data-field="input"]')
        expect(missing_input).to_contain_text("Input of 100 KB not loaded")
        missing_output = call.locator('[data-testid="part-omitted"][data-field="result"]')
        expect(missing_output).to_contain_text("Output of 150 KB not loaded")
        expect(self.tid("tool-result", call)).to_contain_text("BIG-OUTPUT-START")  # the preview

        with self.page.expect_response(lambda r: "/part?" in r.url) as answer:
            call.locator('button[data-testid="load-part"][data-field="input"]').click()
        self.assertEqual(answer.value.status, 200)
        request = answer.value.request
        self.assertIn("/api/conversation/%s/part?" % sid, request.url)
        self.assertIn("call=toolu_big", request.url)
        self.assertIn("field=input", request.url)
        expect(missing_input).to_have_count(0)
        expect(self.tid("tool-input", call)).to_contain_text("BIG-INPUT-START")
        expect(self.tid("tool-summary", call)).to_contain_text("BIG-INPUT-START")
        expect(self.tid("show-more", self.tid("tool-input", call))).to_be_visible()

        call.locator('button[data-testid="load-part"][data-field="result"]').click()
        expect(missing_output).to_have_count(0)
        result = self.tid("tool-result", call)
        result.locator('button[data-testid="show-more"]').click()
        result.locator('button[data-testid="show-more"]').click()
        result.locator('button[data-testid="show-more"]').click()
        expect(result).to_contain_text("BIG-OUTPUT-END")
        self.assertEqual(call.locator("img, script").count(), 0)

        block = self.dialog().locator('details[data-testid="thinking"]').last
        block.locator("summary").click()
        expect(block).to_contain_text("BIG-THINKING-START")  # its first 2000 characters
        with self.page.expect_response(lambda r: "field=thinking" in r.url) as answer:
            block.locator('[data-testid="part-omitted"][data-field="thinking"]').get_by_role(
                "button", name="Load").click()
        self.assertEqual(answer.value.status, 200)
        expect(block.locator('[data-testid="part-omitted"]')).to_have_count(0)
        expect(block.locator('button[data-testid="show-more"]')).to_be_visible()

    def test_data_dir_problem_shows_as_a_banner(self):
        self.open_dashboard(ready="empty")
        expect = self.expect
        problem = self.page.locator('[role="alert"][data-testid="data-dir-problem"]')
        expect(problem).to_have_count(0)
        shutil.rmtree(self.paths.data)
        expect(problem).to_contain_text("does not exist", timeout=15000)
        self.screenshot("data-dir-problem")
        os.makedirs(self.paths.data)
        expect(problem).to_have_count(0, timeout=15000)


class NewSession(DashboardTestCase):
    """The "New session" form: what it posts, its errors, and the new card it focuses.

    Launches go to a private tmux server (`tmux -S <temp socket>`, killed in cleanup) running a
    stand-in `claude` that records its argv (tests/test_launch.py covers the real launch itself).
    """

    def setUp(self):
        super().setUp()
        from amc_server.actions import launch
        from amc_server import terminals
        from amc_server.actions.start_dialogs import Watcher
        from tests.support import tools
        from tests.test_launch import _stub_bin
        tmux = tools.require("tmux")
        self.project = os.path.join(self.home, "work", "form-proj")
        os.makedirs(self.project)
        self.record = os.path.join(self.home, "record.json")
        socket = os.path.join(self.home, "tmux-form")
        env = dict(self.env, PATH=_stub_bin(self.home, "claude") + ":/usr/bin:/bin",
                   LAUNCH_RECORD=self.record, AMC_TMUX_SOCKET=socket)
        self.addCleanup(lambda: subprocess.run([tmux, "-S", socket, "kill-server"],
                                               stderr=subprocess.DEVNULL, timeout=10))
        core = self.server.core
        self.server.app.replace_launcher(
            launch.Launcher(self.paths, env, watcher=Watcher(core, terminals.load(env=env))))
        self.known = self.feed("bash-tool", upto=5, project="known-proj")

    def open_form(self):
        self.open_dashboard()
        self.tid("new-session").click()
        form = self.tid("new-session-form")
        self.expect(form).to_be_visible()
        return form

    def test_form_posts_and_focuses_the_new_card(self):
        form = self.open_form()
        known_dir = self.get_json("/api/state")["sessions"][0]["project_dir"]
        self.assertEqual(self.page.locator("#known-project-dirs option").evaluate_all(
            "os => os.map(o => o.value)"), [known_dir])
        self.tid("new-project-dir", form).fill(self.project)
        self.tid("new-prompt", form).fill("write the tests first")
        self.tid("new-permission-mode", form).select_option("plan")
        self.tid("new-channel", form).check()
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and r.url.endswith("/api/sessions")) as sent:
            self.tid("new-submit", form).click()
        self.assert_api_post(sent.value, "/api/sessions", {
            "agent": "claude", "project_dir": self.project, "prompt": "write the tests first",
            "permission_mode": "plan", "channel": True})
        sid = sent.value.response().json()["session_id"]
        self.expect(form).to_have_count(0)
        card = self.card(sid)
        self.expect(card).to_be_visible()
        self.expect(self.tid("status", card)).to_have_text(re.compile("Starting", re.I))
        self.wait_until(lambda: self.active_session_id() == sid, "the new card is focused")
        self.screenshot("new-session-card")

    def test_server_error_shows_on_the_form_which_stays_open(self):
        self.allow_console_error(NETWORK_ERROR)
        form = self.open_form()
        self.tid("new-project-dir", form).fill(self.project + "/missing")
        self.tid("new-agent", form).select_option("codex")
        self.expect(self.tid("new-channel", form)).to_have_count(0)  # Claude Code's option
        self.tid("new-submit", form).click()
        error = form.locator('[role="alert"][data-testid="action-error"]')
        self.expect(error).to_contain_text("does not exist")
        self.expect(form).to_be_visible()
        self.screenshot("new-session-error")
        self.page.keyboard.press("Escape")
        self.expect(form).to_have_count(0)

    def test_start_dialog_on_the_card_posts_the_chosen_option(self):
        self.allow_console_error(NETWORK_ERROR)
        from amc_server.actions.start_dialogs import Watcher
        watcher = self.server.app.launcher().watcher
        self.assertIsInstance(watcher, Watcher)
        self.feed("bash-tool", upto=1, project="trust-proj", session_id=self.new_id(), pane="%9")
        sid = [s for s in self.get_json("/api/state")["sessions"] if s["status"] == "starting"][0][
            "session_id"]
        with watcher._lock:  # what the watcher records when the pane shows the trust dialog
            watcher._dialogs[sid] = {"text": "Quick safety check: do you trust this folder?",
                                     "options": ["No, exit", "Yes, I trust this folder"],
                                     "selected": 1, "since": "2026-01-01T00:00:00.000Z"}
        self.server.core.touch(sid)
        self.open_dashboard()
        card = self.card(sid)
        dialog = self.tid("start-dialog", card)
        self.expect(dialog).to_contain_text("Quick safety check")
        self.expect(self.tid("reason", card)).to_contain_text("Dialog at start")
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            dialog.locator('button[data-option="2"]').click()
        self.assert_api_post(sent.value, "/api/respond/" + sid, {"text": "2"})


class StateFunctions(DashboardTestCase):
    """state/'s pure functions, run in the page, against the server's own rules."""

    def call(self, expression, *args):
        """Evaluate `expression` (a function of `m`, every export of state/, and the args) in the page."""
        return self.page.evaluate(STATE_CALL % expression, [state_modules(), list(args)])

    def setUp(self):
        super().setUp()
        self.open_dashboard(ready="empty")

    def test_sort_matches_the_server(self):
        from amc_server import model
        rank = {status: i for i, status in enumerate(model.STATUSES)}
        stamps = ["2026-11-21T00:00:00.000Z", "2026-11-21T00:00:00.5Z", "2026-11-21T00:00:00",
                  "2026-11-20T23:59:59.999999Z", "", "garbage", "2026-13-01T00:00:00Z",
                  "2026-11-21T00:00:00+05:00", "2026-11-21T00:00:00.000123Z"]
        statuses = ["done", "active", "needs_attention", "starting", "weird"]
        sessions = [{"session_id": "s%02d" % i, "status": statuses[i % 5],
                     "started_at": stamps[(i * 7) % len(stamps)]} for i in range(40)]
        sessions += [{"session_id": "b", "status": "active", "started_at": stamps[0]},
                     {"session_id": "a", "status": "active", "started_at": stamps[0]}]
        want = [s["session_id"] for s in sorted(sessions, key=lambda s: (
            rank.get(s["status"], 9), -model.parse_iso(s["started_at"]), s["session_id"]))]
        got = self.call("(m, list) => m.sortSessions(list.slice().reverse()).map(s => s.session_id)",
                        sessions)
        self.assertEqual(got, want)
        seconds = self.call("(m, xs) => xs.map(m.serverSeconds)", stamps)
        self.assertEqual(seconds, [model.parse_iso(t) for t in stamps])

    def test_session_removed_and_setup_events(self):
        state = {"sessions": [], "server_time": "2026-11-21T00:00:00.000Z", "setup": {}}
        out = self.call("""(m, state) => {
            let s = m.applySnapshot(null, state);
            s = m.applySession(s, {session_id: "x", status: "done", started_at: "2026-11-21T00:00:00Z"});
            s = m.applySession(s, {session_id: "y", status: "active", started_at: "2026-11-20T00:00:00Z"});
            s = m.applySession(s, {session_id: "x", status: "needs_attention", started_at: "2026-11-21T00:00:00Z"});
            const order = s.sessions.map(x => x.session_id + ":" + x.status);
            s = m.applyRemoved(s, {session_id: "y"});
            const same = m.applyRemoved(s, {session_id: "nope"}) === s;
            s = m.applySetup(s, {claude_hooks: true, data_dir_problem: "broken"});
            return {order, left: s.sessions.map(x => x.session_id), same, setup: s.setup,
                    time: s.server_time};
        }""", state)
        self.assertEqual(out["order"], ["x:needs_attention", "y:active"])
        self.assertEqual(out["left"], ["x"])
        self.assertTrue(out["same"])
        self.assertEqual(out["setup"], {"claude_hooks": True, "data_dir_problem": "broken"})
        self.assertEqual(out["time"], state["server_time"], "session events keep the last clock")

    def test_messages_upsert_by_id_in_order_and_reset(self):
        out = self.call("""(m) => {
            const msg = (n, text) => ({id: "claude-abcdefgh-" + n, role: "user", content: text});
            let c = m.applyMessages(null, {messages: [msg(5, "five"), msg(6, "six")], total: 7, reset: true});
            const first = c.messages.map(x => x.content);
            c = m.applyMessages(c, {messages: [msg(8, "eight"), msg(6, "six!"), msg(7, "seven"), msg(2, "old")], total: 9});
            const merged = c.messages.map(x => x.content);
            const same = m.applyMessages(c, {messages: [c.messages[0]], total: 9}) === c;
            const after = m.applyAfter(c, {messages: [msg(0, "zero"), msg(1, "one")], total: 2}, "claude-abcdefgh-8");
            const reset = m.applyMessages(c, {messages: [msg(0, "new")], total: 1, reset: true});
            return {first, merged, total: c.total, same, after: after.messages.map(x => x.content),
                    reset: reset.messages.map(x => x.content)};
        }""")
        self.assertEqual(out["first"], ["five", "six"])
        self.assertEqual(out["merged"], ["five", "six!", "seven", "eight"])
        self.assertEqual(out["total"], 9)
        self.assertTrue(out["same"], "an unchanged message leaves the conversation as it was")
        self.assertEqual(out["after"], ["zero", "one"], "a shorter transcript replaces the list")
        self.assertEqual(out["reset"], ["new"])


class ChannelChat(DashboardTestCase):
    """The composer through AMC's channel: says so before and after, and the channel gets it."""

    dialog = Conversation.dialog

    def session_with_channel(self):
        """Return a hook session and bin/amc-channel connected for it, as Claude Code runs it."""
        from amc_server import store
        from tests.test_channel import ChannelProcess
        sid = self.feed("chat-and-prose-question", upto=2)
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())
        channel = ChannelProcess(dict(self.env, CLAUDE_CODE_SESSION_ID=sid))
        self.addCleanup(channel.close)
        channel.handshake()
        return sid, channel

    def test_composer_sends_through_the_channel_and_says_so(self):
        sid, channel = self.session_with_channel()
        self.open_dashboard()
        expect = self.expect
        self.tid("open-conversation", self.card(sid)).click()
        via = self.tid("reply-via", self.dialog())
        expect(via).to_have_attribute("data-via", "channel", timeout=10000)
        expect(via).to_contain_text("AMC's channel")
        box = self.tid("conversation-input", self.dialog())
        box.fill("sent from the page, <b>not html</b>")
        box.press("Enter")
        expect(via).to_contain_text("Sent through AMC's channel", timeout=10000)
        msg = channel.until(lambda m: m.get("method") == "notifications/claude/channel")
        self.assertEqual(msg["params"]["content"], "sent from the page, <b>not html</b>")
        channel.close()  # the channel goes away: the composer says how it sends now
        expect(via).to_have_attribute("data-via", "pane", timeout=10000)

    def test_a_permission_relayed_by_the_channel_is_denied_by_clicking(self):
        sid, channel = self.session_with_channel()
        self.open_dashboard()
        channel.send({"jsonrpc": "2.0",
                      "method": "notifications/claude/channel/permission_request",
                      "params": {"request_id": "qwert", "tool_name": "Bash",
                                 "description": "Delete the build directory",
                                 "input_preview": "rm -rf build/"}})
        card = self.card(sid)
        self.expect(card).to_have_class(re.compile(r"\bst-needs_attention\b"), timeout=10000)
        self.expect(self.tid("permission-detail", card)).to_contain_text("rm -rf build/")
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="deny"]').click()
        self.assertEqual(json.loads(sent.value.post_data)["text"], "2")  # Deny is option 2 here
        verdict = channel.until(
            lambda m: m.get("method") == "notifications/claude/channel/permission")
        self.assertEqual(verdict["params"], {"request_id": "qwert", "behavior": "deny"})
        self.expect(card).not_to_have_class(re.compile(r"\bst-needs_attention\b"), timeout=10000)


if __name__ == "__main__":
    unittest.main()
