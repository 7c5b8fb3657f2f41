"""Tokens, cost and context of one session, summed line by line from its transcript or rollout.

Place in the flow: transcript / rollout file -> `UsageFile` (reads only appended bytes; a file that
was replaced or truncated is read again from the start) -> an accumulator -> the `usage` dict that
core/usage.py puts on live sessions and history.py on past ones. Only lines that can carry
numbers are decoded (a byte search first), so a 100 MB transcript of tool output costs a scan.

Claude Code writes one line per content block of an API message, each repeating the message's
`usage`; a streamed message's lines carry growing numbers (output 3, then 278). A message counts
once, with the numbers of its last line: each message id's contribution is replaced when it
appears again (the last MAX_IDS ids are remembered). Codex reports `token_count` events whose
`total_token_usage` is the running total of the session, sometimes twice in a row; a report
whose total did not move is the same usage again and is skipped, and each step of the total is
one model response, priced with the model of the turn it belongs to (`turn_context`).

What the numbers mean (docs/usage.md): `input_tokens` is input that was neither read from nor
written to a cache (Codex's cached input is taken out of its input), `cache_read_tokens` /
`cache_write_tokens` the cached part, `output_tokens` includes reasoning, `turns` counts model
responses, `context_tokens` is what the last response of the main conversation saw (Claude:
input + cache reads + cache writes; Codex: its last `total_tokens`, as Codex counts it).
"""
import collections
import functools
import io
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from .. import model as amc_model
from . import pricing
from .base import READ_CHUNK, Transcript
from ..store import MAX_LINE_BYTES

MAX_IDS = 16         # message ids remembered for replacing a streamed message's numbers
FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


class Part(NamedTuple):
    """What one model response adds to the sums."""
    input: int
    output: int
    cache_read: int
    cache_write: int
    pico: Optional[int]       # its cost in picodollars; None: no known price
    day: str                  # local date of the response, YYYY-MM-DD ("" unknown)
    model: str


MAX_COUNT = 2 ** 53   # beyond, a number no JavaScript writer keeps exact: not a token count


def _int(value: Any) -> int:
    """Return a token count (ints only, never negative nor absurd; anything else is 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and \
        0 < value <= MAX_COUNT else 0


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


@functools.lru_cache(maxsize=4096)
def _day_of_minute(minute: str) -> str:
    t = amc_model.parse_iso(minute + ":00Z")
    return time.strftime("%Y-%m-%d", time.localtime(t)) if t > 0 else ""


def local_day(ts: Any) -> str:
    """Return the server's local date of an ISO timestamp, or "" when it is not one.

    Cached per minute (strptime per line was most of a read's time); every time zone offset is
    a whole number of minutes.
    """
    return _day_of_minute(ts[:16]) if isinstance(ts, str) and _ISO.match(ts) else ""


class Sums:
    """Running token sums, cost and unpriced tokens (per model) of a set of responses."""

    __slots__ = ("tokens", "pico", "unpriced", "turns")

    def __init__(self) -> None:
        self.tokens = [0, 0, 0, 0]
        self.pico = 0
        self.unpriced: Dict[str, int] = {}
        self.turns = 0

    def add(self, part: Part, sign: int) -> None:
        numbers = (part.input, part.output, part.cache_read, part.cache_write)
        for i, n in enumerate(numbers):
            self.tokens[i] += sign * n
        if part.pico is None:
            left = self.unpriced.get(part.model, 0) + sign * (sum(numbers) or 1)
            if left > 0:
                self.unpriced[part.model] = left
            else:
                self.unpriced.pop(part.model, None)
        else:
            self.pico += sign * part.pico
        self.turns += sign

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(zip(FIELDS, self.tokens))
        out["cost_usd"] = None if self.unpriced else pricing.usd(self.pico)
        out["turns"] = self.turns
        return out

    def state(self) -> List[Any]:
        """Return the sums as JSON-able data for history.py's cache:
        [tokens, pico, unpriced, turns]."""
        return [list(self.tokens), self.pico, dict(self.unpriced), self.turns]


class Accumulator:
    """The usage of one file, fed one decoded record at a time; subclasses know the agent."""

    agent = ""

    def __init__(self, by_day: bool = True) -> None:
        self.sums = Sums()
        self.by_day = by_day              # history.py wants sums per day; a live card does not
        self.days: Dict[str, Sums] = {}
        self._parts: "collections.OrderedDict[str, Part]" = collections.OrderedDict()
        self.model = ""
        self.context_tokens = 0
        self.context_window = 0           # as the agent reported it (Codex), else 0
        self.first_at = self.last_at = ""
        self._day = ""

    NEEDLES: Tuple[bytes, ...] = ()   # a line without one of these carries no numbers

    def wants(self, raw: bytes) -> bool:
        """Tell from a line's bytes whether it can matter (cheap; False skips decoding it)."""
        return any(n in raw for n in self.NEEDLES)

    def feed(self, record: Dict[str, Any]) -> None:
        raise NotImplementedError

    def stamp(self, ts: Any) -> str:
        """Note a record's time; return its local day (the last known day when it has none)."""
        day = local_day(ts)
        if day:
            if not self.first_at:
                self.first_at = ts
            if ts > self.last_at:
                self.last_at = ts
            self._day = day
        return self._day

    def count(self, key: str, part: Part) -> None:
        """Add one response's numbers; a key seen before replaces what it added then."""
        old = self._parts.pop(key, None) if key else None
        if old is not None:
            self._apply(old, -1)
        self._apply(part, +1)
        if key:
            self._parts[key] = part
            while len(self._parts) > MAX_IDS:
                self._parts.popitem(last=False)

    def _apply(self, part: Part, sign: int) -> None:
        self.sums.add(part, sign)
        if not self.by_day:
            return
        day = self.days.get(part.day)
        if day is None:
            day = self.days[part.day] = Sums()
        day.add(part, sign)
        if day.turns <= 0:
            del self.days[part.day]

    def seen(self, key: str) -> Optional[Part]:
        return self._parts.get(key)

    def usage(self) -> Dict[str, Any]:
        """Return the `usage` dict (docs/api.md, Session.usage)."""
        out = self.sums.as_dict()
        window = self.context_window or pricing.context_window(self.model) or 0
        if window and self.context_tokens > window:
            window = pricing.M1 if self.context_tokens <= pricing.M1 else 0  # a 1M beta window
        return {"model": self.model, "input_tokens": out["input_tokens"],
                "output_tokens": out["output_tokens"],
                "cache_read_tokens": out["cache_read_tokens"],
                "cache_write_tokens": out["cache_write_tokens"], "cost_usd": out["cost_usd"],
                "context_tokens": self.context_tokens, "context_window": window or None,
                "turns": out["turns"], "unpriced_models": sorted(m or "unknown"
                                                                 for m in self.sums.unpriced),
                "first_at": self.first_at, "last_at": self.last_at}

    def day_state(self) -> Dict[str, List[Any]]:
        """Return the sums per local day, as JSON-able data (see Sums.state)."""
        return {day: sums.state() for day, sums in self.days.items()}


class ClaudeUsage(Accumulator):
    """Claude Code transcripts: assistant `message.usage`, the last numbers per message id."""

    agent = "claude"

    def __init__(self, by_day: bool = True) -> None:
        super().__init__(by_day)
        self._anon = 0
        self._main: Optional[Tuple[str, int, str]] = None   # (message id, context, model)
        self._side: Optional[Tuple[str, int, str]] = None   # the same for sidechain messages

    NEEDLES = (b'"usage"',)

    def feed(self, record: Dict[str, Any]) -> None:
        if record.get("type") != "assistant":
            return
        message = record.get("message")
        usage = message.get("usage") if isinstance(message, dict) else None
        if not isinstance(usage, dict):
            return
        inp, out, read, write = (_int(usage.get(k)) for k in (
            "input_tokens", "output_tokens", "cache_read_input_tokens",
            "cache_creation_input_tokens"))
        split = usage.get("cache_creation")
        write_1h = _int(split.get("ephemeral_1h_input_tokens")) if isinstance(split, dict) else 0
        mid = message.get("id") if isinstance(message.get("id"), str) else ""
        old = self.seen(mid) if mid else None
        if old is None and not (inp or out or read or write):
            return  # an empty reply (an API error's <synthetic> message, a model fallback)
        name = sys.intern(message["model"]) if isinstance(message.get("model"), str) else ""
        day = self.stamp(record.get("timestamp"))
        day = old.day if old is not None else day
        price = pricing.lookup(name, day)
        pico = pricing.cost(price, inp, out, read, write, write_1h,
                            geo=str(usage.get("inference_geo") or ""),
                            speed=str(usage.get("speed") or ""))
        if not mid:
            self._anon += 1
        key = mid or ""   # a message without an id never repeats: counted, not remembered
        self.count(key, Part(inp, out, read, write, pico, day, name))
        mark = (mid or "#%d" % self._anon, inp + read + write, name)
        if record.get("isSidechain") is True:
            self._side = mark
        else:
            self._main = mark
        last = self._main or self._side
        if last is not None:
            self.context_tokens = last[1]
            if last[2] and last[2] != "<synthetic>":
                self.model = last[2]


class CodexUsage(Accumulator):
    """Codex rollouts: `token_count` events, each step of the running total one response."""

    agent = "codex"

    def __init__(self, by_day: bool = True) -> None:
        super().__init__(by_day)
        self._turn_model = ""
        self._total: Optional[Tuple[int, int, int, int]] = None

    NEEDLES = (b"token_count", b"turn_context", b"session_meta")

    def feed(self, record: Dict[str, Any]) -> None:
        kind = record.get("type")
        payload = record.get("payload") if isinstance(record.get("payload"), dict) else {}
        if kind in ("turn_context", "session_meta"):
            name = payload.get("model")
            if isinstance(name, str) and name:
                self._turn_model = self.model = sys.intern(name)
        elif kind == "event_msg" and payload.get("type") == "token_count":
            self._tokens(payload.get("info"), record.get("timestamp"))

    def _tokens(self, info: Any, ts: Any) -> None:
        if not isinstance(info, dict):
            return  # rate limits only
        window = info.get("model_context_window")
        if _int(window):
            self.context_window = window
        total = _numbers(info.get("total_token_usage"))
        if total is None or total == self._total:
            return  # the same running total reported again: no new response
        if self._total is None or any(t < p for t, p in zip(total, self._total)):
            delta = total if self._total is None else (_numbers(info.get("last_token_usage"))
                                                       or total)
        else:
            delta = tuple(t - p for t, p in zip(total, self._total))
        self._total = total
        inp, cached, written, out = delta
        if not any(delta):
            return
        day = self.stamp(ts)
        fresh = max(0, inp - cached - written)
        price = pricing.lookup(self._turn_model, day)
        pico = pricing.cost(price, fresh, out, cached, written)
        self.count("", Part(fresh, out, cached, written, pico, day, self._turn_model))
        last = info.get("last_token_usage")
        if isinstance(last, dict):
            self.context_tokens = _int(last.get("total_tokens")) or \
                _int(last.get("input_tokens")) + _int(last.get("output_tokens"))


def _numbers(usage: Any) -> Optional[Tuple[int, int, int, int]]:
    """Return Codex's (input, cached input, cache writes, output) of a usage dict, or None."""
    if not isinstance(usage, dict):
        return None
    return (_int(usage.get("input_tokens")), _int(usage.get("cached_input_tokens")),
            _int(usage.get("cache_write_input_tokens")), _int(usage.get("output_tokens")))


ACCUMULATORS: Dict[str, Callable[..., Accumulator]] = {"claude": ClaudeUsage, "codex": CodexUsage}


class UsageFile(Transcript):
    """One transcript or rollout read incrementally into its usage (see agents/base.Transcript:
    appended bytes only, torn last lines wait, a replaced or truncated file is read again).

    Only the lines holding a needle are decoded, and they are found per megabyte with
    `bytes.find` rather than line by line: a 100 MB transcript whose numbers are in 5 MB of
    lines costs little more than reading it (tests/bench/bench_usage.py).
    """

    def __init__(self, path: str, agent: str, session_id: str = "", pause_s: float = 0.0,
                 by_day: bool = True) -> None:
        if agent not in ACCUMULATORS:
            raise ValueError("no usage reader for agent %r" % agent)
        self.kind = agent
        self.pause_s = pause_s  # a rest after each megabyte: a background reader leaves the GIL
        self.by_day = by_day
        super().__init__(path, session_id or os.path.basename(path), clip=False)

    def reset_state(self) -> None:
        self.acc = ACCUMULATORS[self.kind](self.by_day)

    def wants(self, raw: bytes) -> bool:
        return self.acc.wants(raw)

    def needles(self) -> Tuple[bytes, ...]:
        """Return what a line must contain to be decoded (while every_line() is False)."""
        return self.acc.NEEDLES

    def every_line(self) -> bool:
        """Tell whether every line must be decoded now (history.py: until the first prompt)."""
        return False

    def _line(self, raw: bytes) -> None:
        if not self.wants(raw):
            self.line_no += 1  # no numbers in it: never decoded
            return
        super()._line(raw)

    def _consume(self, f: Any, size: int) -> None:
        """Read from self.offset to `size`, decoding only the lines that hold a needle."""
        if self.huge_to > self.offset:
            super()._consume(f, size)  # goes on looking for the end of a line over the cap
            return
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
                self._block(block)
                self.offset += len(block)
            if self.pause_s and pos < size:
                time.sleep(self.pause_s)
            if len(pending) > MAX_LINE_BYTES:
                # an absurdly long line: the base reader skips it without holding it twice
                f.seek(self.offset)
                super()._consume(f, size)
                return
        if pending:
            super()._consume(io.BytesIO(pending), self.offset + len(pending))  # the last line

    def _block(self, block: bytes) -> None:
        """Decode the lines of `block` (complete lines) that can matter, in file order."""
        start = 0
        while start < len(block) and self.every_line():
            end = block.index(b"\n", start)
            self._line(block[start:end])
            start = end + 1
        starts = set()
        for needle in self.needles():
            i = block.find(needle, start)
            while i >= 0:
                starts.add(block.rfind(b"\n", start, i) + 1 or start)
                nxt = block.find(b"\n", i)
                i = block.find(needle, nxt + 1) if nxt >= 0 else -1
        counted = start
        for line_start in sorted(starts):
            self.line_no += block.count(b"\n", counted, line_start)
            end = block.index(b"\n", line_start)
            Transcript._line(self, block[line_start:end])  # decodes it and counts its line
            counted = end + 1
            if self.pause_s:
                time.sleep(0)  # hand the GIL over if the core's thread waits for it
        self.line_no += block.count(b"\n", counted)

    def feed(self, record: Dict[str, Any], where: str) -> None:
        self.acc.feed(record)

    def usage(self) -> Dict[str, Any]:
        return self.acc.usage()


def read(path: str, agent: str) -> Dict[str, Any]:
    """Return the usage of a whole file (tests, one-off reads)."""
    reader = UsageFile(path, agent)
    reader.refresh()
    return reader.usage()
