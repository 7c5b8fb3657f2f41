"""docs/claude-jsonl-reference/: every example still parses the way its page says.

The examples are checked against the fixtures they were cut from (tests/reference.py): the record
type, the fields the page names and what AMC's readers make of the lines. So re-recording the
fixtures with a new CLI version, or changing a reader, shows up here as the page it makes untrue.
The Python snippets of the quick reference are run against the fixtures too.
"""
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import unittest

from tests import reference
from tests.support.helpers import ROOT

PAGES = ("01-format-specification.md", "02-message-types.md", "03-tool-lifecycle.md",
         "04-subagent-teams.md", "05-edge-cases.md", "06-quick-reference.md",
         "07-codex-rollouts.md", "08-hooks.md", "09-changes-by-version.md")
JSON_BLOCK = re.compile(r"^```jsonl?\s*$")
PY_BLOCK = re.compile(r"^```python\s*\n(.*?)^```\s*$", re.M | re.S)
TRANSCRIPT = "claude-code-2.1.329/bash-tool/transcript.jsonl"


class ThePages(unittest.TestCase):
    def test_every_page_is_there_and_linked_from_the_index(self):
        with open(os.path.join(reference.REFERENCE, "README.md"), encoding="utf-8") as f:
            index = f.read()
        for name in PAGES:
            self.assertTrue(os.path.exists(os.path.join(reference.REFERENCE, name)), name)
            self.assertIn("(%s)" % name, index)

    def test_every_example_matches_its_fixture_and_reader(self):
        total = 0
        for page in reference.pages():
            count, problems = reference.check_page(page)
            total += count
            self.assertEqual(problems, [], "\n".join(problems))
        self.assertGreater(total, 60)  # the reference is made of real examples

    def test_every_json_block_is_a_captioned_example(self):
        for page in reference.pages():
            with open(page, encoding="utf-8") as f:
                lines = f.read().split("\n")
            captioned = {e.block_line - 1 for e in reference.examples(page)}
            for n, line in enumerate(lines, 1):
                if JSON_BLOCK.match(line.strip()):
                    self.assertIn(n, captioned, "%s:%d: a JSON block with no Example: "
                                  "caption" % (os.path.relpath(page, ROOT), n))

    def test_the_pages_with_examples_say_which_cli_wrote_them(self):
        for name in PAGES[:5] + PAGES[6:8]:
            found = list(reference.examples(os.path.join(reference.REFERENCE, name)))
            self.assertGreaterEqual(len(found), 4, name)
            for example in found:
                self.assertRegex(example.cli, r"^(Claude Code|Codex) ", "%s:%d" % (
                    name, example.line))

    def test_the_python_snippets_run_on_the_fixtures(self):
        for page in reference.pages():
            with open(page, encoding="utf-8") as f:
                snippets = PY_BLOCK.findall(f.read())
            for snippet in snippets:
                out = subprocess.run([sys.executable, "-c", snippet], cwd=reference.FIXTURES,
                                     capture_output=True, text=True, timeout=60)
                self.assertEqual(out.returncode, 0, "%s:\n%s\n%s" % (
                    os.path.basename(page), snippet, out.stderr[-2000:]))


class WhatTheNewestRecordingsShow(unittest.TestCase):
    """Every record type and hook event the pinned CLIs wrote in AMC's newest recordings has an
    example on its page: a re-recording that brings a new one fails here until it is written up."""

    def kinds_in(self, directory, kind):
        found = {}
        for base, _, names in os.walk(os.path.join(reference.FIXTURES, directory)):
            for name in sorted(names):
                rel = os.path.relpath(os.path.join(base, name), reference.FIXTURES)
                if not name.endswith(".jsonl") or reference.kind_of(rel) != kind:
                    continue
                with open(os.path.join(base, name), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        try:
                            record = json.loads(line)
                        except ValueError:
                            continue
                        found.setdefault(reference.type_of(kind, record, "x/y"),
                                         "%s:%d" % (rel, n))
        return found

    def shown_on(self, page, kind):
        shown = set()
        for example in reference.examples(os.path.join(reference.REFERENCE, page)):
            if reference.kind_of(example.path) == kind:
                for record in reference.source_records(example.path, example.first,
                                                       example.last):
                    shown.add(reference.type_of(kind, record, "x/y"))
        return shown

    def assert_covered(self, cli, kind, page):
        newest = recorded_newest(cli)
        found = self.kinds_in(newest, kind)
        self.assertTrue(found, newest)
        missing = {t: where for t, where in found.items() if t not in self.shown_on(page, kind)}
        self.assertEqual(missing, {}, "%s has no example of these (first seen at): %s" % (
            page, missing))

    def test_claude_record_types(self):
        self.assert_covered("claude", "claude", "02-message-types.md")

    def test_every_field_of_the_newest_claude_lines_is_named_on_a_page(self):
        # a new top-level key (2.1.337: toolLimits, turnPromptId, toolResultScreened, ...) must
        # be in some example's block or `fields`, or named in `backticks` (a field table)
        shown = set()
        for page in reference.pages():
            with open(page, encoding="utf-8") as f:
                shown.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", f.read()))
            for example in reference.examples(page):
                if reference.kind_of(example.path) != "claude" or not example.block.strip():
                    continue
                lines = [example.block] if example.first == example.last else \
                    [line for line in example.block.split("\n") if line.strip()]
                for line in lines:
                    value = json.loads(line)
                    shown.update(value if isinstance(value, dict) else ())
                shown.update(re.split(r"[.\[]", field)[0]
                             for field in example.parts.get("fields", []))
        newest = recorded_newest("claude")
        missing = {}
        for base, _, names in os.walk(os.path.join(reference.FIXTURES, newest)):
            for name in sorted(names):
                rel = os.path.relpath(os.path.join(base, name), reference.FIXTURES)
                if not name.endswith(".jsonl") or reference.kind_of(rel) != "claude":
                    continue
                with open(os.path.join(base, name), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        record = json.loads(line)
                        for key in record if isinstance(record, dict) else ():
                            if key not in shown:
                                missing.setdefault(key, "%s:%d" % (rel, n))
        self.assertEqual(missing, {}, "no page of the reference names these fields (first seen "
                                      "at): %s" % missing)

    def test_the_reader_knows_every_record_type_of_the_newest_claude_recordings(self):
        # known types are read or in IGNORED_TYPES; a new one would be logged as unknown
        from amc_server.agents.claude.transcript import ClaudeTranscript
        newest = os.path.join(reference.FIXTURES, recorded_newest("claude"))
        read = 0
        for base, _, names in os.walk(newest):
            for name in sorted(n for n in names if n.endswith(".jsonl")):
                rel = os.path.relpath(os.path.join(base, name), reference.FIXTURES)
                if reference.kind_of(rel) != "claude":
                    continue
                warnings = read_logged(lambda: ClaudeTranscript(os.path.join(base, name),
                                                                "t").refresh())
                self.assertEqual(warnings, [], rel)
                read += 1
        self.assertGreater(read, 10)

    def test_codex_record_types(self):
        self.assert_covered("codex", "codex", "07-codex-rollouts.md")

    def test_hook_events_of_both_clis(self):
        self.assert_covered("claude", "hooks", "08-hooks.md")
        self.assert_covered("codex", "hooks", "08-hooks.md")


def read_logged(read):
    """Run `read` and return the warnings the transcript readers logged meanwhile."""
    logger = logging.getLogger("amc.agents")
    logged = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: logged.append(record.getMessage())
    saved = logger.level, logger.disabled
    logger.setLevel(logging.WARNING)
    logger.disabled = False
    logger.addHandler(handler)
    try:
        read()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.disabled = saved[1]
    return logged


def recorded_newest(cli):
    """Return the fixture dir of the newest recorded version of `cli` (e.g. claude-code-2.1.332)."""
    from tests.recording.common import SLUGS, recorded_versions
    return "%s-%s" % (SLUGS[cli], recorded_versions(cli)[-1])


class TheChecker(unittest.TestCase):
    """A page that says something untrue about its fixture fails."""

    def page(self, caption, block):
        tmp = tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8")
        tmp.write("# t\n\n%s\n```json\n%s\n```\n" % (caption, block))
        tmp.close()
        self.addCleanup(os.unlink, tmp.name)
        return reference.check_page(tmp.name)[1]

    def line(self, n):
        return reference.source_records(TRANSCRIPT, n, n)[0]

    def prompt_line(self):
        for n in range(1, 40):
            r = self.line(n)
            if r.get("type") == "user" and isinstance(r["message"].get("content"), str):
                return n, r
        self.fail("no typed prompt in " + TRANSCRIPT)

    def test_a_true_example_passes(self):
        n, r = self.prompt_line()
        caption = ("Example: `%s` line %d (Claude Code 2.1.329) · type `user` · fields "
                   "`message.content`, `uuid` · AMC reads `user/prompt`" % (TRANSCRIPT, n))
        shown = {"type": "user", "message": {"content": r["message"]["content"][:3] + "\u2026"}}
        self.assertEqual(self.page(caption, json.dumps(shown)), [])

    def test_each_untruth_is_named(self):
        n, r = self.prompt_line()
        good = "Example: `%s` line %d (Claude Code 2.1.329)" % (TRANSCRIPT, n)
        cases = {
            good + " · type `assistant`": "type 'user', the page says 'assistant'",
            good + " · fields `message.usage`": "field 'message.usage' is not in the source",
            good + " · AMC reads `assistant`": "AMC reads user/prompt, the page says assistant",
            "Example: `%s` line %d (Claude Code 2.1.300)" % (TRANSCRIPT, n):
                "written by 2.1.329",
        }
        for caption, why in cases.items():
            problems = self.page(caption, json.dumps({"type": "user"}))
            self.assertTrue(any(why in p for p in problems), (caption, problems))
        changed = self.page(good, json.dumps({"type": "user", "uuid": "not-the-uuid"}))
        self.assertTrue(any(".uuid:" in p for p in changed), changed)
        invented = self.page(good, json.dumps({"type": "user", "invented": 1}))
        self.assertTrue(any(".invented: not in the source" in p for p in invented), invented)
        cut = self.page(good, json.dumps({"message": {"content": "zz\u2026"}}))
        self.assertTrue(any("message.content" in p for p in cut), cut)

    def test_a_missing_fixture_or_line_is_named(self):
        problems = self.page("Example: `claude-code-2.1.329/none.jsonl` line 1 (Claude Code "
                             "2.1.329)", "{}")
        self.assertTrue(any("source" in p for p in problems), problems)
        problems = self.page("Example: `%s` line 99999 (Claude Code 2.1.329)" % TRANSCRIPT, "{}")
        self.assertTrue(any("no JSON on lines" in p for p in problems), problems)

    def test_hook_lines_read_as_the_status_they_give(self):
        path = "claude-code-2.1.329/permission-prompt/hooks.jsonl"
        records = reference.source_records(path, 1, 1)
        self.assertEqual(records[0]["payload"]["hook_event_name"], "SessionStart")
        self.assertEqual(reference.reads(path, 1, 1), ["status:starting"])
        for n in range(2, 30):
            r = reference.source_records(path, n, n)[0]
            if r["payload"]["hook_event_name"] == "PermissionRequest":
                break
        self.assertEqual(reference.reads(path, 1, n)[-1], "attention:permission")

    def test_paths_reach_into_lists(self):
        value = {"a": [{"b": 1}, {"c": {"d": False}}]}
        self.assertTrue(reference.has_path(value, "a[].c.d"))
        self.assertTrue(reference.has_path(value, "a[0].b"))
        self.assertFalse(reference.has_path(value, "a[0].c"))
        self.assertFalse(reference.has_path(value, "a[5]"))
        self.assertIsNone(reference.shortened({"a": [{"b": 1}]}, value))
        self.assertIsNotNone(reference.shortened({"a": [{"b": True}]}, value))  # bool is not 1


if __name__ == "__main__":
    unittest.main()
