"""`amc remote add|remove|list|status`: exact ssh argv, words for each failure, and a real sshd."""
import io
import json
import os
import time
import unittest
from unittest import mock

from tests.support.helpers import IsolatedTestCase
from tests.support.sshd import SshWorld, require_root_sshd

from amc_server.remote import cli as remotes, config, ssh
from amc_server.terminals.base import Result

SSH = "/usr/bin/ssh"


class Recorder:
    """A runner that records argv and answers with canned results per target."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, timeout):
        self.calls.append((list(argv), timeout))
        target = argv[argv.index("--") - 1]
        return self.answers[target]


OK = Result(0, "amc-python 3 11 2\n", "")


class Argv(unittest.TestCase):
    def test_probe_argv_is_exact(self):
        self.assertEqual(ssh.probe_argv(SSH, "m1"), [
            SSH, "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2",
            "-o", "ControlMaster=no", "-o", "ControlPath=none", "m1", "--",
            "python3", "-c", "'import sys; print(\"amc-python\", *sys.version_info[:3])'"])

    def test_argv_never_weakens_host_key_checking(self):
        text = " ".join(ssh.probe_argv(SSH, "user@host"))
        for weak in ("StrictHostKeyChecking", "UserKnownHostsFile", "/dev/null"):
            self.assertNotIn(weak, text)

    def test_names_and_targets_starting_with_dash_are_refused(self):
        for bad in ("-x", "-oProxyCommand=touch /tmp/pwned"):
            with self.assertRaisesRegex(ssh.RemoteError, "start with '-'"):
                ssh.check_name(bad)
            with self.assertRaisesRegex(ssh.RemoteError, "start with '-'"):
                ssh.probe_argv(SSH, bad)

    def test_names_are_simple_identifiers(self):
        for good in ("m1", "dev-box", "gpu_2", "host.example"):
            ssh.check_name(good)
        for bad in ("", ".hidden", "a b", "a/b", "x;y", "é", "a" * 65):
            with self.assertRaises(ssh.RemoteError, msg=bad):
                ssh.check_name(bad)

    def test_targets_are_one_word(self):
        ssh.check_target("alice@10.0.0.2")
        for bad in ("a b", "host\nx", ""):
            with self.assertRaises(ssh.RemoteError, msg=bad):
                ssh.check_target(bad)

    def test_probe_code_survives_the_remote_shell_as_one_word(self):
        for c in "'\\$!`":
            self.assertNotIn(c, ssh.PROBE_CODE)


class Explain(unittest.TestCase):
    def words(self, code, out="", err=""):
        return ssh.explain(Result(code, out, err), "m1")

    def test_each_failure_in_words(self):
        cases = [
            (255, "", "Host key verification failed.\r\n", "unknown host key"),
            (255, "", "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\n"
                      "Host key verification failed.\n", "CHANGED"),
            (255, "", "u@127.0.0.1: Permission denied (publickey).\n", "authentication refused"),
            (255, "", "ssh: connect to host 10.9.9.9 port 22: Connection timed out\n",
             "host unreachable"),
            (255, "", "ssh: connect to host x port 22: No route to host\n", "host unreachable"),
            (255, "", "ssh: Could not resolve hostname nope: Name or service not known\n",
             "unknown host name"),
            (-1, "", "no answer within 30 s", "host unreachable"),
            (127, "", "bash: line 1: python3: command not found\n", "no python3 there"),
            (127, "", "sh: 1: python3: not found\n", "no python3 there"),
            (0, "amc-python 3 8 18\n", "", "too old: 3.8.18"),
            (0, "hello from .bashrc\n", "", "does not understand"),
            (1, "", "Traceback...\nSyntaxError: invalid syntax\n", "exit 1"),
        ]
        for code, out, err, needle in cases:
            probe = self.words(code, out, err)
            self.assertFalse(probe.ok, needle)
            self.assertIn(needle, probe.message)

    def test_ok_with_a_banner_before_the_answer(self):
        probe = self.words(0, "Welcome!\namc-python 3 9 0\n")
        self.assertEqual(probe, ssh.Probe(True, "Python 3.9.0", "3.9.0"))


class Store(IsolatedTestCase):
    def make(self, answers):
        rec = Recorder(answers)
        return remotes.Remotes(self.paths, dict(self.env, PATH="/usr/bin:/bin"), rec), rec

    def main(self, r, *args):
        out, err = io.StringIO(), io.StringIO()
        code = remotes.main(self.paths, *args, out=out, err=err, remotes=r)
        return code, out.getvalue(), err.getvalue()

    def test_add_stores_only_on_success(self):
        r, rec = self.make({"m1": OK, "old": Result(0, "amc-python 3 6 9\n", "")})
        self.assertEqual(self.main(r, "add", "old")[0], 1)
        self.assertEqual(config.load(self.paths), [])  # not stored, only kept as failed
        self.assertEqual([(f.name, f.error) for f in config.read(self.paths)[1]],
                         [("old", "python3 there is too old: 3.6.9 (AMC needs 3.9 or newer)")])
        code, out, _ = self.main(r, "add", "box", "m1")
        self.assertEqual(code, 0)
        self.assertIn("added box (ssh m1): Python 3.11.2", out)
        with open(self.paths.remotes_file) as f:
            doc = json.load(f)
        self.assertEqual(doc["version"], 1)
        self.assertEqual([(x["name"], x["target"]) for x in doc["remotes"]], [("box", "m1")])
        self.assertEqual(rec.calls[-1], (ssh.probe_argv(r.ssh(), "m1"),
                                         ssh.PROBE_TIMEOUT_S))

    def test_tolerant_read(self):
        path = self.paths.remotes_file
        os.makedirs(os.path.dirname(path), exist_ok=True)
        for text in ("", "[1,2]", "{not json", '{"remotes": 5}'):
            with open(path, "w") as f:
                f.write(text)
            self.assertEqual(config.load(self.paths), [])
        with open(path, "w") as f:
            json.dump({"version": 9, "remotes": [7, {"name": "-x", "target": "a"},
                       {"name": "ok", "target": "-oX"}, {"name": "good", "target": "h"},
                       {"name": "good", "target": "dup"}], "future": True}, f)
        self.assertEqual([(x.name, x.target) for x in config.load(self.paths)],
                         [("good", "h")])

    def test_status_in_parallel_and_exit_code(self):
        slow = Result(0, "amc-python 3 12 0\n", "")

        def runner(argv, timeout):
            time.sleep(0.3)
            return {"a": slow, "b": Result(255, "", "Permission denied (publickey).")}[
                argv[argv.index("--") - 1]]
        r = remotes.Remotes(self.paths, dict(self.env, PATH="/usr/bin:/bin"), runner)
        for remote in [config.Remote("a", "a"), config.Remote("b", "b")] + \
                [config.Remote("c%d" % i, "a") for i in range(6)]:
            config.put(self.paths, remote)
        started = time.monotonic()
        code, out, _ = self.main(r, "status")
        self.assertLess(time.monotonic() - started, 1.5)  # 8 probes of 0.3 s, not in series
        self.assertEqual(code, 1)
        lines = out.splitlines()
        self.assertEqual(lines[0], "a\tonline\tPython 3.12.0")
        self.assertTrue(lines[1].startswith("b\toffline\tauthentication refused"))

    def test_remove_unknown_is_exit_1(self):
        r, _ = self.make({})
        code, _, err = self.main(r, "remove", "nope")
        self.assertEqual(code, 1)
        self.assertIn("no remote named 'nope'", err)

    def test_missing_ssh_is_said(self):
        r = remotes.Remotes(self.paths, {"PATH": "/nonexistent", "HOME": self.home},
                            Recorder({}))
        with mock.patch.object(ssh, "find_binary", return_value=None):
            code, _, err = self.main(r, "add", "m1")
        self.assertEqual(code, 1)
        self.assertIn("ssh (OpenSSH's client) is not installed", err)


class RealSshd(unittest.TestCase):
    """`bin/amc remote ...` as a real user against a real sshd (tests/support/sshd.py)."""

    @classmethod
    def setUpClass(cls):
        cls.sshd = require_root_sshd()

    def world(self, known_host=True):
        w = SshWorld(known_host=known_host).start(self.sshd)
        self.addCleanup(w.stop)
        return w

    def stored(self, w):
        try:
            with open(w.data_file("remotes.json")) as f:
                return [(x["name"], x["target"]) for x in json.load(f)["remotes"]]
        except FileNotFoundError:
            return None

    def failed(self, w):
        with open(w.data_file("remotes.json")) as f:
            return json.load(f).get("failed", [])

    def test_add_list_status_remove(self):
        w = self.world()
        added = w.run_amc("remote", "add", "m1")
        self.assertEqual(added.returncode, 0, added.stderr + w.log())
        self.assertRegex(added.stdout, r"added m1 \(ssh m1\): Python 3\.\d+\.\d+")
        self.assertEqual(self.stored(w), [("m1", "m1")])
        self.assertEqual(w.run_amc("remote", "add", "again", "m1").returncode, 0)
        listed = w.run_amc("remote", "list")
        self.assertEqual(listed.stdout.splitlines(), ["m1\tm1", "again\tm1"])
        # a machine that goes away: stored directly (add would refuse it), then reported offline
        with open(w.data_file("remotes.json")) as f:
            doc = json.load(f)
        doc["remotes"].append({"name": "bad", "target": "badkey"})
        with open(w.data_file("remotes.json"), "w") as f:
            json.dump(doc, f)
        status = w.run_amc("remote", "status")
        self.assertEqual(status.returncode, 1, status.stderr)
        lines = status.stdout.splitlines()
        self.assertRegex(lines[0], r"^m1\tonline\tPython 3\.")
        self.assertRegex(lines[1], r"^again\tonline\t")
        self.assertRegex(lines[2], r"^bad\toffline\tauthentication refused")
        self.assertEqual(w.run_amc("remote", "remove", "bad").returncode, 0)
        self.assertEqual(w.run_amc("remote", "status").returncode, 0)
        gone = w.run_amc("remote", "remove", "bad")
        self.assertEqual(gone.returncode, 1)
        self.assertIn("no remote named 'bad'", gone.stderr)
        self.assertEqual(self.stored(w), [("m1", "m1"), ("again", "m1")])

    def test_failures_in_words_and_nothing_stored(self):
        w = self.world()
        cases = [
            (("badkey",), "authentication refused"),
            (("nopy",), "no python3 there"),
            (("-x",), "unrecognized arguments"),          # argparse: an option, not a name
            (("--", "-x"), "must not start with '-'"),
            (("ok", "-oProxyCommand=touch x"), "must not start with '-'"),
            (("bad name",), "letters, digits"),
        ]
        for args, words in cases:
            proc = w.run_amc("remote", "add", *args)
            self.assertNotEqual(proc.returncode, 0, args)
            self.assertIn(words, proc.stderr, args)
        self.assertFalse(self.stored(w))
        # the adds that reached ssh are kept as failed, with their reason, for the page
        self.assertEqual({(f["name"], f["error"].split(" (")[0]) for f in self.failed(w)},
                         {("badkey", "authentication refused"), ("nopy", "no python3 there")})
        listed = w.run_amc("remote", "list").stdout
        self.assertIn("badkey\tbadkey\tnot added: authentication refused", listed)
        self.assertEqual(w.run_amc("remote", "remove", "badkey").returncode, 0)
        self.assertEqual([f["name"] for f in self.failed(w)], ["nopy"])

    def test_unknown_host_key_is_refused_in_words(self):
        w = self.world(known_host=False)
        proc = w.run_amc("remote", "add", "m1")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("unknown host key", proc.stderr)
        self.assertFalse(self.stored(w))
        with open(os.path.join(w.home("client"), ".ssh", "known_hosts")) as f:
            self.assertEqual(f.read(), "")  # AMC never accepted the key


if __name__ == "__main__":
    unittest.main()
