"""`bin/amc` as a user runs it: start/stop/status/serve and hooks install, as real processes."""
import glob
import json
import os
import shlex
import subprocess
import sys
import unittest
import urllib.request

from tests.support.helpers import AMC, HOOK, IsolatedTestCase


def read(path):
    with open(path) as f:
        return f.read()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Launcher(IsolatedTestCase):
    def amc(self, *args, timeout=30):
        return subprocess.run([sys.executable, AMC, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def setUp(self):
        super().setUp()
        self.addCleanup(self.amc, "stop")

    def test_start_status_stop_cycle(self):
        port = str(free_port())
        self.assertEqual(self.amc("status").returncode, 1)
        started = self.amc("start", "--port", port, "--no-browser")
        self.assertEqual(started.returncode, 0, started.stderr)
        url = "http://127.0.0.1:%s/" % port
        self.assertIn(url, started.stdout)
        with urllib.request.urlopen(url + "api/state", timeout=5) as r:
            self.assertEqual(json.load(r)["sessions"], [])
        again = self.amc("start", "--port", port, "--no-browser")
        self.assertEqual(again.returncode, 0)
        self.assertIn("already running", again.stdout)
        status = self.amc("status")
        self.assertEqual(status.returncode, 0)
        pid = int(read(self.paths.pid_file).split()[0])
        for needle in ("running", str(pid), url, self.paths.data):
            self.assertIn(needle, status.stdout)
        self.assertTrue(os.path.exists(self.paths.log_file))
        stopped = self.amc("stop")
        self.assertEqual(stopped.returncode, 0)
        self.assertFalse(os.path.exists(self.paths.pid_file))
        with self.assertRaises(OSError):
            urllib.request.urlopen(url + "api/state", timeout=2)
        self.assertEqual(self.amc("stop").returncode, 0)  # idempotent
        stopped_status = self.amc("status")
        self.assertEqual(stopped_status.returncode, 1)
        self.assertIn("stopped", stopped_status.stdout)

    def test_port_in_use_fails_clearly(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = str(s.getsockname()[1])
            result = self.amc("start", "--port", port, "--no-browser")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot listen", result.stderr)
        self.assertFalse(os.path.exists(self.paths.pid_file))

    def test_serve_port_0_prints_url_first(self):
        proc = subprocess.Popen([sys.executable, AMC, "serve", "--port", "0"], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^AMC serving on http://127\.0\.0\.1:\d+/$")
            url = line.split()[-1]
            with urllib.request.urlopen(url + "api/state", timeout=5) as r:
                self.assertEqual(r.status, 200)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=10), 0)
            proc.stdout.close()
        self.assertFalse(os.path.exists(self.paths.pid_file))

    def test_amc_port_variable(self):
        port = str(free_port())
        self.env["AMC_PORT"] = port
        self.assertEqual(self.amc("start", "--no-browser").returncode, 0)
        self.assertIn(":%s/" % port, self.amc("status").stdout)


class HooksInstall(IsolatedTestCase):
    def amc(self, *args):
        return subprocess.run([sys.executable, AMC, *args], env=self.env, capture_output=True,
                              text=True, timeout=30)

    def settings(self):
        with open(self.paths.claude_settings) as f:
            return json.load(f)

    def write_settings(self, obj_or_text):
        os.makedirs(self.paths.claude_dir, exist_ok=True)
        with open(self.paths.claude_settings, "w") as f:
            f.write(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text))

    def test_install_keeps_other_settings_and_hooks_and_is_idempotent(self):
        other = {"type": "command", "command": "/usr/local/bin/notify-me"}
        self.write_settings({"model": "opus", "permissions": {"allow": ["Bash(ls)"]},
                             "hooks": {"Stop": [{"hooks": [other]}],
                                       "PreToolUse": [{"matcher": "Bash", "hooks": [other]}]}})
        result = self.amc("hooks", "install")
        self.assertEqual(result.returncode, 0, result.stderr)
        s = self.settings()
        self.assertEqual((s["model"], s["permissions"]), ("opus", {"allow": ["Bash(ls)"]}))
        self.assertIn({"hooks": [other]}, s["hooks"]["Stop"])
        self.assertIn({"matcher": "Bash", "hooks": [other]}, s["hooks"]["PreToolUse"])
        for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                      "PostToolUse", "PostToolUseFailure", "Notification", "Stop", "StopFailure",
                      "SubagentStart", "SubagentStop", "SessionEnd"):
            amc = [g for g in s["hooks"][event]
                   if any(h["command"].endswith("amc-hook") for h in g["hooks"])]
            self.assertEqual(len(amc), 1, event)
            self.assertEqual(amc[0]["hooks"][0]["type"], "command")
            self.assertEqual(amc[0]["hooks"][0]["command"],
                             "python3 -S " + shlex.quote(os.path.realpath(HOOK)))
            self.assertEqual("matcher" in amc[0], event in (
                "PreToolUse", "PermissionRequest", "PostToolUse", "PostToolUseFailure"), event)
        backups = glob.glob(self.paths.claude_settings + ".amc-backup-*")
        self.assertEqual(len(backups), 1)
        before = read(self.paths.claude_settings)
        again = self.amc("hooks", "install")
        self.assertIn("unchanged", again.stdout)
        self.assertEqual(read(self.paths.claude_settings), before)
        self.assertEqual(len(glob.glob(self.paths.claude_settings + ".amc-backup-*")), 1)
        self.assertEqual(self.amc("hooks", "status").returncode, 0)

    def test_uninstall_removes_only_amc(self):
        other = {"type": "command", "command": "/usr/local/bin/notify-me"}
        self.write_settings({"hooks": {"Stop": [{"hooks": [other]}]}})
        self.amc("hooks", "install")
        self.assertEqual(self.amc("hooks", "uninstall").returncode, 0)
        self.assertEqual(self.settings(), {"hooks": {"Stop": [{"hooks": [other]}]}})
        status = self.amc("hooks", "status")
        self.assertEqual(status.returncode, 1)
        self.assertIn("missing", status.stdout)

    def test_fresh_machine_without_settings(self):
        self.assertEqual(self.amc("hooks", "install").returncode, 0)
        self.assertIn("SessionEnd", self.settings()["hooks"])
        self.assertEqual(glob.glob(self.paths.claude_settings + ".amc-backup-*"), [])

    def test_refuses_invalid_json_without_writing(self):
        broken = '{"model": "opus",, }'
        self.write_settings(broken)
        result = self.amc("hooks", "install")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not valid JSON", result.stderr)
        self.assertEqual(read(self.paths.claude_settings), broken)
        self.assertEqual(glob.glob(self.paths.claude_settings + ".amc-backup-*"), [])

    def test_codex_hooks_and_notify(self):
        os.makedirs(self.paths.codex_home)
        with open(self.paths.codex_config, "w") as f:
            f.write('model = "gpt"\n\n[tui]\nshow_tooltips = false\n')
        result = self.amc("hooks", "install", "--codex")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.paths.codex_hooks) as f:
            hooks = json.load(f)["hooks"]
        self.assertTrue(hooks["Stop"][0]["hooks"][0]["command"].endswith("amc-hook --agent codex"))
        config = read(self.paths.codex_config)
        self.assertTrue(config.startswith('notify = ["python3", "-S", "%s", "--codex-notify"]\n'
                                          % os.path.realpath(HOOK)), config)
        self.assertIn("[tui]\nshow_tooltips = false", config)
        self.assertIn("unchanged", self.amc("hooks", "install", "--codex").stdout)
        self.amc("hooks", "uninstall", "--codex")
        self.assertEqual(read(self.paths.codex_config),
                         'model = "gpt"\n\n[tui]\nshow_tooltips = false\n')

    def test_codex_notify_of_another_tool_is_left_alone(self):
        os.makedirs(self.paths.codex_home)
        with open(self.paths.codex_config, "w") as f:
            f.write('notify = ["/usr/bin/other"]\n')
        result = self.amc("hooks", "install", "--codex")
        self.assertIn("left alone", result.stdout)
        self.assertEqual(read(self.paths.codex_config), 'notify = ["/usr/bin/other"]\n')


if __name__ == "__main__":
    unittest.main()
