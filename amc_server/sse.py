"""Reading Server-Sent Events: the one parser AMC's own clients share.

`bin/amc-channel` reads its inbox and `amc stream` follows a local server's `/api/stream` with it
(http/server.py writes the events). Feed it one line at a time, without its newline; at each blank line
that ends an event it returns `(event type, id, data text)`. Comments (`: keep-alive`), `retry:`
and unknown fields are skipped; an event with no data is dropped, as browsers do.
"""
from typing import List, Optional, Tuple

SseEvent = Tuple[str, str, str]


class Parser:
    """Turns lines into events (see the module docstring)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.event = "message"
        self.id = ""
        self.data: List[str] = []

    def feed(self, line: str) -> Optional[SseEvent]:
        """Take one line; return the event it completes, or None."""
        line = line.rstrip("\r\n")
        if not line:
            done = (self.event, self.id, "\n".join(self.data)) if self.data else None
            self._reset()
            return done
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            self.event = value
        elif field == "data":
            self.data.append(value)
        elif field == "id":
            self.id = value
        return None
