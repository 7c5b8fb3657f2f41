"""What changed between two recordings of one CLI, and the reference's "changes by version" page.

`compare(old_dir, new_dir)` reads two recordings (tests/fixtures/<slug>-<version>/, one directory
per scenario, or the flat 0.169.0 Codex layout mapped to scenario names) into shapes (shapes.py):
record types (Claude `type`, `type/subtype`, `attachment/<attachment.type>`; Codex
`type/payload.type`), the key paths of each type with their JSON types (`message.usage.x`, `[]` for
list elements), hook payloads per `hook_event_name`, notify payloads per `type`, the
sessions-registry.json keys, the mcp.jsonl methods, and each scenario's screens.txt with what
changes every run (times, durations, token counts, ids) normalised away. Records and hooks are
compared over the scenarios both recordings have, so a new scenario's records are not mistaken for
a new CLI's. `Report.text()` is for the terminal (tests/record_fixtures.py prints it),
`Report.markdown()` for the page; `page()` writes the whole of
docs/claude-jsonl-reference/09-changes-by-version.md from every recorded version and the public
fixtures.
"""
import difflib
import os
import re
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from tests.support.helpers import ROOT
from tests.recording.common import FIXTURES, fixture_dir, recorded_versions
from tests.recording.shapes import Recording, Shape, read_jsonl, record_type

PUBLIC = os.path.join(FIXTURES, "public")
PAGE = os.path.join(ROOT, "docs", "claude-jsonl-reference", "09-changes-by-version.md")
CLI_NAMES = {"claude": "Claude Code", "codex": "Codex"}
MAX_DIFF_LINES = 60


# ------------------------------------------------------------------------------- screens
_VOLATILE = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}[:.-]\d{2}(?:[:.-]\d{2})?(?:\.\d+)?Z?)?"),
     "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?\b"), "<time>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b"), "<id>"),
    (re.compile(r"\d[\d,.]*\s?[kKmM]?\s+tokens?\b"), "<n> tokens"),
    (re.compile(r"[<>]?\d+(?:\.\d+)?\s?(?:ms|s|m|h)\b(?:\s\d+(?:\.\d+)?s\b)?"), "<dur>"),
    (re.compile(r"\d+(?:\.\d+)?%"), "<n>%"),
    (re.compile(r"\$\d+(?:\.\d+)?"), "$<n>"),
    (re.compile(r"[↑↓]\s?<n>|[↑↓]\s?\d[\d.,]*[kK]?"), "<n>"),
    # spinners: a changing glyph and (Claude Code) a random verb: "✶ Pondering… (esc to
    # interrupt)", "✻ Cogitated for 3s", Codex's "◦ Working (1s • esc to interrupt)"
    (re.compile(r"^(\s*)[✻✽✶✳✢∗*·•◦]\s+[^\W\d_]+(?=…|\.\.\.| for <dur>| \()", re.M),
     r"\1<spinner>"),
    (re.compile(r"(?<![\w/.])~/"), "/home/dev/"),  # every recording's home is /home/dev
]


_SEPARATOR = re.compile(r"^\s*(=|-){3,}\s*$")


def normalise_screen(text: str, versions: Iterable[str] = ()) -> str:
    """Return screens text without what changes every run (and the CLI's own `versions`, as
    in its banner), without blank and separator lines, lines right-trimmed."""
    for version in sorted(versions, key=len, reverse=True):
        text = re.sub(r"(?<![\w.])v?%s(?![\w.])" % re.escape(version), "<version>", text)
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    # blank lines and "=====" separators are how a recorder laid the screens out, not the CLI
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line and not _SEPARATOR.match(line)) + "\n"


def screen_diff(old: str, new: str, old_name: str, new_name: str,
                versions: Iterable[str] = ()) -> List[str]:
    """Return a short unified diff of two normalised screens texts ([] when equal); a hunk that
    repeats (the same change on every screen of a scenario) is shown once."""
    versions = list(versions)
    diff = list(difflib.unified_diff(normalise_screen(old, versions).split("\n"),
                                     normalise_screen(new, versions).split("\n"),
                                     old_name, new_name, n=1, lineterm=""))
    out, seen, repeats = diff[:2], set(), 0
    hunk: List[str] = []
    for line in diff[2:] + ["@@ end"]:
        if line.startswith("@@") and hunk:
            body = tuple(hunk[1:])
            if body in seen:
                repeats += 1
            else:
                seen.add(body)
                out += hunk
            hunk = []
        hunk.append(line)
    if repeats:
        out.append("... (%d more hunks repeat one above)" % repeats)
    if len(out) > MAX_DIFF_LINES:
        out = out[:MAX_DIFF_LINES] + ["... (%d more diff lines)" % (len(out) - MAX_DIFF_LINES)]
    return out


# ------------------------------------------------------------------------------- comparing
class ShapeChanges:
    """Kinds (record types, hook events...) and their fields, new / gone / changed type."""

    def __init__(self, old: Shape, new: Shape) -> None:
        self.new = sorted(set(new) - set(old))
        self.gone = sorted(set(old) - set(new))
        self.fields_new: Dict[str, List[Tuple[str, str]]] = {}
        self.fields_gone: Dict[str, List[Tuple[str, str]]] = {}
        self.fields_changed: Dict[str, List[Tuple[str, str, str]]] = {}
        for kind in sorted(set(old) & set(new)):
            o, n = old[kind], new[kind]
            added = [(p, _types(n[p])) for p in sorted(set(n) - set(o))]
            removed = [(p, _types(o[p])) for p in sorted(set(o) - set(n))]
            changed = []
            for p in sorted(set(o) & set(n)):
                ot, nt = o[p] - {"null"}, n[p] - {"null"}
                if ot and nt and ot != nt:
                    changed.append((p, _types(ot), _types(nt)))
            for target, items in ((self.fields_new, added), (self.fields_gone, removed),
                                  (self.fields_changed, changed)):
                if items:
                    target[kind] = items

    def empty(self) -> bool:
        return not (self.new or self.gone or self.fields_new or self.fields_gone
                    or self.fields_changed)


def _types(types: Set[str]) -> str:
    return "|".join(sorted(types)) or "null"


class Report:
    """What changed from one recording of a CLI to the next."""

    def __init__(self, old: Recording, new: Recording) -> None:
        self.cli, self.old_version, self.new_version = new.cli, old.version, new.version
        common = old.named() & new.named()
        self.scenarios_new = sorted(new.named() - old.named())
        self.scenarios_gone = sorted(old.named() - new.named())
        self.records = ShapeChanges(old.shape("records", common), new.shape("records", common))
        everywhere_old = old.shape("records")
        self.types_in_new_scenarios: Dict[str, str] = {}
        for name in self.scenarios_new:
            for kind in new.scenarios[name].records:
                if kind not in everywhere_old:
                    self.types_in_new_scenarios.setdefault(kind, name)
        # the flat layout's hook/notify captures came from any run: compare with all of ours
        hooks_only = None if None in old.scenarios or None in new.scenarios else common
        self.hooks = ShapeChanges(old.shape("hooks", hooks_only), new.shape("hooks", hooks_only))
        self.notify = ShapeChanges(old.shape("notify", hooks_only),
                                   new.shape("notify", hooks_only))
        old_reg, new_reg = old.union("registry"), new.union("registry")
        self.registry_new = sorted(new_reg - old_reg) if old_reg else []
        self.registry_gone = sorted(old_reg - new_reg) if new_reg else []
        old_mcp, new_mcp = old.union("mcp"), new.union("mcp")
        self.mcp_new = sorted(new_mcp - old_mcp) if old_mcp else []
        self.mcp_gone = sorted(old_mcp - new_mcp) if new_mcp else []
        self.screens: Dict[str, List[str]] = {}
        self.screens_new: List[str] = []
        for name in sorted(common):
            o, n = old.scenarios[name].screens, new.scenarios[name].screens
            if o is not None and n is not None:
                diff = screen_diff(o, n, "%s %s" % (name, old.version),
                                   "%s %s" % (name, new.version), (old.version, new.version))
                if diff:
                    self.screens[name] = diff
            elif n is not None:
                self.screens_new.append(name)

    def empty(self) -> bool:
        """Tell whether nothing at all changed."""
        return (self.records.empty() and self.hooks.empty() and self.notify.empty()
                and not (self.scenarios_new or self.scenarios_gone or self.registry_new
                         or self.registry_gone or self.mcp_new or self.mcp_gone
                         or self.screens or self.screens_new))

    # -- the sections, shared by text() and markdown(): (heading, lines, diff blocks)
    def sections(self, code: str = "`") -> List[Tuple[str, List[str], Dict[str, List[str]]]]:
        c = lambda s: "%s%s%s" % (code, s, code)  # noqa: E731 - a tiny formatter
        out: List[Tuple[str, List[str], Dict[str, List[str]]]] = []

        def add(heading: str, lines: List[str]) -> None:
            if lines:
                out.append((heading, lines, {}))

        add("Scenarios", ["new: " + ", ".join(map(c, self.scenarios_new))] * bool(
            self.scenarios_new) + ["gone: " + ", ".join(map(c, self.scenarios_gone))] * bool(
            self.scenarios_gone))
        for title, changes, noun in (("Record types", self.records, "type"),
                                     ("Hook payloads", self.hooks, "event"),
                                     ("Notify payloads", self.notify, "type")):
            lines = []
            if changes.new:
                lines.append("%ss new: %s" % (noun, ", ".join(map(c, changes.new))))
            if changes.gone:
                lines.append("%ss gone: %s" % (noun, ", ".join(map(c, changes.gone))))
            if changes is self.records and self.types_in_new_scenarios:
                lines.append("types seen only in new scenarios: " + ", ".join(
                    "%s (%s)" % (c(k), v) for k, v in sorted(self.types_in_new_scenarios.items())))
            for kind, items in changes.fields_new.items():
                lines.append("%s new fields: %s" % (c(kind), ", ".join(
                    "%s (%s)" % (c(p), t) for p, t in items)))
            for kind, items in changes.fields_gone.items():
                lines.append("%s fields gone: %s" % (c(kind), ", ".join(
                    "%s (%s)" % (c(p), t) for p, t in items)))
            for kind, changed in changes.fields_changed.items():
                lines.append("%s fields whose type changed: %s" % (c(kind), ", ".join(
                    "%s %s -> %s" % (c(p), o, n) for p, o, n in changed)))
            add(title, lines)
        add("sessions-registry.json keys",
            ["new: " + ", ".join(map(c, self.registry_new))] * bool(self.registry_new)
            + ["gone: " + ", ".join(map(c, self.registry_gone))] * bool(self.registry_gone))
        add("mcp.jsonl methods", ["new: " + ", ".join(map(c, self.mcp_new))] * bool(self.mcp_new)
            + ["gone: " + ", ".join(map(c, self.mcp_gone))] * bool(self.mcp_gone))
        if self.screens or self.screens_new:
            lines = ["%s: screens.txt is new" % c(n) for n in self.screens_new]
            lines += ["%s: changed (diff below)" % c(n) for n in self.screens]
            out.append(("Screens", lines, dict(self.screens)))
        return out

    def title(self) -> str:
        return "%s %s -> %s" % (CLI_NAMES[self.cli], self.old_version, self.new_version)

    def text(self) -> str:
        """Return the report for a terminal."""
        lines = [self.title()]
        if self.empty():
            return lines[0] + ": nothing changed in what the recordings show\n"
        for heading, items, diffs in self.sections(code=""):
            lines.append("%s:" % heading)
            lines += ["  " + item for item in items]
            for name, diff in diffs.items():
                lines.append("  --- %s" % name)
                lines += ["    " + d for d in diff]
        return "\n".join(lines) + "\n"

    def markdown(self, level: int = 3) -> str:
        """Return the report as Markdown (a heading of `level`, lists, diff blocks)."""
        out = ["%s %s" % ("#" * level, self.title().replace(" -> ", " \u2192 ")), ""]
        if self.empty():
            return "\n".join(out + ["Nothing changed in what the recordings show.", ""])
        for heading, items, diffs in self.sections():
            out += ["**%s**" % heading, ""] + ["- " + item for item in items] + [""]
            for name, diff in diffs.items():
                out += ["`%s`:" % name, "", "```diff"] + diff + ["```", ""]
        return "\n".join(out)


def compare(old_dir: str, new_dir: str, cli: str = "", version: str = "") -> Report:
    """Compare two recordings of one CLI (tests/fixtures/<slug>-<version>/ directories; `cli`
    and `version` say what `new_dir` holds when its name does not, as with --out)."""
    new = Recording(new_dir, cli, version)
    return Report(Recording(old_dir, new.cli), new)


# ------------------------------------------------------------------------------- the page
def version_sort_key(version: str) -> Tuple[Tuple[int, Any], ...]:
    """Sort key for versions that tolerates suffixes ("0.61.1-alpha.1")."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.-]", version))


_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?$")
_NAME_VERSION = re.compile(r"(?:^|[-_])(\d+\.\d+(?:\.\d+)?)(?=[-_.])")


def sources_rows() -> Dict[str, Tuple[str, bool]]:
    """Return public/SOURCES.md per local file ("codex/x.jsonl"): (the version its row names,
    whether the row marks it SYNTHETIC with made-up values rather than a real shape)."""
    found: Dict[str, Tuple[str, bool]] = {}
    try:
        with open(os.path.join(PUBLIC, "SOURCES.md"), encoding="utf-8") as f:
            rows = [line for line in f if line.startswith("| `")]
    except OSError:
        return found
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) < 9:
            continue
        m = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", " ".join(cells[7:]))
        realness = cells[7].upper()
        synthetic = realness.startswith("SYNTHETIC") and "REAL SHAPE" not in realness
        found[cells[0].strip("`")] = (m.group(1) if m else "", synthetic)
    return found


def fixture_files() -> Iterator[Tuple[str, str, str]]:
    """Yield (cli, path, fallback version) for every transcript/rollout in tests/fixtures that a
    real CLI wrote (public files SOURCES.md marks SYNTHETIC are left out: made-up versions)."""
    for cli in ("claude", "codex"):
        for version in recorded_versions(cli):
            for base, dirs, files in os.walk(fixture_dir(cli, version)):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".jsonl") and not re.search(
                            r"hooks|hook-payloads|notify|mcp", name):
                        yield cli, os.path.join(base, name), version
    sources = sources_rows()
    for cli in ("claude", "codex"):
        for base, dirs, files in os.walk(os.path.join(PUBLIC, cli)):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(base, name)
                version, synthetic = sources.get(os.path.relpath(path, PUBLIC), ("", False))
                if name.endswith(".jsonl") and not synthetic:
                    m = _NAME_VERSION.search(os.path.relpath(path, PUBLIC))
                    yield cli, path, version or (m.group(1) if m else "")


def first_seen() -> Dict[Tuple[str, str], Tuple[str, str]]:
    """Return (cli, record type) -> (first version seen, fixture path) over every fixture."""
    seen: Dict[Tuple[str, str], Tuple[str, str]] = {}
    for cli, path, fallback in fixture_files():
        records = list(read_jsonl(path))
        file_version = fallback
        for r in records:
            meta = r.get("payload") if cli == "codex" and r.get("type") == "session_meta" \
                else (r if cli == "claude" else None)
            v = meta.get("version" if cli == "claude" else "cli_version") \
                if isinstance(meta, dict) else None
            if isinstance(v, str) and _VERSION.match(v):
                file_version = v
                break
        for r in records:
            v = r.get("version") if cli == "claude" else None
            version = v if isinstance(v, str) and _VERSION.match(v) else file_version
            if not version or not isinstance(r.get("type"), str):
                continue
            key = (cli, record_type(r, cli))
            here = (version, os.path.relpath(path, FIXTURES))
            if key not in seen or version_sort_key(version) < version_sort_key(seen[key][0]):
                seen[key] = here
    return seen


HEAD = """# Changes by version

What changed from one recorded version of each CLI to the next, as AMC's own recordings show it
(tests/fixtures/claude-code-<version>/, tests/fixtures/codex-<version>/), and the version in which
each record type first appears in any fixture, public ones included. This page is generated: do not
edit it by hand. `python3 tests/record_fixtures.py --cli codex --page` (or `--cli claude`)
re-records a CLI with the version this run uses, prints the same comparison and rewrites this page
from `tests/recording/changes.py` (`page()`); `python3 -m tests.recording.changes --page` rewrites
it from the recordings there are, `python3 -m tests.recording.changes OLD_DIR NEW_DIR` prints one
comparison, and `tests/test_recording_changes.py` fails while the page is stale.

How to read it: record types are Claude Code's `type` (`type/subtype` for records with a subtype,
`attachment/<attachment.type>` for attachments) and Codex's `type/payload.type`; fields are key
paths (`message.usage.cache_creation.ephemeral_5m_input_tokens`, `[]` for list elements, `*` for
keys that are data such as paths) with their JSON types, and a field whose type changed is listed
as `old -> new`. Records and hook payloads are compared over the scenarios both recordings ran;
what only a new scenario shows is listed apart. Screens are diffed after times, durations, token
counts, ids, spinner words, the CLI's own version, blank lines and separators are normalised away.
"""


def page() -> str:
    """Return the whole Markdown of docs/claude-jsonl-reference/09-changes-by-version.md."""
    out = [HEAD]
    for cli in ("claude", "codex"):
        versions = recorded_versions(cli)
        out.append("## %s\n" % CLI_NAMES[cli])
        if len(versions) < 2:
            out.append("One recorded version (%s): nothing to compare yet.\n"
                       % (", ".join(versions) or "none"))
        for old, new in zip(versions, versions[1:]):
            out.append(compare(fixture_dir(cli, old), fixture_dir(cli, new)).markdown())
    out += ["## Record types by first version seen", "",
            "Over every fixture: AMC's recordings and tests/fixtures/public/ (the version is a "
            "Claude Code record's `version`, a Codex rollout's `session_meta` `cli_version`, else "
            "public/SOURCES.md; files it marks SYNTHETIC are left out). A first version is only the "
            "oldest fixture that has the type: the CLI may have written it earlier.", "",
            "| CLI | record type | first seen | in |", "|---|---|---|---|"]
    seen = first_seen()
    for (cli, kind), (version, path) in sorted(
            seen.items(), key=lambda kv: (kv[0][0], version_sort_key(kv[1][0]), kv[0][1])):
        out.append("| %s | `%s` | %s | `%s` |" % (CLI_NAMES[cli], kind, version, path))
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    """`python3 -m tests.recording.changes OLD_DIR NEW_DIR` prints what changed;
    `python3 -m tests.recording.changes --page` rewrites page 09 from the recordings there are."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    if args == ["--page"]:
        with open(PAGE, "w", encoding="utf-8") as f:
            f.write(page())
        print("wrote %s" % os.path.relpath(PAGE, ROOT))
        return 0
    if len(args) != 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    print(compare(args[0], args[1]).text(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
