"""Tokens, cost and context of one session, summed line by line from its transcript or rollout.

Place in the flow: transcript / rollout file -> `UsageFile` (reads only appended bytes; a file that
was replaced or truncated is read again from the start) -> an accumulator -> the `usage` dict that
consumers/usage.py puts on live sessions and consumers/history.py on past ones. Only lines that can carry
numbers are decoded (a byte search first), so a 100 MB transcript of tool output costs a scan.

Each agent's package folds its own records (`AGENT.usage`: agents/claude/usage.py,
agents/codex/usage.py) into an `Accumulator`, which sums the parts: a part counted again under
the same key (a streamed message's later line) replaces the earlier one.

What the numbers mean (docs/usage.md): `input_tokens` is input that was neither read from nor
written to a cache (Codex's cached input is taken out of its input), `cache_read_tokens` /
`cache_write_tokens` the cached part, `output_tokens` includes reasoning, `turns` counts model
responses, `context_tokens` is what the last response of the main conversation saw (Claude:
input + cache reads + cache writes; Codex: its last `total_tokens`, as Codex counts it).
"""
import collections
import functools
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from .. import model as amc_model
from . import pricing
from .base import Transcript
from ..jsonl import UNDECODED

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


def token_count(value: Any) -> int:
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
        """Return the sums as JSON-able data for consumers/history.py's cache:
        [tokens, pico, unpriced, turns]."""
        return [list(self.tokens), self.pico, dict(self.unpriced), self.turns]


class Accumulator:
    """The usage of one file, fed one decoded record at a time; subclasses know the agent."""

    agent = ""

    def __init__(self, by_day: bool = True) -> None:
        self.sums = Sums()
        self.by_day = by_day              # consumers/history.py wants sums per day; a live card does not
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


def accumulator(agent: str) -> Optional[Callable[..., Accumulator]]:
    """Return the usage fold of an agent (its package's `AGENT.usage`), or None."""
    from . import get  # the family imports this module's users: asked at call time
    member = get(agent)
    return member.usage if member is not None else None


class UsageFile(Transcript):
    """One transcript or rollout read incrementally into its usage (see agents/base.Transcript:
    appended bytes only, torn last lines wait, a replaced or truncated file is read again).

    Only the lines holding a needle are decoded, and the tail (jsonl.Tail) finds them per
    megabyte with `bytes.find` rather than line by line: a 100 MB transcript whose numbers are
    in 5 MB of lines costs little more than reading it (tests/bench/bench_usage.py).
    """

    def __init__(self, path: str, agent: str, session_id: str = "", pause_s: float = 0.0,
                 by_day: bool = True) -> None:
        if accumulator(agent) is None:
            raise ValueError("no usage reader for agent %r" % agent)
        self.kind = agent
        self.by_day = by_day
        super().__init__(path, session_id or os.path.basename(path), clip=False, pause_s=pause_s)

    def reset_state(self) -> None:
        self.acc = accumulator(self.kind)(self.by_day)

    def wanted(self) -> Tuple[bytes, ...]:
        """Return what a line must contain to be decoded (while every_line() is False)."""
        return self.acc.NEEDLES

    def every_line(self) -> bool:
        """Tell whether every line must be decoded now (consumers/history.py: until the first prompt)."""
        return False

    def needles(self) -> Optional[Tuple[bytes, ...]]:
        return None if self.every_line() else self.wanted()

    def line(self, raw: bytes, line_no: int, obj: Any = UNDECODED) -> None:
        if obj is UNDECODED and not self.wants(raw):
            return  # no numbers in it: never decoded
        super().line(raw, line_no, obj)

    def feed(self, record: Dict[str, Any], where: str) -> None:
        self.acc.feed(record)

    def usage(self) -> Dict[str, Any]:
        return self.acc.usage()


def read(path: str, agent: str) -> Dict[str, Any]:
    """Return the usage of a whole file (tests, one-off reads)."""
    reader = UsageFile(path, agent)
    reader.refresh()
    return reader.usage()
