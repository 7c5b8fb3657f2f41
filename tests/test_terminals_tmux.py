"""The tmux backend: exact argv (pure functions, a recording runner) and real keys in a real pane.

The pane tests run a tiny raw-mode reader in a private tmux server that turns on bracketed paste
(as Claude Code and Codex do) and records every byte it receives, so they show exactly what a TUI
gets: literal text, one bracketed paste for several lines, Enter as a carriage return.
"""
import os
import sys
import time
import unittest
from typing import Any, List, Optional

from tests.support import tools
from tests.support.agentenv import PrivateTmux
from tests.support.helpers import IsolatedTestCase

from amc_server import keystrokes as ks
from amc_server import terminals
from amc_server.terminals import base, tmux
from amc_server.terminals.noop import Noop

RAW_READER = r"""
import os, sys, termios, tty
out = sys.argv[1]
tty.setraw(0)
os.write(1, b"\x1b[?2004hREADY\r\n")
with open(out, "ab", buffering=0) as f:
    while True:
        data = os.read(0, 4096)
        if not data or b"\x04" in data:
            break
        f.write(data)
"""


class Recorder:
    def __init__(self, returncode: int = 0, stderr: str = "") -> None:
        self.calls: List[Any] = []
        self.returncode = returncode
        self.stderr = stderr

    def __call__(self, argv, stdin=None, timeout=5.0, env=None) -> base.Result:
        self.calls.append((list(argv), stdin))
        out = ""
        if "display-message" in argv:
            out = "%s 0 123\n" % argv[argv.index("-t") + 1]
        return base.Result(self.returncode, out, self.stderr)


class Argv(unittest.TestCase):
    def test_argv_is_built_exactly(self):
        self.assertEqual(tmux.literal_argv("/t", "/s", "%3", "-x"),
                         ["/t", "-S", "/s", "send-keys", "-t", "%3", "-l", "--", "-x"])
        self.assertEqual(tmux.key_argv("/t", "", "%3", "Enter"),
                         ["/t", "send-keys", "-t", "%3", "Enter"])
        self.assertEqual(tmux.load_buffer_argv("/t", "/s", "amc-1"),
                         ["/t", "-S", "/s", "load-buffer", "-b", "amc-1", "-"])
        self.assertEqual(tmux.paste_buffer_argv("/t", "/s", "%3", "amc-1"),
                         ["/t", "-S", "/s", "paste-buffer", "-p", "-d", "-r", "-b", "amc-1",
                          "-t", "%3"])
        self.assertEqual(tmux.probe_argv("/t", "/s", "%3"),
                         ["/t", "-S", "/s", "display-message", "-p", "-t", "%3",
                          "#{pane_id} #{pane_dead} #{pane_pid}"])
        self.assertEqual(tmux.capture_argv("/t", "/s", "%3"),
                         ["/t", "-S", "/s", "capture-pane", "-p", "-t", "%3"])

    def test_a_plan_becomes_these_commands_in_order(self):
        socket = os.path.abspath(__file__)  # any existing path stands for the socket
        runner = Recorder()
        backend = tmux.Tmux(runner=runner, env={"PATH": os.environ.get("PATH", "")})
        session = {"tmux_pane": "%7", "tmux_socket": socket}
        backend.deliver(session, [ks.text("3"), ks.pause(0), ks.paste("a\nb"), ks.key("Enter")])
        binary = runner.calls[0][0][0]
        self.assertEqual([c[0][3:] for c in runner.calls], [
            ["send-keys", "-t", "%7", "-l", "--", "3"],
            ["load-buffer", "-b", runner.calls[1][0][5], "-"],
            ["paste-buffer", "-p", "-d", "-r", "-b", runner.calls[1][0][5], "-t", "%7"],
            ["send-keys", "-t", "%7", "Enter"]])
        self.assertTrue(all(c[0][:3] == [binary, "-S", socket] for c in runner.calls))
        self.assertEqual(runner.calls[1][1], b"a\nb")  # the text goes in on stdin, not argv

    def test_errors_say_what_went_wrong(self):
        socket = os.path.abspath(__file__)
        gone = tmux.Tmux(runner=Recorder(1, "can't find pane: %7"))
        with self.assertRaises(base.PaneGone) as ctx:
            gone.deliver({"tmux_pane": "%7", "tmux_socket": socket}, [ks.text("x")])
        self.assertIn("can't find pane", str(ctx.exception))
        broken = tmux.Tmux(runner=Recorder(1, "something odd"))
        with self.assertRaises(base.CommandFailed):
            broken.deliver({"tmux_pane": "%7", "tmux_socket": socket}, [ks.text("x")])
        with self.assertRaises(base.NoPane):
            broken.deliver({"tmux_pane": "7; rm", "tmux_socket": socket}, [ks.text("x")])
        with self.assertRaises(base.PaneGone) as ctx:
            broken.check({"tmux_pane": "%7", "tmux_socket": "/nonexistent/socket"})
        self.assertIn("/nonexistent/socket", str(ctx.exception))

    def test_plans_refuse_what_a_terminal_cannot_type(self):
        with self.assertRaises(ValueError):
            ks.text("two\nlines")
        with self.assertRaises(ValueError):
            ks.key("F13; rm -rf")
        self.assertEqual(ks.describe([ks.text("secret"), ks.key("Enter")]),
                         "text(6 chars) key(Enter)")

    def test_the_family_picks_the_pane_the_session_has(self):
        backends = terminals.load(runner=Recorder(), env={})
        self.assertEqual([b.name for b in backends], ["tmux", "zellij", "none"])
        pick = lambda s: terminals.for_session(backends, s).name  # noqa: E731
        self.assertEqual(pick({"tmux_pane": "%1"}), "tmux")
        self.assertEqual(pick({"zellij_session": "z", "zellij_pane": "2"}), "zellij")
        self.assertEqual(pick({"tmux_pane": "%1", "zellij_session": "z", "zellij_pane": "2"}),
                         "tmux")
        self.assertEqual(pick({}), "none")
        with self.assertRaises(base.NoPane):
            Noop().deliver({"session_id": "s"}, [ks.text("x")])

    def test_binaries_are_found_outside_a_minimal_path(self):
        found = base.find_binary("sh", {"PATH": "/nonexistent", "HOME": "/nonexistent"})
        self.assertIn(found, ("/usr/bin/sh", "/bin/sh"))
        self.assertIsNone(base.find_binary("amc-no-such-tool", {"PATH": "/nonexistent"}))
        with self.assertRaises(base.MultiplexerMissing) as ctx:
            base.require_binary("amc-no-such-tool", {"PATH": "/nonexistent"})
        self.assertIn("/opt/homebrew/bin", str(ctx.exception))

    def test_the_default_runner_times_out_and_reports_a_missing_binary(self):
        with self.assertRaises(base.CommandFailed):
            base.run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.3)
        with self.assertRaises(base.MultiplexerMissing):
            base.run(["/nonexistent/tmux", "-V"])
        result = base.run([sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"],
                          stdin=b"abc")
        self.assertEqual((result.returncode, result.stdout), (0, "cba\n"))


class RealPane(IsolatedTestCase):
    """Keys into a raw-mode reader in a real tmux pane, from outside tmux (-S socket)."""

    def setUp(self) -> None:
        super().setUp()
        self.tmux = PrivateTmux(tools.require("tmux"), env=dict(self.env))
        self.addCleanup(self.tmux.kill)
        self.out = os.path.join(self.home, "bytes")
        self.tmux.new_session([sys.executable, "-c", RAW_READER, self.out], self.home)
        self.tmux.wait_for("READY")
        self.session = {"tmux_pane": self.tmux.pane, "tmux_socket": self.tmux.socket_path}
        self.backend = tmux.Tmux(env={"PATH": os.environ.get("PATH", "")})

    def received(self, want: bytes, timeout: float = 5) -> bytes:
        deadline = time.monotonic() + timeout
        data: Optional[bytes] = b""
        while time.monotonic() < deadline:
            try:
                with open(self.out, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                data = b""
            if want in data:
                return data
            time.sleep(0.05)
        self.fail("the pane never received %r; it got %r" % (want, data))

    def test_text_paste_and_keys_arrive_as_a_tui_expects(self):
        self.backend.check(self.session)
        self.backend.deliver(self.session, [
            ks.text("Enter C-c -l"), ks.key("Enter"), ks.paste("first line\nsecond line"),
            ks.pause(50), ks.key("Enter"), ks.key("Escape")])
        data = self.received(b"\x1b[201~\r\x1b")  # the last bytes: Enter, then Escape
        self.assertEqual(data, b"Enter C-c -l\r\x1b[200~first line\nsecond line\x1b[201~\r\x1b")
        self.assertIn("READY", self.backend.capture(self.session))

    def test_check_tells_a_live_pane_from_a_gone_one(self):
        self.backend.check(self.session)
        with self.assertRaises(base.PaneGone):
            self.backend.check(dict(self.session, tmux_pane="%4242"))
        self.tmux.kill()
        with self.assertRaises(base.PaneGone):
            self.backend.check(self.session)


if __name__ == "__main__":
    unittest.main()
