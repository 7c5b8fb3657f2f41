"""End to end by clicking: the real dashboard in Chromium answers the real Claude Code TUI in tmux.

Everything is real but the model: Claude Code 2.1.329 (`--permission-mode default`, so Bash asks)
in a private tmux with AMC's hooks installed, `amc serve` as a user runs it, the page in headless
Chromium. A user clicks an option, types a free-text answer, sends a new prompt and a multi-line
one from the conversation panel, and allows and denies a permission prompt; each lands in the
terminal, and the card shows the session moving on.
"""
import os
from typing import Any, Dict

from tests.support import tools
from tests.support.agentenv import AgentHome, PrivateTmux
from tests.support.amcproc import AmcServer, run_amc
from tests.support.browser import DashboardTestCase
from tests.support.fakemodel import FakeModel

QUESTION = "Which database should we use?"
SLOW_MS = 15000  # an answer waits for Claude Code to confirm it (a few seconds at most)


class ClickToAnswerRealClaude(DashboardTestCase):
    def setUp(self) -> None:
        super().setUp()
        tmux_bin = tools.require("tmux")
        claude = tools.require("claude")
        self.agent_home = AgentHome()
        self.addCleanup(self.agent_home.cleanup)
        self.fake = FakeModel().start()
        self.addCleanup(self.fake.stop)
        self.project = self.agent_home.project("click-proj")
        self.agent_home.write_claude_json([self.project])
        env = self.agent_home.amc_env()
        proc = run_amc(["hooks", "install"], env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.amc = AmcServer(env).start()
        self.addCleanup(self.amc.stop)
        self.tmux = PrivateTmux(tmux_bin)
        self.addCleanup(self.tmux.kill)
        self.tmux.new_session([claude, "--permission-mode", "default"], self.project,
                              self.agent_home.env(self.fake.url))
        self.tmux.wait_for("\u276f", timeout=30)
        s = self.amc.wait_session(lambda s: s.get("project_dir") == self.project,
                                  "the Claude session")
        self.sid = s["session_id"]
        self.page.goto(self.amc.url + "/")

    def wait(self, predicate: Any, what: str) -> Dict[str, Any]:
        return self.amc.wait_session(predicate, what, session_id=self.sid)

    def this_card(self) -> Any:
        return self.page.locator('[data-testid="session-card"][data-session-id="%s"]' % self.sid)

    def click_and_wait_ok(self, locator: Any) -> None:
        """Click; wait for the POST /api/respond it sends to answer 200."""
        with self.page.expect_response(lambda r: "/api/respond/" in r.url,
                                       timeout=SLOW_MS) as answered:
            locator.click()
        response = answered.value
        self.assertEqual(response.status, 200, response.text())

    def test_click_option_free_text_prompts_allow_and_deny(self) -> None:
        expect = self.expect
        card = self.this_card()
        expect(card).to_be_visible()

        # an option button
        self.tmux.type_line("ASK: " + QUESTION)
        option = card.locator('button[data-testid="option"][data-option="2"]')
        expect(option).to_be_enabled()
        self.click_and_wait_ok(option)
        self.tmux.wait_for('"%s"="Beta"' % QUESTION)
        expect(card.locator('[data-testid="status"]')).to_have_text("Done", timeout=SLOW_MS)

        # free text in "Other"
        self.tmux.type_line("ASK: Which color should the button be?")
        other = card.locator('input[data-testid="other-input"]')
        expect(other).to_be_enabled()
        other.fill("teal with a dark border")
        self.click_and_wait_ok(card.locator('button[data-testid="other-send"]'))
        self.tmux.wait_for('="teal with a dark border"')
        self.wait(lambda s: s["status"] == "done", "done after the free-text answer")

        # a new prompt and a multi-line one from the conversation panel
        card.locator('button[data-testid="open-conversation"]').click()
        box = self.page.locator('textarea[data-testid="conversation-input"]')
        box.fill("hello from the page")
        self.click_and_wait_ok(self.page.locator('button[data-testid="conversation-send"]'))
        self.tmux.wait_for("OK: hello from the page")
        self.wait(lambda s: s["status"] == "done", "done after the prompt")
        box.fill("line one\nline two")
        self.click_and_wait_ok(self.page.locator('button[data-testid="conversation-send"]'))
        self.tmux.wait_for("OK: line one")
        prompts = [r.get("prompt") for r in self.fake.requests_to("/v1/messages")]
        self.assertIn("line one\nline two", prompts)
        self.page.keyboard.press("Escape")
        self.wait(lambda s: s["status"] == "done", "done after the multi-line prompt")

        # a permission prompt allowed, then one denied
        self.tmux.type_line("BASH: touch clicked-allow.txt")
        allow = card.locator('button[data-testid="allow"]')
        expect(allow).to_be_enabled()
        self.wait(lambda s: (s.get("attention") or {}).get("options_count"), "options read")
        self.click_and_wait_ok(allow)
        self.tmux.wait_for("TOOL-DONE")
        self.assertTrue(os.path.exists(os.path.join(self.project, "clicked-allow.txt")))
        self.wait(lambda s: s["status"] == "done", "done after the allowed command")

        self.tmux.type_line("BASH: touch clicked-deny.txt")
        deny = card.locator('button[data-testid="deny"]')
        expect(deny).to_be_enabled()
        s = self.wait(lambda s: (s.get("attention") or {}).get("options_count"), "options read")
        with self.page.expect_request(lambda r: "/api/respond/" in r.url) as sent:
            self.click_and_wait_ok(deny)
        self.assertEqual(sent.value.post_data_json["text"], str(s["attention"]["options_count"]))
        self.wait(lambda s: s["status"] != "needs_attention", "the prompt answered")
        expect(card.locator('[data-testid="status"]')).not_to_have_text("Needs attention",
                                                                         timeout=SLOW_MS)
        expect(card.locator('button[data-testid="deny"]')).to_have_count(0)
        self.assertFalse(os.path.exists(os.path.join(self.project, "clicked-deny.txt")))
        expect(card.locator('[data-testid="action-error"]')).to_have_count(0)
        self.screenshot("answered-by-clicking")


if __name__ == "__main__":
    import unittest
    unittest.main()
