"""One hostile number must not blank the hub: NaN, Infinity and numbers that overflow a float.

`1e999` is valid JSON, but Python reads it as inf, and Python's json also reads the non-JSON
`NaN`/`Infinity` literals; written out again they become `Infinity`/`NaN`, which no browser's
JSON.parse accepts. A remote machine that sent one left the hub's page with no sessions at all,
local ones included; a transcript tool input `{"n": 1e999}` broke /api/conversation, a hook
payload with `NaN` broke /api/events and /api/activity (issue 17, finding 4).

What holds: every decode of what others write (`store.loads`) turns such a number into null,
and every encode (`store.dumps`, `allow_nan=False`) refuses one loudly instead of writing invalid
JSON. Checked here as a user meets it: a real hub (`bin/amc serve`) following a machine whose
feed carries them (the machine's `ssh` is a stand-in on the hub's PATH that prints the feed, the
lightest real path into the hub's feed reader), real transcripts, the real `bin/amc-hook`, and
every answer parsed by a strict parser; plus a real Chromium on that hub.
"""
import ast
import glob
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from typing import Any, Dict, List, Optional

from tests.support.amcproc import AmcServer
from tests.support.helpers import FIXTURES, HOOK, ROOT, ServerTestCase, isolated_env
from tests.support.sse import SSEClient

from amc_server import jsonl
from amc_server import store
from amc_server.paths import get_paths

HOSTILE = ("1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1E+400")
SCENARIO = os.path.join(FIXTURES, "claude-code-2.1.329", "ask-option")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def strict(text: Any) -> Any:
    """Parse `text` as a browser's JSON.parse must: no NaN/Infinity, no number that is inf."""
    def constant(name: str) -> None:
        raise ValueError("not JSON: %s" % name)

    def number(literal: str) -> float:
        value = float(literal)
        if value in (float("inf"), float("-inf")):
            raise ValueError("a number no float holds: %s" % literal)
        return value

    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, parse_constant=constant, parse_float=number)


class StrictSSE(SSEClient):
    """The tests' SSE client, but each event's data must parse strictly (as EventSource's page)."""

    def _parse(self, block: str) -> Optional[Dict[str, Any]]:
        data = [line[5:] for line in block.split("\n") if line.startswith("data:")]
        if data:
            strict("\n".join(d[1:] if d.startswith(" ") else d for d in data))
        return super()._parse(block)


# -- the two helpers ------------------------------------------------------------------------------

class Decode(unittest.TestCase):
    def test_non_finite_numbers_read_as_null_from_text_and_bytes(self):
        for hostile in HOSTILE:
            line = '{"a": %s, "b": [1, %s], "c": {"d": %s}}' % (hostile, hostile, hostile)
            for data in (line, line.encode()):
                self.assertEqual(store.loads(data), {"a": None, "b": [1, None], "c": {"d": None}},
                                 data)

    def test_finite_numbers_are_kept_exactly(self):
        self.assertEqual(store.loads("[1.5, -0.0, 1e308, -1.7976931348623157e308, 1e-999, 10]"),
                         [1.5, -0.0, 1e308, -1.7976931348623157e308, 0.0, 10])
        self.assertEqual(store.loads(b"[%s]" % (b"9" * 400)), [int("9" * 400)])

    def test_store_files_and_lines_read_the_same_way(self):
        d = tempfile.mkdtemp(prefix="amc-json-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "x.jsonl")
        with open(path, "w") as f:
            f.write('{"n": 1e999}\n{"n": NaN}\n{"n": -Infinity}\n')
        self.assertEqual(jsonl.read_objects(path), [{"n": None}] * 3)
        self.assertEqual(jsonl.read_since(path, 0), [{"n": None}] * 3)
        with open(path, "w") as f:
            f.write('{"n": [Infinity]}')
        self.assertEqual(store.read_json(path), {"n": [None]})


class Encode(unittest.TestCase):
    def test_a_non_finite_number_fails_at_the_encode_in_words(self):
        for value in (float("nan"), float("inf"), float("-inf")):
            for options in ({}, {"ensure_ascii": False, "separators": (",", ":")}):
                with self.assertRaisesRegex(ValueError, "NaN or Infinity cannot be written as "
                                                        "JSON"):
                    store.dumps({"usage": {"cost_usd": value}}, **options)

    def test_nothing_is_written_to_a_file_or_a_line(self):
        d = tempfile.mkdtemp(prefix="amc-json-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "s.json")
        store.write_json_atomic(path, {"ok": 1})
        with self.assertRaises(ValueError):
            store.write_json_atomic(path, {"ok": float("nan")})
        with open(path, "rb") as f:
            self.assertEqual(strict(f.read()), {"ok": 1})
        fd = os.open(os.path.join(d, "e.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.addCleanup(os.close, fd)
        with self.assertRaises(ValueError):
            store.append_line(fd, {"n": float("inf")})
        self.assertEqual(os.path.getsize(os.path.join(d, "e.jsonl")), 0)

    def test_the_options_call_sites_use_still_work(self):
        self.assertEqual(store.dumps({"a": "\u00e9"}), '{"a": "\\u00e9"}')
        self.assertEqual(store.dumps({"a": "\u00e9", "b": [1]}, ensure_ascii=False,
                                     separators=(",", ":")), '{"a":"\u00e9","b":[1]}')
        self.assertEqual(store.dumps({"b": 1, "a": 2}, sort_keys=True), '{"a": 2, "b": 1}')


class OneMechanism(unittest.TestCase):
    """Every JSON encode and decode in amc_server/ and bin/ goes through store.py."""

    def test_no_json_dumps_or_loads_outside_store(self):
        files = glob.glob(os.path.join(ROOT, "amc_server", "**", "*.py"), recursive=True) + \
            glob.glob(os.path.join(ROOT, "bin", "*"))
        self.assertGreater(len(files), 50)
        found = []
        for path in files:
            if path.endswith(os.path.join("amc_server", "store.py")) or not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                name = ""
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                        node.value.id == "json":
                    name = "json." + node.attr
                elif isinstance(node, ast.ImportFrom) and node.module == "json":
                    name = "from json import " + ", ".join(a.name for a in node.names)
                if name in ("json.dumps", "json.dump", "json.loads", "json.load",
                            "json.JSONEncoder", "json.JSONDecoder") or name.startswith("from json"):
                    found.append("%s:%d %s" % (os.path.relpath(path, ROOT), node.lineno, name))
        self.assertEqual(found, [], "JSON is written with store.dumps (allow_nan=False) and read "
                                    "with store.loads (non-finite numbers -> null), nowhere else")


# -- a real server: transcripts, the hook ---------------------------------------------------------

class Local(ServerTestCase):
    def get_strict(self, path: str) -> Any:
        """GET `path`; return its body parsed strictly (not by the lenient test client)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path, headers={"Host": "127.0.0.1:%d" % self.port})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200, body[:300])
        return strict(body)

    def test_an_answer_that_still_holds_nan_is_the_json_500_not_invalid_json(self):
        from amc_server.http import api
        original = api.ROUTES[0]
        api.ROUTES[0] = (original[0], original[1], lambda app, req: (200, {"n": float("nan")}))
        self.addCleanup(api.ROUTES.__setitem__, 0, original)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        with self.assertLogs("amc", "ERROR") as logs:
            conn.request("GET", "/api/state", headers={"Host": "127.0.0.1:%d" % self.port})
            resp = conn.getresponse()
            body = resp.read()
        conn.close()
        self.assertEqual((resp.status, strict(body)),
                         (500, {"ok": False, "error": "internal error: ValueError"}))
        self.assertIn("NaN or Infinity cannot be written as JSON", "\n".join(logs.output))

    def test_conversation_with_a_tool_input_1e999_is_standard_json(self):
        with open(os.path.join(SCENARIO, "hooks.jsonl")) as f:
            payloads = [json.loads(line)["payload"] for line in f]
        sid = payloads[0]["session_id"]
        folder = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj")
        os.makedirs(folder, exist_ok=True)
        transcript = os.path.join(folder, sid + ".jsonl")
        with open(os.path.join(SCENARIO, "transcript.jsonl")) as f:
            records = [json.loads(line) for line in f if line.strip()]
        call = next(r for r in records if r.get("type") == "assistant" and any(
            isinstance(b, dict) and b.get("type") == "tool_use" for b in r["message"]["content"]))
        call = json.loads(json.dumps(call))
        block = next(b for b in call["message"]["content"] if b.get("type") == "tool_use")
        block.update(id="toolu_hostile1e999", name="Bash", input={"n": "@N@", "m": "@M@"})
        last = [r["uuid"] for r in records if "uuid" in r][-1]
        call.update(uuid="0b7c5c1e-0000-4a4a-9c9c-00000000e999", parentUuid=last)
        line = json.dumps(call).replace('"@N@"', "1e999").replace('"@M@"', "NaN")
        with open(transcript, "w") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records) + line + "\n")
        for p in payloads[:3]:
            self.assertEqual(self.run_hook(dict(p, transcript_path=transcript)).returncode, 0)
        conv = self.get_strict("/api/conversation/" + sid)
        calls = [c for m in conv["messages"] for c in m["tool_calls"]
                 if c["id"] == "toolu_hostile1e999"]
        self.assertEqual([c["input"] for c in calls], [{"n": None, "m": None}])
        self.get_strict("/api/conversation/%s?limit=1" % sid)
        self.get_strict("/api/state")

    def test_hook_payload_with_nan_gives_standard_json_everywhere(self):
        sid = "0b7c5c1e-0000-4a4a-9c9c-0000000000aa"
        raw = ('{"session_id": "%s", "hook_event_name": "PreToolUse", "cwd": "/home/dev/work/p", '
               '"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_input": {"command": "ls", '
               '"timeout": NaN, "n": 1e999, "m": -Infinity}}' % sid).encode()
        done = self.run_hook(raw)
        self.assertEqual((done.returncode, done.stdout), (0, b""), done.stderr)
        events = self.get_strict("/api/events/" + sid)
        [event] = [e for e in events["events"] if e["event"] == "PreToolUse"]
        self.assertEqual(event["payload"]["tool_input"],
                         {"command": "ls", "timeout": None, "n": None, "m": None})
        activity = self.get_strict("/api/activity")
        self.assertIn(sid, [e["session_id"] for e in activity["events"]])
        self.get_strict("/api/state")
        # and on disk: the event log and the session file are standard JSON too
        with open(self.paths.events_file(sid), "rb") as f:
            for line in f.read().splitlines():
                strict(line)
        with open(self.paths.session_file(sid), "rb") as f:
            strict(f.read())


# -- a real hub fed by a hostile machine ----------------------------------------------------------

FAKE_SSH = r'''#!%(python)s
# A machine's `amc stream` as the hub's `ssh` returns it: a snapshot, then heartbeats; once the
# test touches %(trigger)r, one `session` event. Numbers JSON has no form for are in both.
import os, sys, time
out = sys.stdout.buffer
def send(line):
    out.write(line.encode() + b"\n")
    out.flush()
with open(%(snapshot)r) as f:
    send(f.read().strip())
sent, n, end = False, 2, time.monotonic() + 120
try:
    while time.monotonic() < end:
        if not sent and os.path.exists(%(trigger)r):
            with open(%(later)r) as f:
                send(f.read().strip().replace("@ID@", "e1-%%d" %% n))
            sent = True
        n += 1
        send('{"id": "e1-%%d", "event": "heartbeat", "data": {}}' %% n)
        time.sleep(0.3)
except (BrokenPipeError, OSError):
    pass
'''


def remote_session(rid: str, project: str) -> str:
    """A machine's session as its feed carries it, with hostile numbers in it (text: not JSON
    Python would write)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return ('{"session_id": "%s", "agent": "claude", "status": "active", "project": "%s", '
            '"project_dir": "/home/dev/work/%s", "started_at": "%s", "last_event_at": "%s", '
            '"status_since": "%s", "last_event": "UserPromptSubmit", '
            '"last_message_preview": "hi", "pending_questions": [], '
            '"conversation_mtime_ns": 1e999, "hostile": [NaN, Infinity, -Infinity, -1e999], '
            '"usage": {"cost_usd": 1e999, "context_tokens": NaN, "turns": -Infinity}}'
            % (rid, project, project, now, now, now))


class HostileHub:
    """`bin/amc serve` (the hub) on a HOME of its own, whose remotes.json names m1; m1's `ssh`
    is FAKE_SSH on the hub's PATH. One local session, made by the real hook."""

    LOCAL = "0b7c5c1e-0000-4a4a-9c9c-0000000000bb"

    def __init__(self, case: unittest.TestCase) -> None:
        self.home = tempfile.mkdtemp(prefix="amc-hub-")
        case.addCleanup(shutil.rmtree, self.home, True)
        fake = os.path.join(self.home, "fakebin")
        os.makedirs(fake)
        self.trigger = os.path.join(self.home, "send-session")
        snapshot, later = os.path.join(self.home, "snapshot"), os.path.join(self.home, "later")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with open(snapshot, "w") as f:
            f.write('{"id": "e1-1", "event": "snapshot", "data": {"sessions": [%s], '
                    '"server_time": "%s", "setup": {}}}' % (remote_session("a", "far"), now))
        with open(later, "w") as f:
            f.write('{"id": "@ID@", "event": "session", "data": %s}'
                    % remote_session("b", "farther"))
        with open(os.path.join(fake, "ssh"), "w") as f:
            f.write(FAKE_SSH % {"python": sys.executable, "trigger": self.trigger,
                                "snapshot": snapshot, "later": later})
        os.chmod(os.path.join(fake, "ssh"), 0o755)
        self.env = isolated_env(self.home)
        self.paths = get_paths(self.env)
        self.env["AMC_DATA_DIR"] = self.paths.data
        os.makedirs(self.paths.data, mode=0o700, exist_ok=True)
        with open(self.paths.remotes_file, "w") as f:
            json.dump({"version": 1, "remotes": [{"name": "m1", "target": "m1"}]}, f)
        prompt = {"session_id": self.LOCAL, "hook_event_name": "UserPromptSubmit",
                  "prompt": "local work", "cwd": "/home/dev/work/nearby"}
        done = subprocess.run([sys.executable, HOOK], input=json.dumps(prompt).encode(),
                              env=self.env, capture_output=True, timeout=30)
        case.assertEqual(done.returncode, 0, done.stderr)
        self.server = AmcServer(dict(self.env, PATH=fake + os.pathsep + os.environ["PATH"]))
        self.server.start()
        case.addCleanup(self.server.stop)
        self.port = int(self.server.url.rsplit(":", 1)[1])

    def raw(self, path: str) -> bytes:
        with OPENER.open(self.server.url + path, timeout=10) as resp:
            return resp.read()

    def wait_raw(self, path: str, *needles: str, timeout: float = 20.0) -> bytes:
        """GET `path` until its bytes hold every needle; return them (not parsed)."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.raw(path)
            if all(n.encode() in body for n in needles):
                return body
            if time.monotonic() > deadline:
                raise AssertionError("%s never had %s: %r\n%s" % (
                    path, needles, body[:2000], self.server.stderr()))
            time.sleep(0.1)


class Hub(unittest.TestCase):
    def test_state_and_stream_stay_standard_json_with_the_local_session(self):
        hub = HostileHub(self)
        body = hub.wait_raw("/api/state", '"m1:a"', hub.LOCAL)
        state = strict(body)
        ids = {s["session_id"]: s for s in state["sessions"]}
        self.assertIn(hub.LOCAL, ids)
        self.assertEqual((ids["m1:a"]["conversation_mtime_ns"], ids["m1:a"]["hostile"],
                          ids["m1:a"]["usage"]),
                         (None, [None] * 4, {"cost_usd": None, "context_tokens": None,
                                             "turns": None}))
        stream = StrictSSE(hub.port)
        self.addCleanup(stream.close)
        snap = stream.until(lambda e: e["event"] == "snapshot", timeout=10)
        self.assertLessEqual({hub.LOCAL, "m1:a"}, {s["session_id"] for s in
                                                   snap["data"]["sessions"]})
        open(hub.trigger, "w").close()
        event = stream.until(lambda e: e["event"] == "session" and
                             e["data"]["session_id"] == "m1:b", timeout=15)
        self.assertEqual(event["data"]["usage"]["cost_usd"], None)
        state = strict(hub.raw("/api/state"))
        self.assertLessEqual({hub.LOCAL, "m1:a", "m1:b"},
                             {s["session_id"] for s in state["sessions"]})


class HubPage(unittest.TestCase):
    """The page of that hub in a real Chromium: the local session is still listed."""

    @classmethod
    def setUpClass(cls) -> None:
        from tests.support.browser import start_chromium
        api, cls.pw, cls.browser = start_chromium()
        cls.addClassCleanup(cls.pw.stop)
        cls.addClassCleanup(cls.browser.close)
        cls.expect = staticmethod(api.expect)

    def test_hub_page_lists_local_and_remote_sessions_after_1e999(self):
        hub = HostileHub(self)
        hub.wait_raw("/api/state", '"m1:a"', hub.LOCAL)
        context = self.browser.new_context()
        self.addCleanup(context.close)
        page = context.new_page()
        errors: List[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(hub.server.url + "/")
        card = 'article[data-testid="session-card"][data-session-id="%s"]'
        self.expect(page.locator(card % hub.LOCAL)).to_be_visible(timeout=15000)
        self.expect(page.locator(card % "m1:a")).to_be_visible(timeout=15000)
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
