"""The Timeline and the Activity view in a real Chromium against a real server.

Sessions come from the recorded Claude Code 2.1.329 hook payloads replayed through the real
bin/amc-hook; prompt history is what the real CLI writes (tests/test_activity.py:
RECORDED_HISTORY); a burst is 500 hook records appended to a session's event log, as hooks
write them, while the page is watched for how it keeps up (MutationObserver, frame gaps, the
reaction to a click). No answer is faked: the page reads /api/events, /api/activity and the
stream of this server. Screenshots land in tests/artifacts/.
"""
import json
import os
import threading
import time

from tests.support.browser import PHONE, DashboardTestCase
from tests.test_activity import RECORDED_HISTORY

from amc_server import model, store

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>\x1b[31mred'


class Timeline(DashboardTestCase):
    def test_prompts_tools_and_waits_with_how_long_they_lasted_and_live(self):
        sid = self.feed("permission-prompt", upto=7)   # up to Stop: waiting for the next prompt
        self.open_dashboard()
        self.tid("open-conversation", self.card(sid)).click()
        dialog = self.page.locator('[role="dialog"][data-testid="conversation"]')
        timeline = dialog.locator('details[data-testid="timeline"]')
        self.expect(timeline).to_be_visible()
        self.assertEqual(self.gets("/api/events/"), [], "fetched before it was opened")
        timeline.locator("summary").click()
        items = timeline.locator('[data-testid="timeline-item"]')
        self.expect(items).to_have_count(5)
        kinds = items.evaluate_all("els => els.map(e => e.dataset.kind)")
        self.assertEqual(kinds, ["session", "prompt", "tool", "wait", "wait"])
        self.expect(items.nth(1)).to_contain_text("BASH: touch made-by-agent.txt")
        self.expect(items.nth(2)).to_contain_text("Bash")
        self.expect(self.tid("timeline-duration", items.nth(2))).to_have_text("126 ms")
        self.expect(items.nth(3)).to_contain_text("Permission for Bash: touch made-by-agent.txt")
        self.assertRegex(self.tid("timeline-duration", items.nth(3)).inner_text(),
                         r"^\d+ ms$|^\d+s$")
        self.expect(items.nth(4)).to_contain_text("Turn ended")
        self.expect(self.tid("timeline-duration", items.nth(4))).to_have_text("still waiting")
        self.screenshot("timeline-1280")
        # the next prompt ends the wait: the open timeline follows by itself
        self.run_hook({"session_id": sid, "hook_event_name": "UserPromptSubmit",
                       "prompt": "and now " + HOSTILE, "cwd": "/home/dev/work/demo-proj",
                       "transcript_path": ""})
        self.expect(items).to_have_count(6)
        self.expect(self.tid("timeline-duration", items.nth(4))).not_to_have_text("still waiting")
        self.assertRegex(self.tid("timeline-duration", items.nth(4)).inner_text(),
                         r"^\d+ ms$|^\d+s$")
        self.expect(items.nth(5)).to_have_attribute("data-kind", "prompt")
        self.expect(items.nth(5)).to_contain_text('and now <img src=x onerror="window.__pwned=1">')
        self.assertIsNone(self.page.evaluate("() => window.__pwned"))
        self.assertEqual(timeline.locator("img, script").count(), 0)


class Activity(DashboardTestCase):
    def open_activity(self):
        self.page.locator('button[data-testid="open-activity"]').click()
        view = self.page.locator('[role="dialog"][data-testid="activity"]')
        self.expect(view).to_be_visible()
        return view

    def rows(self, view):
        return view.locator('[data-testid="activity-row"]')

    def write_history(self, text):
        os.makedirs(self.paths.claude_dir, exist_ok=True)
        with open(self.paths.claude_history, "a") as f:
            f.write(text)

    def test_backlog_newest_first_then_live_rows_that_open_to_their_raw_json(self):
        self.feed("bash-tool", upto=5)
        self.write_history(RECORDED_HISTORY + "this line is not JSON\n")
        self.open_dashboard()
        view = self.open_activity()
        rows = self.rows(view)
        self.expect(rows).to_have_count(9)   # 5 hook events, 3 typed prompts, 1 broken line
        self.expect(view.locator('[data-testid="activity-count"]')).to_have_attribute(
            "data-count", "9")
        types = rows.evaluate_all("els => els.map(e => e.dataset.type)")
        self.assertEqual(sorted(types), sorted(["SessionStart", "UserPromptSubmit", "PreToolUse",
                                                "PostToolUse", "Stop", "history", "history",
                                                "history", "unparsed"]))
        times = rows.locator('[data-testid="activity-time"]').evaluate_all(
            "els => els.map(e => e.getAttribute('datetime'))")
        self.assertEqual(times, sorted(times, reverse=True), "not newest first")
        typed = view.locator('[data-testid="activity-row"][data-type="history"]')
        self.expect(typed.last).to_contain_text("Typed: hello history \u2014 hist-proj")
        broken = view.locator('[data-testid="activity-row"][data-type="unparsed"]')
        self.expect(broken).to_contain_text("not JSON: Expecting value")
        broken.locator("summary").click()
        self.expect(self.tid("activity-raw", broken)).to_have_text("this line is not JSON")

        stop = view.locator('[data-testid="activity-row"][data-type="Stop"]')
        self.expect(self.tid("activity-raw", stop)).to_have_count(0)   # built when opened
        stop.locator("summary").click()
        raw = json.loads(self.tid("activity-raw", stop).inner_text())
        self.assertEqual(raw["event"], "Stop")
        self.assertEqual(raw["payload"]["last_assistant_message"], "TOOL-DONE")

        fetched = len(self.gets("/api/activity"))
        self.run_hook({"session_id": "live-one", "hook_event_name": "UserPromptSubmit",
                       "prompt": HOSTILE + "\nsecond line", "cwd": "/home/dev/work/live-proj"})
        self.expect(rows).to_have_count(10)
        first = rows.first
        self.expect(first).to_have_attribute("data-type", "UserPromptSubmit")
        self.expect(self.tid("activity-project", first)).to_have_text("live-proj")
        self.expect(self.tid("activity-summary", first)).to_have_text(
            'Prompt: <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>red')
        first.locator("summary").click()
        self.expect(self.tid("activity-raw", first)).to_contain_text('"prompt": "<img src=x')
        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
        self.assertEqual(view.locator("img, script").count(), 0)
        self.assertEqual(len(self.gets("/api/activity")), fetched, "live rows came by a refetch")
        self.assertTrue(any("follow=*activity" in r.url or "follow=%2Aactivity" in r.url
                            for r in self.streams()), "the page did not follow the activity")
        self.assertEqual(self.polls(), [])
        self.screenshot("activity-1280")

        self.page.keyboard.press("Escape")
        self.expect(view).to_have_count(0)
        self.assertEqual(self.page.evaluate("() => document.activeElement.dataset.testid"),
                         "open-activity")

    def test_rows_name_the_session_by_its_title_in_the_backlog_and_live(self):
        # a /clear first, and a prompt behind an <ide_selection> (tests/test_titles.py CASES)
        from tests.test_titles import CASES, CLEARED, CWD, IDE_SELECTION, MID_CLEAR, SELECTED
        folder = os.path.join(self.paths.claude_projects, "-Users-dain-workspace-claude-code-log")
        os.makedirs(folder)
        for sid in (CLEARED, SELECTED, MID_CLEAR):
            with open(os.path.join(folder, sid + ".jsonl"), "w", encoding="utf-8") as f:
                f.write("\n".join(CASES[sid][0]) + "\n")
        for sid, text in ((CLEARED, "/clear"), (SELECTED, IDE_SELECTION + "\n\nplease fix these")):
            self.run_hook({"session_id": sid, "hook_event_name": "UserPromptSubmit",
                           "prompt": text, "cwd": CWD})
        self.open_dashboard()
        view = self.open_activity()
        rows = self.rows(view)
        self.expect(rows).to_have_count(2)
        for sid in (CLEARED, SELECTED):
            row = rows.filter(has=self.page.locator("summary")).nth(0 if sid == SELECTED else 1)
            self.expect(self.tid("activity-title", row)).to_have_text("please fix these")
            self.expect(self.tid("activity-project", row)).to_have_text("claude-code-log")
        self.run_hook({"session_id": MID_CLEAR, "hook_event_name": "UserPromptSubmit",
                       "prompt": "what does cache.py do?", "cwd": CWD})
        self.expect(rows).to_have_count(3)
        self.expect(self.tid("activity-summary", rows.first)).to_have_text(
            "Prompt: what does cache.py do?")
        self.expect(self.tid("activity-title", rows.first)).to_have_text("please fix these")
        self.assertEqual(view.locator("[data-testid=activity-title] *").count(), 0)

    def test_phone_width_has_no_horizontal_scroll(self):
        self.feed("permission-prompt", upto=7)
        self.write_history(RECORDED_HISTORY)
        self.page.set_viewport_size(PHONE)
        self.open_dashboard()
        view = self.open_activity()
        self.expect(self.rows(view)).to_have_count(10)
        self.rows(view).first.locator("summary").click()
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            width = self.page.evaluate("() => document.documentElement.scrollWidth")
            self.assertLessEqual(width, PHONE["width"], "the page scrolls sideways at 390 px")
            self.screenshot("activity-390-%s" % scheme)

    def test_a_burst_of_500_events_renders_in_batches_and_the_page_keeps_answering(self):
        sid = self.feed("bash-tool", upto=5)
        self.open_dashboard()
        view = self.open_activity()
        rows = self.rows(view)
        self.expect(rows).to_have_count(5)
        rows.first.locator("summary").click()
        self.page.evaluate("""() => {
          const list = document.querySelector('[data-testid="activity-list"]');
          window.__commits = 0; window.__maxGap = 0; window.__frames = 0;
          new MutationObserver(() => { window.__commits += 1; }).observe(list, { childList: true });
          let last = performance.now();
          const tick = (t) => {
            window.__maxGap = Math.max(window.__maxGap, t - last); last = t; window.__frames += 1;
            if (!window.__stopFrames) requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        }""")
        burst = threading.Thread(target=self.append_burst, args=(sid, 500), daemon=True)
        burst.start()
        self.wait_until(lambda: rows.count() > 5, "no row of the burst arrived")
        # in the middle of the burst: a click on a row must be answered at once
        reaction = self.page.evaluate("""() => new Promise((done) => {
          const row = document.querySelectorAll('[data-testid="activity-row"] summary')[1];
          const details = row.parentElement;
          const start = performance.now();
          details.addEventListener('toggle', () => requestAnimationFrame(() =>
            done(performance.now() - start)), { once: true });
          row.click();
        })""")
        burst.join(30)
        self.expect(view.locator('[data-testid="activity-count"]')).to_have_attribute(
            "data-count", "505", timeout=15000)
        stats = self.page.evaluate("() => { window.__stopFrames = true; return "
                                   "{commits: window.__commits, maxGap: window.__maxGap}; }")
        print("\nburst of 500: %d list commits, longest frame gap %.0f ms, click answered in "
              "%.0f ms" % (stats["commits"], stats["maxGap"], reaction))
        self.assertLess(stats["commits"], 100, "rows were rendered one by one, not in batches")
        self.assertLess(reaction, 1000, "a click waited behind the burst")
        self.assertLess(stats["maxGap"], 1500, "the page froze during the burst")
        self.expect(rows).to_have_count(200)   # the first page; the rest behind "Show older"
        self.expect(rows.first).to_contain_text("burst 499")
        more = view.locator('button[data-testid="activity-more"]')
        self.expect(more).to_contain_text("305 more")
        more.click()
        self.expect(rows).to_have_count(400)

    def append_burst(self, sid, count):
        """Append `count` hook records to the session's event log, as hooks do, in about 1 s."""
        for i in range(count):
            with store.SessionLog(self.paths.events_file(sid)) as log:
                log.append({"received_at": model.now_iso(), "agent": "claude",
                            "event": "PreToolUse", "pane": {},
                            "payload": {"session_id": sid, "hook_event_name": "PreToolUse",
                                        "tool_name": "Bash", "cwd": "/home/dev/work/demo-proj",
                                        "tool_input": {"command": "echo burst %d" % i}}})
            if i % 25 == 24:
                time.sleep(0.05)
