"""Other machines' sessions in the hub's core: what each remote last said, shown on the hub's terms.

Place in the flow (several machines): remote/feed.py reads one machine's `amc stream` over ssh and
hands each line to the core (`Core.apply(("remote", name, line))`); the core thread calls
`MachineTable.receive`, which returns the hub sessions that changed, and publishes them like its
own. A remote's output is hostile input, so here:
- a session must be a JSON object whose `session_id` is a valid id without `:` (a remote cannot
  claim an id of another machine or of this one), at most MAX_SESSION_BYTES of JSON;
- the hub sets `machine`, the address `<machine>:<id>`, `stale` and `last_seen` itself;
- times are moved onto the hub's clock: the skew is the hub's time minus the remote's (from the
  snapshot's `server_time` and each heartbeat), updated only when it moves by more than
  SKEW_SLACK_S, so a remote whose clock is off neither reorders nor ages its sessions.
"""
import logging
import time
from typing import Any, Dict, List, Optional, Tuple

from .. import model, store
from ..paths import valid_id

log = logging.getLogger("amc.machines")

MAX_SESSION_BYTES = 1 << 20
SKEW_SLACK_S = 2.0
STATES = ("online", "reconnecting", "offline")
TIME_SUFFIXES = ("_at", "_since")

Change = Tuple[str, Optional[Dict[str, Any]]]   # (hub session id, session or None: removed)


def address(machine: str, session_id: str) -> str:
    return "%s:%s" % (machine, session_id) if machine else session_id


def split(hub_id: str) -> Tuple[str, str]:
    """Return (machine, its session id) of a hub id; ("", id) for this machine's sessions."""
    machine, sep, rest = hub_id.partition(":")
    return (machine, rest) if sep and machine and rest else ("", hub_id)


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + \
        (".%03dZ" % int((seconds % 1) * 1000))


class Machine:
    """One remote as the hub knows it."""

    def __init__(self, name: str, target: str = "") -> None:
        self.name = name
        self.target = target
        self.state = "offline"
        self.last_seen = 0.0          # hub clock, epoch seconds; 0: never heard from
        self.error = ""
        self.skew = 0.0               # hub time minus remote time, seconds
        self.sessions: Dict[str, Dict[str, Any]] = {}   # remote id -> as received
        self.setup: Dict[str, Any] = {}
        self.rejected = 0

    def info(self) -> Dict[str, Any]:
        return {"name": self.name, "target": self.target, "state": self.state,
                "last_seen": _iso(self.last_seen) if self.last_seen else None,
                "error": self.error, "sessions": len(self.sessions)}


class MachineTable:
    """Every remote's sessions and state; changed only on the core thread."""

    def __init__(self) -> None:
        self.machines: Dict[str, Machine] = {}

    def apply(self, items: List[tuple], now: float) -> Tuple[Dict[str, Any], bool]:
        """Apply a batch from the core's inbox: `("remote", name, event, data, state)`,
        `("machine", name, state, error)`, `("machines", {name: (target, error)})`.

        Return ({hub session id: session or None}, whether the machines list changed). A
        session changed twice in one batch (a stream back online: its snapshot, then "not
        stale") is in it once, as it ends up.
        """
        changes: Dict[str, Any] = {}
        infos_changed = False
        for item in items:
            if item[0] == "remote":
                _, name, event, data, state = item
                changes.update(self.receive(name, event, data, now))
                item = ("machine", name, state, "") if state else ("",)
            if item[0] == "machine":
                _, name, state, error = item
                changed, stale = self.set_state(name, state, error,
                                                now if state == "online" else None)
                infos_changed |= changed
                changes.update(stale)
            elif item[0] == "machines":
                changes.update(self.configure(item[1]))
                infos_changed = True
        return changes, infos_changed

    # -- the machines list ----------------------------------------------------------------------

    def infos(self) -> List[Dict[str, Any]]:
        return [self.machines[n].info() for n in sorted(self.machines)]

    def owns(self, hub_id: str) -> bool:
        machine, _ = split(hub_id)
        return machine in self.machines

    def configure(self, wanted: Dict[str, Tuple[str, str]]) -> List[Change]:
        """Make the table hold exactly the machines in `wanted` ({name: (target, error)}); a
        machine that left takes its sessions with it."""
        changes: List[Change] = []
        for name in list(self.machines):
            if name not in wanted:
                gone = self.machines.pop(name)
                changes += [(address(name, rid), None) for rid in gone.sessions]
        for name, (target, error) in wanted.items():
            m = self.machines.get(name)
            if m is None:
                m = self.machines[name] = Machine(name, target)
            m.target = target
            if error and m.state == "offline" and not m.last_seen:
                m.error = error
        return changes

    def set_state(self, name: str, state: str, error: str = "",
                  seen: Optional[float] = None) -> Tuple[bool, List[Change]]:
        """Record a machine's state; return (whether its info changed, sessions whose
        staleness changed)."""
        m = self.machines.get(name)
        if m is None or state not in STATES:
            return False, []
        before = (m.state, m.error, m.last_seen if state != "online" else 0)
        was_stale = m.state != "online"
        m.state, m.error = state, error
        if seen:
            m.last_seen = seen
        changed = before != (m.state, m.error, m.last_seen if state != "online" else 0)
        if was_stale != (state != "online"):
            return changed, self._all(m)
        return changed, []

    # -- a remote's stream ------------------------------------------------------------------------

    def receive(self, name: str, event: str, data: Any, now: float) -> List[Change]:
        """Apply one event of `name`'s stream; return the hub sessions it changed."""
        m = self.machines.get(name)
        if m is None:
            return []
        if event == "rejected":  # the feed dropped a line (remote/feed.py)
            self._reject(m, str(data))
            return []
        m.last_seen = now
        if event == "snapshot":
            return self._snapshot(m, data, now)
        if event == "session":
            s = self._valid(m, data)
            if s is None:
                return []
            m.sessions[s["session_id"]] = s
            return [self._view(m, s["session_id"])]
        if event == "removed":
            rid = data.get("session_id") if isinstance(data, dict) else None
            if isinstance(rid, str) and m.sessions.pop(rid, None) is not None:
                return [(address(name, rid), None)]
            return []
        if event == "setup":
            m.setup = data if isinstance(data, dict) else {}
            return []
        if event == "heartbeat":
            return self._clock(m, data.get("time") if isinstance(data, dict) else None, now)
        return []  # an event type this hub does not know (a newer remote): ignored

    def _snapshot(self, m: Machine, data: Any, now: float) -> List[Change]:
        if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
            self._reject(m, "a snapshot without a sessions list")
            return []
        self._clock(m, data.get("server_time"), now, quiet=True)
        fresh: Dict[str, Dict[str, Any]] = {}
        for item in data["sessions"]:
            s = self._valid(m, item)
            if s is not None:
                fresh[s["session_id"]] = s
        m.setup = data.get("setup") if isinstance(data.get("setup"), dict) else m.setup
        changes = [(address(m.name, rid), None) for rid in m.sessions if rid not in fresh]
        m.sessions = fresh
        return changes + self._all(m)

    def _clock(self, m: Machine, remote_time: Any, now: float, quiet: bool = False
               ) -> List[Change]:
        at = model.parse_iso(remote_time) if isinstance(remote_time, str) else 0.0
        if not at:
            return []
        skew = now - at
        if abs(skew - m.skew) <= SKEW_SLACK_S:
            return []
        m.skew = skew
        return [] if quiet else self._all(m)

    def _valid(self, m: Machine, s: Any) -> Optional[Dict[str, Any]]:
        if not isinstance(s, dict):
            self._reject(m, "a session that is not an object")
            return None
        rid = s.get("session_id")
        if not valid_id(rid) or ":" in rid:
            self._reject(m, "a session id that is not its own: %r" % (str(rid)[:80],))
            return None
        if len(store.dumps(s, ensure_ascii=False)) > MAX_SESSION_BYTES:
            self._reject(m, "a session over %d bytes" % MAX_SESSION_BYTES)
            return None
        if not isinstance(s.get("status"), str) or not isinstance(s.get("started_at", ""), str):
            self._reject(m, "a session without a status")
            return None
        return s

    def _reject(self, m: Machine, what: str) -> None:
        m.rejected += 1
        if m.rejected <= 20 or m.rejected % 1000 == 0:
            log.warning("machine %s sent %s; skipped (%d so far)", m.name, what, m.rejected)

    def note_rejected(self, name: str, what: str) -> None:
        m = self.machines.get(name)
        if m is not None:
            self._reject(m, what)

    # -- how the hub shows a remote session ---------------------------------------------------------

    def _all(self, m: Machine) -> List[Change]:
        return [self._view(m, rid) for rid in m.sessions]

    def _view(self, m: Machine, rid: str) -> Change:
        s = dict(m.sessions[rid])
        for key, value in s.items():
            if isinstance(value, str) and key.endswith(TIME_SUFFIXES) and value:
                at = model.parse_iso(value)
                if at:
                    s[key] = _iso(at + m.skew)
        stale = m.state != "online"
        s.update(session_id=address(m.name, rid), machine=m.name, stale=stale,
                 last_seen=_iso(m.last_seen) if stale and m.last_seen else None)
        return s["session_id"], s
