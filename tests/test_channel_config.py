"""`amc channel install|uninstall` and `amc claude`: the files written, exactly undone, and the real
Claude Code CLI connecting to the registered channel."""
import json
import os
import stat
import subprocess
import sys
import unittest

from tests import tools
from tests.helpers import AMC, IsolatedTestCase


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class ChannelInstall(IsolatedTestCase):
    def amc(self, *args, env=None):
        return subprocess.run([sys.executable, AMC, *args], env=env or self.env,
                              capture_output=True, text=True, timeout=60)

    def user_config(self):
        return os.path.join(self.home, ".claude.json")

    def test_user_install_registers_the_server_and_allows_reply_and_uninstall_undoes_it(self):
        os.makedirs(self.paths.claude_dir)
        with open(self.user_config(), "w") as f:
            json.dump({"numStartups": 3, "mcpServers": {"other": {"command": "x"}}}, f)
        with open(self.paths.claude_settings, "w") as f:
            json.dump({"permissions": {"allow": ["Bash(ls)"]}, "model": "opus"}, f)
        result = self.amc("channel", "install")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("claude --dangerously-load-development-channels server:amc", result.stdout)
        config = read(self.user_config())
        amc = config["mcpServers"]["amc"]
        self.assertEqual((amc["type"], amc["command"]), ("stdio", sys.executable))
        self.assertEqual(os.path.basename(amc["args"][0]), "amc-channel")
        self.assertEqual(config["mcpServers"]["other"], {"command": "x"})
        self.assertEqual(config["numStartups"], 3)
        self.assertEqual(read(self.paths.claude_settings)["permissions"]["allow"],
                         ["Bash(ls)", "mcp__amc__reply"])
        self.assertIn("unchanged", self.amc("channel", "install").stdout)
        self.assertEqual(self.amc("channel", "uninstall").returncode, 0)
        self.assertEqual(read(self.user_config()),
                         {"numStartups": 3, "mcpServers": {"other": {"command": "x"}}})
        self.assertEqual(read(self.paths.claude_settings),
                         {"permissions": {"allow": ["Bash(ls)"]}, "model": "opus"})

    def test_an_allow_entry_the_user_had_stays_after_uninstall(self):
        os.makedirs(self.paths.claude_dir)
        with open(self.paths.claude_settings, "w") as f:
            json.dump({"permissions": {"allow": ["mcp__amc__reply"]}}, f)
        self.amc("channel", "install")
        self.amc("channel", "uninstall")
        self.assertEqual(read(self.paths.claude_settings)["permissions"]["allow"],
                         ["mcp__amc__reply"])
        self.assertFalse(os.path.exists(self.user_config()))  # install created it

    def test_project_install_and_uninstall_remove_exactly_the_files_install_created(self):
        project = os.path.join(self.home, "proj")
        os.makedirs(project)
        result = self.amc("channel", "install", "--project", project)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('cd "%s" && claude --dangerously-load-development-channels server:amc'
                      % project, result.stdout)
        mcp = read(os.path.join(project, ".mcp.json"))
        self.assertEqual(os.path.basename(mcp["mcpServers"]["amc"]["args"][0]), "amc-channel")
        settings = read(os.path.join(project, ".claude", "settings.json"))
        self.assertEqual(settings, {"permissions": {"allow": ["mcp__amc__reply"]},
                                    "enabledMcpjsonServers": ["amc"]})
        self.assertEqual(self.amc("channel", "uninstall", "--project", project).returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(project, ".mcp.json")))
        self.assertFalse(os.path.exists(os.path.join(project, ".claude", "settings.json")))

    def test_a_foreign_server_named_amc_or_a_broken_file_is_refused_untouched(self):
        with open(self.user_config(), "w") as f:
            json.dump({"mcpServers": {"amc": {"command": "someone-else"}}}, f)
        result = self.amc("channel", "install")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not AMC's", result.stderr)
        self.assertEqual(read(self.user_config()), {"mcpServers": {"amc": {"command":
                                                                            "someone-else"}}})
        with open(self.user_config(), "w") as f:
            f.write("{broken")
        result = self.amc("channel", "install")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not valid JSON", result.stderr)

    def test_amc_claude_starts_claude_with_the_channel_loaded(self):
        bindir = os.path.join(self.home, "bin")
        os.makedirs(bindir)
        record = os.path.join(self.home, "argv.json")
        fake = os.path.join(bindir, "claude")
        with open(fake, "w") as f:  # stands in for the CLI: records how it was started
            f.write("#!%s\nimport json, sys\njson.dump(sys.argv[1:], open(%r, 'w'))\n"
                    % (sys.executable, record))
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IEXEC)
        env = dict(self.env, PATH=bindir + os.pathsep + self.env.get("PATH", ""))
        result = self.amc("claude", "--resume", "abc", "fix the bug", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        argv = read(record)
        config = os.path.join(self.paths.data, "channel-mcp.json")
        self.assertEqual(argv, ["--mcp-config", config,
                                "--dangerously-load-development-channels", "server:amc",
                                "--allowedTools", "mcp__amc__reply",
                                "--resume", "abc", "fix the bug"])
        self.assertEqual(os.path.basename(read(config)["mcpServers"]["amc"]["args"][0]),
                         "amc-channel")
        result = self.amc("claude", env=dict(self.env, PATH="/nonexistent"))
        self.assertEqual(result.returncode, 127)
        self.assertIn("not on PATH", result.stderr)


class RealCli(IsolatedTestCase):
    def test_the_real_claude_code_connects_to_the_registered_channel(self):
        claude = tools.require("claude")
        result = subprocess.run([sys.executable, AMC, "channel", "install"], env=self.env,
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        listed = subprocess.run([claude, "mcp", "list"], env=self.env, capture_output=True,
                                text=True, timeout=90)
        line = [l for l in listed.stdout.splitlines() if l.startswith("amc:")]
        self.assertEqual(len(line), 1, listed.stdout + listed.stderr)
        self.assertIn("amc-channel", line[0])
        self.assertIn("Connected", line[0])  # it spawned bin/amc-channel and did the handshake


if __name__ == "__main__":
    unittest.main()
