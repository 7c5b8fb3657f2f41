"""The Activity feed (core/activity.py, GET /api/activity, `activity` stream events) against a real
server: hook events made by the real bin/amc-hook from the recorded Claude Code 2.1.329 payloads,
Claude's prompt history written as the real CLI writes it, and broken, torn, huge and replaced
files; then another machine's activity at a hub over a real sshd (tests/support/remote_world.py).
"""
import json
import os
import time
import unittest

from tests.support.builders import prompt_payload
from tests.support.helpers import FIXTURES, ServerTestCase
from tests.support.sse import SSEClient

from amc_server import jsonl
from amc_server import store
from amc_server.consumers import activity, activity_lines
from amc_server.core.live import Core
from amc_server.remote.hub import Hub
from amc_server.http.server import make_server

PERMISSION = os.path.join(FIXTURES, "claude-code-2.1.329", "permission-prompt", "hooks.jsonl")
SID = "598d70af-25dd-454d-8343-4daab95aee19"   # the recorded session's id
# What the real Claude Code 2.1.329 wrote to $CLAUDE_CONFIG_DIR/history.jsonl, recorded by the AMC
# project on 2026-12-01 (the TUI in a private tmux against tests/support/fakemodel.py): a two-line
# prompt, a slash command and a paste (the pasted text itself is not in the file, only its hash).
# Paths rewritten to /home/dev/...
RECORDED_HISTORY = (
    '{"display":"hello history\\nsecond line","pastedContents":{},"timestamp":1796166263228,'
    '"project":"/home/dev/work/hist-proj","sessionId":"735fa120-f2b4-49f4-b8b7-8f1be38c35e2"}\n'
    '{"display":"/help","pastedContents":{},"timestamp":1796166267248,'
    '"project":"/home/dev/work/hist-proj","sessionId":"735fa120-f2b4-49f4-b8b7-8f1be38c35e2"}\n'
    '{"display":"[Pasted text #1]","pastedContents":{"1":{"id":1,"type":"text",'
    '"contentHash":"73bfa46b451d8456"}},"timestamp":1796166271267,'
    '"project":"/home/dev/work/hist-proj","sessionId":"735fa120-f2b4-49f4-b8b7-8f1be38c35e2"}\n')
KEYS = {"id", "ts", "type", "session_id", "machine", "summary", "raw"}


def recorded(path=PERMISSION):
    with open(path) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


class ActivityCase(ServerTestCase):
    def activity(self, limit=None):
        path = "/api/activity" + ("?limit=%s" % limit if limit is not None else "")
        return self.get_json(path)

    def events(self, limit=None):
        return self.activity(limit)["events"]

    def hook(self, payload):
        proc = self.run_hook(payload)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def write_history(self, text, mode="a"):
        os.makedirs(self.paths.claude_dir, exist_ok=True)
        with open(self.paths.claude_history, mode + "b") as f:
            f.write(text.encode() if isinstance(text, str) else text)

    def wait_for(self, pred, what, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(1000)
            if pred(events):
                return events
            if time.monotonic() > deadline:
                self.fail("timed out waiting for %s; the feed: %s" % (
                    what, json.dumps([(e["type"], e["summary"]) for e in events])[:2000]))
            time.sleep(0.05)


class HookEvents(ActivityCase):
    def test_every_hook_event_newest_first_with_a_readable_line_and_its_raw_record(self):
        payloads = recorded()[:7]   # up to Stop: SessionEnd would end the recording
        for p in payloads:
            self.hook(p)
        answer = self.activity()
        self.assertEqual(answer["limit"], 200)
        events = answer["events"]
        self.assertEqual([e["type"] for e in events], [
            "Stop", "PostToolUse", "Notification", "PermissionRequest", "PreToolUse",
            "UserPromptSubmit", "SessionStart"])
        self.assertEqual([e["summary"] for e in events], [
            "Turn ended: TOOL-DONE", "Bash done", "Notification: Claude needs your permission",
            "Permission asked for Bash: touch made-by-agent.txt", "Bash: touch made-by-agent.txt",
            "Prompt: BASH: touch made-by-agent.txt", "Session started (startup)"])
        for e in events:
            self.assertLessEqual(KEYS, set(e))
            self.assertEqual((e["session_id"], e["machine"], e["project"]), (SID, "", "demo-proj"))
            self.assertRegex(e["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(len({e["id"] for e in events}), 7)
        # raw is the event log's line itself
        log = jsonl.read_objects(self.paths.events_file(SID))
        self.assertEqual([e["raw"] for e in reversed(events)], log)
        self.assertEqual(events[-1]["raw"]["payload"], payloads[0])

    def test_limit_is_kept_between_1_and_1000_and_a_bad_one_is_a_400_in_words(self):
        for i in range(3):
            self.hook(prompt_payload("lim", "p%d" % i))
        self.assertEqual(len(self.events(2)), 2)
        self.assertEqual(self.activity(0)["limit"], 1)
        self.assertEqual(self.activity(5000)["limit"], 1000)
        status, body, _ = self.request("GET", "/api/activity?limit=lots")
        self.assertEqual(status, 400)
        self.assertEqual(body["ok"], False)
        self.assertIn("lots", body["error"])

    def test_a_hook_event_is_there_as_soon_as_the_hook_exits(self):
        for i in range(5):  # each answer follows its hook at once: the doorbell, then flush()
            self.hook(prompt_payload("now", "prompt number %d" % i))
            self.assertEqual(self.events(1)[0]["summary"], "Prompt: prompt number %d" % i)

    def test_a_dismissal_is_an_event_too(self):
        self.hook(prompt_payload("dis"))
        status, _, _ = self.request("POST", "/api/dismiss/dis")
        self.assertEqual(status, 200)
        self.assertEqual(self.events(1)[0]["summary"], "Dismissed in AMC")

    def test_hostile_text_is_kept_as_text_and_summaries_stay_short(self):
        evil = "<img src=x onerror=alert(1)>\x1b[31m" + "x" * 5000 + "\nsecond line"
        self.hook(prompt_payload("evil", evil))
        [e] = self.events(1)
        self.assertLessEqual(len(e["summary"]), 200)
        self.assertTrue(e["summary"].startswith("Prompt: <img src=x onerror=alert(1)>"))
        self.assertNotIn("second line", e["summary"])
        self.assertEqual(e["raw"]["payload"]["prompt"][:28], evil[:28])


class PromptHistory(ActivityCase):
    def test_prompts_from_claudes_history_as_the_real_cli_writes_them(self):
        self.write_history(RECORDED_HISTORY)  # the config dir did not exist when AMC started
        events = self.wait_for(lambda es: len(es) == 3, "the three history entries")
        self.assertEqual([e["type"] for e in events], ["history"] * 3)
        self.assertEqual([e["summary"] for e in events], [
            "Typed: [Pasted text #1] \u2014 hist-proj", "Typed: /help \u2014 hist-proj",
            "Typed: hello history \u2014 hist-proj"])
        self.assertEqual(events[2]["ts"], "2026-12-01T23:04:23.228Z")
        self.assertEqual(events[2]["session_id"], "735fa120-f2b4-49f4-b8b7-8f1be38c35e2")
        self.assertEqual(events[2]["raw"]["display"], "hello history\nsecond line")
        self.assertEqual(events[2]["project"], "hist-proj")

    def test_a_line_that_does_not_parse_is_shown_with_its_error_not_dropped(self):
        self.write_history(RECORDED_HISTORY.splitlines(True)[0])
        self.wait_for(lambda es: len(es) == 1, "the first entry")
        self.write_history('not json at all\n[1, 2]\n{"display": "after", "timestamp": 1}\n')
        events = self.wait_for(lambda es: len(es) == 4, "three more lines")
        bad = [e for e in events if e["type"] == "unparsed"]
        self.assertEqual(len(bad), 2)
        by_raw = {e["raw"]: e for e in bad}
        self.assertIn("not JSON: Expecting value", by_raw["not json at all"]["summary"])
        self.assertIn("history.jsonl", by_raw["not json at all"]["summary"])
        self.assertIn("a JSON list, not an object", by_raw["[1, 2]"]["summary"])
        self.assertIn("Typed: after", [e["summary"] for e in events])

    def test_a_torn_line_waits_for_its_newline_and_counts_once(self):
        self.hook(prompt_payload("torn", "first"))
        line = json.dumps({"received_at": "2030-01-01T00:00:00.000Z", "agent": "claude",
                           "event": "UserPromptSubmit",
                           "payload": {"prompt": "second", "cwd": "/w/torn"}}) + "\n"
        path = self.paths.events_file("torn")
        with open(path, "a") as f:
            f.write(line[:30])
        self.hook(prompt_payload("other", "meanwhile"))  # the core looks at the feed again
        self.assertNotIn("Prompt: second", [e["summary"] for e in self.events()])
        self.assertEqual([e["type"] for e in self.events()].count("unparsed"), 0)
        with open(path, "a") as f:
            f.write(line[30:])
        events = self.wait_for(lambda es: "Prompt: second" in [e["summary"] for e in es],
                               "the finished line")
        self.assertEqual([e["summary"] for e in events].count("Prompt: second"), 1)
        self.assertEqual(events[0]["summary"], "Prompt: second")  # its ts is the newest

    def test_a_huge_line_is_skipped_with_a_reason_and_a_long_value_is_cut(self):
        self.write_history(b'{"display": "' + b"y" * (3 << 20) + b'"}\n')
        self.write_history(json.dumps({"display": "big paste", "timestamp": 1796166263228,
                                       "pastedContents": {"1": "z" * 60000}}) + "\n")
        events = self.wait_for(lambda es: len(es) == 2, "the huge line and the big one")
        huge = [e for e in events if e["type"] == "unparsed"][0]
        self.assertIn("was skipped", huge["summary"])
        self.assertEqual(huge["raw"], "")
        big = [e for e in events if e["type"] == "history"][0]
        self.assertTrue(big["truncated"])
        self.assertLess(len(json.dumps(big["raw"])), 20000)
        self.assertEqual(big["raw"]["display"], "big paste")

    def test_a_burst_bigger_than_the_read_cap_is_cut_to_its_last_whole_lines(self):
        """A file that grew by more than READ_CAP at once is read from its last READ_CAP bytes,
        on from the first whole line there: the newest prompts are shown, none half."""
        self.events()  # the backlog is read: what follows is a burst
        line = lambda i: json.dumps({"display": "burst %06d " % i + "x" * 200,
                                     "timestamp": 1796166263228 + i}) + "\n"
        lines = [line(i) for i in range(30000)]  # ~7 MB, more than the 4 MB cap
        self.assertGreater(sum(map(len, lines)), activity.READ_CAP)
        self.write_history("".join(lines))
        events = self.wait_for(lambda es: any("burst 029999" in e["summary"] for e in es),
                               "the newest prompt of the burst")
        shown = [e for e in events if e["type"] == "history"]
        self.assertEqual([e for e in events if e["type"] == "unparsed"], [])
        self.assertEqual([e["summary"] for e in shown if "burst " not in e["summary"]], [])
        firsts = sorted(int(e["summary"].split()[2]) for e in shown)
        self.assertGreater(firsts[0], 0)  # the start of the burst was not read

    def test_a_replaced_or_truncated_history_is_read_again_from_its_start(self):
        self.write_history(RECORDED_HISTORY)
        self.wait_for(lambda es: len(es) == 3, "the recorded entries")
        self.write_history('{"display": "fresh start", "timestamp": 1896166263228}\n', mode="w")
        events = self.wait_for(lambda es: len(es) == 4, "the entry of the new file")
        self.assertEqual(events[0]["summary"], "Typed: fresh start")


class Stream(ActivityCase):
    def stream(self, path):
        client = SSEClient(self.port, path)
        self.addCleanup(client.close)
        self.assertEqual(client.next(5)["event"], "snapshot")
        return client

    def test_new_events_go_only_to_streams_that_follow_the_activity(self):
        watching = self.stream("/api/stream?follow=*activity")
        plain = self.stream("/api/stream")
        self.hook(prompt_payload("live", "over the stream"))
        event = watching.until(lambda e: e["event"] == "activity")
        self.assertEqual(event["data"]["summary"], "Prompt: over the stream")
        self.assertEqual(event["data"], self.events(1)[0])
        self.assertIn("session", [e["event"] for e in plain.quiet(0.5)] +
                      [e["event"] for e in plain.events])
        self.assertNotIn("activity", [e["event"] for e in plain.events])
        self.write_history(RECORDED_HISTORY.splitlines(True)[1])
        typed = watching.until(lambda e: e["event"] == "activity" and
                               e["data"]["type"] == "history")
        self.assertEqual(typed["data"]["summary"], "Typed: /help \u2014 hist-proj")

    def test_a_reconnecting_follower_gets_exactly_the_activity_it_missed(self):
        watching = self.stream("/api/stream?follow=*activity")
        self.hook(prompt_payload("r", "one"))
        seen = watching.until(lambda e: e["event"] == "activity")
        watching.close()
        for text in ("two", "three"):
            self.hook(prompt_payload("r", text))
        again = SSEClient(self.port, "/api/stream?follow=*activity&last_event_id=" + seen["id"])
        self.addCleanup(again.close)
        missed = [e["data"]["summary"] for e in again.quiet(1.0) if e["event"] == "activity"]
        self.assertEqual(missed, ["Prompt: two", "Prompt: three"])


class Backlog(ActivityCase):
    def test_after_a_restart_the_backlog_is_read_from_the_ends_with_the_same_ids(self):
        for i in range(4):
            self.hook(prompt_payload("re", "before %d" % i))
        self.write_history(RECORDED_HISTORY)
        before = self.wait_for(lambda es: len(es) == 7, "seven events")
        self._stop_server()
        self.server = make_server(self.paths, "127.0.0.1", 0)
        import threading
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]
        self.assertEqual(self.events(), before)
        self.hook(prompt_payload("re", "after"))
        after = self.events()
        self.assertEqual(after[0]["summary"], "Prompt: after")
        self.assertEqual(after[1:], before)

    def test_start_reads_only_the_ends_of_big_files_and_skips_older_ones(self):
        os.makedirs(self.paths.claude_dir, exist_ok=True)
        line = json.loads(RECORDED_HISTORY.splitlines()[0])
        first = int((time.time() - 60000) * 1000)
        with open(self.paths.claude_history, "wb") as f:   # ~16 MB of history, oldest first
            for i in range(50000):
                line["timestamp"] = first + i * 1000
                line["display"] = "prompt %d %s" % (i, "w" * 150)
                f.write(json.dumps(line).encode() + b"\n")
        store.ensure_dir(self.paths.events)
        old = time.time() - 86400 * 30
        for n in range(30):   # sessions of a month ago: their files are older than the history
            path = self.paths.events_file("old-%d" % n)
            with open(path, "w") as f:
                f.write(json.dumps({"received_at": "2023-01-01T00:00:00.000Z", "event": "Stop",
                                    "payload": {}}) + "\n")
            os.utime(path, (old, old))
        core = Core(self.paths)
        started = time.monotonic()
        core.activity.load()
        took = time.monotonic() - started
        events = core.activity.recent(1000)
        self.assertEqual(len(events), 1000)
        self.assertTrue(events[0]["summary"].startswith("Typed: prompt 49999 "))
        self.assertTrue(events[-1]["summary"].startswith("Typed: prompt 49000 "))
        size = os.path.getsize(self.paths.claude_history)
        self.assertLess(core.activity.stats["backlog_bytes"], size / 20,
                        "the whole history was read at start")
        self.assertEqual(core.activity.stats["backlog_files"], 1, "old event logs were read")
        self.assertLess(took, 5.0)

    def test_memory_keeps_the_last_thousand(self):
        store.ensure_dir(self.paths.events)
        with open(self.paths.events_file("many"), "w") as f:
            for i in range(1500):
                stamp = "2026-01-01T00:00:%02d.%03dZ" % (i // 1000, i % 1000)
                f.write(json.dumps({"received_at": stamp, "event": "UserPromptSubmit",
                                    "payload": {"prompt": "n%d" % i}}) + "\n")
        events = self.wait_for(lambda es: len(es) == 1000, "the last thousand")
        self.assertEqual(events[0]["summary"], "Prompt: n1499")
        self.assertEqual(events[-1]["summary"], "Prompt: n500")


class Summaries(unittest.TestCase):
    def test_one_readable_line_per_event_type(self):
        s = activity_lines.hook_summary
        ask = {"tool_name": "AskUserQuestion", "tool_input": {"questions": [
            {"question": "Which database should we use?"}]}}
        self.assertEqual(s("PermissionRequest", ask), "Question: Which database should we use?")
        self.assertEqual(s("PreToolUse", {"tool_name": "Read", "tool_input": {
            "file_path": "/a/b.py"}}), "Read: /a/b.py")
        self.assertEqual(s("PostToolUseFailure", {"tool_name": "Bash", "error": "exit 1\nmore"}),
                         "Bash failed: exit 1")
        self.assertEqual(s("StopFailure", {"error": "rate_limit"}), "Turn failed: rate_limit")
        self.assertEqual(s("SessionEnd", {"reason": "prompt_input_exit"}),
                         "Session ended (prompt_input_exit)")
        self.assertEqual(s("SubagentStop", {}), "Subagent stopped")
        self.assertEqual(s("SomethingNew", {}), "SomethingNew")
        self.assertEqual(s("Stop", {}), "Turn ended")


class Forwarding(unittest.TestCase):
    """The hub's side of another machine's activity (its feed hands the lines to hub.activity)."""

    def setUp(self):
        import shutil
        import tempfile
        from tests.support.helpers import isolated_env
        from amc_server.paths import get_paths
        home = tempfile.mkdtemp(prefix="amc-test-")
        self.addCleanup(shutil.rmtree, home, True)
        self.paths = get_paths(isolated_env(home))
        self.core = Core(self.paths)
        self.hub = Hub(self.core, self.paths)
        self.sub, _ = self.core.subscribe("", ["*activity"])

    def test_a_remote_event_is_kept_and_published_under_hub_ids(self):
        self.hub.activity("m1", {"id": "e-abc-0", "ts": "2026-12-01T10:00:00.000Z",
                                 "type": "UserPromptSubmit", "session_id": "abc", "machine": "",
                                 "summary": "Prompt: hi", "raw": {"x": "y" * 100000},
                                 "project": "p", "evil": "dropped"})
        [e] = self.core.activity.recent(10)
        self.assertEqual((e["id"], e["session_id"], e["machine"]), ("m1:e-abc-0", "m1:abc", "m1"))
        self.assertNotIn("evil", e)
        self.assertTrue(e["truncated"])
        self.assertLess(len(json.dumps(e["raw"])), 20000)
        published = [ev for ev in self.sub.drain() if ev.type == "activity"]
        self.assertEqual([json.loads(ev.data)["id"] for ev in published], ["m1:e-abc-0"])

    def test_events_that_are_not_the_machines_own_are_refused(self):
        for bad in ("nope", {"id": 3}, {"id": "x", "machine": "m9"},
                    {"id": "x", "session_id": "m9:stolen"}):
            self.hub.activity("m1", bad)
        self.assertEqual(self.core.activity.recent(10), [])


class RemoteActivity(unittest.TestCase):
    """A hook on machine m1 shows in the hub's Activity, over a real sshd."""

    def test_a_remote_hook_event_reaches_the_hubs_feed_and_stream(self):
        from tests.support.remote_world import start_world
        w = start_world(self.addCleanup)
        sid = "0b7c5c1e-3333-4a4a-9c9c-000000000003"
        w.hook("m1", prompt_payload(sid, "from the first machine"))
        w.wait(lambda: ("m1:" + sid) in w.sessions(), 30, "m1's session at the hub")
        client = SSEClient(w.port, "/api/stream?follow=*activity")
        self.addCleanup(client.close)
        client.next(5)
        w.hook("m1", prompt_payload(sid, "and one more"))
        live = client.until(lambda e: e["event"] == "activity" and
                            e["data"]["summary"] == "Prompt: and one more", timeout=20)
        self.assertEqual((live["data"]["machine"], live["data"]["session_id"]),
                         ("m1", "m1:" + sid))
        self.assertTrue(live["data"]["id"].startswith("m1:e-%s-" % sid))
        events = w.get("/api/activity")["events"]
        self.assertEqual(events[0], live["data"])
        self.assertTrue(all(e["machine"] in ("", "m1", "m2") for e in events))


if __name__ == "__main__":
    unittest.main()
