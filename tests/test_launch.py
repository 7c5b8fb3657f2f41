"""Starting sessions (amc_server/actions/launch.py, actions/start_dialogs.py, POST /api/sessions).

The argv builders are asserted exactly; validation errors through the real endpoint; and real
launches on a private tmux server (`tmux -S <temp socket>` as AMC_TMUX_SOCKET, and the server of
`$TMUX`) running a stand-in `claude` that records its argv and working directory, so the window's
cwd, the exact argv and the card appearing at once are all checked against real tmux.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from tests.support import tools
from tests.support.helpers import ServerTestCase
from amc_server.actions import launch
from amc_server import terminals
from amc_server.agents.claude import launch as CLAUDE
from amc_server.agents.claude import screen as claude_screen
from amc_server.agents.codex import launch as CODEX
from amc_server.agents.codex import screen as codex_screen
from amc_server.agents.answers import Answer
from amc_server.actions.start_dialogs import Watcher
from amc_server.terminals.base import Result

TRUST_SCREEN = """\
\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500
 Accessing workspace:

 /tmp/x/work/newproj

 Quick safety check: Is this a project you created or one you trust?

 Security guide

 \u276f No, exit
   Yes, I trust this folder

 Enter to confirm \u00b7 Esc to cancel
"""
CHANNELS_SCREEN = """\
\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500
  WARNING: Loading development channels

  --dangerously-load-development-channels is for local channel development only.

  Channels: server:amc

  \u276f 1. I am using this for local development
    2. Exit

  Enter to confirm \u00b7 Esc to cancel
"""
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
with open(os.path.join(FIXTURES, "codex-0.169.0", "codex-0.169.0-tui-trust-screen.txt"),
          encoding="utf-8") as _f:
    CODEX_TRUST_SCREEN = _f.read()   # recorded from the real Codex 0.169.0 in tmux
CODEX_APPROVAL_SCREEN = """\
  Would you like to run the following command?

  $ touch x

\u203a 1. Yes, proceed (y)
  2. No, and tell Codex what to do differently (esc)

  Press enter to confirm or esc to cancel
"""
RECORDER = """#!%s
import json, os, sys, time
with open(os.environ["LAUNCH_RECORD"] + ".tmp", "w") as f:
    json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "pane": os.environ.get("TMUX_PANE")}, f)
os.replace(os.environ["LAUNCH_RECORD"] + ".tmp", os.environ["LAUNCH_RECORD"])
time.sleep(120)
""" % sys.executable


class ArgvTest(unittest.TestCase):
    def test_claude_argv_puts_the_prompt_after_double_dash(self) -> None:
        self.assertEqual(CLAUDE.argv("/b/claude", "S", "fix it; rm -rf /", "plan"),
                         ["/b/claude", "--session-id", "S", "--permission-mode", "plan",
                          "--", "fix it; rm -rf /"])
        self.assertEqual(CLAUDE.argv("/b/claude", "S"), ["/b/claude", "--session-id", "S"])

    def test_claude_argv_with_the_channel(self) -> None:
        self.assertEqual(CLAUDE.argv("/b/claude", "S", "hi", "", "/d/mcp.json"), [
            "/b/claude", "--session-id", "S", "--mcp-config", "/d/mcp.json",
            "--dangerously-load-development-channels", "server:amc",
            "--allowedTools", "mcp__amc__reply", "--", "hi"])

    def test_channel_config_names_this_servers_data_dir(self) -> None:
        import sys
        from tests.support.helpers import ROOT
        self.assertEqual(launch.channel_config("/d/amc"), {"mcpServers": {
            "amc": {"type": "stdio", "command": sys.executable,
                    "args": [os.path.realpath(os.path.join(ROOT, "bin", "amc-channel"))],
                    "env": {"AMC_DATA_DIR": "/d/amc"}}}})

    def test_codex_argv(self) -> None:
        self.assertEqual(CODEX.argv("/b/codex", prompt="-x hello"), ["/b/codex", "--", "-x hello"])
        self.assertEqual(CODEX.argv("/b/codex"), ["/b/codex"])

    def test_where_tmux(self) -> None:
        self.assertEqual(launch.tmux_base("tmux", {"TMUX": "/tmp/t/default,12,0"}),
                         launch.Where("tmux", ["tmux", "-S", "/tmp/t/default"]))
        self.assertEqual(launch.tmux_base("tmux", {"AMC_TMUX_SOCKET": "/s/amc"}),
                         launch.Where("tmux", ["tmux", "-S", "/s/amc"], dedicated=True))
        self.assertEqual(launch.tmux_base("tmux", {}),
                         launch.Where("tmux", ["tmux", "-L", "amc"], dedicated=True))

    def test_tmux_window_and_session_argv(self) -> None:
        own = launch.Where("tmux", ["tmux", "-L", "amc"], dedicated=True)
        theirs = launch.Where("tmux", ["tmux", "-S", "/s"])
        self.assertEqual(launch.tmux_window_argv(theirs, "/p", "claude-p", ["/b/claude", "x y"]), [
            "tmux", "-S", "/s", "new-window", "-d", "-P", "-F", "#{pane_id} #{socket_path}",
            "-n", "claude-p", "-c", "/p", "--", "/b/claude", "x y"])
        self.assertEqual(launch.tmux_window_argv(own, "/p", "n", ["c"]), [
            "tmux", "-L", "amc", "new-window", "-d", "-P", "-F", "#{pane_id} #{socket_path}",
            "-t", "=amc:", "-n", "n", "-c", "/p", "--", "c"])
        self.assertEqual(launch.tmux_session_argv(own, "/p", "n", ["c"]), [
            "tmux", "-L", "amc", "new-session", "-d", "-P", "-F", "#{pane_id} #{socket_path}",
            "-s", "amc", "-x", "200", "-y", "50", "-n", "n", "-c", "/p", "--", "c"])
        self.assertEqual(launch.tmux_probe_argv(own), ["tmux", "-L", "amc", "has-session",
                                                       "-t", "=amc"])
        self.assertEqual(launch.tmux_probe_argv(theirs),
                         ["tmux", "-S", "/s", "display-message", "-p", "#{socket_path}"])

    def test_tmux_argv_doubles_hash_where_tmux_expands_formats(self) -> None:
        own = launch.Where("tmux", ["tmux", "-L", "amc"], dedicated=True)
        theirs = launch.Where("tmux", ["tmux", "-S", "/s"])
        # -c and -n are format-expanded by tmux 3.3a: `#(...)` would run, `#S` would be replaced
        self.assertEqual(launch.tmux_window_argv(theirs, "/w/x#(touch P)", "n#S", ["c", "#(x)"]), [
            "tmux", "-S", "/s", "new-window", "-d", "-P", "-F", "#{pane_id} #{socket_path}",
            "-n", "n##S", "-c", "/w/x##(touch P)", "--", "c", "#(x)"])
        self.assertEqual(launch.tmux_session_argv(own, "/w/a#Sb", "n", ["c", "d"]), [
            "tmux", "-L", "amc", "new-session", "-d", "-P", "-F", "#{pane_id} #{socket_path}",
            "-s", "amc", "-x", "200", "-y", "50", "-n", "n", "-c", "/w/a##Sb", "--", "c", "d"])
        # a command of one argument is run by the pane's shell: it goes as one quoted word
        self.assertEqual(launch.tmux_window_argv(theirs, "/p", "n", ["/b/my $(x) codex"])[-2:],
                         ["--", "'/b/my $(x) codex'"])
        self.assertEqual(launch.tmux_pane_path_argv(theirs, "%3", "start"), [
            "tmux", "-S", "/s", "display-message", "-p", "-t", "%3",
            "#{pane_id} #{pane_dead} #{pane_start_path}"])
        self.assertEqual(launch.tmux_pane_path_argv(own, "%3", "current")[-1],
                         "#{pane_id} #{pane_dead} #{pane_current_path}")
        self.assertEqual(launch.tmux_kill_argv(theirs, "%3"),
                         ["tmux", "-S", "/s", "kill-pane", "-t", "%3"])

    def test_window_names_never_carry_a_format(self) -> None:
        self.assertEqual(launch.window_name("x#(touch P)", "claude"), "claude-x__touch_P_")
        self.assertEqual(launch.window_name("a#Sb", "codex"), "codex-a_Sb")

    def test_zellij_argv(self) -> None:
        self.assertEqual(launch.zellij_argv("zellij", "work", "/p", "n", ["/b/claude", "hi"]), [
            "zellij", "--session", "work", "run", "--name", "n", "--cwd", "/p", "--",
            "/b/claude", "hi"])

    def test_zellij_launch_through_a_recording_runner(self) -> None:
        calls = []

        def runner(argv, stdin, timeout, env):
            calls.append(list(argv))
            return Result(0, "terminal_7\n", "")
        home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, home, True)
        bindir = _stub_bin(home, "zellij", "claude")
        env = {"PATH": bindir, "HOME": home, "ZELLIJ": "0", "ZELLIJ_SESSION_NAME": "work",
               "AMC_DATA_DIR": os.path.join(home, "data")}
        from amc_server.paths import get_paths
        answer = launch.Launcher(get_paths(env), env, runner=runner).start(
            {"agent": "claude", "project_dir": home, "prompt": "hello"})
        self.assertEqual(calls, [[os.path.join(bindir, "zellij"), "--session", "work", "run",
                                  "--name", "claude-" + os.path.basename(home), "--cwd", home,
                                  "--", os.path.join(bindir, "claude"), "--session-id",
                                  answer["session_id"], "--", "hello"]])
        with open(get_paths(env).session_file(answer["session_id"])) as f:
            s = json.load(f)
        self.assertEqual((s["zellij_session"], s["zellij_pane"], s["status"]),
                         ("work", "7", "starting"))


class DirectoryCheckTest(unittest.TestCase):
    """The new pane's directory is read back; a pane elsewhere is closed and refused in words."""

    def launch_with(self, start: str, current: str, pane_gone: bool = False):
        calls = []
        home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, home, True)
        project = os.path.join(home, "a#Sb")
        os.mkdir(project)
        start, current = start.format(p=project, w=home), current.format(p=project, w=home)

        def runner(argv, stdin, timeout, env):
            calls.append(list(argv))
            if "has-session" in argv:
                return Result(0, "", "")
            if "new-window" in argv:
                return Result(0, "%5 /s\n", "")
            if "display-message" in argv:
                if pane_gone:
                    return Result(0, " 0 \n", "")  # tmux 3.3a: a gone pane is no error
                path = start if argv[-1].endswith("start_path}") else current
                return Result(0, "%%5 0 %s\n" % path, "")
            return Result(0, "", "")
        bindir = _stub_bin(home, "tmux", "claude")
        env = {"PATH": bindir, "HOME": home, "AMC_TMUX_SOCKET": "/s",
               "AMC_DATA_DIR": os.path.join(home, "data")}
        from amc_server.paths import get_paths
        launcher = launch.Launcher(get_paths(env), env, runner=runner)
        self.addCleanup(setattr, launch, "DIR_CHECK_S", launch.DIR_CHECK_S)
        launch.DIR_CHECK_S = 0.2
        try:
            return launcher.start({"agent": "claude", "project_dir": project}), calls, project
        except launch.ApiError as e:
            self.assertFalse(os.path.exists(os.path.join(home, "data", "sessions")) and
                             os.listdir(os.path.join(home, "data", "sessions")), "a card stayed")
            return e, calls, project

    def test_the_same_directory_is_accepted(self) -> None:
        answer, calls, project = self.launch_with("{p}", "{p}")
        self.assertTrue(answer["ok"], answer)
        self.assertFalse([c for c in calls if "kill-pane" in c])

    def test_a_start_path_tmux_changed_is_refused_and_the_pane_closed(self) -> None:
        error, calls, project = self.launch_with("{w}/atb", "{p}")
        self.assertIsInstance(error, launch.ApiError)
        self.assertEqual(error.status, 409)
        self.assertIn("tmux opened the new pane in", str(error))
        self.assertIn("not in %r" % project, str(error))
        self.assertIn("no session was started", str(error))
        self.assertEqual(calls[-1][-3:], ["kill-pane", "-t", "%5"])

    def test_an_agent_that_never_runs_there_is_refused(self) -> None:
        error, calls, project = self.launch_with("{p}", "/somewhere/else")
        self.assertIsInstance(error, launch.ApiError)
        self.assertIn("runs in '/somewhere/else', not in %r" % project, str(error))
        self.assertEqual(calls[-1][-3:], ["kill-pane", "-t", "%5"])

    def test_a_pane_gone_at_once_is_said(self) -> None:
        error, calls, project = self.launch_with("{p}", "{p}", pane_gone=True)
        self.assertIsInstance(error, launch.ApiError)
        self.assertIn("closed at once", str(error))


class StartDialogTest(unittest.TestCase):
    def test_trust_dialog_read_off_the_screen(self) -> None:
        d = claude_screen.start_dialog(TRUST_SCREEN)
        self.assertEqual(d["options"], ["No, exit", "Yes, I trust this folder"])
        self.assertEqual(d["selected"], 1)
        self.assertIn("Quick safety check", d["text"])

    def test_channels_warning_read_off_the_screen(self) -> None:
        d = claude_screen.start_dialog(CHANNELS_SCREEN)
        self.assertEqual(d["options"], ["I am using this for local development", "Exit"])
        self.assertTrue(d["text"].startswith("WARNING: Loading development channels"), d)

    def test_the_prompt_is_no_dialog(self) -> None:
        self.assertIsNone(claude_screen.start_dialog("\u2500\u2500\n\u276f \n\u2500\u2500\n"))

    def test_answer_moves_the_cursor_then_enter(self) -> None:
        session = {"status": "needs_attention", "attention": {"kind": "dialog", "text": "t"}}
        plan = claude_screen.answer_plan(session, Answer("2"), 200, TRUST_SCREEN)
        self.assertEqual([s.value for s in plan if s.kind == "key"], ["Down", "Enter"])
        plan = claude_screen.answer_plan(session, Answer("1"), 200, CHANNELS_SCREEN)
        self.assertEqual([s.value for s in plan if s.kind == "key"], ["Enter"])
        with self.assertRaises(Exception):
            claude_screen.answer_plan(session, Answer("3"), 200, TRUST_SCREEN)
        with self.assertRaises(Exception):
            claude_screen.answer_plan(session, Answer("1"), 200, "no dialog here")


class CodexStartDialogTest(unittest.TestCase):
    def test_trust_screen_read_off_the_recorded_screen(self) -> None:
        d = codex_screen.start_dialog(CODEX_TRUST_SCREEN)
        self.assertEqual(d["options"], ["Trust and continue", "Back to Agent Command Center"])
        self.assertEqual(d["selected"], 1)
        self.assertTrue(d["text"].startswith("Folder access /home/dev/work/fresh-proj Trust this "
                                             "folder?"), d)

    def test_the_cursor_row_is_the_selected_option(self) -> None:
        moved = CODEX_TRUST_SCREEN.replace("\u203a 1.", "  1.").replace("  2. Back", "\u203a 2. Back")
        self.assertEqual(codex_screen.start_dialog(moved)["selected"], 2)

    def test_the_composer_and_an_approval_prompt_are_no_start_dialog(self) -> None:
        self.assertIsNone(codex_screen.start_dialog(CODEX_APPROVAL_SCREEN))
        self.assertIsNone(codex_screen.start_dialog(
            "\u203a Ask Codex to do anything\n\n  fake-model default \u00b7 /w\n"))
        self.assertIsNone(codex_screen.start_dialog(""))

    def test_answer_moves_the_cursor_then_enter(self) -> None:
        session = {"status": "needs_attention", "attention": {"kind": "dialog", "text": "t"}}
        plan = codex_screen.answer_plan(session, Answer("2"), 0, CODEX_TRUST_SCREEN)
        self.assertEqual([s.value for s in plan if s.kind == "key"], ["Down", "Enter"])
        plan = codex_screen.answer_plan(session, Answer("1"), 0, CODEX_TRUST_SCREEN)
        self.assertEqual([s.value for s in plan if s.kind == "key"], ["Enter"])
        self.assertFalse([s for s in plan if s.kind == "text"])  # a digit would choose at once
        with self.assertRaises(Exception):
            codex_screen.answer_plan(session, Answer("3"), 0, CODEX_TRUST_SCREEN)
        with self.assertRaises(Exception):
            codex_screen.answer_plan(session, Answer("1"), 0, "\u203a Ask Codex to do anything")

    def test_the_dialog_closing_confirms_the_answer(self) -> None:
        d = codex_screen.start_dialog(CODEX_TRUST_SCREEN)
        session = {"status": "needs_attention", "attention": {"kind": "dialog", "text": d["text"]}}
        self.assertEqual(codex_screen.screen_confirms(session, Answer("1"), CODEX_TRUST_SCREEN,
                                                      CODEX_TRUST_SCREEN), "")
        self.assertEqual(codex_screen.screen_confirms(session, Answer("1"), CODEX_TRUST_SCREEN,
                                                      "\u203a hello"), "the dialog closed")


SHOW_SCREEN = """#!%s
import sys, time
sys.stdout.write(open(sys.argv[0] + ".screen", encoding="utf-8").read())
sys.stdout.flush()
time.sleep(120)
""" % sys.executable


def _stub_bin(home: str, *names: str) -> str:
    bindir = os.path.join(home, "bin")
    os.makedirs(bindir, exist_ok=True)
    for name in names:
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write(RECORDER)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return bindir


class LaunchEndpointTest(ServerTestCase):
    """POST /api/sessions on a real server, launching into a private tmux server."""

    def setUp(self) -> None:
        super().setUp()
        self.project = os.path.join(self.home, "work", "proj")
        os.makedirs(self.project)
        self.record = os.path.join(self.home, "record.json")
        self.bindir = _stub_bin(self.home, "claude", "codex")
        self.socket = os.path.join(self.home, "tmux-%s" % uuid.uuid4().hex[:6])
        self.launch_env = dict(self.env, PATH=self.bindir + ":/usr/bin:/bin",
                               LAUNCH_RECORD=self.record, AMC_TMUX_SOCKET=self.socket)
        self.install(self.launch_env)

    def install(self, env) -> None:
        core = self.server.core
        self.watcher = Watcher(core, terminals.load(env=env))
        self.server.app.replace_launcher(launch.Launcher(self.paths, env, watcher=self.watcher))

    def post(self, body, token=True):
        return self.request("POST", "/api/sessions", body, token=token)[:2]

    def error(self, body, status, text):
        code, answer = self.post(body)
        self.assertEqual((code, answer.get("ok")), (status, False), answer)
        self.assertIn(text, answer["error"])

    def test_validation_errors(self) -> None:
        self.error({"agent": "gpt", "project_dir": self.project}, 400, "unknown agent")
        self.error({"agent": "claude", "project_dir": self.project + "/nope"}, 400,
                   "does not exist")
        with open(os.path.join(self.project, "file"), "w"):
            pass
        self.error({"agent": "claude", "project_dir": self.project + "/file"}, 400,
                   "not a directory")
        self.error({"agent": "claude", "project_dir": "work/proj"}, 400, "absolute")
        self.error({"agent": "claude", "project_dir": self.project, "prompt": 3}, 400,
                   '"prompt" must be a string')
        self.error({"agent": "claude", "project_dir": self.project, "prompt": "x" * 100_001},
                   400, "too long")
        self.error({"agent": "claude", "project_dir": self.project, "permission_mode": "yolo"},
                   400, "permission_mode")
        self.error({"agent": "claude", "project_dir": self.project, "channel": "yes"}, 400,
                   "channel")
        self.error({"agent": "codex", "project_dir": self.project, "channel": True}, 400,
                   "Claude Code's options")
        self.error([], 400, "JSON object")
        code, answer = self.post({"agent": "claude", "project_dir": self.project}, token=False)
        self.assertEqual((code, answer["ok"]), (403, False))
        self.assertFalse(os.path.exists(self.record))

    def test_not_owned_directory_is_refused(self) -> None:
        with self.assertRaises(launch.ApiError) as e:
            launch.parse({"agent": "claude", "project_dir": self.project}, uid=os.getuid() + 1)
        self.assertEqual(e.exception.status, 403)
        self.assertIn("not owned by you", str(e.exception))
        if os.getuid() == 0:  # a directory of another user, for real
            os.chown(self.project, 65534, 65534)
            self.error({"agent": "claude", "project_dir": self.project}, 403, "not owned by you")

    def test_missing_binary(self) -> None:
        env = dict(self.launch_env, PATH=os.path.join(self.home, "empty"))
        self.install(env)
        self.error({"agent": "claude", "project_dir": self.project}, 424, "claude is not installed")

    def test_dead_tmux(self) -> None:
        tools.require("tmux")
        env = dict(self.launch_env, TMUX=os.path.join(self.home, "no-such-socket") + ",1,0",
                   PATH=self.bindir + ":" + os.path.dirname(tools.require("tmux")) + ":/usr/bin")
        self.install(env)
        self.error({"agent": "claude", "project_dir": self.project}, 409, "does not answer")

    def kill_tmux(self, socket: str) -> None:
        subprocess.run([tools.require("tmux"), "-S", socket, "kill-server"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        try:
            os.unlink(socket)
        except OSError:
            pass

    def recorded(self, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.record):
            self.assertLess(time.monotonic(), deadline, "the launched program never ran")
            time.sleep(0.05)
        with open(self.record) as f:
            return json.load(f)

    def test_claude_starts_in_amcs_own_tmux_server_and_shows_at_once(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        prompt = "fix the bug in \"main.py\"; then $(echo nothing) `ls`\nsecond line"
        code, answer = self.post({"agent": "claude", "project_dir": self.project,
                                  "prompt": prompt, "permission_mode": "plan"})
        self.assertEqual((code, answer["ok"]), (200, True), answer)
        sid = answer["session_id"]
        uuid.UUID(sid)
        # the card is there at once, under the chosen id, before the agent reported anything
        state = self.get_json("/api/state")
        cards = [s for s in state["sessions"] if s["project_dir"] == self.project]
        self.assertEqual([(s["session_id"], s["status"], s["agent"]) for s in cards],
                         [(sid, "starting", "claude")])
        self.assertEqual(cards[0]["tmux_socket"], self.socket)
        run = self.recorded()
        self.assertEqual(run["argv"], ["--session-id", sid, "--permission-mode", "plan",
                                       "--", prompt])
        self.assertEqual(run["cwd"], self.project)
        self.assertEqual(run["pane"], cards[0]["tmux_pane"])
        out = subprocess.run([tools.require("tmux"), "-S", self.socket, "list-windows", "-t",
                              "amc", "-F", "#{window_name} #{pane_current_path}"],
                             stdout=subprocess.PIPE, timeout=10).stdout.decode()
        self.assertIn("claude-proj %s" % self.project, out)
        # a second launch opens a second window of the same server
        os.unlink(self.record)
        code, second = self.post({"agent": "claude", "project_dir": self.project})
        self.assertEqual(code, 200, second)
        self.assertEqual(self.recorded()["argv"], ["--session-id", second["session_id"]])
        out = subprocess.run([tools.require("tmux"), "-S", self.socket, "list-windows", "-t",
                              "amc"], stdout=subprocess.PIPE, timeout=10).stdout.decode()
        self.assertEqual(len(out.strip().splitlines()), 2, out)

    def test_directories_with_tmux_formats_start_the_agent_exactly_there(self) -> None:
        tmux = tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        work = os.path.dirname(self.project)
        names = ["x#(touch P)", "a#Sb", "sp ace;semi #{session_name}", "x#(cd;touch P)",
                 "x#(touch P)"]  # the first starts the server (new-session), then new-window
        panes = []
        for name in names:
            directory = os.path.join(work, name)
            os.makedirs(directory, exist_ok=True)
            if os.path.exists(self.record):
                os.unlink(self.record)
            code, answer = self.post({"agent": "claude", "project_dir": directory,
                                      "prompt": "#(touch P) #S"})
            self.assertEqual((code, answer.get("ok")), (200, True), (name, answer))
            run = self.recorded()
            self.assertEqual(run["cwd"], directory, name)
            self.assertEqual(run["argv"][-2:], ["--", "#(touch P) #S"])
            card = self.server.core.session(answer["session_id"])
            self.assertEqual((card["project_dir"], card["tmux_pane"]), (directory, run["pane"]))
            panes.append(run["pane"])
        out = subprocess.run([tmux, "-S", self.socket, "list-panes", "-s", "-t", "amc", "-F",
                              "#{pane_id}\t#{window_name}\t#{pane_start_path}"],
                             stdout=subprocess.PIPE, timeout=10).stdout.decode()
        rows = [line.split("\t") for line in out.splitlines()]
        self.assertEqual([r[0] for r in rows], panes)
        self.assertEqual([r[1] for r in rows],
                         [launch.window_name(n, "claude") for n in names])
        self.assertEqual([r[2] for r in rows], [os.path.join(work, n) for n in names])
        # `#(...)` never ran: no P where the tmux server, its jobs or AMC would have run it
        server_pid = subprocess.run([tmux, "-S", self.socket, "display-message", "-p", "#{pid}"],
                                    stdout=subprocess.PIPE, timeout=10).stdout.decode().strip()
        time.sleep(0.5)  # tmux runs `#()` jobs in the background
        places = {os.getcwd(), self.home, "/", "/tmp", os.path.expanduser("~"),
                  os.path.realpath("/proc/%s/cwd" % server_pid)}
        for root, dirs, files in os.walk(self.home):
            places.add(root)
        self.assertEqual(sorted(p for p in places if os.path.lexists(os.path.join(p, "P"))), [])

    def test_claude_starts_in_the_tmux_server_amc_runs_in(self) -> None:
        tmux = tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        subprocess.run([tmux, "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-s",
                        "mine", "sleep 120"], check=True, timeout=10, env=self.launch_env)
        env = dict(self.launch_env, TMUX=self.socket + ",1,0")
        env.pop("AMC_TMUX_SOCKET")
        self.install(env)
        code, answer = self.post({"agent": "claude", "project_dir": self.project, "prompt": "hi"})
        self.assertEqual(code, 200, answer)
        self.assertEqual(self.recorded()["cwd"], self.project)
        out = subprocess.run([tmux, "-S", self.socket, "list-windows", "-t", "mine", "-F",
                              "#{window_name}"], stdout=subprocess.PIPE, timeout=10).stdout.decode()
        self.assertEqual(len(out.split()), 2, out)
        self.assertEqual(out.split()[-1], "claude-proj")

    def test_a_pane_closed_before_the_agent_reported_removes_the_card(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        code, answer = self.post({"agent": "claude", "project_dir": self.project})
        self.assertEqual(code, 200, answer)
        pane = self.server.core.session(answer["session_id"])["tmux_pane"]
        self.recorded()
        subprocess.run([tools.require("tmux"), "-S", self.socket, "kill-pane", "-t", pane],
                       timeout=10)
        deadline = time.monotonic() + 10
        while self.server.core.session(answer["session_id"]) is not None:
            self.assertLess(time.monotonic(), deadline, "the card stayed")
            time.sleep(0.1)
        self.assertIsNone(self.session_file(answer["session_id"]))

    def wait_card(self, sid, predicate, what, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            s = self.server.core.session(sid)
            if s is not None and predicate(s):
                return s
            self.assertLess(time.monotonic(), deadline, "%s; the card: %s" % (what, s))
            time.sleep(0.1)

    def test_codex_trust_screen_shows_on_the_card_and_again_after_a_restart(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        codex = os.path.join(self.bindir, "codex")
        with open(codex, "w") as f:
            f.write(SHOW_SCREEN)
        with open(codex + ".screen", "w", encoding="utf-8") as f:
            f.write(CODEX_TRUST_SCREEN.strip("\n").replace("\n", "\r\n"))
        code, answer = self.post({"agent": "codex", "project_dir": self.project})
        self.assertEqual(code, 200, answer)
        sid = answer["session_id"]
        s = self.wait_card(sid, lambda s: (s.get("attention") or {}).get("kind") == "dialog",
                           "the trust screen never showed on the card")
        self.assertEqual((s["status"], s["attention"]["options"]),
                         ("needs_attention", ["Trust and continue",
                                              "Back to Agent Command Center"]))
        # a restart: a new watcher knows nothing until it resumes from the hook files
        self.install(self.launch_env)
        self.server.core.touch(sid)  # merged again without the old watcher
        self.wait_card(sid, lambda s: s["status"] == "starting", "the dialog stayed unwatched")
        self.assertEqual(self.watcher.resume(), [sid])
        self.wait_card(sid, lambda s: (s.get("attention") or {}).get("kind") == "dialog",
                       "the trust screen did not show again after the restart")

    def test_after_a_restart_a_launched_session_whose_pane_is_gone_is_let_go(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        code, answer = self.post({"agent": "claude", "project_dir": self.project})
        self.assertEqual(code, 200, answer)
        sid = answer["session_id"]
        self.recorded()
        self.install(self.launch_env)  # the restart; the pane closes while no one watches
        self.kill_tmux(self.socket)
        self.assertEqual(self.watcher.resume(), [sid])
        deadline = time.monotonic() + 10
        while sid in self.watcher._watched:
            self.assertLess(time.monotonic(), deadline, "still followed")
            time.sleep(0.1)
        self.assertEqual(self.server.core.session(sid)["status"], "starting")  # card kept

    def test_codex_placeholder_is_replaced_by_the_session_in_its_pane(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux, self.socket)
        code, answer = self.post({"agent": "codex", "project_dir": self.project, "prompt": "hi"})
        self.assertEqual(code, 200, answer)
        placeholder = answer["session_id"]
        self.assertTrue(placeholder.startswith("launch-") and answer["placeholder"], answer)
        self.assertEqual(self.recorded()["argv"], ["--", "hi"])
        s = self.server.core.session(placeholder)
        self.assertEqual((s["status"], s["agent"]), ("starting", "codex"))
        # Codex reports under its own id, from the same pane (a hook event)
        proc = self.run_hook({"hook_event_name": "SessionStart", "session_id": "codex-own-id",
                              "cwd": self.project},
                             {"TMUX": self.socket + ",1,0", "TMUX_PANE": s["tmux_pane"]},
                             args=("--agent", "codex"))
        self.assertEqual(proc.returncode, 0)
        deadline = time.monotonic() + 10
        while self.server.core.session(placeholder) is not None:
            self.assertLess(time.monotonic(), deadline, "the placeholder stayed")
            time.sleep(0.1)
        ids = [x["session_id"] for x in self.get_json("/api/state")["sessions"]]
        self.assertEqual(ids, ["codex-own-id"])


if __name__ == "__main__":
    unittest.main()
