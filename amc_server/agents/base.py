"""What every agent family shares: the Message shape and an incremental, tolerant JSONL reader.

An agent module (claude.py, codex.py) subclasses `Transcript` and implements `feed(record, where)`,
which folds one decoded JSON object into `self.messages`. `Transcript.refresh()` reads only the
bytes appended since the last call, so a 100 MB transcript is parsed once and then followed cheaply;
a file that shrank, was replaced, or was rewritten in place (the last 256 bytes read before the
offset no longer match) is re-read from the start. Reads are tolerant: a torn last line
is left for the next refresh, non-object JSON and undecodable lines are skipped with one logged
warning per file.
"""
import logging
import os
import re
from typing import Any, Dict, List, Optional

from .. import store
from ..model import preview
from ..store import MAX_LINE_BYTES, loads

log = logging.getLogger("amc.agents")

# A single line bigger than MAX_LINE_BYTES (store's) is skipped (logged), read a chunk at a time
# and never held; where it ends (or how far it is known to go on) is remembered, not scanned again.
READ_CHUNK = 1024 * 1024
# A string longer than CLIP_CHARS in a record is kept as its first CLIP_KEEP characters and a
# marker saying how much was left out, so a reader's memory does not grow with huge tool outputs
# (a reader made with clip=False keeps everything: the API's "whole part" fetches use one).
# Values under a "data" key (base64 images) are left alone: readers only measure them.
SEAL_BYTES = 256  # the last bytes read, compared before each later read (a rewrite in place)
CLIP_CHARS = 64 * 1024
CLIP_KEEP = 4000
CLIP_MARK = "\u2026 [%d more characters not loaded]"
CLIPPED = re.compile(r"\u2026 \[(\d+) more characters not loaded\]")
_PREADV = hasattr(os, "preadv")


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


class Transcript:
    """One agent transcript file, parsed incrementally. Subclasses implement `feed`."""

    agent = ""

    def __init__(self, path: str, session_id: str, clip: bool = True) -> None:
        self.path = path
        self.session_id = session_id
        self.clip = clip
        self.generation = 0  # counts re-reads from the start (truncated, replaced, rotated)
        self._reset()

    def _reset(self) -> None:
        self.generation += 1
        self.offset = 0
        self.line_no = 0
        self.identity: Optional[tuple] = None
        self.mtime_ns = 0
        self.seal = b""  # the bytes read last ending at `offset`: checked before going on
        self.huge_to = 0  # > offset: the line at `offset` is over MAX_LINE_BYTES, no newline
        # up to this byte yet (a refresh goes on looking from there)
        self.messages: List[Dict[str, Any]] = []
        self.skipped = 0
        self._warned: set = set()
        self.reset_state()

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
        try:
            st = os.stat(self.path)
        except OSError:
            return self.messages
        identity = (st.st_dev, st.st_ino)
        if identity != self.identity or st.st_size < self.offset:
            self._reset()
            self.identity = identity
        if st.st_size == self.offset and st.st_mtime_ns == self.mtime_ns:
            return self.messages
        try:
            f = store.open_read(self.path)  # a regular file (a FIFO would block), never waits
        except OSError:
            return self.messages
        with f:
            if self.offset and not self._sealed(f):
                # Rewritten in place (same inode, not shorter: the bytes already read changed,
                # as when the CLI rewrites a transcript whole): read it again from the start.
                self._reset()
                self.identity = identity
            self.mtime_ns = st.st_mtime_ns
            if st.st_size > self.offset:
                f.seek(self.offset)
                self._consume(f, st.st_size)
            self._seal(f)
        return self.messages

    def _sealed(self, f) -> bool:
        """Tell whether the file still holds, just before `offset`, the bytes last read there."""
        f.seek(self.offset - len(self.seal))
        return f.read(len(self.seal)) == self.seal

    def _seal(self, f) -> None:
        start = max(0, self.offset - SEAL_BYTES)
        f.seek(start)
        self.seal = f.read(self.offset - start)

    def _consume(self, f, size: int) -> None:
        # The unfinished line is kept as its pieces and joined once it ends: a 50 MB line costs
        # one copy, not one per chunk read (which held the GIL for seconds).
        pieces: List[bytes] = []
        waiting = 0  # bytes in `pieces`
        pos = self.offset
        if self.huge_to > self.offset:
            # Known from an earlier refresh: a line over the cap starts here; look on for its end.
            if not self._skip_line(f, self.huge_to, size):
                return
            pos = self.offset
        while pos < size:
            chunk = f.read(min(READ_CHUNK, size - pos))
            if not chunk:
                break
            pos += len(chunk)
            end = chunk.rfind(b"\n")
            if end >= 0:
                pieces.append(chunk[:end])
                lines = b"".join(pieces).split(b"\n")
                pieces, waiting = [chunk[end + 1:]], len(chunk) - end - 1
                for raw in lines:
                    self.offset += len(raw) + 1
                    self._line(raw)
            else:
                pieces.append(chunk)
                waiting += len(chunk)
            if waiting > MAX_LINE_BYTES:
                # Skip the rest of an absurdly long line without holding it in memory.
                self.warn_once("huge:%d" % self.line_no, "%s:%d: line over %d bytes skipped"
                               % (self.path, self.line_no + 1, MAX_LINE_BYTES))
                pieces, waiting = [], 0
                if not self._skip_line(f, pos, size):
                    return  # still being written (or never ends): remembered in huge_to
                pos = self.offset
        pending = b"".join(pieces)
        if pending:
            # Last line without a newline: complete JSON is taken, a torn line waits for more bytes.
            try:
                obj = loads(pending)
            except ValueError:
                return
            self.offset += len(pending)
            self._record(clipped(obj) if self.clip and len(pending) > CLIP_CHARS else obj)

    def _skip_line(self, f, pos: int, size: int) -> bool:
        """Skip the line at `offset`, known to have no newline before `pos`, a chunk at a time;
        return whether it ended (offset is then past it, and so is `f`). If not, remember how
        far it goes (huge_to) so the next refresh reads only what comes after."""
        # One buffer, reused, filled by pread: a new 1 MB bytes object per read (or a buffered
        # readinto) made skipping a 1 GB line take 2.5 s instead of 0.3 s.
        buf = bytearray(READ_CHUNK)
        view = memoryview(buf)
        fd = f.fileno()
        f.seek(pos)
        while pos < size:
            want = view[:min(READ_CHUNK, size - pos)]
            got = os.preadv(fd, [want], pos) if _PREADV else f.readinto(want)
            if not got:
                break
            nl = buf.find(b"\n", 0, got)
            if nl >= 0:
                self.offset = pos + nl + 1
                self.huge_to = 0
                self.line_no += 1
                self.skipped += 1
                f.seek(self.offset)
                return True
            pos += got
        self.huge_to = pos
        return False

    def _line(self, raw: bytes) -> None:
        if not raw.strip():
            self.line_no += 1
            return
        try:
            obj = loads(raw)
        except ValueError:
            self.line_no += 1
            self.skipped += 1
            self.warn_once("json:%d" % self.line_no, "%s:%d: not JSON, skipped"
                           % (self.path, self.line_no))
            return
        self._record(clipped(obj) if self.clip and len(raw) > CLIP_CHARS else obj)

    def _record(self, obj: Any) -> None:
        self.line_no += 1
        where = "%s:%d" % (self.path, self.line_no)
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
