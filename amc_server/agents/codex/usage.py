"""Codex's usage fold: `token_count` events, each step of the running total one response.

Codex reports `token_count` events whose `total_token_usage` is the running total of the
session, sometimes twice in a row; a report whose total did not move is the same usage again and
is skipped, and each step of the total is one model response, priced with the model of the turn
it belongs to (`turn_context`).
"""
import sys
from typing import Any, Dict, Optional, Tuple

from .. import pricing
from ..usage import Accumulator, Part, token_count


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
        if token_count(window):
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
            self.context_tokens = token_count(last.get("total_tokens")) or \
                token_count(last.get("input_tokens")) + token_count(last.get("output_tokens"))


def _numbers(usage: Any) -> Optional[Tuple[int, int, int, int]]:
    """Return Codex's (input, cached input, cache writes, output) of a usage dict, or None."""
    if not isinstance(usage, dict):
        return None
    return (token_count(usage.get("input_tokens")), token_count(usage.get("cached_input_tokens")),
            token_count(usage.get("cache_write_input_tokens")), token_count(usage.get("output_tokens")))
