"""End to end: sessions started by `POST /api/sessions`, with the real pinned CLIs.

AMC runs as `amc serve` with `AMC_TMUX_SOCKET` naming the socket of a private tmux server, so the
launched agents run where the test can see (and kill) them. Claude Code (the pinned CLI) starts in a new,
untrusted project with the channel and a first prompt: the card is there at once under the id AMC
chose, the folder-trust dialog and the development-channels warning appear on it with their
options and are answered from the page (`/api/respond`), then the hooks report under the same id
(one card), the transcript is `<id>.jsonl` with the prompt, and the channel carries a message.
Codex (0.169.0) starts with a prompt; its placeholder card gives way to the session Codex writes.
In a git repository it has not been told to trust, Codex shows its folder-trust screen first: it
is on the placeholder's card and answered from the page, then Codex runs the prompt (one card).
A launched Claude Code still on its trust dialog when `amc serve` restarts shows the dialog again
after the restart, and it is answered from the page.
"""
import json
import os
import time
from typing import Any, Dict, List

from tests.support import tools
from tests.support.amcproc import run_amc
from tests.support.e2ecase import AgentTuiCase

STEP_TIMEOUT = 20
PROMPT = 'hello from the "new session" form; $(not a shell)'


class NewSessionE2E(AgentTuiCase):
    project_name = "fresh-proj"
    step_timeout = STEP_TIMEOUT

    def serve_with(self, binary: str, extra: Dict[str, str]) -> None:
        # the dedicated server is the private tmux: AMC_TMUX_SOCKET is its socket
        socket = os.path.join("/tmp", "tmux-%d" % os.getuid(), self.tmux.name)
        self.tmux._socket = socket
        self.amc_env.update(extra)
        self.amc_env.update({"AMC_TMUX_SOCKET": socket, "ANTHROPIC_BASE_URL": self.fake.url,
                             "PATH": os.path.dirname(binary) + ":" + self.amc_env["PATH"]})
        self.serve()

    def sessions(self) -> List[Dict[str, Any]]:
        return [s for s in self.amc.state()["sessions"] if s.get("project_dir") == self.project]

    def launch(self, body: Dict[str, Any]) -> Dict[str, Any]:
        with self.step("POST /api/sessions"):
            status, answer = self.amc.post("/api/sessions", dict(body, project_dir=self.project))
            self.assertEqual((status, answer.get("ok")), (200, True), answer)
            self.session_id = answer["session_id"]
        with self.step("the card is there at once, starting"):
            cards = self.sessions()
            self.assertEqual([(s["session_id"], s["status"]) for s in cards],
                             [(self.session_id, "starting")], cards)
            self.tmux.pane = cards[0]["tmux_pane"]
        return answer

    def respond(self, text: str) -> Dict[str, Any]:
        status, answer = self.amc.post("/api/respond/" + self.session_id, {"text": text})
        self.assertEqual((status, answer.get("ok")), (200, True),
                         "POST /api/respond %r -> %s %s" % (text, status, answer))
        return answer

    def answer_dialog(self, option: str, text: str) -> None:
        s = self.wait(lambda s: s["status"] == "needs_attention" and
                      (s.get("attention") or {}).get("kind") == "dialog" and
                      text in (s["attention"].get("options") or []), "a dialog offering %r" % text)
        n = s["attention"]["options"].index(text) + 1
        self.assertEqual(str(n), option, s["attention"])
        time.sleep(0.3)  # a TUI drops keys in the first moment of a dialog's paint
        self.respond(option)

    def test_claude_from_the_dashboard_in_a_new_project_with_the_channel(self) -> None:
        started = time.monotonic()
        claude = tools.require("claude")
        self.home.write_claude_json([], {"cachedGrowthBookFeatures": {
            "tengu_harbor": True, "tengu_harbor_permissions": True}})
        with self.step("amc hooks install, amc serve"):
            proc = run_amc(["hooks", "install"], self.amc_env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.serve_with(claude, {"CLAUDE_CODE_GB_DISK_CACHE_WHEN_TELEMETRY_OFF": "1"})
        self.launch({"agent": "claude", "prompt": PROMPT, "channel": True,
                     "permission_mode": "default"})
        with self.step("the folder-trust dialog shows on the card, answered from the page"):
            s = self.wait(lambda s: (s.get("attention") or {}).get("kind") == "dialog",
                          "the trust dialog")
            self.assertEqual(s["attention"]["options"], ["No, exit", "Yes, I trust this folder"])
            self.assertEqual(s["attention"]["selected"], 1)  # AMC did not move it
            self.answer_dialog("2", "Yes, I trust this folder")
        with self.step("the development-channels warning, accepted from the page"):
            self.answer_dialog("1", "I am using this for local development")
        with self.step("the hooks report under the chosen id: one card"):
            s = self.wait(lambda s: s["status"] == "done" and s["last_event"] == "Stop",
                          "the first prompt answered")
            self.assertIn("OK: " + PROMPT, s["last_message_preview"])
            self.assertEqual([x["session_id"] for x in self.sessions()], [self.session_id])
            self.assertTrue(s["transcript_path"].endswith(self.session_id + ".jsonl"), s)
            self.assertGreater(s["pid"], 0)
            with open(os.path.join(self.home.data_dir, "events",
                                   self.session_id + ".jsonl")) as f:
                events = [json.loads(line)["event"] for line in f]
            self.assertEqual(events[:2], ["Launched", "SessionStart"], events)
            self.assertIn("UserPromptSubmit", events)
        with self.step("the prompt is in its transcript, as one message"):
            deadline = time.monotonic() + STEP_TIMEOUT
            while True:
                conv = self.amc.get("/api/conversation/" + self.session_id)
                contents = [m["content"] for m in conv["messages"]]
                if PROMPT in contents or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertIn(PROMPT, contents)
        with self.step("the channel is loaded and carries a message"):
            self.wait(lambda s: s.get("channel") is True, "channel: true")
            answer = self.respond("ping through the channel")
            self.assertEqual(answer.get("via"), "channel", answer)
            deadline = time.monotonic() + STEP_TIMEOUT
            while not any("ping through the channel" in json.dumps(r)
                          for r in self.fake.requests_to("/v1/messages")):
                self.assertLess(time.monotonic(), deadline, "the model never got the message")
                time.sleep(0.2)
        self.assertLess(time.monotonic() - started, 60)

    def test_claude_trust_dialog_survives_a_restart_of_amc(self) -> None:
        claude = tools.require("claude")
        self.home.write_claude_json([])
        with self.step("amc hooks install, amc serve"):
            proc = run_amc(["hooks", "install"], self.amc_env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.serve_with(claude, {})
        self.launch({"agent": "claude", "prompt": PROMPT})
        with self.step("the trust dialog shows on the card"):
            self.wait(lambda s: (s.get("attention") or {}).get("kind") == "dialog",
                      "the trust dialog")
        with self.step("amc serve restarts; the dialog is on the card again"):
            self.amc.stop()
            self.serve()
            s = self.wait(lambda s: s["status"] == "needs_attention" and
                          (s.get("attention") or {}).get("kind") == "dialog",
                          "the trust dialog after the restart")
            self.assertEqual(s["attention"]["options"], ["No, exit", "Yes, I trust this folder"])
            self.assertIn("Quick safety check", self.tmux.capture())  # still unanswered
        with self.step("answered from the page after the restart: the hooks report, one card"):
            self.answer_dialog("2", "Yes, I trust this folder")
            s = self.wait(lambda s: s["status"] == "done" and s["last_event"] == "Stop",
                          "the first prompt answered")
            self.assertIn("OK: " + PROMPT, s["last_message_preview"])
            self.assertEqual([x["session_id"] for x in self.sessions()], [self.session_id])

    def test_codex_trust_screen_on_the_card_answered_from_the_page(self) -> None:
        codex = tools.require("codex")
        self.home.project(self.project_name, git=True)  # Codex asks for trust in a git repo only
        self.home.write_codex_config(self.fake.url, [])
        with self.step("amc serve"):
            self.serve_with(codex, {"HTTPS_PROXY": "http://127.0.0.1:9",
                                    "NO_PROXY": "127.0.0.1,localhost"})
        answer = self.launch({"agent": "codex", "prompt": "hello codex from amc"})
        placeholder = answer["session_id"]
        with self.step("the trust screen shows on the placeholder's card"):
            s = self.wait(lambda s: (s.get("attention") or {}).get("kind") == "dialog",
                          "the trust screen")
            self.assertEqual(s["status"], "needs_attention")
            self.assertEqual(s["attention"]["options"],
                             ["Trust and continue", "Back to Agent Command Center"])
            self.assertEqual(s["attention"]["selected"], 1)
            self.assertIn("Trust this folder?", s["attention"]["text"])
            time.sleep(1.0)
            self.assertIn("Trust this folder?", self.tmux.capture())  # AMC did not answer it
        with self.step("answered from the page, Codex runs the prompt"):
            self.answer_dialog("1", "Trust and continue")
            self.tmux.wait_for("You said: hello codex from amc", timeout=30)
        with self.step("its own session replaces the placeholder: one card"):
            s = self.codex_joins(placeholder)

    def codex_joins(self, placeholder: str) -> Dict[str, Any]:
        """Wait until Codex's own session in the launched pane is the project's only card."""
        self.session_id = ""
        s = self.amc.wait_session(
            lambda s: s.get("project_dir") == self.project and
            s["session_id"] != placeholder and s.get("tmux_pane") == self.tmux.pane,
            "Codex's own session in the launched pane", timeout=STEP_TIMEOUT)
        self.amc.wait_state(lambda st: [x["session_id"] for x in st["sessions"]
                                        if x.get("project_dir") == self.project]
                            == [s["session_id"]], "only Codex's own card")
        return s

    def test_codex_from_the_dashboard(self) -> None:
        codex = tools.require("codex")
        self.home.write_codex_config(self.fake.url, [self.project])
        with self.step("amc serve"):
            self.serve_with(codex, {"HTTPS_PROXY": "http://127.0.0.1:9",
                                    "NO_PROXY": "127.0.0.1,localhost"})
        answer = self.launch({"agent": "codex", "prompt": "hello codex from amc"})
        placeholder = answer["session_id"]
        self.assertTrue(answer["placeholder"], answer)
        with self.step("Codex answers the prompt in the launched pane"):
            self.tmux.wait_for("You said: hello codex from amc", timeout=30)
        with self.step("its own session replaces the placeholder: one card"):
            s = self.codex_joins(placeholder)
            self.assertEqual(s["agent"], "codex")
