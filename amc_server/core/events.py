"""The core's event log: every change as an event with an id, a bounded ring, and subscribers.

Place in the flow: the core (live.py) publishes one event per change here; `/api/stream`, `amc
stream` and later the channel, other machines and the search index read it through `subscribe`.
Ids are `<epoch>-<seq>`: the epoch is new at each start (so a client of an earlier server gets a
fresh snapshot), seq rises by one per event. The ring keeps the last RING_SIZE events so a
reconnecting client gets exactly what it missed; one too far behind is told to start again from a
snapshot. Each subscriber has a bounded queue: publishing never blocks, and a subscriber whose
queue is full is dropped (closed) rather than slowing the core or the other subscribers.
"""
import collections
import os
import threading
import time
from typing import Any, Callable, Deque, Iterable, List, NamedTuple, Optional, Set, Tuple

RING_SIZE = 4096
QUEUE_SIZE = 1024


class Event(NamedTuple):
    """One change. `data` is the JSON of its payload, serialised once for every reader (text,
    bytes, or a list of bytes pieces for a snapshot)."""
    seq: int
    id: str
    type: str
    data: Any
    session_id: str = ""     # messages events go only to subscribers following this session


def new_epoch() -> str:
    """Return an epoch that differs between starts: milliseconds plus pid, base 36."""
    return "%s%s" % (_b36(int(time.time() * 1000)), _b36(os.getpid() % 1296).rjust(2, "0"))


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def parse_id(event_id: str) -> Tuple[str, int]:
    """Split `<epoch>-<seq>` into (epoch, seq); ("", -1) when it is not an event id."""
    epoch, sep, seq = str(event_id or "").strip().rpartition("-")
    if not sep or not epoch or not seq.isdigit() or len(seq) > 18:
        return "", -1
    return epoch, int(seq)


class Subscription:
    """One reader of the log: a bounded queue of events, filled by `EventLog.publish`."""

    def __init__(self, log: "EventLog", follow: Iterable[str], maxsize: int) -> None:
        self.log = log
        self.follow: Set[str] = set(follow)
        self.maxsize = maxsize
        self.dropped = False        # the queue overflowed: the reader must start again
        self.closed = False
        self._queue: Deque[Event] = collections.deque()
        self._cond = threading.Condition()
        self.on_drop: Optional[Callable[[], None]] = None  # e.g. shut the client's socket

    def wants(self, event: Event) -> bool:
        return not event.session_id or event.session_id in self.follow

    def _offer(self, event: Event) -> bool:
        """Queue `event` (never blocks); return False when the queue was full and we dropped."""
        with self._cond:
            if self.closed:
                return True
            if len(self._queue) >= self.maxsize:
                self.dropped = self.closed = True
                self._queue.clear()
                self._cond.notify_all()
                return False
            self._queue.append(event)
            self._cond.notify()
            return True

    def get(self, timeout: float) -> Optional[Event]:
        """Return the next event, or None after `timeout` seconds or when closed."""
        with self._cond:
            if not self._queue and not self.closed:
                self._cond.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def drain(self) -> List[Event]:
        """Return every queued event now, without waiting."""
        with self._cond:
            out = list(self._queue)
            self._queue.clear()
            return out

    def close(self) -> None:
        """Stop receiving; wakes a reader blocked in `get`."""
        self.log.unsubscribe(self)
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class EventLog:
    """The ring of recent events and the set of subscribers; thread-safe."""

    def __init__(self, epoch: Optional[str] = None, ring_size: int = RING_SIZE) -> None:
        self.epoch = epoch or new_epoch()
        self._ring: Deque[Event] = collections.deque(maxlen=ring_size)
        self._seq = 0
        self._lock = threading.Lock()
        self._subs: List[Subscription] = []
        self.dropped_total = 0

    @property
    def last_id(self) -> str:
        """Return the id of the latest event (`<epoch>-0` before the first)."""
        return "%s-%d" % (self.epoch, self._seq)

    @property
    def seq(self) -> int:
        return self._seq

    def publish(self, type_: str, data: str, session_id: str = "") -> Event:
        """Append an event and offer it to every subscriber that wants it; never blocks."""
        with self._lock:
            self._seq += 1
            event = Event(self._seq, "%s-%d" % (self.epoch, self._seq), type_, data, session_id)
            self._ring.append(event)
            subs = list(self._subs)
        dropped = [s for s in subs if s.wants(event) and not s._offer(event)]
        for sub in dropped:
            self.dropped_total += 1
            self.unsubscribe(sub)
            if sub.on_drop is not None:
                try:
                    sub.on_drop()
                except Exception:
                    pass
        return event

    def subscribe(self, last_id: str = "", follow: Iterable[str] = (),
                  snapshot: Optional[Callable[[], Tuple[str, str]]] = None,
                  maxsize: int = QUEUE_SIZE) -> Tuple[Subscription, List[Event]]:
        """Return a subscription and the events to send first.

        With a `last_id` of this epoch still in the ring: the events after it (that the
        subscription wants). Otherwise (no id, another epoch, too old, from the future) a
        `snapshot` event built by `snapshot()` -> (last event id it reflects, data), so the
        reader starts from the whole state; events after it follow without a gap.
        """
        sub = Subscription(self, follow, maxsize)
        epoch, seq = parse_id(last_id)
        with self._lock:
            # Registered under the lock: nothing published after the replay point is missed.
            self._subs.append(sub)
            ring = list(self._ring)
            current = self._seq
        oldest = ring[0].seq if ring else current + 1
        if epoch == self.epoch and 0 <= seq <= current and (seq >= oldest - 1 or seq == current):
            replay = [e for e in ring if e.seq > seq and sub.wants(e)]
            # events published since we copied the ring are queued already: skip duplicates
            return sub, _dedupe(replay, sub)
        if snapshot is None:
            return sub, []
        snap_id, data = snapshot()
        _, snap_seq = parse_id(snap_id)
        # What the snapshot reflects must not be replayed from the queue; `messages` are not in
        # a snapshot, so those stay.
        with sub._cond:
            sub._queue = collections.deque(e for e in sub._queue
                                           if e.seq > snap_seq or e.session_id)
        return sub, [Event(snap_seq, snap_id, "snapshot", data)]

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def close_all(self) -> None:
        """Close every subscription (the server stops): their readers return at once."""
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.close()

    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def since(self, seq: int) -> List[Event]:
        """Return the events in the ring after `seq` (for tests and diagnostics)."""
        with self._lock:
            return [e for e in self._ring if e.seq > seq]


def _dedupe(replay: List[Event], sub: Subscription) -> List[Event]:
    with sub._cond:
        queued = {e.seq for e in sub._queue}
    return [e for e in replay if e.seq not in queued]
