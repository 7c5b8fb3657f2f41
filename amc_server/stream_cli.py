"""`amc stream [--since ID]`: this machine's changes as newline-delimited JSON on stdout.

Place in the flow: the live core's events (the same events, the same ids as `GET /api/stream`)
-> stdout, one JSON object per line: `{"id", "event", "data"}`. It is what another machine's AMC
reads over the user's own `ssh` (issue: several machines), so it needs nothing but this clone:
- when an AMC server runs here (its pid file names it), it follows that server's `/api/stream`,
  so its ids are the server's and `--since` resumes across reconnects without a snapshot;
- otherwise it builds the app itself (app.py, role STREAM: the same core the server runs, with
  its watchers, the hooks' doorbell and the reconcile, and the same consumers that shape a
  session: usage, a permission prompt's options) and streams its events; a new process is a new epoch, so a resume
  from an older id gets a fresh `snapshot`, as `/api/stream` does after a restart.
A `heartbeat` line (`{"event": "heartbeat", "id": <last id>, "time"}`) follows every 5 s
without events, and the command exits 0 when its stdout is closed.
Lines `{"follow": [session ids]}` on stdin (the hub sends them: remote/feed.py) set the sessions
whose conversations it follows, as `?follow=` does on `/api/stream`: `messages` events for them
follow. Anything else on stdin is ignored; stdin closing changes nothing.
"""
import queue
import sys
import threading
import urllib.request
from typing import IO, Any, Callable, Dict, List, Optional, Set

from .. import model, sse, store
from .serve import read_token, running_server
from ..paths import Paths

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
        body = store.dumps(data).encode("utf-8")
    return b'{"id":%s,"event":%s,"data":%s}\n' % (
        store.dumps(event_id).encode(), store.dumps(event).encode(), body)


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


MAX_FOLLOW = 32


def read_follows(stdin: Optional[IO[bytes]], on_follow: Callable[[Set[str]], None]) -> None:
    """Read `{"follow": [ids]}` lines from `stdin` on a thread; call `on_follow` with each set."""
    if stdin is None:
        return
    from ..paths import valid_id

    def read() -> None:
        try:
            for raw in iter(lambda: stdin.readline(1 << 16), b""):
                try:
                    ids = store.loads(raw).get("follow")
                except (ValueError, AttributeError):
                    continue
                if isinstance(ids, list):
                    on_follow(set([i for i in ids if valid_id(i)][:MAX_FOLLOW]))
        except (OSError, ValueError):
            pass
    threading.Thread(target=read, name="amc-stream-control", daemon=True).start()


def from_server(url: str, token: str, since: str, out: Out,
                stdin: Optional[IO[bytes]] = None) -> int:
    """Follow a running server's /api/stream, as NDJSON (again from the last id when the
    follow set changes)."""
    from urllib.parse import urlencode
    lines: "queue.Queue[Any]" = queue.Queue()
    state: Dict[str, Any] = {"last": since, "follow": set(), "response": None, "gen": 0}
    lock = threading.Lock()

    def read(gen: int, follow: List[str], last: str) -> None:
        query = urlencode([("follow", f) for f in follow] +
                          ([("last_event_id", last)] if last else []))
        req = urllib.request.Request(
            url.rstrip("/") + "/api/stream" + ("?" + query if query else ""),
            headers={"X-AMC-Token": token, "Accept": "text/event-stream"})
        try:
            with _OPENER.open(req, timeout=60) as r:
                with lock:
                    state["response"] = r if gen == state["gen"] else None
                if gen == state["gen"]:
                    for raw in r:
                        lines.put((gen, raw.decode("utf-8", "replace").rstrip("\r\n")))
        except (OSError, ValueError, AttributeError):
            pass
        lines.put((gen, None))

    def start() -> None:
        threading.Thread(target=read, args=(state["gen"], sorted(state["follow"]),
                                            state["last"]), name="amc-stream-read",
                         daemon=True).start()
    read_follows(stdin, lambda ids: lines.put(("follow", ids)))
    start()
    parser = sse.Parser()
    while not out.closed:
        try:
            gen, text = lines.get(timeout=HEARTBEAT_S)
        except queue.Empty:
            out.write(heartbeat(state["last"]))
            continue
        if gen == "follow":
            if text != state["follow"]:
                with lock:
                    state["follow"], state["gen"] = text, state["gen"] + 1
                    response, state["response"] = state["response"], None
                if response is not None:
                    _close(response)
                parser = sse.Parser()
                start()  # resumes from the last id: nothing missed, nothing twice
            continue
        if gen != state["gen"]:
            continue  # what a replaced reader still had
        if text is None:
            return 1  # the server went away: the caller (ssh, the hub) reconnects with --since
        done = parser.feed(text)
        if done is not None:
            event, event_id, data = done
            out.write(line(event_id, event, data))
            state["last"] = event_id or state["last"]
    return 0


def _close(response: Any) -> None:
    try:
        response.fp.raw._sock.shutdown(2)  # wake the reader blocked in recv
    except Exception:
        pass
    try:
        response.close()
    except Exception:
        pass


def from_core(paths: Paths, since: str, out: Out, stdin: Optional[IO[bytes]] = None) -> int:
    """Run the live core here and stream its events, as NDJSON."""
    from .. import memory
    from ..app import STREAM, App
    memory.tune_for_server()  # a long-lived process running the core, as the server is
    try:
        store.ensure_dir(paths.data)  # the hooks' doorbell lives there
    except OSError:
        pass  # a read-only data dir: the snapshot's setup says so
    app = App(paths, STREAM).start()  # the sessions as the server shapes them (app.py)
    core = app.core
    try:
        sub, first = core.subscribe(since)
        last = since
        followed: Set[str] = set()

        def on_follow(ids: Set[str]) -> None:
            nonlocal followed
            core.conversations.follow(ids - followed)
            core.conversations.unfollow(followed - ids)
            followed = ids
            sub.follow = set(ids)
        read_follows(stdin, on_follow)
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
        app.stop()
    return 0


def main(paths: Paths, since: str = "", stdout: Optional[IO[bytes]] = None,
         stdin: Optional[IO[bytes]] = None) -> int:
    """Stream this machine's changes until stdout closes."""
    out = Out(stdout if stdout is not None else sys.stdout.buffer)
    stdin = stdin if stdin is not None else sys.stdin.buffer
    running = running_server(paths)
    if running is not None:
        return from_server(running.url, read_token(paths), since, out, stdin)
    return from_core(paths, since, out, stdin)
