"""Claude Code's usage fold: assistant `message.usage`, the last numbers per message id.

Claude Code writes one line per content block of an API message, each repeating the message's
`usage`; a streamed message's lines carry growing numbers (output 3, then 278). A message counts
once, with the numbers of its last line: each message id's contribution is replaced when it
appears again (the last MAX_IDS ids are remembered, agents/usage.py).
"""
import sys
from typing import Any, Dict, Optional, Tuple

from .. import pricing
from ..usage import Accumulator, Part, token_count


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
        inp, out, read, write = (token_count(usage.get(k)) for k in (
            "input_tokens", "output_tokens", "cache_read_input_tokens",
            "cache_creation_input_tokens"))
        split = usage.get("cache_creation")
        write_1h = token_count(split.get("ephemeral_1h_input_tokens")) if isinstance(split, dict) else 0
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
