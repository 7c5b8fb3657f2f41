"""The dashboard's usage and history, in a real Chromium against a real server.

Live sessions come from the recorded Claude Code 2.1.329 hook payloads replayed through
bin/amc-hook with their recorded transcripts; appending lines to a transcript is what Claude
Code does while it works, and the card's tokens, cost and context bar follow without a reload.
Past sessions are fixture transcripts and rollouts where Claude Code and Codex keep them. The
Usage view's totals, chart and projects are checked against the server's own GET /api/usage;
the History view opens a past conversation read-only, copies its resume command, and "Resume
in a new pane" starts a stand-in CLI (recording its argv) in a real private tmux server
(tests/test_launch.py's way), whose card then shows and gets the focus.
Screenshots land in tests/artifacts/.
"""
import json
import os
import shutil
import subprocess
import uuid

from tests.support import tools
from tests.support.browser import PHONE, DashboardTestCase
from tests.support.helpers import FIXTURES
from tests.test_launch import _stub_bin
from amc_server.actions import launch
from amc_server import terminals
from amc_server.actions.start_dialogs import Watcher

BASH = os.path.join(FIXTURES, "claude-code-2.1.329", "bash-tool", "transcript.jsonl")
ROLLOUT = os.path.join(FIXTURES, "codex-0.169.0", "codex-0.169.0-tui-multiturn-interrupt.jsonl")
LONG = os.path.join(FIXTURES, "public", "claude", "cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl")
OLD = 1577836800  # 2020-01-01: the copies are old files


def assistant_line(mid: str, out: int, read: int = 0, model: str = "claude-opus-5-5",
                   ts: str = "2026-11-20T23:40:00.000Z") -> bytes:
    return (json.dumps({"type": "assistant", "timestamp": ts, "isSidechain": False, "message": {
        "id": mid, "model": model, "role": "assistant", "type": "message",
        "content": [{"type": "text", "text": "more work"}],
        "usage": {"input_tokens": 10, "output_tokens": out, "cache_read_input_tokens": read,
                  "cache_creation_input_tokens": 0}}}) + "\n").encode()


class CardUsageTest(DashboardTestCase):
    def test_card_and_panel_show_tokens_cost_and_context_live(self):
        sid = self.feed("bash-tool", upto=5, project="alpha-proj")
        path = self.get_json("/api/state")["sessions"][0]["transcript_path"]
        self.open_dashboard()
        card = self.card(sid)
        usage = self.tid("card-usage", card)
        self.expect(usage).to_be_visible()
        self.expect(self.tid("usage-tokens", usage)).to_have_text("44 tokens")
        self.expect(self.tid("usage-cost", usage)).to_have_text("$0.00056")
        self.expect(self.tid("usage-context-pct", usage)).to_have_text("<1%")
        # Claude Code streams a new message: its first line, then its last with the final numbers
        with open(path, "ab") as f:
            f.write(assistant_line("msg_live", 3, read=600_000))
        self.expect(self.tid("usage-context-pct", usage)).to_have_text("60%")
        self.expect(self.tid("usage-context", usage)).to_have_attribute("aria-valuenow", "60")
        with open(path, "ab") as f:
            f.write(assistant_line("msg_live", 1000, read=600_000))
        # 44 + 10 + 1000 + 600000 tokens; cost 0.00056 + (10*4 + 1000*20 + 600000*0.2) / 1e6
        self.expect(self.tid("usage-tokens", usage)).to_have_text("601.1k tokens")
        self.expect(self.tid("usage-cost", usage)).to_have_text("$0.14")
        self.assertEqual(self.gets("/api/state"), [])  # it all came over the stream
        # a model AMC has no price for: the cost is unknown, never a guess
        with open(path, "ab") as f:
            f.write(assistant_line("msg_unknown", 5, model="claude-opus-9"))
        self.expect(self.tid("usage-cost", usage)).to_have_text("unknown price")
        self.screenshot("usage-card")
        self.tid("open-conversation", card).click()
        details = self.tid("usage-details", self.tid("conversation"))
        self.expect(self.tid("usage-model", details)).to_contain_text("claude-opus-9")
        self.expect(self.tid("usage-turns", details)).to_contain_text("4")
        self.expect(self.tid("usage-cost", details)).to_contain_text("unknown price")
        self.expect(self.tid("usage-context", details)).to_have_count(0)  # no window known for it
        self.screenshot("usage-panel")


class PastSessions(DashboardTestCase):
    def setUp(self):
        super().setUp()
        self.project = os.path.join(self.home, "work", "shop")
        os.makedirs(self.project)
        self.claude_id = "aaaaaaaa-1111-2222-3333-444444444444"
        folder = os.path.join(self.paths.claude_projects, "-work-shop")
        os.makedirs(folder)
        with open(BASH, encoding="utf-8") as f:  # the recorded session, as if run in self.project
            text = f.read().replace("/home/dev/work/demo-proj", self.project)
        self.claude_path = os.path.join(folder, self.claude_id + ".jsonl")
        with open(self.claude_path, "w", encoding="utf-8") as f:
            f.write(text)
        self.long_id = "bbbbbbbb-1111-2222-3333-444444444444"
        hostile = os.path.join(self.paths.claude_projects, "-home-dev-long")
        os.makedirs(hostile)
        shutil.copy(LONG, os.path.join(hostile, self.long_id + ".jsonl"))
        self.xss_id = "cccccccc-1111-2222-3333-444444444444"
        with open(os.path.join(hostile, self.xss_id + ".jsonl"), "w") as f:
            f.write(json.dumps({"type": "user", "cwd": "/w/<img src=x onerror=window.__pwned=1>",
                                "timestamp": "2026-06-01T10:00:00.000Z", "message": {
                                    "role": "user", "content": "<script>window.__pwned=1</script>fix it"}})
                    + "\n")
            f.write(json.dumps({"type": "assistant", "cwd": "/w/<img src=x onerror=window.__pwned=1>",
                                "timestamp": "2026-06-01T10:00:05.000Z", "message": {
                                    "id": "msg_x", "model": "claude-opus-5-5", "role": "assistant",
                                    "content": [{"type": "text", "text": "<b>done</b>"}],
                                    "usage": {"input_tokens": 1, "output_tokens": 1}}}) + "\n")
        day = os.path.join(self.paths.codex_sessions, "2026", "11", "20")
        os.makedirs(day)
        self.codex_id = "01a1fb51-9a90-7db3-89e5-bd2321ff5540"
        shutil.copy(ROLLOUT, os.path.join(day, "rollout-2026-11-20T23-36-31-%s.jsonl" % self.codex_id))
        for folder_ in (folder, hostile, day):
            for name in os.listdir(folder_):
                os.utime(os.path.join(folder_, name), (OLD, OLD))


class UsageViewTest(PastSessions):
    def test_totals_chart_and_projects_equal_the_servers_sums(self):
        want = self.get_json("/api/usage?days=0")
        self.open_dashboard(ready="empty")
        self.tid("open-usage").click()
        view = self.tid("usage-view")
        self.expect(view).to_be_visible()
        self.expect(view).to_be_focused()
        self.tid("usage-days").select_option("0")
        total = self.tid("usage-total")
        self.expect(total).to_have_attribute("data-tokens", str(
            sum(want["total"][k] for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                           "cache_write_tokens"))))
        self.expect(self.tid("usage-total-cost")).to_have_text("$6.15 + unknown price")
        self.expect(self.tid("usage-unpriced")).to_contain_text("fake-model")
        bars = self.tid("usage-bar")
        days = [d["day"] for d in want["per_day"]]
        self.assertEqual(bars.first.get_attribute("data-day"), days[0])
        self.assertEqual(bars.last.get_attribute("data-day"), days[-1])
        by_day = {b.get_attribute("data-day"): float(b.get_attribute("data-value"))
                  for b in bars.all()}
        for d in want["per_day"]:  # days between them are there, at zero
            self.assertAlmostEqual(by_day[d["day"]], d["cost_usd"], places=6)
        self.assertEqual(len(by_day), len(set(by_day)))
        self.tid("usage-metric").select_option("tokens")
        self.expect(bars.last).to_have_attribute("data-value", str(
            sum(want["per_day"][-1][k] for k in ("input_tokens", "output_tokens",
                                                   "cache_read_tokens", "cache_write_tokens"))))
        rows = self.tid("usage-project")
        self.expect(rows).to_have_count(len(want["projects"]))
        shop = view.locator('[data-testid="usage-project"][data-project-dir="%s"]' % self.project)
        self.expect(self.tid("usage-project-cost", shop)).to_have_text("$0.00056")
        self.expect(view.locator("th", has_text="onerror")).to_have_count(1)  # shown as text
        self.assertIsNone(self.page.evaluate("window.__pwned"))
        self.screenshot("usage-view")
        self.page.keyboard.press("Escape")
        self.expect(view).to_have_count(0)
        self.expect(self.tid("open-usage")).to_be_focused()


class HistoryViewTest(PastSessions):
    def install_launcher(self):
        """Launch into a private tmux server, running a stand-in `claude` that records its argv."""
        tmux = tools.require("tmux")
        self.record = os.path.join(self.home, "record.json")
        bindir = _stub_bin(self.home, "claude", "codex")
        socket = os.path.join(self.home, "tmux-%s" % uuid.uuid4().hex[:6])
        self.addCleanup(lambda: subprocess.run([tmux, "-S", socket, "kill-server"], timeout=10,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        env = dict(self.env, PATH=bindir + ":/usr/bin:/bin", LAUNCH_RECORD=self.record,
                   AMC_TMUX_SOCKET=socket)
        core = self.server.core
        self.server.app.replace_launcher(
            launch.Launcher(self.paths, env, watcher=Watcher(core, terminals.load(env=env))))

    def test_past_sessions_per_project_open_read_only_and_resume_in_a_new_pane(self):
        self.install_launcher()
        self.context.grant_permissions(["clipboard-read", "clipboard-write"])
        self.open_dashboard(ready="empty")
        self.tid("open-history").click()
        view = self.tid("history-view")
        self.expect(view).to_be_focused()
        self.expect(self.tid("history-row")).to_have_count(4)
        groups = self.tid("history-group")
        self.expect(groups).to_have_count(4)
        # the newest session's project first; each row with title, size, tokens and cost
        self.expect(groups.first).to_have_attribute("data-project-dir", self.project)
        row = view.locator('[data-testid="history-row"][data-session-id="%s"]' % self.claude_id)
        self.expect(self.tid("history-title", row)).to_have_text("BASH: echo hello-from-bash")
        self.expect(self.tid("history-size", row)).to_have_text("164 KB")
        self.expect(self.tid("history-tokens", row)).to_have_text("44 tokens")
        self.expect(self.tid("history-cost", row)).to_have_text("$0.00056")
        codex = view.locator('[data-testid="history-row"][data-session-id="%s"]' % self.codex_id)
        self.expect(self.tid("history-cost", codex)).to_have_text("unknown price")
        xss = view.locator('[data-testid="history-row"][data-session-id="%s"]' % self.xss_id)
        self.expect(self.tid("history-title", xss)).to_have_text("<script>window.__pwned=1</script>fix it")
        self.tid("history-agent").select_option("codex")
        self.expect(self.tid("history-row")).to_have_count(1)
        self.tid("history-agent").select_option("")
        self.expect(self.tid("history-row")).to_have_count(4)
        self.screenshot("history-view")
        # a past conversation, read-only, with its resume command
        self.tid("history-open", row).click()
        conv = self.tid("history-conversation")
        self.expect(self.tid("message", conv).first).to_be_visible()
        self.expect(conv.locator('[data-testid="message"][data-role="user"]').first).to_contain_text(
            "BASH: echo hello-from-bash")
        self.expect(conv.locator("textarea")).to_have_count(0)  # nothing to type into
        command = self.tid("resume-command", conv)
        self.expect(command).to_have_value("claude --resume " + self.claude_id)
        self.tid("copy-resume", conv).click()
        self.expect(self.tid("copy-status", conv)).to_have_text("Copied")
        self.assertEqual(self.page.evaluate("navigator.clipboard.readText()"),
                         "claude --resume " + self.claude_id)
        self.expect(self.tid("usage-turns", conv)).to_contain_text("2")
        self.screenshot("history-conversation")
        self.page.keyboard.press("Escape")            # back to the list, on that row
        self.expect(self.tid("history-open", row)).to_be_focused()
        self.tid("history-open", row).click()
        self.tid("resume-session").click()
        # the card is there at once under the same id, focused, and the CLI runs in the project
        card = self.card(self.claude_id)
        self.expect(card).to_be_focused()
        self.expect(self.tid("status", card)).to_have_text("Starting")
        self.expect(view).to_have_count(0)
        self.assert_api_post(self.posts("/api/sessions")[-1], "/api/sessions", {
            "agent": "claude", "project_dir": self.project, "resume": self.claude_id})
        self.wait_until(lambda: os.path.exists(self.record), "the CLI never started")
        with open(self.record) as f:
            run = json.load(f)
        self.assertEqual((run["argv"], run["cwd"]), (["--resume", self.claude_id], self.project))
        self.assertIsNone(self.page.evaluate("window.__pwned"))

    def test_a_refused_resume_says_why_in_the_panel(self):
        self.install_launcher()
        self.open_dashboard(ready="empty")
        self.tid("open-history").click()
        row = self.page.locator('[data-testid="history-row"][data-session-id="%s"]' % self.long_id)
        self.tid("history-open", row).click()
        self.tid("resume-session").click()   # its project dir is not on this machine
        error = self.tid("action-error", self.tid("history-conversation"))
        self.expect(error).to_have_text("project_dir /src/deep-manifest does not exist")
        self.allow_console_error("Failed to load resource")
        self.assertFalse(os.path.exists(self.record))


class PhoneHistoryTest(PastSessions):
    viewport = PHONE

    def test_views_fit_a_phone(self):
        self.open_dashboard(ready="empty")
        for button, view in (("open-history", "history-view"), ("open-usage", "usage-view")):
            self.tid(button).click()
            self.expect(self.tid(view)).to_be_visible()
            if view == "history-view":
                self.expect(self.tid("history-row")).to_have_count(4)
                self.tid("history-open").first.click()
                self.expect(self.tid("resume-command")).to_be_visible()
            else:
                self.expect(self.tid("usage-total")).to_be_visible()
            width = self.page.evaluate("() => [document.documentElement.scrollWidth, "
                                       "document.querySelector('[role=dialog]').scrollWidth]")
            self.assertLessEqual(max(width), PHONE["width"], view)
            self.screenshot("%s-phone" % view)
            self.page.keyboard.press("Escape")
            if view == "history-view":
                self.page.keyboard.press("Escape")
            self.expect(self.tid(view)).to_have_count(0)
