"""One tail per live transcript: each appended line is read and decoded once, for every fold.

Place in the flow: the core sees a transcript change (`Core.on_transcripts`) -> `Tails`' worker
refreshes that transcript's one `LiveTail` (jsonl.Tail: appended bytes only) -> each line is
decoded once and handed to the folds registered on it -> the consumers are told
(`Tails.on_read`): the usage tracker compares the numbers, the conversations publish a
`messages` delta to followers, the search index writes the new messages on its own thread.

Folds are `jsonl.Sink`s: a usage fold (agents/usage.UsageFile: needle lines only) on every live
session, and the agent's conversation fold (agents/<agent>/transcript.py, every line) on the
transcripts somebody reads: a panel, a follower, the index. Conversation folds hold messages, so
at most MAX_MESSAGE_FOLDS are kept (least recently used first out); one attached to a tail that
has already read N bytes first catches up on those N bytes alone, then shares the tail. While
only a usage fold is attached, the tail scans for needles and decodes a few lines in a hundred.
A request that reads a fold (GET /api/conversation) refreshes the shared tail first, so it sees
every line the file holds when it arrives, and the consumers hear of what it read.
"""
import collections
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .. import jsonl
from ..store import loads

log = logging.getLogger("amc.tails")

MAX_MESSAGE_FOLDS = 64
MAX_SHARED_FOLDS = 64    # other named folds (the History's) kept on tails, least recently used out
SLICE_BYTES = 8 << 20    # a tail reads at most this much under its lock, then lets others in
PAUSE_S = 0.002          # between slices: the core's thread gets the GIL

ReadListener = Callable[[str, "LiveTail"], None]


class LiveTail(jsonl.Sink):
    """One transcript's tail and its folds; every read happens under `lock`."""

    def __init__(self, tails: "Tails", agent: str, path: str, session_id: str) -> None:
        self.tails = tails
        self.agent = agent
        self.path = path
        self.session_id = session_id
        self.tail = jsonl.Tail(path)
        self.lock = threading.RLock()
        self.usage: Optional[Any] = None      # agents/usage.UsageFile
        self.messages: Optional[Any] = None   # the agent's Transcript
        self.extra: Dict[str, Any] = {}       # other folds by name (the history's)
        self.decoded = 0                      # lines decoded (tests: one append, one decode)

    def folds(self) -> List[Any]:
        return [f for f in (self.usage, self.messages) if f is not None] + list(self.extra.values())

    def refresh(self) -> bool:
        """Read what was appended, once for every fold; tell the consumers when anything was.

        A long read (a 100 MB file seen first) goes a slice at a time, the lock let go in
        between: a panel opened meanwhile attaches its fold after one slice, not the file."""
        read = False
        span = SLICE_BYTES
        while True:
            with self.lock:
                tail = self.tail
                before = max(tail.offset, tail.huge_to)  # where reading goes on
                got = tail.refresh(self, upto=before + span if span else 0)
                read = read or got
                after = max(tail.offset, tail.huge_to)
                more = got and bool(span) and after < tail.size
                if more and after == before:
                    span = 0  # a line longer than a slice: read the rest whole, once
            if not more:
                break
            time.sleep(PAUSE_S)
        if read:
            self.tails._read(self)
        return read

    def attach(self, fold: Any) -> None:
        """Let `fold` share this tail: it reads what the tail already read on its own, once."""
        with self.lock:
            if self.folds() and self.tail.refresh(self):
                # up to date first (a fold read alone so far may be ahead of the tail); the
                # consumers hear of it from the worker
                self.tails.schedule(self.agent, self.path)
            if self.tail.offset:
                fold.tail.refresh(fold, upto=self.tail.offset)
                if (fold.tail.identity, fold.tail.offset) != (self.tail.identity,
                                                              self.tail.offset):
                    # the file changed under the catch-up: everyone starts again at byte 0
                    self.tail = jsonl.Tail(self.path)
                    for other in self.folds():
                        other.tail = self.tail
            fold.tail = self.tail
            fold.driver = self

    def detach(self, fold: Any) -> None:
        """Give `fold` its own tail again (it is dropped, or read alone from now on)."""
        with self.lock:
            own = jsonl.Tail(self.path)
            fold.tail, fold.driver = own, None
            fold.reset()

    # -- jsonl.Sink: one line, decoded once -------------------------------------------------------

    def reset(self) -> None:
        for fold in self.folds():
            fold.reset()

    def needles(self) -> Optional[Tuple[bytes, ...]]:
        out: Tuple[bytes, ...] = ()
        for fold in self.folds():
            wanted = fold.needles()
            if wanted is None:
                return None
            out += wanted
        return out

    def line(self, raw: bytes, line_no: int, obj: Any = jsonl.UNDECODED) -> None:
        wanting = [f for f in self.folds() if f.wants(raw)]
        if not wanting:
            return
        if obj is jsonl.UNDECODED:
            if not raw.strip():
                return
            self.decoded += 1
            try:
                obj = loads(raw)
            except ValueError:
                obj = jsonl.BROKEN
        for fold in wanting:
            fold.line(raw, line_no, obj)

    def skip(self, line_no: int, reason: str) -> None:
        for fold in self.folds():
            fold.skip(line_no, reason)

    def block_done(self, block: bytes) -> None:
        for fold in self.folds():
            fold.block_done(block)


class Tails:
    """The live tails of one core, their worker thread and their consumers."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._tails: Dict[Tuple[str, str], LiveTail] = {}     # (agent, path) -> tail
        self._by_session: Dict[str, LiveTail] = {}
        self._message_folds: "collections.OrderedDict[Tuple[str, str], LiveTail]" = \
            collections.OrderedDict()
        self._shared_folds: "collections.OrderedDict[Tuple[str, str, str], LiveTail]" = \
            collections.OrderedDict()
        self._listeners: List[ReadListener] = []
        self._pending: Set[Tuple[str, str]] = set()
        self._usage_makers: Dict[Tuple[str, str], Callable[[], Any]] = {}
        self._busy = False
        self._thread: Optional[threading.Thread] = None
        core.on_transcripts(self.poke)

    def on_read(self, listener: ReadListener) -> None:
        """Call `listener(session_id, tail)` after a tail read something (on the reading thread,
        outside the tail's lock): it reads the folds it cares about."""
        self._listeners.append(listener)

    # -- which transcripts are live ---------------------------------------------------------------

    def get(self, agent: str, path: str, session_id: str) -> LiveTail:
        """Return the live tail of a transcript (made on first use, with no fold)."""
        with self._lock:
            return self._get(agent, path, session_id)

    def _get(self, agent: str, path: str, session_id: str) -> LiveTail:
        key = (agent, path)
        tail = self._tails.get(key)
        if tail is None:
            tail = self._tails[key] = LiveTail(self, agent, path, session_id)
        self._by_session[session_id] = tail
        return tail

    def want_usage(self, agent: str, path: str, session_id: str, make: Callable[[], Any]) -> None:
        """Give the transcript's tail a usage fold (`make()` builds it) and read it, both on
        the worker: this only records the wish (the core's thread calls it)."""
        key = (agent, path)
        with self._lock:
            tail = self._get(agent, path, session_id)
            if tail.usage is None:
                self._usage_makers[key] = make
            self._pending.add(key)
            self._ensure_worker()
            self._wake.notify()

    def messages(self, agent: str, path: str, session_id: str, make: Callable[[], Any]
                 ) -> Tuple[Any, Any]:
        """Return (the transcript's conversation fold, the lock to hold while reading it),
        attaching one (`make()`) if it has none; the least recently used beyond
        MAX_MESSAGE_FOLDS are detached and dropped."""
        tail = self.get(agent, path, session_id)
        key = (agent, path)
        with tail.lock:
            if tail.messages is None:
                fold = make()
                tail.attach(fold)
                tail.messages = fold
            fold = tail.messages
        dropped: List[LiveTail] = []
        with self._lock:
            self._message_folds.pop(key, None)
            self._message_folds[key] = tail
            while len(self._message_folds) > MAX_MESSAGE_FOLDS:
                _, old = self._message_folds.popitem(last=False)
                dropped.append(old)
        for old in dropped:
            with old.lock:
                if old.messages is not None:
                    old.detach(old.messages)
                    old.messages = None
        return fold, tail.lock

    def shared(self, agent: str, path: str, name: str, make: Callable[[], Any]
               ) -> Optional[Tuple[Any, Any]]:
        """Return (the fold `name` of a live transcript, the lock to read it under), attaching
        `make()` if it has none; None when the transcript has no live tail (a past file)."""
        with self._lock:
            tail = self._tails.get((agent, path))
        if tail is None:
            return None
        with tail.lock:
            fold = tail.extra.get(name)
            if fold is None:
                fold = make()
                tail.attach(fold)
                tail.extra[name] = fold
        # a fold per live session would be kept for good (the History reads every file at
        # start): at most MAX_SHARED_FOLDS stay, the least recently used dropped
        dropped: List[Tuple[LiveTail, str]] = []
        with self._lock:
            key = (agent, path, name)
            self._shared_folds.pop(key, None)
            self._shared_folds[key] = tail
            while len(self._shared_folds) > MAX_SHARED_FOLDS:
                (_, _, old_name), old = self._shared_folds.popitem(last=False)
                dropped.append((old, old_name))
        for old, old_name in dropped:
            with old.lock:
                gone = old.extra.pop(old_name, None)
                if gone is not None:
                    old.detach(gone)
        return fold, tail.lock

    def forget(self, keep: Callable[[str], bool]) -> None:
        """Drop the tails of sessions `keep(session_id)` says are gone (their folds hold memory)."""
        with self._lock:
            gone = [k for k, t in self._tails.items() if not keep(t.session_id)
                    and k not in self._message_folds]
            for key in gone:
                tail = self._tails.pop(key)
                if self._by_session.get(tail.session_id) is tail:
                    del self._by_session[tail.session_id]

    def of_session(self, session_id: str) -> Optional[LiveTail]:
        with self._lock:
            return self._by_session.get(session_id)

    # -- reading ------------------------------------------------------------------------------

    def poke(self, session_ids: Set[str]) -> None:
        """The core saw these sessions' transcripts change: read them on the worker."""
        with self._lock:
            hit = {(t.agent, t.path) for s in session_ids
                   for t in [self._by_session.get(s)] if t is not None}
            if hit:
                self._pending |= hit
                self._ensure_worker()
                self._wake.notify()

    def schedule(self, agent: str, path: str) -> None:
        with self._lock:
            self._pending.add((agent, path))
            self._ensure_worker()
            self._wake.notify()

    def settle(self, timeout: float) -> bool:
        """Wait until every scheduled read is done (a process that answers once: app.py)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    def _read(self, tail: LiveTail) -> None:
        for listener in self._listeners:
            try:
                listener(tail.session_id, tail)
            except Exception:
                log.exception("a consumer of %s failed", tail.path)

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="amc-tails", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        stop = self.core.stopping
        while not stop.is_set():
            with self._lock:
                if not self._pending:
                    self._wake.wait(5.0)
                pending, self._pending = self._pending, set()
                tails = [(self._tails[k], self._usage_makers.pop(k, None))
                         for k in pending if k in self._tails]
                self._busy = bool(tails)
            try:
                for tail, make in tails:
                    if stop.is_set():
                        break
                    try:
                        if make is not None:
                            with tail.lock:
                                fold = make() if tail.usage is None else None
                                if fold is not None:  # None: a transcript AMC will not read
                                    tail.attach(fold)
                                    tail.usage = fold
                        if not tail.refresh():
                            self._read(tail)  # read meanwhile by a request: tell anyway
                    except Exception:
                        log.exception("reading %s failed", tail.path)
            finally:
                with self._lock:
                    self._busy = False
                    self._wake.notify_all()
