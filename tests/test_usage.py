"""Tokens, cost and context (amc_server/agents/usage.py, pricing.py, core/usage.py).

The numbers of every fixture transcript and rollout are checked against an independent sum
written here from the formats alone (every line decoded, no byte filter, no incremental
state): Claude's last `usage` per message id, Codex's `last_token_usage` of each report whose
running total moved. Then the incremental reader (appends, torn lines, truncation, replacement),
hostile input, the pricing table, and live sessions on a real server whose `usage` follows
their transcript as it grows.
"""
import glob
import json
import os
import shutil
import tempfile
import time
import unittest
from typing import Any, Dict, List, Optional, Tuple

from tests.support.builders import jsonl
from tests.support.helpers import IsolatedTestCase, ServerTestCase
from amc_server.jsonl import READ_CHUNK
from amc_server import model
from amc_server.agents import pricing, usage

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
NOT_TRANSCRIPTS = ("hooks.jsonl", "mcp.jsonl", "payloads.jsonl")


def fixture_files() -> List[Tuple[str, str]]:
    """Return (agent, path) of every transcript and rollout among the fixtures."""
    out = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "**", "*.jsonl"), recursive=True)):
        if path.endswith(NOT_TRANSCRIPTS):
            continue
        out.append(("codex" if os.sep + "codex" in path[len(FIXTURES):] else "claude", path))
    return out


def records(path: str) -> List[Dict[str, Any]]:
    out = []
    with open(path, "rb") as f:
        for raw in f:
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def n(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def day_of(ts: Any) -> str:
    t = model.parse_iso(ts) if isinstance(ts, str) else 0
    return time.strftime("%Y-%m-%d", time.localtime(t)) if t > 0 else ""


def independent_claude(path: str) -> Dict[str, Any]:
    """Sum a Claude transcript: each message id once, with the numbers of its last line."""
    last: Dict[str, Tuple[Dict[str, Any], str, str]] = {}
    first_day: Dict[str, str] = {}
    anonymous = []
    day = ""
    for r in records(path):
        if r.get("type") != "assistant" or not isinstance(r.get("message"), dict):
            continue
        m = r["message"]
        if not isinstance(m.get("usage"), dict):
            continue
        day = day_of(r.get("timestamp")) or day
        mid = m.get("id") if isinstance(m.get("id"), str) else ""
        entry = (m["usage"], m.get("model") if isinstance(m.get("model"), str) else "", day)
        if not mid:
            anonymous.append(entry)
            continue
        first_day.setdefault(mid, day)
        last[mid] = (entry[0], entry[1], first_day[mid])
    totals = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
              "cache_write_tokens": 0, "turns": 0}
    cost: Optional[int] = 0
    for u, name, day in list(last.values()) + anonymous:
        numbers = (n(u.get("input_tokens")), n(u.get("output_tokens")),
                   n(u.get("cache_read_input_tokens")), n(u.get("cache_creation_input_tokens")))
        if not any(numbers):
            continue
        for key, value in zip(("input_tokens", "output_tokens", "cache_read_tokens",
                               "cache_write_tokens"), numbers):
            totals[key] += value
        totals["turns"] += 1
        split = u.get("cache_creation") if isinstance(u.get("cache_creation"), dict) else {}
        one = pricing.cost(pricing.lookup(name, day), *numbers,
                           cache_write_1h=n(split.get("ephemeral_1h_input_tokens")),
                           geo=str(u.get("inference_geo") or ""), speed=str(u.get("speed") or ""))
        cost = None if cost is None or one is None else cost + one
    totals["cost_usd"] = None if cost is None else pricing.usd(cost)
    return totals


def independent_codex(path: str) -> Dict[str, Any]:
    """Sum a rollout: the last_token_usage of every token_count whose running total moved."""
    totals = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
              "cache_write_tokens": 0, "turns": 0}
    previous = None
    turn_model = ""
    cost: Optional[int] = 0
    final = None
    for r in records(path):
        p = r.get("payload") if isinstance(r.get("payload"), dict) else {}
        if r.get("type") in ("turn_context", "session_meta") and p.get("model"):
            turn_model = p["model"]
        if r.get("type") != "event_msg" or p.get("type") != "token_count" or \
                not isinstance(p.get("info"), dict):
            continue
        total = p["info"].get("total_token_usage")
        key = json.dumps([n((total or {}).get(k)) for k in ("input_tokens", "cached_input_tokens",
                         "cache_write_input_tokens", "output_tokens")])
        if key == previous:
            continue  # the same report again
        if previous is not None and any(a < b for a, b in zip(json.loads(key),
                                                                json.loads(previous))):
            final = {"reset": True}  # several sessions in one file: no single running total
        elif final is None or "reset" not in final:
            final = total
        previous = key
        last = p["info"].get("last_token_usage") or {}
        cached, written = n(last.get("cached_input_tokens")), n(last.get("cache_write_input_tokens"))
        fresh = max(0, n(last.get("input_tokens")) - cached - written)
        out = n(last.get("output_tokens"))
        if not (fresh or cached or written or out):
            continue  # a report of nothing (a reset counter): no response
        totals["input_tokens"] += fresh
        totals["cache_read_tokens"] += cached
        totals["cache_write_tokens"] += written
        totals["output_tokens"] += out
        totals["turns"] += 1
        one = pricing.cost(pricing.lookup(turn_model, day_of(r.get("timestamp"))), fresh, out,
                           cached, written)
        cost = None if cost is None or one is None else cost + one
    totals["cost_usd"] = None if cost is None else pricing.usd(cost)
    totals["final_total"] = final
    return totals


class IndependentSumTest(unittest.TestCase):
    def test_usage_equal_to_an_independent_sum_on_every_fixture(self) -> None:
        files = fixture_files()
        self.assertGreater(len([f for f in files if f[0] == "codex"]), 3)
        self.assertGreater(len([f for f in files if f[0] == "claude"]), 20)
        for agent, path in files:
            with self.subTest(path=os.path.relpath(path, FIXTURES)):
                got = usage.read(path, agent)
                want = independent_claude(path) if agent == "claude" else independent_codex(path)
                final = want.pop("final_total", None)
                self.assertEqual({k: got[k] for k in want}, want)
                if final and "reset" not in final:  # the steps add up to the rollout's own running total
                    self.assertEqual(got["input_tokens"] + got["cache_read_tokens"] +
                                     got["cache_write_tokens"], n(final.get("input_tokens")))
                    self.assertEqual(got["output_tokens"], n(final.get("output_tokens")))

    def test_streamed_lines_of_one_message_count_once_with_their_final_numbers(self) -> None:
        path = os.path.join(FIXTURES, "public", "claude",
                            "cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl")
        every_line = sum(n(r["message"]["usage"].get("output_tokens")) for r in records(path)
                         if r.get("type") == "assistant" and isinstance(r.get("message"), dict)
                         and isinstance(r["message"].get("usage"), dict))
        got = usage.read(path, "claude")
        self.assertEqual(got["output_tokens"], 31430)
        self.assertGreater(every_line, got["output_tokens"])  # what a naive sum would say
        self.assertEqual(got["turns"], 103)  # distinct API messages, of 177 lines

    def test_a_repeated_codex_report_is_not_counted_twice(self) -> None:
        path = os.path.join(FIXTURES, "codex-0.169.0", "codex-0.169.0-tui-multiturn-interrupt.jsonl")
        reports = [r for r in records(path) if (r.get("payload") or {}).get("type") == "token_count"]
        self.assertEqual(len(reports), 6)
        got = usage.read(path, "codex")
        self.assertEqual((got["input_tokens"], got["output_tokens"], got["turns"]), (500, 100, 5))
        self.assertEqual((got["context_tokens"], got["context_window"]), (120, 258400))
        self.assertIsNone(got["cost_usd"])  # fake-model has no price
        self.assertEqual(got["unpriced_models"], ["fake-model"])

    def test_known_prices_give_exact_costs(self) -> None:
        got = usage.read(os.path.join(FIXTURES, "claude-code-2.1.329", "bash-tool",
                                      "transcript.jsonl"), "claude")
        # claude-opus-5-5: 20 input at $4/MTok + 24 output at $20/MTok
        self.assertEqual((got["model"], got["input_tokens"], got["output_tokens"]),
                         ("claude-opus-5-5", 20, 24))
        self.assertEqual(got["cost_usd"], 0.00056)
        self.assertEqual((got["context_tokens"], got["context_window"]), (10, 1_000_000))
        got = usage.read(os.path.join(FIXTURES, "codex-0.169.0",
                                      "codex-0.169.0-exec-apply-patch-gpt55.jsonl"), "codex")
        # gpt-5.5: 200 input at $5 + 40 output at $30
        self.assertEqual((got["model"], got["cost_usd"]), ("gpt-5.5", 0.0022))


def assistant(mid: str, out: int, inp: int = 10, read: int = 0, write: int = 0,
              model_id: str = "claude-opus-5-5", ts: str = "2026-11-20T10:00:00.000Z",
              **extra: Any) -> Dict[str, Any]:
    rec = {"type": "assistant", "timestamp": ts, "message": {
        "id": mid, "model": model_id, "role": "assistant", "content": [{"type": "text", "text": "x"}],
        "usage": {"input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": read,
                  "cache_creation_input_tokens": write}}}
    rec.update(extra)
    return rec


class ReaderTest(IsolatedTestCase):
    def write(self, data: bytes, name: str = "s.jsonl", mode: str = "wb") -> str:
        path = os.path.join(self.home, name)
        with open(path, mode) as f:
            f.write(data)
        return path

    def test_appended_bytes_only_and_a_torn_line_waits(self) -> None:
        path = self.write(jsonl(assistant("m1", 3)))
        reader = usage.UsageFile(path, "claude")
        reader.refresh()
        self.assertEqual((reader.usage()["output_tokens"], reader.usage()["turns"]), (3, 1))
        whole = jsonl(assistant("m1", 278)) + jsonl(assistant("m2", 5))
        self.write(whole[:40], mode="ab")  # half a line
        reader.refresh()
        self.assertEqual(reader.usage()["output_tokens"], 3)
        self.write(whole[40:], mode="ab")
        reader.refresh()
        u = reader.usage()
        self.assertEqual((u["output_tokens"], u["turns"], u["input_tokens"]), (283, 2, 20))
        self.assertEqual(u, usage.read(path, "claude"))  # the same as one read of the whole

    def test_lines_across_read_chunks_and_a_last_line_without_newline(self) -> None:
        filler = jsonl({"type": "user", "message": {"content": "f" * 5000}})
        body = b""
        n = 0
        while len(body) < 3 * READ_CHUNK:   # assistant lines every so often, some of them
            body += filler * 7 + jsonl(assistant("m%d" % n, 2))   # across a megabyte boundary
            n += 1
        path = self.write(body + json.dumps(assistant("last", 5)).encode())  # no newline
        reader = usage.UsageFile(path, "claude")
        reader.refresh()
        self.assertEqual((reader.usage()["turns"], reader.usage()["output_tokens"]),
                         (n + 1, 2 * n + 5))
        self.assertEqual(reader.line_no, 8 * n + 1)   # every line counted, decoded or not
        self.assertEqual(reader.offset, os.path.getsize(path))

    def test_a_truncated_or_replaced_file_is_read_again_from_the_start(self) -> None:
        path = self.write(jsonl(assistant("m1", 7)) + jsonl(assistant("m2", 9)))
        reader = usage.UsageFile(path, "claude")
        reader.refresh()
        self.assertEqual(reader.usage()["output_tokens"], 16)
        self.write(jsonl(assistant("m3", 2)))          # truncated and rewritten
        reader.refresh()
        self.assertEqual(reader.usage()["output_tokens"], 2)
        other = self.write(jsonl(assistant("m4", 4)) + jsonl(assistant("m5", 4)), "other.jsonl")
        os.replace(other, path)                       # replaced by another file
        reader.refresh()
        self.assertEqual((reader.usage()["output_tokens"], reader.usage()["turns"]), (8, 2))

    def test_bad_input_is_skipped(self) -> None:
        bad = [b"not json\n", b"[1, 2]\n", b'"a string"\n', b"\xff\xfe garbage\n", b"\n",
               jsonl({"type": "assistant", "message": "not a dict"}),
               jsonl({"type": "assistant", "message": {"id": "x", "usage": "nope"}}),
               jsonl({"type": "assistant", "message": {"id": "y", "usage": {
                   "input_tokens": -5, "output_tokens": "12", "cache_read_input_tokens": True,
                   "cache_creation_input_tokens": 1.5}}}),
               jsonl({"type": "unknown-kind", "usage": {"input_tokens": 99}}),
               jsonl(assistant("ok", 4, ts="not a time", model_id={"a": 1})),
               b'{"type": "assistant", "message": {"usage": {"output_tokens": 1' + b"x" * 300000 + b"\n"]
        path = self.write(b"".join(bad))
        u = usage.read(path, "claude")
        self.assertEqual((u["input_tokens"], u["output_tokens"], u["turns"]), (10, 4, 1))
        self.assertIsNone(u["cost_usd"])              # a model id that is not a string
        self.assertEqual((u["first_at"], u["last_at"]), ("", ""))
        codex = self.write(b"".join([
            b"{torn\n",
            jsonl({"type": "event_msg", "payload": {"type": "token_count", "info": None}}),
            jsonl({"type": "event_msg", "payload": {"type": "token_count", "info": {
                "total_token_usage": "many"}}}),
            jsonl({"type": "event_msg", "payload": "x"}),
            jsonl({"type": "turn_context", "payload": {"model": ["gpt"]}})]), "r.jsonl")
        self.assertEqual(usage.read(codex, "codex")["turns"], 0)
        with self.assertRaises(ValueError):
            usage.UsageFile(path, "gemini")

    def test_context_is_the_last_main_conversation_turn(self) -> None:
        path = self.write(jsonl(assistant("m1", 1, inp=5, read=1000, write=200))
                          + jsonl(assistant("s1", 1, inp=70_000, isSidechain=True))
                          + jsonl(assistant("m1", 9, inp=5, read=1000, write=200)))
        u = usage.read(path, "claude")
        self.assertEqual((u["context_tokens"], u["context_window"]), (1205, 1_000_000))
        path = self.write(jsonl(assistant("m1", 1, inp=5, read=250_000,
                                          model_id="claude-sonnet-4-5-20250929")), "big.jsonl")
        u = usage.read(path, "claude")  # over the 200K window: the 1M beta window
        self.assertEqual((u["context_tokens"], u["context_window"]), (250_005, 1_000_000))

    def test_codex_turns_are_priced_with_their_own_model(self) -> None:
        def report(total_in: int, total_out: int, last_in: int, last_out: int) -> bytes:
            return jsonl({"type": "event_msg", "timestamp": "2026-11-20T10:00:00Z", "payload": {
                "type": "token_count", "info": {
                    "total_token_usage": {"input_tokens": total_in, "cached_input_tokens": 0,
                                           "output_tokens": total_out},
                    "last_token_usage": {"input_tokens": last_in, "output_tokens": last_out,
                                          "total_tokens": last_in + last_out},
                    "model_context_window": 400000}}})
        path = self.write(b"".join([
            jsonl({"type": "turn_context", "payload": {"model": "gpt-5.5"}}),
            report(1000, 100, 1000, 100), report(1000, 100, 1000, 100),
            jsonl({"type": "turn_context", "payload": {"model": "gpt-5.4"}}),
            report(3000, 300, 2000, 200)]), "r.jsonl")
        u = usage.read(path, "codex")
        # 1000 in + 100 out at gpt-5.5 ($5, $30), then 2000 in + 200 out at gpt-5.4 ($2.50, $15)
        self.assertEqual(u["cost_usd"], round((1000 * 5 + 100 * 30 + 2000 * 2.5 + 200 * 15) / 1e6, 6))
        self.assertEqual((u["turns"], u["model"], u["context_tokens"], u["context_window"]),
                         (2, "gpt-5.4", 2200, 400000))


class PricingTest(unittest.TestCase):
    def test_model_ids_are_normalised(self) -> None:
        for raw, want in [("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
                          ("claude-opus-4-6[1m]", "claude-opus-4-6"),
                          ("us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
                          ("claude-opus-4.5", "claude-opus-4-5"), ("GPT-5.5", "gpt-5.5"),
                          ("gpt-5-2025-08-07", "gpt-5")]:
            self.assertEqual(pricing.normalise(raw), want)

    def test_bedrock_and_vertex_ids_are_priced_as_their_model(self) -> None:
        # Every routing prefix of Bedrock's cross-Region inference profiles, the plain Bedrock
        # id, an ARN, and Vertex AI's `@date` (with and without its `-v2`) and resource path.
        for raw, want in [
                ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
                ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
                ("apac.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
                ("eu.anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
                ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
                ("us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
                ("us-gov.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"),
                ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
                ("au.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
                ("anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5"),
                ("arn:aws:bedrock:ap-southeast-2:123456789012:inference-profile/"
                 "apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
                ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
                ("claude-opus-4-1@20250805", "claude-opus-4-1"),
                ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"),
                ("projects/p/locations/global/publishers/anthropic/models/"
                 "claude-opus-4-5@20251101", "claude-opus-4-5")]:
            self.assertEqual(pricing.normalise(raw), want, raw)
            self.assertIs(pricing.lookup(raw), pricing.lookup(want), raw)
            self.assertIsNotNone(pricing.lookup(raw), raw)
        # a priced transcript: the same tokens cost the same under every id form
        sonnet = pricing.cost(pricing.lookup("claude-sonnet-4-5"), 1_000_000, 0, 0, 0)
        for raw in ("global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                    "apac.anthropic.claude-sonnet-4-5-20250929-v1:0",
                    "claude-sonnet-4-5@20250929"):
            self.assertEqual(pricing.cost(pricing.lookup(raw), 1_000_000, 0, 0, 0), sonnet, raw)
        # not a routing prefix, not Anthropic's: still no price, never a guess
        for raw in ("global.meta.llama3-70b-instruct-v1:0", "apac.claude-sonnet-4-5",
                    "europe.anthropic.claude-sonnet-4-5-20250929-v1:0"):
            self.assertIsNone(pricing.lookup(raw), raw)

    def test_bedrock_and_vertex_ids_in_a_transcript_are_priced(self) -> None:
        # The recorded 2.1.332 transcript (model claude-opus-5-5) with its model id written as
        # Bedrock's global/apac profiles and Vertex AI write it: the same tokens, the same cost.
        path = os.path.join(FIXTURES, "claude-code-2.1.332", "bash-tool", "transcript.jsonl")
        with open(path, "rb") as f:
            body = f.read()
        direct = usage.read(path, "claude")
        self.assertIsNotNone(direct["cost_usd"])
        tmp = tempfile.mkdtemp(prefix="amc-test-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for form in ("global.anthropic.claude-opus-5-5-v1:0", "apac.anthropic.claude-opus-5-5-v1:0",
                     "eu.anthropic.claude-opus-5-5-v1:0", "claude-opus-5-5@20261120"):
            routed = os.path.join(tmp, "t.jsonl")
            with open(routed, "wb") as f:
                f.write(body.replace(b'"model":"claude-opus-5-5"', b'"model":"%s"' % form.encode()))
            u = usage.read(routed, "claude")
            self.assertEqual((u["cost_usd"], u["input_tokens"], u["context_window"]),
                             (direct["cost_usd"], direct["input_tokens"],
                              direct["context_window"]), form)

    def test_unknown_models_have_no_price(self) -> None:
        for name in ("fake-model", "", "claude-opus-9", "claude-opus-5-55", "<synthetic>"):
            self.assertIsNone(pricing.lookup(name), name)
            self.assertIsNone(pricing.cost(pricing.lookup(name), 1, 1, 1, 1))
        self.assertIsNotNone(pricing.lookup("claude-opus-5-5"))

    def test_modifiers(self) -> None:
        opus = pricing.lookup("claude-opus-5")
        base = pricing.cost(opus, 1_000_000, 0, 0, 0)
        self.assertEqual(pricing.usd(base), 5.0)
        self.assertEqual(pricing.usd(pricing.cost(opus, 1_000_000, 0, 0, 0, geo="us")), 5.5)
        self.assertIsNone(pricing.cost(opus, 1, 1, 0, 0, speed="fast"))
        # cache writes: 5-minute and 1-hour rates
        self.assertEqual(pricing.usd(pricing.cost(opus, 0, 0, 0, 2_000_000, 1_000_000)), 16.25)
        haiku = pricing.lookup("claude-haiku-5-5")  # a prompt over 100K: the higher band
        self.assertEqual(pricing.usd(pricing.cost(haiku, 100_000, 1_000_000, 0, 0)), 0.51)
        self.assertEqual(pricing.usd(pricing.cost(haiku, 200_000, 1_000_000, 0, 0)), 2.6)

    def test_every_row_has_a_source_and_date_and_exact_prices(self) -> None:
        rows = pricing.table()
        seen = set()
        for row in rows:
            self.assertTrue(row["source"].startswith("https://"), row)
            time.strptime(row["checked"], "%Y-%m-%d")
            self.assertGreater(row["context_window"], 0)
            for key in ("input", "output", "cache_read", "cache_write", "cache_write_1h"):
                pricing._pico(row[key])  # raises when a price is not exact in picodollars
            for m in row["models"]:
                self.assertNotIn((m, row["since"]), seen, "two rows price %s" % m)
                seen.add((m, row["since"]))


def claude_dir(home: str, project: str = "-home-dev-proj") -> str:
    path = os.path.join(home, ".claude", "projects", project)
    os.makedirs(path, exist_ok=True)
    return path


class LiveUsageTest(ServerTestCase):
    """A hook session on a real server: `usage` on it follows its transcript."""

    def start_session(self, sid: str, transcript: str) -> None:
        proc = self.run_hook({"hook_event_name": "UserPromptSubmit", "session_id": sid,
                              "transcript_path": transcript, "cwd": self.home, "prompt": "hi"})
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def card_usage(self, sid: str, predicate, what: str, timeout: float = 10.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.get_json("/api/state")
            s = next((x for x in state["sessions"] if x["session_id"] == sid), None)
            if s is not None and s.get("usage") is not None and predicate(s["usage"]):
                return s["usage"]
            self.assertLess(time.monotonic(), deadline, "%s; the card: %s" % (what, s))
            time.sleep(0.05)

    def test_live_session_carries_usage_that_follows_its_transcript(self) -> None:
        sid = "11111111-2222-3333-4444-555555555555"
        path = os.path.join(claude_dir(self.home), sid + ".jsonl")
        shutil.copy(os.path.join(FIXTURES, "public", "claude",
                                 "cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl"), path)
        self.start_session(sid, path)
        want = usage.read(path, "claude")
        got = self.card_usage(sid, lambda u: u["turns"] == want["turns"], "usage never arrived")
        self.assertEqual(got, want)
        # a streamed message: its first line, then its last with the final numbers
        with open(path, "ab") as f:
            f.write(jsonl(assistant("msg_new", 3, inp=1, read=134000, write=50,
                                    model_id="claude-opus-4-5-20251101")))
        got = self.card_usage(sid, lambda u: u["turns"] == want["turns"] + 1, "the append")
        self.assertEqual(got["output_tokens"], want["output_tokens"] + 3)
        with open(path, "ab") as f:
            f.write(jsonl(assistant("msg_new", 300, inp=1, read=134000, write=50,
                                    model_id="claude-opus-4-5-20251101")))
        got = self.card_usage(sid, lambda u: u["output_tokens"] == want["output_tokens"] + 300,
                              "the final numbers of the streamed message")
        self.assertEqual((got["turns"], got["context_tokens"]), (want["turns"] + 1, 134051))
        self.assertEqual(got, usage.read(path, "claude"))
        # the transcript replaced by a shorter one: read again from the start
        tmp = path + ".new"
        with open(tmp, "wb") as f:
            f.write(jsonl(assistant("only", 5)))
        os.replace(tmp, path)
        got = self.card_usage(sid, lambda u: u["turns"] == 1, "the replaced transcript")
        self.assertEqual(got["output_tokens"], 5)
        self.assertEqual(self.server.usage.usage(sid), got)

    def test_a_transcript_outside_the_agents_directories_is_not_read(self) -> None:
        sid = "99999999-2222-3333-4444-555555555555"
        elsewhere = os.path.join(self.home, "elsewhere.jsonl")  # not named after the session
        with open(elsewhere, "wb") as f:
            f.write(jsonl(assistant("m", 5)))
        self.start_session(sid, elsewhere)
        self.server.core.flush()
        time.sleep(0.3)
        s = self.server.core.session(sid)
        self.assertIsNotNone(s)
        self.assertIsNone(s["usage"])


if __name__ == "__main__":
    unittest.main()
