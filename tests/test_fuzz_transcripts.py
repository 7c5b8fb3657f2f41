"""Fuzzing the transcript readers: real record shapes with values of the wrong type, raw bytes,
torn lines, odd chunking, truncation; and what the API and the index do with the messages.

The readers must never raise, never lose a record to an exception inside `feed` (the base class
would swallow it, with a warning, and the conversation would silently miss that line), and every
message keeps the contract's shape (docs/api.md, Message). Appending whole lines in arbitrary
chunks must give the same messages as reading the finished file at once. See
tests/support/fuzzing.py.
"""
import glob
import json
import os
import shutil
import tempfile
import time
import unittest
from typing import Any, Dict, List

from tests.support.fuzzing import (
    examples, given, json_line, json_values, hostile_text, deep_nesting, mutated, records_in,
    require, st)
from tests.support.helpers import FIXTURES

from amc_server import store
from amc_server.agents import usage as usage_mod
from amc_server.agents.claude import registry as claude_registry
from amc_server.agents.claude import tasks as claude_tasks
from amc_server.agents.claude import subagents
from amc_server.agents.claude.transcript import ClaudeTranscript, last_preview
from amc_server.agents.codex.transcript import CodexTranscript
from amc_server.agents.claude.subagent_reader import InlineTranscript, SubagentTranscript
from amc_server.consumers.conversations import index_of, shape, wire
from amc_server import agents as agent_family
from amc_server.index.documents import document, fingerprint

SID = "5c0375b4-0000-4000-8000-00000000f022"


def _shape_key(record: Dict[str, Any]) -> tuple:
    message = record.get("message") if isinstance(record.get("message"), dict) else {}
    content = message.get("content")
    blocks = tuple(b.get("type") for b in content if isinstance(b, dict)) \
        if isinstance(content, list) else type(content).__name__
    payload = record.get("payload") if isinstance(record.get("payload"), dict) else {}
    return (record.get("type"), blocks, payload.get("type"), "isSidechain" in record,
            "toolUseResult" in record, "origin" in record)


def _samples(paths: List[str], per_shape: int = 3, max_bytes: int = 20000) -> List[Dict[str, Any]]:
    """Records of the fixtures, a few per shape, small enough to mutate quickly."""
    seen: Dict[tuple, int] = {}
    out = []
    for path in paths:
        for record in records_in(path, limit=2000):
            if len(json.dumps(record)) > max_bytes:
                continue
            key = _shape_key(record)
            if seen.get(key, 0) < per_shape:
                seen[key] = seen.get(key, 0) + 1
                out.append(record)
    return out


CLAUDE_FILES = sorted(glob.glob(os.path.join(FIXTURES, "claude-code-*", "*", "transcript.jsonl"))
                      + glob.glob(os.path.join(FIXTURES, "claude-code-*", "subagents",
                                               "subagents", "*.jsonl"))
                      + glob.glob(os.path.join(FIXTURES, "public", "claude", "*.jsonl")))
CODEX_FILES = sorted(glob.glob(os.path.join(FIXTURES, "codex-*", "*.jsonl"))
                     + glob.glob(os.path.join(FIXTURES, "codex-*", "*", "rollout.jsonl"))
                     + glob.glob(os.path.join(FIXTURES, "public", "codex", "*.jsonl")))
CLAUDE_SAMPLES = _samples(CLAUDE_FILES)
CODEX_SAMPLES = _samples([p for p in CODEX_FILES if "hook-payloads" not in p
                          and "notify-payloads" not in p])

claude_records = st.one_of(mutated(CLAUDE_SAMPLES), json_values())
codex_records = st.one_of(mutated(CODEX_SAMPLES), json_values())


def lines_of(records: Any) -> Any:
    """Transcript lines: records as JSON (ASCII-escaped or raw UTF-8), plus junk lines."""
    line = st.one_of(
        st.builds(json_line, records, st.booleans()),
        st.binary(max_size=60),
        deep_nesting().map(str.encode),
        st.sampled_from([b"", b"   ", b"{", b'{"type":', b"\xff\xfe", b"null", b"[]", b"1e999",
                         b'"\\ud800"', b'{"type":"user","message":{"content":"\\ud83d"}}']))
    return st.lists(line, max_size=12)


def assert_message_contract(case: unittest.TestCase, messages: List[Dict[str, Any]]) -> None:
    """Every message in docs/api.md's Message shape, ids unique."""
    ids = set()
    for msg in messages:
        case.assertIsInstance(msg, dict)
        case.assertIsInstance(msg["id"], str)
        case.assertNotIn(msg["id"], ids)
        ids.add(msg["id"])
        case.assertIn(msg["role"], ("user", "assistant"))
        for key in ("content", "timestamp", "thinking"):
            case.assertIsInstance(msg[key], str, key)
        case.assertIsInstance(msg["tool_calls"], list)
        for call in msg["tool_calls"]:
            case.assertIsInstance(call["id"], str)
            case.assertIsInstance(call["name"], str)
            case.assertIn("input", call)
            if "result" in call:
                case.assertIsInstance(call["result"], str)
            if "is_error" in call:
                case.assertIsInstance(call["is_error"], bool)
            if "subagent" in call:
                case.assertIsInstance(call["subagent"]["agent_id"], str)
        for image in msg.get("images") or ():
            case.assertIsInstance(image["bytes"], int)


def assert_served(case: unittest.TestCase, messages: List[Dict[str, Any]]) -> None:
    """What /api/conversation, the stream and the search index do with messages works."""
    for msg in messages:
        out = wire(msg)
        # server.py sends store.dumps as UTF-8: a message must be encodable (no lone
        # surrogates, no NaN/Infinity: store.dumps refuses them).
        store.dumps(out, ensure_ascii=False).encode("utf-8")
        shape(msg)
        doc = document(msg)
        for part in doc:
            part.encode("utf-8")  # SQLite binds text as UTF-8
        fingerprint(msg, doc)
        case.assertEqual(index_of(messages, msg["id"]), messages.index(msg))
    last_preview(messages)


class TempDir(unittest.TestCase):
    def setUp(self) -> None:
        require()
        self.dir = tempfile.mkdtemp(prefix="amc-fuzz-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.n = 0

    def new_path(self, name: str = "") -> str:
        self.n += 1
        return os.path.join(self.dir, name or "%d-%s.jsonl" % (self.n, SID))

    def assert_no_feed_errors(self, reader: Any) -> None:
        errors = sorted(k for k in reader._warned if k.startswith("err:"))
        self.assertEqual(errors, [], "a record raised inside feed() and was skipped")


class ClaudeReaderFuzz(TempDir):
    @examples(300)
    @given(lines=lines_of(claude_records))
    def test_claude_reader_never_raises_and_keeps_the_message_shape(self, lines):
        path = self.new_path()
        with open(path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        for cls in (ClaudeTranscript, agent_family.get("claude").transcript):  # the index's reader
            reader = cls(path, SID)
            messages = reader.refresh()
            self.assert_no_feed_errors(reader)
            assert_message_contract(self, messages)
            assert_served(self, messages)

    @examples(150)
    @given(lines=lines_of(claude_records), agent_id=st.sampled_from(["a1", "ae4323c0a7088b4ea"]))
    def test_subagent_readers_never_raise(self, lines, agent_id):
        path = self.new_path("agent-%s.jsonl" % agent_id)
        with open(path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        for reader in (SubagentTranscript(path, SID, agent_id=agent_id),
                       InlineTranscript(path, SID, agent_id=agent_id)):
            messages = reader.refresh()
            self.assert_no_feed_errors(reader)
            assert_message_contract(self, messages)
            assert_served(self, messages)

    @examples(150)
    @given(records=st.lists(claude_records, max_size=8), block=json_values(),
           text=hostile_text())
    def test_claude_tasks_never_raise(self, records, block, text):
        calls: Dict[str, Dict[str, Any]] = {}
        call = {"id": "t1", "name": "Agent", "input": {"prompt": text}}
        claude_tasks.mark(call)
        calls["t1"] = call
        for record in records:
            if not isinstance(record, dict):
                continue
            claude_tasks.sidechain(calls, record)
            blocks = [b for b in (block if isinstance(block, list) else [block])
                      if isinstance(b, dict)]
            claude_tasks.results(calls, record, blocks)
            claude_tasks.notes(calls, blocks + [{"type": "text", "text": text}])
        self.assertIsInstance(call["subagent"]["agent_id"], str)


class CodexReaderFuzz(TempDir):
    @examples(300)
    @given(lines=lines_of(codex_records))
    def test_codex_reader_never_raises_and_keeps_the_message_shape(self, lines):
        path = self.new_path("rollout-2026-01-01T00-00-00-%s.jsonl" % SID)
        with open(path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        reader = CodexTranscript(path, SID)
        messages = reader.refresh()
        self.assert_no_feed_errors(reader)
        assert_message_contract(self, messages)
        assert_served(self, messages)
        for key in ("cwd", "model", "last_event", "error", "last_agent_message"):
            self.assertIsInstance(getattr(reader, key), str, key)
        json.dumps(reader.meta)


class IncrementalFuzz(TempDir):
    """Transcript.refresh: bytes arriving in arbitrary chunks, truncation, replacement."""

    @examples(150)
    @given(records=st.lists(st.one_of(mutated(CLAUDE_SAMPLES, 2), st.sampled_from(CLAUDE_SAMPLES)),
                            max_size=10),
           cuts=st.lists(st.integers(0, 10 ** 6), max_size=8))
    def test_chunked_appends_read_like_the_whole_file(self, records, cuts):
        data = b"".join(json_line(r, True) + b"\n" for r in records)
        path = self.new_path()
        open(path, "wb").close()
        reader = ClaudeTranscript(path, SID)
        points = sorted({c % (len(data) + 1) for c in cuts} | {len(data)})
        start = 0
        for point in points:
            with open(path, "ab") as f:
                f.write(data[start:point])
            start = point
            assert_message_contract(self, reader.refresh())
        whole = ClaudeTranscript(path, SID)
        self.assertEqual(json.dumps(reader.refresh(), sort_keys=True),
                         json.dumps(whole.refresh(), sort_keys=True))

    @examples(150)
    @given(ops=st.lists(st.one_of(
        st.tuples(st.just("append"), st.one_of(st.binary(max_size=200),
                                                st.builds(json_line, claude_records,
                                                          st.booleans()).map(lambda b: b + b"\n"))),
        st.tuples(st.just("truncate"), st.integers(0, 400)),
        st.tuples(st.just("replace"), st.binary(max_size=200)),
        st.tuples(st.just("delete"), st.just(b""))), max_size=10))
    def test_refresh_survives_truncation_and_replacement(self, ops):
        path = self.new_path()
        readers = [ClaudeTranscript(path, SID), CodexTranscript(path, SID),
                   usage_mod.UsageFile(path, "claude"), usage_mod.UsageFile(path, "codex")]
        for op, arg in ops:
            if op == "append":
                with open(path, "ab") as f:
                    f.write(arg)
            elif op == "truncate" and os.path.exists(path):
                os.truncate(path, arg)
            elif op == "replace":
                tmp = path + ".tmp"
                with open(tmp, "wb") as f:
                    f.write(arg)
                os.replace(tmp, path)
            elif op == "delete" and os.path.exists(path):
                os.remove(path)
            for reader in readers:
                reader.refresh()
        for reader in readers[:2]:
            assert_message_contract(self, reader.messages)
        for reader in readers[2:]:
            json.dumps(reader.usage(), allow_nan=False)

    @examples(20)
    @given(size=st.sampled_from([64 * 1024 + 1, 300 * 1024]), tail=st.booleans())
    def test_huge_lines_are_clipped_whether_or_not_their_newline_arrived(self, size, tail):
        record = {"type": "user", "message": {"role": "user", "content": "x" * size},
                  "timestamp": "2026-01-01T00:00:00.000Z"}
        path = self.new_path()
        with open(path, "wb") as f:
            f.write(json_line(record, True) + (b"\n" if tail else b""))
        [msg] = ClaudeTranscript(path, SID).refresh()
        self.assertLess(len(msg["content"]), 10000)


class UsageFuzz(TempDir):
    @examples(200)
    @given(claude=lines_of(claude_records), codex=lines_of(codex_records))
    def test_usage_reader_never_raises(self, claude, codex):
        for agent, lines in (("claude", claude), ("codex", codex)):
            path = self.new_path()
            with open(path, "wb") as f:
                f.write(b"\n".join(lines) + b"\n")
            reader = usage_mod.UsageFile(path, agent)
            reader.refresh()
            self.assert_no_feed_errors(reader)
            out = reader.usage()
            json.dumps(out, allow_nan=False)
            json.dumps(reader.acc.day_state(), allow_nan=False)
            for key in ("input_tokens", "output_tokens", "cache_read_tokens",
                        "cache_write_tokens", "context_tokens", "turns"):
                self.assertIsInstance(out[key], int, key)


REGISTRY = [r for p in sorted(glob.glob(os.path.join(FIXTURES, "claude-code-*", "*",
                                                 "sessions-registry.json")))[:3]
            for r in records_in(p)] or [{"pid": 1, "sessionId": "x", "status": "idle"}]


class RegistryFuzz(TempDir):
    @examples(300)
    @given(entry=st.one_of(mutated(REGISTRY), json_values()), transcript=st.sampled_from(["", "x"]),
           session=st.fixed_dictionaries({"status": st.sampled_from(["active", "needs_attention"]),
                                          "attention": st.one_of(st.none(), st.dictionaries(
                                              st.sampled_from(["kind", "text"]), json_values())),
                                          "last_event_at": json_values()}))
    def test_registry_entries_never_raise(self, entry, transcript, session):
        if not isinstance(entry, dict):
            return
        found = claude_registry.from_entry(entry, transcript)
        if found is not None:
            json.dumps(found, ensure_ascii=False).encode("utf-8")
        claude_registry.reconcile(session, entry)
        claude_registry.pid_alive(entry.get("pid"), entry.get("procStart"))

    @examples(60)
    @given(files=st.lists(st.tuples(st.sampled_from(["1.json", "2.json", "x.json", "3.txt"]),
                                    st.one_of(st.binary(max_size=80),
                                              st.builds(json_line, st.one_of(mutated(REGISTRY),
                                                                             json_values()),
                                                        st.booleans()),
                                              deep_nesting().map(str.encode))),
                          max_size=4))
    def test_registry_files_never_raise(self, files):
        env = {"HOME": self.dir, "CLAUDE_CONFIG_DIR": self.new_path("claude-%d" % self.n)}
        from amc_server.paths import get_paths
        paths = get_paths(env)
        os.makedirs(paths.claude_sessions, exist_ok=True)
        for name, data in files:
            with open(os.path.join(paths.claude_sessions, name), "wb") as f:
                f.write(data)
        for entry in claude_registry.live_entries(paths):
            claude_registry.from_entry(entry, "")


class SubagentFilesFuzz(TempDir):
    @examples(100)
    @given(head=lines_of(claude_records), meta=st.one_of(
        st.binary(max_size=60), deep_nesting().map(str.encode),
        st.builds(json_line, json_values(), st.booleans())),
        messages=st.lists(mutated(CLAUDE_SAMPLES, 2), max_size=3))
    def test_subagent_files_and_meta_never_raise(self, head, meta, messages):
        project = self.new_path("proj-%d" % self.n)
        transcript = os.path.join(project, SID + ".jsonl")
        sub = os.path.join(project, SID, "subagents")
        os.makedirs(sub)
        open(transcript, "wb").close()
        for agent_id in ("a1", "b2"):
            with open(os.path.join(sub, "agent-%s.jsonl" % agent_id), "wb") as f:
                f.write(b"\n".join(head) + b"\n")
            with open(os.path.join(sub, "agent-%s.meta.json" % agent_id), "wb") as f:
                f.write(meta)
        with open(os.path.join(project, "agent-c3.jsonl"), "wb") as f:
            f.write(b"\n".join(head))
        found = subagents.files(transcript, SID)
        for f in found:
            self.assertTrue(subagents.valid_agent_id(f.agent_id))
        subagents.find(transcript, SID, "a1")
        subagents.running_count(transcript, SID, time.time())
        msgs = [{"id": "m%d" % i, "role": "assistant", "content": "", "timestamp": "",
                 "thinking": "", "tool_calls": [
                     {"id": "t%d" % i, "name": "Agent", "input": m.get("message"),
                      "subagent": {"agent_id": "a1" if i else "", "status": "running"}}]}
                for i, m in enumerate(m for m in messages if isinstance(m, dict))]
        subagents.annotate(msgs, transcript, SID)
        json.dumps(msgs, ensure_ascii=False)


def _strict(text: str) -> Any:
    """Parse as a browser's JSON.parse: NaN, Infinity and numbers that are inf are refused."""
    def refuse(literal: str) -> Any:
        raise AssertionError("not standard JSON: %s" % literal)

    def number(literal: str) -> float:
        value = float(literal)
        if value in (float("inf"), float("-inf")):
            refuse(literal)
        return value
    return json.loads(text, parse_constant=refuse, parse_float=number)


class NonFiniteJsonFuzz(unittest.TestCase):
    """Issue 17: what others write (transcripts, payloads, feeds) goes in through store.loads and
    out through store.dumps; whatever numbers came in, what goes out is standard JSON."""

    NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E+400", "-9.5e9999",
                  "0.1e310"]

    @examples(200)
    @given(value=json_values(), hostile=st.lists(st.sampled_from(NON_FINITE), min_size=1,
                                                 max_size=3),
           ascii_only=st.booleans(), as_bytes=st.booleans(), compact=st.booleans())
    def test_non_finite_numbers_in_never_make_invalid_json_out(self, value, hostile, ascii_only,
                                                               as_bytes, compact):
        require()
        # Python writes the value's own inf/nan as Infinity/NaN; the placeholders add the rest.
        marks = ["@%d@" % i for i in range(len(hostile))]
        text = json.dumps({"v": value, "h": marks, "deep": [{"k": marks[0]}]},
                          ensure_ascii=ascii_only)
        for mark, literal in zip(marks, hostile):
            text = text.replace('"%s"' % mark, literal)
        got = store.loads(text.encode("utf-8", "surrogatepass") if as_bytes else text)
        self.assertEqual(got["h"], [None] * len(hostile))
        self.assertIsNone(got["deep"][0]["k"])
        options = {"separators": (",", ":")} if compact else {}
        out = store.dumps(got, ensure_ascii=ascii_only, **options)
        self.assertEqual(_strict(out), got)
        line = store._utf8_json(got, **options)  # what files and event lines get
        self.assertEqual(_strict(line.decode("utf-8")), got)


if __name__ == "__main__":
    unittest.main()
