"""`amc channel install|uninstall` and `amc claude`: the files written, exactly undone, and the real
Claude Code CLI connecting to the registered channel."""
import json
import os
import stat
import subprocess
import sys
import unittest

from tests.support import tools
from tests.support.helpers import AMC, IsolatedTestCase
from tests.recording.common import version_key

from amc_server.install import channel as channel_config
from amc_server.paths import get_paths


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
        self.assertIn('cd %s && claude --dangerously-load-development-channels server:amc'
                      % project, result.stdout)
        mcp = read(os.path.join(project, ".mcp.json"))
        self.assertEqual(os.path.basename(mcp["mcpServers"]["amc"]["args"][0]), "amc-channel")
        settings = read(os.path.join(project, ".claude", "settings.json"))
        self.assertEqual(settings, {"permissions": {"allow": ["mcp__amc__reply"]},
                                    "enabledMcpjsonServers": ["amc"]})
        self.assertEqual(self.amc("channel", "uninstall", "--project", project).returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(project, ".mcp.json")))
        self.assertFalse(os.path.exists(os.path.join(project, ".claude", "settings.json")))

    def test_the_printed_command_runs_nothing_a_project_path_holds(self):
        project = os.path.join(self.home, 'p $(touch M1) `touch M2` "q')
        os.makedirs(project)
        result = self.amc("channel", "install", "--project", project)
        self.assertEqual(result.returncode, 0, result.stderr)
        line = next(l for l in result.stdout.splitlines() if "&& claude " in l).strip()
        bindir = os.path.join(self.home, "bin")
        os.makedirs(bindir)
        fake = os.path.join(bindir, "claude")
        with open(fake, "w") as f:  # stands in for the CLI: says where it was started
            f.write("#!/bin/sh\npwd > %s/where\n" % self.home)
        os.chmod(fake, 0o755)
        env = dict(self.env, PATH=bindir + os.pathsep + self.env.get("PATH", ""))
        subprocess.run(["sh", "-c", line], cwd=self.home, env=env, check=True, timeout=30)
        with open(os.path.join(self.home, "where")) as f:
            self.assertEqual(f.read().strip(), project)  # a user pasting it lands there
        for marker in ("M1", "M2"):
            self.assertFalse(os.path.exists(os.path.join(self.home, marker)))
            self.assertFalse(os.path.exists(os.path.join(project, marker)))

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


class FolderTrust(IsolatedTestCase):
    def test_a_folder_is_trusted_when_it_or_a_parent_accepted_the_dialog(self):
        config_dir = os.path.join(self.home, "cfg")
        os.makedirs(config_dir)
        env = dict(self.env, CLAUDE_CONFIG_DIR=config_dir)  # the config then lives inside it
        paths = get_paths(env)
        base = os.path.realpath(self.home)
        with open(os.path.join(config_dir, ".claude.json"), "w") as f:
            json.dump({"projects": {os.path.join(base, "a"): {"hasTrustDialogAccepted": True},
                                    os.path.join(base, "b"): {"hasTrustDialogAccepted": False},
                                    os.path.join(base, "c"): "junk"}}, f)
        trusted = [d for d in ("a", "a/x/y", "b", "b/x", "c", "d", "")
                   if channel_config.folder_trusted(paths, env, os.path.join(base, d))]
        self.assertEqual(trusted, ["a", "a/x/y"])
        self.assertFalse(channel_config.folder_trusted(paths, self.env, os.path.join(base, "a")))


class RealCli(IsolatedTestCase):
    """`claude mcp list` in a trusted folder starts bin/amc-channel and shows it connected; from
    2.1.337 an untrusted folder says "Not checked" without starting it (2.1.332 checked anyway)."""

    def setUp(self):
        super().setUp()
        self.claude = tools.require("claude")
        result = subprocess.run([sys.executable, AMC, "channel", "install"], env=self.env,
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Not checked (folder not trusted", result.stdout)  # the note says so
        self.trusted = os.path.realpath(os.path.join(self.home, "trusted", "proj"))
        self.untrusted = os.path.realpath(os.path.join(self.home, "untrusted"))
        os.makedirs(os.path.join(self.trusted, "sub"))
        os.makedirs(self.untrusted)
        config = read(os.path.join(self.home, ".claude.json"))  # where accepting the dialog writes
        config["projects"] = {self.trusted: {"hasTrustDialogAccepted": True},
                              self.untrusted: {"hasTrustDialogAccepted": False}}
        with open(os.path.join(self.home, ".claude.json"), "w") as f:
            json.dump(config, f)

    def listed(self, cwd):
        listed = subprocess.run([self.claude, "mcp", "list"], env=self.env, cwd=cwd,
                                capture_output=True, text=True, timeout=90)
        line = [l for l in listed.stdout.splitlines() if l.startswith("amc:")]
        self.assertEqual(len(line), 1, listed.stdout + listed.stderr)
        self.assertIn("amc-channel", line[0])
        return line[0]

    def test_in_a_trusted_folder_the_real_claude_code_connects_to_the_channel(self):
        for cwd in (self.trusted, os.path.join(self.trusted, "sub")):  # trust covers subfolders
            line = self.listed(cwd)
            # it spawned bin/amc-channel and did the handshake
            self.assertIn("\u2714 Connected", line, cwd)
            self.assertNotIn("Not checked", line)
        note = subprocess.run([sys.executable, AMC, "channel", "install", "--project",
                               self.trusted], env=self.env, capture_output=True, text=True,
                              timeout=60).stdout
        self.assertNotIn("is not trusted by Claude Code yet", note)

    def test_in_an_untrusted_folder_it_is_not_checked_from_2_1_337(self):
        line = self.listed(self.untrusted)
        if version_key(tools.cli_version("claude")) >= version_key("2.1.337"):
            self.assertIn("Not checked (folder not trusted; run `claude` here)", line)
            self.assertNotIn("Connected", line)
        else:
            self.assertIn("\u2714 Connected", line)  # 2.1.332 started it anywhere
        note = subprocess.run([sys.executable, AMC, "channel", "install", "--project",
                               self.untrusted], env=self.env, capture_output=True, text=True,
                              timeout=60).stdout
        self.assertIn("%s is not trusted by Claude Code yet" % self.untrusted, note)


if __name__ == "__main__":
    unittest.main()
