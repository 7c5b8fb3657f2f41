"""`amc stream`: this machine's changes as NDJSON, with and without a server running here."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

from tests.helpers import AMC, IsolatedTestCase, ServerTestCase
from tests.sse import SSEClient, session_event

from amc_server import store


class StreamProcess:
    def __init__(self, env, *args):
        self.proc = subprocess.Popen([sys.executable, AMC, "stream", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: "queue.Queue[dict]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(json.loads(raw))

    def until(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            event = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if pred(event):
                return event

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


def prompt(sid, text="hi"):
    return {"session_id": sid, "hook_event_name": "UserPromptSubmit", "prompt": text}


class SseParser(unittest.TestCase):
    def test_events_comments_and_data_lines_as_the_server_writes_them(self):
        from amc_server import sse
        p = sse.Parser()
        lines = ["retry: 2000", "", ": keep-alive", "", "id: e1-5", "event: session",
                 'data: {"a":', "data: 1}", "", "event: empty", "", "data:no-space\r\n", "\n"]
        got = [e for e in (p.feed(line) for line in lines) if e is not None]
        self.assertEqual(got, [("session", "e1-5", '{"a":\n1}'), ("message", "", "no-space")])


class WithoutServer(IsolatedTestCase):
    def test_runs_the_core_itself_with_snapshot_events_and_heartbeats(self):
        self.run_hook(prompt("before"))
        s = StreamProcess(self.env)
        self.addCleanup(s.close)
        snap = s.until(lambda e: True)
        self.assertEqual(snap["event"], "snapshot")
        self.assertEqual([x["session_id"] for x in snap["data"]["sessions"]], ["before"])
        self.run_hook(prompt("after", "new one"))
        event = s.until(lambda e: e["event"] == "session")
        self.assertEqual((event["data"]["session_id"], event["data"]["last_message_preview"]),
                         ("after", "new one"))
        self.assertGreater(int(event["id"].rsplit("-", 1)[1]), int(snap["id"].rsplit("-", 1)[1]))
        beat = s.until(lambda e: e["event"] == "heartbeat", timeout=8)
        self.assertEqual(beat["id"], event["id"])  # the last id seen, to resume from

    def test_exits_when_its_stdout_is_closed(self):
        proc = subprocess.Popen([sys.executable, AMC, "stream"], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        proc.stdout.readline()  # the snapshot
        proc.stdout.close()
        self.assertEqual(proc.wait(10), 0)


class WithServer(ServerTestCase):
    def setUp(self):
        super().setUp()
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())

    def test_follows_the_server_with_its_ids_and_resumes_with_since(self):
        page = SSEClient(self.port)
        self.addCleanup(page.close)
        page.next(5)
        s = StreamProcess(self.env)
        self.addCleanup(s.close)
        snap = s.until(lambda e: True)
        self.assertEqual(snap["event"], "snapshot")
        self.assertEqual(snap["id"].rsplit("-", 1)[0], self.server.core.log.epoch)
        self.run_hook(prompt("one"))
        mine = s.until(lambda e: e["event"] == "session")
        theirs = page.until(session_event("one"))
        self.assertEqual(mine["id"], theirs["id"])  # the same events, the same ids
        self.assertEqual(mine["data"], theirs["data"])
        s.close()
        self.run_hook(prompt("two"))
        self.run_hook(prompt("three"))
        self.get_json("/api/state")
        again = StreamProcess(self.env, "--since", mine["id"])
        self.addCleanup(again.close)
        got = [again.until(lambda e: e["event"] != "heartbeat") for _ in range(2)]
        self.assertEqual([(e["event"], e["data"]["session_id"]) for e in got],
                         [("session", "two"), ("session", "three")])
