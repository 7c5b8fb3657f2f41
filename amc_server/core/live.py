"""The live core: every session in memory, changed only by changes, each change an event.

Place in the flow: sources (hook files, Claude's registry, Codex rollouts, transcripts) -> Core ->
http/api.py (`/api/state` from memory) and `/api/stream` (events) -> the page. Its interface is small
on purpose, so the stream, other machines, the channel and the search index all use the same one:
- `apply(path)` / `touch(session_id)`: something changed; the core thread re-reads that one file
  and re-merges the sessions it feeds;
- `snapshot()`: the state as one JSON body with its event id and ETag (built once per change);
- `subscribe(last_id, follow)`: the events after `last_id`, or a snapshot first (events.py);
- `session(id)`, `sessions()`: copies of the merged view.
Changes come from three places, all stdlib: the hook's doorbell datagram (doorbell.py), directory
watchers (watch.py: inotify through ctypes, or stat polling), and a reconcile every RECONCILE_S
that re-scans only directories whose mtime moved, re-stats live files, expires Codex rollouts and
probes agent pids, so a lost datagram or a missed inotify event is repaired within 2 s.
Only the core thread changes the tables; readers take `_lock` for a consistent view.
"""
import collections
import logging
import os
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Set, Tuple

from .. import agents as agent_family, model, store
from ..terminals import procenv
from ..agents.claude import registry as claude_registry
from .dismissed import Dismissed
from ..errors import ApiError
from ..paths import Paths
from . import doorbell, merge as merging, watch
from . import channels as channel_prompts
from .channels import Channels
from .machines import MachineTable
from .tails import Tails
from ..consumers.conversations import Conversations
from ..consumers.activity import Activity
from .setup import data_dir_problem, read_setup
from .events import Event, EventLog, Subscription
from .sources import Sources

log = logging.getLogger("amc.core")

RECONCILE_S = 2.0
FULL_PASS_S = 300.0      # with inotify, every directory is looked at this often (a safety net)
BATCH_S = 0.001          # collect a burst (one hook write is several file events) into one apply
SETUP_EVERY_S = 10.0
QUIET_EVENTS = ("Notification", "Dismissed")

Enricher = Callable[[Dict[str, Any]], None]           # adds to one merged session, never waits
TranscriptListener = Callable[[Set[str]], None]       # the sessions whose transcripts changed
PathListener = Callable[[List[str]], None]            # changed hook event logs / prompt history


class Core:
    """The in-memory model of every session on this machine, and its event log."""

    def __init__(self, paths: Paths, force_stat: Optional[bool] = None,
                 watch_interval: float = 1.0) -> None:
        self.paths = paths
        self.agents = agent_family.load()
        self.dismissed = Dismissed(paths.dismissed_file)
        self.src = Sources(paths, self.agents)
        self.log = EventLog()
        self._lock = threading.RLock()
        self._sessions: Dict[str, Dict[str, Any]] = {}
        self._frags: Dict[str, bytes] = {}               # session id -> its JSON, made once
        self._keys: Dict[str, tuple] = {}                # session id -> sort key
        self._setup: Dict[str, Any] = {}
        self._setup_json = "{}"
        self._setup_at = 0.0
        self._body: Optional[bytes] = None               # the sessions JSON, until a change
        self.version = 0     # seq of the last event that changed the state (sessions, setup)
        self.panes = procenv.Panes({name: member.process()  # sessions without a pid
                                    for name, member in agent_family.load().items()
                                    if member.process is not None})
        self._enrichers: List[Enricher] = []
        self._transcript_listeners: List[TranscriptListener] = []
        self._path_listeners: List[PathListener] = []
        self._inbox: Deque[Any] = collections.deque()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self.stopping = self._stop    # set when the core stops: consumers' threads end with it
        self._thread: Optional[threading.Thread] = None
        self._force_stat = force_stat
        self._watch_interval = watch_interval
        self.watcher: Optional[watch.Watcher] = None
        self.bell: Optional[doorbell.Doorbell] = None
        self._bell_thread: Optional[threading.Thread] = None
        self._dir_mtimes: Dict[str, int] = {}
        self._watched_dirs: Set[str] = set()
        self._last_reconcile = 0.0
        self._last_full_pass = 0.0
        self.stats = collections.Counter()
        self.tails = Tails(self)    # one tail per live transcript, shared by its readers
        self.conversations = Conversations(self)
        self.activity = Activity(self)                   # hook events + prompt history
        self.channels = Channels()
        self.machines = MachineTable()                   # other machines' sessions (the hub)
        self._machines_json: Optional[str] = "[]"         # None: made again at the next read

    # -- life -------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen for changes, read every source once, then follow changes on a thread."""
        self.bell = doorbell.Doorbell(self.paths.data)
        if self.bell.error:
            log.warning("%s", self.bell.error)
        self.watcher = watch.make_watcher(self.apply, force_stat=bool(self._force_stat),
                                          interval=self._watch_interval)
        self.watcher.start()
        self.activity.load()  # the backlog, before the loop publishes what follows
        self.rescan()
        self._thread = threading.Thread(target=self._loop, name="amc-core", daemon=True)
        self._thread.start()
        if self.bell.sock is not None:
            self._bell_thread = threading.Thread(target=self._listen, name="amc-doorbell",
                                                 daemon=True)
            self._bell_thread.start()
        log.info("core started: %d sessions, %s watcher", len(self._sessions), self.watcher.kind)

    def stop(self) -> None:
        """Stop the threads, close every subscription and the doorbell."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self.watcher is not None:
            self.watcher.stop()
        if self.bell is not None:
            self.bell.close()
        self.log.close_all()
        self.channels.log.close_all()

    # -- the consumers' interface (app.py registers them) ------------------------------------

    def add_enricher(self, enrich: Enricher) -> None:
        """Call `enrich(session)` on every merged session (core thread, under the lock): it adds
        what it already knows and hands any reading to its own thread."""
        self._enrichers.append(enrich)

    def remove_enricher(self, enrich: Enricher) -> None:
        self._enrichers[:] = [e for e in self._enrichers if e != enrich]

    def on_transcripts(self, listener: TranscriptListener) -> None:
        """Call `listener(session ids)` after a batch in which their transcripts changed (core
        thread, outside the lock)."""
        self._transcript_listeners.append(listener)

    def on_paths(self, listener: PathListener) -> None:
        """Call `listener(paths)` with the changed hook event logs and prompt history files, and
        with their directories when those appeared or overflowed (look at every file) (core
        thread, outside the lock)."""
        self._path_listeners.append(listener)

    # -- the interface ----------------------------------------------------------------------

    def apply(self, change: Any) -> None:
        """Queue a change: a file path, or ("session", id) for "re-merge this session"."""
        if isinstance(change, str) and not self._relevant(change):
            return  # server.log, a shell's history in a watched HOME, ...: never wake for those
        with self._wake:
            self._inbox.append(change)
            self._wake.notify()

    def touch(self, session_id: str) -> None:
        """Queue a re-merge of one session (its inputs outside the files changed)."""
        self.apply(("session", session_id))

    def flush(self, timeout: float = 1.0) -> bool:
        """Apply every change already signalled (doorbell, watcher queue), then return.

        Costs a few microseconds when nothing is pending; makes a request that follows a hook
        see what that hook wrote, and lets tests wait for "the core caught up".
        """
        if self._thread is None or not self._thread.is_alive():
            self._drain(self._take())
            return True
        if self.bell is not None:
            for sid in self.bell.read():
                self._ring(sid)
        drain = getattr(self.watcher, "drain", None)
        if drain is not None:
            drain()
        done = threading.Event()
        self.apply(("flush", done))
        return done.wait(timeout)

    def snapshot(self) -> Tuple[str, List[bytes]]:
        """Return (id of the last event it reflects, the /api/state JSON in pieces).

        The sessions part is joined once per change and shared by every reader (a 5,000-session
        state is megabytes: never copied per request or per stream); only the clock is new.
        """
        with self._lock:
            if self._body is None:
                order = sorted(self._sessions, key=self._keys.__getitem__)
                self._body = b",".join([self._frags[s] for s in order])
            event_id, sessions, setup = self.log.last_id, self._body, self._setup_json
            if self._machines_json is None:
                self._machines_json = store.dumps(self.machines.infos(), ensure_ascii=False)
            machines = self._machines_json
        tail = '],"server_time":%s,"setup":%s,"machines":%s}' % (
            store.dumps(model.now_iso()), setup, machines)
        return event_id, [b'{"sessions":[', sessions, tail.encode("utf-8")]

    def state(self) -> Tuple[str, List[bytes]]:
        """Return (ETag, the /api/state JSON in pieces); the tag changes exactly with the state."""
        with self._lock:
            return '"%s-%d"' % (self.log.epoch, self.version), self.snapshot()[1]

    def subscribe(self, last_id: str = "", follow: Iterable[str] = (),
                  maxsize: int = 0) -> Tuple[Subscription, List[Event]]:
        """Return a subscription to the event log and the events to send it first."""
        kwargs = {"maxsize": maxsize} if maxsize else {}
        return self.log.subscribe(last_id, follow, snapshot=self._locked_snapshot, **kwargs)

    def _locked_snapshot(self) -> Tuple[str, List[bytes]]:
        with self._lock:  # no event may be published between the snapshot and its id
            return self.snapshot()

    def session(self, session_id: str) -> Optional[Dict[str, Any]]:
        """Return a copy of one merged session, or None when it is not shown."""
        with self._lock:
            frag = self._frags.get(session_id)
        return store.loads(frag) if frag is not None else None

    def sessions(self) -> List[Dict[str, Any]]:
        """Return copies of every shown session, in /api/state order."""
        return store.loads(b"".join(self.snapshot()[1]))["sessions"]

    def hook_files(self) -> List[Tuple[str, Dict[str, Any]]]:
        """Return (path, contents) of every hook session file as last read (housekeeping)."""
        with self._lock:
            return [(self.paths.session_file(sid), dict(s)) for sid, s in self.src.hooks.items()
                    if isinstance(s, dict)]

    def registry_entry(self, session_id: str) -> Optional[Dict[str, Any]]:
        """Return Claude's live registry entry for a session as last read, or None."""
        with self._lock:
            entry = self.src.live_entry(session_id)
            return dict(entry) if entry is not None else None

    def setup(self) -> Dict[str, Any]:
        with self._lock:
            return dict(self._setup)

    def dismiss(self, session_id: str) -> None:
        """Hide a session for good: forget its hook file and keep its id out of discovery."""
        session_file = self.paths.session_file(session_id)
        try:
            self.dismissed.add(session_id)
            if os.path.exists(session_file):
                with store.SessionLog(self.paths.events_file(session_id)) as log_:
                    log_.append({"received_at": model.now_iso(), "agent": "amc",
                                 "event": "Dismissed", "payload": {}})
                    store.remove(session_file)
        except OSError as e:
            raise ApiError("cannot dismiss: the data dir cannot be written (%s)" % (
                e.strerror or e), HTTPStatus.INSUFFICIENT_STORAGE) from None
        self.apply(session_file)
        self.touch(session_id)
        self.flush()

    # -- reading everything (start, tests, `amc stream`) -------------------------------------

    def rescan(self) -> None:
        """Read every source from scratch (on the caller's thread) and publish the differences."""
        with self._lock:
            self._dir_mtimes.clear()
            affected = self._watch_all()
            for d in self.src.dirs():
                affected |= self.src.scan_dir(d)
            self.src.index_rollouts()
            affected |= self._probe_pids()
            self._merge(affected | self.src.session_ids() | set(self._sessions))
            self._refresh_setup(force=True)
            self._last_reconcile = self._last_full_pass = time.monotonic()

    # -- the core thread --------------------------------------------------------------------

    def _listen(self) -> None:
        while not self._stop.is_set() and self.bell is not None:
            for sid in self.bell.wait(0.5):
                self._ring(sid)

    def _ring(self, sid: str) -> None:
        if sid and "/" not in sid and "\0" not in sid:
            self.stats["datagrams"] += 1
            self.apply(self.paths.session_file(sid))
            self.apply(self.paths.events_file(sid))  # the hook appended to its event log too

    def _take(self) -> List[Any]:
        with self._wake:
            items = list(self._inbox)
            self._inbox.clear()
        return items

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = max(0.0, self._last_reconcile + RECONCILE_S - time.monotonic())
            with self._wake:
                if not self._inbox:
                    self._wake.wait(wait)
                # Looked at under the lock: the watcher and the doorbell append meanwhile
                # (iterating a deque another thread appends to raises RuntimeError).
                batch = bool(self._inbox) and not any(
                    isinstance(c, tuple) and c[0] == "flush" for c in self._inbox)
            if self._stop.is_set():
                return
            if batch:
                time.sleep(BATCH_S)
            try:
                self._drain(self._take())
                if time.monotonic() >= self._last_reconcile + RECONCILE_S:
                    self.reconcile()
            except Exception:
                log.exception("core: applying changes failed")

    def _drain(self, items: List[Any]) -> None:
        flushes = []
        remote: List[tuple] = []
        paths: Dict[str, None] = {}
        sids: Set[str] = set()
        for item in items:
            if isinstance(item, tuple):
                if item[0] == "flush":
                    flushes.append(item[1])
                elif item[0] == "session":
                    sids.add(item[1])
                elif item[0] in ("remote", "machine", "machines"):
                    remote.append(item)
            elif isinstance(item, str):
                paths[item] = None
        try:
            if paths or sids:
                with self._lock:
                    affected = set(sids)
                    transcripts: Set[str] = set()
                    for path in paths:
                        changed = self._path_changed(path)
                        affected |= changed
                        kind = self.src.kind(path)
                        if kind in ("transcript", "rollout"):
                            transcripts |= changed
                        elif not kind:  # a directory listed again: the transcripts in it
                            transcripts |= self._with_transcript(changed)
                    self._merge(affected)
                if transcripts:
                    for listener in self._transcript_listeners:
                        listener(transcripts)
                logs = [p for p in paths if self.src.kind(p) in ("events", "history")
                        or p in (self.paths.events, self.paths.claude_dir)]  # dir: look again
                for path_listener in self._path_listeners if logs else ():
                    path_listener(logs)
            if remote:
                with self._lock:
                    self._from_machines(remote)
        finally:
            for done in flushes:
                done.set()

    def _relevant(self, path: str) -> bool:
        """Tell (cheaply, on the watcher's thread) whether a changed path can matter."""
        if self.src.kind(path):
            return True
        parent, name = os.path.split(path)
        p = self.paths
        return path in self._watched_dirs or parent == p.claude_projects or \
            (path.startswith(p.codex_sessions + os.sep) and name.isdigit()) or \
            any(d == path or d.startswith(path + os.sep) for d in self.src.roots())

    def _path_changed(self, path: str) -> Set[str]:
        self.stats["changes"] += 1
        kind = self.src.kind(path)
        if kind == "setup":
            self._refresh_setup(force=True)
            return set()
        if kind:
            return self.src.changed(path)
        # Not a source file: a directory that matters appeared, vanished or overflowed.
        return self._dir_changed(path) if self._relevant(path) else set()

    def _dir_changed(self, path: str) -> Set[str]:
        """A directory appeared, vanished or overflowed: (re)watch and re-scan what it holds."""
        affected = self._watch_all()
        if path in self.src.dirs() and self.watcher is not None:
            self.watcher.watch(path)
            affected |= self.src.scan_dir(path)
        self._refresh_setup(force=True)  # settings.json may have come with its directory
        return affected

    def _full_pass_due(self) -> bool:
        """Whether the reconcile looks at every directory now: always when the watcher polls
        (it may miss a change within one clock tick), with inotify (which reports every change,
        and an overflow as "look again") only every FULL_PASS_S."""
        if self.watcher is None or self.watcher.kind != "inotify":
            return True
        return time.monotonic() - self._last_full_pass >= FULL_PASS_S

    def reconcile(self, now: Optional[float] = None) -> None:
        """Repair anything the change sources missed; cheap when nothing changed.

        Every RECONCILE_S: the hook files' and the registry's directories looked at (a lost
        datagram and a missed event repaired), registry files and active rollouts re-stat'ed,
        rollouts expired, pids probed. Every other directory (every project dir: thousands for a
        heavy user) only in a full pass (`_full_pass_due`), so a quiet server with inotify stats
        two directories, not thousands.
        """
        now = time.time() if now is None else now
        self.stats["reconciles"] += 1
        transcripts: Set[str] = set()
        with self._lock:
            affected: Set[str] = set()
            dirs = self.src.session_dirs()  # two directories: hook files, Claude's registry
            if self._full_pass_due():
                self.stats["full_passes"] += 1
                self._last_full_pass = time.monotonic()
                affected |= self._watch_all()
                dirs = self.src.dirs()
            for d in dirs:
                mtime = _mtime_ns(d)
                seen = self._dir_mtimes.get(d)
                # A change within the same clock tick as our last look may hide behind an
                # equal mtime: look again while the directory changed in the last interval.
                if seen is None or mtime != seen or mtime / 1e9 > now - 2 * RECONCILE_S:
                    affected |= self.src.scan_dir(d, now)
                    self._dir_mtimes[d] = mtime
            transcripts = self._with_transcript(affected)
            for path in list(self.src.registry) + list(self.src.rollouts):
                affected |= self.src.changed(path, now)  # registry files are rewritten in place
            affected |= self.src.expire(now)
            affected |= self._probe_pids()
            if self.dismissed.reload_if_changed():  # dismissed by `amc request` (a hub)
                affected |= {s for s in self._sessions if not self.machines.owns(s)}
            # panes found later (a Codex process scan; only the live ones have a rollout here)
            affected |= {sid for sid in self.src.rollout_sessions
                         if sid in self._sessions and not self._sessions[sid].get("tmux_pane")
                         and not self._sessions[sid].get("zellij_session")}
            self._merge(affected)
            self._refresh_setup()
            self._last_reconcile = time.monotonic()
        if transcripts:
            for listener in self._transcript_listeners:
                listener(transcripts)

    def _with_transcript(self, sids: Set[str]) -> Set[str]:
        """Return the sessions of `sids` that have a transcript or rollout (a directory scan
        found them: the transcript listeners hear of files first seen by listing)."""
        src = self.src
        return {sid for sid in sids if sid in src.transcripts or sid in src.rollout_paths}

    # -- merging and publishing -------------------------------------------------------------

    def _merge(self, sids: Iterable[str]) -> None:
        """Re-merge `sids`; publish a `session` or `removed` event for each that changed."""
        published = False
        for sid in sids:
            if self.machines.owns(sid):
                continue  # another machine's session (or a local id that claims to be one)
            s = merging.merge(sid, self.src, self.dismissed, self.panes.lookup)
            if s is not None:
                s["machine"] = ""
                channel_prompts.apply(s, self.channels)
                for enrich in self._enrichers:
                    try:
                        enrich(s)
                    except Exception:
                        log.exception("enriching %s failed", sid)
            published = self._put(sid, s) or published
        if published:
            self._body = None

    def _put(self, sid: str, s: Optional[Dict[str, Any]]) -> bool:
        """Publish `session` (or `removed`, for None) when it differs from what is shown."""
        if s is None:
            if sid not in self._frags:
                return False
            del self._frags[sid], self._sessions[sid], self._keys[sid]
            self.version = self.log.publish("removed", store.dumps({"session_id": sid})).seq
            return True
        frag = store.dumps(s, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if self._frags.get(sid) == frag:
            return False
        self._sessions[sid] = s
        self._frags[sid] = frag
        self._keys[sid] = merging.sort_key(s)
        self.version = self.log.publish("session", frag).seq
        return True

    def _from_machines(self, items: List[tuple]) -> None:
        """Apply what the hub's feeds said (remote/feed.py) and publish what changed."""
        changes, infos_changed = self.machines.apply(items, time.time())
        published = False
        for sid, s in changes.items():
            published = self._put(sid, s) or published
        if published:
            self._body = None
        if infos_changed:
            machines = store.dumps(self.machines.infos(), ensure_ascii=False)
            self.version = self.log.publish("machine", '{"machines":%s}' % machines).seq
            self._machines_json = machines
        else:
            self._machines_json = None  # counts, last_seen: made at the next read, not per line

    def _probe_pids(self) -> Set[str]:
        affected: Set[str] = set()
        for pid, sids in self.src.pids().items():
            alive = claude_registry.pid_alive(pid)
            if self.src.alive.get(pid) != alive:
                self.src.alive[pid] = alive
                affected |= sids
        return affected

    def _refresh_setup(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._setup_at < SETUP_EVERY_S:
            problem = data_dir_problem(self.paths.data)
            if problem == self._setup.get("data_dir_problem"):
                return
        self._setup_at = now
        setup = read_setup(self.paths, self.watcher.kind if self.watcher is not None else "",
                           self.bell.error if self.bell is not None else "")
        if setup != self._setup:
            self._setup = setup
            self._setup_json = store.dumps(setup, ensure_ascii=False)
            self.version = self.log.publish("setup", self._setup_json).seq

    # -- which directories -------------------------------------------------------------------

    def _watch_all(self) -> Set[str]:
        """Watch every directory of interest that exists and is not watched yet; scan new ones.

        A directory that does not exist yet (no Claude Code run on this machine so far) is
        waited for by watching its nearest existing ancestor below the root.
        """
        if self.watcher is None:
            return set()
        affected: Set[str] = set()
        watched = set(self.watcher.watched())
        sources = self.src.dirs()
        wanted: Set[str] = set()
        for d in list(self.src.roots()) + sources:
            while d and not os.path.isdir(d):
                d = os.path.dirname(d) if os.path.dirname(d) != d else ""
            if d and d != os.path.dirname(d):
                wanted.add(d)
        for d in sorted(wanted | set(sources)):
            if d not in watched and os.path.isdir(d) and self.watcher.watch(d):
                if d in sources:
                    affected |= self.src.scan_dir(d)
        self._watched_dirs = set(self.watcher.watched())
        return affected


def _mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
