"""History of past sessions (amc_server/consumers/history.py: GET /api/history, GET /api/usage) and
starting one again (the `resume` field of POST /api/sessions, amc_server/actions/launch.py).

A real server over a HOME holding the fixture transcripts and rollouts where Claude Code and
Codex keep them: the list, newest first, with titles, sizes, times and usage equal to a read of
each file; the cache in the data dir (a second server reads no unchanged file); pagination,
filters and bad queries; hostile files. Resuming: the argv asserted exactly, the endpoint's
errors, and real launches into a private tmux server running a stand-in CLI that records its
argv (tests/test_launch.py's way).
"""
import json
import os
import shutil
import subprocess
import time
import unittest
import uuid
from typing import Any, Dict, List

from tests.support import tools
from tests.support.helpers import ServerTestCase
from tests.test_launch import _stub_bin
from amc_server.agents.claude import launch as CLAUDE
from amc_server.agents.codex import launch as CODEX
from amc_server.consumers import history
from amc_server.actions import launch
from amc_server import terminals
from amc_server.agents import usage
from amc_server.actions.start_dialogs import Watcher

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CLAUDE_FIXTURES = {
    # session id -> (fixture, what its title comes from)
    "aaaaaaaa-0000-0000-0000-000000000001": ("claude-code-2.1.329/ask-option/transcript.jsonl",
                                             "ASK: Which database should we use?"),
    "aaaaaaaa-0000-0000-0000-000000000002": ("public/claude/cc-catalog-record-types-agent-sessions.jsonl",
                                             "Stage0 small fixture"),        # custom-title
    "aaaaaaaa-0000-0000-0000-000000000003": ("public/claude/cc-2.1.220-compact-boundary-skeleton.jsonl",
                                             "設定画面の表示不具合を調査"),  # ai-title
    # the summaries at the top of these two name other files' chains: the first typed prompt
    "aaaaaaaa-0000-0000-0000-000000000004": ("public/claude/cc-1.0.51-summary-system-326189cf.jsonl",
                                             "please fix these"),
    "aaaaaaaa-0000-0000-0000-000000000005": ("public/claude/cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl",
                                             "It's been a while - I see that I have pending changes, examine them, "
                                             "add and commit (i.e., including unknown files)."),
    "aaaaaaaa-0000-0000-0000-000000000006": ("public/claude/cc-empty-file-b23cbd1d.jsonl", "untitled"),
}
OLD = 1577836800  # 2020-01-01, before every fixture
CODEX_FIXTURES = {
    "01a1fb51-9a90-7db3-89e5-bd2321ff5540": "codex-0.169.0/codex-0.169.0-tui-multiturn-interrupt.jsonl",
    "01a1fb53-9ffa-73e3-8bb2-dd747b4e3c31": "codex-0.169.0/codex-0.169.0-exec-apply-patch-gpt55.jsonl",
}


class HistoryCase(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.files: Dict[str, str] = {}
        for sid, (fixture, _) in CLAUDE_FIXTURES.items():
            d = os.path.join(self.paths.claude_projects, "-home-dev-" + sid[-1])
            os.makedirs(d, exist_ok=True)
            self.files[sid] = os.path.join(d, sid + ".jsonl")
            shutil.copy(os.path.join(FIXTURES, fixture), self.files[sid])
        # a subagent's file beside a session (2.0.x) is no session of its own
        shutil.copy(os.path.join(FIXTURES, "public/claude/cc-2.0.55-project-level-agent-c8d9b115.jsonl"),
                    os.path.join(self.paths.claude_projects, "-home-dev-1", "agent-c8d9b115.jsonl"))
        day = os.path.join(self.paths.codex_sessions, "2026", "11", "20")
        os.makedirs(day)
        for i, (sid, fixture) in enumerate(CODEX_FIXTURES.items()):
            self.files[sid] = os.path.join(day, "rollout-2026-11-20T23-3%d-00-%s.jsonl" % (i, sid))
            shutil.copy(os.path.join(FIXTURES, fixture), self.files[sid])
        for path in self.files.values():  # copied long ago (an empty file has only its mtime)
            os.utime(path, (OLD, OLD))

    def history(self, query: str = "") -> Dict[str, Any]:
        return self.get_json("/api/history" + query)

    def error(self, path: str, status: int, text: str) -> None:
        code, body, _ = self.request("GET", path)
        self.assertEqual((code, body.get("ok")), (status, False), body)
        self.assertIn(text, body["error"])


class HistoryTest(HistoryCase):
    def test_every_session_newest_first_with_title_size_times_and_usage(self) -> None:
        answer = self.history()
        self.assertTrue(answer["complete"])
        rows = answer["sessions"]
        self.assertEqual(sorted(r["session_id"] for r in rows), sorted(self.files))
        keys = ["session_id", "machine", "agent", "project", "project_dir", "title",
                "started_at", "last_activity", "bytes", "usage"]
        for r in rows:
            self.assertTrue(set(keys) <= set(r), r)
            self.assertEqual(r["machine"], "")
            path = self.files[r["session_id"]]
            self.assertEqual(r["bytes"], os.path.getsize(path))
            self.assertEqual(r["usage"], usage.read(path, r["agent"]))
        self.assertEqual([r["last_activity"] for r in rows],
                         sorted((r["last_activity"] for r in rows), reverse=True))
        by_id = {r["session_id"]: r for r in rows}
        for sid, (_, title) in CLAUDE_FIXTURES.items():
            self.assertEqual(by_id[sid]["title"], title)
        codex = by_id["01a1fb51-9a90-7db3-89e5-bd2321ff5540"]
        self.assertEqual((codex["agent"], codex["project"], codex["project_dir"]),
                         ("codex", "proj", "/home/dev/work/proj"))
        self.assertEqual(codex["started_at"], "2026-11-20T23:36:31.703Z")
        self.assertEqual(codex["usage"]["turns"], 5)
        ask = by_id["aaaaaaaa-0000-0000-0000-000000000001"]
        self.assertEqual((ask["project"], ask["agent"]), ("demo-proj", "claude"))
        self.assertEqual(ask["usage"]["cost_usd"], 0.00056)
        empty = by_id["aaaaaaaa-0000-0000-0000-000000000006"]
        self.assertEqual((empty["bytes"], empty["title"], empty["usage"]["turns"]), (0, "untitled", 0))

    def test_a_second_request_and_a_restarted_server_read_no_unchanged_file(self) -> None:
        first = self.history()
        h = self.server.core.session_history
        reads = h.stats["full_reads"]
        self.assertEqual(reads, len(self.files))
        self.assertEqual(self.history()["sessions"], first["sessions"])
        self.assertEqual(h.stats["full_reads"], reads)
        self.assertTrue(os.path.isfile(self.paths.history_cache))
        fresh = history.History(self.paths)        # a restart: only the cache file
        self.assertEqual(fresh.sessions({})["sessions"], first["sessions"])
        self.assertEqual(fresh.stats["full_reads"], 0)
        # one file grows: only it is read (on from where it was, while its reader is kept)
        sid = "aaaaaaaa-0000-0000-0000-000000000001"
        with open(self.files[sid], "ab") as f:
            f.write(json.dumps({"type": "assistant", "timestamp": "2026-11-21T08:00:00.000Z",
                                "message": {"id": "msg_more", "model": "claude-opus-5-5",
                                            "usage": {"input_tokens": 1, "output_tokens": 1}}})
                    .encode() + b"\n")
        after = {r["session_id"]: r for r in self.history()["sessions"]}
        self.assertEqual((h.stats["full_reads"], h.stats["continued_reads"]), (reads, 1))
        self.assertEqual(after[sid]["usage"], usage.read(self.files[sid], "claude"))
        self.assertEqual(after[sid]["last_activity"], "2026-11-21T08:00:00.000Z")
        self.assertEqual(self.history()["sessions"][0]["session_id"], sid)  # newest now
        os.unlink(self.files[sid])                  # a deleted transcript leaves the history
        self.assertNotIn(sid, [r["session_id"] for r in self.history()["sessions"]])

    def test_pages_by_before_and_filters(self) -> None:
        everything = self.history()["sessions"]
        seen: List[str] = []
        query = "?limit=3"
        while True:
            page = self.history(query)
            seen += [r["session_id"] for r in page["sessions"]]
            self.assertLessEqual(len(page["sessions"]), 3)
            if not page["more"]:
                break
            query = "?limit=3&before=" + page["next_before"]
        self.assertEqual(seen, [r["session_id"] for r in everything])
        codex = self.history("?agent=codex")["sessions"]
        self.assertEqual(sorted(r["session_id"] for r in codex), sorted(CODEX_FIXTURES))
        proj = self.history("?project=demo-proj")["sessions"]
        self.assertEqual([r["session_id"] for r in proj], ["aaaaaaaa-0000-0000-0000-000000000001"])
        self.assertEqual(self.history("?project=/home/dev/work/proj")["sessions"][0]["agent"],
                         "codex")
        self.assertEqual(self.history("?project=nothing-here")["sessions"], [])

    def test_bad_queries_are_400_in_words(self) -> None:
        self.error("/api/history?limit=0", 400, "limit must be between 1 and 1000")
        self.error("/api/history?limit=1001", 400, "limit must be between 1 and 1000")
        self.error("/api/history?limit=ten", 400, "expected an integer")
        self.error("/api/history?agent=gemini", 400, "agent must be one of")
        self.error("/api/history?before=yesterday", 400, "before must be an ISO-8601 time")
        self.error("/api/usage?days=x", 400, "expected an integer")
        self.error("/api/usage?agent=x", 400, "agent must be one of")
        code, body, _ = self.request("POST", "/api/history", {})
        self.assertEqual((code, body["ok"]), (405, False))

    def test_hostile_files_are_listed_or_skipped_never_a_500(self) -> None:
        d = os.path.join(self.paths.claude_projects, "-hostile")
        os.makedirs(d)
        with open(os.path.join(d, "bbbbbbbb-0000-0000-0000-000000000001.jsonl"), "wb") as f:
            f.write(b"\x00\xff not json\n[1,2]\n" + b"{" * 10000 + b"\n"
                    + b'{"type":"user","message":{"content":"<img src=x onerror=alert(1)> hi"},'
                      b'"cwd":"/w/<b>x</b>","timestamp":"2026-01-01T00:00:00Z"}\n{"torn')
        os.makedirs(os.path.join(d, "cccccccc-dir.jsonl"))        # a directory, not a file
        with open(os.path.join(d, "..hidden.jsonl"), "w") as f:  # not a session id
            f.write("{}")
        with open(self.paths.history_cache, "w") as f:           # a broken cache: read again
            f.write("{broken")
        rows = {r["session_id"]: r for r in self.history()["sessions"]}
        hostile = rows["bbbbbbbb-0000-0000-0000-000000000001"]
        self.assertEqual(hostile["title"], "<img src=x onerror=alert(1)> hi")  # text, as is
        self.assertEqual((hostile["project_dir"], hostile["project"], hostile["usage"]["turns"]),
                         ("/w/<b>x</b>", "b>", 0))
        self.assertNotIn("cccccccc-dir", rows)
        self.assertNotIn("..hidden", rows)
        self.assertEqual(len(rows), len(self.files) + 1)

    def test_a_first_scan_out_of_time_answers_with_what_it_has_and_goes_on(self) -> None:
        h = history.History(self.paths, budget_s=0.0)   # one file per request
        first = h.sessions({})
        self.assertFalse(first["complete"])
        self.assertEqual(len(first["sessions"]), len(self.files))   # all listed, most bare
        self.assertEqual(sum(1 for r in first["sessions"] if r["usage"] is None),
                         len(self.files) - 1)
        for _ in range(len(self.files)):
            answer = h.sessions({})
        self.assertTrue(answer["complete"])
        self.assertEqual(answer["sessions"], self.history()["sessions"])


class UsageTotalsTest(HistoryCase):
    def test_totals_per_project_and_per_day_add_up_to_the_sessions(self) -> None:
        sessions = self.history()["sessions"]
        totals = self.get_json("/api/usage?days=0")
        self.assertTrue(totals["complete"])
        fields = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                  "turns")
        for field in fields:
            want = sum(s["usage"][field] for s in sessions)
            self.assertEqual(totals["total"][field], want, field)
            self.assertEqual(sum(p[field] for p in totals["projects"]), want, field)
            self.assertEqual(sum(d[field] for d in totals["per_day"]), want, field)
        known = sum(s["usage"]["cost_usd"] or 0 for s in sessions)
        self.assertAlmostEqual(totals["total"]["cost_usd"], known, places=5)
        self.assertEqual(totals["total"]["unpriced_models"], ["fake-model"])
        demo = next(p for p in totals["projects"] if p["project"] == "demo-proj")
        self.assertEqual((demo["sessions"], demo["cost_usd"]), (1, 0.00056))
        days = [d["day"] for d in totals["per_day"]]
        self.assertEqual(days, sorted(days))
        self.assertIn("2026-11-20", days)
        # a window of the last 7 days holds none of these fixtures (2026-11-20 and older)
        recent = self.get_json("/api/usage?days=7")
        self.assertEqual((recent["days"], recent["total"]["turns"], recent["per_day"]), (7, 0, []))
        codex = self.get_json("/api/usage?days=0&agent=codex")
        self.assertEqual(codex["total"]["turns"], 5 + 2)


class ResumeArgvTest(unittest.TestCase):
    def test_claude_resume_replaces_the_session_id(self) -> None:
        self.assertEqual(CLAUDE.argv("/b/claude", "S", "go on", "plan", resume="R-1"),
                         ["/b/claude", "--resume", "R-1", "--permission-mode", "plan",
                          "--", "go on"])
        self.assertEqual(CLAUDE.argv("/b/claude", "S", resume="R-1"),
                         ["/b/claude", "--resume", "R-1"])

    def test_codex_resume_subcommand(self) -> None:
        self.assertEqual(CODEX.argv("/b/codex", prompt="-x more", resume="R-1"),
                         ["/b/codex", "resume", "R-1", "--", "-x more"])
        self.assertEqual(CODEX.argv("/b/codex", resume="R-1"), ["/b/codex", "resume", "R-1"])

    def test_resume_must_be_an_id(self) -> None:
        for bad in ("-c", "../x", "a b", "x/y", "a" * 200, 5, ["x"], "--last"):
            with self.assertRaises(launch.ApiError) as e:
                launch.parse({"agent": "claude", "project_dir": "/", "resume": bad})
            self.assertEqual(e.exception.status, 400)
        self.assertEqual(launch.parse({"agent": "codex", "project_dir": "/", "resume": "A_b-1"})
                         .resume, "A_b-1")
        self.assertEqual(launch.parse({"agent": "codex", "project_dir": "/", "resume": None})
                         .resume, "")


class ResumeEndpointTest(HistoryCase):
    """POST /api/sessions with "resume", into a private tmux server with a recording CLI."""

    def setUp(self) -> None:
        super().setUp()
        self.project = os.path.join(self.home, "work", "proj")
        os.makedirs(self.project)
        self.record = os.path.join(self.home, "record.json")
        self.bindir = _stub_bin(self.home, "claude", "codex")
        self.socket = os.path.join(self.home, "tmux-%s" % uuid.uuid4().hex[:6])
        env = dict(self.env, PATH=self.bindir + ":/usr/bin:/bin", LAUNCH_RECORD=self.record,
                   AMC_TMUX_SOCKET=self.socket)
        core = self.server.core
        self.server.app.replace_launcher(
            launch.Launcher(self.paths, env, watcher=Watcher(core, terminals.load(env=env))))

    def post(self, body: Dict[str, Any]):
        return self.request("POST", "/api/sessions", dict(body, project_dir=self.project))[:2]

    def recorded(self) -> Dict[str, Any]:
        deadline = time.monotonic() + 10
        while not os.path.exists(self.record):
            self.assertLess(time.monotonic(), deadline, "the launched program never ran")
            time.sleep(0.05)
        with open(self.record) as f:
            return json.load(f)

    def kill_tmux(self) -> None:
        subprocess.run([tools.require("tmux"), "-S", self.socket, "kill-server"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)

    def test_unknown_or_running_sessions_are_refused(self) -> None:
        code, answer = self.post({"agent": "claude", "resume": "no-such-session"})
        self.assertEqual((code, answer["ok"]), (404, False), answer)
        self.assertIn("no Claude Code session no-such-session to resume", answer["error"])
        code, answer = self.post({"agent": "codex",
                                  "resume": "aaaaaaaa-0000-0000-0000-000000000001"})
        self.assertEqual(code, 404, answer)  # a Claude session is no Codex one
        sid = "aaaaaaaa-0000-0000-0000-000000000001"
        proc = self.run_hook({"hook_event_name": "UserPromptSubmit", "session_id": sid,
                              "transcript_path": self.files[sid], "cwd": self.project,
                              "prompt": "still here"})
        self.assertEqual(proc.returncode, 0)
        code, answer = self.post({"agent": "claude", "resume": sid})
        self.assertEqual((code, answer["ok"]), (409, False), answer)
        self.assertIn("still running", answer["error"])
        self.assertFalse(os.path.exists(self.record))

    def test_claude_resumes_under_the_same_id_and_its_card_shows_at_once(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux)
        sid = "aaaaaaaa-0000-0000-0000-000000000004"
        code, answer = self.post({"agent": "claude", "resume": sid, "prompt": "go on; $(no)"})
        self.assertEqual((code, answer["ok"], answer["session_id"]), (200, True, sid), answer)
        self.assertEqual(self.recorded()["argv"], ["--resume", sid, "--", "go on; $(no)"])
        card = self.server.core.session(sid)
        self.assertEqual((card["status"], card["launched"]["resume"]), ("starting", sid))
        self.assertEqual(self.recorded()["pane"], card["tmux_pane"])

    def test_codex_resumes_in_a_placeholder_card(self) -> None:
        tools.require("tmux")
        self.addCleanup(self.kill_tmux)
        sid = "01a1fb53-9ffa-73e3-8bb2-dd747b4e3c31"
        code, answer = self.post({"agent": "codex", "resume": sid})
        self.assertEqual((code, answer.get("placeholder")), (200, True), answer)
        self.assertEqual(self.recorded()["argv"], ["resume", sid])
        self.assertEqual(self.recorded()["cwd"], self.project)


if __name__ == "__main__":
    unittest.main()
