"""A scripted fake model server for the end-to-end tests: Anthropic Messages + OpenAI Responses.

The real Claude Code and Codex CLIs run against this server on 127.0.0.1 (recipe: the project's
REAL_AGENTS.md notes), so the tests see real hooks, real transcripts and rollouts and a real TUI
without the internet. Replies are decided from the newest user turn by an ordered list of rules;
the first rule that returns a reply wins, so a test can put its own rules in front:

    Claude (Anthropic Messages, `POST /v1/messages[?beta=true]`, streamed as SSE):
      "ASK: <q>"        -> AskUserQuestion tool_use (header "Choice", options Alpha/Beta/Gamma)
      "BASH: <cmd>"     -> Bash tool_use
      a channel message -> mcp__<source>__reply {"chat_id", "text": "CHANNEL-REPLY: <text>"}
                           (`<channel source=... chat_id=...>` in the turn or in its mid-turn note;
                           a message "BASH: <cmd>" gets a Bash tool_use instead)
      "PROSE? ..."      -> "I looked at the code.\\n\\nShould I continue with the migration?"
      a tool_result     -> "ANSWER-RECEIVED: <result text>" for AskUserQuestion, else "TOOL-DONE"
      anything else     -> "OK: <prompt>"
    Codex (OpenAI Responses, `POST /v1/responses`, streamed as SSE):
      title request     -> {"title": "..."} (text.format json_schema)
      "RUNCMD: <cmd>"   -> exec_command function_call with that cmd ("RUNCMD ..." alone: `echo hi`)
      function output   -> "The command returned: <output>"
      anything else     -> "Hello from the fake model! You said: <prompt>"

Side requests (Claude's title/topic helpers, count_tokens, telemetry-ish POSTs, any GET) get short,
well-formed answers; an exception in a rule answers a well-formed reply too, never a dropped socket.
It is stdlib `http.server` on purpose: the tests must run from a fresh clone with no dependencies.
Every reply is a complete body with Content-Length (SSE frames included), which both CLIs accept.
"""
import itertools
import json
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from tests.support.fakemodel_rules import (
    CLAUDE_MODEL, DEFAULT_CLAUDE_RULES, DEFAULT_CODEX_RULES, ClaudeReply, ClaudeRule, ClaudeTurn,
    CodexReply, CodexRule, CodexTurn)


# ---------------------------------------------------------------------------------------- wire
def sse(events: List[Dict[str, Any]]) -> bytes:
    """Encode events as SSE frames (`event: <type>` + `data: <json>`)."""
    return b"".join(("event: %s\ndata: %s\n\n" % (e["type"], json.dumps(e))).encode("utf-8")
                    for e in events)


def claude_events(reply: ClaudeReply, message_id: str, tool_ids: Callable[[str], str],
                  model: str) -> List[Dict[str, Any]]:
    """Return the Messages stream events for `reply`, as REAL_AGENTS.md describes them."""
    usage = {"input_tokens": 100, "output_tokens": 0, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0}
    events: List[Dict[str, Any]] = [{"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}}]
    for index, block in enumerate(reply.blocks):
        if block[0] == "text":
            events += [
                {"type": "content_block_start", "index": index,
                 "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": index,
                 "delta": {"type": "text_delta", "text": block[1]}}]
        elif block[0] == "thinking":
            events += [
                {"type": "content_block_start", "index": index,
                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
                {"type": "content_block_delta", "index": index,
                 "delta": {"type": "thinking_delta", "thinking": block[1]}},
                {"type": "content_block_delta", "index": index,
                 "delta": {"type": "signature_delta", "signature": "fake-signature"}}]
        else:
            _, name, tool_input = block
            events += [
                {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": tool_ids(name), "name": name, "input": {}}},
                {"type": "content_block_delta", "index": index,
                 "delta": {"type": "input_json_delta", "partial_json": json.dumps(tool_input)}}]
        events.append({"type": "content_block_stop", "index": index})
    events += [
        {"type": "message_delta", "delta": {"stop_reason": reply.stop_reason,
                                            "stop_sequence": None},
         "usage": {"output_tokens": 20}},
        {"type": "message_stop"}]
    return events


def claude_message(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Fold stream events into the non-streamed Messages response."""
    message = dict(events[0]["message"], content=[])
    for e in events[1:]:
        if e["type"] == "content_block_start":
            message["content"].append(dict(e["content_block"]))
        elif e["type"] == "content_block_delta":
            block, delta = message["content"][e["index"]], e["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "input_json_delta":
                block["input"] = json.loads(delta["partial_json"])
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
        elif e["type"] == "message_delta":
            message.update(e["delta"])
            message["usage"] = dict(message["usage"], **e["usage"])
    return message


class FakeModel:
    """The server: `start()`, `url`, `requests` (what arrived), `stop()`; rules are plain lists."""

    def __init__(self, claude_rules: Optional[List[ClaudeRule]] = None,
                 codex_rules: Optional[List[CodexRule]] = None, model: str = CLAUDE_MODEL) -> None:
        self.claude_rules: List[ClaudeRule] = list(claude_rules or DEFAULT_CLAUDE_RULES)
        self.codex_rules: List[CodexRule] = list(codex_rules or DEFAULT_CODEX_RULES)
        self.model = model
        self.requests: List[Dict[str, Any]] = []
        self.errors: List[str] = []
        self._lock = threading.Lock()
        self._counters: Dict[str, Any] = {}
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle
    def start(self) -> "FakeModel":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="fakemodel")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeModel":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeModel not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL without a trailing slash (ANTHROPIC_BASE_URL; Codex adds /v1)."""
        return "http://127.0.0.1:%d" % self.port

    # -- bookkeeping
    def next_id(self, kind: str, fmt: str = "%s%04d") -> str:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return fmt % (kind, next(counter))

    def record(self, entry: Dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def requests_to(self, path_prefix: str) -> List[Dict[str, Any]]:
        """Return the recorded requests whose path starts with `path_prefix`."""
        with self._lock:
            return [r for r in self.requests if r["path"].startswith(path_prefix)]

    # -- deciding
    def claude_reply(self, body: Dict[str, Any]) -> Tuple[ClaudeTurn, ClaudeReply]:
        turn = ClaudeTurn(body)
        return turn, _first(self.claude_rules, turn) or ClaudeReply.text("OK")

    def codex_reply(self, body: Dict[str, Any]) -> Tuple[CodexTurn, CodexReply]:
        turn = CodexTurn(body)
        return turn, _first(self.codex_rules, turn) or CodexReply.text("OK")


def _first(rules: List[Callable[[Any], Any]], turn: Any) -> Any:
    for rule in list(rules):
        reply = rule(turn)
        if reply is not None:
            return reply
    return None


def _hold(reply: Any, gate_timeout: float = 120) -> None:
    if reply.delay:
        time.sleep(reply.delay)
    if reply.gate is not None:
        reply.gate.wait(gate_timeout)


def _make_handler(fake: FakeModel) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeModel/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence tests
            pass

        def do_GET(self) -> None:  # noqa: N802
            fake.record({"method": "GET", "path": self.path, "body": None, "time": time.time()})
            self._send(HTTPStatus.OK, "application/json", b"{}")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            entry = {"method": "POST", "path": self.path, "body": body, "time": time.time()}
            fake.record(entry)
            path = urlsplit(self.path).path.rstrip("/")
            try:
                if path.endswith("/v1/messages/count_tokens"):
                    self._json({"input_tokens": 100})
                elif path.endswith("/v1/messages"):
                    self._messages(body, entry)
                elif path.endswith("/v1/responses"):
                    self._responses(body, entry)
                else:
                    self._json({})
            except (ConnectionError, BrokenPipeError):
                pass
            except Exception:  # a bug in a rule must not hang the CLI: say so in the reply
                fake.errors.append(traceback.format_exc())
                try:
                    self._json({"type": "error", "error": {
                        "type": "api_error", "message": "fake model rule failed"}},
                        HTTPStatus.INTERNAL_SERVER_ERROR)
                except OSError:
                    pass

        def _messages(self, body: Dict[str, Any], entry: Dict[str, Any]) -> None:
            turn, reply = fake.claude_reply(body)
            entry["prompt"], entry["side"] = turn.prompt, turn.is_side_request
            entry["reply"] = reply.blocks
            _hold(reply)
            events = claude_events(
                reply, fake.next_id("msg_fake"),
                lambda name: fake.next_id("toolu_" + ("ask" if name == "AskUserQuestion"
                                                      else name.lower()[:8])),
                body.get("model") or fake.model)
            if body.get("stream"):
                self._send(HTTPStatus.OK, "text/event-stream", sse(events))
            else:
                self._json(claude_message(events))

        def _responses(self, body: Dict[str, Any], entry: Dict[str, Any]) -> None:
            turn, reply = fake.codex_reply(body)
            entry["prompt"], entry["reply"] = turn.prompt, reply.items
            _hold(reply)
            response_id = fake.next_id("resp_")
            events: List[Dict[str, Any]] = [{"type": "response.created", "response": {
                "id": response_id}}]
            for index, item in enumerate(reply.items):
                item = dict(item)
                if item["type"] == "function_call":
                    n = fake.next_id("call_fake_", "%s%d")
                    item.setdefault("call_id", n)
                    item.setdefault("id", "fc_" + n.rsplit("_", 1)[1])
                else:
                    item.setdefault("id", fake.next_id("msg_", "%s%d"))
                events.append({"type": "response.output_item.done", "output_index": index,
                               "item": item})
            events.append({"type": "response.completed", "response": {
                "id": response_id, "usage": {
                    "input_tokens": 100, "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": 120}}})
            self._send(HTTPStatus.OK, "text/event-stream", sse(events))

        def _json(self, obj: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
            self._send(status, "application/json", json.dumps(obj).encode("utf-8"))

        def _send(self, status: HTTPStatus, content_type: str, data: bytes) -> None:
            """Write a whole response; the only place that writes response bytes."""
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                if content_type == "text/event-stream":
                    self.send_header("Cache-Control", "no-cache")
                self.send_header("request-id", "req_fake")
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (ConnectionError, BrokenPipeError):
                pass

    return Handler


def main() -> None:
    """Run the fake model in the foreground (handy when poking a CLI by hand)."""
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", action="store_true", help="print each request's prompt")
    args = parser.parse_args()
    fake = FakeModel().start()
    print("fake model on %s" % fake.url, flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.2)
            if args.log:
                for r in fake.requests[seen:]:
                    print(r["method"], r["path"], repr(r.get("prompt", ""))[:100],
                          "side" if r.get("side") else "", flush=True)
                seen = len(fake.requests)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
