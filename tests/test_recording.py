"""The fixture recorder (tests/record_fixtures.py, tests/recording/) and the 2.1.332 recordings.

The recorder's parts that can go wrong without a CLI: the sandbox's paths rewritten in a real
recorded file (HOME, its Claude project-dir spelling, TMPDIR, AMC's data dir, the checkout), the
command line, and a failing scenario reported while the others are kept (a scenario table
injected). Then the recordings themselves: every Claude Code 2.1.332 scenario has its files, no
temporary path, and AMC's reader gets from its transcript the prompts and replies it scripted.
"""
import io
import json
import os
import re
import shutil
import tempfile
import unittest
import unittest.mock
from typing import Any, Dict, List

from amc_server.agents.claude.transcript import ClaudeTranscript
from tests import record_fixtures
from tests.support.agentenv import AgentHome
from tests.support.fakemodel_rules import PROSE_REPLY
from tests.support.helpers import ROOT
from tests.recording.claude_session import map_sandbox, session_id_for
from tests.recording.common import Recording, claude_project_name, fixture_dir

VERSION = "2.1.332"
FIXTURES = fixture_dir("claude", VERSION)
FILES = ("transcript.jsonl", "hooks.jsonl", "screens.txt", "sessions-registry.json")
EXTRA_FILES = {"channel": ("mcp.jsonl",),
               "subagents": ("running/transcript.jsonl", "running/hooks.jsonl")}
TEMP_PATH = re.compile(r"/tmp\b|amc-rec-|amc-e2e-|amc-test-\d|%s" % re.escape(ROOT))
CHANNEL_TEXTS = ["hello from the page", "sent while you work", "queued after a text-only turn",
                 '<script>alert(1)</script> & "quotes" </channel> tail',
                 "BASH: touch from-channel.txt"]
# what the CLI makes of a closing tag inside a message (it keeps the tag unbroken), AMC shows as is
AS_WRITTEN = [t.replace("</channel", "<\\/channel") for t in CHANNEL_TEXTS]
# scenario -> (the prompts typed, in order; the start of each scripted reply, in order)
SCRIPTED = {
    "bash-tool": (["BASH: echo hello-from-bash"], ["TOOL-DONE"]),
    "permission-prompt": (["BASH: touch made-by-agent.txt"], ["TOOL-DONE"]),
    "ask-option": (["ASK: Which database should we use?"],
                   ['ANSWER-RECEIVED: Your questions have been answered: '
                    '"Which database should we use?"="Beta"']),
    "ask-freeform": (["ASK: Which color should the button be?"],
                     ['ANSWER-RECEIVED: The user answered: "Which color should the button be?"='
                      '"teal with a dark border"']),
    "chat-and-prose-question": (["hello there", "PROSE? what next"],
                                ["OK: hello there", PROSE_REPLY]),
    "tool-views": (["%s: please" % k for k in ("WRITE", "EDIT", "READ", "IMAGE", "COLOR", "FETCH")],
                   ["Running Write.", "TOOL-DONE", "Running Edit.", "TOOL-DONE", "Running Read.",
                    "TOOL-DONE", "Running Read.", "TOOL-DONE", "Running Bash.", "TOOL-DONE",
                    "Running WebFetch.", "TOOL-DONE"]),
    "subagents": (["AGENTS: run two"], ["Starting two subagents.", "SUBAGENT-NOTED"]),
    "channel": (["BASH: sleep 2", "SLOW 2: thinking", "BASH: touch allowed.txt",
                 "BASH: touch denied.txt", "BASH: touch terminal.txt"],
                ["TOOL-DONE", "OK: SLOW 2: thinking", "TOOL-DONE"]),
    "parallel-tools": (["PARALLEL: run two"], ["Running two commands.", "TOOL-DONE"]),
    "interrupt": (["BASH: sleep 30", "BASH: sleep 5", "after the interrupt"], ["TOOL-DONE"]),
    "compact": (["hello there", "/compact", "after the compaction"],
                ["OK: hello there", "OK: after the compaction"]),
}


def read_messages(scenario: str) -> List[Dict[str, Any]]:
    """Return AMC's messages for a recorded scenario's transcript."""
    path = os.path.join(FIXTURES, scenario, "transcript.jsonl")
    return ClaudeTranscript(path, session_id_for(scenario), clip=False).refresh()


class PathRewriting(unittest.TestCase):
    """The sandbox's paths in a real recorded file come out as the fixtures' /home/dev ones."""

    def test_a_recorded_transcript_written_from_its_sandbox_paths_has_only_home_dev(self) -> None:
        with open(os.path.join(FIXTURES, "subagents", "transcript.jsonl"), encoding="utf-8") as f:
            recorded = f.read()
        home = AgentHome(prefix="amc-rec-")
        self.addCleanup(home.cleanup)
        tmpdir = os.path.join(home.root, "tmp")
        project = os.path.join(home.home, "work", "demo-proj")
        # what the CLI wrote in the sandbox: the recording with its paths put back
        raw = (recorded.replace(claude_project_name("/home/dev/work/demo-proj"),
                                claude_project_name(project))
               .replace("/home/dev/.tmp", tmpdir).replace("/home/dev", home.home))
        self.assertIn(tmpdir, raw)  # the file does carry the task outputs' TMPDIR paths
        self.assertIn(claude_project_name(project), raw)
        out_dir = tempfile.mkdtemp(prefix="amc-test-rec-")
        self.addCleanup(shutil.rmtree, out_dir, True)
        out = Recording(out_dir)
        map_sandbox(out, home, tmpdir)
        with open(os.path.join(out_dir, "raw.jsonl"), "w", encoding="utf-8") as f:
            f.write(raw)
        written = out.write_file("transcript.jsonl", os.path.join(out_dir, "raw.jsonl"))
        with open(written, encoding="utf-8") as f:
            self.assertEqual(f.read(), recorded)

    def test_the_checkout_and_data_dir_are_rewritten_longest_first(self) -> None:
        home = AgentHome(prefix="amc-rec-")
        self.addCleanup(home.cleanup)
        out = Recording(home.root)
        map_sandbox(out, home, os.path.join(home.root, "tmp"))
        text = out.clean("%s/bin/amc-hook %s/events %s/x" % (ROOT, home.data_dir, home.root))
        self.assertEqual(text, "/home/dev/src/amc/bin/amc-hook /home/dev/.local/share/amc/events"
                               " /home/dev/x")


class CommandLine(unittest.TestCase):
    """tests/record_fixtures.py's arguments and its report when a scenario fails."""

    def setUp(self) -> None:
        self.out = tempfile.mkdtemp(prefix="amc-test-rec-")
        self.addCleanup(shutil.rmtree, self.out, True)

    def test_defaults_and_repeated_scenarios(self) -> None:
        args = record_fixtures.parse_args([])
        self.assertEqual((args.cli, args.scenario, args.out, args.page), ("all", [], None, False))
        args = record_fixtures.parse_args(["--cli", "claude", "--scenario", "a", "b",
                                           "--scenario", "c", "--out", "/x", "--page"])
        self.assertEqual((args.cli, args.scenario, args.out, args.page),
                         ("claude", ["a", "b", "c"], "/x", True))

    def test_an_unknown_cli_is_refused(self) -> None:
        with self.assertRaises(SystemExit) as caught, \
                unittest.mock.patch("sys.stderr", io.StringIO()):
            record_fixtures.parse_args(["--cli", "gemini"])
        self.assertEqual(caught.exception.code, 2)

    def test_an_unknown_scenario_is_refused_before_recording_anything(self) -> None:
        ran = []
        table = {"claude": {"one": lambda out: ran.append("one")}}
        with unittest.mock.patch("sys.stderr", io.StringIO()) as err:
            code = record_fixtures.main(["--cli", "claude", "--scenario", "nope", "--out",
                                         self.out], tables=table, stream=io.StringIO())
        self.assertEqual((code, ran), (2, []))
        self.assertIn("unknown scenario(s): nope (known: one)", err.getvalue())

    def test_a_failing_scenario_is_reported_and_the_others_kept(self) -> None:
        def good(out: Recording) -> None:
            out.write("transcript.jsonl", "{}\n")

        def bad(out: Recording) -> None:
            out.write("transcript.jsonl", "half\n")
            raise AssertionError("the dialog never appeared")
        old = os.path.join(self.out, "bad")
        os.makedirs(old)
        with open(os.path.join(old, "transcript.jsonl"), "w") as f:
            f.write("the previous recording\n")
        stream = io.StringIO()
        code = record_fixtures.main(["--cli", "claude", "--out", self.out],
                                    tables={"claude": {"first": good, "bad": bad, "last": good}},
                                    stream=stream, versions={"claude": "0.0.1"})
        self.assertEqual(code, 1, stream.getvalue())
        report = stream.getvalue()
        self.assertRegex(report, r"ok +first ")
        self.assertRegex(report, r"FAILED bad .*the dialog never appeared")
        self.assertRegex(report, r"ok +last ")
        self.assertIn("claude/bad: AssertionError: the dialog never appeared", report)
        self.assertEqual(sorted(os.listdir(self.out)), ["bad", "first", "last"])  # no scratch
        with open(os.path.join(old, "transcript.jsonl")) as f:
            self.assertEqual(f.read(), "the previous recording\n")
        with open(os.path.join(self.out, "last", "transcript.jsonl")) as f:
            self.assertEqual(f.read(), "{}\n")

    def test_only_the_named_scenarios_run(self) -> None:
        ran = []
        table = {"claude": {n: (lambda n: lambda out: (ran.append(n), out.write("f", n)))(n)
                            for n in ("a", "b", "c")}}
        code = record_fixtures.main(["--cli", "claude", "--scenario", "c", "a", "--out",
                                     self.out], tables=table, stream=io.StringIO(),
                                    versions={"claude": "0.0.1"})
        self.assertEqual((code, ran, sorted(os.listdir(self.out))), (0, ["a", "c"], ["a", "c"]))

    def test_the_previous_version_is_the_newest_older_one(self) -> None:
        self.assertEqual(record_fixtures.previous_version("claude", VERSION), "2.1.329")
        self.assertIsNone(record_fixtures.previous_version("claude", "0.0.1"))


class ReferenceStep(unittest.TestCase):
    """--reference re-cuts the examples and says which pages no longer hold."""

    def test_true_pages_hold_and_an_untrue_one_is_named(self) -> None:
        from tests import reference
        out = io.StringIO()
        self.assertTrue(record_fixtures.refresh_reference([], out))
        self.assertIn("every example holds", out.getvalue())
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "01-x.md"), "w", encoding="utf-8") as f:
                f.write("Example: `claude-code-2.1.332/bash-tool/transcript.jsonl` line 5 "
                        "(Claude Code 2.1.332) \u00b7 type `assistant`\n```json\n{}\n```\n")
            out = io.StringIO()
            with unittest.mock.patch.object(reference, "REFERENCE", tmp):
                self.assertFalse(record_fixtures.refresh_reference([], out))
        self.assertIn("type 'user', the page says 'assistant'", out.getvalue())
        self.assertIn("fix the pages above", out.getvalue())

    def test_a_move_re_cuts_an_example_from_the_new_recording(self) -> None:
        from tests import reference
        with tempfile.TemporaryDirectory() as tmp:
            page = os.path.join(tmp, "01-x.md")
            with open(page, "w", encoding="utf-8") as f:
                f.write("Example: `claude-code-2.1.329/bash-tool/transcript.jsonl` line 5 "
                        "(Claude Code 2.1.329) \u00b7 type `user`\n```json\n"
                        '{"type": "user", "version": "2.1.329"}\n```\n')
            out = io.StringIO()
            with unittest.mock.patch.object(reference, "REFERENCE", tmp):
                self.assertTrue(record_fixtures.refresh_reference(
                    [("claude-code-2.1.329", "claude-code-2.1.332")], out))
            with open(page, encoding="utf-8") as f:
                text = f.read()
        self.assertIn("`claude-code-2.1.332/bash-tool/transcript.jsonl` line", text)
        self.assertIn('"version": "2.1.332"', text)
        self.assertIn("1 example(s) from claude-code-2.1.329", out.getvalue())


class Recordings(unittest.TestCase):
    """The Claude Code 2.1.332 recordings: complete, clean, and read back as scripted."""

    def test_every_scenario_was_recorded(self) -> None:
        from tests.recording.claude import SCENARIOS
        self.assertEqual(sorted(SCENARIOS), sorted(SCRIPTED))
        self.assertEqual(sorted(n for n in os.listdir(FIXTURES) if not n.startswith(".")),
                         sorted(SCENARIOS))

    def test_each_scenario_has_its_files_and_no_temporary_paths(self) -> None:
        for scenario in SCRIPTED:
            with self.subTest(scenario):
                folder = os.path.join(FIXTURES, scenario)
                for name in FILES + EXTRA_FILES.get(scenario, ()):
                    path = os.path.join(folder, name)
                    self.assertTrue(os.path.isfile(path) and os.path.getsize(path), path)
                for parent, _dirs, files in os.walk(folder):
                    for name in files:
                        with open(os.path.join(parent, name), encoding="utf-8") as f:
                            text = f.read()
                        found = TEMP_PATH.search(text)
                        self.assertIsNone(found, "%s/%s: %r" % (parent, name, found and
                                          text[max(0, found.start() - 60):found.end() + 60]))

    def test_the_hooks_are_amc_event_log_lines_of_the_fixed_session(self) -> None:
        for scenario in SCRIPTED:
            with self.subTest(scenario):
                with open(os.path.join(FIXTURES, scenario, "hooks.jsonl")) as f:
                    lines = [json.loads(line) for line in f]
                self.assertEqual(lines[0]["payload"]["hook_event_name"], "SessionStart")
                self.assertEqual({line["payload"]["session_id"] for line in lines},
                                 {session_id_for(scenario)})
                self.assertEqual({line["tmux_pane"] for line in lines}, {"%0"})

    def test_amc_reads_the_prompts_and_replies_each_scenario_scripted(self) -> None:
        for scenario, (prompts, replies) in SCRIPTED.items():
            with self.subTest(scenario):
                messages = read_messages(scenario)
                users = [m["content"] for m in messages
                         if m["role"] == "user" and m.get("kind") != "channel" and m["content"]]
                self.assertEqual(users, prompts)
                said = [m["content"] for m in messages if m["role"] == "assistant"
                        and m["content"]]
                at = 0
                for text in said:  # each scripted reply, in order (others may come between)
                    if at < len(replies) and text.startswith(replies[at]):
                        at += 1
                self.assertEqual(at, len(replies), "wanted %s in order in %s" % (replies, said))

    def test_the_channel_messages_and_their_replies(self) -> None:
        messages = read_messages("channel")
        sent = [m["content"] for m in messages if m.get("kind") == "channel"]
        self.assertEqual(sent, AS_WRITTEN)
        replies = [m["channel_reply"] for m in messages if m.get("channel_reply")]
        self.assertEqual(replies, ["CHANNEL-REPLY: " + t for t in AS_WRITTEN[:4]])

    def test_two_tool_calls_of_one_message_both_have_results(self) -> None:
        calls = [m["tool_calls"] for m in read_messages("parallel-tools")
                 if m["tool_calls"]]
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual([(c["name"], c["input"]["command"], c.get("is_error")) for c in calls[0]],
                         [("Bash", "echo one", False), ("Bash", "echo two", False)])
        self.assertEqual([c["result"].strip() for c in calls[0]], ["one", "two"])

    def test_subagents_were_caught_running_and_finished(self) -> None:
        folder = os.path.join(FIXTURES, "subagents")
        for sub in ("subagents", "running/subagents"):
            metas = sorted(n for n in os.listdir(os.path.join(folder, sub))
                           if n.endswith(".meta.json"))
            self.assertEqual(len(metas), 2, sub)
        calls = [c for m in read_messages("subagents") for c in m["tool_calls"]]
        self.assertEqual([c["name"] for c in calls], ["Agent", "Agent"])


if __name__ == "__main__":
    unittest.main()
