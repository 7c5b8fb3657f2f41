"""`amc request`: one API request on stdin, its answer as one JSON line (what a hub runs here).

Run as a real process on a real data dir, with no AMC server here (answered in process) and with
one (handed to it over loopback with the token).
"""
import json
import os
import subprocess
import sys

from tests.support.builders import prompt_payload
from tests.support.helpers import AMC, IsolatedTestCase, ServerTestCase

from amc_server import store


class Requests:
    def request(self, req):
        raw = req if isinstance(req, bytes) else json.dumps(req).encode()
        done = subprocess.run([sys.executable, AMC, "request"], input=raw, env=self.env,
                              capture_output=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        answer = json.loads(lines[0])
        return answer["status"], answer["body"]

    def test_events_dismiss_and_errors_with_the_servers_own_answers(self):
        self.run_hook(prompt_payload("one", cwd="/tmp/proj"))
        status, body = self.request({"method": "GET", "path": "/api/events/one"})
        self.assertEqual(status, 200, body)
        self.assertEqual([e["event"] for e in body["events"]], ["UserPromptSubmit"])
        status, body = self.request({"method": "GET", "path": "/api/conversation/one"})
        self.assertEqual(status, 404, body)  # no transcript: the same words as the server's
        self.assertIn("transcript", body["error"])
        status, body = self.request({"method": "POST", "path": "/api/respond/nobody",
                                     "body": {"text": "yes"}})
        self.assertEqual((status, body), (404, {"ok": False, "error": "no live session nobody"}))
        status, body = self.request({"method": "POST", "path": "/api/dismiss/one"})
        self.assertEqual((status, body), (200, {"ok": True}))
        self.assertIn("one", json.dumps(store.read_json(self.paths.dismissed_file)))

    def test_bad_requests_are_refused_in_words(self):
        for raw, words in ((b"not json", "amc request:"),
                           ({"method": "DELETE", "path": "/api/state"}, "a request is"),
                           ({"method": "GET", "path": "/etc/passwd"}, "a request is"),
                           ({"method": "GET", "path": "/api/x", "query": {"a": 1}}, "query"),
                           ({"method": "GET", "path": "/api/stream"}, "not answered"),
                           ({"method": "GET", "path": "/api/nope"}, "no such endpoint")):
            status, body = self.request(raw)
            self.assertIn(status, (400, 404), raw)
            self.assertFalse(body["ok"])
            self.assertIn(words, body["error"], raw)


class WithoutServer(Requests, IsolatedTestCase):
    pass


class WithServer(Requests, ServerTestCase):
    def setUp(self):
        super().setUp()
        store.write_bytes_atomic(self.paths.pid_file, ("%d\n%s\n" % (
            os.getpid(), self.server.url)).encode())

    def test_a_dismiss_goes_to_the_running_server(self):
        self.run_hook(prompt_payload("two", cwd="/tmp/proj"))
        self.assertIsNotNone(self.server.core.session("two"))
        status, body = self.request({"method": "POST", "path": "/api/dismiss/two"})
        self.assertEqual((status, body), (200, {"ok": True}))
        self.server.core.flush()
        self.assertIsNone(self.server.core.session("two"))  # its own core, at once
