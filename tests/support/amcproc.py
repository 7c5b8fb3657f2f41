"""An AMC server as the user runs it, for the end-to-end tests: `bin/amc serve --port 0` as a
child process in an isolated environment, with helpers to poll /api/state, POST with the token,
and run other `bin/amc` commands."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from tests.support.agentenv import BIN, ROOT

def end_process_group(proc: subprocess.Popen) -> None:
    """End a child started with start_new_session (SIGTERM, then SIGKILL) and close its stdout."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait(timeout=5)
    if proc.stdout:
        proc.stdout.close()


class AmcServer:
    """`bin/amc serve --port 0` in the foreground, as a child process; `stop()` ends it."""

    def __init__(self, env: Mapping[str, str], cwd: str = ROOT) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""
        self.log_path = os.path.join(self.env.get("AMC_DATA_DIR") or tempfile.gettempdir(),
                                     "serve-stdout.log")

    def start(self, timeout: float = 15) -> "AmcServer":
        self._log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(BIN, "amc"), "serve", "--port", "0"],
            cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log, start_new_session=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        # the first stdout line is "AMC serving on http://127.0.0.1:<port>/"
        while time.monotonic() < deadline and self.proc.poll() is None:
            line = self.proc.stdout.readline()
            if line.strip():
                break
        text = line.decode("utf-8", "replace").strip()
        if "http://" not in text:
            self.stop()
            raise AssertionError("`amc serve --port 0` did not print its URL (got %r); stderr:\n%s"
                                 % (text, self.stderr()))
        self.url = text[text.index("http://"):].split()[0].rstrip("/")
        return self

    def stderr(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process_group(proc)
        self._log.close()

    def get(self, path: str, **params: str) -> Any:
        """GET `path` (with query `params`) and return the decoded JSON."""
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        with urllib.request.urlopen(self.url + path + query, timeout=10) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def token(self) -> str:
        """Return the server's X-AMC-Token (the `token` file in AMC's data dir)."""
        with open(os.path.join(self.env["AMC_DATA_DIR"], "token"), encoding="utf-8") as f:
            return f.read().strip()

    def post(self, path: str, body: Any, token: Optional[str] = None) -> Tuple[int, Any]:
        """POST JSON with the token; return (HTTP status, decoded JSON) even for 4xx/5xx."""
        req = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json",
                     "X-AMC-Token": self.token() if token is None else token})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"raw": raw}

    def state(self) -> Dict[str, Any]:
        return self.get("/api/state")

    def session(self, session_id: str) -> Optional[Dict[str, Any]]:
        """Return the session with this id from /api/state, or None."""
        for s in self.state().get("sessions", []):
            if s.get("session_id") == session_id:
                return s
        return None

    def wait_session(self, predicate: Callable[[Dict[str, Any]], bool], what: str,
                     timeout: float = 15, interval: float = 0.1,
                     session_id: str = "") -> Dict[str, Any]:
        """Poll /api/state until a session (this id, if given) satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        last: Dict[str, Any] = {}
        while True:
            try:
                last = self.state()
            except OSError as e:
                last = {"error": str(e)}
            for s in last.get("sessions", []):
                if (not session_id or s.get("session_id") == session_id) and predicate(s):
                    return s
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.0fs waiting for %s; /api/state was:\n%s"
                                     % (timeout, what, json.dumps(last, indent=1)[:6000]))
            time.sleep(interval)

    def wait_state(self, predicate: Callable[[Dict[str, Any]], bool], what: str,
                   timeout: float = 15, interval: float = 0.1) -> Dict[str, Any]:
        """Poll /api/state until `predicate(state)` holds; return that state."""
        deadline = time.monotonic() + timeout
        last: Dict[str, Any] = {}
        while True:
            try:
                last = self.state()
                if predicate(last):
                    return last
            except OSError as e:
                last = {"error": str(e)}
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.0fs waiting for %s; /api/state was:\n%s"
                                     % (timeout, what, json.dumps(last, indent=1)[:6000]))
            time.sleep(interval)


def run_amc(args: Sequence[str], env: Mapping[str, str], timeout: float = 30
            ) -> subprocess.CompletedProcess:
    """Run `bin/amc <args>` and return the completed process (text output)."""
    return subprocess.run([sys.executable, os.path.join(BIN, "amc")] + list(args), cwd=ROOT,
                          env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, universal_newlines=True)
