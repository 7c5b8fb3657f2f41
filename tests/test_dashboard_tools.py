"""Tool calls a person can read, and subagents in place, in a real Chromium on a real server.

The transcripts are real: tests/fixtures/claude-code-2.1.329/tool-views (the real CLI running
Write, Edit, Read of a text file and of a PNG, coloured Bash output and a WebFetch) and
.../subagents (two background Agent calls, recorded while one still ran and after both ended,
with the hook payloads), Codex 0.169.0 applying an Update/Add/Delete patch, and the public
fixtures (1.0.108: TodoWrite, MultiEdit, Glob and inline subagents; 2.0.55: Grep, a subagent file
beside the session; 2.1.114: the task tools). Sessions come from replaying recorded hook
payloads through the real bin/amc-hook (tests/support/browser.py). lib/diff.js and lib/ansi.js are
checked in the page itself with page.evaluate. Screenshots go to tests/artifacts/tools-*.png.
"""
import json
import os
import re
import shutil
import time

from tests.support.browser import DashboardTestCase, PHONE
from tests.support.helpers import FIXTURES

RECORDED = os.path.join(FIXTURES, "claude-code-2.1.329")
PUBLIC = os.path.join(FIXTURES, "public", "claude")
TOOLS_SID = "54443e12-7251-487d-b2fe-5c47241fb29c"
SUB_SID = "6d8f2817-2940-4de6-8d18-af853a173f29"
SLOW, ECHO = "af97e6de73497bedd", "ae4323c0a7088b4ea"
PROJECT_DIR = "-home-dev-work-demo-proj"


class ToolViews(DashboardTestCase):
    def dialog(self):
        return self.page.locator('[role="dialog"][data-testid="conversation"]')

    def open_conversation(self, sid):
        self.open_dashboard()
        self.tid("open-conversation", self.card(sid)).click()
        self.expect(self.dialog()).to_be_visible()
        self.expect(self.dialog().locator('[data-testid="message"]').first).to_be_visible()

    def call(self, name, nth=0, within=None):
        """Return the nth tool call named `name`, opened."""
        calls = (within or self.dialog()).locator(
            'details[data-testid="tool-call"]'
            ':has(> summary [data-testid="tool-name"]:text-is("%s"))' % name)
        call = calls.nth(nth)
        call.scroll_into_view_if_needed()
        if not call.evaluate("e => e.open"):
            call.locator("summary").first.click()
        self.expect(call.locator(".tool-body").first).to_be_visible()
        return call

    def call_with(self, name, summary, within=None):
        """Return the tool call named `name` whose summary contains `summary`, opened."""
        calls = (within or self.dialog()).locator('details[data-testid="tool-call"]').filter(
            has=self.page.locator('summary [data-testid="tool-name"]', has_text=name)).filter(
            has=self.page.locator('summary [data-testid="tool-summary"]', has_text=summary))
        call = calls.first
        call.scroll_into_view_if_needed()
        if not call.evaluate("e => e.open"):
            call.locator("summary").first.click()
        self.expect(call.locator(".tool-body").first).to_be_visible()
        return call

    def project_path(self):
        return os.path.join(self.paths.claude_projects, PROJECT_DIR)

    def session_with(self, transcript, scenario="bash-tool"):
        """A hook session (recorded payloads) whose transcript is `transcript`; return its id."""
        return self.feed(scenario, upto=5, session_id=self.new_id(), transcript=transcript)

    def append(self, sid, *records):
        with open(os.path.join(self.project_path(), sid + ".jsonl"), "a") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")

    @staticmethod
    def tool_turn(n, name, tool_input, result, is_error=False, stamp="2026-12-01T23:20:00.000Z"):
        call_id = "toolu_synth%04d" % n
        return [
            {"type": "assistant", "uuid": "a-synth-%d" % n, "timestamp": stamp,
             "isSidechain": False, "message": {"id": "msg_synth%d" % n, "role": "assistant", "model": "m", "content": [
                 {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}]}},
            {"type": "user", "uuid": "u-synth-%d" % n, "timestamp": stamp, "isSidechain": False,
             "message": {"role": "user", "content": [
                 {"type": "tool_result", "tool_use_id": call_id, "content": result,
                  "is_error": is_error}]}}]

    def texts(self, locator):
        return locator.evaluate_all("els => els.map(e => e.textContent)")

    def artifact(self, name):
        """Return tests/artifacts/<name>.png (for a screenshot of one element)."""
        folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, name + ".png")

    def assert_no_escapes_or_markup(self, where):
        self.assertNotIn("\u001b", where.evaluate("e => e.textContent"))
        self.assertEqual(where.locator("script, iframe, object, embed, svg").count(), 0)
        self.assertIsNone(self.page.evaluate("() => window.__pwned"))


class Diffs(ToolViews):
    def test_write_and_edit_of_the_recorded_session_as_numbered_diffs(self):
        sid = self.feed("tool-views", upto=5)
        self.assertEqual(sid, TOOLS_SID)
        self.open_conversation(sid)
        expect = self.expect
        write = self.call("Write")
        expect(write).to_have_attribute("data-view", "diff")
        expect(self.tid("diff-path", write)).to_have_text("/home/dev/work/demo-proj/notes.txt")
        expect(self.tid("diff-stats", write)).to_have_text("+12 −0")
        lines = write.locator('[data-testid="diff-line"]')
        expect(lines).to_have_count(12)
        self.assertEqual(set(lines.evaluate_all("els => els.map(e => e.dataset.op)")), {"+"})
        self.assertEqual(self.texts(self.tid("ln-new", write)), [str(n) for n in range(1, 13)])
        self.assertEqual(self.texts(write.locator('[data-testid="diff-line"] .code'))[2],
                         "line 3 of the notes")

        edit = self.call("Edit")
        expect(self.tid("diff-stats", edit)).to_have_text("+2 −1")
        rows = edit.locator('[data-testid="diff-line"]').evaluate_all(
            "els => els.map(e => [e.dataset.op, e.querySelector('.code').textContent,"
            " e.querySelector('[data-testid=ln-old]').textContent,"
            " e.querySelector('[data-testid=ln-new]').textContent])")
        self.assertEqual(rows, [["-", "line 3 of the notes", "1", ""],
                                ["+", "line 3 was changed", "", "1"],
                                ["+", "line 3b is new", "", "2"],
                                ["=", "line 4 of the notes", "2", "3"]])
        edit.scroll_into_view_if_needed()
        edit.screenshot(path=self.artifact("tools-edit-diff"))
        # one click away: the JSON as before
        self.tid("tool-raw-toggle", edit).click()
        expect(edit).to_have_attribute("data-view", "raw")
        expect(self.tid("tool-input", edit)).to_contain_text('"old_string"')
        expect(self.tid("tool-result", edit)).to_contain_text("has been updated successfully")
        expect(edit.locator('[data-testid="diff-line"]')).to_have_count(0)
        self.tid("tool-raw-toggle", edit).click()
        expect(edit.locator('[data-testid="diff-line"]')).to_have_count(4)

    def test_long_diffs_collapse_past_40_lines_and_a_huge_write_is_loaded_on_demand(self):
        sid = self.feed("tool-views", upto=5)
        long_text = "".join("row %d\n" % i for i in range(1, 101))
        huge = "".join("huge line %06d %s\n" % (i, "x" * 60) for i in range(40000))  # ~2.8 MB
        self.append(sid, *self.tool_turn(1, "Write", {"file_path": "/w/long.txt",
                                                      "content": long_text}, "File created"),
                    *self.tool_turn(2, "Write", {"file_path": "/w/huge.txt", "content": huge},
                                    "File created"))
        with self.page.expect_response(lambda r: "/api/conversation/" in r.url
                                       and "/part" not in r.url) as first:
            self.open_conversation(sid)
        self.assertLess(len(first.value.body()), 200000, "the conversation shipped the huge Write")
        expect = self.expect
        long_call = self.call("Write", 1)
        lines = long_call.locator('[data-testid="diff-line"]')
        expect(lines).to_have_count(40)
        expect(self.tid("diff-stats", long_call)).to_have_text("+100 −0")
        expect(self.tid("diff-expand", long_call)).to_contain_text("60 hidden")
        self.tid("diff-expand", long_call).click()
        expect(lines).to_have_count(100)
        expect(self.tid("diff-expand", long_call)).to_have_count(0)
        self.assertEqual(self.texts(self.tid("ln-new", long_call))[-1], "100")

        huge_call = self.call("Write", 2)
        omitted = huge_call.locator('[data-testid="part-omitted"][data-field="input"]')
        expect(omitted).to_contain_text("not loaded")
        expect(huge_call.locator('[data-testid="diff-line"]')).to_have_count(0)
        with self.page.expect_response(lambda r: "/part?" in r.url) as part:
            self.tid("load-part", huge_call).click()
        self.assertIn("field=input", part.value.url)
        expect(huge_call.locator('[data-testid="diff-line"]')).to_have_count(40)
        expect(self.tid("diff-stats", huge_call)).to_have_text("+40000 −0")
        self.tid("diff-expand", huge_call).click()
        expect(huge_call.locator('[data-testid="diff-line"]')).to_have_count(400)
        self.assertLess(huge_call.locator("tr").count(), 1000, "a huge Write rendered whole")

    def test_multiedit_from_1_0_108_shows_one_hunk_per_edit(self):
        sid = self.session_with(os.path.join(PUBLIC,
                                             "cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl"))
        self.open_conversation(sid)
        call = self.call("MultiEdit")
        self.expect(call).to_have_attribute("data-view", "diff")
        self.expect(self.tid("diff-path", call)).to_have_text("/path/to/Demo/CLAUDE.md")
        hunks = self.tid("diff-hunk", call)
        self.expect(hunks.first).to_have_text("edit 1 of 6")
        self.assertGreater(call.locator('[data-testid="diff-line"][data-op="+"]').count(), 0)
        self.assertGreater(call.locator('[data-testid="diff-line"][data-op="-"]').count(), 0)
        # the failed Edit before it shows its error under the diff
        failed = self.call("Edit")
        self.expect(self.tid("tool-error", failed)).to_have_count(1)
        self.expect(self.tid("tool-result", failed)).to_contain_text("File has not been read yet")

    def test_codex_apply_patch_update_add_delete(self):
        sid = "01a233de-1040-7120-bf0d-a0b27779632b"
        day = os.path.join(self.paths.codex_sessions, time.strftime("%Y/%m/%d"))
        os.makedirs(day)
        shutil.copy(os.path.join(FIXTURES, "codex-0.169.0",
                                 "apply-patch-update", "rollout.jsonl"),
                    os.path.join(day, "rollout-%s-%s.jsonl" % (time.strftime("%Y-%m-%dT%H-%M-%S"),
                                                               sid)))
        self.open_conversation(sid)
        call = self.call("apply_patch")
        expect = self.expect
        expect(call).to_have_attribute("data-view", "diff")
        files = call.locator('[data-testid="diff-file"]')
        expect(files).to_have_count(3)
        self.assertEqual(files.evaluate_all("els => els.map(e => e.dataset.kind)"),
                         ["update", "add", "delete"])
        self.assertEqual(self.texts(self.tid("diff-path", call)), ["app.py", "NOTES.md", "old.txt"])
        update = files.nth(0)
        self.assertEqual(self.texts(self.tid("diff-hunk", update)),
                         ["@@ def greet(name):", "@@ def main():"])
        expect(self.tid("diff-stats", update)).to_have_text("+3 −2")
        self.assertEqual(self.texts(update.locator('[data-testid="diff-line"][data-op="+"] .code')),
                         ['    greeting = "Hello, " + name + "!"', "    return greeting",
                          '    print(greet("Codex"))'])
        add = files.nth(1)
        self.assertEqual(self.texts(self.tid("ln-new", add)), ["1", "2", "3"])
        expect(files.nth(2)).to_contain_text("deleted")
        call.scroll_into_view_if_needed()
        call.screenshot(path=self.artifact("tools-apply-patch"))

    def test_diff_and_ansi_modules_in_the_page(self):
        self.open_dashboard(ready="any")
        result = self.page.evaluate("""async () => {
          const d = await import("/lib/diff.js");
          const split = d.splitLines;
          const lcs = (a, b) => { const t = Array.from({length: a.length + 1}, () => new Array(b.length + 1).fill(0));
            for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--)
              t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
            return t[0][0]; };
          let seed = 7; const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
          const gen = () => Array.from({length: Math.floor(rnd() * 14)}, () => "abc"[Math.floor(rnd() * 3)]);
          let bad = 0;
          for (let t = 0; t < 600; t++) {
            const a = gen(), b = gen();
            const rows = d.diffLines(a.join("\\n"), b.join("\\n"));
            const A = rows.filter(r => r.op !== "+").map(r => r.text), B = rows.filter(r => r.op !== "-").map(r => r.text);
            const numbersA = rows.filter(r => r.op !== "+").map(r => r.a), numbersB = rows.filter(r => r.op !== "-").map(r => r.b);
            if (A.join() !== a.join() || B.join() !== b.join()) bad++;
            if (rows.filter(r => r.op === "=").length !== lcs(a, b)) bad++;
            if (numbersA.join() !== a.map((_, i) => i + 1).join() || numbersB.join() !== b.map((_, i) => i + 1).join()) bad++;
          }
          const big = Array.from({length: 30000}, (_, i) => "l" + i).join("\\n");
          const shuffled = Array.from({length: 30000}, (_, i) => "l" + (i * 7919 % 30000)).join("\\n");
          const t0 = performance.now();
          const fallback = d.diffLines(big, shuffled);
          const ms = performance.now() - t0;
          const a = await import("/lib/ansi.js");
          return {bad, ms, fallback: d.diffStats(fallback), empty: d.diffLines("", "").length,
            crlf: d.splitLines("a\\nb\\n"),
            segs: a.parseAnsi("\\u001b[31mred\\u001b[0m \\u001b[1;32mbold\\u001b[22m \\u001b[38;5;208mo\\u001b[48;2;1;2;3mx\\u001b[0m"),
            cr: a.plainAnsi("10%\\r20%\\r30%\\nnext"),
            osc: a.plainAnsi("\\u001b]8;;https://x\\u0007link\\u001b]8;;\\u0007 \\u001b[2J\\u001b[Hhome\\u0007\\u0000\\u009b1mz"),
            patch: d.parsePatch("*** Begin Patch\\n*** Update File: a\\n*** Move to: b\\n@@ -10,2 +10,2 @@\\n x\\n-y\\n+z\\n*** End Patch")};
        }""")
        self.assertEqual(result["bad"], 0)
        self.assertLess(result["ms"], 3000)
        self.assertEqual(result["fallback"], {"added": 29999, "removed": 29999})
        self.assertEqual((result["empty"], result["crlf"]), (0, ["a", "b"]))
        self.assertEqual(result["segs"], [
            {"text": "red", "cls": "ansi-fg-1", "style": None},
            {"text": " ", "cls": "", "style": None},
            {"text": "bold", "cls": "ansi-fg-2 ansi-bold", "style": None},
            {"text": " ", "cls": "ansi-fg-2", "style": None},
            {"text": "o", "cls": "", "style": {"color": "rgb(255, 135, 0)"}},
            {"text": "x", "cls": "", "style": {"color": "rgb(255, 135, 0)",
                                               "backgroundColor": "rgb(1, 2, 3)"}}])
        self.assertEqual(result["cr"], "30%\nnext")
        self.assertEqual(result["osc"], "link homez")
        [patched] = result["patch"]
        self.assertEqual((patched["path"], patched["moveTo"]), ("a", "b"))
        self.assertEqual([(r["op"], r["a"], r["b"]) for r in patched["hunks"][0]["rows"]],
                         [("=", 10, 10), ("-", 11, 0), ("+", 0, 11)])


class Rewound(ToolViews):
    def test_after_a_rewind_the_page_shows_the_branch_the_user_is_on(self):
        sid = self.session_with(os.path.join(PUBLIC, "cc-2.1.42-progress-filehistory-03eb5929.jsonl"))
        self.open_conversation(sid)
        again = self.dialog().locator('[data-testid="message"][data-role="user"]').filter(
            has_text="I actually don't like much this idea")
        self.expect(self.tid("rewound", again)).to_have_text("rewound")
        self.expect(self.tid("rewound", again)).to_have_attribute(
            "title", re.compile(r"the 6 messages of the earlier branch are hidden"))
        self.expect(self.dialog()).not_to_contain_text("I very much like this idea")
        self.expect(self.tid("rewound", self.dialog())).to_have_count(1)


class Outputs(ToolViews):
    def test_bash_output_colours_are_spans_of_text(self):
        sid = self.feed("tool-views", upto=5)
        self.open_conversation(sid)
        call = self.call("Bash")
        expect = self.expect
        expect(call).to_have_attribute("data-view", "bash")
        expect(self.tid("bash-command", call)).to_contain_text("printf")
        expect(self.tid("bash-description", call)).to_have_text("Print coloured text")
        out = self.tid("ansi-output", call)
        expect(out).to_have_text("red plain bold green orange\nsecond line")
        spans = out.locator("span").evaluate_all(
            "els => els.map(e => [e.textContent, e.className, e.style.color])")
        self.assertEqual(spans, [["red", "ansi-fg-1", ""],
                                 ["bold green", "ansi-fg-2 ansi-bold", ""],
                                 ["orange", "", "rgb(255, 135, 0)"]])
        red = out.locator("span.ansi-fg-1").evaluate("e => getComputedStyle(e).color")
        self.assertNotEqual(red, out.evaluate("e => getComputedStyle(e).color"))
        self.assert_no_escapes_or_markup(call)
        call.scroll_into_view_if_needed()
        call.screenshot(path=self.artifact("tools-bash-ansi"))

    def test_hostile_output_stays_text(self):
        sid = self.feed("tool-views", upto=5)
        hostile = ("\u001b[31m<img src=x onerror=\"window.__pwned=1\">\u001b[0m\u001b]0;title\u0007"
                   "\u001b]8;;javascript:window.__pwned=2\u0007click\u001b]8;;\u0007 <script>"
                   "window.__pwned=3</script>\u001b[38;5;999mX\u001b[38;2;999;-5mY\r\u001b[2K"
                   "overwritten")
        self.append(sid, *self.tool_turn(3, "Bash", {"command": "cat <evil>", "description":
                                                     "<b onmouseover=x>d</b>"}, hostile))
        self.open_conversation(sid)
        call = self.call("Bash", 1)
        out = self.tid("ansi-output", call)
        self.expect(out).to_have_text("overwritten")
        self.assertEqual(call.locator("img, a, b").count(), 0)
        self.assert_no_escapes_or_markup(call)
        self.expect(self.tid("bash-description", call)).to_have_text("<b onmouseover=x>d</b>")

    def test_read_grep_glob_say_what_and_how_many(self):
        sid = self.feed("tool-views", upto=5)
        self.open_conversation(sid)
        expect = self.expect
        read = self.call("Read")
        expect(read).to_have_attribute("data-view", "files")
        expect(self.tid("files-path", read)).to_have_text("/home/dev/work/demo-proj/notes.txt")
        expect(self.tid("files-count", read)).to_have_text("13 lines")
        expect(self.tid("tool-result", read)).to_contain_text("line 3b is new")

        sid = self.session_with(os.path.join(
            PUBLIC, "cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl"))
        self.tid("close-conversation").click()
        self.open_conversation(sid)
        glob = self.call_with("Glob", "/src/deep-manifest/tests")
        expect(self.tid("files-path", glob)).to_have_text("**/*")
        expect(self.tid("files-where", glob)).to_have_text("/src/deep-manifest/tests")
        listed = [line for line in self.tid("tool-result", glob).inner_text().split("\n") if line]
        expect(self.tid("files-count", glob)).to_have_text("%d files" % len(listed))
        grep = self.call("Grep")
        expect(self.tid("files-path", grep)).to_have_text("test_corrupted")
        expect(self.tid("files-where", grep)).to_have_text("tests/")
        expect(self.tid("files-detail", grep)).to_contain_text("content")
        # five matches; the tool's "[Showing results with pagination ...]" note is not one
        expect(self.tid("files-count", grep)).to_have_text("5 matching lines")
        grep.scroll_into_view_if_needed()
        grep.screenshot(path=self.artifact("tools-files"))

    def test_todos_and_task_tools_as_checklists(self):
        sid = self.session_with(os.path.join(PUBLIC,
                                             "cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl"))
        self.open_conversation(sid)
        expect = self.expect
        todos = self.call("TodoWrite", 2)
        expect(todos).to_have_attribute("data-view", "todos")
        items = todos.locator('[data-testid="todo-item"]')
        expect(items).to_have_count(4)
        self.assertEqual(items.evaluate_all("els => els.map(e => e.dataset.status)"),
                         ["completed", "in_progress", "in_progress", "pending"])
        expect(items.first).to_contain_text("Discover available commands in the project")
        expect(items.first).to_contain_text("done")
        todos.scroll_into_view_if_needed()
        todos.screenshot(path=self.artifact("tools-todos"))

        sid = self.session_with(os.path.join(
            PUBLIC, "cc-2.1.114-teammates-worktrees-ef958aa1.jsonl"))
        self.tid("close-conversation").click()
        self.open_conversation(sid)
        create = self.call("TaskCreate")
        expect(self.tid("todo-item", create)).to_contain_text("Research plan mode (alice)")
        expect(self.tid("todo-item", create)).to_have_attribute("data-status", "pending")
        update = self.call("TaskUpdate", 3)
        expect(self.tid("todo-item", update)).to_have_attribute("data-status", "completed")
        expect(self.tid("todo-item", update)).to_contain_text("Task #1")

    def test_web_fetch_and_search_as_links_only_for_http(self):
        sid = self.feed("tool-views", upto=5)
        search_result = ('Web search results for query: "amc"\n\nLinks: [{"title":"AMC docs",'
                         '"url":"https://example.org/amc"},{"title":"Evil","url":"javascript:'
                         'window.__pwned=9"},{"title":"Data","url":"data:text/html,<b>x</b>"}]')
        self.append(sid, *self.tool_turn(4, "WebSearch", {"query": "amc dashboard",
                                                          "allowed_domains": ["example.org"]},
                                         search_result))
        self.open_conversation(sid)
        expect = self.expect
        fetch = self.call("WebFetch")
        expect(fetch).to_have_attribute("data-view", "web")
        link = self.tid("web-url", fetch)
        expect(link).to_have_attribute("href", "https://example.com/docs?page=1")
        expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(self.tid("web-prompt", fetch)).to_have_text("Summarise the page")
        expect(self.tid("tool-error", fetch)).to_have_count(1)
        expect(self.tid("tool-result", fetch)).to_contain_text("Unable to verify")

        search = self.call("WebSearch")
        expect(self.tid("web-query", search)).to_contain_text("amc dashboard")
        links = self.tid("web-link", search)
        expect(links).to_have_count(3)
        self.assertEqual(search.locator("a[href]").evaluate_all("els => els.map(e => e.href)"),
                         ["https://example.org/amc"])
        expect(links.nth(1)).to_have_text("Evil")
        self.assert_no_escapes_or_markup(search)
        search.scroll_into_view_if_needed()
        search.screenshot(path=self.artifact("tools-web"))


class Images(ToolViews):
    def image_requests(self):
        return [r for r in self.requests if "/image?" in r.url]

    def test_a_read_png_is_a_thumbnail_fetched_when_shown(self):
        sid = self.feed("tool-views", upto=5)
        self.open_conversation(sid)
        self.assertEqual(self.image_requests(), [])
        with self.page.expect_response(lambda r: "/image?" in r.url) as answer:
            call = self.call("Read", 1)
        self.assertEqual(answer.value.status, 200)
        self.assertEqual(answer.value.headers["content-type"], "image/png")
        thumb = self.tid("image-thumb", call)
        self.expect(self.tid("image-placeholder", call)).to_have_attribute("data-state", "loaded")
        self.assertEqual(thumb.evaluate("e => [e.naturalWidth, e.naturalHeight]"), [48, 32])
        self.assertTrue(thumb.get_attribute("src").startswith(
            "/api/conversation/%s/image?message=" % sid))
        self.expect(self.tid("image-placeholder", call)).to_contain_text("Image: image/png, 2 KB")
        self.expect(self.tid("files-count", call)).to_have_text("an image")
        self.expect(self.tid("tool-result", call)).not_to_contain_text("[image image/png")
        self.tid("image-open", call).click()
        self.expect(self.tid("image-open", call)).to_have_attribute("aria-pressed", "true")
        self.expect(thumb).to_have_class("big")
        call.screenshot(path=self.artifact("tools-image"))

    def test_a_prompt_image_far_up_loads_only_once_scrolled_to(self):
        sid = self.feed("tool-views", upto=5)
        with open(os.path.join(FIXTURES, "hostile", "hostile.jsonl")) as f:
            image_line = json.loads(f.readline())  # a prompt with a 1x1 PNG (and hostile text)
        image_line.update(sessionId=sid, timestamp="2026-12-01T23:21:00.000Z")
        filler = []
        for n in range(60):
            filler += self.tool_turn(10 + n, "Bash", {"command": "echo %d" % n}, "out %d" % n)
        self.append(sid, image_line, *filler)
        self.open_conversation(sid)
        placeholder = self.dialog().locator('[data-testid="message"][data-role="user"] '
                                            '[data-testid="image-placeholder"]')
        self.expect(placeholder).to_have_attribute("data-state", "waiting")
        self.page.wait_for_timeout(300)
        self.assertEqual(self.image_requests(), [], "an image far up was fetched unseen")
        with self.page.expect_response(lambda r: "/image?" in r.url) as answer:
            placeholder.scroll_into_view_if_needed()
        self.assertEqual(answer.value.status, 200)
        self.expect(placeholder).to_have_attribute("data-state", "loaded")
        self.assertIsNone(self.page.evaluate("() => window.__pwned"))

    def test_an_image_the_server_refuses_says_so(self):
        sid = self.feed("tool-views", upto=5)
        self.append(sid, {"type": "user", "uuid": "u-bad", "timestamp": "2026-12-01T23:22:00.000Z",
                          "message": {"role": "user", "content": [
                              {"type": "text", "text": "a fake png"},
                              {"type": "image", "source": {"type": "base64", "media_type":
                                                           "image/png", "data": "PGh0bWw+"}}]}})
        self.allow_console_error(r"Failed to load resource|status of 400")
        self.open_conversation(sid)
        placeholder = self.dialog().locator('[data-testid="image-placeholder"]').last
        self.expect(placeholder).to_have_attribute("data-state", "failed")
        self.expect(self.tid("image-error", placeholder)).to_have_text("could not be shown")
        self.assertEqual(placeholder.locator("img").count(), 0)


class Subagents(ToolViews):
    def install_subagents(self, state=""):
        base = os.path.join(RECORDED, "subagents", state)
        target = os.path.join(self.project_path(), SUB_SID, "subagents")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # shutil.copy: fresh mtimes, as files the CLI has just written (the count without hooks
        # looks at how recently a subagent wrote)
        shutil.copytree(os.path.join(base, "subagents"), target, dirs_exist_ok=True,
                        copy_function=shutil.copy)
        return base

    def test_recorded_agents_show_their_own_conversations_in_place(self):
        self.install_subagents()
        sid = self.feed("subagents")
        self.assertEqual(sid, SUB_SID)
        self.open_conversation(sid)
        expect = self.expect
        slow = self.call("Agent", 0)
        expect(slow).to_have_attribute("data-view", "subagent")
        view = self.tid("subagent", slow)
        expect(view).to_have_attribute("data-status", "done")
        expect(view).to_have_attribute("data-agent-id", SLOW)
        expect(view).to_have_attribute("data-layout", "subagents")
        expect(self.tid("subagent-description", slow)).to_have_text("Slow look around")
        expect(self.tid("subagent-type", slow)).to_have_text("general-purpose")
        with self.page.expect_response(lambda r: "subagent=" + SLOW in r.url) as answer:
            self.tid("subagent-open", slow).click()
        self.assertEqual(answer.value.status, 200)
        inner = self.tid("subagent-messages", slow)
        expect(inner.locator('[data-testid="message"][data-role="user"]')).to_contain_text(
            "GATED: look around")
        expect(inner.locator('[data-testid="message"][data-role="assistant"]')).to_contain_text(
            "Looked around: nothing odd.")
        echo = self.call("Agent", 1)
        self.tid("subagent-open", echo).click()
        inner_echo = self.tid("subagent-messages", echo)
        bash = self.call("Bash", 0, within=inner_echo)
        expect(self.tid("ansi-output", bash)).to_have_text("from-subagent")
        slow.scroll_into_view_if_needed()
        self.dialog().screenshot(path=self.artifact("tools-subagents"))
        # the card of a session whose subagents all ended says nothing about them
        self.tid("close-conversation").click()
        expect(self.tid("subagents-running", self.card(sid))).to_have_count(0)

    def test_a_running_subagent_turns_done_live_and_the_card_counts_it(self):
        base = self.install_subagents("running")
        with open(os.path.join(base, "hooks.jsonl")) as f:
            recorded = sum(1 for line in f if line.strip())  # the hooks fired until then
        sid = self.feed("subagents", transcript=os.path.join(base, "transcript.jsonl"),
                        upto=recorded)
        self.open_dashboard()
        expect = self.expect
        note = self.tid("subagents-running", self.card(sid))
        expect(note).to_have_text("1 subagent running")
        self.card(sid).screenshot(path=self.artifact("tools-card-subagents"))
        self.tid("open-conversation", self.card(sid)).click()
        slow = self.call("Agent", 0)
        expect(self.tid("subagent", slow)).to_have_attribute("data-status", "running")
        expect(self.tid("subagent-badge", slow)).to_have_text("running")
        expect(self.tid("subagent", self.call("Agent", 1))).to_have_attribute("data-status", "done")
        self.tid("subagent-open", slow).click()
        inner = self.tid("subagent-messages", slow)
        expect(inner.locator('[data-testid="message"]')).to_have_count(1)
        # the CLI finishes: the rest of the parent transcript, the subagents' final files, hooks
        self.install_subagents()
        path = os.path.join(self.project_path(), sid + ".jsonl")
        with open(os.path.join(RECORDED, "subagents", "transcript.jsonl"), "rb") as f:
            done = f.read()
        with open(path, "ab") as f:
            f.write(done[os.path.getsize(path):])
        with open(os.path.join(RECORDED, "subagents", "hooks.jsonl")) as f:
            payloads = [json.loads(line)["payload"] for line in f if line.strip()]
        for payload in payloads[recorded:]:
            self.assertEqual(self.run_hook(dict(payload, transcript_path=path,
                                                cwd="/home/dev/work/demo-proj")).returncode, 0)
        expect(self.tid("subagent", slow)).to_have_attribute("data-status", "done")
        expect(inner.locator('[data-testid="message"][data-role="assistant"]')).to_contain_text(
            "Looked around: nothing odd.")
        self.tid("close-conversation").click()
        expect(note).to_have_count(0)

    def test_inline_and_beside_layouts_open_in_place(self):
        sid = self.session_with(os.path.join(PUBLIC,
                                             "cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl"))
        self.open_conversation(sid)
        expect = self.expect
        failed = self.call("Task", 0)
        expect(self.tid("subagent-missing", failed)).to_have_text("No subagent ran.")
        package = self.call("Task", 1)
        expect(self.tid("subagent", package)).to_have_attribute("data-layout", "inline")
        self.tid("subagent-open", package).click()
        inner = self.tid("subagent-messages", package)
        expect(inner.locator('[data-testid="message"]').first).to_contain_text(
            "Examine the package.json file(s)")
        glob = self.call("Glob", 0, within=inner)
        expect(self.tid("files-count", glob)).to_have_text("1 file")

        sid = "a7da6a22-facc-4fcd-8bab-f83c87862004"
        self.feed("bash-tool", upto=5, session_id=sid, transcript=os.path.join(
            PUBLIC, "cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl"))
        shutil.copy(os.path.join(PUBLIC, "cc-2.0.55-project-level-agent-c8d9b115.jsonl"),
                    os.path.join(self.project_path(), "agent-c8d9b115.jsonl"))
        self.tid("close-conversation").click()
        self.open_conversation(sid)
        task = self.call("Task", 0)
        expect(self.tid("subagent", task)).to_have_attribute("data-layout", "beside")
        self.tid("subagent-open", task).click()
        inner = self.tid("subagent-messages", task)
        expect(inner.locator('[data-testid="message"]').first).to_contain_text(
            "explore the deep-manifest codebase")

    def test_a_phone_shows_subagents_and_diffs_without_sideways_scroll(self):
        self.page.set_viewport_size(PHONE)
        self.install_subagents()
        sid = self.feed("subagents")
        self.open_conversation(sid)
        self.tid("subagent-open", self.call("Agent", 1)).click()
        self.expect(self.tid("subagent-messages", self.call("Agent", 1))).to_be_visible()
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        self.assertLessEqual(width, PHONE["width"])
        self.page.screenshot(path=self.artifact("tools-subagents-390"), full_page=False)
