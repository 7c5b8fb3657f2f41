"""The search palette in a real Chromium against a real server and its real index.

Sessions come from the recorded Claude Code 2.1.329 hook payloads through bin/amc-hook (live
cards), or from transcript files alone (past sessions, as the index's walk finds them). Every
search goes to the server's own `/api/search`; nothing is stubbed. The index's progress is seen
on a server whose walk was made slow (its pause between files set to 0.4 s), the only knob
turned. Screenshots land in tests/artifacts/.
"""
import json
import os
import threading
import time
import uuid

from amc_server.index import indexer
from tests.support.browser import PHONE, DashboardTestCase
from tests.support.helpers import FIXTURES, make_server

HOSTILE = os.path.join(FIXTURES, "hostile", "hostile.jsonl")
IN_VIEW = """([box, el]) => { const b = box.getBoundingClientRect(), r = el.getBoundingClientRect();
    return r.top >= b.top - 1 && r.bottom <= b.bottom + 1; }"""


def record(kind, text, n, cwd):
    """Return a prompt (kind "user") or a reply ("assistant") as Claude Code 2.1.329 writes it."""
    base = {"parentUuid": None, "isSidechain": False, "type": kind, "uuid": str(uuid.uuid4()),
            "timestamp": "2026-11-21T10:%02d:%02d.000Z" % (n // 60 % 60, n % 60), "cwd": cwd,
            "sessionId": "x", "version": "2.1.329", "userType": "external"}
    if kind == "user":
        base["message"] = {"role": "user", "content": text}
        base["origin"] = {"kind": "human"}
    else:
        base["message"] = {"id": "msg_%s" % uuid.uuid4().hex[:20], "role": "assistant",
                           "model": "m", "content": [{"type": "text", "text": text}]}
    return base


class SearchCase(DashboardTestCase):
    def palette(self):
        return self.page.locator('[role="dialog"][data-testid="search-palette"]')

    def conversation(self):
        return self.page.locator('[role="dialog"][data-testid="conversation"]')

    def past_session(self, texts, project="old-proj"):
        """Write a transcript with no hook session (a past one); return its id."""
        sid = str(uuid.uuid4())
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-" + project)
        os.makedirs(folder, exist_ok=True)
        cwd = "/home/dev/work/" + project
        with open(os.path.join(folder, sid + ".jsonl"), "w") as f:
            for n, text in enumerate(texts):
                f.write(json.dumps(record("user" if n % 2 == 0 else "assistant", text, n, cwd))
                        + "\n")
        return sid

    def wait_indexed(self, q, n):
        """Wait until the server's index has `n` hits or more for `q` (a new project dir's first
        transcript is found within QUICK_S, see amc_server/index/indexer.py)."""
        import time
        deadline = time.monotonic() + 10
        while len(self.get_json("/api/search?q=" + q)["results"]) < n:
            if time.monotonic() > deadline:
                self.fail("the index never had %d hits for %s" % (n, q))
            time.sleep(0.1)

    def search(self, q):
        """Open the palette with Ctrl+K, type `q`, wait for its hits; return the results list."""
        self.page.keyboard.press("Control+k")
        self.expect(self.palette()).to_be_visible()
        box = self.tid("search-input", self.palette())
        self.expect(box).to_be_focused()
        box.fill(q)
        results = self.tid("search-results", self.palette())
        self.expect(results).to_be_visible()
        return results

    def restart_slow(self, pause_s):
        """Stop the server and start another on this HOME whose walk pauses `pause_s` per file."""
        self._stop_server()
        saved = indexer.SLICE_S, indexer.PAUSE_S
        indexer.SLICE_S, indexer.PAUSE_S = 0.0, pause_s
        self.addCleanup(lambda: setattr(indexer, "SLICE_S", saved[0]) or
                        setattr(indexer, "PAUSE_S", saved[1]))
        self.server = make_server(self.paths, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]


class Palette(SearchCase):
    def test_ctrl_k_groups_hits_by_session_and_enter_opens_the_message(self):
        live = self.feed("ask-option", upto=4)  # waiting: its answer is not written yet
        past = self.past_session(["which database fits best?", "Postgres: the database I trust",
                                  "thanks"], project="old-proj")
        self.open_dashboard()
        self.wait_indexed("database", 4)  # the question (prompt and call) and the past two
        expect = self.expect
        results = self.search("database")
        groups = self.tid("search-group", results)
        expect(groups).to_have_count(2)
        self.assertEqual(set(groups.evaluate_all("els => els.map(e => e.dataset.sessionId)")),
                         {live, past})
        old = results.locator('[data-testid="search-group"][data-session-id="%s"]' % past)
        expect(self.tid("search-project", old)).to_have_text("old-proj")
        expect(self.tid("search-agent", old)).to_have_text("Claude")
        expect(self.tid("search-time", old)).not_to_be_empty()
        expect(self.tid("search-result", old)).to_have_count(2)
        cur = results.locator('[data-testid="search-group"][data-session-id="%s"]' % live)
        expect(self.tid("search-project", cur)).to_have_text("demo-proj")
        expect(self.tid("search-status", cur)).to_have_text("Needs attention")
        for mark in results.locator("mark").all():
            self.assertEqual(mark.inner_text().lower(), "database")
        hits = self.tid("search-result", results)
        expect(hits.first).to_have_attribute("aria-selected", "true")
        self.screenshot("search-palette-1280")

        self.page.keyboard.press("ArrowDown")
        expect(hits.nth(1)).to_have_attribute("aria-selected", "true")
        expect(hits.first).to_have_attribute("aria-selected", "false")
        self.page.keyboard.press("ArrowUp")
        self.page.keyboard.press("ArrowDown")
        chosen = hits.nth(1)
        sid = chosen.evaluate("e => e.closest('[data-testid=search-group]').dataset.sessionId")
        message_id = chosen.get_attribute("data-message-id")
        self.page.keyboard.press("Enter")
        expect(self.palette()).to_have_count(0)
        expect(self.conversation()).to_be_visible()
        target = self.conversation().locator('[data-testid="message"][data-message-id="%s"]'
                                             % message_id)
        expect(target).to_have_attribute("data-search-hit", "true")
        self.assertIn(message_id, [m["id"] for m in self.get_json(
            "/api/conversation/%s" % sid)["messages"]])

    def test_the_top_bar_button_opens_it_and_escape_closes_it_giving_the_focus_back(self):
        self.feed("bash-tool", upto=5)
        self.open_dashboard()
        button = self.page.locator('button[data-testid="search-open"]')
        button.click()
        self.expect(self.palette()).to_be_visible()
        self.expect(self.tid("search-input", self.palette())).to_be_focused()
        self.page.keyboard.press("Escape")
        self.expect(self.palette()).to_have_count(0)
        self.expect(button).to_be_focused()
        self.page.keyboard.press("Control+k")
        box = self.tid("search-input", self.palette())
        box.fill("nothing-like-this-anywhere")
        self.expect(self.tid("search-empty", self.palette())).to_have_text("No matches.")
        self.page.locator(".search-backdrop").click(position={"x": 5, "y": 5})
        self.expect(self.palette()).to_have_count(0)

    def test_a_hit_older_than_the_first_page_loads_it_and_scrolls_there(self):
        sid = self.feed("bash-tool", upto=5)
        path = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj", sid + ".jsonl")
        with open(path, "a") as f:
            for n in range(260):
                f.write(json.dumps(record("user", "PROMPT-%03d kiwi%03d" % (n, n), n,
                                          "/home/dev/work/demo-proj")) + "\n")
        self.open_dashboard()
        results = self.search("kiwi005")
        hit = self.tid("search-result", results)
        self.expect(hit).to_have_count(1)
        message_id = hit.get_attribute("data-message-id")
        hit.click()
        message = self.conversation().locator('[data-testid="message"][data-message-id="%s"]'
                                              % message_id)
        self.expect(message).to_have_attribute("data-search-hit", "true")
        self.expect(message).to_contain_text("PROMPT-005")
        scroller = self.conversation().locator(".conv-scroll")
        self.page.wait_for_function(IN_VIEW, arg=[scroller.element_handle(),
                                                  message.element_handle()])
        self.screenshot("search-opened-at-message", full_page=False)

    def test_a_past_session_opens_from_its_hit(self):
        self.feed("bash-tool", upto=5)
        past = self.past_session(["where is the flamingo config?", "In flamingo.toml.", "ok"],
                                 project="bird-proj")
        self.open_dashboard()
        self.wait_indexed("flamingo", 2)
        results = self.search("flamingo")
        self.expect(self.tid("search-result", results)).to_have_count(2)
        first = self.tid("search-result", results).first.get_attribute("data-message-id")
        self.assertTrue(first.startswith("claude-%s-" % past[:8]), first)
        self.page.keyboard.press("Enter")
        dialog = self.conversation()
        self.expect(dialog).to_be_visible()
        self.expect(dialog.locator("#conv-title")).to_have_text("bird-proj")
        self.expect(dialog.locator('[data-testid="message"]')).to_have_count(3)
        self.expect(dialog.locator('[data-testid="message"][data-message-id="%s"]' % first)
                    ).to_have_attribute("data-search-hit", "true")

    def test_each_group_is_named_by_the_sessions_title_not_a_slash_command_or_an_ide_note(self):
        # the kinds of 1.0.x-2.0.x session whose first user line is a /clear, or an
        # <ide_selection> around the prompt (tests/test_titles.py CASES): the History's title
        from tests.test_titles import CASES, CLEARED, SELECTED
        folder = os.path.join(self.paths.claude_projects, "-Users-dain-workspace-claude-code-log")
        os.makedirs(folder)
        for sid in (CLEARED, SELECTED):
            with open(os.path.join(folder, sid + ".jsonl"), "w", encoding="utf-8") as f:
                f.write("\n".join(CASES[sid][0]) + "\n")
        self.open_dashboard(ready="any")
        deadline = time.monotonic() + 10
        while {h["session_id"] for h in self.get_json("/api/search?q=fix")["results"]} != {
                CLEARED, SELECTED}:
            self.assertLess(time.monotonic(), deadline, "the index never had both sessions")
            time.sleep(0.1)
        results = self.search("fix")
        groups = self.tid("search-group", results)
        self.expect(groups).to_have_count(2)
        for sid in (CLEARED, SELECTED):
            group = results.locator('[data-testid="search-group"][data-session-id="%s"]' % sid)
            self.expect(self.tid("search-title", group)).to_have_text("please fix these")
            self.expect(self.tid("search-project", group)).to_have_text("claude-code-log")
        self.assertEqual(results.locator("[data-testid=search-title] *").count(), 0)

    def test_hostile_snippets_stay_text(self):
        sid = str(uuid.uuid4())
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-hostile")
        os.makedirs(folder, exist_ok=True)
        with open(HOSTILE) as src, open(os.path.join(folder, sid + ".jsonl"), "w") as dst:
            dst.write(src.read())
        self.feed("bash-tool", upto=5)
        self.open_dashboard()
        self.wait_indexed("onerror", 1)
        results = self.search("onerror")
        self.expect(self.tid("search-result", results).first).to_be_visible()
        self.expect(results).to_contain_text("<img")
        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
        self.assertEqual(self.palette().locator("img, script, iframe, svg, object, embed").count(),
                         0, "hostile markup became elements")
        for mark in results.locator("mark").all():
            self.assertEqual(mark.inner_text().lower(), "onerror")
            self.assertEqual(mark.evaluate("e => e.children.length"), 0)

    def test_progress_shows_while_the_index_is_built(self):
        for n in range(8):
            self.past_session(["the heron number %d" % n, "noted"], project="p%d" % n)
        self.restart_slow(0.4)
        self.open_dashboard(ready="empty")
        self.page.keyboard.press("Control+k")
        progress = self.tid("search-progress", self.palette())
        self.expect(progress).to_contain_text("Indexing transcripts")
        self.expect(progress).to_contain_text("of 8")
        self.tid("search-input", self.palette()).fill("heron")
        self.screenshot("search-progress", full_page=False)
        self.expect(progress).to_have_count(0, timeout=15000)
        self.expect(self.tid("search-group", self.palette())).to_have_count(8)


class PhonePalette(SearchCase):
    viewport = PHONE

    def test_phone_width_has_no_horizontal_scroll(self):
        self.feed("ask-option", upto=4)
        self.open_dashboard()
        self.wait_indexed("database", 1)
        self.page.locator('button[data-testid="search-open"]').click()
        box = self.tid("search-input", self.palette())
        box.fill("database")
        self.expect(self.tid("search-result", self.palette()).first).to_be_visible()
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        self.assertLessEqual(width, PHONE["width"])
        self.screenshot("search-palette-390", full_page=False)
