"""The one pricing table: USD per million tokens and the context window of each model family.

Place in the flow: agents/usage.py prices every model response it counts with `cost()`; nothing else in
AMC knows a price. Each row says when its prices apply from (`since`, so a session of September is
priced at September's rates), when they were last checked against the published page (`checked`)
and where they are published (`source`). A model id the table does not know has no price: the
cost is then unknown (None, "unknown price" on the page), never a guess. Costs are kept in integer
picodollars (1e-12 USD), so sums over a long session are exact and a message counted again with
its final numbers (agents/usage.py) subtracts exactly what it added.

Anthropic bills input, 5-minute and 1-hour cache writes, cache reads and output apart; OpenAI
bills input, cached input and output (no cache-write surcharge: a cache write is input). Two
published modifiers are applied: a prompt over a row's `long_above` tokens is billed at its `long`
prices on every token of that request (Sonnet 4 / 4.5 over 200K, Haiku 5.5 over 100K), and
`inference_geo: "us"` costs 1.1 times the price. Fast mode (`speed: "fast"`) is not priced
(unknown), nor are batch discounts (Claude Code and Codex do not use batches). docs/usage.md.
"""
import functools
import re
from decimal import Decimal
from typing import Dict, List, NamedTuple, Optional, Tuple

ANTHROPIC = "https://platform.claude.com/docs/en/about-claude/pricing"
ANTHROPIC_MODELS = "https://platform.claude.com/docs/en/about-claude/models/overview"
OPENAI = "https://developers.openai.com/api/docs/pricing"
GEO_US = "https://platform.claude.com/docs/en/manage-claude/data-residency"
CHECKED = "2026-12-01"
K200, M1 = 200_000, 1_000_000


class Rates(NamedTuple):
    """USD per million tokens, as decimal strings (exact)."""
    input: str
    cache_write: str       # 5-minute cache writes (OpenAI: the input price)
    cache_write_1h: str    # 1-hour cache writes
    cache_read: str        # cache hits and refreshes (OpenAI: cached input)
    output: str


class Price(NamedTuple):
    models: Tuple[str, ...]     # normalised model ids (see normalise)
    rates: Rates
    context_window: int         # tokens
    since: str = ""             # YYYY-MM-DD these prices apply from ("": always)
    source: str = ANTHROPIC
    checked: str = CHECKED
    long_above: int = 0         # a prompt over this many tokens is billed at `long`
    long: Optional[Rates] = None


def _claude(inp: str, w5: str, w1h: str, read: str, out: str) -> Rates:
    return Rates(inp, w5, w1h, read, out)


def _openai(inp: str, cached: str, out: str) -> Rates:
    return Rates(inp, inp, inp, cached, out)


OPUS_OLD = _claude("15", "18.75", "30", "1.50", "75")
OPUS = _claude("5", "6.25", "10", "0.50", "25")
SONNET = _claude("3", "3.75", "6", "0.30", "15")
SONNET_LONG = _claude("6", "7.50", "12", "0.60", "22.50")
SONNET_5 = _claude("2", "2.50", "4", "0.20", "10")

TABLE: List[Price] = [
    Price(("claude-fable-5-1", "claude-mythos-5-1"),
          _claude("10", "12.50", "20", "0.25", "50"), M1),
    Price(("claude-fable-5", "claude-mythos-5"), _claude("10", "12.50", "20", "1", "50"), M1),
    Price(("claude-opus-5-5",), _claude("4", "5", "8", "0.20", "20"), M1,
          source="https://platform.claude.com/docs/en/models/opus-5-5/overview"),
    Price(("claude-opus-5", "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6"), OPUS, M1),
    Price(("claude-opus-4-5",), OPUS, K200),
    Price(("claude-opus-4-1", "claude-opus-4", "claude-opus-4-0", "claude-3-opus"), OPUS_OLD, K200),
    Price(("claude-sonnet-5-5",), SONNET_5, M1,
          source="https://platform.claude.com/docs/en/models/sonnet-5-5/overview"),
    Price(("claude-sonnet-5",), SONNET_5, M1,
          source="https://platform.claude.com/docs/en/models/sonnet-5/overview"),
    Price(("claude-sonnet-4-6",), SONNET, M1),
    Price(("claude-sonnet-4-5", "claude-sonnet-4", "claude-sonnet-4-0"), SONNET, K200,
          long_above=K200, long=SONNET_LONG),
    Price(("claude-3-7-sonnet", "claude-3-5-sonnet"), SONNET, K200),
    Price(("claude-haiku-5-5",), _claude("0.10", "0.125", "0.20", "0.01", "0.50"), M1,
          source="https://platform.claude.com/docs/en/models/haiku-5-5/overview",
          long_above=100_000, long=_claude("0.50", "0.625", "1", "0.05", "2.50")),
    Price(("claude-haiku-4-5",), _claude("1", "1.25", "2", "0.10", "5"), K200),
    Price(("claude-3-5-haiku",), _claude("0.80", "1", "1.6", "0.08", "4"), K200),
    Price(("claude-3-haiku",), _claude("0.25", "0.30", "0.50", "0.03", "1.25"), K200),
    Price(("gpt-5.5",), _openai("5", "0.50", "30"), M1, source=OPENAI),
    Price(("gpt-5.4",), _openai("2.50", "0.25", "15"), M1, source=OPENAI),
    Price(("gpt-5.4-mini",), _openai("0.75", "0.075", "4.50"), 400_000, source=OPENAI),
    Price(("gpt-5.3-codex", "gpt-5.2", "gpt-5.2-codex"), _openai("1.75", "0.175", "14"), 400_000,
          source=OPENAI),
    Price(("gpt-5.1", "gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5", "gpt-5-codex"),
          _openai("1.25", "0.125", "10"), 400_000, source=OPENAI),
    Price(("gpt-5.1-codex-mini", "gpt-5-mini"), _openai("0.25", "0.025", "2"), 400_000,
          source=OPENAI),
]

GEO_MULTIPLIER = {"us": (11, 10)}   # inference_geo -> (numerator, denominator); GEO_US
UNPRICED_SPEEDS = frozenset(("fast",))

_DATE = re.compile(r"(?:-\d{8}|-\d{4}-\d\d-\d\d|@\d{8})$")
# Amazon Bedrock's cross-Region inference profiles put a routing prefix before the model id:
# `us.`, `eu.`, `apac.`, `us-gov.`, `jp.`, `au.` (a geography) or `global.`
# (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html).
# Any other two letters are kept as a prefix too, for a geography newer than this list.
BEDROCK_ROUTES = ("us", "eu", "apac", "us-gov", "jp", "au", "global")
_BEDROCK = re.compile(r"^(?:(?:%s|[a-z]{2})\.)?anthropic\.(.+?)(?:-v\d+(?::\d+)?)?$"
                      % "|".join(re.escape(r) for r in BEDROCK_ROUTES))
# A model given by its resource name: a Bedrock ARN (`arn:aws:bedrock:<region>:<account>:
# inference-profile/<id>` or `foundation-model/<id>`) or a Vertex AI path (`projects/P/
# locations/L/publishers/anthropic/models/<id>`): the id is the last part.
_RESOURCE = re.compile(r"^(?:arn:[^/]*:(?:inference-profile|foundation-model)|.*/models)/")
# Vertex AI writes `<model>@<date>`; its older ids carry a version before it
# (`claude-3-5-sonnet-v2@20241022`, the same model as `claude-3-5-sonnet-20241022`).
_VERTEX = re.compile(r"^(claude-.+?)(?:-v\d+)?@\d{8}$")


def normalise(model: str) -> str:
    """Return the table's form of a model id: lower case, no `[1m]`, date or provider wrapping.

    `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`, `claude-opus-4-6[1m]` ->
    `claude-opus-4-6`, `us.anthropic.claude-opus-4-1-20250805-v1:0` and
    `global.anthropic.claude-opus-4-1-20250805-v1:0` (Bedrock, any BEDROCK_ROUTES prefix) ->
    `claude-opus-4-1`, `claude-sonnet-4-5@20250929` (Vertex AI) -> `claude-sonnet-4-5`,
    `claude-opus-4.5` -> `claude-opus-4-5` (dots between Claude version digits).
    """
    m = str(model or "").strip().lower()
    m = re.sub(r"\[[^\]]*\]$", "", m)
    m = _RESOURCE.sub("", m)
    bedrock = _BEDROCK.match(m)
    if bedrock:
        m = bedrock.group(1)
    vertex = _VERTEX.match(m)
    if vertex:
        m = vertex.group(1)
    m = _DATE.sub("", m)
    if m.endswith("-latest"):
        m = m[:-len("-latest")]
    if m.startswith("claude-"):
        m = re.sub(r"(\d)\.(\d)", r"\1-\2", m)
    return m


@functools.lru_cache(maxsize=512)
def _rows(model: str) -> Tuple[Price, ...]:
    key = normalise(model)
    return tuple(sorted((p for p in TABLE if key in p.models), key=lambda p: p.since))


def lookup(model: str, day: str = "") -> Optional[Price]:
    """Return the row that prices `model` on `day` (YYYY-MM-DD, "" = today's row), or None."""
    rows = _rows(model)
    found = None
    for row in rows:
        if not day or not row.since or row.since <= day:
            found = row
    return found


def context_window(model: str) -> Optional[int]:
    """Return the model's context window in tokens, or None when the table does not know it."""
    row = lookup(model)
    return row.context_window if row is not None else None


@functools.lru_cache(maxsize=256)
def _pico(per_million: str) -> int:
    """Return a price per million tokens as picodollars per token (exact, or ValueError)."""
    value = Decimal(per_million) * 1_000_000
    if value != value.to_integral_value():
        raise ValueError("price %s has more than 6 decimals" % per_million)
    return int(value)


def cost(price: Optional[Price], input_tokens: int, output_tokens: int, cache_read: int,
         cache_write: int, cache_write_1h: int = 0, geo: str = "", speed: str = ""
         ) -> Optional[int]:
    """Return what one model response cost in picodollars, or None when it has no known price.

    `cache_write` counts every cache write, `cache_write_1h` the 1-hour ones among them.
    """
    if price is None or speed in UNPRICED_SPEEDS:
        return None
    rates = price.rates
    if price.long is not None and input_tokens + cache_read + cache_write > price.long_above:
        rates = price.long
    w1h = min(max(cache_write_1h, 0), cache_write)
    total = (input_tokens * _pico(rates.input) + output_tokens * _pico(rates.output)
             + cache_read * _pico(rates.cache_read)
             + (cache_write - w1h) * _pico(rates.cache_write) + w1h * _pico(rates.cache_write_1h))
    num, den = GEO_MULTIPLIER.get(geo, (1, 1))
    return total * num // den


def usd(picodollars: int) -> float:
    """Return picodollars as USD rounded to a millionth of a dollar."""
    return round(picodollars / 1e12, 6)


def table() -> List[Dict[str, object]]:
    """Return the table as plain rows (docs, tests, a future /api endpoint)."""
    return [{"models": list(p.models), "since": p.since, "context_window": p.context_window,
             "source": p.source, "checked": p.checked, "long_above": p.long_above,
             **{k: v for k, v in p.rates._asdict().items()}} for p in TABLE]
