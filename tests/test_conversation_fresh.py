"""A conversation is never older than its card (issue 18): a request answers with everything the
transcript holds when it arrives, even when the hook and the request come in the same millisecond
as the append; and an open panel (a follower) catches up by itself when the file grows later,
with no hook at all. Real server, real files, a real SSE client; no CLI (test_e2e_claude.py has
the prompt -> question sequence with the real one)."""
import os
import threading
import time

from amc_server.hook import record as hook
from amc_server.http.server import make_server
from tests.support.builders import claude_assistant, claude_user, jsonl, prompt_payload
from tests.support.helpers import ServerTestCase
from tests.support.sse import SSEClient

SID = "fe5b0000-1111-2222-3333-444444444444"
ROUNDS = 200


class Fresh(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        project = os.path.join(self.paths.claude_projects, "-w-fresh")
        os.makedirs(project)
        self.path = os.path.join(project, SID + ".jsonl")
        with open(self.path, "wb") as f:
            f.write(jsonl(claude_user("hello", 0), claude_assistant("Which one?", n=1)))
        self.run_hook(prompt_payload(SID, "hello", cwd="/w/fresh", transcript_path=self.path))
        # The CLI keeps its transcript open and appends (IN_MODIFY, no close in between).
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.addCleanup(os.close, self.fd)

    def follow(self):
        client = SSEClient(self.port, "/api/stream?follow=" + SID)
        self.addCleanup(client.close)
        self.assertEqual(client.next(5)["event"], "snapshot")
        client.until(lambda e: e["event"] == "messages")  # the tail, once, on follow
        return client

    def texts(self, messages):
        return [m.get("content") for m in messages]

    def test_a_request_with_the_hook_sees_every_appended_line(self):
        follower = self.follow()  # its worker refreshes the same reader while we request
        cached = self.get_json("/api/conversation/%s" % SID)  # a warm reader, offset at the end
        self.assertEqual(self.texts(cached["messages"]), ["hello", "Which one?"])
        env = dict(self.env)
        failures = []
        for n in range(ROUNDS):
            said, asked = "prompt %d" % n, "question %d?" % n
            # the prompt, a request, then the question at once: most often in the same clock
            # tick as that request's read (same mtime, a bigger size)
            os.write(self.fd, jsonl(claude_user(said, 2 * n + 2)))
            got = self.texts(self.get_json("/api/conversation/%s?limit=2" % SID)["messages"])
            if got[-1:] != [said]:
                failures.append((n, got))
            os.write(self.fd, jsonl(claude_assistant(asked, n=2 * n + 3)))
            go = threading.Barrier(2)
            payload = {"session_id": SID, "hook_event_name": "Stop", "cwd": "/w/fresh",
                       "transcript_path": self.path, "last_assistant_message": asked}
            fired = threading.Thread(target=lambda: (go.wait(), hook.record(payload, env)))
            fired.start()
            go.wait()  # the hook and the request leave together
            query = "?limit=4" if n % 2 else ""  # a tail and the whole conversation
            got = self.texts(self.get_json("/api/conversation/%s%s" % (SID, query))["messages"])
            fired.join()
            if got[-2:] != [said, asked]:
                failures.append((n, got[-4:]))
        self.assertEqual(failures, [])
        whole = self.get_json("/api/conversation/%s" % SID)
        self.assertEqual(whole["total"], 2 + 2 * ROUNDS)
        # and the follower saw the last line too
        self.assertTrue(follower.until(lambda e: e["event"] == "messages" and any(
            m.get("content") == "question %d?" % (ROUNDS - 1) for m in e["data"]["messages"]), 5))

    def test_an_open_follower_gets_a_line_appended_later_with_no_hook(self):
        for round_ in range(3):
            follower = self.follow()
            time.sleep(0.3)  # the panel is open and quiet; the CLI writes a while after the hook
            said = "written late %d" % round_
            os.write(self.fd, jsonl(claude_user(said, 100 + round_)))
            event = follower.until(lambda e: e["event"] == "messages" and said in self.texts(
                e["data"]["messages"]), 5)
            self.assertEqual(event["data"]["session_id"], SID)
            follower.close()

    def test_an_open_follower_catches_up_with_the_stat_watcher_too(self):
        # where there is no inotify (macOS, AMC_WATCHER=stat) the scan sees the file grow
        self.server.shutdown()
        self.server.server_close()
        self.server = make_server(self.paths, "127.0.0.1", 0, force_stat=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]
        self.assertEqual(self.server.core.watcher.kind, "stat")
        follower = self.follow()
        time.sleep(0.3)
        os.write(self.fd, jsonl(claude_user("seen by a scan", 150)))
        started = time.monotonic()
        follower.until(lambda e: e["event"] == "messages" and "seen by a scan" in self.texts(
            e["data"]["messages"]), 5)
        self.assertLess(time.monotonic() - started, 3.0)  # a scan or two, no hook, no reconcile

    def test_a_line_torn_across_two_writes_is_answered_whole_once_it_ends(self):
        follower = self.follow()
        data = jsonl(claude_user("torn in two", 200))
        os.write(self.fd, data[:20])
        first = self.texts(self.get_json("/api/conversation/%s" % SID)["messages"])
        self.assertNotIn("torn in two", first)
        os.write(self.fd, data[20:])
        self.assertEqual(self.texts(self.get_json("/api/conversation/%s?limit=1" % SID)[
            "messages"]), ["torn in two"])
        follower.until(lambda e: e["event"] == "messages" and "torn in two" in self.texts(
            e["data"]["messages"]), 5)


if __name__ == "__main__":
    import unittest
    unittest.main()
