"""GET /api/stream and GET /api/state against a real server and the real hook: what a page sees.

Every change here is made the way the agents make it (bin/amc-hook processes, files written into
Claude's and Codex's directories), and every assertion is on the bytes a client receives.
"""
import concurrent.futures
import json
import os
import re
import socket
import time
import unittest

from tests.support.builders import prompt_payload
from tests.support.helpers import FIXTURES, ServerTestCase
from tests.support.sse import SSEClient, session_event

from amc_server import jsonl
from amc_server.http import server as server_module
from amc_server import store
from amc_server.core import doorbell, events as events_module
from amc_server.http.server import make_server

ID = re.compile(r"^[0-9a-z]+-\d+$")


class StreamTestCase(ServerTestCase):
    def stream(self, path="/api/stream", headers=None, **kw):
        client = SSEClient(self.port, path, headers, **kw)
        self.addCleanup(client.close)
        return client

    def snapshot(self, client):
        event = client.next(5)
        self.assertIsNotNone(event, "no snapshot")
        self.assertEqual(event["event"], "snapshot")
        return event


class Events(StreamTestCase):
    def test_snapshot_first_with_retry_and_an_epoch_seq_id(self):
        self.run_hook(prompt_payload("s-1"))
        client = self.stream()
        snap = self.snapshot(client)
        self.assertEqual(client.status, 200)
        self.assertTrue(client.headers["content-type"].startswith("text/event-stream"))
        self.assertEqual(client.retry, 2000)
        self.assertRegex(snap["id"], ID)
        self.assertEqual([s["session_id"] for s in snap["data"]["sessions"]], ["s-1"])
        state = self.get_json("/api/state")
        self.assertEqual(snap["data"]["sessions"], state["sessions"])
        self.assertEqual(set(snap["data"]), {"sessions", "server_time", "setup", "machines"})

    def test_a_hook_event_arrives_as_the_full_changed_session(self):
        client = self.stream()
        first = self.snapshot(client)
        self.run_hook(prompt_payload("s-2", "make it faster"))
        event = client.until(session_event("s-2"))
        self.assertEqual(event["data"]["status"], "active")
        self.assertEqual(event["data"]["last_message_preview"], "make it faster")
        self.assertEqual(event["data"], self.get_json("/api/state")["sessions"][0])
        epoch, seq = first["id"].rsplit("-", 1)
        self.assertEqual(event["id"].rsplit("-", 1)[0], epoch)
        self.assertGreater(int(event["id"].rsplit("-", 1)[1]), int(seq))

    def test_session_end_is_a_removed_event(self):
        self.run_hook(prompt_payload("s-3"))
        client = self.stream()
        self.snapshot(client)
        self.run_hook({"session_id": "s-3", "hook_event_name": "SessionEnd"})
        event = client.until(lambda e: e["event"] == "removed")
        self.assertEqual(event["data"], {"session_id": "s-3"})
        self.assertEqual(self.get_json("/api/state")["sessions"], [])

    def test_reconnect_with_last_event_id_replays_exactly_what_was_missed(self):
        client = self.stream()
        snap = self.snapshot(client)
        self.run_hook(prompt_payload("r-1"))
        seen = client.until(session_event("r-1"))
        client.close()
        for i in range(3):
            self.run_hook(prompt_payload("r-%d" % (i + 2)))
        self.run_hook(prompt_payload("r-1", "again"))
        self.get_json("/api/state")  # the core caught up
        again = self.stream(headers={"Last-Event-ID": seen["id"]})
        missed = again.quiet(1.0)
        self.assertNotIn("snapshot", [e["event"] for e in missed])
        got = [(e["event"], e["data"]["session_id"]) for e in missed]
        self.assertEqual(got, [("session", "r-2"), ("session", "r-3"), ("session", "r-4"),
                               ("session", "r-1")])
        seqs = [int(e["id"].rsplit("-", 1)[1]) for e in missed]
        self.assertEqual(seqs, sorted(set(seqs)))  # strictly increasing, no duplicates
        # no gap: every event after `seen` that a stream following nothing gets (the ring also
        # holds `activity` events, for followers of *activity only)
        ring = self.server.core.log.since(int(seen["id"].rsplit("-", 1)[1]))
        self.assertEqual(seqs, [e.seq for e in ring if not e.session_id])
        self.assertEqual(missed[-1]["data"]["last_message_preview"], "again")
        del snap

    def test_last_event_id_in_the_query_works_like_the_header(self):
        client = self.stream()
        snap = self.snapshot(client)
        client.close()
        self.run_hook(prompt_payload("q-1"))
        self.get_json("/api/state")
        again = self.stream("/api/stream?last_event_id=" + snap["id"])
        self.assertEqual(again.next(3)["event"], "session")

    def test_another_epoch_or_an_unknown_id_gets_a_fresh_snapshot(self):
        self.run_hook(prompt_payload("e-1"))
        for last in ("zz0-3", "garbage", "%s-999999" % self.server.core.log.epoch):
            client = self.stream(headers={"Last-Event-ID": last})
            snap = self.snapshot(client)
            self.assertEqual([s["session_id"] for s in snap["data"]["sessions"]], ["e-1"])
            client.close()

    def test_too_far_behind_gets_a_snapshot_then_live_events(self):
        client = self.stream()
        snap = self.snapshot(client)
        client.close()
        log = self.server.core.log
        for _ in range(events_module.RING_SIZE + 5):
            log.publish("setup", json.dumps(self.server.core.setup()))
        again = self.stream(headers={"Last-Event-ID": snap["id"]})
        self.assertEqual(again.next(3)["event"], "snapshot")
        self.run_hook(prompt_payload("late"))
        again.until(session_event("late"))

    def test_keep_alive_comment_when_nothing_happens(self):
        old = server_module.KEEPALIVE_S
        server_module.KEEPALIVE_S = 0.2
        self.addCleanup(setattr, server_module, "KEEPALIVE_S", old)
        client = self.stream()
        self.snapshot(client)
        client.quiet(0.7)
        self.assertIn("keep-alive", client.comments)

    def test_follow_filter_sends_messages_only_to_followers(self):
        sid = "f0110w00-aaaa-bbbb-cccc-000000000001"
        path = self.install_transcript(sid)
        self.run_hook(prompt_payload(sid, cwd="/w/api", transcript_path=path))
        follower = self.stream("/api/stream?follow=" + sid)
        other = self.stream()
        self.snapshot(follower)
        self.snapshot(other)
        follower.until(lambda e: e["event"] == "messages")  # the last messages, once
        with open(path, "a") as f:
            f.write(json.dumps({"type": "user", "uuid": "u-new", "timestamp": "2026-12-01T00:00:00Z",
                                "message": {"role": "user", "content": "a new prompt"}}) + "\n")
        event = follower.until(lambda e: e["event"] == "messages" and
                               any(m["content"] == "a new prompt" for m in e["data"]["messages"]))
        data = event["data"]
        self.assertEqual(data["session_id"], sid)
        self.assertEqual([m["content"] for m in data["messages"]], ["a new prompt"])
        conv = self.get_json("/api/conversation/%s" % sid)
        self.assertEqual(data["total"], conv["total"])
        self.assertEqual(data["messages"][0]["id"], conv["messages"][-1]["id"])
        quiet = other.quiet(0.8)
        self.assertNotIn("messages", [e["event"] for e in quiet])
        self.assertIn(sid, [e["data"]["session_id"] for e in quiet if e["event"] == "session"])

    def test_follow_rejects_bad_ids(self):
        status, body, _ = self.request("GET", "/api/stream?follow=../x")
        self.assertEqual((status, body["ok"]), (400, False))

    def install_transcript(self, sid, fixture="chat-and-prose-question"):
        src = os.path.join(FIXTURES, "claude-code-2.1.329", fixture, "transcript.jsonl")
        project = os.path.join(self.paths.claude_projects, "-w-api")
        os.makedirs(project, exist_ok=True)
        path = os.path.join(project, sid + ".jsonl")
        with open(src, "rb") as f, open(path, "wb") as out:
            out.write(f.read())
        return path


class State(StreamTestCase):
    def test_etag_and_304_until_something_changes(self):
        self.run_hook(prompt_payload("t-1"))
        status, body, headers = self.request("GET", "/api/state")
        etag = headers["ETag"]
        status, body, headers = self.request("GET", "/api/state", headers={"If-None-Match": etag})
        self.assertEqual((status, body), (304, b""))
        self.run_hook(prompt_payload("t-1", "changed"))
        status, body, headers = self.request("GET", "/api/state", headers={"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertNotEqual(headers["ETag"], etag)
        self.assertEqual(body["sessions"][0]["last_message_preview"], "changed")

    def test_a_setup_change_alone_changes_the_etag(self):
        etag = self.request("GET", "/api/state")[2]["ETag"]
        from amc_server.install import hooks as hooks_config
        hooks_config.install(self.paths)
        status, body, headers = self.request("GET", "/api/state", headers={"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertTrue(body["setup"]["claude_hooks"])

    def test_state_is_served_from_memory(self):
        self.run_hook(prompt_payload("m-1"))
        self.get_json("/api/state")
        reads = []
        original = store.read_json
        store.read_json = lambda path: reads.append(path) or original(path)
        self.addCleanup(setattr, store, "read_json", original)
        for _ in range(5):
            self.get_json("/api/state")
        self.assertEqual(reads, [])


class Clients(StreamTestCase):
    def test_a_stalled_client_is_dropped_while_others_keep_receiving(self):
        stalled = self.stream(rcvbuf=4096)
        stalled.read_headers()
        live = self.stream()
        self.snapshot(live)
        log = self.server.core.log
        big = json.dumps({"pad": "x" * 60000})
        count = events_module.QUEUE_SIZE + 200
        import threading
        received = []
        reader = threading.Thread(target=lambda: received.extend(
            live.next(10) for _ in range(count)), daemon=True)
        reader.start()  # the live client reads while the stalled one does not
        for _ in range(count):
            log.publish("setup", big)
            time.sleep(0.0005)
        reader.join(30)
        self.assertEqual(len([e for e in received if e and e["event"] == "setup"]), count)
        self.assertEqual(log.subscribers(), 1, "the stalled client was not dropped")
        self.assertGreaterEqual(log.dropped_total, 1)
        self.run_hook(prompt_payload("after-drop"))
        live.until(session_event("after-drop"), timeout=10)

    def test_half_open_connections_do_not_block_live_clients(self):
        half = []
        for _ in range(60):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            half.append(s)
        self.addCleanup(lambda: [s.close() for s in half])
        live = [self.stream() for _ in range(5)]
        for c in live:
            self.snapshot(c)
        self.run_hook(prompt_payload("through"))
        for c in live:
            c.until(session_event("through"))
        self.assertEqual(self.get_json("/api/state")["sessions"][0]["session_id"], "through")

    def test_two_hundred_clients_all_get_the_change(self):
        clients = [self.stream() for _ in range(200)]
        for c in clients:
            self.snapshot(c)
        self.run_hook(prompt_payload("for-all"))
        for c in clients:
            c.until(session_event("for-all"), timeout=10)

    def test_two_hundred_concurrent_hooks_across_twenty_sessions(self):
        client = self.stream()
        self.snapshot(client)
        jobs = [(i % 20, i) for i in range(200)]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(
                lambda j: self.run_hook(prompt_payload("c-%02d" % j[0], "p%03d" % j[1])), jobs))
        self.assertTrue(all(r.returncode == 0 for r in results))
        final = {s["session_id"]: s for s in self.get_json("/api/state")["sessions"]}
        self.assertEqual(len(final), 20)
        latest = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                latest.get(sid) != s for sid, s in final.items()):
            event = client.next(1)
            if event and event["event"] == "session":
                latest[event["data"]["session_id"]] = event["data"]
        self.assertEqual(latest, final)  # the stream's view is exactly the state's
        for sid in final:  # every hook event was recorded, in the session's own log
            self.assertEqual(len(jsonl.read_objects(self.paths.events_file(sid))), 10)


class Sources(StreamTestCase):
    def test_hooks_while_the_server_was_down_are_there_when_it_comes_up(self):
        self.server.shutdown()
        self.server.server_close()
        self.assertFalse(os.path.exists(doorbell.socket_path(self.paths.data)))
        for i in range(3):
            self.assertEqual(self.run_hook(prompt_payload("down-%d" % i)).returncode, 0)
        self.server = make_server(self.paths, "127.0.0.1", 0)
        self.start_server_thread()
        ids = [s["session_id"] for s in self.get_json("/api/state")["sessions"]]
        self.assertEqual(sorted(ids), ["down-0", "down-1", "down-2"])

    def test_a_lost_datagram_and_a_missed_watch_event_are_repaired_by_the_reconcile(self):
        core = self.server.core
        core.watcher.stop()  # no inotify events from here on
        os.unlink(doorbell.socket_path(self.paths.data))  # and no doorbell
        client = self.stream()
        self.snapshot(client)
        self.run_hook(prompt_payload("repaired"))
        started = time.monotonic()
        client.until(session_event("repaired"), timeout=6)
        self.assertLess(time.monotonic() - started, 4.5)  # within a reconcile or two

    def test_stat_watcher_alone_still_sees_every_source(self):
        self.server.shutdown()
        self.server.server_close()
        self.server = make_server(self.paths, "127.0.0.1", 0, force_stat=True)
        self.start_server_thread()
        self.assertEqual(self.server.core.watcher.kind, "stat")
        client = self.stream()
        self.snapshot(client)
        self.run_hook(prompt_payload("stat-1"))
        client.until(session_event("stat-1"))
        # no doorbell for Claude's own registry: only the watcher can see it
        from tests.test_state import registry_entry
        store.ensure_dir(self.paths.claude_sessions)
        store.write_json_atomic(os.path.join(self.paths.claude_sessions, "%d.json" % os.getpid()),
                                registry_entry(os.getpid(), "reg-stat", "busy"))
        client.until(session_event("reg-stat", status="active"), timeout=6)

    def start_server_thread(self):
        import threading
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]


if __name__ == "__main__":
    unittest.main()
