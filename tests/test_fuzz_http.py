"""Fuzzing HTTP request parsing: raw hostile requests to a real AMC server on a real port.

Request lines, methods, paths with %-escapes and `..`, query strings, header names and values,
Content-Length that lies, and bodies of broken JSON or wrong types to the POST endpoints (with
the page's token). Every answer must be a well-formed HTTP response with a 2xx/3xx/4xx status
(501/505 only for a method or an HTTP version the server does not implement) and, for an error,
the one JSON error shape; never a 500, never a traceback in the server's log; and the server
still answers /api/state after each request. The request helpers (query values, JSON bodies,
the Guard's header checks, routing) are fuzzed in process too. See tests/support/fuzzing.py.
"""
import glob
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import unittest
from email.message import Message
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

from tests.support.fuzzing import (
    deep_nesting, examples, given, hostile_text, json_line, json_values, require, st)
from tests.support.helpers import FIXTURES, isolated_env, serve

from amc_server.http import api, security
from amc_server.hook import record as hook
from amc_server.errors import ApiError
from amc_server.paths import get_paths

SID = "f022f022-0000-4000-8000-00000000f022"
KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3}) [^\r\n]*$")
QUERY_KEYS = ["limit", "after", "agent", "subagent", "message", "call", "field", "index",
              "last_event_id", "q", "project", "days", "before", "thinking", "machine"]


class ServerLog(logging.Handler):
    """Collects the server's error records (a traceback means a request failed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate as a browser never sends


def _segment() -> Any:
    return st.one_of(
        st.sampled_from(["..", ".", "", "%2e%2e", "%2E%2e%2f", "%00", "%ff", "%", "%zz", "a%2Fb",
                         "index.html", "lib", "api.js", "..%2f..%2fetc%2fpasswd", "~root",
                         "%C0%AE%C0%AE", SID, "m:" + SID, "a" * 300]),
        hostile_text(20).map(lambda s: quote(_bytes(s), safe="/%:@")))


def _sid() -> Any:
    return st.one_of(st.just(SID), st.just("m:" + SID), _segment())


@st.composite
def paths(draw: Any) -> str:
    sid = draw(_sid())
    templates = [
        "/api/state", "/api/activity", "/api/history", "/api/usage", "/api/search",
        "/api/events/%s", "/api/conversation/%s", "/api/conversation/%s/part",
        "/api/conversation/%s/image", "/api/dismiss/%s", "/api/respond/%s",
        "/api/channel/%s/permission", "/api/channel/%s/ack", "/api/channel/%s/reply",
        "/api/login", "/api/logout", "/api/nope/%s", "/", "/index.html", "/login.html",
        "/%s", "/lib/%s", "/api/", "/api", "//%s", "/api/conversation/%s/part/x"]
    path = draw(st.sampled_from(templates))
    path = path % sid if "%s" in path else path
    if draw(st.integers(0, 3)) == 0:
        path += "/" + "/".join(draw(st.lists(_segment(), max_size=4)))
    if draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), hostile_text(8)),
                                        st.one_of(hostile_text(), st.sampled_from(
                                            ["claude-%s-0" % SID[:8], "x-\u00b2", "x-" + "9" * 5000,
                                             "-1", "1e9", "content", "result", "t1", "9" * 5000,
                                             "\u0663", "a1"]))), max_size=5))
        raw = draw(st.booleans())
        query = "&".join(("%s=%s" % (k, v)) if raw else "%s=%s" % (quote(_bytes(k)), quote(_bytes(v), safe=""))
                         for k, v in pairs)
        path += "?" + query
    return path


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


headers = st.lists(st.tuples(
    st.one_of(st.sampled_from(["Origin", "Cookie", "If-None-Match", "Last-Event-ID", "Host",
                               "Sec-Fetch-Site", "X-AMC-Token", "Content-Type", "Transfer-Encoding",
                               "X-AMC-Client-Address", "Connection", "Expect"]),
              st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                      max_size=12)),
    st.one_of(st.sampled_from(["http://[", "http://127.0.0.1", "null", "chunked", "close",
                               "100-continue", "amc_session=x; amc_session=\"\"", "cross-site",
                               "*", "W/\"x\"", "1-2", "0-0"]), hostile_text(30).map(_latin1))),
    max_size=4)


@st.composite
def requests(draw: Any, port: int, token: str) -> bytes:
    method = draw(st.one_of(st.sampled_from(KNOWN_METHODS + ("FOO", "get", "G\tT")),
                            st.text(st.characters(min_codepoint=33, max_codepoint=126),
                                    min_size=1, max_size=8)))
    path = draw(paths())
    version = draw(st.sampled_from(["HTTP/1.1"] * 6 + ["HTTP/1.0", "HTTP/2.0", "HTTP/x", "",
                                                       "HTTP/1.1 extra", "http/1.1"]))
    line = " ".join(p for p in (method, path, version) if p)
    hdrs: List[Tuple[str, str]] = []
    if draw(st.integers(0, 8)):
        hdrs.append(("Host", "127.0.0.1:%d" % port))
    if method == "POST" and draw(st.integers(0, 6)):
        hdrs.append(("X-AMC-Token", token))
    hdrs += draw(headers)
    body = b""
    if method in ("POST", "PUT") or draw(st.integers(0, 5)) == 0:
        machine = "/api/machines" in path or "/api/sessions" in path
        body = draw(st.one_of(
            st.builds(json_line, json_values() if not machine else st.one_of(
                st.none(), st.integers(), st.lists(json_values(2))), st.booleans()),
            st.binary(max_size=60), deep_nesting().map(str.encode),
            st.sampled_from([b"{", b'{"token": 5}', b'{"token": "\\ud800"}', b"\xff", b"[]"])))
        length = draw(st.sampled_from(["exact"] * 5 + ["short", "long", "-5", "abc", "",
                                                       "99999999999", "1" * 5000, "none"]))
        value = {"exact": str(len(body)), "short": str(max(0, len(body) - 3)),
                 "long": str(len(body) + 50)}.get(length, length)
        if length != "none":
            hdrs.append(("Content-Length", value))
    head = line + "\r\n" + "".join("%s: %s\r\n" % (k, v) for k, v in hdrs) + "\r\n"
    return head.encode("latin-1", "replace") + body


def parse_responses(data: bytes, head_only: bool) -> List[Tuple[int, Dict[str, str], bytes]]:
    """Split what the server sent into (status, headers, body), checking each is well formed."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("a response without the end of its headers: %r" % data[:300])
        lines = head.split(b"\r\n")
        m = STATUS_LINE.match(lines[0])
        if not m:
            raise AssertionError("not an HTTP status line: %r" % lines[0][:200])
        hdrs = {}
        for raw in lines[1:]:
            name, colon, value = raw.partition(b":")
            if not colon:
                raise AssertionError("not a header line: %r" % raw[:200])
            hdrs[name.decode("latin-1").lower()] = value.decode("latin-1").strip()
        status = int(m.group(1))
        if (head_only and not out) or status == 304:  # only the first answers the HEAD
            body, data = b"", rest
        elif "content-length" in hdrs:
            n = int(hdrs["content-length"])
            if len(rest) < n:
                raise AssertionError("body shorter than its Content-Length")
            body, data = rest[:n], rest[n:]
        else:
            body, data = rest, b""  # until the connection closes (an event stream)
        out.append((status, hdrs, body))
    return out


class HttpFuzz(unittest.TestCase):
    """One real server for the class; each example is one raw connection."""

    @classmethod
    def setUpClass(cls) -> None:
        require()
        cls.home = tempfile.mkdtemp(prefix="amc-fuzz-http-")
        env = isolated_env(cls.home)
        env["AMC_DATA_DIR"] = os.path.join(cls.home, "data")
        cls.paths = get_paths(env)
        project = os.path.join(cls.paths.claude_projects, "-home-dev-work-demo")
        os.makedirs(project)
        transcript = os.path.join(project, SID + ".jsonl")
        shutil.copy(sorted(glob.glob(os.path.join(FIXTURES, "claude-code-*", "tool-views",
                                                  "transcript.jsonl")))[-1], transcript)
        hook.record({"session_id": SID, "hook_event_name": "UserPromptSubmit", "prompt": "hi",
                     "cwd": "/home/dev/work/demo", "transcript_path": transcript}, env)
        cls.log = ServerLog()
        cls.loggers = [logging.getLogger("amc.server"), logging.getLogger("amc.core")]
        cls.levels = [lg.level for lg in cls.loggers]
        for lg in cls.loggers:
            lg.addHandler(cls.log)
            lg.setLevel(logging.ERROR)
        cls.server = serve(cls.paths)
        cls.port = cls.server.server_address[1]
        cls.token = cls.server.guard.token

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()
        for lg, level in zip(cls.loggers, cls.levels):
            lg.removeHandler(cls.log)
            lg.setLevel(level)
        shutil.rmtree(cls.home, True)

    def send(self, raw: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
            try:
                s.sendall(raw)
                s.shutdown(socket.SHUT_WR)  # a body shorter than its Content-Length ends here
            except OSError:
                pass  # the server answered and closed before reading it all
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    def assert_answers(self, raw: bytes) -> None:
        data = self.send(raw)
        method = raw.split(b" ", 1)[0].decode("latin-1")
        first_line = raw.split(b"\r\n", 1)[0]
        self.assertTrue(data, "no answer at all")
        for status, hdrs, body in parse_responses(data, head_only=method == "HEAD"):
            allowed = status < 500 or (status == 501 and method not in KNOWN_METHODS) or \
                (status == 505 and not first_line.endswith(b"HTTP/1.1")
                 and not first_line.endswith(b"HTTP/1.0"))
            self.assertTrue(allowed, "status %d for %r: %r" % (status, raw[:300], body[:300]))
            if status >= 400 and method != "HEAD":
                self.assertTrue(hdrs.get("content-type", "").startswith("application/json"),
                                (status, hdrs, body[:200]))
                answer = json.loads(body)
                self.assertEqual(set(answer), {"ok", "error"}, answer)
                self.assertIs(answer["ok"], False)
                self.assertIsInstance(answer["error"], str)
            elif hdrs.get("content-type", "").startswith("application/json") and body:
                json.loads(body)
        self.assertEqual(self.log.records, [], "the server logged a failure")

    def assert_state(self) -> None:
        raw = ("GET /api/state HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % self.port).encode()
        [(status, _, body)] = parse_responses(self.send(raw), False)
        self.assertEqual(status, 200)
        self.assertIn(SID, [s["session_id"] for s in json.loads(body)["sessions"]])

    def setUp(self) -> None:
        self.log.records.clear()

    def test_hostile_requests_get_well_formed_answers(self):
        self._fuzz()

    def _fuzz(self) -> None:
        @examples(250, slow_io=True)
        @given(raw=requests(self.port, self.token))
        def run(raw: bytes) -> None:
            self.log.records.clear()
            self.assert_answers(raw)
            self.assert_state()
        run()


class RequestHelpersFuzz(unittest.TestCase):
    """What server.py and api.py do with a request before an endpoint runs, in process."""

    def setUp(self) -> None:
        require()

    @examples(300)
    @given(method=st.sampled_from(KNOWN_METHODS + ("FOO",)), path=paths(),
           pairs=st.lists(st.tuples(st.sampled_from(["Host", "Origin", "Cookie", "X-AMC-Token",
                                                     "Sec-Fetch-Site"]),
                                    st.one_of(hostile_text().map(_latin1), st.sampled_from(
                                        ["127.0.0.1", "http://[", "http://127.0.0.1:1",
                                         "https://[::1", "[::1]:7400"]))), max_size=5),
           login=st.booleans(), body=json_values())
    def test_guard_and_routing_raise_only_api_errors(self, method, path, pairs, login, body):
        guard = security.Guard("t" * 40, ["example.test"], login_required=login)
        headers = Message()
        if not any(k == "Host" for k, _ in pairs):
            headers["Host"] = "127.0.0.1:7400"
        for k, v in pairs:
            headers[k] = v
        for call in (lambda: guard.check(method, path.split("?")[0], headers),
                     lambda: api.resolve(method, path.split("?")[0]),
                     lambda: guard.login(body, headers)):
            try:
                call()
            except ApiError:
                pass
        security.host_name(str(headers.get("Host") or ""))
        security.cookie_values(str(headers.get("Cookie") or ""), security.SESSION_COOKIE)
        guard.reader_ok(headers)

    @examples(300)
    @given(value=st.one_of(st.none(), hostile_text()), body=json_values())
    def test_query_and_body_validation_raise_only_bad_request(self, value, body):
        try:
            n = api._int(value, 5, 0, 100)
            self.assertTrue(0 <= n <= 100)
        except ApiError as e:
            self.assertEqual(e.status, 400)
        try:
            fields = api._text_fields(body, "request_id", "text", limit=100)
            self.assertTrue(all(isinstance(v, str) for v in fields.values()))
        except ApiError as e:
            self.assertEqual(e.status, 400)


if __name__ == "__main__":
    unittest.main()
