"""What every recorded scenario shares: where a recording goes, and the paths rewritten.

A scenario is a function `record(out: Recording) -> None` that runs the real CLI
(tests/support/tools.py's pinned version, or AMC_TEST_CLAUDE_VERSION / AMC_TEST_CODEX_VERSION)
against tests/support/fakemodel.py in a private tmux or as `codex exec`, and hands every file it
captured to `out.write(name, text)`. The files land in `tests/fixtures/<slug>-<version>/<scenario>/`
with the temporary directories the run used rewritten to the stable `/home/dev/...` paths the
fixtures have always had, so two versions' recordings differ only where the CLI changed.
"""
import json
import os
from typing import Any, Dict, List, Optional, Tuple

from tests.support.helpers import ROOT

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SLUGS = {"claude": "claude-code", "codex": "codex"}
HOME = "/home/dev"


def fixture_dir(cli: str, version: str) -> str:
    """Return tests/fixtures/<slug>-<version> for `cli` ("claude" or "codex")."""
    return os.path.join(FIXTURES, "%s-%s" % (SLUGS[cli], version))


def recorded_versions(cli: str) -> List[str]:
    """Return the versions of `cli` with a recording in tests/fixtures, oldest first."""
    prefix = SLUGS[cli] + "-"
    found = [name[len(prefix):] for name in os.listdir(FIXTURES)
             if name.startswith(prefix) and os.path.isdir(os.path.join(FIXTURES, name))]
    return sorted(found, key=version_key)


def version_key(version: str) -> Tuple[Any, ...]:
    """Sort key for dotted versions ("2.1.332" after "2.1.40")."""
    return tuple(int(p) if p.isdigit() else p for p in version.replace("-", ".").split("."))


class Recording:
    """The files of one scenario's run, written under `directory` with paths rewritten.

    `rewrite` maps a temporary path to its stable replacement, longest first, so the project dir
    inside the home is rewritten before the home itself (and its Claude projects dir name, which
    is the path with every non-alphanumeric character turned into "-", too).
    """

    def __init__(self, directory: str, rewrite: Optional[Dict[str, str]] = None) -> None:
        self.directory = directory
        self.rewrite: Dict[str, str] = {}
        for old, new in (rewrite or {}).items():
            self.map_path(old, new)

    def map_path(self, old: str, new: str) -> None:
        """Rewrite `old` (a real temporary path) to `new`, and its project-dir spelling too."""
        if old and old != new:
            self.rewrite[old] = new
            self.rewrite[claude_project_name(old)] = claude_project_name(new)

    def clean(self, text: str) -> str:
        """Return `text` with every mapped path replaced, longest first."""
        for old in sorted(self.rewrite, key=len, reverse=True):
            text = text.replace(old, self.rewrite[old])
        return text

    def write(self, name: str, text: str) -> str:
        """Write `text` (paths rewritten) to `<directory>/<name>`; return the path."""
        path = os.path.join(self.directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.clean(text))
        return path

    def write_file(self, name: str, source: str) -> str:
        """Copy the text file `source` to `<directory>/<name>` with paths rewritten."""
        with open(source, encoding="utf-8", errors="replace") as f:
            return self.write(name, f.read())

    def write_json(self, name: str, value: Any) -> str:
        """Write `value` as indented JSON (paths rewritten)."""
        return self.write(name, json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    def write_jsonl(self, name: str, values: List[Any]) -> str:
        """Write one compact JSON value per line (paths rewritten)."""
        return self.write(name, "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values))


def claude_project_name(path: str) -> str:
    """Return the directory name Claude Code gives a project under ~/.claude/projects."""
    return "".join(c if c.isalnum() else "-" for c in path)
