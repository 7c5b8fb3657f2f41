"""tests/recording/changes.py (what changed between two recordings) and the Codex recordings.

The comparison is checked on small recordings written here in the real shapes (a Claude transcript,
hooks.jsonl, screens.txt; a Codex rollout in the flat 0.169.0 layout), then on the real fixtures:
the Codex 0.169.0 -> 0.171.0 comparison, page 09 of the reference as `page()` writes it, and every
0.171.0 rollout read by AMC's Codex reader into what its scenario (tests/recording/codex.py) typed.
"""
import json
import logging
import os
import re
import shutil
import tempfile
import unittest
from typing import Any, Dict, List

from amc_server.agents.codex.transcript import CodexTranscript
from tests.recording import changes, codex
from tests.support.helpers import ROOT
from tests.recording.common import fixture_dir, recorded_versions

PAGE = os.path.join(ROOT, "docs", "claude-jsonl-reference", "09-changes-by-version.md")
CODEX_NEW = fixture_dir("codex", "0.171.0")
TEMP_PATH = re.compile(r"/tmp/amc-|amc-rec-codex-|amc-e2e-")


def assistant(usage: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    record = {"type": "assistant", "uuid": "u1", "version": "1.0.0", "isMeta": False,
              "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}],
                          "usage": usage}}
    record.update(extra)
    return record


def hook(event: str, **fields: Any) -> Dict[str, Any]:
    return {"tmux_pane": "%0", "payload": dict({"session_id": "s", "hook_event_name": event},
                                               **fields)}


SCREEN = """after 'BASH: echo hi':

❯ BASH: echo hi

  Ran 1 shell command

● TOOL-DONE

✻ Cogitated for 0s · done 11:38 PM
  12.3k tokens · 45% context · session 0d3a8e6f-290f-4105-a327-a2496e5e2a83
"""


class Dirs(unittest.TestCase):
    """Recordings written into a temporary tests/fixtures-like directory."""

    def setUp(self) -> None:
        self.root = tempfile.mkdtemp(prefix="amc-changes-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def write(self, recording: str, name: str, value: Any) -> str:
        path = os.path.join(self.root, recording, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            if isinstance(value, str):
                f.write(value)
            else:
                f.write("".join(json.dumps(v) + "\n" for v in value))
        return path

    def compare(self, old: str, new: str) -> changes.Report:
        return changes.compare(os.path.join(self.root, old), os.path.join(self.root, new))


class ClaudeChanges(Dirs):
    OLD, NEW = "claude-code-1.0.0", "claude-code-1.0.1"

    def base(self, recording: str, usage: Dict[str, Any], screen: str = SCREEN,
             is_meta: Any = False, hooks: List[Dict[str, Any]] = ()) -> None:
        self.write(recording, "bash-tool/transcript.jsonl", [
            {"type": "user", "version": "1.0.0", "message": {"role": "user", "content": "hi"}},
            assistant(usage, isMeta=is_meta),
            {"type": "system", "subtype": "turn_duration", "durationMs": 5}])
        self.write(recording, "bash-tool/hooks.jsonl", list(hooks) or [
            hook("SessionStart", source="startup"), hook("Notification", message="waiting")])
        self.write(recording, "bash-tool/screens.txt", screen)

    def test_the_same_recording_twice_has_nothing_to_report(self):
        self.base(self.OLD, {"input_tokens": 1})
        self.base(self.NEW, {"input_tokens": 1})
        report = self.compare(self.OLD, self.NEW)
        self.assertTrue(report.empty())
        self.assertIn("nothing changed", report.text())

    def test_new_record_type_new_field_and_a_type_change_are_named(self):
        self.base(self.OLD, {"input_tokens": 1}, is_meta=0)
        self.base(self.NEW, {"input_tokens": 1, "cache_creation": {"ephemeral_5m_input_tokens": 3}},
                  is_meta=True)
        with open(os.path.join(self.root, self.NEW, "bash-tool/transcript.jsonl"), "a") as f:
            f.write(json.dumps({"type": "attachment", "attachment": {"type": "date"}}) + "\n")
            f.write(json.dumps({"type": "system", "subtype": "api_retry"}) + "\n")
        report = self.compare(self.OLD, self.NEW)
        self.assertEqual(report.records.new, ["attachment/date", "system/api_retry"])
        self.assertEqual(report.records.gone, [])
        self.assertIn(("message.usage.cache_creation.ephemeral_5m_input_tokens", "number"),
                      report.records.fields_new["assistant"])
        self.assertIn(("message.usage.cache_creation", "object"),
                      report.records.fields_new["assistant"])
        self.assertEqual(report.records.fields_changed["assistant"],
                         [("isMeta", "number", "bool")])
        text = report.text()
        self.assertIn("types new: attachment/date, system/api_retry", text)
        self.assertIn("isMeta number -> bool", text)
        self.assertIn("`message.usage.cache_creation.ephemeral_5m_input_tokens` (number)",
                      report.markdown())

    def test_a_hook_event_gone_and_a_new_hook_field(self):
        self.base(self.OLD, {"input_tokens": 1})
        self.base(self.NEW, {"input_tokens": 1}, hooks=[
            hook("SessionStart", source="startup", model="m")])
        report = self.compare(self.OLD, self.NEW)
        self.assertEqual(report.hooks.gone, ["Notification"])
        self.assertEqual(report.hooks.new, [])
        self.assertEqual(report.hooks.fields_new, {"SessionStart": [("model", "string")]})
        self.assertIn("events gone: Notification", report.text())

    def test_a_changed_screen_is_a_short_diff(self):
        self.base(self.OLD, {"input_tokens": 1})
        self.base(self.NEW, {"input_tokens": 1},
                  screen=SCREEN.replace("Ran 1 shell command", "Ran echo hi"))
        report = self.compare(self.OLD, self.NEW)
        diff = report.screens["bash-tool"]
        self.assertIn("-  Ran 1 shell command", diff)
        self.assertIn("+  Ran echo hi", diff)
        self.assertLess(len(diff), 12)
        self.assertIn("```diff\n", report.markdown())
        self.assertNotIn("```json", report.markdown())  # page 09 holds no uncaptioned JSON

    def test_times_durations_token_counts_and_ids_are_not_changes(self):
        self.base(self.OLD, {"input_tokens": 1})
        volatile = (SCREEN.replace("11:38 PM", "9:02 AM").replace("0s", "1m 12s")
                    .replace("12.3k tokens", "980 tokens").replace("45%", "7%")
                    .replace("0d3a8e6f-290f-4105-a327-a2496e5e2a83",
                             "11111111-2222-4333-8444-555555555555")
                    .replace("Cogitated", "Baked"))
        self.assertNotEqual(volatile, SCREEN)
        self.base(self.NEW, {"input_tokens": 12345}, screen=volatile + "\n\n\n")
        report = self.compare(self.OLD, self.NEW)
        self.assertEqual(report.screens, {})
        self.assertTrue(report.empty(), report.text())

    def test_a_new_scenario_is_listed_apart_not_as_new_record_types(self):
        self.base(self.OLD, {"input_tokens": 1})
        self.base(self.NEW, {"input_tokens": 1})
        self.write(self.NEW, "compact/transcript.jsonl", [
            {"type": "system", "subtype": "compact_boundary", "version": "1.0.1"}])
        report = self.compare(self.OLD, self.NEW)
        self.assertEqual(report.scenarios_new, ["compact"])
        self.assertEqual(report.records.new, [])
        self.assertEqual(report.types_in_new_scenarios, {"system/compact_boundary": "compact"})

    def test_registry_keys_and_mcp_methods(self):
        for recording, extra, method in ((self.OLD, {}, "initialize"),
                                         (self.NEW, {"peerProtocol": 1}, "server/discover")):
            self.base(recording, {"input_tokens": 1})
            self.write(recording, "bash-tool/sessions-registry.json",
                       json.dumps(dict({"pid": 1, "sessionId": "s"}, **extra)))
            self.write(recording, "channel/mcp.jsonl", [
                {"t": 0.1, "dir": "env", "msg": {"TMUX": "x"}},
                {"t": 0.2, "dir": "cli->channel", "msg": {"jsonrpc": "2.0", "method": method}}])
        report = self.compare(self.OLD, self.NEW)
        self.assertEqual(report.registry_new, ["peerProtocol"])
        self.assertEqual(report.mcp_new, ["cli->channel server/discover"])
        self.assertEqual(report.mcp_gone, ["cli->channel initialize"])


class CodexLegacyLayout(Dirs):
    """The flat 0.169.0 layout is mapped onto scenario names."""

    def rollout(self, extra: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [{"type": "session_meta", "payload": {"cli_version": "0.1.0", "id": "x"}},
                {"type": "event_msg", "payload": dict({"type": "task_complete"}, **extra)}]

    def test_flat_files_compare_with_scenario_dirs(self):
        trust = "\n  Folder access\n  /home/dev/work/fresh-proj\n\n\u203a 1. Trust and continue\n"
        self.write("codex-0.1.0", "codex-0.1.0-exec-text-only.jsonl", self.rollout({}))
        self.write("codex-0.1.0", "codex-0.1.0-tui-trust-screen.txt", trust)
        self.write("codex-0.1.0", "codex-0.1.0-hook-payloads.jsonl", [
            {"event": "Stop", "stdin": {"hook_event_name": "Stop", "turn_id": "t"}}])
        self.write("codex-0.2.0", "exec-text-only/rollout.jsonl", self.rollout({"took_ms": 3}))
        self.write("codex-0.2.0", "tui-trust-screen/screens.txt",
                   "%s:\n%s" % (codex.TRUST_LABEL, trust))
        self.write("codex-0.2.0", "exec-text-only/hooks.jsonl", [
            {"event": "Stop", "stdin": {"hook_event_name": "Stop", "turn_id": "t"}},
            {"event": "Interrupt", "stdin": {"hook_event_name": "Interrupt"}}])
        report = self.compare("codex-0.1.0", "codex-0.2.0")
        self.assertEqual((report.cli, report.old_version, report.new_version),
                         ("codex", "0.1.0", "0.2.0"))
        self.assertEqual(report.scenarios_new, [])
        self.assertEqual(report.records.fields_new,
                         {"event_msg/task_complete": [("payload.took_ms", "number")]})
        self.assertEqual(report.screens, {})
        self.assertEqual(report.hooks.new, ["Interrupt"])
        self.assertTrue(report.text().startswith("Codex 0.1.0 -> 0.2.0\n"))


class RealRecordings(unittest.TestCase):
    def test_codex_0_169_to_0_171(self):
        report = changes.compare(fixture_dir("codex", "0.169.0"), CODEX_NEW)
        self.assertEqual(report.records.new, [])
        self.assertEqual(report.records.gone, [])
        self.assertIn(("metadata.model_search_state", "string"),
                      report.records.fields_new["response_item/message"])
        self.assertEqual((report.hooks.new, report.hooks.gone), ([], []))
        self.assertNotIn("tui-trust-screen", report.screens)  # the same screen, once normalised
        self.assertEqual(report.screens_new, ["tui-approval-reasoning-stream-error",
                                              "tui-multiturn-interrupt"])

    def test_every_recorded_pair_compares_and_page_09_is_current(self):
        for cli in ("claude", "codex"):
            versions = recorded_versions(cli)
            for old, new in zip(versions, versions[1:]):
                with self.subTest(cli=cli, old=old, new=new):
                    report = changes.compare(fixture_dir(cli, old), fixture_dir(cli, new))
                    self.assertTrue(report.text().startswith(report.title()))
        # a recording compared with itself: the real 2.1.329 recordings, every kind of file
        same = changes.compare(fixture_dir("claude", "2.1.329"), fixture_dir("claude", "2.1.329"))
        self.assertTrue(same.empty(), same.text())
        page = changes.page()
        self.assertIn("### Codex 0.169.0 \u2192 0.171.0", page)
        self.assertRegex(page, r"\| Codex \| `session_meta` \| 0\.\d+[^|]* \| `public/codex/")
        self.assertRegex(page, r"\| Claude Code \| `assistant` \| 1\.0\.\d+ \|")
        with open(PAGE, encoding="utf-8") as f:
            self.assertEqual(f.read(), page, "docs/claude-jsonl-reference/09-changes-by-version"
                             ".md is stale: python3 -m tests.recording.changes --page")


@unittest.skipUnless(os.path.isdir(CODEX_NEW), "no Codex 0.171.0 recording")
class CodexRecordings(unittest.TestCase):
    """Each 0.171.0 scenario recorded its files, with no temporary path left, and AMC's Codex
    reader makes of its rollout what the scenario typed."""

    def setUp(self) -> None:
        logger = logging.getLogger("amc.agents")
        level, logger.level = logger.level, logging.CRITICAL
        self.addCleanup(setattr, logger, "level", level)

    def test_every_scenario_has_its_files_and_no_temporary_paths(self):
        self.assertEqual(sorted(os.listdir(CODEX_NEW)), sorted(codex.SCENARIOS))
        for name in codex.SCENARIOS:
            files = set(os.listdir(os.path.join(CODEX_NEW, name)))
            wanted = {"screens.txt"} if name == "tui-trust-screen" else \
                {"rollout.jsonl", "hooks.jsonl", "notify.jsonl"}
            if name.startswith("tui-"):
                wanted.add("screens.txt")
            self.assertEqual(files, wanted, name)
            for file in files:
                with open(os.path.join(CODEX_NEW, name, file), encoding="utf-8") as f:
                    text = f.read()
                self.assertIsNone(TEMP_PATH.search(text), "%s/%s" % (name, file))
                self.assertNotIn(os.path.realpath(tempfile.gettempdir()) + "/amc", text)
        with open(os.path.join(CODEX_NEW, "tui-trust-screen", "screens.txt")) as f:
            self.assertIn("/home/dev/work/fresh-proj", f.read())

    def test_the_reader_reads_what_each_scenario_typed(self):
        for name, script in codex.SCRIPTED.items():
            path = os.path.join(CODEX_NEW, name, "rollout.jsonl")
            if not script["prompts"]:
                self.assertFalse(os.path.exists(path), name)
                continue
            with self.subTest(scenario=name):
                t = CodexTranscript(path, name)
                t.refresh()
                said = [(m["role"], m["content"]) for m in t.messages if m["content"]]
                self.assertEqual([c for r, c in said if r == "user"], script["prompts"])
                replies = [m for m in t.messages if m["role"] == "assistant" and m["content"]
                           and not m.get("is_error")]
                self.assertEqual(len(replies), len(script["replies"]), said)
                for got, wanted in zip(replies, script["replies"]):
                    self.assertTrue(got["content"].startswith(wanted), (got["content"], wanted))
                calls = [c for m in t.messages for c in m["tool_calls"]]
                self.assertEqual([c["name"] for c in calls], [n for n, _ in script["tools"]])
                for call, (_, text) in zip(calls, script["tools"]):
                    self.assertIn(text, json.dumps(call["input"]).replace("\\n", "\n"))
                    self.assertIs(call["is_error"], False)
                    self.assertTrue(call["result"])
                errors = [m["content"] for m in t.messages if m.get("is_error")]
                self.assertEqual(len(errors), 1 if script.get("error") else 0, errors)
                if script.get("error"):
                    self.assertIn(script["error"], errors[0])
                if script.get("thinking"):
                    self.assertEqual(t.messages[-1]["thinking"], script["thinking"])
                self.assertEqual(t.messages[-1].get("interrupted") is True,
                                 bool(script.get("interrupted")))
                self.assertFalse(t.busy)
                self.assertEqual(t.meta["cli_version"], "0.171.0")

    def test_hook_and_notify_payloads_are_the_raw_ones(self):
        with open(os.path.join(CODEX_NEW, "tui-multiturn-interrupt", "hooks.jsonl")) as f:
            hooks = [json.loads(line) for line in f]
        events = [h["event"] for h in hooks]
        self.assertEqual(events[0], "SessionStart")
        self.assertEqual(events[-2:], ["Interrupt", "SessionEnd"])
        self.assertEqual(events.count("UserPromptSubmit"), 6)
        self.assertTrue(all(h["stdin"]["hook_event_name"] == h["event"] for h in hooks))
        with open(os.path.join(CODEX_NEW, "exec-apply-patch", "notify.jsonl")) as f:
            (notify,) = [json.loads(line) for line in f]
        self.assertEqual((notify["type"], notify["client"], notify["input-messages"]),
                         ("agent-turn-complete", "codex_exec", ["PATCH: update the greeting"]))


if __name__ == "__main__":
    unittest.main()
