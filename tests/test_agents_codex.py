"""Tests for agents/codex/transcript.py: Codex rollouts as a user sees them in the dashboard.

Real rollouts recorded from Codex CLI 0.169.0 (tests/fixtures/codex-0.169.0) and public rollouts
from 0.53 to 0.146 (tests/fixtures/public/SOURCES.md), plus small synthetic rollouts for status.
"""
import glob
import json
import logging
import os
import shutil
import tempfile
import time
import unittest

from amc_server import model
from amc_server.agents.codex.discovery import find_rollout, reconcile
from amc_server.agents.codex.transcript import CodexTranscript
from amc_server.core.sources import Sources
from amc_server.paths import get_paths
from tests.support.builders import codex_event, codex_item, codex_rollout

HERE = os.path.dirname(os.path.abspath(__file__))
CURRENT = os.path.join(HERE, "fixtures", "codex-0.169.0")
PUBLIC = os.path.join(HERE, "fixtures", "public", "codex")
ROLLOUTS = sorted(glob.glob(os.path.join(CURRENT, "codex-0.169.0-*-*.jsonl")))
ROLLOUTS = [p for p in ROLLOUTS if "payloads" not in p]  # hook/notify captures are not rollouts
PUBLIC_FILES = sorted(glob.glob(os.path.join(PUBLIC, "*.jsonl")))
CONTRACT_KEYS = {"id": str, "role": str, "content": str, "timestamp": str, "tool_calls": list,
                 "thinking": str}
INJECTED = ("<environment_context", "<skills_instructions", "<permissions instructions",
            "# AGENTS.md instructions", "<turn_aborted", "<user_instructions")
SID = "01a1fb52-6436-7123-a618-4cc7afd1b1d5"


def current(name: str) -> str:
    return os.path.join(CURRENT, "codex-0.169.0-%s.jsonl" % name)


def public(name: str) -> str:
    return os.path.join(PUBLIC, name)


def parse(path: str, session_id: str = SID) -> CodexTranscript:
    t = CodexTranscript(path, session_id)
    t.refresh()
    return t


def said(messages):
    """Return (role, content) of every message with text, in order: what the user reads."""
    return [(m["role"], m["content"]) for m in messages if m["content"]]


def calls(messages):
    return [tc for m in messages for tc in m["tool_calls"]]


def reply(prompt: str) -> str:
    return "Hello from the fake model! You said: " + prompt


class Quiet(unittest.TestCase):
    """Keep the warnings for skipped records out of the test output (they are asserted apart)."""

    def setUp(self) -> None:
        logger = logging.getLogger("amc.agents")
        level, logger.level = logger.level, logging.CRITICAL
        self.addCleanup(setattr, logger, "level", level)


class CurrentCliRollouts(Quiet):
    """Codex 0.169.0: every prompt and reply exactly once, tools paired, context hidden."""

    def test_exec_text_only_is_one_prompt_and_one_reply(self):
        t = parse(current("exec-text-only"))
        self.assertEqual(said(t.messages), [("user", "say hi"), ("assistant", reply("say hi"))])
        self.assertEqual(t.meta["cwd"], "/home/dev/work/proj")
        self.assertEqual(t.meta["originator"], "codex_exec")
        self.assertEqual(t.meta["cli_version"], "0.169.0")
        self.assertEqual(t.meta["started_at"], "2026-11-20T23:34:08.567Z")
        self.assertFalse(t.busy)
        self.assertEqual(t.last_agent_message, reply("say hi"))
        self.assertEqual(t.last_event_at, "2026-11-20T23:34:08.706Z")

    def test_apply_patch_is_a_tool_call_with_the_patch_and_its_result(self):
        t = parse(current("exec-apply-patch-gpt55"))
        self.assertEqual([m["role"] for m in t.messages], ["user", "assistant", "assistant"])
        self.assertEqual(t.messages[0]["content"], "PATCH please")
        (patch,) = calls(t.messages)
        self.assertEqual(patch["name"], "apply_patch")
        self.assertEqual(patch["id"], "call_fake_1")
        self.assertIn("*** Add File: hello.txt", patch["input"]["command"])
        self.assertEqual(patch["result"], "Success. Updated the following files:\nA hello.txt\n")
        self.assertIs(patch["is_error"], False)
        self.assertIs(t.messages[1]["tool_calls"][0], patch)  # the call comes before the reply
        self.assertTrue(t.messages[2]["content"].startswith("The command returned: Exit code: 0"))

    def test_approved_command_turn_reasoning_and_stream_error(self):
        t = parse(current("tui-approval-reasoning-stream-error"))
        self.assertEqual([m for m in said(t.messages) if m[0] == "user"], [
            ("user", "ASKESC please"), ("user", "REASON then answer"),
            ("user", "REASON then answer, try 2")])
        (cmd,) = calls(t.messages)
        self.assertEqual(cmd["name"], "exec_command")
        self.assertEqual(cmd["input"]["cmd"],
                         "touch /home/dev/work/escalated.txt && echo escalated")
        self.assertEqual(cmd["result"], "escalated\n")
        self.assertIs(cmd["is_error"], False)
        failed = [m for m in t.messages if m.get("is_error")]
        self.assertEqual(len(failed), 1)
        self.assertIn("stream disconnected before completion", failed[0]["content"])
        before = t.messages[t.messages.index(failed[0]) - 1]
        self.assertEqual(before["content"], "REASON then answer")
        last = t.messages[-1]
        self.assertEqual(last["content"], reply("REASON then answer, try 2"))
        self.assertEqual(last["thinking"], "**Thinking** about the fake answer")
        # The retry succeeded: no error, no approval, idle.
        self.assertEqual((t.busy, t.error, t.approval), (False, "", None))

    def test_multiturn_then_interrupt_shows_the_interrupted_turn(self):
        t = parse(current("tui-multiturn-interrupt"))
        prompts = ["delay test 0.05", "delay test 0.1", "delay test 0.2", "paste test one",
                   "typed then Enter in same call"]
        expected = [x for p in prompts for x in (("user", p), ("assistant", reply(p)))]
        self.assertEqual(said(t.messages), expected + [("user", "SLOW interrupt me")])
        self.assertEqual(t.messages[-2]["content"], "SLOW interrupt me")
        self.assertEqual(t.messages[-1]["role"], "assistant")
        self.assertIs(t.messages[-1].get("interrupted"), True)
        self.assertEqual(sum(1 for m in t.messages if m.get("interrupted")), 1)
        self.assertFalse(t.busy)
        self.assertEqual(t.last_event, "turn_aborted")

    def test_injected_context_and_developer_messages_are_hidden(self):
        for path in ROLLOUTS:
            with self.subTest(path=os.path.basename(path)):
                for m in parse(path).messages:
                    self.assertFalse(m["content"].lstrip().startswith(INJECTED), m["content"][:60])

    def test_contract_shape_and_ids(self):
        for path in ROLLOUTS:
            with self.subTest(path=os.path.basename(path)):
                messages = parse(path).messages
                self.assertTrue(messages)
                for n, m in enumerate(messages):
                    for key, kind in CONTRACT_KEYS.items():
                        self.assertIsInstance(m[key], kind, key)
                    self.assertIn(m["role"], ("user", "assistant"))
                    self.assertEqual(m["id"], "codex-01a1fb52-%d" % n)
                    self.assertTrue(m["timestamp"].startswith("2026-11-20T"))
                    for tc in m["tool_calls"]:
                        self.assertTrue({"id", "name", "input"} <= set(tc))

    def test_ids_are_stable_across_two_parses(self):
        for path in ROLLOUTS + PUBLIC_FILES:
            with self.subTest(path=os.path.basename(path)):
                self.assertEqual(parse(path).messages, parse(path).messages)


class OlderRollouts(Quiet):
    """0.53 to 0.146: the same message shape, context hidden, nothing crashes."""

    def test_every_public_file_parses_without_a_skipped_record(self):
        for path in PUBLIC_FILES:
            with self.subTest(path=os.path.basename(path)):
                t = parse(path)
                self.assertEqual(t.skipped, 0)  # no handler raised on any record
                for m in t.messages:
                    for key, kind in CONTRACT_KEYS.items():
                        self.assertIsInstance(m[key], kind, key)

    def test_0_77_agents_md_and_environment_context_are_not_prompts(self):
        t = parse(public("codex-0.77-real-session-start-simonw.jsonl"))
        prompt = ("can you analyse the MD files in this directory and determine if the info we "
                  "have is clear enough to start planning the migration?")
        self.assertEqual(said(t.messages), [("user", prompt)])
        self.assertEqual(t.cwd, "/Users/macmini/Code/homelab-migration")
        self.assertEqual(t.meta["cli_version"], "0.77.0")

    def test_0_61_events_only_rollout_keeps_thinking_command_and_reply(self):
        t = parse(public("codex-0.61-vscode-sanitized-file-updates.jsonl"))
        self.assertEqual(said(t.messages), [
            ("user", "Please ensure the agent and copilot instructions match."),
            ("assistant", "Updated both instruction files to match; only headings differ.")])
        self.assertEqual(t.messages[1]["thinking"], "Reviewing guidance files for consistency.")
        (cmd,) = calls(t.messages)
        self.assertEqual((cmd["name"], cmd["result"], cmd["is_error"]),
                         ("shell_command", "diff count 1", False))

    def test_0_146_catalog_prompt_and_reply_once_and_outputs_paired(self):
        t = parse(public("codex-catalog-0.146-record-types-agent-sessions.jsonl"))
        texts = said(t.messages)
        self.assertEqual(texts.count(("user", "List the files")), 1)
        self.assertEqual(texts.count(("assistant", "Found 2 files.")), 1)
        by_id = {tc["id"]: tc for tc in calls(t.messages)}
        self.assertEqual(by_id["call-1"]["result"], "a.txt\nb.txt\n")  # custom tool, list output
        self.assertEqual(by_id["call-2"]["result"], "a.txt\n")         # function, dict output
        self.assertEqual(by_id["call-6"]["name"], "apply_patch")       # patch_apply_end alone

    def test_compacted_then_aborted_turn(self):
        t = parse(public("codex-compacted-aborted-events-prateek.jsonl"))
        self.assertEqual(said(t.messages),
                         [("user", "Hello Codex"), ("assistant", "Hi! I can help.")])
        self.assertIs(t.messages[-1].get("interrupted"), True)
        self.assertFalse(t.busy)

    def test_0_53_error_event_is_an_error_message_and_state(self):
        t = parse(public("codex-0.53-rate-limit-error-agent-sessions.jsonl"))
        self.assertEqual(t.error, "Rate limit exceeded")
        self.assertEqual([(m["content"], m.get("is_error")) for m in t.messages],
                         [("Rate limit exceeded", True)])

    def test_unknown_record_type_is_skipped_with_one_warning(self):
        with self.assertLogs("amc.agents", logging.WARNING) as logs:
            t = parse(public("codex-unknown-record-type-prateek.jsonl"))
        self.assertEqual(t.messages, [])
        self.assertEqual(t.meta["cwd"], "/tmp")
        self.assertEqual(len(logs.records), 1)
        self.assertIn("totally_new_type", logs.output[0])
        self.assertIn(":2:", logs.output[0])


def prompt(text: str) -> dict:
    return codex_event("item_completed", item={"type": "UserMessage", "id": "u", "content": [
        {"type": "text", "text": text}]})


def answer(text: str) -> dict:
    return codex_event("item_completed", item={"type": "AgentMessage", "id": "a", "content": [
        {"type": "Text", "text": text}]})


class TmpDirCase(Quiet):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="amc-codex-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, path: str, data: bytes, mtime: float = None) -> str:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path


class SyntheticRollouts(TmpDirCase):
    """Edge cases the recorded rollouts do not show, written in their record shapes."""

    def parse_records(self, *records) -> CodexTranscript:
        path = self.write(os.path.join(self.tmp, "r.jsonl"), codex_rollout(SID, "/w", *records))
        return parse(path)

    def test_harness_written_user_item_is_hidden_whatever_its_text(self):
        harness = {"content_item_metadata": [{"provenance": {"type": "harness"}}]}
        t = self.parse_records(
            codex_item("message", role="user",
                       content=[{"type": "input_text", "text": "<new_tag>x"}],
                       internal_chat_message_metadata_passthrough=harness),
            codex_item("message", role="user", content=[{"type": "input_text", "text": "real"}]))
        self.assertEqual(said(t.messages), [("user", "real")])

    def test_the_same_prompt_in_two_turns_shows_twice(self):
        turn = (codex_item("message", role="user",
                           content=[{"type": "input_text", "text": "again"}]),
                prompt("again"), answer("ok"),
                codex_item("message", role="assistant",
                           content=[{"type": "output_text", "text": "ok"}]))
        t = self.parse_records(*(turn + turn))
        self.assertEqual(said(t.messages), [("user", "again"), ("assistant", "ok")] * 2)

    def test_failing_commands_and_patches_are_flagged(self):
        t = self.parse_records(
            codex_item("function_call", call_id="c1", name="exec_command",
                       arguments='{"cmd": "false"}'),
            codex_item("function_call_output", call_id="c1",
                       output="Chunk ID: 1\nProcess exited with code 2\nOutput:\nboom\n"),
            codex_item("function_call", call_id="c2", name="exec_command",
                       arguments='{"cmd": "cat f"}'),
            codex_item("function_call_output", call_id="c2",
                       output="Process exited with code 0\nOutput:\nExit code: 1\n"),
            codex_event("exec_command_end", call_id="c3", command=["bash", "-lc", "make"],
                        exit_code=1, aggregated_output="error\n"),
            codex_event("item_completed", item={"type": "CommandExecution", "id": "c4",
                                                "exit_code": 127,
                                                "command": ["/bin/bash", "-lc", "nope"],
                                                "aggregated_output": "not found\n",
                                                "status": "failed"}),
            codex_event("patch_apply_end", call_id="c5", success=False, stderr="no such file",
                        changes={"/w/a.py": {"type": "update"}}),
            codex_event("item_completed", item={"type": "FileChange", "id": "c6",
                                                "status": "failed",
                                                "changes": {"/w/b.py": {"type": "add"}}}))
        by_id = {tc["id"]: tc for tc in calls(t.messages)}
        self.assertEqual({k: v["is_error"] for k, v in by_id.items()},
                         {"c1": True, "c2": False, "c3": True, "c4": True, "c5": True, "c6": True})
        self.assertEqual(by_id["c3"]["input"], {"command": "make"})
        self.assertEqual((by_id["c4"]["input"], by_id["c4"]["result"]),
                         ({"command": "nope"}, "not found\n"))
        self.assertEqual((by_id["c5"]["name"], by_id["c5"]["input"], by_id["c5"]["result"]),
                         ("apply_patch", {"changes": ["/w/a.py"]}, "no such file"))


class Incremental(TmpDirCase):
    """A rollout followed while Codex writes it equals the rollout read once."""

    def follow(self, source: str, cuts) -> CodexTranscript:
        with open(source, "rb") as f:
            data = f.read()
        path = os.path.join(self.tmp, "rollout.jsonl")
        self.write(path, b"")
        t = CodexTranscript(path, SID)
        done = 0
        for cut in list(cuts) + [len(data)]:
            with open(path, "ab") as f:
                f.write(data[done:cut])
            done = cut
            t.refresh()
        return t

    def test_two_chunks_split_mid_line_equal_one_read(self):
        for source in ROLLOUTS:
            with self.subTest(path=os.path.basename(source)):
                size = os.path.getsize(source)
                whole = parse(source)
                t = self.follow(source, [size // 2 + 7])
                self.assertEqual(t.messages, whole.messages)
                self.assertEqual((t.busy, t.error, t.last_event_at),
                                 (whole.busy, whole.error, whole.last_event_at))

    def test_every_line_torn_in_the_middle_equals_one_read(self):
        source = current("tui-approval-reasoning-stream-error")
        with open(source, "rb") as f:
            data = f.read()
        starts = [i + 1 for i, b in enumerate(data) if b == 0x0A][:-1]
        cuts = sorted(s + 5 for s in [0] + starts)
        self.assertEqual(self.follow(source, cuts).messages, parse(source).messages)

    def test_reply_arriving_later_follows_the_prompt(self):
        source = current("exec-text-only")
        with open(source, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        head = sum(len(x) for x in lines[:9])  # through item_completed UserMessage
        path = self.write(os.path.join(self.tmp, "r.jsonl"), b"".join(lines)[:head])
        t = CodexTranscript(path, SID)
        self.assertEqual(said(t.refresh()), [("user", "say hi")])
        self.assertTrue(t.busy)
        with open(path, "ab") as f:
            f.write(b"".join(lines)[head:])
        self.assertEqual(said(t.refresh()), [("user", "say hi"), ("assistant", reply("say hi"))])
        self.assertFalse(t.busy)


def discover(paths, now=None, window_s=600, cache=None):
    """Return the active Codex sessions the core's tables hold at `now`, newest first.

    `cache` keeps the tables between calls, as the running core does (key "tables").
    """
    now = time.time() if now is None else now
    src = Sources(paths, ["codex"]) if cache is None else \
        cache.setdefault("tables", Sources(paths, ["codex"]))
    src.window_s = window_s
    for d in src.codex_dirs(now, recent=True):
        src.scan_dir(d, now)
    src.expire(now)
    return sorted(src.rollout_sessions.values(), key=lambda s: -s["conversation_mtime_ns"])


class CodexHomeCase(TmpDirCase):
    """A temp HOME, so CODEX_HOME/sessions is a temp dir; rollouts written into today's dir."""

    def setUp(self) -> None:
        super().setUp()
        self.paths = get_paths({"HOME": self.tmp})
        self.now = time.time()
        self.today = os.path.join(self.paths.codex_sessions,
                                  time.strftime("%Y/%m/%d", time.localtime(self.now)))

    def rollout(self, sid: str, data: bytes, age: float = 0, day: str = None) -> str:
        name = "rollout-2026-11-20T10-00-00-%s.jsonl" % sid
        return self.write(os.path.join(day or self.today, name), data, self.now - age)


class Discovery(CodexHomeCase):
    """Active rollouts under a temp CODEX_HOME become Sessions; old ones do not."""

    def test_only_recent_rollouts_are_active_codex_sessions(self):
        with open(current("exec-text-only"), "rb") as f:
            data = f.read()
        fresh = self.rollout("01a1fb4f-6bad-7690-a1b1-9bb86e944f4c", data)
        self.rollout("01a1fb4f-0000-7000-8000-000000000000", data, age=11 * 60)
        (s,) = discover(self.paths, now=self.now)
        self.assertEqual(s["session_id"], "01a1fb4f-6bad-7690-a1b1-9bb86e944f4c")
        self.assertEqual((s["agent"], s["source"]), ("codex", "rollout"))
        self.assertEqual((s["project_dir"], s["project"]), ("/home/dev/work/proj", "proj"))
        self.assertEqual(s["status"], model.DONE)
        self.assertEqual(s["transcript_path"], fresh)
        self.assertEqual(s["conversation_mtime_ns"], os.stat(fresh).st_mtime_ns)
        self.assertEqual(s["started_at"], "2026-11-20T23:34:08.567Z")
        self.assertEqual(s["last_event_at"], "2026-11-20T23:34:08.706Z")
        self.assertEqual(s["last_message_preview"], reply("say hi"))
        self.assertEqual(s["last_event"], "rollout:task_complete")

    def test_busy_between_task_started_and_task_complete(self):
        started = codex_event("task_started", turn_id="t1")
        self.rollout("aaaaaaaa-0000-7000-8000-000000000001",
                     codex_rollout("a", "/work/busy", started, prompt("build it")))
        self.rollout("bbbbbbbb-0000-7000-8000-000000000002",
                     codex_rollout("b", "/work/idle", started, prompt("build it"), answer("Built."),
                                   codex_event("task_complete", last_agent_message="Built.")),
                     age=5)
        busy, idle = discover(self.paths, now=self.now)  # newest first
        self.assertEqual((busy["project"], busy["status"]), ("busy", model.ACTIVE))
        self.assertEqual(busy["last_message_preview"], "build it")
        self.assertEqual((idle["project"], idle["status"]), ("idle", model.DONE))
        self.assertEqual(idle["last_message_preview"], "Built.")

    def test_pending_escalated_command_needs_permission(self):
        with open(current("tui-approval-reasoning-stream-error"), "rb") as f:
            lines = f.read().splitlines(keepends=True)
        sid = "01a1fb52-6436-7123-a618-4cc7afd1b1d5"
        path = self.rollout(sid, b"".join(lines[:11]))  # the call, before its output
        cache = {}
        (s,) = discover(self.paths, now=self.now, cache=cache)
        self.assertEqual(s["status"], model.NEEDS_ATTENTION)
        self.assertEqual(s["attention"]["kind"], model.ATTN_PERMISSION)
        self.assertEqual(s["attention"]["summary"],
                         "touch /home/dev/work/escalated.txt && echo escalated")
        self.assertIn("outside the workspace", s["attention"]["text"])
        with open(path, "ab") as f:  # approved: the command ran, the turn goes on
            f.write(b"".join(lines[11:15]))
        (s,) = discover(self.paths, now=self.now, cache=cache)
        self.assertEqual((s["status"], s["attention"]), (model.ACTIVE, None))
        with open(path, "ab") as f:  # the next turn fails on a stream error
            f.write(b"".join(lines[15:26]))
        (s,) = discover(self.paths, now=self.now, cache=cache)
        self.assertEqual(s["status"], model.NEEDS_ATTENTION)
        self.assertEqual(s["attention"]["kind"], model.ATTN_ERROR)
        self.assertIn("stream disconnected", s["attention"]["text"])
        with open(path, "ab") as f:  # the retry works
            f.write(b"".join(lines[26:]))
        (s,) = discover(self.paths, now=self.now, cache=cache)
        self.assertEqual((s["status"], s["attention"]), (model.DONE, None))

    def test_cache_parses_only_appended_bytes_and_drops_inactive_files(self):
        started = codex_event("task_started", turn_id="t1")
        path = self.rollout("cccccccc-0000-7000-8000-000000000003",
                            codex_rollout("c", "/work/c", started, prompt("one")))
        cache = {}
        discover(self.paths, now=self.now, cache=cache)
        parser = cache["tables"].rollouts[path]
        offset = parser.offset
        with open(path, "ab") as f:
            f.write(json.dumps(codex_event("task_complete")).encode() + b"\n")
        (s,) = discover(self.paths, now=self.now, cache=cache)
        self.assertIs(cache["tables"].rollouts[path], parser)
        self.assertGreater(parser.offset, offset)
        self.assertEqual(s["status"], model.DONE)
        self.assertEqual(discover(self.paths, now=self.now + 3600, cache=cache), [])
        self.assertEqual(cache["tables"].rollouts, {})

    def test_old_day_directories_are_not_walked(self):
        old_day = os.path.join(self.paths.codex_sessions, "2020", "01", "01")
        self.rollout("dddddddd-0000-7000-8000-000000000004",
                     codex_rollout("d", "/work/old", prompt("hi")), day=old_day)
        os.utime(old_day, (self.now - 86400 * 365,) * 2)
        self.rollout("eeeeeeee-0000-7000-8000-000000000005",
                     codex_rollout("e", "/work/new", prompt("hi")))
        # Its file was touched just now, but only a resumed session could do that: not walked.
        self.assertEqual([s["project"] for s in discover(self.paths, now=self.now)], ["new"])

    def test_day_directory_with_a_fresh_mtime_is_walked(self):
        other = os.path.join(self.paths.codex_sessions, "2099", "12", "31")  # clock/TZ skew
        self.rollout("ffffffff-0000-7000-8000-000000000006",
                     codex_rollout("f", "/work/skew", prompt("hi")), day=other)
        self.assertEqual([s["project"] for s in discover(self.paths, now=self.now)], ["skew"])

    def test_a_longer_window_walks_every_day_in_it(self):
        day = os.path.join(self.paths.codex_sessions,
                           time.strftime("%Y/%m/%d", time.localtime(self.now - 2 * 86400)))
        self.rollout("99999999-0000-7000-8000-000000000009",
                     codex_rollout("g", "/work/two-days", prompt("hi")), age=3600, day=day)
        os.utime(day, (self.now - 2 * 86400,) * 2)
        self.assertEqual(discover(self.paths, now=self.now), [])
        found = discover(self.paths, now=self.now, window_s=4 * 86400)
        self.assertEqual([s["project"] for s in found], ["two-days"])

    def test_missing_codex_home_is_no_sessions(self):
        self.assertEqual(discover(self.paths, now=self.now), [])
        self.assertIsNone(find_rollout(self.paths, SID))


class FindRollout(CodexHomeCase):
    def test_finds_by_id_in_any_day_directory(self):
        with open(current("exec-text-only"), "rb") as f:
            data = f.read()
        sid = "01a1fb4f-6bad-7690-a1b1-9bb86e944f4c"
        old = self.rollout(sid, data, age=86400 * 30,
                           day=os.path.join(self.paths.codex_sessions, "2025", "02", "03"))
        self.rollout("01a1fb4f-0000-7000-8000-000000000000", data)
        self.assertEqual(find_rollout(self.paths, sid), old)
        self.assertEqual(said(parse(old, sid).messages)[0], ("user", "say hi"))

    def test_rejects_unsafe_and_unknown_ids(self):
        self.rollout("x", b"")
        for bad in ("../x", "..", "", "a/b", "x\0"):
            self.assertIsNone(find_rollout(self.paths, bad), bad)
        self.assertIsNone(find_rollout(self.paths, "no-such-session"))
        self.assertIsNotNone(find_rollout(self.paths, "x"))


class ReconcileWithHooks(unittest.TestCase):
    """A denied approval ends the turn with no hook: the rollout's later turn end wins."""

    def hook_session(self, **fields):
        return model.new_session("t1", "codex", status="needs_attention",
                                 last_event_at="2026-11-21T10:00:00.000Z",
                                 attention={"kind": "permission", "tool": "Bash", "text": ""},
                                 **fields)

    def rollout(self, status, since):
        return model.new_session("t1", "codex", source="rollout", status=status,
                                 status_since=since, last_event="rollout:turn_aborted")

    def test_a_turn_end_after_the_last_hook_event_ends_a_pending_approval(self):
        s = self.hook_session()
        reconcile(s, self.rollout("done", "2026-11-21T10:00:05.000Z"))
        self.assertEqual((s["status"], s["attention"], s["status_since"]),
                         ("done", None, "2026-11-21T10:00:05.000Z"))

    def test_older_turn_ends_busy_rollouts_and_prose_questions_change_nothing(self):
        for session, rollout in (
                (self.hook_session(), self.rollout("done", "2026-11-21T09:59:00.000Z")),
                (self.hook_session(), self.rollout("active", "2026-11-21T10:00:05.000Z")),
                (model.new_session("t1", "codex", status="needs_attention",
                                   last_event_at="2026-11-21T10:00:00.000Z",
                                   attention={"kind": "prose_question", "text": "ok?"}),
                 self.rollout("done", "2026-11-21T10:00:05.000Z"))):
            before = dict(session)
            reconcile(session, rollout)
            self.assertEqual(session, before)


if __name__ == "__main__":
    unittest.main()
