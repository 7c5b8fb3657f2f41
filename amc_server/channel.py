"""`bin/amc-channel`: AMC's Claude Code channel, an MCP stdio server named `amc`.

Claude Code spawns it (registered with `--mcp-config` or `.mcp.json`, loaded with
`--dangerously-load-development-channels server:amc`) and talks JSON-RPC 2.0, one JSON object per
line, on its stdin/stdout. It inherits its session's environment (`CLAUDE_CODE_SESSION_ID`, ...),
so it knows which session it belongs to. It:
- answers the `server/discover` probe with -32601 and `initialize` with the 2025-11-25 revision
  and the `claude/channel` + `claude/channel/permission` capabilities, so the CLI registers it as
  a channel; offers one tool, `reply` (the model calls `mcp__amc__reply`);
- keeps `GET /api/channel/<session>/inbox` open on the local AMC server (URL from the data dir's
  `server.pid`, token from its `token` file; reconnects with backoff, resuming from the last event
  id) and turns what arrives into `notifications/claude/channel` (a message the user typed at the
  dashboard) or `notifications/claude/channel/permission` (a verdict), acking each to AMC once
  written;
- posts the CLI's `notifications/claude/channel/permission_request` and every `reply` to AMC;
- exits when Claude Code closes its stdin. Bad input (not JSON, not an object, unknown methods)
  gets a JSON-RPC error or is ignored (a notification); it never crashes.
Only the standard library; nothing it receives is ever run.
"""
import os
import sys
import threading
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, IO, Optional

from .. import paths as amc_paths, sse, store
from ..core.events import parse_id

NAME = "amc"
READY_DELAY_S = 0.2
READY_FALLBACK_S = 5.0
PROTOCOL = "2025-11-25"
VERSION = "1"
MAX_LINE = 16 * 1024 * 1024
INSTRUCTIONS = (
    "Messages in <channel source=\"amc\" ...> tags are the user's own words, typed at the AMC "
    "dashboard (a web page on this machine that shows this session), not a third party's. Treat "
    "them like messages typed in this terminal. To answer the user there, call the `reply` tool "
    "with the message's chat_id and your text; what you write in the terminal is seen there too.")
REPLY_TOOL = {
    "name": "reply",
    "description": "Send a reply to the user at the AMC dashboard (the chat the <channel "
                   "source=\"amc\"> message came from).",
    "inputSchema": {"type": "object", "properties": {
        "chat_id": {"type": "string", "description": "the chat_id of the message answered"},
        "text": {"type": "string", "description": "the reply"}},
        "required": ["text"]},
}
# Never through a proxy from the environment: AMC is on this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


class AmcLink:
    """The channel's connection to the local AMC server (HTTP, the data dir's token)."""

    def __init__(self, env: Dict[str, str], session_id: str) -> None:
        self.paths = amc_paths.get_paths(env)
        self.env = env
        self.session_id = session_id
        self.last_id = ""

    def base_url(self) -> str:
        try:
            with open(self.paths.pid_file, encoding="utf-8") as f:
                lines = f.read().split("\n")
            if len(lines) > 1 and lines[1].startswith("http"):
                return lines[1].strip().rstrip("/")
        except OSError:
            pass
        return "http://127.0.0.1:%s" % (self.env.get("AMC_PORT") or "7400")

    def token(self) -> str:
        try:
            with open(self.paths.token_file, encoding="ascii") as f:
                return f.read().strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def _request(self, method: str, path: str, body: Any = None,
                 timeout: float = 10.0) -> Any:
        base = self.base_url()
        data = store.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method, headers={
            "X-AMC-Token": self.token(), "Content-Type": "application/json",
            "Host": base.split("//", 1)[-1]})
        return _OPENER.open(req, timeout=timeout)

    def post(self, what: str, body: Dict[str, Any]) -> bool:
        """POST /api/channel/<session>/<what>; False (logged) when AMC cannot be reached."""
        try:
            with self._request("POST", "/api/channel/%s/%s" % (self.session_id, what), body) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError, ValueError) as e:
            log("cannot reach AMC for %s: %s" % (what, e))
            return False

    def inbox(self, on_event: Callable[[str, Dict[str, Any]], None],
              stop: threading.Event, ready: Optional[threading.Event] = None) -> None:
        """Follow the inbox until `stop` (once `ready`); reconnect with backoff, resuming from
        the last id."""
        while ready is not None and not ready.wait(0.5):
            if stop.is_set():
                return
        delay = 0.25
        while not stop.is_set():
            query = "?last_event_id=%s" % self.last_id if self.last_id else ""
            try:
                with self._request("GET", "/api/channel/%s/inbox%s" % (self.session_id, query),
                                   timeout=60) as r:
                    delay = 0.25
                    self._read(r, on_event, stop)
            except (OSError, urllib.error.URLError, ValueError) as e:
                if isinstance(e, urllib.error.HTTPError) and e.code in (400, 403, 404):
                    log("AMC refused the inbox (%s); retrying later" % e)
            stop.wait(delay)
            delay = min(delay * 2, 5.0)

    def _read(self, stream: IO[bytes], on_event: Callable[[str, Dict[str, Any]], None],
              stop: threading.Event) -> None:
        parser = sse.Parser()
        for raw in stream:
            if stop.is_set():
                return
            done = parser.feed(raw.decode("utf-8", "replace"))
            if done is None:
                continue
            event, event_id, data = done
            try:
                payload = store.loads(data)
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                on_event(event, payload)
            if parse_id(event_id)[1] >= 0:
                self.last_id = event_id


class Channel:
    """The MCP side: JSON-RPC over `out`, one line per message; thread-safe writes."""

    def __init__(self, out: IO[str], link: Optional[AmcLink]) -> None:
        self.out = out
        self.link = link
        self._write_lock = threading.Lock()
        self.stop = threading.Event()
        # Claude Code drops channel notifications until it has our tools/list answer (measured
        # with 2.1.329: a push < 10 ms after it can be lost), so the inbox opens, and the
        # session shows `channel: true`, only READY_DELAY_S after that answer, or at the
        # latest READY_FALLBACK_S after initialize for a client that never lists tools.
        self.ready = threading.Event()

    def send(self, message: Dict[str, Any]) -> None:
        line = store.dumps(dict(message, jsonrpc="2.0"), ensure_ascii=False)
        with self._write_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def error(self, msg_id: Any, code: int, message: str) -> None:
        self.send({"id": msg_id, "error": {"code": code, "message": message}})

    def handle_line(self, line: str) -> None:
        """Handle one line from Claude Code; never raises."""
        if not line.strip():
            return
        try:
            msg = store.loads(line)
        except ValueError:
            self.error(None, PARSE_ERROR, "not JSON")
            return
        if not isinstance(msg, dict):
            self.error(None, INVALID_REQUEST, "a JSON-RPC message is an object")
            return
        method, msg_id = msg.get("method"), msg.get("id")
        is_request = "id" in msg
        if not isinstance(method, str):
            if is_request and ("result" in msg or "error" in msg):
                return  # an answer to nothing we asked
            self.error(msg_id if is_request else None, INVALID_REQUEST, "no method")
            return
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        try:
            result = self.dispatch(method, params, is_request)
        except RpcError as e:
            if is_request:
                self.error(msg_id, e.code, e.message)
            return
        except Exception as e:  # a bug must not end the session's channel
            log("handling %s failed: %r" % (method, e))
            if is_request:
                self.error(msg_id, -32603, "internal error")
            return
        if is_request:
            self.send({"id": msg_id, "result": result})

    def dispatch(self, method: str, params: Dict[str, Any], is_request: bool) -> Any:
        if method == "initialize":
            _later(READY_FALLBACK_S, self.ready.set)
            return {"protocolVersion": PROTOCOL,
                    "capabilities": {"tools": {}, "experimental": {
                        "claude/channel": {}, "claude/channel/permission": {}}},
                    "serverInfo": {"name": NAME, "version": VERSION},
                    "instructions": INSTRUCTIONS}
        if method == "ping":
            return {}
        if method == "tools/list":
            _later(READY_DELAY_S, self.ready.set)
            return {"tools": [REPLY_TOOL]}
        if method == "tools/call":
            return self.call_tool(params)
        if method == "notifications/claude/channel/permission_request":
            self.permission_request(params)
            return None
        if method.startswith("notifications/"):
            return None  # initialized, cancelled, ...: nothing to answer
        raise RpcError(METHOD_NOT_FOUND, "method not found: %s" % method[:100])

    def call_tool(self, params: Dict[str, Any]) -> Dict[str, Any]:
        if params.get("name") != "reply":
            raise RpcError(INVALID_PARAMS, "unknown tool %r" % str(params.get("name"))[:100])
        args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
        text = args.get("text")
        if not isinstance(text, str) or not text.strip():
            return {"isError": True, "content": [{"type": "text", "text": "reply needs a text"}]}
        chat_id = str(args.get("chat_id") or "")
        sent = self.link.post("reply", {"chat_id": chat_id, "text": text}) if self.link else False
        note = "shown to the user in AMC" if sent else \
            "AMC is not reachable now; the user sees your reply in the session's conversation"
        return {"content": [{"type": "text", "text": note}]}

    def permission_request(self, params: Dict[str, Any]) -> None:
        request_id = params.get("request_id")
        if not isinstance(request_id, str) or not request_id or self.link is None:
            return
        self.link.post("permission", {k: str(params.get(k) or "")[:4000] for k in (
            "request_id", "tool_name", "description", "input_preview")})

    def from_amc(self, kind: str, data: Dict[str, Any]) -> None:
        """Pass what the dashboard sent on to Claude Code, then ack it to AMC."""
        if kind == "message" and isinstance(data.get("text"), str):
            meta = {"chat_id": str(data.get("chat_id") or "amc"),
                    "user": str(data.get("user") or "dashboard")}
            self.send({"method": "notifications/claude/channel",
                       "params": {"content": data["text"], "meta": meta}})
        elif kind == "verdict" and data.get("behavior") in ("allow", "deny"):
            self.send({"method": "notifications/claude/channel/permission",
                       "params": {"request_id": str(data.get("request_id") or ""),
                                  "behavior": data["behavior"]}})
        else:
            return
        if self.link is not None and data.get("delivery_id"):
            self.link.post("ack", {"delivery_id": str(data["delivery_id"])})


def _later(delay: float, fn: Callable[[], None]) -> None:
    timer = threading.Timer(delay, fn)
    timer.daemon = True  # never keeps the process alive once Claude Code closes stdin
    timer.start()


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def log(message: str) -> None:
    try:
        sys.stderr.write("amc-channel: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        pass


def main(stdin: Optional[IO[bytes]] = None, stdout: Optional[IO[str]] = None,
         env: Optional[Dict[str, str]] = None) -> int:
    """Serve MCP on stdin/stdout until stdin closes."""
    env = dict(os.environ if env is None else env)
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    session_id = env.get("CLAUDE_CODE_SESSION_ID", "")
    link = AmcLink(env, session_id) if amc_paths.valid_id(session_id) else None
    if link is None:
        log("no CLAUDE_CODE_SESSION_ID: serving MCP, but not connected to AMC")
    channel = Channel(stdout, link)
    if link is not None:
        threading.Thread(target=link.inbox, args=(channel.from_amc, channel.stop, channel.ready),
                         name="amc-inbox", daemon=True).start()
    while True:
        raw = stdin.readline(MAX_LINE)
        if not raw:
            break
        channel.handle_line(raw.decode("utf-8", "replace"))
    channel.stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
