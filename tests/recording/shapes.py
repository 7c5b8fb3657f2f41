"""Recordings read into shapes: what `tests/recording/changes.py` compares.

A recording (tests/fixtures/<slug>-<version>/) is read per scenario directory, or from the flat
0.169.0 Codex layout whose file names LEGACY maps to scenario names, into: record types with the
key paths of each (`message.usage.x`, `[]` for list elements, `*` for keys that are data) and their
JSON types, hook payloads per `hook_event_name`, notify payloads per `type`, sessions-registry.json
keys, mcp.jsonl methods, and screens.txt. Reads are tolerant: torn lines and non-objects are
skipped, unreadable files are empty.
"""
import json
import os
import re
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from amc_server import jsonl
from amc_server import store
from tests.recording.common import SLUGS

MAX_DEPTH = 12
# The flat 0.169.0 Codex layout: file name (after "codex-0.169.0-") -> scenario (None: the whole
# recording, as those hook/notify captures came from many runs).
LEGACY = {"exec-apply-patch-gpt55": "exec-apply-patch", "apply-patch-update": "exec-apply-patch",
          "hook-payloads": None, "notify-payloads": None}
LEGACY_SCREEN_LABELS = {"tui-trust-screen": "the folder-trust screen at start"}

Shape = Dict[str, Dict[str, Set[str]]]  # record type (or event) -> key path -> JSON types


def read_jsonl(path: str) -> List[Dict[str, Any]]:
    """Return the JSON objects of a JSONL file ([] when absent); torn lines are skipped."""
    return jsonl.read_objects(path)


def json_type(value: Any) -> str:
    """Return a value's JSON type: object, array, string, number, bool, null."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


_DATA_KEY = re.compile(r"[/\\]|^-[\w-]+$|^[0-9a-f-]{8,}$|^\d+$")


def field_key(key: str) -> str:
    """Return `key`, or "*" for keys that are data (paths, ids, numbers), not fields."""
    return "*" if len(key) > 60 or _DATA_KEY.search(key) else key


def fields(value: Any, prefix: str = "", depth: int = 0) -> Iterator[Tuple[str, str]]:
    """Yield (key path, JSON type) for every key under `value` (`[]` marks list elements)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            path = (prefix + "." if prefix else "") + field_key(str(k))
            yield path, json_type(v)
            yield from fields(v, path, depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield prefix + "[]", json_type(v)
            yield from fields(v, prefix + "[]", depth + 1)


def record_type(record: Dict[str, Any], cli: str) -> str:
    """Return a record's type as the reference names it (see the module docstring)."""
    kind = record.get("type") if isinstance(record.get("type"), str) else "(no type)"
    if cli == "codex":
        payload = record.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("type"), str):
            return kind + "/" + payload["type"]
        return kind
    attachment = record.get("attachment")
    if kind == "attachment" and isinstance(attachment, dict) and \
            isinstance(attachment.get("type"), str):
        return "attachment/" + attachment["type"]
    if isinstance(record.get("subtype"), str):
        return kind + "/" + record["subtype"]
    return kind


def hook_payload(line: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """Return (hook_event_name, payload) of a hooks.jsonl line, in any of the recorded shapes:
    `{"event", "stdin"}` (Codex), `{"tmux_pane", "payload"}` (Claude) or the bare payload."""
    payload = line
    for key in ("stdin", "payload"):
        if isinstance(line.get(key), dict):
            payload = line[key]
            break
    name = payload.get("hook_event_name") or line.get("event") or "(no event name)"
    return str(name), payload


def add_shape(shape: Shape, kind: str, value: Any) -> None:
    paths = shape.setdefault(kind, {})
    for path, jtype in fields(value):
        paths.setdefault(path, set()).add(jtype)


def merge(shapes: Iterable[Shape]) -> Shape:
    out: Shape = {}
    for shape in shapes:
        for kind, paths in shape.items():
            mine = out.setdefault(kind, {})
            for path, types in paths.items():
                mine.setdefault(path, set()).update(types)
    return out


class Scenario:
    """What one scenario's files hold (the flat layout's hook/notify files: scenario None)."""

    def __init__(self) -> None:
        self.records: Shape = {}
        self.hooks: Shape = {}
        self.notify: Shape = {}
        self.registry: Set[str] = set()
        self.mcp: Set[str] = set()
        self.screens: Optional[str] = None


class Recording:
    """One recording directory read into scenarios."""

    def __init__(self, directory: str, cli: str = "", version: str = "") -> None:
        self.directory = directory
        self.name = os.path.basename(os.path.normpath(directory))
        self.cli = cli or ("codex" if self.name.startswith(SLUGS["codex"]) else "claude")
        prefix = SLUGS[self.cli] + "-"
        self.version = version or (self.name[len(prefix):] if self.name.startswith(prefix)
                                   else self.name)
        self.scenarios: Dict[Optional[str], Scenario] = {}
        for path, scenario in self._files():
            self._read(path, self.scenarios.setdefault(scenario, Scenario()))

    def _files(self) -> Iterator[Tuple[str, Optional[str]]]:
        flat = "%s-%s-" % (SLUGS[self.cli], self.version)
        for top in sorted(os.listdir(self.directory)):
            path = os.path.join(self.directory, top)
            if os.path.isdir(path):
                scenario = LEGACY.get(top, top)
                for base, dirs, files in os.walk(path):
                    dirs.sort()
                    for name in sorted(files):
                        yield os.path.join(base, name), scenario
            elif top.startswith(flat):
                stem = top[len(flat):].rsplit(".", 1)[0]
                yield path, LEGACY.get(stem, stem)

    def _read(self, path: str, scenario: Scenario) -> None:
        name = os.path.basename(path)
        stem = name.rsplit(".", 1)[0]
        if name == "hooks.jsonl" or stem.endswith("hook-payloads"):
            for line in read_jsonl(path):
                event, payload = hook_payload(line)
                add_shape(scenario.hooks, event, payload)
        elif name == "notify.jsonl" or stem.endswith("notify-payloads"):
            for payload in read_jsonl(path):
                add_shape(scenario.notify, str(payload.get("type", "(no type)")), payload)
        elif name == "mcp.jsonl":
            for line in read_jsonl(path):
                msg = line.get("msg") if isinstance(line.get("msg"), dict) else line
                if isinstance(msg.get("method"), str):
                    scenario.mcp.add("%s %s" % (line.get("dir", "?"), msg["method"]))
        elif name == "sessions-registry.json":
            try:
                with open(path, encoding="utf-8") as f:
                    value = json.load(f)
            except (OSError, ValueError):
                return
            scenario.registry.update(p for p, _ in fields(value))
        elif name.endswith(".txt") and ("screen" in stem):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for suffix, label in LEGACY_SCREEN_LABELS.items():
                if stem.endswith(suffix) and name != "screens.txt":
                    text = "%s:\n%s" % (label, text)
            scenario.screens = (scenario.screens or "") + text
        elif name.endswith(".jsonl"):
            for record in read_jsonl(path):
                add_shape(scenario.records, record_type(record, self.cli), record)

    def named(self) -> Set[str]:
        return {s for s in self.scenarios if s is not None}

    def shape(self, attr: str, only: Optional[Set[str]] = None) -> Shape:
        """Merge one kind of shape over the scenarios in `only` (all when None) + the unnamed."""
        return merge(getattr(s, attr) for name, s in self.scenarios.items()
                     if name is None or only is None or name in only)

    def union(self, attr: str) -> Set[str]:
        out: Set[str] = set()
        for s in self.scenarios.values():
            out |= getattr(s, attr)
        return out
