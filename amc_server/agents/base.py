"""What every agent family shares: the Message shape and the transcript fold.

An agent module (claude/transcript.py, codex/transcript.py) subclasses `Transcript` and implements
`feed(record, where)`, which folds one decoded JSON object into `self.messages`. The bytes come
from a `jsonl.Tail` (the one JSONL byte reader: appended bytes only, torn and huge lines, a file
that shrank, was replaced or rewritten in place read again from the start), so a 100 MB
transcript is parsed once and then followed cheaply. Reads are tolerant: non-object JSON and
undecodable lines are skipped with one logged warning per file.
"""
import logging
import re
from typing import Any, Dict, List, Optional

from .. import jsonl
from ..model import preview
from ..store import loads

log = logging.getLogger("amc.agents")

# A string longer than CLIP_CHARS in a record is kept as its first CLIP_KEEP characters and a
# marker saying how much was left out, so a reader's memory does not grow with huge tool outputs
# (a reader made with clip=False keeps everything: the API's "whole part" fetches use one).
# Values under a "data" key (base64 images) are left alone: readers only measure them.
CLIP_CHARS = 64 * 1024
CLIP_KEEP = 4000
CLIP_MARK = "\u2026 [%d more characters not loaded]"
CLIPPED = re.compile(r"\u2026 \[(\d+) more characters not loaded\]")


def make_message(msg_id: str, role: str, content: str = "", timestamp: str = "",
                 tool_calls: Optional[List[Dict[str, Any]]] = None, thinking: str = "",
                 **extra: Any) -> Dict[str, Any]:
    """Return a Message dict in the contract's shape (extra keys allowed, never fewer)."""
    msg = {"id": msg_id, "role": role, "content": content, "timestamp": timestamp,
           "tool_calls": tool_calls if tool_calls is not None else [], "thinking": thinking}
    msg.update(extra)
    return msg


def make_tool_call(call_id: str, name: str, input_: Any) -> Dict[str, Any]:
    """Return a tool call; `result` and `is_error` are added when its output arrives."""
    return {"id": call_id, "name": name, "input": input_}


class Transcript(jsonl.Sink):
    """One agent transcript file, folded into messages. Subclasses implement `feed`.

    The bytes are read by a `jsonl.Tail`: the transcript's own (`refresh()` reads what was
    appended), or a live tail shared with other folds of the same file (consumers/tails.py
    drives it: `refresh()` then reads through that tail, and each line is decoded once for
    all of them).
    """

    agent = ""

    def __init__(self, path: str, session_id: str, clip: bool = True, pause_s: float = 0.0) -> None:
        self.path = path
        self.session_id = session_id
        self.clip = clip
        self.generation = 0  # counts re-reads from the start (truncated, replaced, rotated)
        self.tail = jsonl.Tail(path, pause_s)
        self.driver: Optional[Any] = None  # a live tail that reads for this fold (tails.py)
        self._reset()

    def _reset(self) -> None:
        self.generation += 1
        self.messages: List[Dict[str, Any]] = []
        self.skipped = 0
        self._warned: set = set()
        self.reset_state()

    # what the tail knows, for readers of this fold (the index stores the offset)
    @property
    def offset(self) -> int:
        return self.tail.offset

    @property
    def line_no(self) -> int:
        return self.tail.line_no

    @property
    def identity(self) -> Optional[tuple]:
        return self.tail.identity

    def reset_state(self) -> None:
        """Reset parser state kept by the subclass (called on first read and on truncation)."""

    def feed(self, record: Dict[str, Any], where: str) -> None:
        """Fold one JSON object (one transcript line) into `self.messages`."""
        raise NotImplementedError

    def warn_once(self, key: str, message: str) -> None:
        """Log `message` once per file and key (e.g. one unknown record type)."""
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)

    def next_id(self) -> str:
        """Return the stable id of the next message: <agent>-<first 8 of session>-<n>."""
        return "%s-%s-%d" % (self.agent, self.session_id[:8], len(self.messages))

    def refresh(self) -> List[Dict[str, Any]]:
        """Parse what was appended since the last call and return all messages so far."""
        driver = self.driver
        if driver is not None:
            driver.refresh()
        else:
            self.tail.refresh(self)
        return self.messages

    # -- jsonl.Sink ----------------------------------------------------------------------------

    def reset(self) -> None:
        self._reset()

    def skip(self, line_no: int, reason: str) -> None:
        self.skipped += 1
        self.warn_once("huge:%d" % line_no, reason)

    def line(self, raw: bytes, line_no: int, obj: Any = jsonl.UNDECODED) -> None:
        if obj is jsonl.UNDECODED:
            if not raw.strip():
                return
            try:
                obj = loads(raw)
            except ValueError:
                obj = jsonl.BROKEN
        if obj is jsonl.BROKEN:
            self.skipped += 1
            self.warn_once("json:%d" % line_no, "%s:%d: not JSON, skipped" % (self.path, line_no))
            return
        self.take(obj, line_no, len(raw) > CLIP_CHARS)

    def take(self, obj: Any, line_no: int, big: bool) -> None:
        """Fold one decoded line (`big`: over CLIP_CHARS, so maybe worth clipping)."""
        if self.clip and big:
            obj = clipped(obj)
        where = "%s:%d" % (self.path, line_no)
        if not isinstance(obj, dict):
            self.skipped += 1
            self.warn_once("nonobj", "%s: not a JSON object, skipped" % where)
            return
        try:
            self.feed(obj, where)
        except Exception as e:  # one odd record must never lose the rest of the conversation
            self.skipped += 1
            self.warn_once("err:" + type(e).__name__, "%s: record skipped: %r" % (where, e))


def clipped(value: Any, key: str = "") -> Any:
    """Return `value` with every string over CLIP_CHARS cut to CLIP_KEEP plus a marker."""
    if isinstance(value, str):
        if len(value) <= CLIP_CHARS or key == "data":
            return value
        return value[:CLIP_KEEP] + CLIP_MARK % (len(value) - CLIP_KEEP)
    if isinstance(value, dict):
        return {k: clipped(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [clipped(v) for v in value]
    return value


def text_preview(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cut `text` to `limit` characters with an ellipsis."""
    return preview(text, limit)
