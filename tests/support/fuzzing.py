"""What the fuzz tests (tests/test_fuzz_*.py) share: Hypothesis at its pin, one settings profile
with the time budget, and strategies for hostile JSON, text and bytes.

Hypothesis is a test-only dependency (tests/support/tools.py pins it and installs it into the test
cache; `amc_server/` never imports it). Without it, a fuzz test skips locally and fails under
CI=true (`tools.require`); the module still imports, so `unittest discover` never breaks on it.

The budget: the whole fuzz set takes about a minute of the suite on a 2-core machine. Each test
asks for `examples(n)`, n its share at the default scale (FULL_SCALE examples for the cheapest
in-process targets); `AMC_FUZZ_EXAMPLES=20000` scales every count up in proportion for a long
local hunt. No deadline (the machine is shared, timings wobble), no example database (runs
leave nothing behind), derandomized under CI=true so CI never flakes, random otherwise. A
failing example is printed by Hypothesis; it becomes a plain test in test_fuzz_regressions.py.
"""
import copy
import json
import os
import sys
from typing import Any, Callable, Dict, List

from amc_server import jsonl
from amc_server import store
from tests.support import tools

FULL_SCALE = 300          # examples of a cheap in-process test at the default scale
_dir = tools.hypothesis()
if _dir and _dir not in sys.path:
    sys.path.insert(0, _dir)
try:
    import hypothesis
    from hypothesis import HealthCheck, assume, given, note, settings
    from hypothesis import strategies as st
    AVAILABLE = True
except ImportError:  # tools.require() skips (or, under CI, fails) each test that needs it
    AVAILABLE = False


def scale() -> float:
    """Return the factor AMC_FUZZ_EXAMPLES applies to every test's example count."""
    try:
        wanted = int(os.environ.get("AMC_FUZZ_EXAMPLES") or FULL_SCALE)
    except ValueError:
        wanted = FULL_SCALE
    return max(1, wanted) / FULL_SCALE


if AVAILABLE:
    settings.register_profile(
        "amc", deadline=None, database=None, derandomize=tools.in_ci(), max_examples=FULL_SCALE,
        print_blob=True, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("amc")

    def examples(n: int, slow_io: bool = False) -> Callable:
        """Return the settings of a test worth `n` examples at the default scale.

        `slow_io`: the test does real I/O (a socket, a process) per example, so Hypothesis's
        health checks on slow data generation misfire; they are suppressed there only.
        """
        checks = list(HealthCheck) if slow_io else [HealthCheck.too_slow]
        return settings(max_examples=max(1, int(n * scale())), suppress_health_check=checks)
else:
    class _Absent:
        """Stands in for Hypothesis when it is missing: every use builds nothing."""

        def __getattr__(self, name: str) -> "_Absent":
            return self

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if len(args) == 1 and callable(args[0]) and not kwargs and \
                    getattr(args[0], "__name__", "").startswith("test"):
                return _skipping(args[0])
            return self

        def __or__(self, other: Any) -> "_Absent":
            return self

    def _skipping(func: Callable) -> Callable:
        def test(self: Any, *args: Any, **kwargs: Any) -> None:
            tools.require("hypothesis")
        test.__name__ = func.__name__
        test.__doc__ = func.__doc__
        return test

    st = HealthCheck = hypothesis = _Absent()  # type: ignore
    given = settings = _Absent()  # type: ignore

    def assume(condition: Any) -> bool:  # type: ignore
        return True

    def note(value: Any) -> None:  # type: ignore
        pass

    def examples(n: int, slow_io: bool = False) -> Callable:  # type: ignore
        return lambda func: func


def require() -> None:
    """Skip (locally) or fail (CI=true) the calling test when Hypothesis cannot be had."""
    if not AVAILABLE:
        tools.require("hypothesis")


# -- hostile values ------------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "", " ", "\n", "\r\n", "\t", "\x00", "\x1b[31m", "\u2028", "\ufeff", "\ufffd", "\ue000",
    "\ud800", "\udc00", "\ud83d", "a\ud83db", "\U0001f600", "\u00b2", "\u0661\u0662", "\u00e9",
    "null", "true", "1e400", "NaN", "-0", "9" * 5000, "x-9", "x-" + "9" * 5000, "x-\u00b2",
    "..", "../..", "/../../etc/passwd", "%00", "%2e%2e/", "%ff", "?", "#", "&", "=", ";", "\\",
    "<system-reminder>x</system-reminder>", "<command-name>/x</command-name>",
    '<channel source="amc" chat_id="c" user="u">hi</channel>', "<channel>", "</channel>",
    "<task-notification><tool-use-id>t</tool-use-id><status>completed</status>"
    "</task-notification>", "[Request interrupted by user]",
    "\u2026 [12 more characters not loaded]", "\u2026 [" + "9" * 400 + " more characters not loaded]",
    "agentId: a1", "Exit code: 1\nWall time: 1s\nOutput:\n", "Process exited with code 99999999999999999999",
    "<script>alert(1)</script>", "mcp__amc__reply", "Task", "Agent", "AskUserQuestion",
    "claude-opus-4-5", "gpt-5", "<synthetic>",
    "2025-01-01T00:00:00.000Z", "9999-12-31T23:59:59Z", "0000-00-00T00:00:00",
]
HOSTILE_INTS = [0, 1, -1, 2 ** 31, 2 ** 63, -(2 ** 63), 10 ** 30, 10 ** 400, 2 ** 64 + 1]
HOSTILE_FLOATS = [0.0, -0.0, 0.5, 1e300, -1e300, float("inf"), float("-inf"), float("nan")]


def _text_chars() -> Any:
    # Hypothesis' text() leaves out surrogates; JSON escapes carry them (`"\ud83d"`, a JS string
    # sliced in the middle of a pair), so they are mixed in.
    return st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
                     st.sampled_from("<>/\\\"'&%.:-_ \n\t\x00"))


def hostile_text(max_size: int = 40) -> Any:
    """Strings a transcript, payload or request may carry: odd, injected, huge or malformed."""
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.text(_text_chars(), max_size=max_size),
        st.builds(lambda s, n: s * n, st.sampled_from(["x", "\u00e9", "\n", "\U0001f600", "ab "]),
                  st.sampled_from([1000, 4001, 64 * 1024 + 1, 70000])),
    )


def json_scalars() -> Any:
    """Every kind of JSON scalar, with the edge cases (huge ints, NaN, inf) Python's json makes."""
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.sampled_from(HOSTILE_INTS),
        st.floats(), st.sampled_from(HOSTILE_FLOATS), hostile_text())


def json_values(max_leaves: int = 12) -> Any:
    """Any JSON value: scalars, lists and objects nested a few levels (keys hostile too)."""
    return st.recursive(
        json_scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(hostile_text(12), st.sampled_from(COMMON_KEYS)), children,
                            max_size=4)),
        max_leaves=max_leaves)


# Keys the agents' records and payloads use: a random dict holding them reaches deeper code.
COMMON_KEYS = [
    "type", "message", "content", "text", "thinking", "id", "role", "model", "usage", "name",
    "input", "tool_use_id", "is_error", "uuid", "parentUuid", "isSidechain", "agentId",
    "timestamp", "payload", "call_id", "output", "arguments", "session_id", "hook_event_name",
    "tool_name", "tool_input", "prompt", "cwd", "transcript_path", "status", "attention",
    "origin", "kind", "attachment", "toolUseResult", "source", "data", "summary", "item",
    "input_tokens", "output_tokens", "info", "total_token_usage", "last_token_usage",
]


def deep_nesting() -> Any:
    """JSON text nested deeper than Python's json module can decode (RecursionError)."""
    return st.builds(lambda n, o: o[0] * n + o[1] * n, st.sampled_from([900, 1000, 5000, 100000]),
                     st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")]))


def _paths(value: Any, prefix: tuple = ()) -> List[tuple]:
    """Return the path (keys / indexes) of every value inside `value`, `value` itself first."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return value


def _delete(value: Any, path: tuple) -> Any:
    if not path:
        return value
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return value


def mutated(samples: List[Dict[str, Any]], max_changes: int = 4) -> Any:
    """Real records (`samples`) with a few values swapped for other JSON types, or deleted."""
    @st.composite
    def build(draw: Any) -> Any:
        record = copy.deepcopy(draw(st.sampled_from(samples)))
        for _ in range(draw(st.integers(0, max_changes))):
            paths = _paths(record)
            path = draw(st.sampled_from(paths))
            if path and draw(st.integers(0, 4)) == 0:
                record = _delete(record, path)
            else:
                record = _replace(record, path, draw(json_values(6)))
        return record
    return build()


def json_line(value: Any, ascii_only: bool) -> bytes:
    """Return `value` as one JSON line's bytes (NaN/Infinity as Python writes them)."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


def records_in(path: str, limit: int = 400) -> List[Dict[str, Any]]:
    """Return the first `limit` JSON objects of a JSONL file (the fixtures' real shapes)."""
    return jsonl.read_objects(path)[:limit]


def utf8(text: str) -> bytes:
    """Encode text the way a strict UTF-8 writer would (what stdout and sockets need)."""
    return text.encode("utf-8")
