"""Several machines over a real OpenSSH server: a hub, two remote machines, real hook events.

Each remote machine is a local user of its own (its own HOME, data dir and cache dir) reached by
the hub (`bin/amc serve` as the client user) through a private `sshd` with test keys
(tests/support/remote_world.py). Nothing is installed on the remotes: the hub ships its zipapp
itself.
"""
import hashlib
import json
import os
import shlex
import time
import unittest

from amc_server.remote import ship, zipapp
from tests.support.builders import prompt_payload
from tests.support.remote_world import ROLES, start_world
from tests.support.sse import SSEClient

SID1 = "0b7c5c1e-1111-4a4a-9c9c-000000000001"
SID2 = "0b7c5c1e-2222-4a4a-9c9c-000000000002"


class TwoMachines(unittest.TestCase):
    """One world for the class: m1 and m2 with sessions, the hub following both."""

    @classmethod
    def setUpClass(cls):
        cls.w = start_world(cls.addClassCleanup)
        cls.path1 = cls.w.feed("m1", "bash-tool", SID1, upto=5)
        cls.w.feed("m2", "chat-and-prose-question", SID2, upto=5, project="beta-proj")
        cls.w.wait(lambda: {"m1:" + SID1, "m2:" + SID2} <= set(cls.w.sessions()), 30,
                   "both machines' sessions at the hub")

    def test_the_hub_shows_both_machines_sessions_addressed_by_machine(self):
        sessions = self.w.sessions()
        one, two = sessions["m1:" + SID1], sessions["m2:" + SID2]
        self.assertEqual((one["machine"], one["status"], one["project"]),
                         ("m1", "done", "demo-proj"))
        self.assertEqual((two["machine"], two["status"], two["project"]),
                         ("m2", "needs_attention", "beta-proj"))
        self.assertFalse(one["stale"])
        machines = self.w.machines()
        self.assertEqual({n: m["state"] for n, m in machines.items()},
                         {"m1": "online", "m2": "online"})
        self.assertEqual(machines["m1"]["error"], "")
        self.assertTrue(all(s["machine"] in ("m1", "m2", "") for s in sessions.values()))

    def test_the_zipapp_is_sent_once_and_reused(self):
        name, _ = zipapp.current()
        for machine in ("m1", "m2"):
            cache = self.w.cache_dir(machine)
            self.assertEqual(sorted(n for n in os.listdir(cache) if n.endswith(".pyz")),
                             sorted([name, ship.STABLE]))
            self.assertEqual(os.readlink(os.path.join(cache, ship.STABLE)), name)
        before = os.stat(os.path.join(self.w.cache_dir("m1"), name)).st_mtime_ns
        sent = self.w.hub_log(0).count("sent " + name)
        self.w.stop_hub()
        self.w.start_hub()
        self.w.wait(lambda: self.w.machines()["m1"]["state"] == "online", 20, "m1 again")
        self.w.request("GET", "/api/events/m1:" + SID1)
        self.assertEqual(self.w.hub_log(0).count("sent " + name), sent)  # nothing sent again
        self.assertEqual(os.stat(os.path.join(self.w.cache_dir("m1"), name)).st_mtime_ns,
                         before)

    def test_events_and_conversation_come_from_the_sessions_machine(self):
        status, events = self.w.request("GET", "/api/events/m1:" + SID1)
        self.assertEqual(status, 200, events)
        self.assertEqual(events["session_id"], "m1:" + SID1)
        self.assertEqual([e["event"] for e in events["events"]][:2],
                         ["SessionStart", "UserPromptSubmit"])
        status, conv = self.w.request("GET", "/api/conversation/m1:" + SID1)
        self.assertEqual(status, 200, conv)
        self.assertEqual(conv["session_id"], "m1:" + SID1)
        self.assertTrue(any(m.get("role") == "user" for m in conv["messages"]))
        # the same answer the machine itself gives for its own id
        with open(self.path1) as f:
            self.assertGreater(len(f.read()), 0)
        status, missing = self.w.request("GET", "/api/conversation/m1:no-such-session")
        self.assertEqual(status, 404, missing)
        self.assertFalse(missing["ok"])

    def test_an_answer_goes_to_the_right_machine_and_errors_keep_their_words(self):
        status, answer = self.w.request("POST", "/api/respond/m2:" + SID2, {"text": "yes"})
        # m2's session has no pane on m2: its own words come back, from m2 (not the hub's 404)
        self.assertNotEqual(status, 200, answer)
        self.assertFalse(answer["ok"])
        self.assertNotIn("no live session", answer["error"])
        status, answer = self.w.request("POST", "/api/respond/m1:nobody", {"text": "yes"})
        self.assertEqual((status, answer["error"]), (404, "no live session nobody"))
        status, answer = self.w.request("POST", "/api/respond/m9:x", {"text": "yes"})
        self.assertEqual(status, 404, answer)  # not a machine: an unknown local session

    def test_dismiss_on_the_machine_removes_the_card_at_the_hub(self):
        sid = "0b7c5c1e-3333-4a4a-9c9c-000000000003"
        self.w.hook("m1", prompt_payload(sid))
        self.w.wait(lambda: "m1:" + sid in self.w.sessions(), 20, "the new session")
        status, answer = self.w.request("POST", "/api/dismiss/m1:" + sid)
        self.assertEqual((status, answer), (200, {"ok": True}))
        self.w.wait(lambda: "m1:" + sid not in self.w.sessions(), 10, "the card gone")
        with open(os.path.join(self.w.data_dir("m1"), "dismissed.json")) as f:
            self.assertIn(sid, json.dumps(json.load(f)))

    def test_a_followed_remote_conversation_streams_its_new_messages(self):
        sse = SSEClient(self.w.port, "/api/stream?follow=m1:" + SID1)
        self.addCleanup(sse.close)
        sse.until(lambda e: e["event"] == "snapshot", 10)
        time.sleep(1.0)  # the follow reaches m1's stream
        line = {"type": "user", "uuid": "f0000000-0000-4000-8000-00000000abcd",
                "parentUuid": None, "sessionId": SID1, "timestamp": "2026-12-01T10:00:00.000Z",
                "message": {"role": "user", "content": "appended on m1"}}
        with open(self.path1, "a") as f:
            f.write(json.dumps(line) + "\n")
        event = sse.until(lambda e: e["event"] == "messages" and
                          "appended on m1" in json.dumps(e["data"]), 15)
        self.assertEqual(event["data"]["session_id"], "m1:" + SID1)
        self.assertIn("appended on m1", json.dumps(event["data"]))

    def test_local_only_endpoints_refuse_remote_ids(self):
        status, answer = self.w.request("POST", "/api/channel/m1:%s/ack" % SID1,
                                        {"delivery_id": "x"})
        self.assertEqual(status, 400, answer)
        self.assertIn("only for this machine's sessions", answer["error"])

    def test_starting_a_session_on_a_machine_answers_from_that_machine(self):
        status, answer = self.w.request("POST", "/api/sessions", {
            "agent": "claude", "project_dir": "/nonexistent/dir", "machine": "m2"})
        self.assertGreaterEqual(status, 400, answer)
        self.assertIn("/nonexistent/dir", answer["error"])
        status, answer = self.w.request("POST", "/api/sessions", {
            "agent": "claude", "project_dir": "/tmp", "machine": "nope"})
        self.assertEqual(status, 404, answer)
        self.assertIn("no machine named nope", answer["error"])


class InstallHooks(unittest.TestCase):
    def test_remote_hooks_run_the_cached_zipapp_and_survive_an_update(self):
        w = start_world(self.addCleanup)
        done = w.ssh.run_amc("remote", "add", "m1", "--install-hooks", "--codex")
        self.assertEqual(done.returncode, 0, done.stderr)
        stable = os.path.join(w.cache_dir("m1"), ship.STABLE)
        with open(os.path.join(w.home("remote"), ".claude", "settings.json")) as f:
            settings = json.load(f)
        commands = {h["command"] for groups in settings["hooks"].values() for g in groups
                    for h in g["hooks"]}
        self.assertEqual(commands, {"python3 -S %s hook" % stable})
        with open(os.path.join(w.home("remote"), ".codex", "hooks.json")) as f:
            self.assertIn("%s hook" % stable, f.read())
        with open(os.path.join(w.home("remote"), ".codex", "config.toml")) as f:
            self.assertIn(stable, f.read())

        def agent_event(sid):  # what Claude Code on m1 runs for each event now
            done = w.run_as("remote", shlex.split("python3 -S %s hook" % stable),
                            json.dumps(prompt_payload(sid)).encode())
            self.assertEqual(done.returncode, 0, done.stderr)
            w.wait(lambda: "m1:" + sid in w.sessions(), 20, "the hook's session at the hub")
        agent_event("hooked-1")
        # an update: another build of AMC sent the same way replaces amc.pyz; hooks keep working
        files = zipapp.sources() + [("amc_server/_update_marker.py", b"# a newer AMC\n")]
        name, data = zipapp.name(files), zipapp.archive(files)
        argv = ["python3", "-c", ship.INSTALL, name, hashlib.sha256(data).hexdigest()]
        done = w.run_as("remote", argv, data)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(os.readlink(stable), name)
        agent_event("hooked-2")
        old, _ = zipapp.current()
        self.assertTrue(os.path.exists(os.path.join(w.cache_dir("m1"), old)))  # kept (KEEP)
        bad = w.run_as("remote", argv[:-1] + ["0" * 64], data)
        self.assertEqual(bad.returncode, 4)  # bytes that do not match are never stored
        self.assertIn("amc-bad-upload", bad.stdout.decode())


class Liveness(unittest.TestCase):
    def test_sshd_killed_offline_within_10s_then_resumed_with_nothing_lost_or_twice(self):
        w = start_world(self.addCleanup)
        w.hook("m1", prompt_payload(SID1, "before"))
        w.hook("m2", prompt_payload(SID2, "before"))
        w.wait(lambda: {"m1:" + SID1, "m2:" + SID2} <= set(w.sessions()), 30, "sessions")
        sse = SSEClient(w.port)
        self.addCleanup(sse.close)
        sse.until(lambda e: e["event"] == "snapshot", 10)
        killed = time.monotonic()
        w.ssh.kill_sshd()
        offline = sse.until(lambda e: e["event"] == "machine" and all(
            m["state"] == "offline" for m in e["data"]["machines"]), 12)
        took = time.monotonic() - killed
        self.assertLessEqual(took, 10.5, "offline after %.1f s" % took)
        for m in offline["data"]["machines"]:
            self.assertTrue(m["last_seen"])
            self.assertTrue(m["error"])
        stale = w.sessions()["m1:" + SID1]
        self.assertTrue(stale["stale"])
        self.assertTrue(stale["last_seen"])
        # while m1 is down its agents go on: a new session and a change
        new = "0b7c5c1e-4444-4a4a-9c9c-000000000004"
        w.hook("m1", prompt_payload(new, "during the outage"))
        w.hook("m1", {"session_id": SID1, "hook_event_name": "Stop", "cwd": "/tmp"})
        mark = len(sse.events)
        w.ssh.start_sshd()
        w.wait(lambda: all(m["state"] == "online" for m in w.machines().values()), 40,
               "both online again (backoff at most 30 s)")
        sse.until(lambda e: new in json.dumps(e["data"]), 10)
        while sse.next(1.5) is not None:  # what else the resume sends
            pass
        sessions = w.sessions()
        self.assertEqual(sessions["m1:" + new]["last_message_preview"], "during the outage")
        self.assertEqual(sessions["m1:" + SID1]["status"], "done")
        self.assertFalse(any(s["stale"] for s in sessions.values() if s["machine"]))
        after = [e for e in sse.events[mark:] if e["event"] in ("session", "removed")]
        ids = [e["data"]["session_id"] for e in after]
        # each session sent once more (stale -> fresh, with what changed), none removed
        self.assertEqual(sorted(ids), sorted(["m1:" + SID1, "m1:" + new, "m2:" + SID2]))
        self.assertEqual([e for e in after if e["event"] == "removed"], [])

    def test_a_changed_host_key_is_refused_in_words(self):
        w = start_world(self.addCleanup)
        w.wait(lambda: w.machines()["m1"]["state"] == "online", 20, "m1 online")
        known = os.path.join(w.home("client"), ".ssh", "known_hosts")
        with open(known) as f:
            good = f.read()
        other = os.path.join(w.ssh.tmp, "other_key")
        os.system("ssh-keygen -q -t ed25519 -N '' -f %s" % other)
        with open(other + ".pub") as f:
            fake = " ".join(f.read().split()[:2])
        with open(known, "w") as f:
            f.write(good.split(" ")[0] + " " + fake + "\n")
        w.ssh.kill_sshd()
        w.ssh.start_sshd()
        m = w.wait(lambda: (lambda m: m if "CHANGED" in m["error"] else None)(
            w.machines()["m1"]), 40, lambda: "the changed key reported: %s" % w.machines())
        self.assertNotEqual(m["state"], "online")
        self.assertIn("ssh-keygen -R", m["error"])


HOSTILE = r'''
import json, sys
def out(obj):
    sys.stdout.write(obj if isinstance(obj, str) else json.dumps(obj))
    sys.stdout.write("\n"); sys.stdout.flush()
good = {"session_id": "good-one", "status": "active", "started_at": "2026-12-01T10:00:00Z",
        "project": "p", "agent": "claude"}
out("this is not json")
out({"no": "event"})
out("\x00\xff garbage \x1b[31m")
out("x" * (50 << 20))
out({"id": "e1-1", "event": "snapshot", "data": {"sessions": [
    good,
    dict(good, session_id="m2:" + "stolen"),
    dict(good, session_id="../../etc"),
    "not a session",
    dict(good, session_id="huge", project="y" * (2 << 20))],
    "server_time": "2026-12-01T10:00:00Z", "setup": {}}})
out({"id": "e1-2", "event": "session", "data": dict(good, session_id="", status=3)})
out({"id": "$(touch /tmp/amc-pwned)", "event": "heartbeat", "data": {}})
import time
while True:
    out({"id": "e1-3", "event": "heartbeat", "data": {"time": "2026-12-01T10:00:00Z"}})
    time.sleep(2)
'''


class HostileRemote(unittest.TestCase):
    def test_garbage_a_stolen_id_and_a_50_mb_line_are_rejected_without_harm(self):
        w = start_world(self.addCleanup)
        w.wait(lambda: w.machines()["m1"]["state"] == "online", 20, "m1 online")
        name, _ = zipapp.current()
        w.stop_hub()
        with open(os.path.join(w.cache_dir("m1"), name), "w") as f:  # m1 now runs this
            f.write(HOSTILE)
        w.start_hub()
        w.wait(lambda: "m1:good-one" in w.sessions(), 30, "the good session")
        sessions = w.sessions()
        m1 = [s for s in sessions if s.startswith("m1:")]
        self.assertEqual(m1, ["m1:good-one"])
        self.assertNotIn("m2:stolen", sessions)
        self.assertEqual(w.machines()["m1"]["state"], "online")
        self.assertEqual(w.machines()["m2"]["state"], "online")
        self.assertFalse(os.path.exists("/tmp/amc-pwned"))
        log = w.hub_log(0)
        self.assertIn("a line over 32 MB", log)
        self.assertIn("a session id that is not its own: 'm2:stolen'", log)


SILENT = r'''
import json, sys, time
if "request" in sys.argv:
    sys.stdin.read()
    time.sleep(120)  # a machine that takes the call and never answers
    sys.exit(0)
good = {"session_id": "slow-one", "status": "active", "started_at": "2026-12-01T10:00:00Z"}
print(json.dumps({"id": "e2-1", "event": "snapshot", "data": {"sessions": [good],
      "server_time": "2026-12-01T10:00:00Z", "setup": {}}}), flush=True)
while True:
    print(json.dumps({"id": "e2-1", "event": "heartbeat", "data": {}}), flush=True)
    time.sleep(2)
'''


class SilentRemote(unittest.TestCase):
    def test_a_call_without_an_answer_is_504_in_words_and_the_hub_goes_on(self):
        w = start_world(self.addCleanup)
        w.wait(lambda: w.machines()["m1"]["state"] == "online", 20, "m1 online")
        name, _ = zipapp.current()
        w.stop_hub()
        with open(os.path.join(w.cache_dir("m1"), name), "w") as f:
            f.write(SILENT)
        w.start_hub()
        w.wait(lambda: "m1:slow-one" in w.sessions(), 30, "m1's session")
        started = time.monotonic()
        status, answer = w.request("GET", "/api/events/m1:slow-one")
        took = time.monotonic() - started
        self.assertEqual(status, 504, answer)
        self.assertEqual(answer["error"], "machine m1 unreachable: no answer within 30 s")
        self.assertLess(took, 35)
        self.assertEqual(w.machines()["m1"]["state"], "online")  # its stream is fine
        self.assertEqual(w.request("GET", "/api/events/m2:none")[0], 404)  # m2 still answers


if __name__ == "__main__":
    unittest.main()
