#!/usr/bin/env python3
"""Re-record the CLI fixtures from the pinned CLIs and say what changed since the last version.

    python3 tests/record_fixtures.py [--cli claude|codex|all] [--scenario NAME ...] [--out DIR]
                                     [--page] [--reference]

Each scenario of tests/recording/<cli>.py runs the CLI version this run uses
(tests/support/tools.py: the pin, or AMC_TEST_CLAUDE_VERSION / AMC_TEST_CODEX_VERSION) in a fresh
sandbox and lands in `tests/fixtures/<slug>-<version>/<scenario>/` (with --out: `DIR/<scenario>/`,
or `DIR/<slug>-<version>/<scenario>/` for --cli all). A scenario is recorded into a scratch
directory that replaces the old one only when it succeeds, so a failure keeps the previous
recording; it is reported with its reason and the others go on, and the exit status is 1. Then the
recording is compared with the newest older recorded version of that CLI
(tests/recording/changes.py) and the changes printed; `--page` rewrites
docs/claude-jsonl-reference/09-changes-by-version.md, and `--reference` re-cuts the reference's
examples from the new recording (those taken from it, and those taken from the previous version,
which move to it: tests/reference.py `refresh`) and prints what on the pages is no longer true
(tests/reference.py `check`).
"""
import argparse
import importlib
import os
import shutil
import sys
import time
import traceback
from typing import Callable, Dict, List, Mapping, Optional, TextIO, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.support import tools  # noqa: E402
from tests.recording.common import (Recording, fixture_dir, recorded_versions,  # noqa: E402
                                    version_key)

CLIS = ("claude", "codex")
PAGE = os.path.join(ROOT, "docs", "claude-jsonl-reference", "09-changes-by-version.md")
Scenario = Callable[[Recording], None]
Tables = Mapping[str, Mapping[str, Scenario]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (argparse exits 2 on a bad one)."""
    parser = argparse.ArgumentParser(
        prog="tests/record_fixtures.py",
        description="Re-record the fixtures from the pinned agent CLIs and print what changed.")
    parser.add_argument("--cli", choices=CLIS + ("all",), default="all",
                        help="which CLI's scenarios to record (default: all)")
    parser.add_argument("--scenario", nargs="+", action="extend", default=[], metavar="NAME",
                        help="record only these scenarios (default: every one)")
    parser.add_argument("--out", metavar="DIR",
                        help="write here instead of tests/fixtures/<slug>-<version>")
    parser.add_argument("--page", action="store_true",
                        help="rewrite docs/claude-jsonl-reference/09-changes-by-version.md")
    parser.add_argument("--reference", action="store_true",
                        help="re-cut the reference's examples from the new recording and check "
                             "every page")
    return parser.parse_args(argv)


def load_scenarios(cli: str) -> Mapping[str, Scenario]:
    """Import tests/recording/<cli>.py (only when asked for) and return its SCENARIOS."""
    return importlib.import_module("tests.recording." + cli).SCENARIOS


def output_dir(cli: str, version: str, out: Optional[str], several: bool) -> str:
    """Return where `cli`'s scenario directories go."""
    if not out:
        return fixture_dir(cli, version)
    return os.path.join(out, os.path.basename(fixture_dir(cli, version))) if several else out


def record_one(name: str, scenario: Scenario, target: str) -> None:
    """Run `scenario` into a scratch directory, then put it at `target` (replacing it)."""
    scratch = os.path.join(os.path.dirname(target), ".%s.partial" % os.path.basename(target))
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    try:
        scenario(Recording(scratch))
        if not os.listdir(scratch):
            raise RuntimeError("the scenario wrote no files")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    os.rename(scratch, target)


def previous_version(cli: str, version: str) -> Optional[str]:
    """Return the newest recorded version of `cli` older than `version`, if any."""
    older = [v for v in recorded_versions(cli) if version_key(v) < version_key(version)]
    return older[-1] if older else None


def report_changes(cli: str, version: str, new_dir: str, stream: TextIO) -> None:
    """Print what changed against the newest older recording (tests/recording/changes.py)."""
    old = previous_version(cli, version)
    if old is None:
        print("\n== %s %s: no older recording to compare with" % (cli, version), file=stream)
        return
    print("\n== %s %s -> %s: what changed" % (cli, old, version), file=stream)
    try:
        changes = importlib.import_module("tests.recording.changes")
        print(changes.compare(fixture_dir(cli, old), new_dir, cli, version).text(), file=stream)
    except Exception as e:  # the comparison is a report: a bug there must not lose recordings
        print("could not compare: %s: %s" % (type(e).__name__, e), file=stream)


def refresh_reference(moves: List[Tuple[str, str]], stream: TextIO) -> bool:
    """Re-cut the reference's examples for each (old, new) recording pair, then check every
    page; tell whether the reference is true of the new recordings."""
    reference = importlib.import_module("tests.reference")
    for old, new in moves:
        print("reference: %d example(s) from %s re-cut from %s" % (
            reference.refresh(old, new), old, new), file=stream)
    true = True
    for page in reference.pages():
        count, problems = reference.check_page(page)
        for problem in problems:
            print("  " + problem, file=stream)
        true = true and not problems
    print("reference: %s" % ("every example holds" if true else "fix the pages above"),
          file=stream)
    return true


def write_page(stream: TextIO) -> bool:
    """Rewrite the changes-by-version page from every recorded version; tell if it worked."""
    try:
        text = importlib.import_module("tests.recording.changes").page()
    except Exception as e:
        print("could not write %s: %s: %s" % (PAGE, type(e).__name__, e), file=stream)
        return False
    with open(PAGE, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s" % os.path.relpath(PAGE, ROOT), file=stream)
    return True


def main(argv: Optional[List[str]] = None, tables: Optional[Tables] = None,
         stream: TextIO = sys.stdout, versions: Optional[Mapping[str, str]] = None) -> int:
    """Record, compare, report; return the exit status (1 when anything failed).

    `tables` (cli -> SCENARIOS) and `versions` replace the real scenario modules and
    tools.cli_version in tests.
    """
    args = parse_args(argv)
    clis = list(CLIS) if args.cli == "all" else [args.cli]
    loaded: Dict[str, Mapping[str, Scenario]] = {}
    failed: List[Tuple[str, str]] = []
    moves: List[Tuple[str, str]] = []
    for cli in clis:
        try:
            loaded[cli] = tables[cli] if tables is not None else load_scenarios(cli)
        except Exception as e:
            failed.append((cli, "its scenarios did not load: %s: %s" % (type(e).__name__, e)))
    known = {name for table in loaded.values() for name in table}
    unknown = [n for n in args.scenario if n not in known]
    if unknown:
        print("unknown scenario(s): %s (known: %s)" % (", ".join(unknown), ", ".join(
            sorted(known))), file=sys.stderr)
        return 2
    for cli, table in loaded.items():
        version = (versions or {}).get(cli) or tools.cli_version(cli)
        target_root = output_dir(cli, version, args.out, len(clis) > 1)
        os.makedirs(target_root, exist_ok=True)
        names = [n for n in table if not args.scenario or n in args.scenario]
        print("== %s %s: %d scenario(s) into %s" % (cli, version, len(names), target_root),
              file=stream, flush=True)
        recorded = 0
        for name in names:
            started = time.monotonic()
            try:
                record_one(name, table[name], os.path.join(target_root, name))
            except Exception as e:
                failed.append(("%s/%s" % (cli, name), "%s: %s" % (type(e).__name__, e)))
                print("FAILED %-26s %6.1f s  %s" % (name, time.monotonic() - started,
                                                   _first_lines(e)), file=stream, flush=True)
                print(_tail(traceback.format_exc()), file=stream, flush=True)
                continue
            recorded += 1
            print("ok     %-26s %6.1f s" % (name, time.monotonic() - started), file=stream,
                  flush=True)
        if recorded:
            report_changes(cli, version, target_root, stream)
            if not args.out:
                new = os.path.basename(target_root)
                old = previous_version(cli, version)
                moves += [(new, new)] + ([(os.path.basename(fixture_dir(cli, old)), new)]
                                         if old else [])
    if args.page and not write_page(stream):
        failed.append(("--page", "the page was not written"))
    if args.reference and not refresh_reference(moves, stream):
        failed.append(("--reference", "examples on the reference's pages no longer hold"))
    if failed:
        print("\n%d failed:" % len(failed), file=stream)
        for what, why in failed:
            print("  %s: %s" % (what, _first_lines(why)), file=stream)
    return 1 if failed else 0


def _first_lines(value: object, n: int = 3) -> str:
    return " / ".join(str(value).strip().splitlines()[:n])


def _tail(text: str, n: int = 12) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-n:])


if __name__ == "__main__":
    sys.exit(main())
