"""Conversations as deltas: ?after=, placeholders for big parts, and followed transcripts that are
appended to, torn, truncated, replaced or rotated, against a real server and real files."""
import json
import os
import threading
import time
import unittest

from tests.support.builders import (claude_assistant, claude_tool_result, claude_user, jsonl,
                                    prompt_payload, tool_use_block)
from tests.support.helpers import ServerTestCase
from tests.support.sse import SSEClient

SID = "c0ffee00-1111-2222-3333-444444444444"


def result(tool, output, n):
    """The tool's output as Claude Code writes it: the block and a `toolUseResult`."""
    return claude_tool_result(tool, output, n, toolUseResult={"stdout": output[:10]})


def cat_call(tool):
    return tool_use_block(tool, "Bash", {"command": "cat big.log"})


class Live(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        project = os.path.join(self.paths.claude_projects, "-w-live")
        os.makedirs(project)
        self.path = os.path.join(project, SID + ".jsonl")
        self.write([claude_user("first", 0), claude_assistant("one", n=1)])
        self.run_hook(prompt_payload(SID, "first", cwd="/w/live", transcript_path=self.path))

    def write(self, records, mode="w"):
        with open(self.path, mode + "b") as f:
            f.write(jsonl(*records))

    def follow(self):
        client = SSEClient(self.port, "/api/stream?follow=" + SID)
        self.addCleanup(client.close)
        self.assertEqual(client.next(5)["event"], "snapshot")
        client.until(lambda e: e["event"] == "messages")  # the tail, once, on follow
        return client

    def messages_event(self, client, pred, timeout=5.0):
        return client.until(lambda e: e["event"] == "messages" and pred(e["data"]), timeout)

    def conversation(self, query=""):
        return self.get_json("/api/conversation/%s%s" % (SID, query))

    def test_after_returns_what_follows_plus_a_small_overlap(self):
        self.write([claude_user("p%d" % i, i + 2) for i in range(60)], "a")
        whole = self.conversation()
        self.assertEqual(whole["total"], 62)
        cut = whole["messages"][40]["id"]
        delta = self.conversation("?after=" + cut)
        ids = [m["id"] for m in delta["messages"]]
        self.assertEqual(ids[-21:], [m["id"] for m in whole["messages"][41:]])
        self.assertLessEqual(len(ids), 21 + 24)
        self.assertEqual(delta["total"], 62)
        everything = self.conversation("?after=claude-nosuchid-999")
        self.assertEqual(len(everything["messages"]), 62)

    def test_big_tool_output_is_a_placeholder_fetched_whole_on_request(self):
        big = "line of output\n" * 8000  # 120 KB
        self.write([claude_assistant(cat_call("toolu_big"), n=2), result("toolu_big", big, 3)], "a")
        conv = self.conversation()
        call = conv["messages"][-1]["tool_calls"][0]
        self.assertEqual(call["result_omitted"], len(big))
        self.assertEqual(call["result"], big[:2000])
        self.assertLess(len(json.dumps(conv)), 20000)
        status, part, _ = self.request("GET", "/api/conversation/%s/part?message=%s&call=toolu_big"
                                       "&field=result" % (SID, conv["messages"][-1]["id"]))
        self.assertEqual(status, 200)
        self.assertEqual(part["value"], big)
        status, err, _ = self.request("GET", "/api/conversation/%s/part?message=%s&call=nope"
                                      "&field=result" % (SID, conv["messages"][-1]["id"]))
        self.assertEqual((status, err["ok"]), (404, False))

    def test_a_tool_result_arriving_later_changes_the_earlier_message_under_its_id(self):
        client = self.follow()
        self.write([claude_assistant("running it", cat_call("toolu_1"), n=2)], "a")
        first = self.messages_event(client, lambda d: any(m["content"] == "running it"
                                                          for m in d["messages"]))
        call_msg = [m for m in first["data"]["messages"] if m["content"] == "running it"][0]
        self.assertNotIn("result", call_msg["tool_calls"][0])
        self.write([result("toolu_1", "done!", 3)], "a")
        later = self.messages_event(client, lambda d: any(
            m["id"] == call_msg["id"] and m["tool_calls"][0].get("result") == "done!"
            for m in d["messages"]))
        self.assertEqual([m["id"] for m in later["data"]["messages"]], [call_msg["id"]])

    def test_torn_last_line_waits_for_its_end_and_shows_once(self):
        client = self.follow()
        line = json.dumps(claude_user("a prompt written in two parts", 5)) + "\n"
        with open(self.path, "a") as f:
            f.write(line[:20])
        quiet = client.quiet(0.8)
        self.assertFalse([e for e in quiet if e["event"] == "messages"])
        with open(self.path, "a") as f:
            f.write(line[20:])
        event = self.messages_event(client, lambda d: True)
        self.assertEqual([m["content"] for m in event["data"]["messages"]],
                         ["a prompt written in two parts"])
        conv = self.conversation()
        self.assertEqual(len({m["id"] for m in conv["messages"]}), len(conv["messages"]))
        self.assertEqual(conv["total"], 3)

    def test_truncated_replaced_and_rotated_transcripts_are_reread_without_duplicate_ids(self):
        client = self.follow()
        # truncated in place
        self.write([claude_user("after truncation", 9)])
        event = self.messages_event(client, lambda d: d.get("reset"))
        self.assertEqual([m["content"] for m in event["data"]["messages"]], ["after truncation"])
        self.assertEqual(event["data"]["total"], 1)
        # replaced by rename (a new inode)
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            f.write(jsonl(claude_user("replaced", 1), claude_assistant("re", n=2)).decode())
        os.replace(tmp, self.path)
        event = self.messages_event(client, lambda d: d.get("reset"))
        self.assertEqual([m["content"] for m in event["data"]["messages"]], ["replaced", "re"])
        # rotated: moved away, a new file started at the same path
        os.rename(self.path, self.path + ".1")
        self.write([claude_user("rotated", 1)])
        event = self.messages_event(client, lambda d: d.get("reset") and any(
            m["content"] == "rotated" for m in d["messages"]))
        conv = self.conversation()
        self.assertEqual([m["content"] for m in conv["messages"]], ["rotated"])
        ids = [m["id"] for m in conv["messages"]]
        self.assertEqual(len(ids), len(set(ids)))

    def test_a_50_mb_line_does_not_stall_other_requests(self):
        client = self.follow()
        huge = claude_user("x" * (50 * 1024 * 1024), 7)
        data = (json.dumps(huge) + "\n").encode()
        slowest = [0.0]
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                started = time.monotonic()
                self.get_json("/api/state")
                slowest[0] = max(slowest[0], time.monotonic() - started)
                time.sleep(0.02)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        with open(self.path, "ab") as f:
            f.write(data)
        event = self.messages_event(client, lambda d: any(len(m["content"]) > 1000
                                                          for m in d["messages"]), timeout=60)
        stop.set()
        poller.join(10)
        self.assertEqual(event["data"]["total"], 3)
        [msg] = [m for m in event["data"]["messages"] if m.get("content_omitted")]
        self.assertEqual(msg["content_omitted"], 50 * 1024 * 1024)  # a placeholder, not 50 MB
        self.assertEqual(len(msg["content"]), 2000)
        self.assertLess(slowest[0], 1.5, "GET /api/state took %.2f s while parsing" % slowest[0])
        del data


if __name__ == "__main__":
    unittest.main()
