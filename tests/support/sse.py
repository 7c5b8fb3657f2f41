"""A small Server-Sent Events client for tests: a real socket, parsing events as a browser does."""
import json
import socket
import time
from typing import Any, Callable, Dict, List, Optional


class SSEClient:
    """One `GET /api/stream` connection; `next()` returns each event as a dict."""

    def __init__(self, port: int, path: str = "/api/stream", headers: Optional[dict] = None,
                 host: str = "127.0.0.1", rcvbuf: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port),
                 "Accept: text/event-stream"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = bytearray()
        self._scanned = 0      # where to look for the next blank line (big events stay linear)
        self.status = 0
        self.headers: Dict[str, str] = {}
        self.retry: Optional[int] = None
        self.comments: List[str] = []
        self.events: List[Dict[str, Any]] = []   # every event received so far

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        if not chunk:
            raise ConnectionError("the server closed the stream")
        self.buf += chunk
        return True

    def read_headers(self, timeout: float = 10.0) -> int:
        """Read the status line and headers; return the status."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise TimeoutError("no response headers")
        head, rest = bytes(self.buf).split(b"\r\n\r\n", 1)
        self.buf = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in
                        (line.partition(":") for line in lines[1:])}
        return self.status

    def next(self, timeout: float = 5.0) -> Optional[Dict[str, Any]]:
        """Return the next event ({id, event, data}), or None after `timeout` seconds."""
        if not self.status:
            self.read_headers(timeout)
        deadline = time.monotonic() + timeout
        while True:
            while True:
                end = self.buf.find(b"\n\n", max(0, self._scanned - 1))
                if end < 0:
                    self._scanned = len(self.buf)
                    break
                block = bytes(self.buf[:end])
                del self.buf[:end + 2]
                self._scanned = 0
                event = self._parse(block.decode("utf-8"))
                if event is not None:
                    self.events.append(event)
                    return event
            if not self._fill(deadline):
                return None

    def _parse(self, block: str) -> Optional[Dict[str, Any]]:
        event: Dict[str, Any] = {"id": None, "event": "message", "data": None}
        data = []
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "retry":
                self.retry = int(value)
            elif field == "id":
                event["id"] = value
            elif field == "event":
                event["event"] = value
            elif field == "data":
                data.append(value)
        if not data:
            return None
        event["data"] = json.loads("\n".join(data))
        return event

    def until(self, pred: Callable[[Dict[str, Any]], bool], timeout: float = 5.0
              ) -> Dict[str, Any]:
        """Return the first event for which `pred` holds; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.01, deadline - time.monotonic()))
            if event is not None and pred(event):
                return event
            if time.monotonic() >= deadline:
                raise AssertionError("no matching event within %.1f s; got %s" % (
                    timeout, [(e["event"], e["id"]) for e in self.events[-10:]]))

    def quiet(self, timeout: float = 0.5) -> List[Dict[str, Any]]:
        """Return every event arriving within `timeout` seconds."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.0, deadline - time.monotonic()))
            if event is None:
                return out
            out.append(event)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def session_event(sid: str, **fields: Any) -> Callable[[Dict[str, Any]], bool]:
    """Return a predicate: a `session` event for `sid` whose data has `fields`."""
    def pred(e: Dict[str, Any]) -> bool:
        return e["event"] == "session" and e["data"]["session_id"] == sid and \
            all(e["data"].get(k) == v for k, v in fields.items())
    return pred
