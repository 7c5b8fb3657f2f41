"""One tail per live transcript (amc_server/core/tails.py): an appended line is decoded once, for
every consumer of the file, on a real server with real files.

The live session is a hook session whose Claude Code transcript is followed by a stream client
(the conversation), counted on its card (usage) and indexed (search). Every JSON decode in the
server goes through `store.loads`, whose decoder is swapped for one that counts the lines that
hold this test's marker.
"""
import json
import os
import time
import uuid

from tests.support.helpers import ServerTestCase
from tests.support.sse import SSEClient

from amc_server import store
from amc_server.core import tails as tails_module

MARKER = "zebraquokka"


def user(sid: str, text: str) -> dict:
    return {"parentUuid": None, "isSidechain": False, "type": "user", "uuid": str(uuid.uuid4()),
            "message": {"role": "user", "content": text}, "timestamp": "2026-12-08T10:00:00.000Z",
            "cwd": "/home/dev/work/demo-proj", "sessionId": sid, "version": "2.1.337"}


def assistant(sid: str, text: str, out: int) -> dict:
    return {"parentUuid": None, "isSidechain": False, "type": "assistant",
            "uuid": str(uuid.uuid4()), "timestamp": "2026-12-08T10:00:01.000Z",
            "message": {"id": "msg_%s" % uuid.uuid4().hex[:20], "type": "message",
                        "role": "assistant", "model": "claude-opus-5-5",
                        "content": [{"type": "text", "text": text}],
                        "usage": {"input_tokens": 10, "output_tokens": out,
                                  "cache_read_input_tokens": 0,
                                  "cache_creation_input_tokens": 0}},
            "cwd": "/home/dev/work/demo-proj", "sessionId": sid, "version": "2.1.337"}


class CountingDecoder(json.JSONDecoder):
    """store's decoder, counting the documents that hold MARKER."""

    def __init__(self, real: json.JSONDecoder) -> None:
        super().__init__()
        self.real = real
        self.count = 0

    def decode(self, s, *args, **kwargs):  # type: ignore[override]
        if MARKER in s:
            self.count += 1
        return self.real.decode(s, *args, **kwargs)


class ParseOnce(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.sid = str(uuid.uuid4())
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj")
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(folder, self.sid + ".jsonl")
        self.append(user(self.sid, "the first prompt"), assistant(self.sid, "hello there", 5))
        proc = self.run_hook({"hook_event_name": "UserPromptSubmit", "session_id": self.sid,
                              "transcript_path": self.path, "cwd": "/home/dev/work/demo-proj",
                              "prompt": "the first prompt"})
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def append(self, *records: dict) -> None:
        with open(self.path, "ab") as f:
            f.write(b"".join(json.dumps(r).encode() + b"\n" for r in records))

    def card(self, predicate, what: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            s = next((x for x in self.get_json("/api/state")["sessions"]
                      if x["session_id"] == self.sid), None)
            if s is not None and predicate(s):
                return s
            self.assertLess(time.monotonic(), deadline, "%s; the card: %s" % (what, s))
            time.sleep(0.05)

    def hits(self, word: str, n: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while True:
            status, body, _ = self.request("GET", "/api/search?q=" + word)
            self.assertEqual(status, 200, body)
            if len(body["results"]) == n:
                return body["results"]
            self.assertLess(time.monotonic(), deadline, "%r: %r" % (word, body["results"]))
            time.sleep(0.05)

    def test_one_append_is_decoded_once_for_conversation_usage_and_search(self) -> None:
        # every consumer attached: usage on the card, a follower, the index
        self.card(lambda s: (s.get("usage") or {}).get("output_tokens") == 5, "usage")
        client = SSEClient(self.port, "/api/stream?follow=" + self.sid)
        self.addCleanup(client.close)
        self.assertEqual(client.next(5)["event"], "snapshot")
        client.until(lambda e: e["event"] == "messages")  # the follower's baseline
        self.hits("hello", 1)

        counting = CountingDecoder(store._DECODER)
        store._DECODER, real = counting, store._DECODER
        self.addCleanup(setattr, store, "_DECODER", real)
        self.append(assistant(self.sid, "the %s answer" % MARKER, 7))

        event = client.until(lambda e: e["event"] == "messages" and any(
            MARKER in m["content"] for m in e["data"]["messages"]), 10)
        self.assertEqual(event["data"]["session_id"], self.sid)
        self.card(lambda s: (s.get("usage") or {}).get("output_tokens") == 12, "usage + 7")
        [hit] = self.hits(MARKER, 1)
        self.assertEqual(hit["session_id"], self.sid)
        self.assertEqual(self.get_json("/api/conversation/%s" % self.sid)["messages"][-1]
                         ["content"], "the %s answer" % MARKER)
        self.assertEqual(counting.count, 1, "the appended line was decoded %d times"
                         % counting.count)

    def test_a_panel_opened_late_reads_the_past_once_then_shares_the_tail(self) -> None:
        """Usage read the file first (needle lines only); the conversation asked later gets
        every message, and what is appended after is decoded once for both."""
        self.card(lambda s: (s.get("usage") or {}).get("output_tokens") == 5, "usage")
        first = self.get_json("/api/conversation/%s" % self.sid)
        self.assertEqual([m["content"] for m in first["messages"]],
                         ["the first prompt", "hello there"])
        counting = CountingDecoder(store._DECODER)
        store._DECODER, real = counting, store._DECODER
        self.addCleanup(setattr, store, "_DECODER", real)
        self.append(assistant(self.sid, "a %s reply" % MARKER, 1))
        self.card(lambda s: (s.get("usage") or {}).get("output_tokens") == 6, "usage + 1")
        later = self.get_json("/api/conversation/%s" % self.sid)
        self.assertEqual(later["messages"][-1]["content"], "a %s reply" % MARKER)
        self.assertEqual(later["total"], 3)
        self.assertEqual(counting.count, 1)


class SharedFolds(ServerTestCase):
    def test_history_folds_on_live_tails_are_bounded(self) -> None:
        """The History reads every file at start: its folds on live tails stay at most
        MAX_SHARED_FOLDS (least recently used out), each still reading right."""
        from amc_server.consumers.history_file import HistoryFile
        tails = self.server.core.tails
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-many")
        os.makedirs(folder, exist_ok=True)
        n = tails_module.MAX_SHARED_FOLDS + 10
        for i in range(n):
            sid = str(uuid.uuid4())
            path = os.path.join(folder, sid + ".jsonl")
            with open(path, "wb") as f:
                f.write(json.dumps(assistant(sid, "reply %d" % i, i + 1)).encode() + b"\n")
            tails.get("claude", path, sid)  # live
            fold, lock = tails.shared("claude", path, "history",
                                      lambda: HistoryFile(path, "claude", sid))
            with lock:
                fold.refresh()
                self.assertEqual(fold.usage()["output_tokens"], i + 1)
        kept = [t for t in (tails.get("claude", os.path.join(folder, name), name[:-6])
                            for name in os.listdir(folder)) if "history" in t.extra]
        self.assertEqual(len(kept), tails_module.MAX_SHARED_FOLDS)
