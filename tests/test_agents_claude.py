"""Tests for agents/claude.py: Claude Code transcripts as a user sees them in the dashboard.

Real transcripts only: the CLI 2.1.329 scenarios recorded for AMC and the public fixtures
(tests/fixtures/public/SOURCES.md), plus small synthetic files for hostile input.
"""
import glob
import json
import logging
import os
import shutil
import tempfile
import unittest
import unittest.mock

from amc_server.agents.claude import ClaudeTranscript, find_transcript, last_preview
from amc_server.paths import get_paths

HERE = os.path.dirname(os.path.abspath(__file__))
CURRENT = os.path.join(HERE, "fixtures", "claude-code-2.1.329")
PUBLIC = os.path.join(HERE, "fixtures", "public", "claude")
PUBLIC_FILES = sorted(glob.glob(os.path.join(PUBLIC, "**", "*.jsonl"), recursive=True))
CONTRACT_KEYS = {"id": str, "role": str, "content": str, "timestamp": str, "tool_calls": list,
                 "thinking": str}
INJECTED = ("<system-reminder>", "<command-", "<local-command", "Caveat:", "[Request interrupted",
            "<bash-stdout>")


def public(name: str) -> str:
    return os.path.join(PUBLIC, name)


def scenario(name: str) -> str:
    return os.path.join(CURRENT, name, "transcript.jsonl")


def parse(path: str, session_id: str = "0123456789abcdef"):
    return ClaudeTranscript(path, session_id).refresh()


def session_of(path: str) -> str:
    """Return the sessionId recorded in a transcript (what AMC passes as session_id)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("sessionId"):
                return record["sessionId"]
    return "unknown"


def raw_records(path: str):
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


class Warnings(logging.Handler):
    """Collect the parser's warnings instead of printing them (hostile and catalog fixtures)."""

    def __enter__(self) -> "Warnings":
        self.lines = []
        self.logger = logging.getLogger("amc.agents")
        self.saved = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self.saved

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def quietly() -> Warnings:
    return Warnings()


class TmpDirCase(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="amc-claude-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


def jsonl(*records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def user(text, **extra):
    return dict({"type": "user", "timestamp": "2026-01-01T00:00:00.000Z",
                 "message": {"role": "user", "content": text}}, **extra)


def assistant(api_id, *blocks, **extra):
    return dict({"type": "assistant", "timestamp": "2026-01-01T00:00:01.000Z",
                 "message": {"id": api_id, "role": "assistant", "model": "m",
                             "content": list(blocks)}}, **extra)


def result(tool_id, content, is_error=False):
    return {"type": "user", "timestamp": "2026-01-01T00:00:02.000Z",
            "message": {"role": "user", "content": [{"type": "tool_result",
                                                     "tool_use_id": tool_id,
                                                     "content": content, "is_error": is_error}]}}


class CurrentCliScenarios(unittest.TestCase):
    """What the dashboard shows for conversations recorded with Claude Code 2.1.329."""

    def summary(self, name):
        messages = parse(scenario(name), session_of(scenario(name)))
        return messages, [(m["role"], m["content"]) for m in messages]

    def test_bash_tool_shows_prompt_call_with_output_and_reply(self):
        messages, shape = self.summary("bash-tool")
        self.assertEqual(shape, [("user", "BASH: echo hello-from-bash"), ("assistant", ""),
                                 ("assistant", "TOOL-DONE")])
        (call,) = messages[1]["tool_calls"]
        self.assertEqual(call["name"], "Bash")
        self.assertEqual(call["id"], "toolu_bash0001")
        self.assertEqual(call["input"]["command"], "echo hello-from-bash")
        self.assertEqual(call["result"], "hello-from-bash")
        self.assertIs(call["is_error"], False)

    def test_ask_option_answer_beta_is_in_the_question_result(self):
        messages, shape = self.summary("ask-option")
        self.assertEqual(shape[0], ("user", "ASK: Which database should we use?"))
        (call,) = messages[1]["tool_calls"]
        self.assertEqual(call["name"], "AskUserQuestion")
        self.assertEqual(call["input"]["questions"][0]["question"], "Which database should we use?")
        self.assertEqual([o["label"] for o in call["input"]["questions"][0]["options"]],
                         ["Alpha", "Beta", "Gamma"])
        self.assertIn('="Beta"', call["result"])
        self.assertTrue(messages[2]["content"].startswith("ANSWER-RECEIVED:"))
        self.assertEqual(len(messages), 3)

    def test_ask_freeform_answer_text_is_in_the_result(self):
        messages, shape = self.summary("ask-freeform")
        self.assertEqual(shape[0], ("user", "ASK: Which color should the button be?"))
        (call,) = messages[1]["tool_calls"]
        self.assertIn("teal with a dark border", call["result"])
        self.assertIn("teal with a dark border", messages[2]["content"])

    def test_chat_and_prose_question_two_turns(self):
        _, shape = self.summary("chat-and-prose-question")
        self.assertEqual(shape, [
            ("user", "hello there"), ("assistant", "OK: hello there"),
            ("user", "PROSE? what next"),
            ("assistant", "I looked at the code.\n\nShould I continue with the migration?")])

    def test_permission_prompt_tool_result_and_reply(self):
        messages, shape = self.summary("permission-prompt")
        self.assertEqual(shape[0], ("user", "BASH: touch made-by-agent.txt"))
        (call,) = messages[1]["tool_calls"]
        self.assertEqual(call["input"]["command"], "touch made-by-agent.txt")
        self.assertEqual(call["result"], "(Bash completed with no output)")
        self.assertEqual(shape[2], ("assistant", "TOOL-DONE"))

    def test_ids_timestamps_and_contract_keys(self):
        path = scenario("bash-tool")
        messages = parse(path, "a7eb8cd8-adda-4df2-92af-d1d572bd697f")
        self.assertEqual([m["id"] for m in messages],
                         ["claude-a7eb8cd8-0", "claude-a7eb8cd8-1", "claude-a7eb8cd8-2"])
        self.assertEqual([m["timestamp"] for m in messages],
                         ["2026-11-20T23:38:47.320Z", "2026-11-20T23:38:47.640Z",
                          "2026-11-20T23:38:47.861Z"])
        self.assertEqual(messages[1]["model"], "claude-opus-5-5")
        for m in messages:
            for key, kind in CONTRACT_KEYS.items():
                self.assertIsInstance(m[key], kind, key)

    def test_api_request_mirrors_and_attachments_are_not_messages(self):
        for name in os.listdir(CURRENT):
            text = json.dumps(parse(scenario(name)))
            self.assertNotIn("system-reminder", text, name)
            self.assertNotIn("Attribution for git commits", text, name)
            self.assertNotIn("# Environment", text, name)

    def test_two_independent_parses_give_identical_messages(self):
        for name in os.listdir(CURRENT):
            self.assertEqual(parse(scenario(name), "s1"), parse(scenario(name), "s1"), name)


class PublicFixtures(unittest.TestCase):
    """Every public transcript, including subagent files, as a user would want it."""

    def test_every_file_parses_with_contract_shaped_messages(self):
        self.assertGreater(len(PUBLIC_FILES), 20)
        for path in PUBLIC_FILES:
            with quietly() as warnings:
                messages = parse(path)
            # A record that made the parser raise would be logged as "record skipped".
            self.assertFalse([w for w in warnings.lines if "record skipped" in w], path)
            if "synthetic" not in path and "catalog" not in path:
                self.assertEqual(warnings.lines, [], path)
            for m in messages:
                self.assertIn(m["role"], ("user", "assistant"), path)
                for key, kind in CONTRACT_KEYS.items():
                    self.assertIsInstance(m[key], kind, "%s %s" % (path, key))
                for call in m["tool_calls"]:
                    self.assertTrue({"id", "name", "input"} <= set(call), path)
                if m["role"] == "user":
                    self.assertTrue(m["content"] or m.get("images"), path)
                    self.assertFalse(m["content"].startswith(INJECTED), (path, m["content"][:80]))
                    self.assertNotIn("<system-reminder>", m["content"], path)

    def test_ids_are_stable_across_two_parses(self):
        for path in PUBLIC_FILES:
            with quietly():
                first, second = parse(path, "deadbeef-1"), parse(path, "deadbeef-1")
            self.assertEqual(first, second, path)
            self.assertEqual([m["id"] for m in first],
                             ["claude-deadbeef-%d" % i for i in range(len(first))], path)

    def test_one_assistant_message_per_api_message(self):
        for path in PUBLIC_FILES:
            if "catalog" in path or "synthetic" in path:
                continue  # trimmed or invented message ids
            api_of_call = {}
            for record in raw_records(path):
                message = record.get("message")
                if record.get("type") == "assistant" and isinstance(message, dict):
                    for block in message.get("content") or []:
                        if block.get("type") == "tool_use":
                            api_of_call[block.get("id")] = message.get("id")
            with quietly():
                messages = parse(path)
            previous = None
            for m in messages:
                apis = {api_of_call[c["id"]] for c in m["tool_calls"] if c["id"] in api_of_call}
                self.assertLessEqual(len(apis), 1, (path, m["id"]))
                current = apis.pop() if apis else None
                if m["role"] == "assistant" and current is not None:
                    self.assertNotEqual(current, previous, (path, m["id"]))
                previous = current if m["role"] == "assistant" else None

    def test_long_2_0_55_file_merges_split_lines_into_api_messages(self):
        path = public("cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl")
        api_ids = []
        for record in raw_records(path):
            if record.get("type") == "assistant" and not record.get("isSidechain"):
                if record["message"]["id"] not in api_ids:
                    api_ids.append(record["message"]["id"])
        messages = parse(path)
        assistants = [m for m in messages if m["role"] == "assistant"]
        self.assertEqual(len(assistants), len(api_ids))
        first = assistants[0]
        self.assertEqual(first["content"], "I'll examine the pending changes in your repository.")
        self.assertEqual([c["input"]["command"] for c in first["tool_calls"]],
                         ["git status", "git diff", "git diff --cached"])

    def test_long_2_0_55_file_pairs_ask_user_question_with_answers(self):
        messages = parse(public("cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl"))
        asks = [c for m in messages for c in m["tool_calls"] if c["name"] == "AskUserQuestion"]
        self.assertEqual(len(asks), 2)
        for call in asks:
            self.assertTrue(call["input"]["questions"])
            self.assertIn("User has answered your questions", call["result"])
            self.assertIs(call["is_error"], False)
        calls = [c for m in messages for c in m["tool_calls"]]
        self.assertTrue(all("result" in c for c in calls))
        self.assertEqual(sum(c["name"] == "ExitPlanMode" for c in calls), 3)

    def test_slash_commands_show_compactly_and_their_output_is_hidden(self):
        messages = parse(public("cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl"))
        users = [(m["content"], m["kind"]) for m in messages if m["role"] == "user"]
        self.assertEqual(users[:3], [("/context", "command"), ("/model", "command"),
                                     (users[2][0], "prompt")])
        self.assertTrue(users[2][0].startswith("It's been a while"))
        self.assertNotIn("Set model to", json.dumps(messages))
        sidechain = parse(public("cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl"))
        self.assertEqual(sidechain[0]["content"],
                         "/orchestrator @CLAUDE.md を最新の状態にアップデートしてください")

    def test_bash_mode_input_is_shown_and_its_output_hidden(self):
        messages = parse(public("cc-1.0.51-summary-system-326189cf.jsonl"))
        self.assertEqual([(m["content"], m["kind"]) for m in messages[:2]],
                         [("!uv run ty check", "bash"), ("please fix these", "prompt")])

    def test_image_is_a_placeholder_never_base64(self):
        path = public("cc-1.0.43-image-thinking-long-0d3a8e6f.jsonl")
        messages = parse(path)
        with_images = [m for m in messages if m.get("images")]
        self.assertEqual(len(with_images), 1)
        (image,) = with_images[0]["images"]
        self.assertEqual(image["media_type"], "image/png")
        self.assertGreater(image["bytes"], 500000)
        self.assertIn("[Image #1]", with_images[0]["content"])
        serialised = json.dumps(messages)
        self.assertNotIn("iVBORw0KGgo", serialised)  # the PNG signature in base64
        self.assertLess(len(serialised), os.path.getsize(path) // 10)

    def test_thinking_is_kept_apart_and_signature_only_thinking_is_empty(self):
        messages = parse(public("cc-2.1.42-progress-filehistory-03eb5929.jsonl"))
        self.assertTrue(messages[1]["thinking"].startswith("The user is talking about"))
        self.assertEqual(messages[1]["content"], "Let me take a look at what's here.")
        opus = parse(public("cc-2.1.114-teammates-worktrees-ef958aa1.jsonl"))
        self.assertEqual(opus[1]["thinking"], "")
        self.assertTrue(opus[1]["content"].startswith("I'll orchestrate this experiment"))

    def test_inline_sidechain_is_not_mixed_into_the_main_conversation(self):
        messages = parse(public("cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl"))
        text = json.dumps([m["content"] for m in messages])
        self.assertNotIn("Examine the package.json file(s)", text)
        tasks = [c for m in messages for c in m["tool_calls"] if c["name"] == "Task"]
        self.assertEqual(len(tasks), 3)
        self.assertTrue(tasks[1]["result"].startswith("## Package.json Analysis Summary"))
        self.assertIs(tasks[0]["is_error"], True)

    def test_subagent_files_show_their_own_conversation(self):
        for name, prompt in [
                ("cc-2.1.17-task-subagent-29ccd257/subagents/agent-a2271d1.jsonl",
                 "Give me a comprehensive overview"),
                ("cc-2.1.207-subagent-meta-0a1b2c3d/subagents/agent-a0ad4f44468bdf20d.jsonl",
                 "Search the repo for TODO comments"),
                ("cc-2.0.55-project-level-agent-c8d9b115.jsonl", None)]:
            messages = parse(public(name))
            self.assertGreater(len(messages), 1, name)
            if prompt:
                self.assertEqual(messages[0]["role"], "user")
                self.assertTrue(messages[0]["content"].startswith(prompt), name)

    def test_api_error_turn_is_an_assistant_message_flagged_as_error(self):
        messages = parse(public("cc-2.1.179-api-error-rate-limit.jsonl"))
        self.assertEqual(len(messages), 2)
        error = messages[1]
        self.assertEqual(error["role"], "assistant")
        self.assertIs(error["is_error"], True)
        self.assertEqual(error["api_error"], "rate_limit")
        self.assertTrue(error["content"].startswith("You've hit your limit"))

    def test_interrupted_permission_prompt(self):
        messages = parse(public("cc-1.0.51-permission-interrupt.jsonl"))
        self.assertEqual([m["role"] for m in messages], ["user", "assistant"])
        self.assertIs(messages[1]["interrupted"], True)
        (call,) = messages[1]["tool_calls"]
        self.assertEqual(call["name"], "Write")
        self.assertIs(call["is_error"], True)

    def test_empty_summary_only_and_bookkeeping_only_files_have_no_messages(self):
        for name in ("cc-empty-file-b23cbd1d.jsonl", "cc-summary-only-4e27c414.jsonl",
                     "cc-2.1.167-goal-status-attachment.jsonl"):
            self.assertEqual(parse(public(name)), [], name)
        (only,) = parse(public("cc-leading-summaries-3680252d.jsonl"))
        self.assertEqual((only["role"], only["content"]), ("user", "/model"))

    def test_malformed_edge_cases_skip_bad_lines_and_keep_the_rest(self):
        path = public("cc-synthetic-edge-cases-malformed.jsonl")
        transcript = ClaudeTranscript(path, "edge_cases")
        with self.assertLogs("amc.agents", "WARNING") as logs:
            messages = transcript.refresh()
        self.assertEqual(transcript.skipped, 3)  # "massive error", 42, [1]
        self.assertTrue(any(path + ":14: unknown record type" in line for line in logs.output))
        users = [m["content"] for m in messages if m["role"] == "user"]
        self.assertEqual(users[2], "/test-command --verbose --output /tmp/test.log")
        self.assertTrue(users[-1].startswith("Testing special characters: café"))
        failing = messages[3]["tool_calls"][0]
        self.assertEqual((failing["name"], failing["is_error"]), ("FailingTool", True))


class Incremental(TmpDirCase):
    """A transcript followed while Claude writes it gives what one read of the whole file gives."""

    def follow(self, source: str, cuts):
        """Copy `source` in pieces ending at byte offsets `cuts`, refreshing after each piece."""
        with open(source, "rb") as f:
            data = f.read()
        path = self.write("follow.jsonl", b"")
        transcript = ClaudeTranscript(path, "feedface")
        start, snapshots = 0, []
        for cut in list(cuts) + [len(data)]:
            with open(path, "ab") as f:
                f.write(data[start:cut])
            start = cut
            snapshots.append(json.loads(json.dumps(transcript.refresh())))
        return transcript, snapshots

    def test_halves_split_mid_line_equal_one_read(self):
        for source in [scenario(n) for n in sorted(os.listdir(CURRENT))] + [
                public("cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl"),
                public("cc-2.1.114-teammates-worktrees-ef958aa1.jsonl"),
                public("cc-1.0.43-image-thinking-long-0d3a8e6f.jsonl")]:
            size = os.path.getsize(source)
            whole = parse(source, "feedface")
            for cut in (size // 3, size // 2, size * 7 // 9):
                _, snapshots = self.follow(source, [cut])
                self.assertEqual(snapshots[-1], whole, (source, cut))

    def test_many_small_pieces_equal_one_read(self):
        source = public("cc-2.1.42-progress-filehistory-03eb5929.jsonl")
        size = os.path.getsize(source)
        _, snapshots = self.follow(source, range(997, size, 997))
        self.assertEqual(snapshots[-1], parse(source, "feedface"))

    def test_tool_result_in_a_later_refresh_pairs_with_its_call(self):
        source = scenario("bash-tool")
        with open(source, "rb") as f:
            data = f.read()
        cut = data.index(b'"tool_result"')
        cut = data.rindex(b"\n", 0, cut) + 1 + 40  # tear the tool_result line itself
        transcript, (before, after) = self.follow(source, [cut])
        self.assertNotIn("result", before[1]["tool_calls"][0])
        self.assertEqual(after[1]["tool_calls"][0]["result"], "hello-from-bash")
        self.assertEqual([m["id"] for m in before], [m["id"] for m in after[:2]])

    def test_assistant_message_split_across_refreshes_is_merged(self):
        source = public("cc-2.0.55-askuserquestion-planmode-long-a7da6a22.jsonl")
        with open(source, "rb") as f:
            lines = f.read().split(b"\n")
        cut = sum(len(line) + 1 for line in lines[:14])  # after line 14: text + first tool_use
        _, (before, after) = self.follow(source, [cut])
        self.assertEqual(len(before[-1]["tool_calls"]), 1)
        self.assertEqual(before[-1]["id"], after[3]["id"])
        self.assertEqual(len(after[3]["tool_calls"]), 3)
        self.assertEqual(after[3]["content"], before[-1]["content"])

    def test_truncated_file_is_reread_from_the_start(self):
        path = self.write("t.jsonl", jsonl(user("one"), assistant("m1", {"type": "text",
                                                                         "text": "first"})))
        transcript = ClaudeTranscript(path, "s")
        self.assertEqual(len(transcript.refresh()), 2)
        self.write("t.jsonl", jsonl(user("two")))
        self.assertEqual([m["content"] for m in transcript.refresh()], ["two"])


class HostileInput(TmpDirCase):
    def test_garbage_file_is_skipped_line_by_line_not_raised(self):
        data = b"".join([
            b"not json at all\n",
            b"[1, 2, 3]\n", b'"a string"\n', b"42\n", b"null\n",
            b'{"type": "user", "message": {"role": "user", "content": "torn',  # torn mid-file
            b"\n",
            jsonl({"type": "from-the-future", "x": 1}, {"type": ["list"]}, {"no": "type"},
                  {"type": "user", "message": "a string"},
                  {"type": "user", "message": {"content": None}},
                  {"type": "user", "message": {"content": [1, None, {"type": 7}]}},
                  {"type": "assistant", "message": {"id": 5, "content": [{"type": ["x"]}]}},
                  {"type": "assistant", "message": {"content": [{"type": "tool_use"}]}},
                  result("toolu_unknown", [{"type": "image"}, "text"]),
                  {"type": "attachment", "attachment": "odd"}),
            b"x" * (2 * 1024 * 1024) + b"\n",  # a 2 MB line of garbage
            jsonl(user("still here"), assistant("m1", {"type": "text", "text": "yes"})),
            b'{"type": "assistant", "message": {"id": "m2", "content": [{"type": "te',
        ])
        path = self.write("hostile.jsonl", data)
        transcript = ClaudeTranscript(path, "hostile")
        with self.assertLogs("amc.agents", "WARNING") as logs:
            messages = transcript.refresh()
        self.assertEqual([(m["role"], m["content"]) for m in messages[-2:]],
                         [("user", "still here"), ("assistant", "yes")])
        self.assertGreaterEqual(transcript.skipped, 6)
        self.assertTrue(any(path + ":1: not JSON" in line for line in logs.output))
        self.assertTrue(any("'from-the-future'" in line and path + ":7:" in line
                            for line in logs.output))
        self.assertFalse(any("record skipped" in line for line in logs.output), logs.output)
        # The torn last line waits for the rest instead of being lost.
        with open(path, "ab") as f:
            f.write(b'xt", "text": "done"}]}}\n')
        self.assertEqual(transcript.refresh()[-1]["content"], "done")

    def test_unknown_type_warns_once_with_path_and_line(self):
        path = self.write("u.jsonl", jsonl({"type": "brand-new"}, {"type": "brand-new"},
                                           user("hi")))
        with self.assertLogs("amc.agents", "WARNING") as logs:
            messages = parse(path)
        self.assertEqual([m["content"] for m in messages], ["hi"])
        self.assertEqual(len([x for x in logs.output if "brand-new" in x]), 1)
        self.assertIn(path + ":1:", logs.output[0])

    def test_known_bookkeeping_types_are_silent(self):
        types = sorted({r.get("type") for p in PUBLIC_FILES + glob.glob(CURRENT + "/*/*.jsonl")
                        if "synthetic" not in p for r in raw_records(p)
                        if isinstance(r.get("type"), str)} - {"user", "assistant"})
        path = self.write("b.jsonl", jsonl(*[{"type": t} for t in types]))
        logger = logging.getLogger("amc.agents")
        with unittest.mock.patch.object(logger, "warning") as warning:
            self.assertEqual(parse(path), [])
        warning.assert_not_called()


class Synthetic(TmpDirCase):
    """Shapes the fixtures show only partly, written the way the CLI writes them."""

    def test_streaming_duplicates_are_merged_once(self):
        text = {"type": "text", "text": "Looking."}
        tool = {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "a"}}
        path = self.write("d.jsonl", jsonl(
            user("go"), assistant("msg_1", {"type": "thinking", "thinking": "", "signature": "s"}),
            assistant("msg_1", text), assistant("msg_1", text, tool), assistant("msg_1", tool),
            result("toolu_1", [{"type": "text", "text": "line1"}, {"type": "text",
                                                                  "text": "line2"}]),
            assistant("msg_1", {"type": "tool_use", "id": "toolu_2", "name": "Grep",
                                "input": {}}),
            result("toolu_2", "boom", is_error=True),
            assistant("msg_2", {"type": "text", "text": "Done."})))
        messages = parse(path)
        self.assertEqual([(m["role"], m["content"]) for m in messages],
                         [("user", "go"), ("assistant", "Looking."), ("assistant", "Done.")])
        calls = messages[1]["tool_calls"]
        self.assertEqual([(c["name"], c["result"], c["is_error"]) for c in calls],
                         [("Read", "line1\nline2", False), ("Grep", "boom", True)])
        self.assertEqual(messages[1]["thinking"], "")

    def test_injected_user_text_is_hidden_and_typed_text_kept(self):
        path = self.write("i.jsonl", jsonl(
            user("<system-reminder>\nsecret\n</system-reminder>"),
            user([{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                  {"type": "text", "text": "real prompt"}]),
            user("expanded skill text", isMeta=True),
            user("This session is being continued from a previous conversation...",
                 isCompactSummary=True),
            user("<command-message>model</command-message>\n<command-name>/model</command-name>"
                 "\n<command-args>opus</command-args>"),
            user("<local-command-stdout>Set model to opus</local-command-stdout>"),
            user("<local-command-caveat>Caveat: ...</local-command-caveat>"),
            user([{"type": "text", "text": "[Request interrupted by user]"}]),
            user("<task-notification>done</task-notification>"),
            user("sidechain prompt", isSidechain=True),
            user("last <system-reminder>tail</system-reminder>")))
        messages = parse(path)
        self.assertEqual([(m["content"], m["kind"]) for m in messages],
                         [("real prompt", "prompt"), ("/model opus", "command"),
                          ("last", "prompt")])

    def test_interrupt_marks_the_assistant_message(self):
        path = self.write("x.jsonl", jsonl(
            user("go"), assistant("m", {"type": "text", "text": "Working"}),
            user([{"type": "text", "text": "[Request interrupted by user]"}])))
        self.assertIs(parse(path)[-1]["interrupted"], True)

    def test_queued_prompt_attachment_is_a_user_message(self):
        queued = {"type": "attachment", "timestamp": "2026-01-01T00:00:03.000Z",
                  "attachment": {"type": "queued_command", "prompt": "also fix the docs",
                                 "commandMode": "prompt"}}
        teammate = {"type": "attachment", "attachment": {
            "type": "queued_command", "prompt": "from bob", "commandMode": "prompt",
            "origin": {"kind": "teammate"}}}
        path = self.write("q.jsonl", jsonl(user("go"), queued, teammate))
        messages = parse(path)
        self.assertEqual([(m["content"], m["kind"]) for m in messages],
                         [("go", "prompt"), ("also fix the docs", "queued")])
        self.assertEqual(messages[1]["timestamp"], "2026-01-01T00:00:03.000Z")

    def test_images_in_tool_results_are_placeholders(self):
        data = "A" * 4000
        path = self.write("r.jsonl", jsonl(
            assistant("m", {"type": "tool_use", "id": "t", "name": "Read", "input": {}}),
            result("t", [{"type": "image", "source": {"type": "base64",
                                                     "media_type": "image/jpeg",
                                                     "data": data}}])))
        (call,) = parse(path)[0]["tool_calls"]
        self.assertEqual(call["images"], [{"media_type": "image/jpeg", "bytes": 3000}])
        self.assertEqual(call["result"], "[image image/jpeg, 3000 bytes]")
        self.assertNotIn(data, json.dumps(call))

    def test_last_preview(self):
        messages = parse(scenario("bash-tool"))
        self.assertEqual(last_preview(messages), "TOOL-DONE")
        self.assertEqual(last_preview(messages[:2]), "Bash echo hello-from-bash")
        self.assertEqual(last_preview([]), "")


class FindTranscript(TmpDirCase):
    def setUp(self) -> None:
        super().setUp()
        self.paths = get_paths({"HOME": self.tmp})
        self.project = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj")
        os.makedirs(self.project)

    def test_finds_the_session_file_in_any_project_dir(self):
        sid = "a7eb8cd8-adda-4df2-92af-d1d572bd697f"
        path = os.path.join(self.project, sid + ".jsonl")
        shutil.copy(scenario("bash-tool"), path)
        self.assertEqual(find_transcript(self.paths, sid), path)
        self.assertEqual(parse(find_transcript(self.paths, sid), sid)[0]["id"],
                         "claude-a7eb8cd8-0")

    def test_missing_or_unsafe_ids_give_none(self):
        open(os.path.join(self.project, "a.jsonl"), "w").close()
        os.makedirs(os.path.join(self.tmp, ".claude", "x"))
        open(os.path.join(self.tmp, ".claude", "x.jsonl"), "w").close()
        for bad in ("../x", "..", "", "a/b", "nope", "[a]", "*", "a\0b", None):
            self.assertIsNone(find_transcript(self.paths, bad), repr(bad))

    def test_no_projects_dir_gives_none(self):
        shutil.rmtree(self.paths.claude_projects)
        self.assertIsNone(find_transcript(self.paths, "abc"))


if __name__ == "__main__":
    unittest.main()
