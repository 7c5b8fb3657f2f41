"""Other machines' sessions in the hub's core, the feed's reading rules and the remote code.

Direct tests of core/machines.py (what a remote may claim, clocks, staleness), remote/feed.py
(backoff, line limits) and remote/ship.py (the code that runs in a remote shell); the real thing,
over a real sshd, is tests/test_e2e_remote.py.
"""
import ast
import io
import os
import shlex
import subprocess
import unittest

from amc_server import model
from amc_server.core.machines import MachineTable, split
from amc_server.remote import ship
from amc_server.remote.feed import BACKOFF_MAX_S, backoff, read_lines

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "amc_server")
NOW = model.parse_iso("2026-12-01T12:00:00Z")


def session(sid, **fields):
    return dict({"session_id": sid, "status": "active", "started_at": "2026-12-01T11:00:00Z",
                 "last_event_at": "2026-12-01T11:59:00Z", "status_since": "2026-12-01T11:59:00Z",
                 "project": "p"}, **fields)


class Table(unittest.TestCase):
    def setUp(self):
        self.t = MachineTable()
        self.t.configure({"m1": ("m1", ""), "m2": ("box", "")})
        self.t.set_state("m1", "online", "", NOW)

    def snapshot(self, sessions, server_time="2026-12-01T12:00:00Z", machine="m1"):
        return dict(self.t.receive(machine, "snapshot", {
            "sessions": sessions, "server_time": server_time, "setup": {}}, NOW))

    def test_sessions_are_addressed_by_machine_and_marked_by_the_hub(self):
        got = self.snapshot([session("a", machine="evil", stale=True)])
        self.assertEqual(list(got), ["m1:a"])
        s = got["m1:a"]
        self.assertEqual((s["session_id"], s["machine"], s["stale"], s["last_seen"]),
                         ("m1:a", "m1", False, None))
        self.assertEqual(split("m1:a"), ("m1", "a"))
        self.assertEqual(split("plain"), ("", "plain"))
        self.assertTrue(self.t.owns("m1:a"))
        self.assertFalse(self.t.owns("m9:a"))

    def test_a_remote_cannot_claim_another_machines_or_a_bad_id(self):
        bad = [session("m2:x"), session("../x"), session(""), session("a\x00b"), "text", 7,
               session("big", project="y" * (1 << 20)), session("nostatus", status=None)]
        with self.assertLogs("amc.machines", "WARNING") as logged:
            got = self.snapshot(bad + [session("fine")])
        self.assertIn("a session id that is not its own: 'm2:x'", logged.output[0])
        self.assertEqual(list(got), ["m1:fine"])
        self.assertEqual(self.t.machines["m1"].rejected, len(bad))
        with self.assertLogs("amc.machines", "WARNING"):
            self.assertEqual(self.t.receive("m1", "session", session("m2:y"), NOW), [])
            self.assertEqual(self.t.receive("m1", "removed", {"session_id": 5}, NOW), [])
            self.assertEqual(self.t.receive("m1", "snapshot", "not a snapshot", NOW), [])
        self.assertEqual(self.t.receive("m1", "newer-event-type", {}, NOW), [])

    def test_a_snapshot_replaces_what_the_hub_held(self):
        self.snapshot([session("a"), session("b")])
        got = self.snapshot([session("b", status="done"), session("c")])
        self.assertEqual(got["m1:a"], None)  # removed
        self.assertEqual(got["m1:b"]["status"], "done")
        self.assertIn("m1:c", got)
        self.assertEqual(sorted(self.t.machines["m1"].sessions), ["b", "c"])

    def test_times_move_onto_the_hubs_clock(self):
        # the remote's clock is an hour behind: its "11:59" is the hub's 12:59
        got = self.snapshot([session("a")], server_time="2026-12-01T11:00:00Z")
        s = got["m1:a"]
        self.assertEqual(s["last_event_at"], "2026-12-01T12:59:00.000Z")
        self.assertEqual(s["started_at"], "2026-12-01T12:00:00.000Z")
        # a heartbeat within the slack changes nothing; a jump re-sends every session
        self.assertEqual(self.t.receive("m1", "heartbeat", {"time": "2026-12-01T11:00:01Z"}, NOW),
                         [])
        moved = dict(self.t.receive("m1", "heartbeat", {"time": "2026-12-01T12:00:00Z"}, NOW))
        self.assertEqual(moved["m1:a"]["last_event_at"], "2026-12-01T11:59:00.000Z")

    def test_offline_makes_sessions_stale_with_last_seen_and_online_fresh(self):
        self.snapshot([session("a")])
        changed, stale = self.t.set_state("m1", "offline", "connection refused")
        self.assertTrue(changed)
        s = dict(stale)["m1:a"]
        self.assertTrue(s["stale"])
        self.assertTrue(s["last_seen"])
        self.assertEqual(self.t.set_state("m1", "offline", "connection refused"), (False, []))
        changed, fresh = self.t.set_state("m1", "online", "", NOW + 5)
        self.assertFalse(dict(fresh)["m1:a"]["stale"])
        info = {m["name"]: m for m in self.t.infos()}
        self.assertEqual(info["m1"]["state"], "online")
        self.assertEqual(info["m2"]["target"], "box")

    def test_a_machine_that_leaves_takes_its_sessions(self):
        self.snapshot([session("a")])
        gone = self.t.configure({"m2": ("box", "")})
        self.assertEqual(gone, [("m1:a", None)])
        self.assertEqual([m["name"] for m in self.t.infos()], ["m2"])
        self.assertEqual(self.t.receive("m1", "session", session("b"), NOW), [])


class FeedRules(unittest.TestCase):
    def test_backoff_doubles_to_30_s_with_jitter(self):
        low = [round(backoff(n, lambda: 0.0), 6) for n in range(1, 10)]
        high = [round(backoff(n, lambda: 1.0), 6) for n in range(1, 10)]
        self.assertEqual(low, [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30, 30])
        self.assertEqual(high, [1.2, 2.4, 4.8, 9.6, 19.2, 30, 30, 30, 30])
        self.assertEqual(backoff(10 ** 6, lambda: 0.5), BACKOFF_MAX_S)

    def test_a_line_over_the_limit_is_skipped_and_reading_goes_on(self):
        data = b'{"a":1}\n' + b"x" * 5000 + b"\n" + b'{"b":2}\r\n' + b"tail"
        got = list(read_lines(io.BufferedReader(io.BytesIO(data)), limit=1000))
        self.assertEqual(got, [b'{"a":1}', None, b'{"b":2}', b"tail"])


class RemoteCode(unittest.TestCase):
    def test_the_boot_and_install_code_stay_one_word_in_every_shell(self):
        for code in (ship.BOOT, ship.INSTALL):
            for bad in "'\\$!\n`":
                self.assertNotIn(bad, code)
            word = shlex.quote(code)
            self.assertEqual(shlex.split(word), [code])
            compile(code, "<remote>", "exec")
        csh = "/bin/csh"
        if os.path.exists(csh):  # csh expands ! even inside single quotes
            out = subprocess.run([csh, "-fc", "echo " + shlex.quote(ship.BOOT)],
                                 capture_output=True, text=True)
            self.assertEqual(out.stdout.strip(), ship.BOOT)

    def test_only_checked_words_go_on_a_remote_command_line(self):
        name = "amc-0.1.0-0123456789abcdef.pyz"
        self.assertEqual(ship.command(name, ["stream", "--since", "kx2-17"])[3:],
                         [name, "stream", "--since", "kx2-17"])
        for words in (["stream", "--since", "$(reboot)"], ["a b"], [";"], ["x" * 200]):
            with self.assertRaises(ValueError):
                ship.command(name, words)
        with self.assertRaises(ValueError):
            ship.command("../../evil.pyz", ["stream"])

    def test_every_module_is_python_3_9(self):
        """The remote may have Python 3.9: no syntax newer than it anywhere in the package."""
        for folder, _, files in os.walk(PACKAGE):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path, encoding="utf-8") as f:
                        ast.parse(f.read(), path, feature_version=(3, 9))


if __name__ == "__main__":
    unittest.main()
