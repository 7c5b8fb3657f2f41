"""AMC's Claude Code channels as the core sees them: which sessions have one, what waits on it.

Place in the flow: `bin/amc-channel` (one per Claude Code session, spawned by the CLI) holds
`GET /api/channel/<id>/inbox` open and posts permission requests and acks; the dashboard's answers
go out through `send`. A session with at least one inbox open carries `"channel": true`
(merge.py); a permission request the CLI relayed to the channel is a needs-attention prompt on
the card with Allow / Deny until it is answered (here or in the terminal: the hooks or the
registry then show the session moved on) or the channel goes away.

The inbox is an event log of its own (events.py), not the page's stream: only the session's own
channel reads what the user sends it, and a channel that reconnects with its last event id gets
what it missed.
"""
import itertools
import threading
import time
from typing import Any, Dict, List, Optional, Set

from .. import model, store
from .events import Event, EventLog, Subscription

PERMISSION_OPTIONS = ["Allow", "Deny"]
ACK_WAIT_S = 5.0


class Channels:
    """The live channels, their pending permission requests, and acks of what was sent."""

    def __init__(self) -> None:
        self.log = EventLog()
        self._lock = threading.Condition()
        self._open: Dict[str, int] = {}                   # session -> inboxes open
        self._prompts: Dict[str, Dict[str, Any]] = {}     # session -> pending permission request
        self._acked: Set[str] = set()                     # delivery ids the channel passed on
        self._ids = itertools.count(1)

    # -- the channel's side ------------------------------------------------------------------

    def connect(self, session_id: str, last_id: str = "") -> "tuple[Subscription, List[Event]]":
        """Open an inbox for a session's channel; return it and what it missed."""
        sub, replay = self.log.subscribe(last_id, {session_id})
        with self._lock:
            self._open[session_id] = self._open.get(session_id, 0) + 1
        return sub, replay

    def disconnect(self, session_id: str, sub: Subscription) -> None:
        sub.close()
        with self._lock:
            left = self._open.get(session_id, 1) - 1
            if left > 0:
                self._open[session_id] = left
            else:
                self._open.pop(session_id, None)
                self._prompts.pop(session_id, None)  # nobody can answer it through us now

    def permission_request(self, session_id: str, request: Dict[str, Any]) -> None:
        """Record a permission prompt the CLI relayed to the channel."""
        with self._lock:
            self._prompts[session_id] = dict(request, at=time.time(), at_iso=model.now_iso())

    def ack(self, delivery_id: str) -> None:
        """The channel wrote a delivery to Claude Code's stdin."""
        with self._lock:
            self._acked.add(delivery_id)
            if len(self._acked) > 10000:
                self._acked.clear()
            self._lock.notify_all()

    # -- the dashboard's side ----------------------------------------------------------------

    def live(self, session_id: str) -> bool:
        with self._lock:
            return self._open.get(session_id, 0) > 0

    def prompt(self, session_id: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            found = self._prompts.get(session_id)
            return dict(found) if found is not None else None

    def clear(self, session_id: str, request_id: str = "") -> None:
        """Forget a session's pending permission request (answered, or moved on)."""
        with self._lock:
            found = self._prompts.get(session_id)
            if found is not None and (not request_id or found.get("request_id") == request_id):
                del self._prompts[session_id]

    def send(self, session_id: str, kind: str, data: Dict[str, Any]) -> str:
        """Queue `data` for the session's channel (`message` or `verdict`); return its id."""
        delivery_id = "d%d" % next(self._ids)
        self.log.publish(kind, store.dumps(dict(data, delivery_id=delivery_id),
                                           ensure_ascii=False), session_id=session_id)
        return delivery_id

    def wait_ack(self, delivery_id: str, timeout: float = ACK_WAIT_S) -> bool:
        """Wait until the channel says it passed a delivery on to Claude Code."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while delivery_id not in self._acked:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            self._acked.discard(delivery_id)
            return True


def apply(s: Dict[str, Any], channels: Channels) -> None:
    """Mark a merged session with its channel and, when one waits, its channel permission prompt.

    A relayed request is shown until AMC answers it, or the session shows it moved on since: a
    hook event other than the prompt's own, or Claude's registry no longer waiting.
    """
    sid = s["session_id"]
    s["channel"] = channels.live(sid)
    prompt = channels.prompt(sid) if s["channel"] else None
    if prompt is None:
        return
    since = model.parse_iso(s.get("last_event_at", ""))
    moved = since > prompt["at"] + 0.5 and s.get("last_event") not in (
        "PermissionRequest", "Notification", "registry:waiting")
    if moved:
        channels.clear(sid, str(prompt.get("request_id") or ""))
        return
    tool = str(prompt.get("tool_name") or "")
    preview = model.preview(str(prompt.get("input_preview") or ""))
    description = str(prompt.get("description") or "")
    if s.get("status") != model.NEEDS_ATTENTION:
        s["status"], s["status_since"] = model.NEEDS_ATTENTION, prompt["at_iso"]
    s["pending_questions"] = []
    s["attention"] = {"kind": model.ATTN_PERMISSION, "via": "channel",
                      "request_id": str(prompt.get("request_id") or ""), "tool": tool,
                      "summary": preview, "text": description or "Permission to use %s" % tool,
                      "options": list(PERMISSION_OPTIONS),
                      "options_count": len(PERMISSION_OPTIONS)}
