"""Test helpers: an isolated environment (HOME and AMC_DATA_DIR in a temp dir) and a real AMC
server on a real port (port 0) in a thread, plus a tiny HTTP client that speaks to it."""
import http.client
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from typing import Any, Dict, Optional, Tuple

# This file is tests/support/<name>.py: three levels below the checkout.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
HOOK = os.path.join(ROOT, "bin", "amc-hook")
AMC = os.path.join(ROOT, "bin", "amc")

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from amc_server.paths import get_paths  # noqa: E402

# The server logs every request and every skipped transcript line; keep test output readable.
if not os.environ.get("AMC_TEST_VERBOSE"):
    logging.getLogger("amc").setLevel(logging.CRITICAL)
from amc_server.http.server import make_server  # noqa: E402


def isolated_env(home: str) -> Dict[str, str]:
    """Return an environment whose HOME is `home`, with no inherited AMC/agent/multiplexer vars."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AMC_", "CLAUDE", "CODEX_", "TMUX", "ZELLIJ", "XDG_"))}
    env["HOME"] = home
    return env


class IsolatedTestCase(unittest.TestCase):
    """A test with its own HOME (so AMC, Claude and Codex paths all land in a temp dir)."""

    def setUp(self) -> None:
        self.home = tempfile.mkdtemp(prefix="amc-test-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = isolated_env(self.home)
        self.paths = get_paths(self.env)

    def run_hook(self, payload: Any, extra_env: Optional[Dict[str, str]] = None,
                 args: Tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """Run bin/amc-hook as Claude would: payload as JSON on stdin."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        env = dict(self.env, **(extra_env or {}))
        return subprocess.run([sys.executable, HOOK, *args], input=data, env=env,
                              capture_output=True, timeout=30)

    def session_file(self, sid: str) -> Optional[Dict[str, Any]]:
        try:
            with open(self.paths.session_file(sid)) as f:
                return json.load(f)
        except FileNotFoundError:
            return None


def copy_transcript_as_of(source: str, dest: str, payloads: Any, upto: Optional[int]) -> None:
    """Copy a recorded transcript as the CLI had written it when hook payload `upto` came.

    A scenario replayed only up to a question must not hold its answer: the result of an
    AskUserQuestion whose PostToolUse is not replayed yet is cut off with every line after it, as
    AMC reads a question answered in its transcript as closed (agents/claude/questions.py). Other
    tools' results stay: a test about tool views replays hooks only part way.
    """
    with open(source, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    later = [p.get("tool_use_id") for p in payloads[upto:] if upto is not None and
             p.get("hook_event_name") == "PostToolUse" and p.get("tool_use_id") and
             p.get("tool_name") == "AskUserQuestion"]
    for i, line in enumerate(lines):
        if any(b'"tool_use_id":"%s"' % str(t).encode() in line.replace(b'": "', b'":"')
               and b'"tool_result"' in line for t in later):
            lines = lines[:i]
            break
    with open(dest, "wb") as f:
        f.write(b"".join(lines))


def serve(paths: Any):
    """Return a real AMC server on 127.0.0.1:<random port>, serving in a daemon thread."""
    server = make_server(paths, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


class ServerTestCase(IsolatedTestCase):
    """IsolatedTestCase plus a real AMC server on 127.0.0.1:<random port> in a thread."""

    def setUp(self) -> None:
        super().setUp()
        self.server = serve(self.paths)
        self.addCleanup(self._stop_server)
        self.port = self.server.server_address[1]
        self.token = self.server.guard.token

    def _stop_server(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def request(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
                token: bool = True, raw: Optional[bytes] = None) -> Tuple[int, Any, dict]:
        """Send one request; return (status, decoded JSON or bytes, headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = {"Host": "127.0.0.1:%d" % self.port}
        if token and method == "POST":
            hdrs["X-AMC-Token"] = self.token
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        ctype = resp.getheader("Content-Type") or ""
        decoded = json.loads(payload) if ctype.startswith("application/json") else payload
        return resp.status, decoded, dict(resp.getheaders())

    def get_json(self, path: str) -> Any:
        status, body, _ = self.request("GET", path)
        self.assertEqual(status, 200, body)
        return body
