"""The Zellij backend: exact argv (pure functions), then behaviour against a recording fake
`zellij`.

Zellij itself is not installed here, so the behaviour tests put a small Python script named
`zellij` first on PATH and run it through the real runner (`base.run`, a real subprocess). The
fake appends each call's argv, ZELLIJ_SESSION_NAME and time as one JSON line to $FAKE_ZELLIJ_LOG,
prints `zellij $FAKE_ZELLIJ_VERSION` for --version, lists $FAKE_ZELLIJ_SESSIONS (`name` or
`name:exited`, comma-separated) the way `list-sessions --no-formatting` does (exit 1 and "No active
zellij sessions found." when empty), refuses actions for a session that is not live, and fails the
subcommand named in $FAKE_ZELLIJ_FAIL (`write-chars=some stderr`); `dump-screen` writes
$FAKE_ZELLIJ_SCREEN to the path it is given.
"""
import json
import os
import shutil
import stat
import tempfile
import unittest
from http import HTTPStatus

from tests.support.helpers import IsolatedTestCase

from amc_server import keystrokes, model, store
from amc_server.core import lifecycle
from amc_server.terminals import base, zellij
from amc_server.terminals.base import CommandFailed, MultiplexerMissing, NoPane, PaneGone
from amc_server.terminals.zellij import PASTE_END, PASTE_START, Zellij, action_argv, dump_screen_argv, list_argv, parse_sessions, parse_version, paste_argv, pipe_argv, send_keys_argv, version_argv, write_bytes_argv, write_chars_argv

FAKE = r'''#!/usr/bin/env python3
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_ZELLIJ_LOG"], "a", encoding="utf-8") as f:
    f.write(json.dumps({"argv": args, "session_env": os.environ.get("ZELLIJ_SESSION_NAME"),
                        "t": time.time()}) + "\n")
session, rest = (args[1], args[2:]) if args[:1] == ["--session"] else (None, args)
sub = rest[1] if rest[:1] == ["action"] and len(rest) > 1 else (rest[0] if rest else "")
failing, _, error = os.environ.get("FAKE_ZELLIJ_FAIL", "").partition("=")
if failing == sub:
    sys.stderr.write(error + "\n")
    sys.exit(1)
sessions = [s for s in os.environ.get("FAKE_ZELLIJ_SESSIONS", "").split(",") if s]
if sub == "--version":
    print("zellij " + os.environ.get("FAKE_ZELLIJ_VERSION", "0.43.1"))
elif sub == "list-sessions":
    if not sessions:
        sys.stderr.write("No active zellij sessions found.\n")
        sys.exit(1)
    for entry in sessions:
        name, _, state = entry.partition(":")
        print("%s [Created 5m 3s ago] %s" % (name, "(EXITED - attach to resurrect)"
                                             if state == "exited" else ""))
elif rest[:1] == ["action"]:
    if session not in sessions:
        sys.stderr.write("Session '%s' not found. The following sessions are active:\n" % session)
        sys.exit(1)
    if sub == "dump-screen":
        with open(rest[-1], "w", encoding="utf-8") as f:
            f.write(os.environ.get("FAKE_ZELLIJ_SCREEN", ""))
else:
    sys.stderr.write("fake zellij: unexpected arguments %r\n" % (args,))
    sys.exit(2)
'''

TRICKY = 'say "hi" \'there\' \\ — ünïcødé ✓ 🚀'
SESSION = {"session_id": "s1", "zellij_session": "work", "zellij_pane": "3", "status": "active"}


class Argv(unittest.TestCase):
    def test_pipe_argv_is_exact(self):
        self.assertEqual(
            pipe_argv("/bin/zellij", "work", "/p/zellij-send-keys.wasm", 3, "hi"),
            ["/bin/zellij", "--session", "work", "action", "pipe", "--plugin",
             "file:/p/zellij-send-keys.wasm", "--name", "send_keys", "--",
             '{"pane_id":3,"text":"hi","send_enter":false}'])
        self.assertEqual(pipe_argv("z", "w", "/p.wasm", 7, "", True)[-1],
                         '{"pane_id":7,"text":"","send_enter":true}')

    def test_pipe_payload_survives_quotes_unicode_newlines_and_a_leading_dash(self):
        for text in (TRICKY, "-rf --not-a-flag", "line one\nline two\r\n\tthree", "", "{}"):
            argv = pipe_argv("z", "w", "/p.wasm", 12, text)
            self.assertEqual(len(argv), 11)
            self.assertEqual(argv[-2], "--")
            self.assertEqual(json.loads(argv[-1]),
                             {"pane_id": 12, "text": text, "send_enter": False})

    def test_pane_actions_argv_is_exact(self):
        self.assertEqual(write_chars_argv("z", "w", 3, "-x"),
                         ["z", "--session", "w", "action", "write-chars", "--pane-id",
                          "terminal_3", "--", "-x"])
        self.assertEqual(paste_argv("z", "w", 3, "a\nb"),
                         ["z", "--session", "w", "action", "paste", "--pane-id", "terminal_3",
                          "--", "a\nb"])
        self.assertEqual(send_keys_argv("z", "w", 3, "Enter"),
                         ["z", "--session", "w", "action", "send-keys", "--pane-id",
                          "terminal_3", "--", "Enter"])

    def test_every_key_has_a_zellij_name(self):
        names = {key: send_keys_argv("z", "w", 1, key)[-1] for key in keystrokes.KEYS}
        self.assertEqual(names, {"Enter": "Enter", "Escape": "Esc", "Tab": "Tab",
                                 "BTab": "Shift Tab", "Up": "Up", "Down": "Down", "Left": "Left",
                                 "Right": "Right", "BSpace": "Backspace", "Space": "Space"})

    def test_focused_fallback_and_queries_argv_is_exact(self):
        self.assertEqual(write_chars_argv("z", "w", None, "hi"),
                         ["z", "--session", "w", "action", "write-chars", "--", "hi"])
        self.assertEqual(write_bytes_argv("z", "w", "Enter"),
                         ["z", "--session", "w", "action", "write", "13"])
        self.assertEqual(write_bytes_argv("z", "w", "BSpace")[-1], "127")
        self.assertEqual(action_argv("z", "w", "a", "b"),
                         ["z", "--session", "w", "action", "a", "b"])
        self.assertEqual(version_argv("z"), ["z", "--version"])
        self.assertEqual(list_argv("z"), ["z", "list-sessions", "--no-formatting"])

    def test_parse_version(self):
        self.assertEqual(parse_version("zellij 0.44.0\n"), (0, 44, 0))
        self.assertEqual(parse_version("zellij 0.43.1"), (0, 43, 1))
        self.assertIsNone(parse_version("zellij\n"))

    def test_parse_sessions_marks_exited_ones(self):
        out = ("work [Created 2m 1s ago] (current)\n"
               "old one [Created 5d ago] (EXITED - attach to resurrect)\n"
               "plain [Created 10s ago] \n\n")
        self.assertEqual(parse_sessions(out), {"work": True, "old one": False, "plain": True})


class FakeZellij(IsolatedTestCase):
    """A temp HOME, a fake `zellij` first on PATH, and a backend that runs it for real."""

    def setUp(self) -> None:
        super().setUp()
        self.bin = tempfile.mkdtemp(prefix="amc-fake-zellij-")
        self.addCleanup(shutil.rmtree, self.bin, True)
        fake = os.path.join(self.bin, "zellij")
        with open(fake, "w", encoding="utf-8") as f:
            f.write(FAKE)
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.fake = fake
        self.log = os.path.join(self.bin, "calls.jsonl")
        self.env.update(PATH=self.bin + os.pathsep + os.environ.get("PATH", os.defpath),
                        FAKE_ZELLIJ_LOG=self.log, FAKE_ZELLIJ_SESSIONS="work,other",
                        FAKE_ZELLIJ_VERSION="0.43.1")
        self.plugin = os.path.join(self.home, ".config", "zellij", "plugins",
                                   "zellij-send-keys.wasm")
        self.now = 1000.0

    def backend(self, **env) -> Zellij:
        return Zellij(env=dict(self.env, **env), clock=lambda: self.now)

    def install_plugin(self) -> None:
        os.makedirs(os.path.dirname(self.plugin), exist_ok=True)
        with open(self.plugin, "wb") as f:
            f.write(b"\0asm")

    def calls(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def actions(self):
        return [c for c in self.calls() if "action" in c["argv"]]


class PluginRoute(FakeZellij):
    def test_text_pause_enter_sends_text_then_an_enter_only_pipe_after_the_pause(self):
        self.install_plugin()
        self.backend().deliver(SESSION, [keystrokes.text(TRICKY), keystrokes.pause(300),
                                         keystrokes.key("Enter")])
        actions = self.actions()
        self.assertEqual([c["argv"] for c in actions], [
            ["--session", "work", "action", "pipe", "--plugin", "file:" + self.plugin, "--name",
             "send_keys", "--", json.dumps({"pane_id": 3, "text": TRICKY, "send_enter": False},
                                           ensure_ascii=False, separators=(",", ":"))],
            ["--session", "work", "action", "pipe", "--plugin", "file:" + self.plugin, "--name",
             "send_keys", "--", '{"pane_id":3,"text":"","send_enter":true}']])
        self.assertEqual([c["session_env"] for c in actions], ["work", "work"])
        self.assertGreaterEqual(actions[1]["t"] - actions[0]["t"], 0.29)
        self.assertEqual(json.loads(actions[0]["argv"][-1])["text"], TRICKY)

    def test_paste_is_one_bracketed_pipe_with_newlines_and_a_leading_dash_intact(self):
        self.install_plugin()
        text = "-first line\nsecond \"quoted\" ✓\n\nlast"
        self.backend().deliver(SESSION, [keystrokes.paste(text)])
        (call,) = self.actions()
        self.assertEqual(json.loads(call["argv"][-1]),
                         {"pane_id": 3, "text": PASTE_START + text + PASTE_END,
                          "send_enter": False})

    def test_single_byte_keys_go_through_the_plugin_as_characters(self):
        self.install_plugin()
        self.backend().deliver(SESSION, [keystrokes.key("Escape"), keystrokes.key("Tab")])
        self.assertEqual([json.loads(c["argv"][-1])["text"] for c in self.actions()],
                         ["\x1b", "\t"])

    def test_an_arrow_on_old_zellij_is_refused_before_anything_is_typed(self):
        self.install_plugin()
        with self.assertRaises(MultiplexerMissing) as caught:
            self.backend().deliver(SESSION, [keystrokes.text("1"), keystrokes.key("Down")])
        self.assertIn("Down", caught.exception.message)
        self.assertEqual(caught.exception.status, HTTPStatus.SERVICE_UNAVAILABLE)
        self.assertEqual(self.actions(), [])

    def test_an_arrow_on_zellij_044_goes_through_send_keys_by_pane_id(self):
        self.install_plugin()
        self.backend(FAKE_ZELLIJ_VERSION="0.44.0").deliver(
            SESSION, [keystrokes.key("Down"), keystrokes.key("Enter")])
        self.assertEqual([c["argv"][3:] for c in self.actions()], [
            ["send-keys", "--pane-id", "terminal_3", "--", "Down"],
            ["pipe", "--plugin", "file:" + self.plugin, "--name", "send_keys", "--",
             '{"pane_id":3,"text":"","send_enter":true}']])

    def test_text_longer_than_the_plugin_takes_is_refused_untyped(self):
        self.install_plugin()
        with self.assertRaises(base.DeliveryError) as caught:
            self.backend().deliver(SESSION, [keystrokes.paste("x" * 70000)])
        self.assertEqual(caught.exception.status, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        self.assertEqual(self.actions(), [])

    def test_a_failing_pipe_is_a_502_with_zellijs_stderr_and_the_permission_hint(self):
        self.install_plugin()
        with self.assertRaises(CommandFailed) as caught:
            self.backend(FAKE_ZELLIJ_FAIL="pipe=Error: plugin failed to load").deliver(
                SESSION, [keystrokes.text("1")])
        self.assertEqual(caught.exception.status, HTTPStatus.BAD_GATEWAY)
        self.assertIn("Error: plugin failed to load", caught.exception.message)
        self.assertIn("zellij plugin -- file:" + self.plugin, caught.exception.message)


class PaneActionsRoute(FakeZellij):
    def test_zellij_044_without_plugin_uses_pane_targeted_actions(self):
        self.backend(FAKE_ZELLIJ_VERSION="0.44.0").deliver(SESSION, [
            keystrokes.text("-" + TRICKY), keystrokes.paste("a\nb"), keystrokes.pause(0),
            keystrokes.key("Enter")])
        self.assertEqual([c["argv"] for c in self.actions()], [
            ["--session", "work", "action", "write-chars", "--pane-id", "terminal_3", "--",
             "-" + TRICKY],
            ["--session", "work", "action", "paste", "--pane-id", "terminal_3", "--", "a\nb"],
            ["--session", "work", "action", "send-keys", "--pane-id", "terminal_3", "--",
             "Enter"]])
        self.assertEqual({c["session_env"] for c in self.actions()}, {"work"})

    def test_a_failing_command_is_a_502_with_zellijs_stderr(self):
        with self.assertRaises(CommandFailed) as caught:
            self.backend(FAKE_ZELLIJ_VERSION="0.44.0",
                         FAKE_ZELLIJ_FAIL="write-chars=Error: no such pane terminal_3").deliver(
                SESSION, [keystrokes.text("hi")])
        self.assertEqual(caught.exception.status, HTTPStatus.BAD_GATEWAY)
        self.assertIn("zellij write-chars failed: Error: no such pane terminal_3",
                      caught.exception.message)


class NoSafeRoute(FakeZellij):
    def test_old_zellij_without_plugin_is_a_503_that_says_what_to_do_and_types_nothing(self):
        backend = self.backend()
        for attempt in (lambda: backend.check(SESSION),
                        lambda: backend.deliver(SESSION, [keystrokes.text("1")])):
            with self.assertRaises(MultiplexerMissing) as caught:
                attempt()
            message = caught.exception.message
            self.assertEqual(caught.exception.status, HTTPStatus.SERVICE_UNAVAILABLE)
            for needle in (self.plugin, "AMC_ZELLIJ_PLUGIN",
                           "AMC_ALLOW_UNSAFE_WRITE_CHARS_FALLBACK", "0.43.1", "0.44",
                           "zellij-send-keys/releases"):
                self.assertIn(needle, message)
        self.assertEqual(self.actions(), [])

    def test_unsafe_fallback_types_into_the_focused_pane_only_when_allowed(self):
        with self.assertRaises(MultiplexerMissing):
            self.backend(AMC_ALLOW_UNSAFE_WRITE_CHARS_FALLBACK="yes").deliver(
                SESSION, [keystrokes.text("1")])
        self.assertEqual(self.actions(), [])
        self.backend(AMC_ALLOW_UNSAFE_WRITE_CHARS_FALLBACK="1").deliver(
            SESSION, [keystrokes.text("-1"), keystrokes.paste("a\nb"), keystrokes.key("Enter")])
        self.assertEqual([c["argv"] for c in self.actions()], [
            ["--session", "work", "action", "write-chars", "--", "-1"],
            ["--session", "work", "action", "write-chars", "--", PASTE_START + "a\nb" + PASTE_END],
            ["--session", "work", "action", "write", "13"]])

    def test_the_plugin_path_comes_from_amc_zellij_plugin(self):
        elsewhere = os.path.join(self.home, "elsewhere.wasm")
        with open(elsewhere, "wb") as f:
            f.write(b"\0asm")
        self.backend(AMC_ZELLIJ_PLUGIN=elsewhere).deliver(SESSION, [keystrokes.text("1")])
        self.assertEqual(self.actions()[0]["argv"][5], "file:" + elsewhere)


class Targets(FakeZellij):
    def test_session_not_running_is_410_and_nothing_is_typed(self):
        self.install_plugin()
        for sessions in ("other", "work:exited,other", ""):
            with self.assertRaises(PaneGone) as caught:
                self.backend(FAKE_ZELLIJ_SESSIONS=sessions).deliver(SESSION, [keystrokes.text("1")])
            self.assertEqual(caught.exception.status, HTTPStatus.GONE)
            self.assertIn("'work'", caught.exception.message)
        self.assertEqual(self.actions(), [])

    def test_no_zellij_binary_is_503(self):
        empty = tempfile.mkdtemp(prefix="amc-empty-path-")
        self.addCleanup(shutil.rmtree, empty, True)
        env = dict(self.env, PATH=empty)
        if base.find_binary("zellij", env):
            self.skipTest("a real zellij is installed in a fallback location")
        backend = Zellij(env=env)
        for attempt in (lambda: backend.check(SESSION),
                        lambda: backend.deliver(SESSION, [keystrokes.text("1")])):
            with self.assertRaises(MultiplexerMissing) as caught:
                attempt()
            self.assertEqual(caught.exception.status, HTTPStatus.SERVICE_UNAVAILABLE)
        self.assertIsNone(backend.session_alive("work"))
        self.assertEqual(self.calls(), [])

    def test_missing_or_malformed_pane_is_409(self):
        backend = self.backend()
        for pane, name in (("", "work"), ("abc", "work"), ("%3", "work"), ("3", "")):
            with self.assertRaises(NoPane) as caught:
                backend.check(dict(SESSION, zellij_pane=pane, zellij_session=name))
            self.assertEqual(caught.exception.status, HTTPStatus.CONFLICT)
        self.assertEqual(self.calls(), [])

    def test_terminal_prefixed_pane_ids_are_accepted(self):
        self.install_plugin()
        self.backend().deliver(dict(SESSION, zellij_pane="terminal_5"), [keystrokes.text("1")])
        self.assertEqual(json.loads(self.actions()[0]["argv"][-1])["pane_id"], 5)

    def test_check_types_nothing(self):
        self.install_plugin()
        self.backend().check(SESSION)
        self.assertEqual(self.actions(), [])
        self.assertEqual([c["argv"] for c in self.calls()], [["list-sessions", "--no-formatting"]])

    def test_applies_and_where(self):
        backend = self.backend()
        self.assertTrue(backend.applies(SESSION))
        self.assertFalse(backend.applies({"tmux_pane": "%1", "zellij_pane": "",
                                          "zellij_session": ""}))
        self.assertEqual(backend.where(SESSION), "Zellij pane 3 in session work")


class Screen(FakeZellij):
    def test_dump_screen_argv_is_exact(self):
        self.assertEqual(dump_screen_argv("/z", "work", 3, "/tmp/x/screen.txt"),
                         ["/z", "--session", "work", "action", "dump-screen", "--pane-id",
                          "terminal_3", "/tmp/x/screen.txt"])

    def test_zellij_044_reads_the_pane_screen_into_a_private_file_it_removes(self):
        screen = " Do you want to proceed?\n \u276f 1. Yes\n   2. No\n"
        backend = self.backend(FAKE_ZELLIJ_VERSION="0.44.0", FAKE_ZELLIJ_SCREEN=screen)
        self.assertEqual(backend.capture(SESSION), screen)
        [call] = [c for c in self.actions() if "dump-screen" in c["argv"]]
        path = call["argv"][-1]
        self.assertEqual(call["argv"][:-1], ["--session", "work", "action", "dump-screen",
                                             "--pane-id", "terminal_3"])
        self.assertFalse(os.path.exists(os.path.dirname(path)), "the temp dir is left behind")

    def test_older_zellij_cannot_show_a_pane_and_says_nothing(self):
        self.install_plugin()  # it can type there (the plugin), but not read the screen
        self.assertEqual(self.backend(FAKE_ZELLIJ_SCREEN="x").capture(SESSION), "")
        self.assertEqual([c for c in self.actions() if "dump-screen" in c["argv"]], [])


class Caching(FakeZellij):
    def list_calls(self):
        return [c for c in self.calls() if c["argv"][:1] == ["list-sessions"]]

    def test_session_list_is_reused_for_five_seconds(self):
        self.install_plugin()
        backend = self.backend()
        backend.check(SESSION)
        backend.check(SESSION)
        self.assertTrue(backend.session_alive("other"))
        self.now += 4.9
        backend.check(SESSION)
        self.assertEqual(len(self.list_calls()), 1)
        self.now += 0.2
        backend.check(SESSION)
        self.assertEqual(len(self.list_calls()), 2)

    def test_a_session_missing_from_the_cached_list_is_asked_again_before_refusing(self):
        self.install_plugin()
        backend = self.backend(FAKE_ZELLIJ_SESSIONS="other")
        backend.check(dict(SESSION, zellij_session="other"))
        self.env["FAKE_ZELLIJ_SESSIONS"] = "other,work"
        backend.env["FAKE_ZELLIJ_SESSIONS"] = "other,work"  # `work` starts after the first list
        backend.check(SESSION)
        self.assertEqual(len(self.list_calls()), 2)

    def test_version_is_cached(self):
        backend = self.backend(FAKE_ZELLIJ_VERSION="0.44.0")
        for _ in range(3):
            backend.deliver(SESSION, [keystrokes.text("1")])
        self.assertEqual(len([c for c in self.calls() if c["argv"] == ["--version"]]), 1)

    def test_session_alive(self):
        backend = self.backend(FAKE_ZELLIJ_SESSIONS="work,old:exited")
        self.assertIs(backend.session_alive("work"), True)
        self.assertIs(backend.session_alive("old"), False)
        self.assertIs(backend.session_alive("never"), False)
        failing = self.backend(FAKE_ZELLIJ_FAIL="list-sessions=Error: cannot read socket dir")
        self.assertIsNone(failing.session_alive("work"))


class Cleanup(FakeZellij):
    def write_session(self, sid, status, zellij_session, age_s):
        when = model.now_iso(self.wall - age_s)
        store.write_json_atomic(self.paths.session_file(sid), model.new_session(
            sid, status=status, status_since=when, started_at=when,
            zellij_session=zellij_session, zellij_pane="1" if zellij_session else ""))

    def setUp(self) -> None:
        super().setUp()
        import time
        self.wall = time.time()
        store.ensure_dir(self.paths.sessions)

    def test_starting_session_whose_zellij_session_is_gone_is_removed(self):
        self.write_session("gone-start", model.STARTING, "closed", 120)
        self.write_session("exited-start", model.STARTING, "old", 120)
        self.write_session("live-start", model.STARTING, "work", 120)
        self.write_session("gone-active", model.ACTIVE, "closed", 120)
        self.write_session("young-start", model.STARTING, "closed", 5)
        self.write_session("no-zellij", model.STARTING, "", 120)
        backend = self.backend(FAKE_ZELLIJ_SESSIONS="work,old:exited")
        with self.assertLogs("amc.lifecycle", "INFO") as logs:
            removed = lifecycle.clean(self.paths, self.wall, zellij_alive=backend.session_alive)
        self.assertEqual(removed["zellij_gone"], 2)
        self.assertEqual(removed["starting"], 0)
        for sid in ("gone-start", "exited-start"):
            self.assertIsNone(self.session_file(sid))
            self.assertIn("removed session %s (zellij_gone)" % sid, "\n".join(logs.output))
        for sid in ("live-start", "gone-active", "young-start", "no-zellij"):
            self.assertIsNotNone(self.session_file(sid), sid)
        self.assertEqual(len([c for c in self.calls() if c["argv"][0] == "list-sessions"]), 1)

    def test_nothing_is_removed_when_zellij_cannot_tell(self):
        self.write_session("gone-start", model.STARTING, "closed", 120)
        removed = lifecycle.clean(self.paths, self.wall, zellij_alive=lambda name: None)
        self.assertEqual(removed["zellij_gone"], 0)
        empty = tempfile.mkdtemp(prefix="amc-empty-path-")
        self.addCleanup(shutil.rmtree, empty, True)
        if not base.find_binary("zellij", dict(self.env, PATH=empty)):
            lifecycle.clean(self.paths, self.wall,
                            zellij_alive=Zellij(env=dict(self.env, PATH=empty)).session_alive)
        self.assertIsNotNone(self.session_file("gone-start"))

    def test_without_zellij_alive_the_rule_does_not_run(self):
        self.write_session("gone-start", model.STARTING, "closed", 120)
        removed = lifecycle.clean(self.paths, self.wall)
        self.assertNotIn("zellij_gone", removed)
        self.assertIsNotNone(self.session_file("gone-start"))


class Family(unittest.TestCase):
    def test_zellij_loads_in_the_terminal_family(self):
        from amc_server import terminals
        names = [b.name for b in terminals.load(env={"PATH": ""})]
        self.assertEqual(names, ["tmux", "zellij", "none"])
        self.assertIs(zellij.Zellij, type(terminals.load(env={"PATH": ""})[1]))


if __name__ == "__main__":
    unittest.main()
