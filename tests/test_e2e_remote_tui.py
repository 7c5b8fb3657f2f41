"""The real Claude Code TUI on a remote machine, answered from the hub's page in Chromium.

Machine m1 is its own local user reached over a real sshd (tests/support/remote_world.py). On m1,
Claude Code 2.1.329 runs in m1's own tmux against the fake model, with the hooks that
`amc remote add m1 --install-hooks` installed there (they run the zipapp the hub sent). m2 has
a session of its own (the real hook, a recorded scenario). The hub's page shows both machines; a
click on an option of m1's question lands in m1's terminal, through ssh, and not on m2.
"""
import json
import os
import pwd
import subprocess
import tempfile
from urllib.parse import unquote

from tests.support import tools
from tests.support.agentenv import API_KEY, PrivateTmux, clean_env
from tests.support.browser import DashboardTestCase
from tests.support.fakemodel import FakeModel
from tests.support.remote_world import start_world

QUESTION = "Which database should we use?"
SLOW_MS = 30000  # an answer crosses ssh twice and waits for Claude Code to take it
M2_SID = "0b7c5c1e-2222-4a4a-9c9c-0000000000e2"


class UserTmux(PrivateTmux):
    """A private tmux server run as another local user (its sockets under /tmp/tmux-<uid>)."""

    def __init__(self, tmux: str, uid: int, gid: int, env: dict) -> None:
        super().__init__(tmux, env)
        self.prefix = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]

    def argv(self, *args: str):
        return self.prefix + super().argv(*args)


def readable_copy_of(path: str, case) -> str:
    """Return `path` under a bind mount any user can reach (the tool cache is under /root)."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(path)))  # .../claude-code
    mount = tempfile.mkdtemp(prefix="amc-tools-")
    os.chmod(mount, 0o755)
    subprocess.run(["mount", "--bind", package, mount], check=True)
    case.addCleanup(os.rmdir, mount)
    case.addCleanup(subprocess.run, ["umount", "-l", mount])
    return os.path.join(mount, os.path.relpath(os.path.realpath(path), package))


class RemoteClaude(DashboardTestCase):
    def setUp(self):
        super().setUp()
        self.tmux_bin = tools.require("tmux")
        self.claude = readable_copy_of(tools.require("claude"), self)
        self.w = w = start_world(self.addCleanup)
        self.fake = FakeModel().start()
        self.addCleanup(self.fake.stop)
        done = w.ssh.run_amc("remote", "add", "m1", "--install-hooks")
        self.assertEqual(done.returncode, 0, done.stderr)
        home = w.home("remote")
        self.project = os.path.join(home, "work", "remote-proj")
        os.makedirs(self.project)
        with open(os.path.join(home, ".claude.json"), "w") as f:
            json.dump({"hasCompletedOnboarding": True,
                       "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
                       "projects": {self.project: {"hasTrustDialogAccepted": True}}}, f)
        w.chown("remote")

    def test_a_session_started_from_the_hub_runs_on_the_machine(self):
        w, home = self.w, self.w.home("remote")
        # m1's Claude Code, as its user has it: on ~/.local/bin, its model set in its settings
        os.makedirs(os.path.join(home, ".local", "bin"), exist_ok=True)
        os.symlink(self.claude, os.path.join(home, ".local", "bin", "claude"))
        settings_file = os.path.join(home, ".claude", "settings.json")
        with open(settings_file) as f:
            settings = json.load(f)
        settings["env"] = {"ANTHROPIC_BASE_URL": self.fake.url, "ANTHROPIC_API_KEY": API_KEY,
                           "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1",
                           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        with open(settings_file, "w") as f:
            json.dump(settings, f)
        w.chown("remote")
        status, answer = w.request("POST", "/api/sessions", {
            "agent": "claude", "project_dir": self.project, "machine": "m1",
            "prompt": "hello from the hub"})
        self.assertEqual(status, 200, answer)
        sid = answer["session_id"]
        self.assertTrue(sid.startswith("m1:"), sid)
        self.assertIn("tmux pane", answer["where"])
        s = w.wait(lambda: (lambda s: s if s and s["status"] in ("active", "done") and
                            "hello from the hub" in json.dumps(s) else None)(
            w.sessions().get(sid)), 60, "the started session running on m1")
        self.assertEqual((s["machine"], s["project_dir"]), ("m1", self.project))
        tmux = UserTmux(self.tmux_bin, *self.ids(), w.env("remote"))
        panes = tmux.argv("list-panes", "-a", "-F", "#{pane_current_command}")
        panes[panes.index("-L") + 1] = "amc"  # AMC's own tmux server on m1
        listed = subprocess.run(panes, capture_output=True, text=True, env=w.env("remote"))
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("claude", listed.stdout)  # its pane in m1's own tmux, as m1's user
        self.assertTrue(s["tmux_pane"].startswith("%"))

    def ids(self):
        entry = pwd.getpwnam(self.w.ssh.users["remote"])
        return entry.pw_uid, entry.pw_gid

    def test_an_option_clicked_at_the_hub_lands_in_the_remote_claude(self):
        w, claude, tmux_bin, project, fake = self.w, self.claude, self.tmux_bin, self.project, \
            self.fake
        w.feed("m2", "chat-and-prose-question", M2_SID, upto=5, project="beta-proj")

        env = clean_env(w.env("remote"))
        env.update({"ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": API_KEY,
                    "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1",
                    "DISABLE_ERROR_REPORTING": "1",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
        tmux = UserTmux(tmux_bin, *self.ids(), env)
        self.addCleanup(tmux.kill)
        tmux.new_session([claude, "--permission-mode", "default"], project, env)
        tmux.wait_for("\u276f", timeout=45)
        remote = w.wait(lambda: next((s for s in w.state()["sessions"] if s["machine"] == "m1"
                                      and s.get("project_dir") == project), None), 40,
                        "m1's Claude session at the hub")
        sid = remote["session_id"]
        self.assertTrue(sid.startswith("m1:"))

        self.page.goto(w.url + "/")
        expect = self.expect
        card = self.card(sid)
        expect(card).to_be_visible(timeout=SLOW_MS)
        expect(self.card("m2:" + M2_SID)).to_be_visible()
        tmux.type_line("ASK: " + QUESTION)
        option = card.locator('button[data-testid="option"][data-option="2"]')
        expect(option).to_be_enabled(timeout=SLOW_MS)
        with self.page.expect_response(lambda r: "/api/respond/" in r.url,
                                       timeout=SLOW_MS) as answered:
            option.click()
        response = answered.value
        self.assertEqual(response.status, 200, response.text())
        self.assertIn("/api/respond/m1:", unquote(response.url))
        self.assertEqual(response.json()["via"], "tmux")
        tmux.wait_for('"%s"="Beta"' % QUESTION, timeout=30)
        expect(card.locator('[data-testid="status"]')).to_have_text("Done", timeout=SLOW_MS)
        # m2's session was not touched
        self.assertEqual(w.sessions()["m2:" + M2_SID]["status"], "needs_attention")
        self.screenshot("remote-claude-answered-from-the-hub")
