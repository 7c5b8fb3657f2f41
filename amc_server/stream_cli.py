"""`amc stream [--since ID]`: this machine's changes as newline-delimited JSON on stdout.

Place in the flow: the live core's events (the same events, the same ids as `GET /api/stream`)
-> stdout, one JSON object per line: `{"id", "event", "data"}`. It is what another machine's AMC
reads over the user's own `ssh` (issue: several machines), so it needs nothing but this clone:
- when an AMC server runs here (its pid file names it), it follows that server's `/api/stream`,
  so its ids are the server's and `--since` resumes across reconnects without a snapshot;
- otherwise it runs the core itself (the same code the server runs: watchers, the hooks'
  doorbell, the reconcile) and streams its events; a new process is a new epoch, so a resume
  from an older id gets a fresh `snapshot`, as `/api/stream` does after a restart.
A `heartbeat` line (`{"event": "heartbeat", "id": <last id>, "time"}`) follows every 5 s
without events, and the command exits 0 when its stdout is closed.
"""
import json
import queue
import sys
import threading
import urllib.request
from typing import IO, Any, Optional

from . import model, sse, store
from .launcher import answers, read_pid_file
from .paths import Paths

HEARTBEAT_S = 5.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def line(event_id: str, event: str, data: Any) -> bytes:
    """Return one output line; `data` is JSON text, bytes, or a list of bytes pieces."""
    if isinstance(data, str):
        body = data.encode("utf-8")
    elif isinstance(data, bytes):
        body = data
    elif isinstance(data, list):
        body = b"".join(data)
    else:
        body = json.dumps(data).encode("utf-8")
    return b'{"id":%s,"event":%s,"data":%s}\n' % (
        json.dumps(event_id).encode(), json.dumps(event).encode(), body)


class Out:
    """stdout as bytes; `closed` once the reader went away."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.closed = False

    def write(self, data: bytes) -> bool:
        try:
            self.stream.write(data)
            self.stream.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            self.closed = True
            return False


def heartbeat(last_id: str) -> bytes:
    return line(last_id, "heartbeat", {"time": model.now_iso()})


def from_server(url: str, token: str, since: str, out: Out) -> int:
    """Follow a running server's /api/stream, as NDJSON."""
    query = "?last_event_id=%s" % since if since else ""
    req = urllib.request.Request(url.rstrip("/") + "/api/stream" + query,
                                 headers={"X-AMC-Token": token, "Accept": "text/event-stream"})
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def read() -> None:
        try:
            with _OPENER.open(req, timeout=60) as r:
                for raw in r:
                    lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        except OSError:
            pass
        lines.put(None)
    threading.Thread(target=read, name="amc-stream-read", daemon=True).start()
    last, parser = since, sse.Parser()
    while not out.closed:
        try:
            text = lines.get(timeout=HEARTBEAT_S)
        except queue.Empty:
            out.write(heartbeat(last))
            continue
        if text is None:
            return 1  # the server went away: the caller (ssh, the hub) reconnects with --since
        done = parser.feed(text)
        if done is not None:
            event, event_id, data = done
            out.write(line(event_id, event, data))
            last = event_id or last
    return 0


def from_core(paths: Paths, since: str, out: Out) -> int:
    """Run the live core here and stream its events, as NDJSON."""
    from .core.live import Core
    try:
        store.ensure_dir(paths.data)  # the hooks' doorbell lives there
    except OSError:
        pass  # a read-only data dir: the snapshot's setup says so
    core = Core(paths)
    core.start()
    try:
        sub, first = core.subscribe(since)
        last = since
        for event in first:
            out.write(line(event.id, event.type, event.data))
            last = event.id
        while not out.closed:
            event = sub.get(HEARTBEAT_S)
            if event is None:
                out.write(heartbeat(last))
                continue
            for e in [event] + sub.drain():
                out.write(line(e.id, e.type, e.data))
                last = e.id
    finally:
        core.stop()
    return 0


def main(paths: Paths, since: str = "", stdout: Optional[IO[bytes]] = None) -> int:
    """Stream this machine's changes until stdout closes."""
    out = Out(stdout if stdout is not None else sys.stdout.buffer)
    running = read_pid_file(paths)
    if running is not None and running.url and answers(running.url):
        try:
            with open(paths.token_file, encoding="ascii") as f:
                token = f.read().strip()
        except OSError:
            token = ""
        return from_server(running.url, token, since, out)
    return from_core(paths, since, out)
