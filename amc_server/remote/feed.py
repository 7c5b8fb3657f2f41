"""One remote's stream at the hub: `ssh TARGET -- <zipapp> stream --since <last id>`, kept up.

Place in the flow (several machines): a Feed thread per machine in remotes.json reads the remote's
`amc stream` (newline-delimited JSON, the remote's core events) over a connection of AMC's own and
hands every valid line to the hub's core (`("remote", name, event, data)`), which merges it
(core/machines.py). Liveness without loss:
- the remote sends a heartbeat at least every 5 s; nothing heard for OFFLINE_S (the hub's
  ticker looks twice a second) or a reconnect that fails is `offline`, a stream that dropped and
  is being retried is `reconnecting`;
- a reconnect waits 1 s doubling to 30 s, with jitter, and resumes with `--since <last id>`: the
  remote replays what was missed, or (another epoch, a gap) sends a snapshot, which replaces what
  the hub had for that machine, so nothing is lost and nothing is shown twice;
- the remote has no AMC: its zipapp is missing (exit 3, ship.NEED) -> sent once, then run again.
The followed conversations go on the same connection's stdin as `{"follow": [ids]}` lines.
Remote output is hostile: a line over MAX_LINE is skipped without being held in memory, a line
that is not a JSON event is counted and logged, ids are checked before they reach a command line.
"""
import logging
import random
import re
import subprocess
import threading
import time
from typing import Any, Callable, Optional, Set

from ..consumers.activity import TOPIC as ACTIVITY_TOPIC
from .. import store
from . import ship
from .ssh import last_line, ssh_argv, ssh_failure

log = logging.getLogger("amc.remote")

OFFLINE_S = 8.0          # > the 5 s heartbeat; plus the hub's 0.5 s tick, within 10 s
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
MAX_LINE = 32 << 20
EVENT_ID = re.compile(r"^[0-9a-z]{1,24}-[0-9]{1,18}$")
EVENTS = ("snapshot", "session", "removed", "setup", "messages", "heartbeat", "machine",
          "activity")


def backoff(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Return the wait before reconnect attempt `failures`: 1, 2, 4 ... s with +-20 % jitter
    (so machines that went away together do not come back in step), at most 30 s."""
    base = BACKOFF_FIRST_S * (2 ** min(max(0, failures - 1), 8))
    return min(BACKOFF_MAX_S, base * (0.8 + 0.4 * rand()))


def read_lines(stream: Any, limit: int = MAX_LINE):
    """Yield each line of `stream` (bytes, without the newline), or None for one over `limit`
    (whose bytes are read and dropped piece by piece)."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line.rstrip(b"\r\n")


class Feed:
    """The stream of one machine, on a thread of its own; `hub` is remote/hub.py's Hub."""

    def __init__(self, hub: Any, name: str, target: str) -> None:
        self.hub = hub
        self.name = name
        self.target = target
        self.last_id = ""
        self.state = "offline"
        self.error = ""
        self.heard = 0.0            # time.monotonic() of the last line
        self.failures = 0
        self.lines = 0
        self.installs = 0
        self._connected = False     # the last attempt got a line through
        self._published = ("", "")  # the state and error the core was last told
        self._need = False          # the remote said it has no zipapp
        self._follow: Set[str] = set()
        self._proc: Optional[subprocess.Popen] = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="amc-feed-" + name, daemon=True)

    def start(self) -> None:
        self.heard = time.monotonic()  # offline if nothing comes within OFFLINE_S of now
        self._set("reconnecting", "")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kill()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    # -- what the hub asks -----------------------------------------------------------------------

    def follow(self, session_ids: Set[str]) -> None:
        """Follow exactly these remote session ids' conversations (sent on the stream's stdin)."""
        with self._lock:
            self._follow = set(session_ids)
            self._send_follow()

    def check(self, now: float) -> None:
        """Called every second: a machine silent for OFFLINE_S is offline (its stream killed)."""
        if self.state != "offline" and now - self.heard >= OFFLINE_S:
            silent = self.state == "online"
            self._set("offline", self.error or "no word from %s for %.0f s" % (
                self.name, OFFLINE_S))
            if silent:
                self._kill()  # a stream that stopped talking: start a fresh one

    # -- the loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            retry_now = False
            try:
                retry_now = self._once()
            except Exception as e:  # never let one machine's trouble end its feed
                log.exception("feed %s failed", self.name)
                self.error = "internal error: %s" % type(e).__name__
            if self._stop.is_set():
                return
            if retry_now:
                continue
            self.failures += 1
            if self._connected and time.monotonic() - self.heard < OFFLINE_S:
                self._set("reconnecting", self.error)  # the stream dropped: trying again
            else:
                self._set("offline", self.error)       # could not connect (or long silent)
            self._stop.wait(backoff(self.failures))

    def _once(self) -> bool:
        """Run one stream until it ends; return True to run again at once (zipapp just sent)."""
        name, _ = self.hub.zipapp()
        words = ["stream"] + (["--since", self.last_id] if EVENT_ID.match(self.last_id) else [])
        argv = ssh_argv(self.hub.ssh(), self.target, ship.command(name, words))
        slot = _Slot(self.hub.connect_slots)  # held until the stream talks, or ends
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, close_fds=True, start_new_session=True)
        with self._lock:
            self._proc = proc
            self._send_follow()
        if self._stop.is_set():
            self._kill()
        errors = _Tail(proc.stderr)
        self._connected = False
        try:
            self._read(proc, slot)
        finally:
            slot.release()
        code = proc.wait()
        return self._ended(proc, code, errors)

    def _read(self, proc: subprocess.Popen, slot: "_Slot") -> None:
        self._need = False
        for raw in read_lines(proc.stdout):
            slot.release()
            if raw is None:
                self.hub.rejected(self.name, "a line over %d MB" % (MAX_LINE >> 20))
                continue
            if raw.strip() == ship.NEED.encode():
                self._need = True
                continue
            self._line(raw)

    def _ended(self, proc: subprocess.Popen, code: int, errors: "_Tail") -> bool:
        need = self._need
        errors.join()
        with self._lock:
            self._proc = None
        if self._stop.is_set():
            return False
        if need and code == ship.NEED_EXIT:
            self.error = self.hub.install(self.target)
            if not self.error:
                self.installs += 1
                return True
            return False
        stderr = errors.text()
        if code == 255:
            self.error = ssh_failure(stderr, self.target) or \
                "ssh failed: %s" % (last_line(stderr) or "exit 255")
        elif code in (0, 1) and self.lines:
            self.error = ""  # the stream ended (remote restarted, we killed a silent one)
        else:
            self.error = "amc stream on %s ended (exit %s): %s" % (
                self.name, code, last_line(stderr) or "no message")
        return False

    def _line(self, raw: bytes) -> None:
        try:
            item = store.loads(raw)
        except ValueError:
            self.hub.rejected(self.name, "a line that is not JSON")
            return
        if not isinstance(item, dict) or item.get("event") not in EVENTS or \
                not isinstance(item.get("id"), str):
            self.hub.rejected(self.name, "a line that is not an event")
            return
        self.heard = time.monotonic()
        self._connected = True
        self.lines += 1
        online = ""
        if self.state != "online":  # told with this line's event: one change, not two
            self.failures = 0
            self.state, self.error, self._published = "online", "", ("online", "")
            online = "online"
        event = item["event"]
        if EVENT_ID.match(item["id"]):
            self.last_id = item["id"]
        if event == "messages":
            self.hub.messages(self.name, item.get("data"))
        if event == "activity":
            self.hub.activity(self.name, item.get("data"))
        if event in ("messages", "machine", "activity"):
            event = "heartbeat-less"  # not the core's; still carries the state change
        self.hub.core.apply(("remote", self.name, event, item.get("data"), online))

    def _set(self, state: str, error: str) -> None:
        self.state, self.error = state, error
        if (state, error) != self._published:
            self._published = (state, error)
            self.hub.core.apply(("machine", self.name, state, error))

    def _send_follow(self) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            # plus the machine's activity feed (re-published by the hub: hub.activity)
            follow = sorted(self._follow | {ACTIVITY_TOPIC})
            proc.stdin.write(store.dumps({"follow": follow}).encode() + b"\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the stream is ending; the next one sends the follow set first

    def _kill(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass


class _Slot:
    """One of the hub's connect slots, released once (at the first line or the end)."""

    def __init__(self, slots: threading.BoundedSemaphore) -> None:
        self._slots = slots
        slots.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots.release()


class _Tail:
    """Read a pipe to its end on a thread, keeping its last 4 KB (ssh's own messages)."""

    def __init__(self, stream: Any) -> None:
        self._data = b""
        self._stream = stream
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self._stream.read1(65536), b""):
            self._data = (self._data + chunk)[-4096:]

    def join(self) -> None:
        self._thread.join(5)

    def text(self) -> str:
        return self._data.decode("utf-8", "replace")
