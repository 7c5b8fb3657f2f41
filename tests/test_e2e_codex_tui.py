"""End to end: AMC answers the real Codex TUI (pinned in tests/support/tools.py) in a private tmux.

Codex runs with approval_policy "on-request" and a workspace-write sandbox, against
tests/support/fakemodel.py, in a throwaway HOME (tests/support/agentenv.py). Without hooks AMC knows
the session only from its rollout, so these tests check the whole answering path Codex needs: the
pane found from the Codex process (/proc, amc_server/agents/codex/process.py), a prompt (one line
and several) typed through `POST /api/respond`, an escalated command that needs approval shown as
`needs_attention` (kind permission) and approved with "1" (the command runs) or denied with the
last option (it does not). A second test does the same with AMC's Codex hooks installed.
"""
import os
import sys
import time
import unittest
from typing import Any, Dict, List

from tests.support import tools
from tests.support.amcproc import run_amc
from tests.support.e2ecase import AgentTuiCase
from tests.support.fakemodel_rules import ESCALATE_JUSTIFICATION, codex_escalate

STEP_TIMEOUT = 20
READY = "Ask Codex to do anything"
FIRST_PROMPT = "hello from the first prompt"


@unittest.skipUnless(sys.platform.startswith("linux"), "finding the pane reads /proc (Linux)")
class CodexTuiE2E(AgentTuiCase):
    """Real Codex TUI sessions answered through AMC (each test takes about 15 s)."""

    project_name = "codex-tui-proj"
    step_timeout = STEP_TIMEOUT

    def setUp(self) -> None:
        super().setUp()
        self.codex = tools.require("codex")
        self.fake.codex_rules.insert(0, codex_escalate)
        self.home.write_codex_config(self.fake.url, [self.project], approval_policy="on-request")

    def start_amc(self) -> None:
        self.serve()

    def launch_codex(self, *flags: str) -> Dict[str, Any]:
        """Start the Codex TUI with a first prompt (the rollout, hence the session, starts with
        the first turn); return the session once AMC lists it with its pane."""
        with self.step("Codex starts in tmux and runs its first prompt"):
            env = self.home.env(self.fake.url, {"HTTPS_PROXY": "http://127.0.0.1:9",
                                                "NO_PROXY": "127.0.0.1,localhost"})
            self.tmux.new_session([self.codex, "--sandbox", "workspace-write"] + list(flags)
                                  + [FIRST_PROMPT], self.project, env)
            self.tmux.wait_for("You said: " + FIRST_PROMPT, timeout=30)
        with self.step("the session appears in /api/state with its tmux pane"):
            s = self.amc.wait_session(
                lambda s: s.get("project_dir") == self.project and s.get("tmux_pane")
                and s.get("status") == "done", "a done Codex session with a pane for %s"
                % self.project, timeout=STEP_TIMEOUT)
            self.session_id = s["session_id"]
            self.assertEqual(s["agent"], "codex", s)
            self.assertEqual(s["tmux_pane"], self.tmux.pane, s)
            self.assertEqual(s["tmux_socket"], self.tmux.socket_path, s)
        return s

    def respond(self, text: str, expect: int = 200) -> Dict[str, Any]:
        status, answer = self.amc.post("/api/respond/" + self.session_id, {"text": text})
        self.assertEqual(status, expect, "POST /api/respond %r -> %s %s" % (text, status, answer))
        self.assertEqual(answer.get("ok"), expect == 200, answer)
        return answer

    def prompts(self) -> List[str]:
        return [r.get("prompt", "") for r in self.fake.requests_to("/v1/responses")]

    def wait_prompt(self, prompt: str) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while prompt not in self.prompts():
            if time.monotonic() > deadline:
                raise AssertionError("the fake model never got %r; it got %r"
                                     % (prompt, self.prompts()))
            time.sleep(0.1)

    def wait_file(self, path: str) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise AssertionError("%s was never created" % path)
            time.sleep(0.1)

    def approval(self, name: str) -> Dict[str, Any]:
        """Ask Codex (through AMC) to run an escalated `touch <name>`; return the session once it
        needs attention for it."""
        prompt = "ESCALATE: touch " + os.path.join(self.project, name)
        self.respond(prompt)
        self.tmux.wait_for("Press enter to confirm")
        # the options are read off the screen a moment after the prompt shows
        return self.wait(lambda s: s["status"] == "needs_attention"
                         and (s.get("attention") or {}).get("kind") == "permission"
                         and (s.get("attention") or {}).get("options"),
                         "needs_attention (permission, with its options) for %s" % name)

    # -- the scenarios
    def answer_prompts_and_approvals(self, hooks: bool = False) -> None:
        with self.step("a prompt sent through AMC reaches the model"):
            answer = self.respond("second prompt, sent by AMC")
            self.assertIn(self.tmux.pane, answer.get("delivered_to", ""), answer)
            self.wait_prompt("second prompt, sent by AMC")
            self.tmux.wait_for("You said: second prompt, sent by AMC")
            self.wait(lambda s: s["status"] == "done", "done after the second prompt")

        with self.step("several lines are one prompt"):
            self.respond("first line\nsecond line")
            self.wait_prompt("first line\nsecond line")
            self.wait(lambda s: s["status"] == "done", "done after the multi-line prompt")

        approved = os.path.join(self.project, "approved.txt")
        with self.step("an escalated command needs approval"):
            s = self.approval("approved.txt")
            self.assertIn("touch " + approved, s["attention"].get("summary", ""), s)
            self.assertIn(ESCALATE_JUSTIFICATION, self.tmux.capture())
            self.assertFalse(os.path.exists(approved))
        with self.step("an option that does not exist is refused and nothing is typed"):
            answer = self.respond("9", expect=400)
            self.assertIn("option 9 does not exist", answer.get("error", ""))
            time.sleep(0.5)
            self.assertIn("Press enter to confirm", self.tmux.capture())
        with self.step("option 1 approves: the command runs"):
            self.respond("1")
            self.wait_file(approved)
            self.tmux.wait_for("You approved codex")
            self.wait(lambda s: s["status"] == "done", "done after the approved command")

        denied = os.path.join(self.project, "denied.txt")
        with self.step("the last option denies: the command does not run"):
            s = self.approval("denied.txt")
            options = s["attention"].get("options") or []
            self.assertEqual(len(options), 3, s)        # 0.169: proceed, don't ask again, no
            self.assertEqual(options[0], "Yes, proceed", s)
            self.assertTrue(options[-1].startswith("No"), s)
            self.respond(str(len(options)))
            self.tmux.wait_for("You canceled the request")
            # With hooks too: Codex 0.169 fires no hook when a denial interrupts the turn, so
            # the rollout's turn_aborted ends the stale needs_attention (codex_discovery.reconcile)
            self.wait(lambda s: s["status"] == "done", "done after the denial")
            time.sleep(0.5)
            self.assertFalse(os.path.exists(denied))

    def test_answers_codex_found_from_its_process_without_hooks(self) -> None:
        started = time.monotonic()
        self.start_amc()
        s = self.launch_codex()
        with self.step("the pane came from the Codex process"):
            self.assertEqual(s["source"], "rollout", s)
            self.assertGreater(s.get("pid") or 0, 0, s)
            with open("/proc/%d/comm" % s["pid"]) as f:
                self.assertTrue(f.read().startswith("codex"))
        self.answer_prompts_and_approvals()
        self.assertLess(time.monotonic() - started, 90)

    def test_answers_codex_with_hooks(self) -> None:
        with self.step("amc hooks install --codex"):
            proc = run_amc(["hooks", "install", "--codex"], self.amc_env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.start_amc()
        s = self.launch_codex("--dangerously-bypass-hook-trust")
        with self.step("the session comes from the hook"):
            self.assertEqual(s["source"], "hook", s)
            events = self.amc.get("/api/events/" + self.session_id)["events"]
            self.assertIn("SessionStart", [e.get("event") for e in events])
        self.answer_prompts_and_approvals(hooks=True)


if __name__ == "__main__":
    unittest.main()
