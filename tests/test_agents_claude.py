"""Tests for agents/claude/transcript.py: Claude Code transcripts as a user sees them in the dashboard.

Real transcripts only: the CLI 2.1.329 scenarios recorded for AMC (including channel messages and
replies) and the public fixtures (tests/fixtures/public/SOURCES.md), plus small synthetic files for
hostile input.
"""
import glob
import json
import logging
import os
import shutil
import tempfile
import unittest
import unittest.mock

from tests.support.builders import claude_assistant, claude_tool_result, claude_user, jsonl

from amc_server.agents.claude.transcript import ClaudeTranscript, find_transcript, last_preview
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
        path = self.write("t.jsonl",
                          jsonl(claude_user("one"), claude_assistant("first", msg_id="m1")))
        transcript = ClaudeTranscript(path, "s")
        self.assertEqual(len(transcript.refresh()), 2)
        self.write("t.jsonl", jsonl(claude_user("two")))
        self.assertEqual([m["content"] for m in transcript.refresh()], ["two"])


    def test_a_file_rewritten_in_place_is_reread_from_the_start(self):
        # Claude Code can rewrite a transcript whole (same inode, not shorter): what was read
        # before is gone, so the reader must not go on from its old offset
        path = self.write("t.jsonl",
                          jsonl(claude_user("one"), claude_assistant("first", msg_id="m1")))
        transcript = ClaudeTranscript(path, "s")
        self.assertEqual(len(transcript.refresh()), 2)
        inode = os.stat(path).st_ino
        with open(path, "r+b") as f:
            f.write(jsonl(claude_user("rewritten"), claude_assistant("anew", msg_id="m2"),
                          claude_user("and longer")))
        self.assertEqual(os.stat(path).st_ino, inode)
        generation = transcript.generation
        self.assertEqual([m["content"] for m in transcript.refresh()],
                         ["rewritten", "anew", "and longer"])
        self.assertEqual(transcript.generation, generation + 1)
        with open(path, "ab") as f:  # a plain append after that is read as an append
            f.write(jsonl(claude_user("appended")))
        self.assertEqual(transcript.refresh()[-1]["content"], "appended")
        self.assertEqual(transcript.generation, generation + 1)


class Rewinds(TmpDirCase):
    """After a rewind (double Esc, /rewind) the conversation is the branch the user is on."""

    SOURCE = "cc-2.1.42-progress-filehistory-03eb5929.jsonl"

    def prompts(self, messages):
        return [m["content"][:40] for m in messages if m["role"] == "user"]

    def test_the_abandoned_branch_is_not_shown(self):
        # Lines 18 and 38 of the 2.1.42 transcript both answer record eb84e3ee: the user went
        # back and asked again; Claude Code shows only the second branch
        transcript = ClaudeTranscript(public(self.SOURCE), "03eb5929")
        messages = transcript.refresh()
        self.assertFalse(any(p.startswith("I very much like this idea") for p in
                             self.prompts(messages)), self.prompts(messages))
        [again] = [m for m in messages if m.get("rewound")]
        self.assertTrue(again["content"].startswith("I actually don't like much this idea"))
        self.assertEqual(again["rewound"], 6)  # the abandoned prompt and what answered it
        self.assertEqual(len(self.prompts(messages)), 5)
        self.assertEqual([m["id"] for m in messages],
                         ["claude-03eb5929-%d" % n for n in range(len(messages))])

    def test_followed_across_the_rewind_it_equals_one_read(self):
        with open(public(self.SOURCE), "rb") as f:
            data = f.read()
        cut = sum(len(line) + 1 for line in data.split(b"\n")[:37])  # up to the second prompt
        _, (before, after) = Incremental.follow(self, public(self.SOURCE), [cut])
        self.assertTrue(any(p.startswith("I very much like this idea")
                            for p in self.prompts(before)))
        whole = ClaudeTranscript(public(self.SOURCE), "feedface").refresh()
        self.assertEqual(after, json.loads(json.dumps(whole)))

    def test_a_rewind_tells_followers_to_take_the_conversation_again(self):
        with open(public(self.SOURCE), "rb") as f:
            lines = f.read().split(b"\n")
        path = self.write("t.jsonl", b"\n".join(lines[:37]) + b"\n")
        transcript = ClaudeTranscript(path, "feedface")
        transcript.refresh()
        generation = transcript.generation
        with open(path, "ab") as f:
            f.write(b"\n".join(lines[37:]))
        transcript.refresh()
        self.assertEqual(transcript.generation, generation + 1)
        self.assertEqual(transcript.rewinds, 1)

    def test_local_commands_answering_one_record_are_not_a_rewind(self):
        # 1.0.43: /doctor, /status and /mcp each hang off the same caveat line
        transcript = ClaudeTranscript(public("cc-1.0.43-image-thinking-long-0d3a8e6f.jsonl"), "x")
        messages = transcript.refresh()
        self.assertEqual(transcript.rewinds, 0)
        shown = " ".join(m["content"] for m in messages if m["role"] == "user")
        for command in ("/doctor", "/status", "/mcp"):
            self.assertIn(command, shown)


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
                  claude_tool_result("toolu_unknown", [{"type": "image"}, "text"]),
                  {"type": "attachment", "attachment": "odd"}),
            b"x" * (2 * 1024 * 1024) + b"\n",  # a 2 MB line of garbage
            jsonl(claude_user("still here"), claude_assistant("yes", msg_id="m1")),
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
                                           claude_user("hi")))
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
            claude_user("go"),
            claude_assistant({"type": "thinking", "thinking": "", "signature": "s"},
                             msg_id="msg_1"),
            claude_assistant(text, msg_id="msg_1"), claude_assistant(text, tool, msg_id="msg_1"),
            claude_assistant(tool, msg_id="msg_1"),
            claude_tool_result("toolu_1", [{"type": "text", "text": "line1"}, {"type": "text",
                                                                              "text": "line2"}]),
            claude_assistant({"type": "tool_use", "id": "toolu_2", "name": "Grep", "input": {}},
                             msg_id="msg_1"),
            claude_tool_result("toolu_2", "boom", is_error=True),
            claude_assistant("Done.", msg_id="msg_2")))
        messages = parse(path)
        self.assertEqual([(m["role"], m["content"]) for m in messages],
                         [("user", "go"), ("assistant", "Looking."), ("assistant", "Done.")])
        calls = messages[1]["tool_calls"]
        self.assertEqual([(c["name"], c["result"], c["is_error"]) for c in calls],
                         [("Read", "line1\nline2", False), ("Grep", "boom", True)])
        self.assertEqual(messages[1]["thinking"], "")

    def test_injected_user_text_is_hidden_and_typed_text_kept(self):
        path = self.write("i.jsonl", jsonl(
            claude_user("<system-reminder>\nsecret\n</system-reminder>"),
            claude_user([{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                         {"type": "text", "text": "real prompt"}]),
            claude_user("expanded skill text", isMeta=True),
            claude_user("This session is being continued from a previous conversation...",
                        isCompactSummary=True),
            claude_user("<command-message>model</command-message>\n"
                        "<command-name>/model</command-name>\n<command-args>opus</command-args>"),
            claude_user("<local-command-stdout>Set model to opus</local-command-stdout>"),
            claude_user("<local-command-caveat>Caveat: ...</local-command-caveat>"),
            claude_user([{"type": "text", "text": "[Request interrupted by user]"}]),
            claude_user("<task-notification>done</task-notification>"),
            claude_user("sidechain prompt", isSidechain=True),
            claude_user("last <system-reminder>tail</system-reminder>")))
        messages = parse(path)
        self.assertEqual([(m["content"], m["kind"]) for m in messages],
                         [("real prompt", "prompt"), ("/model opus", "command"),
                          ("last", "prompt")])

    def test_interrupt_marks_the_assistant_message(self):
        path = self.write("x.jsonl", jsonl(
            claude_user("go"), claude_assistant("Working", msg_id="m"),
            claude_user([{"type": "text", "text": "[Request interrupted by user]"}])))
        self.assertIs(parse(path)[-1]["interrupted"], True)

    def test_queued_prompt_attachment_is_a_user_message(self):
        queued = {"type": "attachment", "timestamp": "2026-01-01T00:00:03.000Z",
                  "attachment": {"type": "queued_command", "prompt": "also fix the docs",
                                 "commandMode": "prompt"}}
        teammate = {"type": "attachment", "attachment": {
            "type": "queued_command", "prompt": "from bob", "commandMode": "prompt",
            "origin": {"kind": "teammate"}}}
        path = self.write("q.jsonl", jsonl(claude_user("go"), queued, teammate))
        messages = parse(path)
        self.assertEqual([(m["content"], m["kind"]) for m in messages],
                         [("go", "prompt"), ("also fix the docs", "queued")])
        self.assertEqual(messages[1]["timestamp"], "2026-01-01T00:00:03.000Z")

    def test_images_in_tool_results_are_placeholders(self):
        data = "A" * 4000
        path = self.write("r.jsonl", jsonl(
            claude_assistant({"type": "tool_use", "id": "t", "name": "Read", "input": {}},
                             msg_id="m"),
            claude_tool_result("t", [{"type": "image", "source": {"type": "base64",
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


CHANNEL_SESSION = "281e6079-0aa1-40d9-af4c-ed1c4e3dda8c"
HOSTILE_TEXT = '<script>alert(1)</script> & "quotes" <\\/channel> tail'


def dashboard(chat_id):
    return {"server": "amc", "chat_id": chat_id, "user": "dashboard"}


class ChannelScenario(unittest.TestCase):
    """Messages pushed through a channel named amc and the model's replies, as recorded with 2.1.329
    (tests/fixtures/claude-code-2.1.329/channel: idle, mid-turn, queued between turns, hostile)."""

    @classmethod
    def setUpClass(cls):
        cls.messages = parse(scenario("channel"), CHANNEL_SESSION)

    def test_the_conversation_a_user_reads(self):
        shape = [(m["role"], m.get("kind"), m["content"], m.get("channel_reply"))
                 for m in self.messages]
        reply = "CHANNEL-REPLY: "
        self.assertEqual(shape, [
            ("user", "channel", "hello from the page", None),
            ("assistant", None, "", reply + "hello from the page"),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "prompt", "BASH: sleep 2", None),
            ("assistant", None, "", None),
            ("user", "channel", "sent while you work", None),
            ("assistant", None, "", reply + "sent while you work"),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "prompt", "SLOW 2: thinking", None),
            ("assistant", None, "OK: SLOW 2: thinking", None),
            ("user", "channel", "queued after a text-only turn", None),
            ("assistant", None, "", reply + "queued after a text-only turn"),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "channel", HOSTILE_TEXT, None),
            ("assistant", None, "", reply + HOSTILE_TEXT),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "prompt", "BASH: touch allowed.txt", None),
            ("assistant", None, "", None),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "prompt", "BASH: touch denied.txt", None),
            ("assistant", None, "", None),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "prompt", "BASH: touch terminal.txt", None),
            ("assistant", None, "", None),
            ("assistant", None, "TOOL-DONE", None),
            ("user", "channel", "BASH: touch from-channel.txt", None),
            ("assistant", None, "", None),
            ("assistant", None, "TOOL-DONE", None)])

    def test_channel_messages_carry_server_chat_id_and_user(self):
        channel = [(m["id"], m["timestamp"], m["channel"], m.get("mid_turn", False))
                   for m in self.messages if m.get("kind") == "channel"]
        self.assertEqual(channel, [
            ("claude-281e6079-0", "2026-12-01T20:44:40.317Z", dashboard("amc-1796160000001"),
             False),
            ("claude-281e6079-5", "2026-12-01T20:44:43.403Z", dashboard("amc-1796160000002"),
             True),
            ("claude-281e6079-10", "2026-12-01T20:44:49.029Z", dashboard("amc-1796160000003"),
             False),
            ("claude-281e6079-13", "2026-12-01T20:44:50.723Z",
             {"server": "amc", "chat_id": "amc-1796160000004", "user": 'o"hara <x> & co'},
             False),
            ("claude-281e6079-25", "2026-12-01T20:45:01.392Z", dashboard("amc-1796160000005"),
             False)])

    def test_the_reply_call_is_kept_with_its_result(self):
        (call,) = self.messages[1]["tool_calls"]
        self.assertEqual(call, {"id": "toolu_mcp__amc0001", "name": "mcp__amc__reply",
                                "input": {"chat_id": "amc-1796160000001",
                                          "text": "CHANNEL-REPLY: hello from the page"},
                                "result": "sent", "is_error": False})

    def test_the_cli_wrappers_never_show(self):
        text = json.dumps(self.messages)
        for injected in ("A message arrived from", "IMPORTANT: This is NOT from your user",
                         "tools-used-before-summary", "<channel", "MCP Server Instructions",
                         "bad-key"):
            self.assertNotIn(injected, text)

    def test_denied_and_allowed_prompts_show_in_the_tool_results(self):
        calls = {c["input"]["command"]: c for m in self.messages for c in m["tool_calls"]
                 if c["name"] == "Bash"}
        self.assertEqual(calls["touch allowed.txt"]["result"], "(Bash completed with no output)")
        self.assertIs(calls["touch denied.txt"]["is_error"], True)
        self.assertTrue(calls["touch denied.txt"]["result"].endswith("Denied via channel amc"))
        self.assertIs(calls["touch from-channel.txt"]["is_error"], False)

    def test_last_preview_is_the_reply_text(self):
        self.assertEqual(last_preview(self.messages[:2]), "CHANNEL-REPLY: hello from the page")


def channel_line(content, **extra):
    """A user line as 2.1.329 writes a channel message."""
    return dict({"type": "user", "isMeta": True, "timestamp": "2026-01-01T00:00:05.000Z",
                 "origin": {"kind": "channel", "server": "amc"},
                 "message": {"role": "user", "content": content}}, **extra)


def absorbed(prompt, **att):
    """A queued_command attachment: a channel message absorbed into the running turn."""
    return {"type": "attachment", "timestamp": "2026-01-01T00:00:06.000Z", "attachment": dict({
        "type": "queued_command", "prompt": prompt, "commandMode": "prompt", "isMeta": True,
        "origin": {"kind": "channel", "server": "amc"}}, **att)}


def tag(text, **attrs):
    attributes = "".join(' %s="%s"' % kv for kv in attrs.items())
    return '<channel source="amc"%s>\n%s\n</channel>' % (attributes, text)


class ChannelHostileInput(TmpDirCase):
    """Channel lines that are odd, damaged or hostile: never raise, never lose the rest."""

    def messages(self, *records):
        path = self.write("c.jsonl", jsonl(*records, claude_user("after"),
                                          claude_assistant("still ok", msg_id="m9")))
        transcript = ClaudeTranscript(path, "chan")
        with quietly() as warnings:
            messages = transcript.refresh()
        self.assertEqual(transcript.skipped, 0)
        self.assertFalse([w for w in warnings.lines if "record skipped" in w], warnings.lines)
        self.assertEqual([(m["role"], m["content"]) for m in messages[-2:]],
                         [("user", "after"), ("assistant", "still ok")])
        return messages[:-2]

    def shown(self, *records):
        return [(m["content"], m.get("kind"), m.get("channel")) for m in self.messages(*records)]

    def test_missing_attributes_give_empty_strings(self):
        self.assertEqual(self.shown(channel_line("<channel>\nbare\n</channel>"),
                                    channel_line(tag("no chat", user="u"))), [
            ("bare", "channel", {"server": "amc", "chat_id": "", "user": ""}),
            ("no chat", "channel", {"server": "amc", "chat_id": "", "user": "u"})])

    def test_escaped_attributes_are_unescaped_and_text_kept_as_written(self):
        line = channel_line('<channel source="amc" chat_id="a&amp;b" user="&lt;img src=x '
                            'onerror=alert(1)&gt; &quot;q&quot; &apos;s&apos;">\n'
                            '<img src=x onerror=alert(1)> &amp; [x](javascript:alert(1))\n'
                            '</channel>')
        ((content, kind, channel),) = self.shown(line)
        self.assertEqual(content, "<img src=x onerror=alert(1)> &amp; [x](javascript:alert(1))")
        self.assertEqual(channel["chat_id"], "a&b")
        self.assertEqual(channel["user"], "<img src=x onerror=alert(1)> \"q\" 's'")

    def test_unterminated_tag_runs_to_the_end(self):
        line = channel_line('<channel source="amc" chat_id="c1">\ncut off')
        self.assertEqual(self.shown(line), [
            ("cut off", "channel", {"server": "amc", "chat_id": "c1", "user": ""})])

    def test_text_without_a_tag_is_shown_whole(self):
        self.assertEqual(self.shown(channel_line("plain words")),
                         [("plain words", "channel", {"server": "amc", "chat_id": "",
                                                      "user": ""})])

    def test_non_string_content_is_skipped(self):
        self.assertEqual(self.shown(
            channel_line(42), channel_line(None), channel_line({"text": "x"}),
            channel_line([7, None, {"type": "image"}, {"type": "text", "text": 5}]),
            channel_line(""), channel_line(tag("   ")),
            {"type": "user", "isMeta": True, "origin": {"kind": "channel"}, "message": "str"},
            absorbed(None), absorbed(42), absorbed(tag(""))), [])

    def test_content_blocks_and_several_tags(self):
        shown = self.shown(channel_line([
            {"type": "text", "text": tag("one", chat_id="c1") + tag("two", chat_id="c2")},
            "loose string", {"type": "image", "source": {}}]))
        self.assertEqual([(c, ch["chat_id"]) for c, _, ch in shown],
                         [("one", "c1"), ("two", "c2"), ("loose string", "")])

    def test_an_opening_tag_inside_the_text_stays_text(self):
        self.assertEqual(self.shown(channel_line(tag('see <channel source="x" chat_id="y">',
                                                     chat_id="c1"))),
                         [('see <channel source="x" chat_id="y">', "channel",
                           {"server": "amc", "chat_id": "c1", "user": ""})])

    def test_server_from_the_tag_when_origin_has_none(self):
        line = channel_line(tag("hi", chat_id="c1"), origin={"kind": "channel", "server": 5})
        self.assertEqual(self.shown(line)[0][2], {"server": "amc", "chat_id": "c1", "user": ""})
        other = channel_line('<channel source="telegram" chat_id="9">\nyo\n</channel>',
                             origin={"kind": "channel", "server": "plugin:telegram"})
        self.assertEqual(self.shown(other)[0][2]["server"], "plugin:telegram")

    def test_a_mid_turn_message_is_shown_once(self):
        wrapped = tag("while busy", chat_id="c7")
        messages = self.messages(claude_user("go"), absorbed(wrapped), channel_line(wrapped),
                                 channel_line(tag("while busy", chat_id="c8")))
        self.assertEqual([(m["content"], m.get("mid_turn"), m.get("channel", {}).get("chat_id"))
                          for m in messages],
                         [("go", None, None), ("while busy", True, "c7"),
                          ("while busy", None, "c8")])

    def test_a_tool_result_with_a_channel_origin_still_pairs(self):
        messages = self.messages(
            claude_assistant({"type": "tool_use", "id": "t1", "name": "Bash", "input": {}},
                             msg_id="m1"),
            dict(claude_tool_result("t1", "out"), origin={"kind": "channel", "server": "amc"}))
        self.assertEqual(messages[0]["tool_calls"][0]["result"], "out")
        self.assertEqual(len(messages), 1)

    def test_other_meta_lines_stay_hidden(self):
        self.assertEqual(self.shown(
            claude_user("<system-reminder>\n<tools-used-before-summary>mcp__amc__channel"
                        "</tools-used-before-summary>\n</system-reminder>", isMeta=True,
                        turnCompanion=True),
            claude_user("expanded skill", isMeta=True, origin={"kind": "human"}),
            absorbed("from a teammate", origin={"kind": "teammate"})), [])

    def test_reply_calls_of_any_channel_and_odd_inputs(self):
        def call(name, tool_input, n=[0]):
            n[0] += 1
            return {"type": "tool_use", "id": "t%d" % n[0], "name": name, "input": tool_input}
        messages = self.messages(
            claude_assistant(call("mcp__amc__reply", {"chat_id": "c1", "text": " hi \n"}),
                      call("mcp__plugin_telegram_telegram__reply", {"text": "two"}), msg_id="m1"),
            claude_assistant(call("mcp__amc__reply", {"text": 5}), call("mcp__amc__reply", None),
                      call("mcp__amc__reply", ["text"]), call("mcp__amc__reply", {"text": " "}),
                      call("mcp__amc__reply_all", {"text": "no"}), call("reply", {"text": "no"}),
                      call("mcp__amc__reply", {}), msg_id="m2"))
        self.assertEqual([m.get("channel_reply") for m in messages], ["hi\n\ntwo", None])
        self.assertEqual(len(messages[1]["tool_calls"]), 7)


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
