"""`amc stream`: this machine's changes as NDJSON, with and without a server running here."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

from tests.support.builders import prompt_payload
from tests.support.helpers import AMC, IsolatedTestCase, ServerTestCase
from tests.support.sse import SSEClient, session_event

from amc_server import store


class StreamProcess:
    def __init__(self, env, *args):
        self.proc = subprocess.Popen([sys.executable, AMC, "stream", *args], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines: "queue.Queue[dict]" = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(json.loads(raw))

    def until(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            event = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            self.seen.append(event)
            if pred(event):
                return event

    def events_so_far(self):
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return list(self.seen)

    def follow(self, *ids):
        """Tell the stream on its stdin which conversations to follow (as the hub does)."""
        self.proc.stdin.write(json.dumps({"follow": list(ids)}).encode() + b"\n")
        self.proc.stdin.flush()

    def close(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


def user_line(text, n):
    return json.dumps({"type": "user", "uuid": "00000000-0000-4000-8000-%012d" % n,
                       "parentUuid": None, "timestamp": "2026-12-01T10:00:%02d.000Z" % n,
                       "message": {"role": "user", "content": text}}) + "\n"


class FollowOnStdin:
    """The follow set on stdin: `messages` events for those sessions, and only for them."""

    def transcript(self, sid):
        folder = os.path.join(self.paths.claude_projects, "-tmp-proj")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, sid + ".jsonl")
        with open(path, "w") as f:
            f.write(user_line("first", 1))
        self.run_hook(prompt_payload(sid, "first", cwd="/tmp/proj", transcript_path=path))
        return path

    def test_the_follow_set_on_stdin_streams_those_conversations(self):
        path = self.transcript("followed")
        other = self.transcript("not-followed")
        s = StreamProcess(self.env)
        self.addCleanup(s.close)
        s.until(lambda e: e["event"] == "snapshot")
        s.follow("followed", "../bad id")
        time.sleep(1.0)
        for p, text in ((other, "elsewhere"), (path, "appended")):
            with open(p, "a") as f:
                f.write(user_line(text, 2))
        got = s.until(lambda e: e["event"] == "messages" and "appended" in json.dumps(e), 10)
        self.assertEqual(got["data"]["session_id"], "followed")
        s.follow()  # nothing followed any more
        time.sleep(1.0)
        with open(path, "a") as f:
            f.write(user_line("after unfollow", 3))
        self.run_hook(prompt_payload("marker"))
        s.until(lambda e: e["event"] == "session" and e["data"]["session_id"] == "marker", 10)
        seen = [json.dumps(e) for e in s.events_so_far()]
        self.assertFalse(any("elsewhere" in e or "after unfollow" in e for e in seen))


class SseParser(unittest.TestCase):
    def test_events_comments_and_data_lines_as_the_server_writes_them(self):
        from amc_server import sse
        p = sse.Parser()
        lines = ["retry: 2000", "", ": keep-alive", "", "id: e1-5", "event: session",
                 'data: {"a":', "data: 1}", "", "event: empty", "", "data:no-space\r\n", "\n"]
        got = [e for e in (p.feed(line) for line in lines) if e is not None]
        self.assertEqual(got, [("session", "e1-5", '{"a":\n1}'), ("message", "", "no-space")])


class WithoutServer(FollowOnStdin, IsolatedTestCase):
    def test_runs_the_core_itself_with_snapshot_events_and_heartbeats(self):
        self.run_hook(prompt_payload("before"))
        s = StreamProcess(self.env)
        self.addCleanup(s.close)
        snap = s.until(lambda e: True)
        self.assertEqual(snap["event"], "snapshot")
        self.assertEqual([x["session_id"] for x in snap["data"]["sessions"]], ["before"])
        self.run_hook(prompt_payload("after", "new one"))
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


class WithServer(FollowOnStdin, ServerTestCase):
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
        self.run_hook(prompt_payload("one"))
        mine = s.until(lambda e: e["event"] == "session")
        theirs = page.until(session_event("one"))
        self.assertEqual(mine["id"], theirs["id"])  # the same events, the same ids
        self.assertEqual(mine["data"], theirs["data"])
        s.close()
        self.run_hook(prompt_payload("two"))
        self.run_hook(prompt_payload("three"))
        self.get_json("/api/state")
        again = StreamProcess(self.env, "--since", mine["id"])
        self.addCleanup(again.close)
        got = [again.until(lambda e: e["event"] != "heartbeat") for _ in range(2)]
        self.assertEqual([(e["event"], e["data"]["session_id"]) for e in got],
                         [("session", "two"), ("session", "three")])
