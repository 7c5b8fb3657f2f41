"""Merging the sources of truth, dismissal that sticks, and housekeeping of the data dir."""
import json
import os
import subprocess
import sys
import time
import unittest

from tests.support.helpers import FIXTURES, ServerTestCase

from amc_server.core import lifecycle
from amc_server import model, store
from amc_server.agents.claude import registry as claude_registry
from amc_server.core.live import Core


def fresh_sessions(paths):
    """Return the sessions a freshly started core (a restarted server) reads from disk."""
    core = Core(paths)
    core.rescan()
    return core.sessions()


def registry_entry(pid, sid, status="idle", **extra):
    with open(os.path.join(FIXTURES, "claude-code-2.1.329", "ask-option",
                           "sessions-registry.json")) as f:
        entry = json.load(f)
    entry.update(pid=pid, sessionId=sid, status=status, procStart=None, **extra)
    return entry


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


class LiveRegistry(ServerTestCase):
    def write_registry(self, entry):
        store.ensure_dir(self.paths.claude_sessions)
        store.write_json_atomic(os.path.join(self.paths.claude_sessions, "%d.json" % entry["pid"]),
                                entry)

    def test_running_session_appears_without_hooks(self):
        self.write_registry(registry_entry(os.getpid(), "live-1", "waiting",
                                           waitingFor="permission prompt"))
        [s] = self.get_json("/api/state")["sessions"]
        self.assertEqual((s["session_id"], s["status"], s["source"]),
                         ("live-1", "needs_attention", "registry"))
        self.assertEqual(s["attention"]["kind"], "permission")
        self.assertEqual((s["tmux_pane"], s["project"]), ("%0", "demo-proj"))

    def test_busy_is_active_and_idle_before_first_prompt_is_starting(self):
        self.write_registry(registry_entry(os.getpid(), "live-2", "busy"))
        self.assertEqual(self.get_json("/api/state")["sessions"][0]["status"], "active")
        self.write_registry(registry_entry(os.getpid(), "live-2", "idle"))
        self.assertEqual(self.get_json("/api/state")["sessions"][0]["status"], "starting")

    def test_dead_process_is_not_live(self):
        self.write_registry(registry_entry(dead_pid(), "gone"))
        self.assertEqual(self.get_json("/api/state")["sessions"], [])

    def test_reused_pid_is_not_live(self):
        entry = registry_entry(os.getpid(), "reused")
        entry["procStart"] = "1"  # our process started later than that
        self.write_registry(entry)
        if os.path.exists("/proc/self/stat"):
            self.assertEqual(self.get_json("/api/state")["sessions"], [])

    def test_hook_data_wins_and_registry_fills_the_pane(self):
        self.run_hook({"session_id": "both", "hook_event_name": "UserPromptSubmit",
                       "prompt": "hi", "cwd": "/w/api"})
        self.write_registry(registry_entry(os.getpid(), "both", "idle"))
        [s] = self.get_json("/api/state")["sessions"]
        self.assertEqual((s["status"], s["source"], s["tmux_pane"], s["project"]),
                         ("active", "hook", "%0", "api"))

    def hook_waiting_then_registry(self, event, idle_offset_s):
        self.run_hook(dict({"session_id": "esc", "cwd": "/w/api"}, **event))
        at = model.parse_iso(self.session_file("esc")["last_event_at"])
        ms = int((at + idle_offset_s) * 1000)
        self.write_registry(registry_entry(os.getpid(), "esc", "idle", statusUpdatedAt=ms,
                                           updatedAt=ms))
        [s] = self.get_json("/api/state")["sessions"]
        return s

    def test_escape_on_a_question_is_seen_through_the_registry(self):
        s = self.hook_waiting_then_registry(
            {"hook_event_name": "PermissionRequest", "tool_name": "AskUserQuestion",
             "tool_input": {"questions": [{"question": "Q?", "options": ["a", "b"]}]}}, 2.0)
        self.assertEqual((s["status"], s["pending_questions"], s["attention"]), ("done", [], None))

    def test_registry_idle_from_before_the_question_does_not_clear_it(self):
        s = self.hook_waiting_then_registry(
            {"hook_event_name": "PermissionRequest", "tool_name": "AskUserQuestion",
             "tool_input": {"questions": [{"question": "Q?", "options": ["a", "b"]}]}}, -5.0)
        self.assertEqual(s["status"], "needs_attention")

    def test_interrupted_turn_is_done_but_a_prose_question_stays(self):
        s = self.hook_waiting_then_registry(
            {"hook_event_name": "UserPromptSubmit", "prompt": "go"}, 2.0)
        self.assertEqual(s["status"], "done")
        s = self.hook_waiting_then_registry(
            {"hook_event_name": "Stop", "last_assistant_message": "Shall I?"}, 2.0)
        self.assertEqual((s["status"], s["attention"]["kind"]), ("needs_attention",
                                                                 "prose_question"))

    def test_hook_session_of_a_dead_agent_is_hidden(self):
        self.run_hook({"session_id": "crashed", "hook_event_name": "UserPromptSubmit",
                       "prompt": "hi"}, {"CLAUDE_PID": str(dead_pid())})
        self.assertEqual(self.get_json("/api/state")["sessions"], [])

    def test_dismissed_registry_session_stays_dismissed_across_restarts(self):
        self.write_registry(registry_entry(os.getpid(), "dismiss-me", "idle"))
        self.assertEqual(self.request("POST", "/api/dismiss/dismiss-me")[0], 200)
        self.assertEqual(self.get_json("/api/state")["sessions"], [])
        self.assertEqual(fresh_sessions(self.paths), [])  # a fresh server remembers

    def test_dismissed_memory_is_bounded_first_in_first_out(self):
        from amc_server.core.dismissed import Dismissed
        d = Dismissed(self.paths.dismissed_file + ".t", max_ids=3)
        store.ensure_dir(self.paths.data)
        for sid in "abcd":
            d.add(sid)
        again = Dismissed(self.paths.dismissed_file + ".t", max_ids=3)
        self.assertEqual([sid for sid in "abcd" if sid in again], ["b", "c", "d"])


class CodexRollouts(ServerTestCase):
    def install_rollout(self):
        sid = "01a1fb4f-8ba9-7b03-b177-2af74a622fa9"
        day = os.path.join(self.paths.codex_sessions, time.strftime("%Y/%m/%d"))
        os.makedirs(day)
        path = os.path.join(day, "rollout-%s-%s.jsonl" % (time.strftime("%Y-%m-%dT%H-%M-%S"), sid))
        with open(os.path.join(FIXTURES, "codex-0.169.0",
                               "codex-0.169.0-exec-text-only.jsonl"), "rb") as src:
            with open(path, "wb") as dst:
                dst.write(src.read())
        return path

    def test_active_rollout_is_listed_and_dismissal_survives_a_restart(self):
        path = self.install_rollout()
        [s] = self.get_json("/api/state")["sessions"]
        self.assertEqual((s["agent"], s["source"], s["status"]), ("codex", "rollout", "done"))
        self.assertEqual(s["conversation_mtime_ns"], os.stat(path).st_mtime_ns)
        conv = self.get_json("/api/conversation/%s?agent=codex" % s["session_id"])
        self.assertEqual([m["role"] for m in conv["messages"]], ["user", "assistant"])
        self.assertEqual(self.request("POST", "/api/dismiss/" + s["session_id"])[0], 200)
        self.assertEqual(self.get_json("/api/state")["sessions"], [])
        self.assertEqual(fresh_sessions(self.paths), [])

    def test_rollout_older_than_ten_minutes_is_not_live(self):
        path = self.install_rollout()
        old = time.time() - 11 * 60
        os.utime(path, (old, old))
        self.assertEqual(self.get_json("/api/state")["sessions"], [])


class Ordering(ServerTestCase):
    def test_grouped_by_status_then_stable(self):
        for sid, event in (("a", "Stop"), ("b", "UserPromptSubmit"), ("c", "SessionStart"),
                           ("d", "StopFailure"), ("e", "UserPromptSubmit")):
            self.run_hook({"session_id": sid, "hook_event_name": event})
        first = [s["session_id"] for s in self.get_json("/api/state")["sessions"]]
        self.assertEqual([s for s in first if s in "de"][0], "d")
        statuses = [s["status"] for s in self.get_json("/api/state")["sessions"]]
        self.assertEqual(statuses, ["needs_attention", "active", "active", "starting", "done"])
        for _ in range(3):
            self.assertEqual([s["session_id"] for s in self.get_json("/api/state")["sessions"]],
                             first)


class Housekeeping(ServerTestCase):
    def test_stale_starting_sessions_and_orphan_logs_are_cleaned(self):
        now = time.time()
        self.run_hook({"session_id": "old-start", "hook_event_name": "SessionStart"})
        self.run_hook({"session_id": "new-start", "hook_event_name": "SessionStart"})
        self.run_hook({"session_id": "ended", "hook_event_name": "SessionStart"})
        self.run_hook({"session_id": "ended", "hook_event_name": "SessionEnd"})
        self.run_hook({"session_id": "ended-recently", "hook_event_name": "SessionEnd"})
        s = store.read_json(self.paths.session_file("old-start"))
        s["status_since"] = model.now_iso(now - 2 * 3600)
        store.write_json_atomic(self.paths.session_file("old-start"), s)
        old = now - 25 * 3600
        os.utime(self.paths.events_file("ended"), (old, old))
        torn = os.path.join(self.paths.sessions, ".x.json.123.tmp")
        with open(torn, "w") as f:
            f.write("{")
        os.utime(torn, (old, old))
        removed = lifecycle.clean(self.paths, now)
        self.assertEqual(removed, {"starting": 1, "dead": 0, "orphan_events": 1, "tmp": 1})
        self.assertIsNone(self.session_file("old-start"))
        self.assertIsNotNone(self.session_file("new-start"))
        self.assertTrue(os.path.exists(self.paths.events_file("ended-recently")))
        self.assertFalse(os.path.exists(self.paths.events_file("ended")))
        self.assertTrue(os.path.exists(self.paths.events_file("old-start")))  # < 24 h


class PidProbe(unittest.TestCase):
    def test_pid_alive(self):
        self.assertTrue(claude_registry.pid_alive(os.getpid()))
        self.assertFalse(claude_registry.pid_alive(dead_pid()))
        self.assertFalse(claude_registry.pid_alive(0))
        self.assertFalse(claude_registry.pid_alive("12"))


if __name__ == "__main__":
    unittest.main()
