"""The examples of docs/claude-jsonl-reference/, checked against the fixtures they come from.

Every example in the reference is a fenced block right after one caption line:

    Example: `PATH` line N (CLI VERSION) · type `T` · fields `a.b`, `c[].d` · AMC reads `x`, `y`

PATH is under tests/fixtures/; `lines N-M` takes several JSONL lines (the block then holds one
compact JSON value per line). The block must be the source record or a shortened copy of it (keys
left out, lists cut short, long strings cut with a trailing "…"). `type` is the record's type as the
page names it, `fields` are paths that must exist in the source, and `AMC reads` is what AMC's own
reader makes of exactly those lines (see `reads`). tests/test_reference.py runs `check_page` on
every page, so a fixture re-recorded from a new CLI version that no longer matches its page, or a
reader that no longer reads an example the way the page says, fails the suite.

    python3 -m tests.reference check [PAGE ...]   # print every failure (default: every page)
    python3 -m tests.reference read PATH N[-M]    # print the caption parts for these lines
    python3 -m tests.reference refresh OLD NEW    # point examples from recording OLD at NEW
"""
import json
import logging
import os
import re
import sys
import tempfile
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
REFERENCE = os.path.join(ROOT, "docs", "claude-jsonl-reference")
ELLIPSIS = "\u2026"
CAPTION = re.compile(r"^Example: `(?P<path>[^`]+)` lines? (?P<first>\d+)(?:-(?P<last>\d+))? "
                     r"\((?P<cli>[^)]+)\)(?P<rest>.*)$")
PART = re.compile(r"^(?P<key>type|fields|AMC reads) (?P<values>.+)$")
VALUE = re.compile(r"`([^`]+)`")
FENCE = re.compile(r"^```(\w*)\s*$")
VERSION = re.compile(r"(\d+\.\d+\.\d+)")


class Example(NamedTuple):
    page: str
    line: int                # the caption's line in the page (1-based)
    path: str                # under tests/fixtures/
    first: int
    last: int
    cli: str                 # "Claude Code 2.1.332", "Codex 0.171.0"
    parts: Dict[str, List[str]]
    block: str               # the fenced block's text
    block_line: int          # first line of the block's text in the page


def examples(page: str) -> Iterator[Example]:
    """Yield the examples of one page; a caption without a block right after is an example too
    (with an empty block), so `check` can say so."""
    with open(page, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, text in enumerate(lines):
        m = CAPTION.match(text.strip())
        if not m:
            continue
        parts: Dict[str, List[str]] = {}
        for piece in m.group("rest").split("\u00b7")[1:]:
            p = PART.match(piece.strip())
            if p:
                parts[p.group("key")] = VALUE.findall(p.group("values")) or \
                    [p.group("values").strip()]
            else:
                parts[piece.strip()] = []
        first = int(m.group("first"))
        last = int(m.group("last") or first)
        block, start = "", i + 2
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and FENCE.match(lines[j].strip()):
            end = j + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            block, start = "\n".join(lines[j + 1:end]), j + 2
        yield Example(page, i + 1, m.group("path"), first, last, m.group("cli").strip(),
                      parts, block, start)


def source_records(path: str, first: int, last: int) -> List[Any]:
    """Return the JSON values of lines first..last of a fixture (a .json file is one value)."""
    full = os.path.join(FIXTURES, path)
    if path.endswith(".json"):
        with open(full, encoding="utf-8") as f:
            return [json.load(f)]
    with open(full, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if last > len(lines) or not all(lines[n - 1].strip() for n in range(first, last + 1)):
        raise ValueError("%s has no JSON on lines %d-%d" % (path, first, last))
    return [json.loads(lines[n - 1]) for n in range(first, last + 1)]


def kind_of(path: str) -> str:
    """Return what a fixture file holds: claude, codex, hooks, mcp or json."""
    name = os.path.basename(path)
    if path.endswith(".json"):
        return "json"
    if name == "mcp.jsonl":
        return "mcp"
    if name == "hooks.jsonl" or "hook-payloads" in name or "notify" in name:
        return "hooks"
    return "codex" if path.startswith(("codex-", "public/codex/")) else "claude"


def inner(kind: str, record: Any) -> Any:
    """Return the part of a line the page's field paths start at (a hook payload, an MCP message)."""
    if isinstance(record, dict):
        if kind == "hooks":
            for key in ("payload", "stdin"):  # AMC's recordings: {"tmux_pane", "payload"},
                if isinstance(record.get(key), dict):  # the Codex ones {"event", "stdin"}
                    return record[key]
        if kind == "mcp" and isinstance(record.get("msg"), dict):
            return record["msg"]
    return record


def type_of(kind: str, record: Any, named: str) -> str:
    """Return the record's type in the form the page named it (`T`, `T/sub`)."""
    r = inner(kind, record)
    if not isinstance(r, dict):
        return type(r).__name__
    if kind == "hooks":
        return str(r.get("hook_event_name") or r.get("type") or "")
    if kind == "mcp":
        return str(r.get("method") or ("result" if "result" in r else "error" if "error" in r
                                       else ""))
    base = str(r.get("type"))
    if kind == "codex":
        payload = r.get("payload")
        sub = payload.get("type") if isinstance(payload, dict) else None
        return "%s/%s" % (base, sub) if sub and "/" in named else base
    if "/" not in named or (base != "attachment" and r.get("subtype") is None):
        return base
    if base == "attachment" and isinstance(r.get("attachment"), dict):
        return "attachment/%s" % r["attachment"].get("type")
    return "%s/%s" % (base, r.get("subtype"))


def has_path(value: Any, path: str) -> bool:
    """Tell whether dotted `path` (`a.b`, `a[0].b`, `a[].b`) exists in `value`."""
    steps = re.findall(r"[^.\[\]]+|\[\d*\]", path)
    return _walk(value, steps)


def _walk(value: Any, steps: List[str]) -> bool:
    if not steps:
        return True
    step, rest = steps[0], steps[1:]
    if step == "[]":
        return isinstance(value, list) and any(_walk(v, rest) for v in value)
    if step.startswith("["):
        n = int(step[1:-1])
        return isinstance(value, list) and n < len(value) and _walk(value[n], rest)
    return isinstance(value, dict) and step in value and _walk(value[step], rest)


def shortened(doc: Any, src: Any, where: str = "") -> Optional[str]:
    """Return why `doc` is not a shortened copy of `src`, or None when it is."""
    if isinstance(doc, dict):
        if not isinstance(src, dict):
            return "%s: an object where the source has %s" % (where or "the record", _t(src))
        for key, value in doc.items():
            if key not in src:
                return "%s.%s: not in the source" % (where, key)
            why = shortened(value, src[key], "%s.%s" % (where, key))
            if why:
                return why
        return None
    if isinstance(doc, list):
        if not isinstance(src, list) or len(doc) > len(src):
            return "%s: a list of %d where the source has %s" % (where, len(doc), _t(src))
        for n, value in enumerate(doc):
            why = shortened(value, src[n], "%s[%d]" % (where, n))
            if why:
                return why
        return None
    if isinstance(doc, str) and doc.endswith(ELLIPSIS) and isinstance(src, str) and \
            src.startswith(doc[:-1]) and src != doc:
        return None
    if doc != src or type(doc) is not type(src):
        return "%s: %s where the source has %s" % (where, _short(doc), _short(src))
    return None


def _t(value: Any) -> str:
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) \
        else _short(value)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def reads(path: str, first: int, last: int) -> List[str]:
    """Return what AMC's reader makes of lines first..last of a fixture, fed alone, in order."""
    kind = kind_of(path)
    records = source_records(path, first, last)
    if kind == "hooks":
        return _hook_reads(path, records)
    if kind not in ("claude", "codex"):
        return []
    from amc_server.agents.claude.transcript import ClaudeTranscript
    from amc_server.agents.codex.transcript import CodexTranscript
    reader_class = CodexTranscript if kind == "codex" else ClaudeTranscript
    with tempfile.TemporaryDirectory() as tmp:
        name = os.path.join(tmp, "t.jsonl")
        with open(name, "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record) + "\n")
        quiet = logging.getLogger("amc.agents")
        was, quiet.disabled = quiet.disabled, True  # warnings about the lines are expected here
        try:
            messages = reader_class(name, "reference").refresh()
        finally:
            quiet.disabled = was
    tokens: List[str] = []
    for msg in messages:
        role = msg.get("role", "")
        _add(tokens, "%s/%s" % (role, msg["kind"]) if msg.get("kind") else role)
        for call in msg.get("tool_calls") or []:
            _add(tokens, "tool:%s" % call.get("name"))
            if "result" in call:
                _add(tokens, "result:%s" % call.get("name"))
    return tokens or ["nothing"]


def _hook_reads(path: str, records: List[Any]) -> List[str]:
    from amc_server.hook import record as hook
    agent = "codex" if path.startswith("codex") else "claude"
    session: Optional[Dict[str, Any]] = None
    for record in records:
        payload = inner("hooks", record)
        if "notify" in os.path.basename(path):
            payload = hook.codex_notify_payload(payload)
        if not isinstance(payload, dict) or not isinstance(payload.get("session_id"), str):
            continue  # the hook refuses it (no usable session_id)
        env = {"TMUX_PANE": record.get("tmux_pane", "")} if isinstance(record, dict) else {}
        session = hook.apply_event(session, payload, env, agent=agent, now=0)
        if session is None:
            return ["ended"]
    if session is None:
        return ["nothing"]
    tokens = ["status:%s" % session.get("status")]
    attention = session.get("attention") or {}
    if attention.get("kind"):
        tokens.append("attention:%s" % attention["kind"])
    return tokens


def _add(tokens: List[str], token: str) -> None:
    if token not in tokens:
        tokens.append(token)


def cli_of(path: str, records: List[Any]) -> Optional[str]:
    """Return the CLI version that wrote these lines, as far as the files say."""
    kind = kind_of(path)
    for record in records:
        r = inner(kind, record)
        if kind == "claude" and isinstance(r, dict) and isinstance(r.get("version"), str):
            return r["version"]
    if kind == "codex":
        meta = _codex_meta_version(path)
        if meta:
            return meta
    m = re.match(r"(?:claude-code|codex)-(\d+\.\d+\.\d+)/", path)
    if m:
        return m.group(1)
    m = VERSION.search(os.path.basename(path)) or re.search(r"-(\d+\.\d+(?:\.\d+)?)-",
                                                            os.path.basename(path))
    return m.group(1) if m else None


def _codex_meta_version(path: str) -> Optional[str]:
    try:
        with open(os.path.join(FIXTURES, path), encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n > 50:
                    break
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                payload = r.get("payload") if isinstance(r, dict) else None
                if isinstance(payload, dict) and isinstance(payload.get("cli_version"), str) \
                        and r.get("type") == "session_meta":
                    return payload["cli_version"]
    except OSError:
        return None
    return None


def check(example: Example) -> List[str]:
    """Return every way `example` disagrees with its source or with AMC's reader."""
    where = "%s:%d" % (os.path.relpath(example.page, ROOT), example.line)
    try:
        records = source_records(example.path, example.first, example.last)
    except (OSError, ValueError) as e:
        return ["%s: source: %s" % (where, e)]
    problems = []
    kind = kind_of(example.path)
    if not example.block.strip():
        problems.append("%s: no ```json block right after the caption" % where)
    else:
        try:
            if example.first == example.last:
                shown = [json.loads(example.block)]
            else:
                shown = [json.loads(line) for line in example.block.split("\n") if line.strip()]
        except ValueError as e:
            return problems + ["%s: the block is not JSON: %s" % (where, e)]
        if len(shown) != len(records):
            problems.append("%s: the block has %d records, the caption names %d" % (
                where, len(shown), len(records)))
        for n, (doc, src) in enumerate(zip(shown, records)):
            why = shortened(doc, src)
            if why:
                problems.append("%s: line %d: %s" % (where, example.first + n, why))
    written = cli_of(example.path, records)
    said = re.findall(r"\d+\.\d+(?:\.\d+)?(?:-[0-9A-Za-z.]+)?", example.cli)
    claimed = bool(said)
    if written and not any(v == written or v.split("-", 1)[0] == written for v in said):
        problems.append("%s: written by %s, the caption says %r" % (where, written, example.cli))
    if written is None and "not recorded" not in example.cli and not claimed:
        problems.append("%s: no version: say `(... version not recorded)`" % where)
    for named in example.parts.get("type", []):
        actual = type_of(kind, records[0], named)
        if actual != named:
            problems.append("%s: type %r, the page says %r" % (where, actual, named))
    for field in example.parts.get("fields", []):
        if not any(has_path(inner(kind, r), field) for r in records):
            problems.append("%s: field %r is not in the source" % (where, field))
    if "AMC reads" in example.parts:
        actual = reads(example.path, example.first, example.last)
        if actual != example.parts["AMC reads"]:
            problems.append("%s: AMC reads %s, the page says %s" % (
                where, ", ".join(actual), ", ".join(example.parts["AMC reads"])))
    unknown = set(example.parts) - {"type", "fields", "AMC reads"}
    if unknown:
        problems.append("%s: unknown caption parts %s" % (where, sorted(unknown)))
    return problems


def pages() -> List[str]:
    """Return the reference's pages, in order."""
    if not os.path.isdir(REFERENCE):
        return []
    return [os.path.join(REFERENCE, n) for n in sorted(os.listdir(REFERENCE))
            if n.endswith(".md")]


def check_page(page: str) -> Tuple[int, List[str]]:
    """Return (examples on the page, every problem found)."""
    found = list(examples(page))
    problems: List[str] = []
    for example in found:
        problems.extend(check(example))
    return len(found), problems


def caption_parts(path: str, first: int, last: int) -> str:
    """Return the `type` and `AMC reads` parts a caption for these lines would have."""
    records = source_records(path, first, last)
    kind = kind_of(path)
    named = "x/y" if kind in ("claude", "codex") else "x"
    parts = ["type `%s`" % type_of(kind, records[0], named)] if kind != "json" else []
    if kind in ("claude", "codex", "hooks"):
        parts.append("AMC reads %s" % ", ".join("`%s`" % t for t in reads(path, first, last)))
    version = cli_of(path, records)
    return "(version %s) · %s" % (version or "not recorded", " · ".join(parts))


def refresh(old: str, new: str) -> int:
    """Point every example taken from recording `old` (e.g. claude-code-2.1.329) at `new`.

    For each such example the same file in `new` is searched for the record of the same type
    that shares the most of the example's shown keys and values; the caption's path, line and
    version are rewritten and the block is re-cut from the new record with the old block's shape
    (the same keys, list lengths and string cuts). Examples with no counterpart are left alone
    and listed. Returns how many examples were moved."""
    moved = 0
    for page in pages():
        with open(page, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for example in reversed(list(examples(page))):
            if not example.path.startswith(old + "/") or example.first != example.last:
                continue
            target = new + example.path[len(old):]
            if not os.path.exists(os.path.join(FIXTURES, target)) or not example.block:
                print("left: %s:%d (no %s)" % (page, example.line, target))
                continue
            try:
                shown = json.loads(example.block)
            except ValueError:
                continue
            found = _counterpart(example, shown, target)
            if found is None:
                print("left: %s:%d (no counterpart in %s)" % (page, example.line, target))
                continue
            n, record = found
            version = new.rsplit("-", 1)[-1]
            caption = lines[example.line - 1]
            caption = caption.replace("`%s` line %d" % (example.path, example.first),
                                      "`%s` line %d" % (target, n))
            caption = caption.replace(old.rsplit("-", 1)[-1], version)
            lines[example.line - 1] = caption
            block = layout(_recut(shown, record)).split("\n")
            end = example.block_line - 1 + len(example.block.split("\n"))
            lines[example.block_line - 1:end] = block
            moved += 1
        with open(page, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return moved


def _counterpart(example: Example, shown: Any, target: str) -> Optional[Tuple[int, Any]]:
    kind = kind_of(example.path)
    old = source_records(example.path, example.first, example.first)[0]
    named = (example.parts.get("type") or ["x/y"])[0]
    best: Optional[Tuple[int, int, Any]] = None
    if target.endswith(".json"):
        return 1, source_records(target, 1, 1)[0]
    with open(os.path.join(FIXTURES, target), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if type_of(kind, record, named) != type_of(kind, old, named):
                continue
            score = _likeness(shown, record) - abs(n - example.first) * 0.01
            if best is None or score > best[0]:
                best = (score, n, record)
    return (best[1], best[2]) if best else None


def _likeness(doc: Any, src: Any) -> float:
    if isinstance(doc, dict) and isinstance(src, dict):
        return sum(1 + _likeness(v, src[k]) for k, v in doc.items() if k in src)
    if isinstance(doc, list) and isinstance(src, list):
        return sum(_likeness(a, b) for a, b in zip(doc, src))
    if isinstance(doc, str) and isinstance(src, str):
        return 2.0 if doc == src or (doc.endswith(ELLIPSIS) and src.startswith(doc[:-1])) else 0
    return 1.0 if doc == src else 0.0


def layout(value: Any, indent: str = "", width: int = 100) -> str:
    """Return `value` as JSON the way the pages show it: one line when it fits in `width`,
    else one key (or item) per line, each laid out the same way."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(indent) + len(flat) <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    inner_indent = indent + "  "
    if isinstance(value, dict):
        items = ["%s%s: %s" % (inner_indent, json.dumps(k, ensure_ascii=False),
                               layout(v, inner_indent, width).lstrip())
                 for k, v in value.items()]
        return "{\n%s\n%s}" % (",\n".join(items), indent)
    items = [inner_indent + layout(v, inner_indent, width).lstrip() for v in value]
    return "[\n%s\n%s]" % (",\n".join(items), indent)


def _recut(shape: Any, src: Any) -> Any:
    """Return `src` cut to the shape of `shape` (its keys, list lengths, string cuts)."""
    if isinstance(shape, dict) and isinstance(src, dict):
        return {k: _recut(v, src[k]) for k, v in shape.items() if k in src}
    if isinstance(shape, list) and isinstance(src, list):
        return [_recut(a, b) for a, b in zip(shape, src)]
    if isinstance(shape, str) and shape.endswith(ELLIPSIS) and isinstance(src, str):
        keep = len(shape) - 1
        return src if len(src) <= keep else src[:keep] + ELLIPSIS
    return src


def main(argv: List[str]) -> int:
    if argv[:1] == ["read"] and len(argv) == 3:
        first, _, last = argv[2].partition("-")
        print(caption_parts(argv[1], int(first), int(last or first)))
        return 0
    if argv[:1] == ["refresh"] and len(argv) == 3:
        print("moved %d examples" % refresh(argv[1], argv[2]))
        return 0
    if argv[:1] == ["check"]:
        failed = 0
        for page in argv[1:] or pages():
            count, problems = check_page(page)
            print("%s: %d examples, %d problems" % (os.path.relpath(page, ROOT), count,
                                                   len(problems)))
            for problem in problems:
                print("  " + problem)
            failed += len(problems)
        return 1 if failed else 0
    print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
