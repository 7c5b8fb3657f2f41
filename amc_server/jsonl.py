"""The one JSONL byte reader: lines of a file that agents and hooks append to, read tolerantly.

Place in the flow: every reader of an append-only JSONL file goes through here (transcripts,
rollouts and their usage through `Tail`; hook event logs and Claude's `history.jsonl` through
`iter_lines`, `read_objects`, `read_since` and `last_lines`), so what a file can do to a
reader is handled once: a torn last line waits for its newline (a last line that is complete
JSON is taken), a line over `store.MAX_LINE_BYTES` is skipped a chunk at a time and never held,
a file that shrank, was replaced (a new inode) or was rewritten in place (the last bytes read no
longer match) is read again from the start.

`Tail` follows one file by offset and hands each new line to a sink, which decodes it (once) and
folds it: a `Transcript` (agents/base.py) into messages, a usage accumulator into numbers, or
several folds at once (consumers/tails.py: one tail per live transcript). A sink that needs only
some lines names byte needles; the tail then finds those lines a block at a time with
`bytes.find` and never splits the others (a 100 MB transcript of tool output costs a scan).
"""
import logging
import os
import time
from typing import Any, BinaryIO, Iterable, Iterator, List, Optional, Tuple

from . import store
from .store import MAX_LINE_BYTES, loads

log = logging.getLogger("amc.jsonl")

READ_CHUNK = 1024 * 1024  # bytes read at a time
SEAL_BYTES = 256          # the last bytes read, compared before each later read (a rewrite in place)
_PREADV = hasattr(os, "preadv")
UNDECODED = object()      # `Sink.line`'s obj when the tail did not decode the line
BROKEN = object()         # `Sink.line`'s obj when the line is not JSON (decoded once, elsewhere)


class Sink:
    """What a `Tail` hands lines to (subclass, or any object with these methods)."""

    def reset(self) -> None:
        """The file is read again from the start: forget what was folded."""

    def needles(self) -> Optional[Tuple[bytes, ...]]:
        """Return what a line must contain to be handed over, or None for every line."""
        return None

    def wants(self, raw: bytes) -> bool:
        """Tell from a line's bytes whether to hand it over (what needles() asks for)."""
        needles = self.needles()
        return needles is None or any(n in raw for n in needles)

    def line(self, raw: bytes, line_no: int, obj: Any = UNDECODED) -> None:
        """Take one complete line (no newline; `obj` when it was already decoded: the value,
        or BROKEN when it is not JSON)."""

    def skip(self, line_no: int, reason: str) -> None:
        """A line was skipped without being handed over (over the size cap)."""

    def block_done(self, block: bytes) -> None:
        """A block of complete lines was scanned for needles (sinks that note its last line)."""


class Tail:
    """One JSONL file followed by offset; `refresh(sink)` hands over what was appended."""

    def __init__(self, path: str, pause_s: float = 0.0, follow: bool = True,
                 max_line: int = MAX_LINE_BYTES) -> None:
        self.path = path
        self.pause_s = pause_s  # a rest after each megabyte: a background reader leaves the GIL
        self.follow = follow    # False: a symlink reads as nothing (files AMC itself writes)
        self.max_line = max_line  # a longer line is skipped, a chunk at a time, never held
        self.at = 0             # where the line being handed over starts (its byte offset)
        self.generation = 0     # counts reads from the start (first, truncated, replaced)
        self.reads = 0          # refreshes that read bytes (tests: one append, one read)
        self.size = 0           # the file's size at the last refresh
        self._at_end = True     # this refresh reads to the end of the file (not `upto`)
        self._clear()

    def _clear(self) -> None:
        self.generation += 1
        self.offset = 0         # the first byte not yet taken (after the last whole line)
        self.line_no = 0        # lines taken so far
        self.identity: Optional[tuple] = None
        self.mtime_ns = 0
        self.seal = b""         # the bytes read last, ending at `offset`
        self.huge_to = 0        # > offset: the line at `offset` is over the cap up to here

    def start_at(self, offset: int, identity: tuple) -> None:
        """Go on from `offset` of the file `identity` (its start was read another way: the
        activity feed's backlog, read backwards)."""
        self.offset, self.identity, self.seal, self.huge_to = offset, identity, b"", 0

    def jump(self, pos: int) -> None:
        """Skip ahead to the first line that starts after `pos` (a burst cut to its end)."""
        if pos > self.offset:
            self.offset, self.huge_to, self.seal = pos - 1, pos, b""

    def _restart(self, sink: Sink, identity: tuple) -> None:
        self._clear()
        self.identity = identity
        sink.reset()

    def refresh(self, sink: Sink, upto: int = 0) -> bool:
        """Hand `sink` the lines appended since the last call (up to byte `upto` when given);
        return whether anything was read."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        identity = (st.st_dev, st.st_ino)
        if identity != self.identity or st.st_size < self.offset:
            self._restart(sink, identity)
        size = min(st.st_size, upto) if upto else st.st_size
        self.size, self._at_end = st.st_size, size == st.st_size
        if size == self.offset and st.st_mtime_ns == self.mtime_ns:
            return False
        try:
            # a regular file (a FIFO would block), never waits
            f = store.open_read(self.path, follow=self.follow)
        except OSError:
            return False
        with f:
            if self.offset and not self._sealed(f):
                # Rewritten in place (same inode, not shorter: the bytes already read changed,
                # as when the CLI rewrites a transcript whole): read it again from the start.
                self._restart(sink, identity)
            self.mtime_ns = st.st_mtime_ns
            if size > self.offset:
                self.reads += 1
                f.seek(self.offset)
                self._consume(f, size, sink)
            self._seal(f)
        return True

    def _sealed(self, f: BinaryIO) -> bool:
        """Tell whether the file still holds, just before `offset`, the bytes last read there."""
        f.seek(self.offset - len(self.seal))
        return f.read(len(self.seal)) == self.seal

    def _seal(self, f: BinaryIO) -> None:
        start = max(0, self.offset - SEAL_BYTES)
        f.seek(start)
        self.seal = f.read(self.offset - start)

    # -- every line -----------------------------------------------------------------------------

    def _consume(self, f: BinaryIO, size: int, sink: Sink) -> None:
        if self.huge_to > self.offset:
            # Known from an earlier refresh: a line over the cap starts here; look on for its end.
            if not self._skip_line(f, self.huge_to, size, sink):
                return
        if sink.needles() is not None:
            self._scan(f, size, sink)
            return
        # The unfinished line is kept as its pieces and joined once it ends: a 50 MB line costs
        # one copy, not one per chunk read (which held the GIL for seconds).
        pieces: List[bytes] = []
        waiting = 0  # bytes in `pieces`
        pos = self.offset
        while pos < size:
            chunk = f.read(min(READ_CHUNK, size - pos))
            if not chunk:
                break
            pos += len(chunk)
            end = chunk.rfind(b"\n")
            if end >= 0:
                pieces.append(chunk[:end])
                block = b"".join(pieces)
                pieces, waiting = [chunk[end + 1:]], len(chunk) - end - 1
                for raw in block.split(b"\n"):
                    self.at = self.offset
                    self.offset += len(raw) + 1
                    self.line_no += 1
                    sink.line(raw, self.line_no)
                sink.block_done(block)
                if pos < size and sink.needles() is not None:
                    # the sink wants fewer lines from here (it found what it read every line for)
                    f.seek(self.offset)
                    self._scan(f, size, sink)
                    return
            else:
                pieces.append(chunk)
                waiting += len(chunk)
            if waiting > self.max_line:
                # Skip the rest of an absurdly long line without holding it in memory.
                pieces, waiting = [], 0
                if not self._skip_line(f, pos, size, sink):
                    return  # still being written (or never ends): remembered in huge_to
                pos = self.offset
            if self.pause_s and pos < size:
                time.sleep(self.pause_s)
        self._last(b"".join(pieces), sink)

    def _last(self, pending: bytes, sink: Sink) -> None:
        """A last line without a newline: complete JSON is taken, a torn line waits (and only
        at the end of the file: before `upto`, its newline may be in the next slice)."""
        if not pending or not self._at_end:
            return
        try:
            obj = loads(pending)
        except ValueError:
            return
        self.at = self.offset
        self.offset += len(pending)
        self.line_no += 1
        sink.line(pending, self.line_no, obj)

    def _skip_line(self, f: BinaryIO, pos: int, size: int, sink: Sink) -> bool:
        """Skip the line at `offset`, known to have no newline before `pos`, a chunk at a time;
        return whether it ended (offset is then past it, and so is `f`). If not, remember how
        far it goes (huge_to) so the next refresh reads only what comes after."""
        if self.huge_to <= self.offset:
            self.at = self.offset
            sink.skip(self.line_no + 1, "%s:%d: line over %d bytes skipped"
                      % (self.path, self.line_no + 1, self.max_line))
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
                f.seek(self.offset)
                return True
            pos += got
        self.huge_to = pos
        return False

    # -- only the lines holding a needle -------------------------------------------------------

    def _scan(self, f: BinaryIO, size: int, sink: Sink) -> None:
        """Read from `offset` to `size`, handing over only the lines that hold a needle."""
        pending = b""
        pos = self.offset
        while pos < size:
            chunk = f.read(min(READ_CHUNK, size - pos))
            if not chunk:
                break
            pos += len(chunk)
            data = pending + chunk if pending else chunk
            cut = data.rfind(b"\n") + 1
            block, pending = data[:cut], data[cut:]
            if block:
                self._block(block, sink)
                sink.block_done(block)
            if self.pause_s and pos < size:
                time.sleep(self.pause_s)
            if len(pending) > self.max_line:
                # an absurdly long line: skipped as the every-line reader skips it
                if not self._skip_line(f, pos, size, sink):
                    return
                f.seek(self.offset)
                self._scan(f, size, sink)
                return
        if pending:
            needles = sink.needles()
            if needles is None or any(n in pending for n in needles):
                self._last(pending, sink)

    def _block(self, block: bytes, sink: Sink) -> None:
        """Hand over the lines of `block` (complete lines) that hold a needle, in file order;
        when the sink asks for every line again (needles() is None), every line from there."""
        start = 0
        while start < len(block):
            needles = sink.needles()
            if needles is None:
                end = block.index(b"\n", start)
                self.at = self.offset
                self.offset += end - start + 1
                self.line_no += 1
                sink.line(block[start:end], self.line_no)
                start = end + 1
                continue
            found = -1
            for needle in needles:
                i = block.find(needle, start)
                if i >= 0 and (found < 0 or i < found):
                    found = i
            if found < 0:
                self.line_no += block.count(b"\n", start)
                self.offset += len(block) - start
                return
            line_start = block.rfind(b"\n", start, found) + 1 or start
            self.line_no += block.count(b"\n", start, line_start)
            end = block.index(b"\n", found)
            self.at = self.offset + line_start - start
            self.offset += end + 1 - start
            self.line_no += 1
            sink.line(block[line_start:end], self.line_no)
            start = end + 1
            if self.pause_s:
                time.sleep(0)  # hand the GIL over if the core's thread waits for it


# -- whole files --------------------------------------------------------------------------------

def iter_lines(f: BinaryIO) -> Iterator[bytes]:
    """Yield the lines of `f` from where it is (the last one even without its newline), read a
    chunk at a time; a line over MAX_LINE_BYTES is skipped without ever being held."""
    pieces: List[bytes] = []  # the unfinished line
    held = 0
    skipping = False  # inside a line over the cap
    while True:
        chunk = f.read(READ_CHUNK)
        if not chunk:
            break
        parts = chunk.split(b"\n")
        if len(parts) > 1:
            if not skipping:
                pieces.append(parts[0])
                yield b"".join(pieces)
            yield from parts[1:-1]
            pieces, held, skipping = [], 0, False
        last = parts[-1]
        if skipping or not last:
            continue
        held += len(last)
        if held > MAX_LINE_BYTES:
            pieces, held, skipping = [], 0, True
        else:
            pieces.append(last)
    if pieces:
        yield b"".join(pieces)


def objects(lines: Iterable[bytes]) -> List[Any]:
    """Return the JSON objects of `lines`, skipping blank, torn and non-object ones."""
    out = []
    for raw in lines:
        if not raw.strip():
            continue
        try:
            obj = loads(raw)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def read_objects(path: str, limit: int = 0, follow: bool = True) -> List[Any]:
    """Return the JSON objects in a JSONL file, skipping torn or non-object lines (and lines
    over MAX_LINE_BYTES, never held whole); follow=False: a symlink reads as no records.

    With `limit`, return only the last `limit` records (reading from the end of the file).
    """
    try:
        with store.open_read(path, follow=follow) as f:
            lines = last_bytes(f, limit).split(b"\n") if limit else iter_lines(f)
            out = objects(lines)
    except OSError:
        return []
    return out[-limit:] if limit else out


def read_since(path: str, offset: int, follow: bool = True) -> List[Any]:
    """Return the JSON objects appended to a JSONL file after byte `offset` (torn lines skipped)."""
    try:
        with store.open_read(path, follow=follow) as f:
            f.seek(max(0, offset))
            return objects(iter_lines(f))
    except OSError:
        return []


def tail_lines(path: str, max_bytes: int, follow: bool = True) -> List[bytes]:
    """Return the lines in the last `max_bytes` of a file, oldest first (the first, cut by the
    window, dropped; the last one even without its newline); [] when it cannot be read."""
    try:
        with store.open_read(path, follow=follow) as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            start = max(0, size - max_bytes)
            f.seek(start)
            lines = f.read(max_bytes).split(b"\n")
    except OSError:
        return []
    return lines[1:] if start else lines


class Collect(Sink):
    """A sink that keeps the JSON objects of the lines handed to it (torn and odd ones skipped)."""

    def __init__(self) -> None:
        self.objects: List[Any] = []

    def line(self, raw: bytes, line_no: int, obj: Any = UNDECODED) -> None:
        if obj is UNDECODED:
            try:
                obj = loads(raw)
            except ValueError:
                return
        if obj is not BROKEN:
            self.objects.append(obj)


def last_bytes(f: BinaryIO, lines: int, block: int = 65536) -> bytes:
    """Return the last `lines` lines of `f` or a few more (a partial first line dropped), read
    in blocks from the end; a line over MAX_LINE_BYTES is left out without being held whole."""
    f.seek(0, os.SEEK_END)
    pos = f.tell()
    pieces: List[bytes] = []  # blocks, the last of the file first
    newlines = run = 0        # newlines held; bytes held before the first of them
    dropping = False          # inside a line over the cap, on the way back to its start
    while pos > 0 and newlines <= lines:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        piece = f.read(step)
        if dropping:
            nl = piece.rfind(b"\n")
            if nl < 0:
                continue
            piece, dropping = piece[:nl + 1], False
        count = piece.count(b"\n")
        newlines += count
        run = piece.find(b"\n") if count else run + len(piece)
        pieces.append(piece)
        if run > MAX_LINE_BYTES:
            # keep what follows this line; drop what is held of it and skip back to its start
            while pieces and b"\n" not in pieces[-1]:
                pieces.pop()
            if pieces:
                pieces[-1] = pieces[-1][pieces[-1].find(b"\n"):]
            run, dropping = 0, True
    data = b"".join(reversed(pieces))
    if pos > 0 or dropping:
        data = data.split(b"\n", 1)[-1]  # drop the partial first line
    return data


def last_lines(path: str, size: int, count: int, follow: bool = True, block: int = 65536,
               max_line: int = MAX_LINE_BYTES, cap: int = 8 << 20
               ) -> Tuple[List[Tuple[int, bytes]], int, int]:
    """Return up to `count` whole lines at the end of the first `size` bytes of `path`, as
    (offset, bytes) oldest first, the offset after the last whole line (where tailing goes on:
    a torn last line is read once it is finished), and how many bytes were read. Reads blocks
    backwards from the end, at most about `cap` bytes (a file of huge lines gives fewer)."""
    try:
        f = store.open_read(path, follow=follow)
    except OSError:
        return [], size, 0
    with f:
        pos = size
        buf = b""
        end = size
        # the offset after the last newline: a torn last line is not ours yet
        while pos > 0:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + buf
            nl = buf.rfind(b"\n")
            if nl >= 0:
                end = pos + nl + 1
                buf = buf[:nl + 1]
                break
            if len(buf) > max_line + block:
                buf = b""  # a torn line longer than we would ever show
        else:
            return [], 0, size - pos
        # `buf` ends at `end`, on a newline; read further back until `count` lines (or `cap`)
        while buf.count(b"\n") <= count and pos > 0 and len(buf) < cap:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + buf
        lines = buf[:-1].split(b"\n")
        offsets = []
        at = end
        for line in reversed(lines):
            at -= len(line) + 1
            offsets.append((at, line))
        offsets.reverse()
        if pos > 0:                 # the first piece may start mid-line: drop it
            offsets = offsets[1:]
        return offsets[-count:], end, size - pos
