"""Session titles (amc_server/agents/titles.py), as GET /api/history shows them.

Every transcript and rollout among the fixtures (public and recorded, Claude Code and Codex) gets
a title that is neither a slash command nor text the CLI or an IDE injected. Then the kinds of
session that made History titles read `/clear`, `/init` or `<ide_selection>The user selected...`
on real 1.0.x-2.0.x data, each made from real fixture lines (a 1.0.51 session's caveat, typed
prompt and replies, a 2.0.0 command line): a `/clear` first, a `/clear` mid-session, an
`<ide_selection>` first, an `<ide_opened_file>` first, `/init` first; titles of the CLI's own
(`ai-title`, a `summary` of this file's chain, one written in another file); no prompt at all; a
Codex rollout that starts with AGENTS.md and the environment context. A real server's
/api/history shows the same titles, and so do its /api/search hits and its /api/activity events
(hook events made by the real bin/amc-hook, Claude's prompt history), backlog and live.
"""
import glob
import json
import os
import re
import shutil
import tempfile
import time
import unittest
import urllib.parse
from typing import Dict, List, Tuple

from tests.support.helpers import ServerTestCase
from tests.support.sse import SSEClient
from amc_server.agents import titles
from amc_server.agents.claude import transcript as claude
from amc_server.agents.codex import transcript as codex
from amc_server.consumers.history_file import HistoryFile

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
PUBLIC = os.path.join(FIXTURES, "public", "claude")
NOT_TRANSCRIPTS = ("hooks.jsonl", "mcp.jsonl", "payloads.jsonl", "notify.jsonl")
INJECTED = claude.HIDDEN_PREFIXES + codex.INJECTED + (claude.INTERRUPT_PREFIX,)


def lines(name: str) -> List[str]:
    with open(os.path.join(PUBLIC, name), encoding="utf-8") as f:
        return f.read().splitlines()


# Real lines: cc-1.0.51-summary-system (1.0.51): 1-4 summaries of other sessions, 5 the caveat
# (isMeta), 6-7 a `!` shell command and its output, 8 the typed prompt "please fix these", 9- the
# replies. cc-leading-summaries (2.0.0): 5 the `/model` command line, 6 its output.
S1051 = lines("cc-1.0.51-summary-system-326189cf.jsonl")
S200 = lines("cc-leading-summaries-3680252d.jsonl")
CAVEAT, PROMPT, REPLIES = S1051[4], S1051[7], S1051[8:]
OTHER_SUMMARIES = S1051[:4]
SUMMARY_LEAF = json.loads(S1051[0])["leafUuid"]


def command(name: str) -> str:
    """The 2.0.0 `/model` command line as the CLI writes any built-in command."""
    line = S200[4]
    assert "<command-name>/model</command-name>" in line
    return line.replace("/model<", "/%s<" % name).replace(">model<", ">%s<" % name)


def typed(text: str, before: str = "") -> str:
    """The real prompt line with another text (and a block the IDE put before it)."""
    record = json.loads(PROMPT)
    blocks = ([{"type": "text", "text": before}] if before else []) + [{"type": "text", "text": text}]
    record["message"]["content"] = blocks if before else text
    return json.dumps(record, ensure_ascii=False)


def meta(text: str) -> str:
    """The real caveat line (isMeta) holding other injected text (a command's expansion)."""
    record = json.loads(CAVEAT)
    record["message"]["content"] = text
    return json.dumps(record)


IDE_SELECTION = ("<ide_selection>The user selected the lines 12 to 14 from /src/app/cache.py:\n"
                 "    def load(self):\n        return json.load(self.f)\n\nThis may or may not be "
                 "related to the current task.</ide_selection>")
IDE_OPENED = ("<ide_opened_file>The user opened the file /src/app/cache.py in the IDE. This may or "
              "may not be related to the current task.</ide_opened_file>")
INIT = ("Please analyze this codebase and create a CLAUDE.md file, which will be given to future "
        "instances of Claude Code to operate in this repository.")
LAST_UUID = [json.loads(x)["uuid"] for x in S1051 if '"uuid"' in x][-1]
AI_TITLE = lines("cc-2.1.220-compact-boundary-skeleton.jsonl")[6]
PROJECT = "claude-code-log"   # the cwd of the 1.0.51 lines

# session id -> (file lines, title the History shows)
CASES: Dict[str, Tuple[List[str], str]] = {
    # 1.0.x-2.0.x began the session after a /clear with the command itself
    "cccccccc-0000-0000-0000-000000000001": (
        [CAVEAT, command("clear"), S200[5], PROMPT] + REPLIES, "please fix these"),
    # a /clear mid-session: everything before was cleared, the topic is what came after
    "cccccccc-0000-0000-0000-000000000002": (
        [typed("what does cache.py do?")] + REPLIES[:3] + [CAVEAT, command("clear"), PROMPT]
        + REPLIES[3:], "please fix these"),
    "cccccccc-0000-0000-0000-000000000003": (
        [typed("please fix these", before=IDE_SELECTION)] + REPLIES, "please fix these"),
    "cccccccc-0000-0000-0000-000000000004": (
        [typed("please fix these", before=IDE_OPENED)] + REPLIES, "please fix these"),
    "cccccccc-0000-0000-0000-000000000005": (
        [CAVEAT, command("init"), meta(INIT), typed("now add a section on the tests")] + REPLIES,
        "now add a section on the tests"),
    # the CLI's own title wins over the prompt
    "cccccccc-0000-0000-0000-000000000006": ([PROMPT] + REPLIES + [AI_TITLE],
                                             "設定画面の表示不具合を調査"),
    # a summary naming this file's own record titles it; the other files' summaries do not
    "cccccccc-0000-0000-0000-000000000007": (
        OTHER_SUMMARIES + [json.dumps({"type": "summary", "summary": "Type fixes in the tests",
                                       "leafUuid": LAST_UUID})] + S1051[4:],
        "Type fixes in the tests"),
    "cccccccc-0000-0000-0000-000000000008": (S1051, "please fix these"),
    # nothing typed but a /model: no prompt at all
    "cccccccc-0000-0000-0000-000000000009": (S200, "untitled \u2014 danieldemmel.me-next"),
    # a `!` shell command and nothing typed to Claude
    "cccccccc-0000-0000-0000-000000000010": (S1051[4:7], "untitled \u2014 " + PROJECT),
}
CODEX_CASE = ("01a1fb51-0000-7000-8000-000000000077",
              os.path.join(FIXTURES, "public", "codex", "codex-0.77-real-session-start-simonw.jsonl"),
              "can you analyse the MD files in this directory and determine if the info we have is "
              "clear enough to start planning the migration?")


def read_title(path: str, agent: str) -> str:
    reader = HistoryFile(path, agent, os.path.basename(path))
    reader.refresh()
    return reader.title()


def fixture_files() -> List[Tuple[str, str]]:
    out = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "**", "*.jsonl"), recursive=True)):
        if not path.endswith(NOT_TRANSCRIPTS):
            out.append(("codex" if os.sep + "codex" in path[len(FIXTURES):] else "claude", path))
    return out


class TitleRuleTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="amc-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name: str, body: List[str]) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(body) + "\n")
        return path

    def test_no_fixture_title_is_a_slash_command_or_injected_text(self) -> None:
        files = fixture_files()
        self.assertGreater(len(files), 40)
        for agent, path in files:
            title = read_title(path, agent)
            where = os.path.relpath(path, FIXTURES)
            self.assertTrue(title.strip(), where)
            self.assertFalse(re.match(r"/[\w:-]+(\s|$)", title), (where, title))
            self.assertFalse(title.startswith(INJECTED), (where, title))
            self.assertFalse(re.match(r"<[a-z][a-z0-9]*[_-]", title), (where, title))

    def test_fixtures_whose_title_was_a_command_or_another_sessions_summary(self) -> None:
        for name, want in [
                # a custom command's arguments are what it was asked to do
                ("cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl",
                 "@CLAUDE.md を最新の状態にアップデートしてください"),
                # four summaries of other chains at the top, then `!uv run ty check`, then this
                ("cc-1.0.51-summary-system-326189cf.jsonl", "please fix these"),
                ("cc-leading-summaries-3680252d.jsonl", "untitled \u2014 danieldemmel.me-next"),
                ("cc-2.1.220-compact-boundary-skeleton.jsonl", "設定画面の表示不具合を調査"),
                ("cc-empty-file-b23cbd1d.jsonl", "untitled")]:
            self.assertEqual(read_title(os.path.join(PUBLIC, name), "claude"), want, name)

    def test_the_cases_of_the_real_sessions(self) -> None:
        for sid, (body, want) in CASES.items():
            self.assertEqual(read_title(self.write(sid + ".jsonl", body), "claude"), want, sid)
        sid, path, want = CODEX_CASE
        self.assertEqual(read_title(path, "codex"), want)

    def test_a_clear_after_the_prompt_is_found_later_in_a_growing_file(self) -> None:
        # the History reads a live file as it grows: the /clear comes after the first read
        path = self.write("grow.jsonl", [typed("what does cache.py do?")] + REPLIES[:3])
        reader = HistoryFile(path, "claude", "grow")
        reader.refresh()
        self.assertEqual(reader.title(), "what does cache.py do?")
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n".join([CAVEAT, command("clear"), S200[5]]) + "\n")
        reader.refresh()
        self.assertEqual(reader.title(), "what does cache.py do?")  # nothing typed after it yet
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n".join([typed("now the tests", before=IDE_OPENED)] + REPLIES[3:]) + "\n")
        reader.refresh()
        self.assertEqual(reader.title(), "now the tests")

    def test_typed_text(self) -> None:
        for text, want in [
                (IDE_SELECTION + "\n\nexplain this", "explain this"),
                (IDE_OPENED + "\n\nfix it", "fix it"),
                ("<ide_selection>a selection cut by the reader's clip", ""),
                ("<system-reminder>x</system-reminder>hello", "hello"),
                ("/init", ""), ("/model opus", ""), ("<command-name>/clear</command-name>", ""),
                ("<img src=x> is broken", "<img src=x> is broken"),     # typed HTML is kept
                ("/usr/bin/python3 crashes", "/usr/bin/python3 crashes"),  # a path, no command
                ("<environment_context>\n  <cwd>/w</cwd>\n</environment_context>", ""),
                ("Caveat: The messages below were generated by the user while running local "
                 "commands. DO NOT respond", "")]:
            self.assertEqual(titles.typed_text(text), want, text)
        self.assertEqual(titles.command_args("/orchestrator update the docs"), "update the docs")
        self.assertEqual(titles.command_args("/model opus"), "")


class TitledSessions(ServerTestCase):
    """A real server whose HOME holds every case's transcript and the Codex rollout."""

    def setUp(self) -> None:
        super().setUp()
        d = os.path.join(self.paths.claude_projects, "-Users-dain-workspace-claude-code-log")
        os.makedirs(d)
        for sid, (body, _) in CASES.items():
            with open(os.path.join(d, sid + ".jsonl"), "w", encoding="utf-8") as f:
                f.write("\n".join(body) + "\n")
        day = os.path.join(self.paths.codex_sessions, "2025", "12", "01")
        os.makedirs(day)
        sid, path, _ = CODEX_CASE
        shutil.copy(path, os.path.join(day, "rollout-2025-12-01T10-00-00-%s.jsonl" % sid))


class HistoryTitlesTest(TitledSessions):
    def titles(self) -> Dict[str, str]:
        return {r["session_id"]: r["title"] for r in self.get_json("/api/history")["sessions"]}

    def test_api_history_shows_what_each_session_was_about(self) -> None:
        self.maxDiff = None
        got = self.titles()
        want = {sid: title for sid, (_, title) in CASES.items()}
        want[CODEX_CASE[0]] = CODEX_CASE[2]
        self.assertEqual(got, want)

    def test_a_summary_another_file_wrote_for_this_session_titles_it(self) -> None:
        # 1.0.x-2.0.x: a later session's file starts with summaries of earlier chains. An
        # earlier session (the /clear case with a leaf of its own) and a later file whose first
        # line summarises that leaf.
        d = os.path.join(self.paths.claude_projects, "-Users-dain-workspace-claude-code-log")
        first, leaf = "dddddddd-0000-0000-0000-000000000001", "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
        body = [x.replace(LAST_UUID, leaf) for x in CASES["cccccccc-0000-0000-0000-000000000001"][0]]
        self.assertIn(leaf, body[-1])
        later = [json.dumps({"type": "summary", "summary": "Fixing ty warnings in test_cache",
                             "leafUuid": leaf})] + [PROMPT] + REPLIES[:2]
        for sid, lines_ in ((first, body), ("dddddddd-0000-0000-0000-000000000002", later)):
            with open(os.path.join(d, sid + ".jsonl"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines_) + "\n")
        got = self.titles()
        self.assertEqual(got[first], "Fixing ty warnings in test_cache")
        self.assertEqual(got["dddddddd-0000-0000-0000-000000000002"], "please fix these")
        self.assertEqual(got["cccccccc-0000-0000-0000-000000000001"], "please fix these")


# The sessions whose first prompt is a /clear then a real prompt, a prompt after a /clear
# mid-session, or a prompt behind an <ide_selection> (CASES 1-3): what they are about.
CLEARED, MID_CLEAR, SELECTED = ("cccccccc-0000-0000-0000-00000000000%d" % n for n in (1, 2, 3))
CWD = "/Users/dain/workspace/claude-code-log"


class SearchAndActivityTitlesTest(TitledSessions):
    """Search hits and Activity events name their session by the History's title."""

    def wait(self, what, get, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            got = get()
            if got:
                return got
            if time.monotonic() > deadline:
                self.fail("timed out waiting for " + what)
            time.sleep(0.05)

    def hits(self, q):
        return self.get_json("/api/search?" + urllib.parse.urlencode({"q": q}))["results"]

    def hook(self, sid, text):
        proc = self.run_hook({"session_id": sid, "hook_event_name": "UserPromptSubmit",
                              "prompt": text, "cwd": CWD})
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_search_hits_carry_the_title_not_the_slash_command_or_the_injected_text(self):
        # "cache" is in the cleared prompt of MID_CLEAR and in the selection of SELECTED
        found = self.wait("hits in both sessions", lambda: (lambda hs: hs if {
            MID_CLEAR, SELECTED} <= {h["session_id"] for h in hs} else None)(self.hits("cache")))
        for hit in found:
            self.assertEqual(hit["title"], CASES[hit["session_id"]][1], hit)
        found = self.wait("the /clear session", lambda: [
            h for h in self.hits("fix") if h["session_id"] == CLEARED])
        self.assertEqual({h["title"] for h in found}, {"please fix these"})
        # the title follows the file: a /clear and a new prompt appended
        path = os.path.join(self.paths.claude_projects, "-Users-dain-workspace-claude-code-log",
                            CLEARED + ".jsonl")
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n".join([CAVEAT, command("clear"), typed("rename the zebra module")]) + "\n")
        found = self.wait("the new prompt indexed", lambda: [
            h for h in self.hits("zebra") if h["session_id"] == CLEARED])
        self.assertEqual(found[0]["title"], "rename the zebra module")

    def test_activity_events_carry_the_title_in_the_backlog_and_live(self):
        self.hook(CLEARED, "/clear")
        self.hook(SELECTED, IDE_SELECTION + "\n\nplease fix these")
        os.makedirs(self.paths.claude_dir, exist_ok=True)
        with open(self.paths.claude_history, "a", encoding="utf-8") as f:
            f.write(json.dumps({"display": "/clear", "pastedContents": {},
                                "timestamp": 1796166263228, "project": CWD,
                                "sessionId": CLEARED}) + "\n")
        events = self.wait("three events", lambda: (lambda es: es if len(es) >= 3 else None)(
            self.get_json("/api/activity")["events"]))
        by_type = {(e["type"], e["session_id"]): e for e in events}
        for key, sid in ((("UserPromptSubmit", CLEARED), CLEARED),
                         (("UserPromptSubmit", SELECTED), SELECTED), (("history", CLEARED), CLEARED)):
            self.assertEqual(by_type[key]["title"], "please fix these", by_type[key])
        # live: a follower of the activity gets the title with each new event
        watching = SSEClient(self.port, "/api/stream?follow=*activity")
        self.addCleanup(watching.close)
        self.assertEqual(watching.next(5)["event"], "snapshot")
        self.hook(MID_CLEAR, "what does cache.py do?")
        event = watching.until(lambda e: e["event"] == "activity" and
                               e["data"]["session_id"] == MID_CLEAR)
        self.assertEqual(event["data"]["title"], "please fix these")
        self.assertEqual(event["data"]["summary"], "Prompt: what does cache.py do?")
        # an event without a session, and another machine's, are not looked up
        self.assertTrue(all(isinstance(e["title"], str) for e in
                            self.get_json("/api/activity")["events"]))


if __name__ == "__main__":
    unittest.main()
