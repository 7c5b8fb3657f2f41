"""`amc service install|uninstall|status`: the files written, the exact argv sent to systemctl and
launchctl (through a recording runner), and the real CLI and systemd tools where this machine has
them. The systemd quoting is checked by parsing the written lines back with systemd's own rules,
implemented here independently of amc_server/install/service.py."""
import io
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from tests.support.helpers import AMC, IsolatedTestCase

from amc_server.install import service
from amc_server.paths import get_paths

UID = 501
TRICKY = '/tmp/my data/100% "quoted" back\\slash $HOME'


# systemd's extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE), then its specifier pass.
ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "s": " ", "a": "\a",
           "b": "\b", "f": "\f", "r": "\r", "v": "\v"}


def systemd_words(rvalue):
    """Split a unit-file value into words the way systemd does (quotes, C escapes)."""
    words, i, n = [], 0, len(rvalue)
    while True:
        while i < n and rvalue[i] in " \t":
            i += 1
        if i >= n:
            return words
        word, quote = [], None
        while i < n:
            ch = rvalue[i]
            if ch == "\\":
                nxt = rvalue[i + 1:i + 2]
                if nxt == "x":
                    word.append(chr(int(rvalue[i + 2:i + 4], 16)))
                    i += 4
                    continue
                if nxt not in ESCAPES:
                    raise AssertionError("escape systemd would not take: %r" % rvalue[i:i + 2])
                word.append(ESCAPES[nxt])
                i += 2
                continue
            if quote:
                if ch == quote:
                    quote = None
                else:
                    word.append(ch)
            elif ch in "\"'":
                quote = ch
            elif ch in " \t":
                break
            else:
                word.append(ch)
            i += 1
        if quote:
            raise AssertionError("unterminated quote in %r" % rvalue)
        words.append("".join(word))


def unspecify(word, exec_line=False):
    """Undo `%%` (and in ExecStart `$$`); fail on anything systemd would expand."""
    out, i = [], 0
    while i < len(word):
        pair = word[i:i + 2]
        if pair == "%%" or (exec_line and pair == "$$"):
            out.append(pair[0])
            i += 2
        elif word[i] == "%" or (exec_line and word[i] == "$"):
            raise AssertionError("systemd would expand %r in %r" % (pair, word))
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def unit_lines(text, key):
    return [line[len(key) + 1:] for line in text.splitlines() if line.startswith(key + "=")]


def parsed_environment(text):
    env = {}
    for rvalue in unit_lines(text, "Environment"):
        for word in systemd_words(rvalue):
            name, _, value = unspecify(word).partition("=")
            env[name] = value
    return env


def parsed_exec_start(text):
    (rvalue,) = unit_lines(text, "ExecStart")
    return [unspecify(w, exec_line=True) for w in systemd_words(rvalue)]


class Recorder:
    """A runner that records argv (and whether `watch` exists at that moment) and answers."""

    def __init__(self, answers=None, watch=None):
        self.calls, self.seen, self.answers, self.watch = [], [], answers or {}, watch

    def __call__(self, argv, env, timeout):
        assert 0 < timeout <= 60, timeout
        self.calls.append(list(argv))
        self.seen.append(os.path.exists(self.watch) if self.watch else None)
        return self.answers.get(tuple(argv[1:]), (0, ""))


def snapshot(root):
    """Return {relative path: content or link target} of every file and symlink under `root`."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = "-> " + os.readlink(path)
            else:
                with open(path, "rb") as f:
                    out[rel] = f.read()
    return out


class ServiceCase(IsolatedTestCase):
    def setUp(self):
        super().setUp()
        self.bin = os.path.join(self.home, "fakebin")  # found by shutil.which, never run
        os.makedirs(self.bin)
        for tool in ("systemctl", "launchctl"):
            path = os.path.join(self.bin, tool)
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexit 99\n")
            os.chmod(path, 0o755)
        self.systemctl = os.path.join(self.bin, "systemctl")
        self.launchctl = os.path.join(self.bin, "launchctl")
        self.env["PATH"] = self.bin
        self.unit = os.path.join(self.home, ".config", "systemd", "user", "amc.service")
        self.plist = os.path.join(self.home, "Library", "LaunchAgents", "dev.amc.server.plist")

    def run_action(self, action, platform="linux", runner=None, command=None, env=None):
        """Return (exit code, stdout, stderr, runner) of one action on a fake host."""
        runner = runner or Recorder()
        host = service.Host(env=dict(self.env if env is None else env), platform=platform,
                            runner=runner, uid=UID,
                            command=command or service.program())
        out, err = io.StringIO(), io.StringIO()
        code = service.main(action, host, out=out, err=err)
        return code, out.getvalue(), err.getvalue(), runner

    def read(self, path):
        with open(path, encoding="utf-8") as f:
            return f.read()


class SystemdUnit(ServiceCase):
    def test_program_is_this_interpreter_and_this_clones_bin_amc(self):
        self.assertEqual(service.program(),
                         [os.path.abspath(sys.executable), os.path.realpath(AMC), "serve"])

    def test_install_writes_the_unit_and_enables_it(self):
        self.env.update(AMC_PORT="7411", AMC_HOST="127.0.0.1", CODEX_HOME="/srv/codex")
        code, out, err, runner = self.run_action("install")
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        text = self.read(self.unit)
        self.assertIn('\nExecStart="%s" "%s" "serve"\n'
                      % (os.path.abspath(sys.executable), os.path.realpath(AMC)), text)
        self.assertEqual(unit_lines(text, "Environment"), [
            '"AMC_HOST=127.0.0.1"', '"AMC_PORT=7411"', '"CODEX_HOME=/srv/codex"'])
        for line in ("[Service]", "Type=simple", "Restart=on-failure", "RestartSec=2",
                     "[Install]", "WantedBy=default.target"):
            self.assertIn(line, text.splitlines())
        self.assertTrue(text.startswith("# " + service.MARKER))
        self.assertEqual(oct(os.stat(self.unit).st_mode & 0o777), "0o644")
        self.assertEqual(runner.calls, [[self.systemctl, "--user", "daemon-reload"],
                                        [self.systemctl, "--user", "enable", "--now",
                                         "amc.service"]])
        self.assertIn(self.unit + ": written", out)
        self.assertIn("journalctl --user -u amc", out)

    def test_environment_values_round_trip_through_systemd_quoting(self):
        self.env.update(AMC_DATA_DIR=TRICKY, AMC_ALLOWED_HOSTS="a.example,b.example",
                        CLAUDE_CONFIG_DIR="/home/me/100%/claude", XDG_DATA_HOME="/x y/share",
                        AMC_SUBMIT_ENTER_DELAY_MS="300", AMC_TEST_CLAUDE_VERSION="9.9.9",
                        AMC_PORT="", CODEX_HOME="relative/codex")
        code, _, err, _ = self.run_action("install")
        self.assertEqual(code, 0, err)
        text = self.read(self.unit)
        self.assertIn('Environment="AMC_DATA_DIR=/tmp/my data/100%% \\"quoted\\" back\\\\slash '
                      '$HOME"', text.splitlines())
        self.assertEqual(parsed_environment(text), {
            "AMC_DATA_DIR": TRICKY, "AMC_ALLOWED_HOSTS": "a.example,b.example",
            "CLAUDE_CONFIG_DIR": "/home/me/100%/claude", "XDG_DATA_HOME": "/x y/share",
            "AMC_SUBMIT_ENTER_DELAY_MS": "300", "CODEX_HOME": os.path.abspath("relative/codex")})

    def test_exec_start_round_trips_a_clone_path_with_spaces_percent_and_dollar(self):
        command = ["/opt/py 3/bin/python3", "/home/me/100% $work/\"amc\"/bin/amc", "serve"]
        code, _, err, _ = self.run_action("install", command=command)
        self.assertEqual(code, 0, err)
        text = self.read(self.unit)
        self.assertEqual(unit_lines(text, "ExecStart"), [
            '"/opt/py 3/bin/python3" "/home/me/100%% $$work/\\"amc\\"/bin/amc" "serve"'])
        self.assertEqual(parsed_exec_start(text), command)

    def test_the_round_trip_parser_catches_what_systemd_would_expand(self):
        with self.assertRaises(AssertionError):
            parsed_environment('Environment="A=100%h"\n')
        with self.assertRaises(AssertionError):
            parsed_exec_start('ExecStart="/bin/$HOME"\n')
        with self.assertRaises(AssertionError):
            parsed_environment('Environment="A=unterminated\n')

    def test_control_characters_are_refused_without_writing(self):
        self.env["AMC_HOST"] = "bad\x01host"
        code, _, err, runner = self.run_action("install")
        self.assertEqual(code, 1)
        self.assertIn("control character", err)
        self.assertFalse(os.path.exists(self.unit))
        self.assertEqual(runner.calls, [])

    def test_xdg_config_home_is_honoured_only_when_absolute(self):
        config = os.path.join(self.home, "elsewhere")
        self.env["XDG_CONFIG_HOME"] = config
        self.assertEqual(self.run_action("install")[0], 0)
        self.assertTrue(os.path.isfile(os.path.join(config, "systemd", "user", "amc.service")))
        self.assertFalse(os.path.exists(self.unit))
        self.env["XDG_CONFIG_HOME"] = "relative/config"
        self.assertEqual(service.unit_path(self.env), self.unit)

    def test_reinstall_unchanged_and_updated(self):
        self.run_action("install")
        code, out, _, runner = self.run_action("install")
        self.assertEqual(code, 0)
        self.assertIn(self.unit + ": unchanged", out)
        self.assertEqual(runner.calls, [[self.systemctl, "--user", "daemon-reload"],
                                        [self.systemctl, "--user", "enable", "--now",
                                         "amc.service"]])
        self.env["AMC_PORT"] = "7555"
        code, out, _, runner = self.run_action("install")
        self.assertIn(self.unit + ": updated", out)
        self.assertEqual(runner.calls, [[self.systemctl, "--user", "daemon-reload"],
                                        [self.systemctl, "--user", "try-restart", "amc.service"],
                                        [self.systemctl, "--user", "enable", "--now",
                                         "amc.service"]])
        self.assertEqual(parsed_environment(self.read(self.unit)), {"AMC_PORT": "7555"})

    def test_systemctl_missing_warns_keeps_the_file_and_exits_0(self):
        self.env["PATH"] = os.path.join(self.home, "empty")
        code, out, err, runner = self.run_action("install")
        self.assertEqual(code, 0)
        self.assertEqual(runner.calls, [])
        self.assertTrue(os.path.isfile(self.unit))
        self.assertRegex(err, r"^amc: warning: systemctl not found on PATH")
        self.assertIn("\n  systemctl --user daemon-reload\n  systemctl --user enable --now "
                      "amc.service\n", err)
        self.assertNotIn("now starts at login", out)

    def test_no_user_bus_warns_keeps_the_file_and_exits_0(self):
        bus = (1, "Failed to connect to bus: No medium found")
        code, out, err, runner = self.run_action(
            "install", runner=Recorder({("--user", "daemon-reload"): bus}))
        self.assertEqual(code, 0)
        self.assertEqual(runner.calls, [[self.systemctl, "--user", "daemon-reload"]])
        self.assertTrue(os.path.isfile(self.unit))
        self.assertIn("amc: warning: systemctl --user daemon-reload: failed (Failed to connect "
                      "to bus: No medium found); the file is kept", err)
        self.assertIn("  systemctl --user enable --now amc.service", err)
        self.assertIn("systemctl --user daemon-reload: failed", out)

    def test_enable_failure_is_a_warning(self):
        code, _, err, runner = self.run_action("install", runner=Recorder(
            {("--user", "enable", "--now", "amc.service"): (1, "Unit amc.service is masked.")}))
        self.assertEqual(code, 0)
        self.assertEqual(len(runner.calls), 2)
        self.assertIn("masked", err)
        self.assertTrue(os.path.isfile(self.unit))

    def test_unwritable_place_exits_1(self):
        with open(os.path.join(self.home, ".config"), "w") as f:
            f.write("a file where a directory should be")
        code, _, err, runner = self.run_action("install")
        self.assertEqual(code, 1)
        self.assertIn("cannot write " + self.unit, err)
        self.assertEqual(runner.calls, [])

    def test_refuses_a_unit_amc_did_not_write(self):
        os.makedirs(os.path.dirname(self.unit))
        foreign = "[Service]\nExecStart=/usr/local/bin/my-amc\n"
        with open(self.unit, "w") as f:
            f.write(foreign)
        for action in ("install", "uninstall", "status"):
            code, out, err, runner = self.run_action(action)
            self.assertEqual(code, 1, action)
            self.assertIn("%s exists and was not written by AMC" % self.unit, out + err)
            self.assertEqual(self.read(self.unit), foreign)
            if action != "status":  # status may ask systemctl; the others must not act
                self.assertEqual(runner.calls, [], action)

    def test_uninstall_removes_exactly_what_install_wrote(self):
        user = os.path.dirname(self.unit)
        os.makedirs(os.path.join(user, "default.target.wants"))
        with open(os.path.join(user, "other.service"), "w") as f:
            f.write("[Service]\nExecStart=/bin/true\n")
        os.symlink(os.path.join(user, "other.service"),
                   os.path.join(user, "default.target.wants", "other.service"))
        before = snapshot(self.home)
        self.run_action("install")
        self.assertEqual(set(snapshot(self.home)) - set(before),
                         {".config/systemd/user/amc.service"})
        code, out, err, runner = self.run_action("uninstall", runner=Recorder(watch=self.unit))
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertEqual(snapshot(self.home), before)
        self.assertEqual(runner.calls, [[self.systemctl, "--user", "disable", "--now",
                                         "amc.service"],
                                        [self.systemctl, "--user", "daemon-reload"]])
        self.assertEqual(runner.seen, [True, False])  # disabled while there, reloaded once gone
        self.assertIn(self.unit + ": removed", out)

    def test_uninstall_when_nothing_is_installed_says_so(self):
        code, out, _, runner = self.run_action("uninstall")
        self.assertEqual(code, 0)
        self.assertIn("not installed: %s does not exist; nothing to do" % self.unit, out)
        self.assertEqual(runner.calls, [])

    def test_uninstall_without_a_user_bus_still_removes_the_file(self):
        self.run_action("install")
        bus = (1, "Failed to connect to bus: No medium found")
        code, _, err, _ = self.run_action("uninstall", runner=Recorder({
            ("--user", "disable", "--now", "amc.service"): bus,
            ("--user", "daemon-reload"): bus}))
        self.assertEqual(code, 0)
        self.assertFalse(os.path.exists(self.unit))
        self.assertIn("amc: warning: systemctl --user disable --now amc.service: failed", err)

    def test_status_exit_codes_and_what_systemctl_says(self):
        answers = {("--user", "is-enabled", "amc.service"): (0, "enabled"),
                   ("--user", "is-active", "amc.service"): (3, "inactive")}
        code, out, _, runner = self.run_action("status", runner=Recorder(answers))
        self.assertEqual(code, 1)
        self.assertIn("not installed: %s does not exist" % self.unit, out)
        self.run_action("install")
        code, out, _, runner = self.run_action("status", runner=Recorder(answers))
        self.assertEqual(code, 0)
        self.assertEqual(out.splitlines(), [
            "installed: " + self.unit, "systemctl --user is-enabled amc.service: enabled",
            "systemctl --user is-active amc.service: inactive", "server: not running"])
        self.assertEqual(runner.calls, [[self.systemctl, "--user", "is-enabled", "amc.service"],
                                        [self.systemctl, "--user", "is-active", "amc.service"]])
        self.env["PATH"] = os.path.join(self.home, "empty")
        code, out, _, _ = self.run_action("status")
        self.assertEqual(code, 0)
        self.assertIn("systemctl: not found on PATH", out)

    def test_install_warns_when_a_background_server_holds_the_port(self):
        os.makedirs(self.paths.data)
        with open(self.paths.pid_file, "w") as f:
            f.write("%d\nhttp://127.0.0.1:7400/\n" % os.getpid())
        code, _, err, _ = self.run_action("install")
        self.assertEqual(code, 0)
        self.assertIn("AMC already runs (pid %d" % os.getpid(), err)
        self.assertIn("`bin/amc stop`, then `systemctl --user restart amc.service`", err)

    def test_no_home_and_unknown_platform_exit_1(self):
        env = {k: v for k, v in self.env.items() if k != "HOME"}
        code, _, err, _ = self.run_action("install", env=env)
        self.assertEqual(code, 1)
        self.assertIn("HOME is not set", err)
        code, _, err, _ = self.run_action("install", platform="win32")
        self.assertEqual(code, 1)
        self.assertIn("systemd (Linux) and launchd (macOS)", err)


class LaunchdAgent(ServiceCase):
    def expected(self, environment):
        log = get_paths(self.env).log_file
        return {"Label": "dev.amc.server", "ProgramArguments": service.program(),
                "EnvironmentVariables": environment, "RunAtLoad": True,
                "KeepAlive": {"SuccessfulExit": False},
                "StandardOutPath": log, "StandardErrorPath": log}

    def test_install_writes_the_plist_and_bootstraps_it(self):
        self.env.update(AMC_DATA_DIR=TRICKY + " <&>", AMC_PORT="7411")
        code, out, err, runner = self.run_action("install", platform="darwin")
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        with open(self.plist, "rb") as f:
            raw = f.read()
        self.assertEqual(plistlib.loads(raw), self.expected(
            {"AMC_DATA_DIR": TRICKY + " <&>", "AMC_PORT": "7411"}))
        self.assertIn(service.MARKER.encode(), raw)
        self.assertTrue(os.path.isdir(get_paths(self.env).data))  # where launchd writes the log
        self.assertEqual(runner.calls, [[self.launchctl, "bootstrap", "gui/%d" % UID,
                                         self.plist]])
        self.assertIn("logs: " + get_paths(self.env).log_file, out)
        self.assertFalse(os.path.exists(self.unit))

    def test_reinstall_boots_out_first(self):
        self.run_action("install", platform="darwin")
        code, _, _, runner = self.run_action("install", platform="darwin")
        self.assertEqual(code, 0)
        self.assertEqual(runner.calls, [[self.launchctl, "bootout", "gui/501/dev.amc.server"],
                                        [self.launchctl, "bootstrap", "gui/501", self.plist]])

    def test_bootstrap_failure_falls_back_to_load_w(self):
        failed = {("bootstrap", "gui/501", self.plist): (5, "Bootstrap failed: 5: I/O error")}
        code, _, err, runner = self.run_action("install", platform="darwin",
                                               runner=Recorder(failed))
        self.assertEqual(code, 0)
        self.assertEqual(err, "")
        self.assertEqual(runner.calls, [[self.launchctl, "bootstrap", "gui/501", self.plist],
                                        [self.launchctl, "load", "-w", self.plist]])
        failed[("load", "-w", self.plist)] = (1, "Load failed")
        code, _, err, _ = self.run_action("install", platform="darwin", runner=Recorder(failed))
        self.assertEqual(code, 0)
        self.assertIn("amc: warning: launchctl bootstrap gui/501 " + self.plist, err)
        self.assertIn("\n  launchctl bootstrap gui/501 " + self.plist, err)
        self.assertTrue(os.path.isfile(self.plist))

    def test_launchctl_missing_warns_keeps_the_file(self):
        self.env["PATH"] = os.path.join(self.home, "empty")
        code, _, err, runner = self.run_action("install", platform="darwin")
        self.assertEqual(code, 0)
        self.assertEqual(runner.calls, [])
        self.assertIn("launchctl not found on PATH", err)
        self.assertTrue(os.path.isfile(self.plist))

    def test_uninstall_removes_exactly_the_plist(self):
        os.makedirs(os.path.dirname(self.plist))
        with open(os.path.join(os.path.dirname(self.plist), "com.example.other.plist"), "wb") as f:
            plistlib.dump({"Label": "com.example.other"}, f)
        before = snapshot(self.home)
        self.run_action("install", platform="darwin")
        code, out, err, runner = self.run_action("uninstall", platform="darwin",
                                                 runner=Recorder(watch=self.plist))
        self.assertEqual(code, 0, err)
        after = snapshot(self.home)
        self.assertEqual(after, before)
        self.assertEqual(runner.calls, [[self.launchctl, "bootout", "gui/501/dev.amc.server"]])
        self.assertEqual(runner.seen, [True])
        not_loaded = {("bootout", "gui/501/dev.amc.server"): (3, "No such process")}
        self.run_action("install", platform="darwin")
        code, _, _, runner = self.run_action("uninstall", platform="darwin",
                                             runner=Recorder(not_loaded))
        self.assertEqual(code, 0)
        self.assertEqual(runner.calls[-1], [self.launchctl, "unload", "-w", self.plist])
        self.assertFalse(os.path.exists(self.plist))

    def test_status_says_what_launchctl_says(self):
        printed = ("gui/501/dev.amc.server = {\n\tactive count = 1\n\tstate = running\n"
                   "\tpid = 4242\n\tlast exit code = (never exited)\n}")
        self.run_action("install", platform="darwin")
        code, out, _, runner = self.run_action("status", platform="darwin", runner=Recorder(
            {("print", "gui/501/dev.amc.server"): (0, printed)}))
        self.assertEqual(code, 0)
        self.assertIn("installed: " + self.plist, out)
        self.assertIn("launchctl print gui/501/dev.amc.server: loaded: state = running, "
                      "pid = 4242, last exit code = (never exited)", out)
        self.assertEqual(runner.calls, [[self.launchctl, "print", "gui/501/dev.amc.server"]])
        os.unlink(self.plist)
        code, out, _, _ = self.run_action("status", platform="darwin", runner=Recorder(
            {("print", "gui/501/dev.amc.server"): (113, "Could not find service")}))
        self.assertEqual(code, 1)
        self.assertIn("launchctl print gui/501/dev.amc.server: not loaded", out)


class RealCommands(ServiceCase):
    """bin/amc as a user runs it, and the systemd tools this machine has."""

    def amc(self, env, *args):
        return subprocess.run([sys.executable, AMC, "service", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    def service_file(self):
        if sys.platform.startswith("linux"):
            return self.unit
        if sys.platform == "darwin":
            return self.plist
        self.skipTest("amc service supports Linux and macOS, not %s" % sys.platform)

    def clean_env(self, path):
        env = {k: v for k, v in self.env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
        env["PATH"] = path
        return env

    def test_cli_install_status_uninstall_without_the_service_manager(self):
        target = self.service_file()
        env = self.clean_env(os.path.join(self.home, "empty"))  # no systemctl/launchctl
        env["AMC_PORT"] = "7422"
        before = snapshot(self.home)
        installed = self.amc(env, "install")
        self.assertEqual(installed.returncode, 0, installed.stderr)
        self.assertIn("warning", installed.stderr)
        self.assertIn(target + ": written", installed.stdout)
        with open(target, "rb") as f:
            raw = f.read()
        if target == self.unit:
            text = raw.decode()
            self.assertEqual(parsed_exec_start(text),
                             [os.path.abspath(sys.executable), os.path.realpath(AMC), "serve"])
            self.assertEqual(parsed_environment(text), {"AMC_PORT": "7422"})
        else:
            self.assertEqual(plistlib.loads(raw)["ProgramArguments"],
                             [os.path.abspath(sys.executable), os.path.realpath(AMC), "serve"])
        status = self.amc(env, "status")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn("installed: " + target, status.stdout)
        removed = self.amc(env, "uninstall")
        self.assertEqual(removed.returncode, 0, removed.stderr)
        self.assertFalse(os.path.exists(target))
        self.assertEqual({k: v for k, v in snapshot(self.home).items()
                          if not k.startswith(".local/share/amc")}, before)
        self.assertEqual(self.amc(env, "status").returncode, 1)
        again = self.amc(env, "uninstall")
        self.assertEqual(again.returncode, 0)
        self.assertIn("not installed", again.stdout)

    def test_cli_with_this_machines_systemctl_and_no_user_bus(self):
        systemctl = shutil.which("systemctl")
        if not sys.platform.startswith("linux") or not systemctl:
            self.skipTest("needs Linux with systemctl on PATH")
        env = self.clean_env(os.path.dirname(systemctl))
        probe = subprocess.run([systemctl, "--user", "show-environment"], env=env,
                               capture_output=True, text=True, timeout=30)
        if "Failed to connect to bus" not in probe.stdout + probe.stderr:
            self.skipTest("a systemd user manager answers here; this test must not touch it")
        before = snapshot(self.home)
        installed = self.amc(env, "install")
        self.assertEqual(installed.returncode, 0, installed.stderr)
        self.assertIn("amc: warning: systemctl --user daemon-reload: failed", installed.stderr)
        self.assertIn("the file is kept", installed.stderr)
        self.assertTrue(os.path.isfile(self.unit))
        self.assertEqual(self.amc(env, "status").returncode, 0)
        removed = self.amc(env, "uninstall")
        self.assertEqual(removed.returncode, 0, removed.stderr)
        self.assertEqual(snapshot(self.home), before)

    def verify(self, unit):
        """Return the warnings `systemd-analyze verify --user` prints about `unit`."""
        runtime = tempfile.mkdtemp(prefix="amc-runtime-")
        self.addCleanup(shutil.rmtree, runtime, True)
        os.chmod(runtime, 0o700)
        env = dict(self.env, PATH=os.environ.get("PATH", os.defpath), XDG_RUNTIME_DIR=runtime)
        proc = subprocess.run([self.analyze, "verify", "--user", unit], env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return [line for line in (proc.stdout + proc.stderr).splitlines() if unit in line]

    def test_systemd_analyze_verifies_the_unit(self):
        self.analyze = shutil.which("systemd-analyze")
        if not self.analyze:
            self.skipTest("systemd-analyze is not on PATH (tests/run.py does not install it, "
                          "so this is a skip under CI=true too); the unit is checked by this "
                          "file's own systemd parser only")
        self.env.update(AMC_DATA_DIR=TRICKY, AMC_PORT="7411", XDG_DATA_HOME="/x y/100%")
        self.assertEqual(self.run_action("install")[0], 0)
        self.assertEqual(self.verify(self.unit), [])
        broken = re.sub(r"(?m)^Environment=.*$", 'Environment="A=50%x"', self.read(self.unit))
        with open(self.unit, "w") as f:
            f.write(broken)
        self.assertNotEqual(self.verify(self.unit), [], "verify must be able to fail")


if __name__ == "__main__":
    unittest.main()
