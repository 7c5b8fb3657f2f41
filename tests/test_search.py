"""Full-text search (GET /api/search, amc_server/index/) against a real server and real files.

Transcripts are the recorded Claude Code 2.1.329 and Codex 0.169.0 fixtures, or lines written in
Claude Code 2.1.329's own record format, placed where the agents keep them in the test's HOME; the
server finds them by its walk (past transcripts) or by the core's watchers (live ones). Every hit
is checked against what `/api/conversation` says of the same message.
"""
import json
import os
import random
import shutil
import sqlite3
import time
import unittest
import urllib.parse
import uuid

from amc_server.index.documents import MARK_END, MARK_START
from tests.support.helpers import FIXTURES, ServerTestCase, make_server

CLAUDE = os.path.join(FIXTURES, "claude-code-2.1.329")
CODEX = os.path.join(FIXTURES, "codex-0.169.0")
WAIT_S = 10.0


def user(sid, text, cwd="/home/dev/work/demo-proj", ts="2026-11-21T10:00:00.000Z"):
    """Return a typed prompt as Claude Code 2.1.329 writes it."""
    return {"parentUuid": None, "isSidechain": False, "type": "user", "promptId": str(uuid.uuid4()),
            "message": {"role": "user", "content": text}, "uuid": str(uuid.uuid4()),
            "timestamp": ts, "origin": {"kind": "human"}, "userType": "external",
            "entrypoint": "cli", "cwd": cwd, "sessionId": sid, "version": "2.1.329"}


def assistant(sid, blocks, cwd="/home/dev/work/demo-proj", ts="2026-11-21T10:00:01.000Z",
              api_id=None):
    """Return one assistant line (one API message's content blocks)."""
    return {"parentUuid": None, "isSidechain": False, "type": "assistant",
            "uuid": str(uuid.uuid4()),
            "message": {"id": api_id or "msg_%s" % uuid.uuid4().hex[:20], "type": "message",
                        "role": "assistant", "model": "claude-opus-5-5", "content": blocks},
            "timestamp": ts, "userType": "external", "cwd": cwd, "sessionId": sid,
            "version": "2.1.329"}


def result(sid, call_id, text, ts="2026-11-21T10:00:02.000Z"):
    """Return the user line carrying a tool's output."""
    return {"parentUuid": None, "isSidechain": False, "type": "user", "uuid": str(uuid.uuid4()),
            "message": {"role": "user", "content": [{"tool_use_id": call_id, "type": "tool_result",
                                                     "content": text, "is_error": False}]},
            "timestamp": ts, "toolUseResult": {"stdout": text}, "cwd": "/home/dev/work/demo-proj",
            "sessionId": sid, "version": "2.1.329"}


def lines(*records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


class SearchCase(ServerTestCase):
    """A real server; helpers to place transcripts and to search."""

    def transcript_path(self, sid, project="demo-proj"):
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-" + project)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, sid + ".jsonl")

    def write(self, path, data, mode="ab"):
        with open(path, mode) as f:
            f.write(data)

    def claude(self, records, project="demo-proj", sid=None):
        """Write a new Claude transcript; return its session id."""
        sid = sid or str(uuid.uuid4())
        for r in records:
            r["cwd"], r["sessionId"] = "/home/dev/work/" + project, sid
        self.write(self.transcript_path(sid, project), lines(*records), "wb")
        return sid

    def rollout(self, fixture, sid=None):
        """Copy a Codex rollout fixture to CODEX_HOME/sessions/YYYY/MM/DD; return its id."""
        sid = sid or str(uuid.uuid4())
        folder = os.path.join(self.paths.codex_sessions, "2026", "11", "20")
        os.makedirs(folder, exist_ok=True)
        shutil.copy(os.path.join(CODEX, fixture),
                    os.path.join(folder, "rollout-2026-11-20T10-00-00-%s.jsonl" % sid))
        return sid

    def search(self, q, **params):
        """GET /api/search; return (status, body)."""
        query = urllib.parse.urlencode(dict(params, q=q))
        status, body, _ = self.request("GET", "/api/search?" + query)
        return status, body

    def hits(self, q, **params):
        status, body = self.search(q, **params)
        self.assertEqual(status, 200, body)
        return body["results"]

    def wait_hits(self, q, n=1, **params):
        """Wait until `q` has exactly `n` hits; return them."""
        deadline = time.monotonic() + WAIT_S
        while True:
            found = self.hits(q, **params)
            if len(found) == n:
                return found
            if time.monotonic() > deadline:
                self.fail("%r: %d hits, wanted %d: %r" % (q, len(found), n, found))
            time.sleep(0.05)

    def conversation(self, sid, agent=""):
        path = "/api/conversation/%s" % sid + ("?agent=%s" % agent if agent else "")
        return {m["id"]: m for m in self.get_json(path)["messages"]}

    def restart(self):
        """Stop the server and start another on the same HOME (its walk reads what is there)."""
        self._stop_server()
        self.server = make_server(self.paths, "127.0.0.1", 0)
        import threading
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.port = self.server.server_address[1]

    def index(self):
        return self.server.search_index

    def assert_marked(self, hit, term):
        snippet = hit["snippet"]
        self.assertIn(MARK_START + term + MARK_END, snippet)
        self.assertEqual(snippet.count(MARK_START), snippet.count(MARK_END))


class Hits(SearchCase):
    def test_hits_name_the_session_project_time_and_the_conversations_message(self):
        sid = str(uuid.uuid4())
        shutil.copy(os.path.join(CLAUDE, "bash-tool", "transcript.jsonl"),
                    self.transcript_path(sid))
        found = self.wait_hits("hello-from-bash", 2)
        messages = self.conversation(sid)
        for hit in found:
            self.assertEqual((hit["session_id"], hit["machine"], hit["agent"], hit["project"]),
                             (sid, "", "claude", "demo-proj"))
            msg = messages[hit["message_id"]]
            self.assertIn("hello-from-bash", json.dumps(msg))
            self.assertEqual(hit["timestamp"], msg["timestamp"])
            self.assert_marked(hit, "hello-from-bash")
        # the prompt (what was said) ranks above the tool call that ran it
        self.assertEqual(messages[found[0]["message_id"]]["role"], "user")
        self.assertEqual(set(found[0]) >= {"session_id", "machine", "agent", "project",
                                           "message_id", "timestamp", "snippet"}, True)

    def test_codex_rollouts_are_searched_with_the_conversations_ids(self):
        sid = self.rollout("codex-0.169.0-exec-apply-patch-gpt55.jsonl")
        found = self.wait_hits("apply_patch", 1)
        self.assertEqual((found[0]["session_id"], found[0]["agent"]), (sid, "codex"))
        msg = self.conversation(sid, "codex")[found[0]["message_id"]]
        self.assertIn("apply_patch", json.dumps(msg))
        self.assertEqual(found[0]["project"], "nogit")  # its cwd, /home/dev/work/nogit

    def test_ranking_puts_a_dense_prompt_before_a_passing_mention_in_tool_output(self):
        filler = " ".join("word%d" % i for i in range(300))
        mention = self.claude([user("x", "tidy up please"), assistant("x", [
            {"type": "tool_use", "id": "toolu_r1", "name": "Bash", "input": {"command": "ls"}}]),
            result("x", "toolu_r1", filler + " quokka " + filler)], project="beta")
        reply = self.claude([user("y", "what now"), assistant("y", [
            {"type": "text", "text": "I saw a quokka near " + filler}])], project="beta")
        dense = self.claude([user("z", "quokka quokka: find the quokka notes")], project="beta")
        found = self.wait_hits("quokka", 3)
        self.assertEqual([h["session_id"] for h in found], [dense, reply, mention])

    def test_filters_by_project_agent_machine_and_limit(self):
        a = self.claude([user("a", "marmot in alpha")], project="alpha")
        b = self.claude([user("b", "marmot in beta"), user("b", "marmot again")], project="beta")
        self.wait_hits("marmot", 3)
        self.assertEqual({h["session_id"] for h in self.hits("marmot", project="alpha")}, {a})
        self.assertEqual({h["session_id"] for h in self.hits("marmot", project="beta")}, {b})
        self.assertEqual(self.hits("marmot", agent="codex"), [])
        self.assertEqual(len(self.hits("marmot", agent="claude")), 3)
        self.assertEqual(self.hits("marmot", machine="devbox"), [])
        self.assertEqual(len(self.hits("marmot", machine="")), 3)
        self.assertEqual(len(self.hits("marmot", limit="1")), 1)
        self.assertEqual(len(self.hits("marmot", limit="0")), 1)      # at least one
        self.assertEqual(len(self.hits("marmot", limit="5000")), 3)   # at most 100

    def test_thinking_is_searched_only_when_asked(self):
        self.claude([user("t", "plan it"), assistant("t", [
            {"type": "thinking", "thinking": "the pangolin approach", "signature": "x"},
            {"type": "text", "text": "Done."}])])
        self.wait_hits("pangolin", 1, thinking="1")
        self.assertEqual(self.hits("pangolin"), [])

    def test_past_transcripts_are_found_by_the_walk_with_progress(self):
        self._stop_server()
        for n in range(3):
            self.claude([user("p", "archived ocelot number %d" % n)], project="old%d" % n)
        self.rollout("codex-0.169.0-exec-text-only.jsonl")
        self.restart()
        self.assertTrue(self.index().wait_ready(WAIT_S))
        status, body = self.search("ocelot")
        self.assertEqual(status, 200)
        self.assertEqual(len(body["results"]), 3)
        self.assertEqual({h["project"] for h in body["results"]}, {"old0", "old1", "old2"})
        self.assertEqual(body["index"], {"ready": True, "files_done": 4, "files_total": 4,
                                         "error": ""})
        # an empty query answers the progress alone
        self.assertEqual(self.search("")[1], {"results": [], "index": body["index"]})


class Incremental(SearchCase):
    def test_an_appended_prompt_is_searchable_and_old_hits_keep_their_ids(self):
        sid = self.claude([user("s", "first tapir"), assistant("s", [
            {"type": "text", "text": "noted the tapir"}])])
        before = self.wait_hits("tapir", 2)
        written = self.index().stats["messages"]
        self.write(self.transcript_path(sid), lines(user(sid, "second capybara")))
        hit = self.wait_hits("capybara", 1)[0]
        self.assertEqual(hit["message_id"], "claude-%s-2" % sid[:8])
        self.assertIn(hit["message_id"], self.conversation(sid))
        self.assertEqual(self.hits("tapir"), before)
        self.assertEqual(self.index().stats["messages"] - written, 1,
                         "only the appended message is written")

    def test_a_torn_last_line_waits_for_its_newline(self):
        sid = self.claude([user("s", "steady walrus")])
        self.wait_hits("walrus", 1)
        line = json.dumps(user(sid, "torn narwhal")).encode()
        self.write(self.transcript_path(sid), line[:40])
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            self.assertEqual(self.hits("narwhal"), [])
            time.sleep(0.1)
        self.write(self.transcript_path(sid), line[40:] + b"\n")
        self.assertEqual(self.wait_hits("narwhal", 1)[0]["message_id"], "claude-%s-1" % sid[:8])

    def test_a_late_tool_result_is_indexed_on_its_calls_message(self):
        sid = self.claude([user("s", "run it"), assistant("s", [
            {"type": "tool_use", "id": "toolu_late", "name": "Bash",
             "input": {"command": "cat zoo.txt"}}])])
        call = self.wait_hits("zoo", 1)[0]
        self.write(self.transcript_path(sid), lines(result(sid, "toolu_late", "a lonely axolotl")))
        hit = self.wait_hits("axolotl", 1)[0]
        self.assertEqual(hit["message_id"], call["message_id"])
        calls = self.conversation(sid)[hit["message_id"]]["tool_calls"]
        self.assertEqual(calls[0]["result"], "a lonely axolotl")
        self.assertEqual(len(self.hits("zoo")), 1, "the message is indexed once")

    def test_a_file_grown_while_the_server_was_down_is_caught_up_without_duplicates(self):
        sid = self.claude([user("s", "early gecko"), user("s", "more gecko")])
        self.wait_hits("gecko", 2)
        self._stop_server()
        self.write(self.transcript_path(sid), lines(user(sid, "late gecko iguana")))
        self.restart()
        self.assertTrue(self.index().wait_ready(WAIT_S))
        found = self.hits("gecko")
        self.assertEqual(sorted(h["message_id"] for h in found),
                         ["claude-%s-%d" % (sid[:8], n) for n in range(3)])
        self.assertEqual(len(self.hits("iguana")), 1)


class Replacement(SearchCase):
    def test_a_replaced_file_is_indexed_again(self):
        sid = self.claude([user("s", "old heron"), user("s", "old heron again")])
        self.wait_hits("heron", 2)
        path = self.transcript_path(sid)
        tmp = path + ".new"
        self.write(tmp, lines(user(sid, "new puffin")), "wb")
        os.replace(tmp, path)
        self.assertEqual(self.wait_hits("puffin", 1)[0]["message_id"], "claude-%s-0" % sid[:8])
        self.wait_hits("heron", 0)

    def test_a_truncated_file_is_indexed_again(self):
        sid = self.claude([user("s", "long lemur story"), user("s", "lemur part two"),
                           user("s", "lemur part three")])
        self.wait_hits("lemur", 3)
        with open(self.transcript_path(sid), "r+b") as f:
            f.truncate(0)
            f.write(lines(user(sid, "short lemur")))
        found = self.wait_hits("lemur", 1)
        self.assertEqual(found[0]["message_id"], "claude-%s-0" % sid[:8])
        self.assert_marked(found[0], "lemur")
        self.assertIn("short", found[0]["snippet"])

    def test_a_deleted_transcript_leaves_the_index(self):
        sid = self.claude([user("s", "doomed dodo")])
        self.wait_hits("dodo", 1)
        os.remove(self.transcript_path(sid))
        self.wait_hits("dodo", 0)

    def test_an_unreadable_or_other_version_index_is_rebuilt(self):
        self.claude([user("s", "rebuilt raven")])
        self.wait_hits("raven", 1)
        self._stop_server()
        with sqlite3.connect(self.paths.index_file) as conn:
            conn.execute("UPDATE meta SET value = '999' WHERE key = 'version'")
        self.restart()
        self.assertTrue(self.index().wait_ready(WAIT_S))
        self.assertEqual(len(self.hits("raven")), 1)
        with sqlite3.connect(self.paths.index_file) as conn:
            self.assertEqual(conn.execute("SELECT value FROM meta").fetchone(), ("1",))
        self._stop_server()
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.paths.index_file + suffix):
                os.remove(self.paths.index_file + suffix)
        self.write(self.paths.index_file, b"this is not a database" * 100, "wb")
        self.restart()
        self.assertTrue(self.index().wait_ready(WAIT_S))
        self.assertEqual(len(self.hits("raven")), 1)

    def test_an_index_that_cannot_be_made_answers_503_in_words(self):
        self._stop_server()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.paths.index_file + suffix):
                os.remove(self.paths.index_file + suffix)
        os.makedirs(self.paths.index_file)  # a directory where the file should be
        self.restart()
        deadline = time.monotonic() + WAIT_S
        while True:
            status, body = self.search("anything")
            if status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(status, 503, body)
        self.assertEqual(body["ok"], False)
        self.assertIn("search is unavailable: cannot create the search index", body["error"])
        self.assertEqual(self.get_json("/api/state")["sessions"], [])  # the rest still works

    def test_broken_lines_in_a_transcript_are_skipped_not_fatal(self):
        good = lines(user("s", "valid vicuna"))
        self.write(self.transcript_path("b-" + str(uuid.uuid4())),
                   b'{"type": "user", "message": \n[1, 2]\n"text"\n\xff\xfe\n' + good
                   + b'{"type": "mystery", "x": 1}\n', "wb")
        self.assertEqual(len(self.wait_hits("vicuna", 1)), 1)


class IndexErrors(SearchCase):
    """index.sqlite damaged, removed or full while the server runs: words, then a rebuild."""

    def answers_until_found(self, q, timeout=WAIT_S):
        """Search `q` until it has a hit; return every (status, body) seen on the way."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.search(q)
            seen.append((status, body))
            if status == 200 and body.get("results"):
                return seen
            if time.monotonic() > deadline:
                self.fail("%r never found again; the answers: %r" % (q, seen[-3:]))
            time.sleep(0.05)

    def assert_said_in_words(self, seen, *words):
        """Every answer is 200; each one without hits says in `index` why (one of `words`)."""
        for status, body in seen:
            self.assertEqual(status, 200, body)
            if not body["results"]:
                self.assertFalse(body["index"]["ready"], body)
                self.assertTrue(any(w in body["index"]["error"] for w in words), body)
        self.assertTrue(seen[0][1]["results"] == [] or len(seen) == 1)

    def assert_index_is_whole_again(self, q):
        self.assertTrue(self.index().wait_ready(WAIT_S))
        status, body = self.search(q)
        self.assertEqual((status, len(body["results"]), body["index"]["error"]), (200, 1, ""))
        with sqlite3.connect(self.paths.index_file) as conn:
            self.assertEqual(conn.execute("SELECT value FROM meta").fetchone(), ("1",))

    def test_an_index_overwritten_while_the_server_runs_is_rebuilt_by_the_walk(self):
        server = self.server
        self.claude([user("s", "garbled cormorant")])
        self.wait_hits("cormorant", 1)
        self.write(self.paths.index_file, b"this is not a database" * 200, "r+b")
        seen = self.answers_until_found("cormorant")
        self.assert_said_in_words(seen, "damaged", "being rebuilt")
        self.assertIs(self.server, server)  # no restart
        self.assert_index_is_whole_again("cormorant")

    def test_an_index_removed_while_the_server_runs_is_made_again_by_the_walk(self):
        self.claude([user("s", "vanished vole")])
        self.wait_hits("vole", 1)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.paths.index_file + suffix):
                os.remove(self.paths.index_file + suffix)
        status, body = self.search("vole")
        self.assertEqual(status, 200, body)
        if not body["results"]:  # the walk may have made it again already
            self.assertIn("search index", body["index"]["error"])
            self.assertFalse(body["index"]["ready"])
        seen = self.answers_until_found("vole")
        self.assert_said_in_words(seen, "missing", "being rebuilt", "made again")
        self.assert_index_is_whole_again("vole")

    def test_a_full_index_says_the_disk_is_full_and_catches_up_after(self):
        from unittest import mock
        from amc_server.index import db
        self.claude([user("s", "early flamingo")])
        self.wait_hits("flamingo", 1)
        pragmas = db._pragmas

        def capped(conn):  # SQLite answers SQLITE_FULL once the file would grow
            pragmas(conn)
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute("PRAGMA max_page_count = %d" % pages)
        full = mock.patch.object(db, "_pragmas", capped)
        full.start()
        self.addCleanup(full.stop)
        rnd = random.Random(5)
        filler = " ".join("%x" % rnd.getrandbits(64) for _ in range(20000))
        self.claude([user("s", "late flamingo pelican " + filler)], project="other-proj")
        deadline = time.monotonic() + WAIT_S
        while True:
            status, body = self.search("pelican")
            self.assertEqual(status, 200, body)  # never "cannot search for that"
            if "full" in body["index"]["error"]:
                break
            self.assertLess(time.monotonic(), deadline, body)
            time.sleep(0.05)
        self.assertEqual(body["results"], [])
        self.assertIn("the disk holding the search index %s is full" % self.paths.index_file,
                      body["index"]["error"])
        self.assertEqual(len(self.hits("flamingo")), 1)  # what is indexed is still searchable
        full.stop()  # space again: the next walk writes what failed
        self.answers_until_found("pelican", timeout=3 * WAIT_S)
        self.assertEqual(len(self.hits("flamingo")), 2)
        self.assertEqual(self.search("flamingo")[1]["index"]["error"], "")

    def test_sqlite_errors_are_told_apart(self):
        from amc_server.index import db
        path = self.paths.index_file
        full = db.explain(sqlite3.OperationalError("database or disk is full"), path)
        self.assertIsInstance(full, db.IndexFull)
        self.assertIn("is full", str(full))
        self.write(path, b"x", "ab")
        for message in ("file is not a database", "database disk image is malformed"):
            self.assertIsInstance(db.explain(sqlite3.DatabaseError(message), path),
                                  db.IndexDamaged, message)
        self.assertNotIsInstance(db.explain(sqlite3.OperationalError("database is locked"),
                                            path), (db.IndexDamaged, db.IndexFull))


class HostileQueries(SearchCase):
    SYNTAX = 'use NOT OR AND NEAR col:value "quoted" (paren) a^b -minus +plus star* {text}'

    def test_fts_syntax_is_searched_as_literal_words(self):
        sid = self.claude([user("s", self.SYNTAX)])
        self.wait_hits("paren", 1)
        for q in ("NOT", "OR AND", "col:value", '"quoted"', "(paren)", "a^b", "-minus", "+plus",
                  "NEAR", "{text}", "star*", "st*", "use:NOT", '"a^b'):
            found = self.hits(q)
            self.assertEqual([h["session_id"] for h in found], [sid], q)
        for q in ("NEAR(a b)", "missing AND", '"value col"', "s*"):
            self.assertEqual(self.hits(q), [], q)

    def test_odd_queries_are_clear_400s_or_literal_searches(self):
        self.claude([user("s", "plain yak")])
        self.wait_hits("yak", 1)
        for q, needle in (("x" * 10240, "too long"), (" ".join(["yak"] * 40), "too many words")):
            status, body = self.search(q)
            self.assertEqual(status, 400, q[:20])
            self.assertEqual(body["ok"], False)
            self.assertIn(needle, body["error"])
        for params, needle in (({"limit": "abc"}, "limit"), ({"agent": "gpt"}, "agent"),
                               ({"thinking": "yes"}, "thinking")):
            status, body = self.search("yak", **params)
            self.assertEqual((status, body["ok"]), (400, False), params)
            self.assertIn(needle, body["error"])
        for q in ("", "   ", '"', '""', "***", "*", "-", "'", "\\", "yak\x00", "\x00\x01", "^",
                  "()", ":", "\u202e", "\ud7ff", "\U0001f600"):
            status, body = self.search(q)
            self.assertEqual(status, 200, repr(q))
        self.assertEqual(len(self.hits("yak\x00")), 1)

    def test_no_query_ever_answers_500(self):
        self.claude([user("s", "some words to match against: alpha beta gamma")])
        self.wait_hits("gamma", 1)
        rnd = random.Random(11)
        alphabet = 'ab "*()^:-+{}[]\\\'/.,;NEARORNOTAND\t\n\x00\u00e9\u4e2d\ue000\ue001'
        for _ in range(300):
            q = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
            status, body = self.search(q)
            self.assertIn(status, (200, 400), repr(q))
            if status == 400:
                self.assertEqual(body["ok"], False)

    def test_transcript_text_cannot_fake_a_highlight(self):
        self.claude([user("s", "<img src=x onerror=alert(1)> \ue000fake\ue001 marked hyena "
                           "\ue001 stray")])
        hit = self.wait_hits("hyena", 1)[0]
        snippet = hit["snippet"]
        self.assertEqual(snippet.count(MARK_START), 1, snippet)
        self.assertEqual(snippet.count(MARK_END), 1, snippet)
        self.assert_marked(hit, "hyena")
        self.assertIn("<img src=x onerror=alert(1)>", snippet)  # text; the page renders it inert


if __name__ == "__main__":
    unittest.main()
