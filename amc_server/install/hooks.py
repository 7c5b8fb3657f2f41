"""`amc hooks install|uninstall|status`: wire bin/amc-hook into Claude Code (and Codex).

Claude Code reads hooks from `$CLAUDE_CONFIG_DIR/settings.json` in its nested format:
`{"hooks": {"<Event>": [{"matcher": "*", "hooks": [{"type": "command", "command": "..."}]}]}}`
(the matcher only on tool events). We merge AMC's entries in and leave every other setting and
every other tool's hooks untouched; running install twice changes nothing; a timestamped backup is
written before any change; a file that is not valid JSON is refused with no write.

Codex reads the same schema from `$CODEX_HOME/hooks.json`, and runs `notify = [...]` from
`config.toml` after each turn; `--codex` configures both. We never rewrite TOML we do not own: the
top-level `notify` line is added only when absent, and removed only when it is ours.
"""
import os
import re
import shlex
import shutil
import time
from typing import Any, Dict, List, Optional, Tuple

from ..hook import wait as hook_answers
from .. import store
from ..errors import ConfigError
from ..paths import Paths, layout

CLAUDE_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                 "PostToolUse", "PostToolUseFailure", "Notification", "Stop", "StopFailure",
                 "SubagentStart", "SubagentStop", "PreCompact", "SessionEnd")
CODEX_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                "PostToolUse", "Stop", "SessionEnd")
TOOL_EVENTS = frozenset({"PreToolUse", "PermissionRequest", "PostToolUse", "PostToolUseFailure"})
HOOK_TIMEOUT_S = 10
HOOK_NAME = "amc-hook"
# `--hook-answers` (docs/answering.md): PermissionRequest runs `amc-hook --wait-answer`, which
# waits up to hook_answers.DEFAULT_WAIT_S; Claude's own timeout is a safety net a little later.
WAIT_ANSWER_FLAG = hook_answers.FLAG
WAIT_ANSWER_TIMEOUT_S = int(hook_answers.DEFAULT_WAIT_S) + 10


def hook_argv() -> List[str]:
    """Return how agents run the hook: `python3 -S <clone>/bin/amc-hook`, `python3 -S
    <cache>/amc/amc.pyz hook` from the zipapp on a remote, else the installed console script
    (its own path: an agent's shell need not have the venv or pipx's bin dir on its PATH).

    `-S` skips `site`: the hook needs only the standard library, and a Python whose site-packages
    hold `.pth` files pays tens of milliseconds for them on every agent event otherwise. The
    console script cannot skip it: its package lives in site-packages.
    """
    where = layout()
    if where.kind == "zipapp":  # remote/zipapp.py, as run: `<cache>/amc/amc.pyz`
        return ["python3", "-S", where.home, "hook"]
    if where.kind == "clone":
        return ["python3", "-S", where.command(HOOK_NAME)]
    return [where.command(HOOK_NAME)]


def hook_command() -> str:
    """Return `hook_argv()` as one shell command line (what the agents' settings hold)."""
    return " ".join(shlex.quote(a) for a in hook_argv())


def _is_amc(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
        return False
    try:
        words = shlex.split(entry["command"])
    except ValueError:
        return False
    # `<path>/amc-hook ...` (older installs, the console script) or `python3 -S <path>/amc-hook`
    return any(os.path.basename(w) == HOOK_NAME for w in words[:3]) or \
        (len(words) >= 4 and words[2].endswith(".pyz") and words[3] == "hook")


def _load(path: str) -> Tuple[Dict[str, Any], bool]:
    """Return (settings, existed); raise ConfigError when the file is not a JSON object."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return {}, False
    if not raw.strip():
        return {}, True
    try:
        data = store.loads(raw)
    except ValueError as e:
        raise ConfigError("%s is not valid JSON (%s); fix it by hand, nothing was changed"
                          % (path, e)) from e
    if not isinstance(data, dict):
        raise ConfigError("%s does not hold a JSON object; nothing was changed" % path)
    if not isinstance(data.get("hooks", {}), dict):
        raise ConfigError("%s: \"hooks\" is not an object; nothing was changed" % path)
    return data, True


def _strip_amc(groups: Any) -> List[Any]:
    """Return the event's matcher groups without AMC's hook entries (empty groups dropped)."""
    out = []
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            kept = [h for h in group["hooks"] if not _is_amc(h)]
            if kept:
                out.append(dict(group, hooks=kept))
            elif not group["hooks"]:
                out.append(group)
        else:
            out.append(group)
    return out


def merged(settings: Dict[str, Any], events: Tuple[str, ...], command: str,
           install: bool, overrides: Optional[Dict[str, Tuple[str, int]]] = None
           ) -> Dict[str, Any]:
    """Return settings with AMC's entries for `events` added (install) or removed.

    `overrides` maps an event to its own (command, timeout): PermissionRequest with hook answers.
    """
    result = dict(settings)
    hooks = dict(result.get("hooks") or {})
    for event in events:
        groups = _strip_amc(hooks.get(event))
        if install:
            cmd, timeout = (overrides or {}).get(event, (command, HOOK_TIMEOUT_S))
            group: Dict[str, Any] = {"hooks": [{"type": "command", "command": cmd,
                                                "timeout": timeout}]}
            if event in TOOL_EVENTS:
                group = {"matcher": "*", **group}
            groups.append(group)
        if groups:
            hooks[event] = groups
        else:
            hooks.pop(event, None)
    if hooks:
        result["hooks"] = hooks
    else:
        result.pop("hooks", None)
    return result


def installed_events(path: str) -> List[str]:
    """Return the events for which `path` runs amc-hook."""
    try:
        settings, _ = _load(path)
    except ConfigError:
        return []
    out = []
    for event, groups in (settings.get("hooks") or {}).items():
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict) and any(_is_amc(h) for h in group.get("hooks") or []):
                out.append(event)
                break
    return out


def hook_answers_installed(path: str) -> bool:
    """Tell whether `path` runs `amc-hook --wait-answer` on PermissionRequest."""
    try:
        settings, _ = _load(path)
    except ConfigError:
        return False
    groups = (settings.get("hooks") or {}).get("PermissionRequest")
    for group in groups if isinstance(groups, list) else []:
        for h in (group.get("hooks") or []) if isinstance(group, dict) else []:
            if _is_amc(h) and WAIT_ANSWER_FLAG in h["command"]:
                return True
    return False


def _write(path: str, before: Dict[str, Any], after: Dict[str, Any], existed: bool) -> str:
    """Write `after` to `path` unless unchanged; back up the old file first. Return a summary."""
    if after == before and existed:
        return "unchanged"
    store.ensure_dir(os.path.dirname(path))
    backup = ""
    if existed:
        backup = "%s.amc-backup-%s" % (path, time.strftime("%Y%m%d-%H%M%S"))
        n = 1
        while os.path.exists(backup):
            backup = "%s.amc-backup-%s-%d" % (path, time.strftime("%Y%m%d-%H%M%S"), n)
            n += 1
        shutil.copy2(path, backup)
    mode = os.stat(path).st_mode & 0o777 if existed else 0o644
    store.write_json_atomic(path, after, mode=mode, indent=2)
    return "written (backup: %s)" % backup if backup else "written"


# For the other installers (install/channel.py): the same tolerant load and backed-up write.
load_json_object = _load
write_json_object = _write


def edit_json_hooks(path: str, events: Tuple[str, ...], command: str, install: bool,
                    overrides: Optional[Dict[str, Tuple[str, int]]] = None) -> str:
    """Install or remove AMC's hooks in one settings/hooks JSON file; return what happened."""
    settings, existed = _load(path)
    if not existed and not install:
        return "unchanged"
    return _write(path, settings, merged(settings, events, command, install, overrides), existed)


NOTIFY_RE = re.compile(r"^\s*notify\s*=")
TABLE_RE = re.compile(r"^\s*\[")


def edit_codex_notify(path: str, argv: List[str], install: bool) -> str:
    """Add (or remove) `notify = [<hook argv>..., "--codex-notify"]` in Codex's config.toml."""
    ours = "notify = %s" % store.dumps(list(argv) + ["--codex-notify"])
    try:
        with open(path, "r", encoding="utf-8") as f:
            lines = f.read().splitlines()
        existed = True
    except FileNotFoundError:
        lines, existed = [], False
    top = []
    for line in lines:
        if TABLE_RE.match(line):
            break
        top.append(line)
    current = [line for line in top if NOTIFY_RE.match(line)]
    if install:
        if current:
            if HOOK_NAME in current[0]:
                return "unchanged"
            return "left alone: notify is already set (%s); add AMC by hand" % current[0].strip()
        new_lines = [ours] + lines
    else:
        if not current or HOOK_NAME not in current[0]:
            return "unchanged"
        new_lines = [line for line in lines if line is not current[0]]
    store.ensure_dir(os.path.dirname(path))
    if existed:
        shutil.copy2(path, "%s.amc-backup-%s" % (path, time.strftime("%Y%m%d-%H%M%S")))
    store.write_bytes_atomic(path, ("\n".join(new_lines) + "\n").encode("utf-8"), 0o600)
    return "written"


def install(paths: Paths, codex: bool = False, remove: bool = False,
            hook_answers: bool = False) -> List[str]:
    """Install (or with `remove`, uninstall) AMC's hooks; return one report line per file.

    `hook_answers` makes Claude's PermissionRequest hook wait for the dashboard's answer.
    """
    command = hook_command()
    overrides = {"PermissionRequest": (command + " " + WAIT_ANSWER_FLAG, WAIT_ANSWER_TIMEOUT_S)} \
        if hook_answers else None
    report = ["%s: %s" % (paths.claude_settings,
                          edit_json_hooks(paths.claude_settings, CLAUDE_EVENTS, command,
                                          not remove, overrides))]
    if codex:
        report.append("%s: %s" % (paths.codex_hooks, edit_json_hooks(
            paths.codex_hooks, CODEX_EVENTS, command + " --agent codex", not remove)))
        report.append("%s: %s" % (paths.codex_config, edit_codex_notify(
            paths.codex_config, hook_argv(), not remove)))
    return report


def status(paths: Paths) -> Dict[str, Any]:
    """Return which events run amc-hook for Claude and for Codex."""
    claude = installed_events(paths.claude_settings)
    codex = installed_events(paths.codex_hooks)
    return {"claude": {"settings": paths.claude_settings, "events": claude,
                       "missing": [e for e in CLAUDE_EVENTS if e not in claude],
                       "hook_answers": hook_answers_installed(paths.claude_settings)},
            "codex": {"hooks": paths.codex_hooks, "events": codex,
                      "missing": [e for e in CODEX_EVENTS if e not in codex]}}
