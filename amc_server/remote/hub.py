"""The hub: this server following every machine in remotes.json, and acting on their sessions.

Place in the flow (several machines): remotes.json -> one Feed per machine (remote/feed.py) ->
the core (core/machines.py merges; `/api/state`, `/api/stream` carry them) -> the page. Going the
other way, an API request for `<machine>:<session id>` (respond, dismiss, the conversation and its
parts, events, starting a session with `"machine"`) becomes one short ssh call,
`<zipapp> request`, with the request as JSON on stdin and the answer as the first line of stdout
(remote/answer.py), so no user or remote text is ever on a command line. Per host that is one
stream plus short calls, well under sshd's MaxSessions (one session per connection: each call is
its own connection, ControlMaster off).
A machine that cannot be reached answers 502 (ssh failed: the reason in words) or 504 (no answer
in time), never a hang: every call has a deadline.
"""
import logging
import os
import queue
import subprocess
import threading
import time
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from ..consumers.activity_lines import bounded
from ..core.machines import address, split
from ..errors import ApiError
from ..paths import Paths
from . import config, ship, zipapp
from .feed import Feed
from .. import store
from .ssh import RemoteError, check_name, check_target, find_ssh, last_line, ssh_argv, ssh_failure

log = logging.getLogger("amc.remote")

TICK_S = 0.5
CALL_TIMEOUT_S = 30.0
SLOW_CALL_TIMEOUT_S = 90.0      # respond waits for the agent to take the answer; start, dialogs
MAX_ANSWER = 256 << 20
REAP_AFTER_S = 300.0            # a call that answered may go on (a start handles dialogs)
CONNECTS_AT_ONCE = 8
ACTIVITY_KEYS = ("id", "ts", "type", "session_id", "summary", "raw", "source", "agent", "project",
                 "truncated", "error", "title")


class Hub:
    """Every remote's feed, the zipapp they run, and calls to them."""

    def __init__(self, core: Any, paths: Paths, env: Optional[Mapping[str, str]] = None) -> None:
        self.core = core
        self.paths = paths
        self.env = dict(os.environ if env is None else env)
        self.feeds: Dict[str, Feed] = {}
        self._ssh: Optional[str] = None
        self._install_locks: Dict[str, threading.Lock] = {}   # one send per target at a time
        # connections being opened at once: sshd's default MaxStartups (10:30:100) starts
        # dropping beyond 10, so a hub of many machines opens them at most 8 at a time
        self.connect_slots = threading.BoundedSemaphore(CONNECTS_AT_ONCE)
        self._follow: Dict[str, int] = {}            # hub session id -> followers
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._seen_config: Any = None
        self._thread: Optional[threading.Thread] = None

    # -- life --------------------------------------------------------------------------------------

    def start(self) -> None:
        self.reload()
        self._thread = threading.Thread(target=self._tick, name="amc-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for feed in list(self.feeds.values()):
            feed.stop()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.reload()
                now = time.monotonic()
                for feed in list(self.feeds.values()):
                    feed.check(now)
            except Exception:
                log.exception("hub tick failed")

    def reload(self, force: bool = False) -> None:
        """Follow exactly the machines in remotes.json (read again when it changed)."""
        with self._reload_lock:  # the ticker and POST /api/machines
            self._reload(force)

    def _reload(self, force: bool) -> None:
        try:
            st = os.stat(self.paths.remotes_file)
            seen: Any = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            seen = None
        if seen == self._seen_config and not force:
            return
        self._seen_config = seen
        remotes, failed = config.read(self.paths)
        wanted = {r.name: (r.target, "") for r in remotes}
        for f in failed:
            wanted[f.name] = (f.target, "cannot add %s: %s" % (f.name, f.error))
        self.core.apply(("machines", wanted))
        for name in [n for n in self.feeds if n not in wanted or
                     self.feeds[n].target != wanted[n][0] or n not in
                     {r.name for r in remotes}]:
            self.feeds.pop(name).stop()
        for r in remotes:
            if r.name not in self.feeds:
                feed = self.feeds[r.name] = Feed(self, r.name, r.target)
                feed.start()
        for f in failed:  # shown offline with their error until added or removed
            self.core.apply(("machine", f.name, "offline", "cannot add %s: %s"
                             % (f.name, f.error)))

    # -- what feeds need ---------------------------------------------------------------------------

    def ssh(self) -> str:
        if self._ssh is None:
            self._ssh = find_ssh(self.env)
        return self._ssh

    def zipapp(self) -> Tuple[str, bytes]:
        return zipapp.current()

    def install(self, target: str) -> str:
        """Send the zipapp to `target` (one send at a time); return "" or the error in words."""
        with self._lock:
            lock = self._install_locks.setdefault(target, threading.Lock())
        with lock, self.connect_slots:
            error = ship.send(self.ssh(), target)
        if not error:
            log.info("sent %s to %s", self.zipapp()[0], target)
        return error

    def rejected(self, name: str, what: str) -> None:
        self.core.apply(("remote", name, "rejected", what, ""))

    def messages(self, name: str, data: Any) -> None:
        """Publish a followed remote conversation's delta under its hub id."""
        if not isinstance(data, dict) or not isinstance(data.get("session_id"), str) or \
                ":" in data["session_id"]:
            self.rejected(name, "a messages event without its session id")
            return
        hub_id = address(name, data["session_id"])
        with self._lock:
            if hub_id not in self._follow:
                return
        data = dict(data, session_id=hub_id)
        self.core.log.publish("messages", store.dumps(data, ensure_ascii=False,
                                                      separators=(",", ":")), session_id=hub_id)

    def activity(self, name: str, data: Any) -> None:
        """Keep and publish a remote's activity event under hub ids (machine set, session and
        event ids `<machine>:<id>`); a remote that is itself a hub is not relayed twice."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or \
                data.get("machine") or not isinstance(data.get("session_id", ""), str) or \
                ":" in str(data.get("session_id", "")):
            self.rejected(name, "an activity event that is not one of its own")
            return
        event = {k: v for k, v in data.items() if k in ACTIVITY_KEYS}
        for key in ("ts", "type", "summary", "source", "agent", "project", "error", "title"):
            if key in event or key in ("ts", "type", "summary"):
                event[key] = str(event.get(key) or "")[:200 if key == "summary" else 400]
        event["raw"], cut = bounded(event.get("raw"))  # remote output: bounded here too
        if cut:
            event["truncated"] = True
        sid = data.get("session_id") or ""
        event.update(id=address(name, data["id"][:300]), machine=name,
                     session_id=address(name, sid) if sid else "")
        self.core.activity.add_remote(event)

    # -- what the API asks --------------------------------------------------------------------------

    def owns(self, hub_id: str) -> bool:
        return self.core.machines.owns(hub_id)

    def follow(self, hub_ids: Set[str], delta: int) -> None:
        """Count followers of remote conversations (+1 / -1 each); tell the feeds."""
        touched: Set[str] = set()
        with self._lock:
            for hub_id in hub_ids:
                n = self._follow.get(hub_id, 0) + delta
                if n > 0:
                    self._follow[hub_id] = n
                else:
                    self._follow.pop(hub_id, None)
                touched.add(split(hub_id)[0])
            wanted = {m: {split(h)[1] for h in self._follow if split(h)[0] == m} for m in touched}
        for machine, ids in wanted.items():
            feed = self.feeds.get(machine)
            if feed is not None:
                feed.follow(ids)

    def call(self, machine: str, method: str, path: str, query: Dict[str, str],
             body: Any, slow: bool = False) -> Tuple[HTTPStatus, Dict[str, Any]]:
        """Run one API request on `machine` over ssh; its answer with session ids made hub ids."""
        feed = self.feeds.get(machine)
        if feed is None:
            raise ApiError("no machine named %s (see `amc remote list`)" % machine,
                           HTTPStatus.NOT_FOUND)
        request = store.dumps({"method": method, "path": path, "query": query,
                               "body": body}).encode("utf-8")
        for _ in range(2):
            status, answer = self._call_once(feed, request, slow)
            if status is not None:
                return status, _hub_ids(machine, answer)
            error = self.install(feed.target)  # no zipapp there yet: send it, then once more
            if error:
                raise ApiError("machine %s unreachable: %s" % (machine, error),
                               HTTPStatus.BAD_GATEWAY)
        raise ApiError("machine %s did not run AMC's zipapp" % machine, HTTPStatus.BAD_GATEWAY)

    def _call_once(self, feed: Feed, request: bytes, slow: bool
                   ) -> Tuple[Optional[HTTPStatus], Dict[str, Any]]:
        name, _ = self.zipapp()
        try:
            argv = ssh_argv(self.ssh(), feed.target, ship.command(name, ["request"]))
        except RemoteError as e:
            raise ApiError(str(e), HTTPStatus.BAD_GATEWAY) from None
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, close_fds=True, start_new_session=True)
        first: "queue.Queue[bytes]" = queue.Queue()
        err: List[bytes] = []

        def talk() -> None:
            try:
                proc.stdin.write(request)
                proc.stdin.close()
            except OSError:
                pass
            first.put(proc.stdout.readline(MAX_ANSWER))
        threading.Thread(target=talk, daemon=True).start()
        threading.Thread(target=lambda: err.append(proc.stderr.read(65536)), daemon=True).start()
        timeout = SLOW_CALL_TIMEOUT_S if slow else CALL_TIMEOUT_S
        try:
            line = first.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            raise ApiError("machine %s unreachable: no answer within %.0f s" % (
                feed.name, timeout), HTTPStatus.GATEWAY_TIMEOUT) from None
        threading.Thread(target=_reap, args=(proc,), daemon=True).start()
        if line.strip() == ship.NEED.encode():
            proc.wait(5)
            return None, {}
        try:
            answer = store.loads(line)
            status = HTTPStatus(int(answer["status"]))
            body = answer["body"]
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
            return status, body
        except (ValueError, KeyError, TypeError):
            pass
        code = proc.wait(10) if proc.poll() is None else proc.returncode
        stderr = b"".join(err).decode("utf-8", "replace")
        if code == 255:
            words = ssh_failure(stderr, feed.target) or "ssh failed: %s" % (
                last_line(stderr) or "exit 255")
        else:
            words = "its answer was not AMC's (exit %s): %s" % (
                code, last_line(stderr) or repr(line[:200]))
        raise ApiError("machine %s unreachable: %s" % (feed.name, words), HTTPStatus.BAD_GATEWAY)

    def add(self, name: str, target: Optional[str]) -> Dict[str, Any]:
        """POST /api/machines: `amc remote add` from the page."""
        from .cli import Remotes
        try:
            check_name(name)
            check_target(name if target is None else target)
        except RemoteError as e:
            raise ApiError(str(e), HTTPStatus.BAD_REQUEST) from None
        try:
            remote = Remotes(self.paths, self.env).add(name, target)
        except RemoteError as e:  # ssh or python3 there: kept as a failed add, shown
            self.reload(force=True)
            raise ApiError(str(e), HTTPStatus.BAD_GATEWAY) from None
        self.reload(force=True)
        return {"name": remote.name, "target": remote.target, "python": remote.python}


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.wait(REAP_AFTER_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _hub_ids(machine: str, body: Dict[str, Any]) -> Dict[str, Any]:
    sid = body.get("session_id")
    if isinstance(sid, str) and sid and ":" not in sid:
        body = dict(body, session_id=address(machine, sid))
    return body
