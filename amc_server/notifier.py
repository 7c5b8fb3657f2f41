"""The notifier: the user's notify commands run when a session comes to need attention or is done.

Place in the flow: the core's event log (`session` events, core/events.py) -> Notifier, a thread
of its own -> Runner -> the commands of notify.json (notify.py: the file, the environment, an
argument that is exactly `$AMC_X`; a value never goes inside an argument, so a session's text
never becomes a shell's code). The core's thread never waits for a command:
- the Notifier follows the log only while notify.json holds a command (a stat every CHECK_S),
  so a server without commands parses nothing; it hands runs to the Runner and goes on;
- the Runner runs at most AT_ONCE at a time, QUEUE_MAX more wait, beyond that a run is dropped
  and logged; each run is killed (its whole process group) after TIMEOUT_S; failures, non-zero
  exits and timeouts are logged to the server log;
- only changes notify: the state when it starts following (the first snapshot) is what was,
  not news; a session notifies once per (status, status_since); one first seen already waiting
  or done (a machine coming back online brings all its sessions) only if it entered that status
  in the last RECENT_S seconds.
"""
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .. import model, store
from .notify_commands import Commands, environment, expand

log = logging.getLogger("amc.notify")

TIMEOUT_S = 30.0
AT_ONCE = 3
QUEUE_MAX = 64
RECENT_S = 30.0
CHECK_S = 1.0          # how often notify.json is looked at (a stat)
EVENTS = {model.NEEDS_ATTENTION: "needs_attention", model.DONE: "done"}


class Runner:
    """Runs commands on AT_ONCE worker threads, each killed after `timeout` seconds."""

    def __init__(self, timeout: float = TIMEOUT_S, at_once: int = AT_ONCE,
                 queue_max: int = QUEUE_MAX, popen: Callable[..., Any] = subprocess.Popen) -> None:
        self.timeout = timeout
        self.at_once = at_once
        self.popen = popen
        self._queue: "queue.Queue[Optional[Tuple[List[str], Dict[str, str]]]]" = \
            queue.Queue(maxsize=queue_max)
        self._threads: List[threading.Thread] = []
        self._lock = threading.Lock()
        self.stats = {"run": 0, "failed": 0, "timed_out": 0, "dropped": 0}

    def submit(self, argv: List[str], env: Dict[str, str]) -> bool:
        """Queue one run; False (and logged) when too many are waiting already."""
        with self._lock:
            if len(self._threads) < self.at_once:
                t = threading.Thread(target=self._work, name="amc-notify-run", daemon=True)
                self._threads.append(t)
                t.start()
        try:
            self._queue.put_nowait((argv, env))
            return True
        except queue.Full:
            self.stats["dropped"] += 1
            log.warning("notify: %d commands already waiting: %s not run", self._queue.qsize(),
                        argv[0])
            return False

    def stop(self) -> None:
        for _ in list(self._threads):
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self.run(*job)
            except Exception:
                log.exception("notify: running %s failed", job[0][0])

    def run(self, argv: List[str], env: Dict[str, str]) -> Optional[int]:
        """Run one command to its end or its timeout; return its exit code (None: not run)."""
        self.stats["run"] += 1
        try:
            proc = self.popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, close_fds=True, start_new_session=True)
        except OSError as e:
            self.stats["failed"] += 1
            log.warning("notify: cannot run %s: %s", argv[0], e.strerror or e)
            return None
        try:
            out, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.stats["timed_out"] += 1
            _kill_group(proc)
            proc.communicate()
            log.warning("notify: %s still ran after %.0f s: killed", argv[0], self.timeout)
            return None
        if proc.returncode != 0:
            self.stats["failed"] += 1
            tail = (out or b"")[-500:].decode("utf-8", "replace").strip()
            log.warning("notify: %s exited %s%s", argv[0], proc.returncode,
                        ": " + tail if tail else "")
        return proc.returncode


def _kill_group(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session (start_new_session): its children
    except OSError:
        try:
            proc.kill()
        except OSError:
            pass


# -- following the core -----------------------------------------------------------------------

class Notifier:
    """Follows the core's `session` events on a thread; fires the commands on the changes."""

    def __init__(self, core: Any, url: str = "", runner: Optional[Runner] = None,
                 env: Optional[Mapping[str, str]] = None, recent_s: float = RECENT_S) -> None:
        self.core = core
        self.url = url
        self.runner = runner or Runner()
        self.env = dict(os.environ if env is None else env)
        self.recent_s = recent_s
        self.commands = Commands(core.paths)
        self._seen: Dict[str, Tuple[str, str]] = {}       # sid -> (status, status_since)
        self._notified: Dict[str, Tuple[str, str]] = {}
        self._baseline = True                             # the next snapshot is what was
        self._last = ""                                   # the last event id taken
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._sub: Any = None
        self.fired: List[Tuple[str, str]] = []            # (event, session id), the last 100

    def start(self) -> None:
        """Follow the core on a thread (subscribed at once when commands are stored already)."""
        self._subscribe()
        self._thread = threading.Thread(target=self._loop, name="amc-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._unsubscribe()
        self.runner.stop()

    @property
    def following(self) -> bool:
        """Whether it follows the core now (only while notify.json holds a command)."""
        return self._sub is not None

    def _subscribe(self) -> None:
        """Follow the core's events while there are commands to run (none: costs nothing)."""
        if self._sub is not None or not self.commands.current():
            return
        sub, first = self.core.subscribe(self._last)
        for event in first:
            self._take(event)
        self._sub = sub

    def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            sub.close()

    def _loop(self) -> None:
        checked = 0.0
        while not self._stop.is_set():
            if time.monotonic() - checked >= CHECK_S:
                checked = time.monotonic()
                if not self.commands.current():
                    if self._sub is not None:  # the last command was removed
                        self._unsubscribe()
                        self._seen.clear()
                        self._last, self._baseline = "", True
                else:
                    self._subscribe()
            sub = self._sub
            if sub is None:
                self._stop.wait(CHECK_S)
                continue
            event = sub.get(CHECK_S)
            if event is not None:
                self._take(event)
            elif sub.closed:
                self._sub = None
                if sub.dropped:  # fell behind: pick up from the ring, or a fresh snapshot
                    log.warning("notify: fell behind the core's events; catching up")
                else:
                    self._stop.wait(CHECK_S)  # the core stopped its log

    def _take(self, event: Any) -> str:
        try:
            if event.type == "snapshot":
                data = b"".join(event.data) if isinstance(event.data, list) else event.data
                sessions = _sessions(data)
                baseline, self._baseline = self._baseline, False
                for s in sessions:
                    self._session(s, quiet=baseline)
            elif event.type == "session":
                self._session(_json(event.data), quiet=False)
            elif event.type == "removed":
                sid = str(_json(event.data).get("session_id") or "")
                self._seen.pop(sid, None)
                self._notified.pop(sid, None)
        except Exception:
            log.exception("notify: cannot read a %s event", getattr(event, "type", "?"))
        self._last = getattr(event, "id", "") or self._last
        return self._last

    def _session(self, s: Any, quiet: bool) -> None:
        if not isinstance(s, dict) or not isinstance(s.get("session_id"), str):
            return
        sid = s["session_id"]
        now = (str(s.get("status") or ""), str(s.get("status_since") or ""))
        before = self._seen.get(sid)
        self._seen[sid] = now
        event = EVENTS.get(now[0])
        if quiet or event is None or before == now or self._notified.get(sid) == now:
            return
        if before is None:  # first seen: news only if it just happened
            since = model.parse_iso(now[1])
            if not since or time.time() - since > self.recent_s:
                return
        self._notified[sid] = now
        self.fire(s, event)

    def fire(self, session: Mapping[str, Any], event: str) -> None:
        """Run every stored command for `session` entering `event` (needs_attention | done)."""
        commands = self.commands.current()
        if not commands:
            return
        self.fired = (self.fired + [(event, str(session.get("session_id")))])[-100:]
        env = environment(session, event, self.url, self.env)
        for command in commands:
            self.runner.submit(expand(command["argv"], env), env)


def _json(data: Any) -> Any:
    return store.loads(data)


def _sessions(data: Any) -> List[Any]:
    state = _json(data)
    sessions = state.get("sessions") if isinstance(state, dict) else None
    return sessions if isinstance(sessions, list) else []
