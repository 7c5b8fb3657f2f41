"""`amc channel install|uninstall [--user | --project DIR]` and `amc claude [ARGS...]`.

Place in the flow: this is setup, like install/hooks.py: it writes the files that make Claude Code
spawn `bin/amc-channel` (docs/answering.md), and starts Claude Code with the channel loaded.
- `--user` (the default): the MCP server `amc` in Claude Code's user config (`.claude.json` in
  `$CLAUDE_CONFIG_DIR`, else in HOME), and `mcp__amc__reply` in the user settings'
  `permissions.allow`, so the model replies without a prompt each time;
- `--project DIR`: the server in `DIR/.mcp.json`, and in `DIR/.claude/settings.json` the allow
  entry plus `enabledMcpjsonServers: ["amc"]` (the CLI would otherwise ask to approve the
  project's server).
What install added is remembered in `<data dir>/channel-install.json`, so uninstall removes
exactly that: an allow entry or a server the user had before stays. Every file is backed up
before a change and written atomically; a file that is not a JSON object is refused untouched.
A development channel loads only with `--dangerously-load-development-channels server:amc`
(the CLI shows a warning to accept): install prints the command, `amc claude` runs it, and how
`claude mcp list` shows the channel in a trusted and an untrusted folder (`install_note`).
"""
import os
import shlex
import shutil
import sys
from typing import Any, Dict, List, Mapping, Optional

from .. import store
from ..errors import ConfigError
from .hooks import load_json_object, write_json_object
from ..paths import Paths, layout

SERVER = "amc"
REPLY_TOOL = "mcp__amc__reply"
CHANNEL_FLAG = ["--dangerously-load-development-channels", "server:%s" % SERVER]


CHANNEL_NAME = "amc-channel"


def server_entry(env: Mapping[str, str]) -> Dict[str, Any]:
    """Return the MCP server entry that runs amc-channel (with this AMC_DATA_DIR, if set): this
    interpreter and the clone's bin/amc-channel, else the installed console script itself."""
    where = layout()
    if where.kind == "clone":
        entry: Dict[str, Any] = {"type": "stdio", "command": sys.executable,
                                 "args": [where.command(CHANNEL_NAME)]}
    else:
        entry = {"type": "stdio", "command": where.command(CHANNEL_NAME), "args": []}
    if env.get("AMC_DATA_DIR"):
        entry["env"] = {"AMC_DATA_DIR": os.path.abspath(env["AMC_DATA_DIR"])}
    return entry


def _ours(entry: Any) -> bool:
    """Tell whether an MCP server entry runs amc-channel (as its command or an argument)."""
    if not isinstance(entry, dict):
        return False
    args = entry.get("args") if isinstance(entry.get("args"), list) else []
    return any(isinstance(a, str) and os.path.basename(a) == CHANNEL_NAME
               for a in [entry.get("command")] + list(args))


def user_config(paths: Paths, env: Mapping[str, str]) -> str:
    """Return Claude Code's user config file (where `claude mcp add -s user` writes)."""
    if env.get("CLAUDE_CONFIG_DIR"):
        return os.path.join(paths.claude_dir, ".claude.json")
    return os.path.join(os.path.dirname(paths.claude_dir), ".claude.json")


def _record_file(paths: Paths) -> str:
    return os.path.join(paths.data, "channel-install.json")


def _records(paths: Paths) -> Dict[str, Any]:
    data = store.read_json(_record_file(paths))
    return data if isinstance(data, dict) else {}


def _targets(paths: Paths, env: Mapping[str, str], project: Optional[str]) -> Dict[str, str]:
    if project is None:
        return {"servers": user_config(paths, env), "settings": paths.claude_settings}
    directory = os.path.abspath(project)
    if not os.path.isdir(directory):
        raise ConfigError("%s is not a directory" % directory)
    return {"servers": os.path.join(directory, ".mcp.json"),
            "settings": os.path.join(directory, ".claude", "settings.json")}


def install(paths: Paths, env: Mapping[str, str], project: Optional[str] = None,
            remove: bool = False) -> List[str]:
    """Register (or with `remove`, unregister) the channel; return one line per file."""
    targets = _targets(paths, env, project)
    key = os.path.abspath(project) if project is not None else "user"
    records = _records(paths)
    mine = records.get(key) if isinstance(records.get(key), dict) else {}
    report = []

    servers, existed = load_json_object(targets["servers"])
    after = dict(servers)
    table = after.get("mcpServers", {})
    table = dict(table) if isinstance(table, dict) else None
    if table is None:
        raise ConfigError('%s: "mcpServers" is not an object; nothing was changed'
                          % targets["servers"])
    if remove:
        if _ours(table.get(SERVER)) and mine.get("server"):
            del table[SERVER]
    else:
        if SERVER in table and not _ours(table[SERVER]):
            raise ConfigError("%s already has an MCP server named %r that is not AMC's; "
                              "nothing was changed" % (targets["servers"], SERVER))
        mine["server"] = mine.get("server") or SERVER not in table or _ours(table[SERVER])
        table[SERVER] = server_entry(env)
    after["mcpServers"] = table
    if remove and not table:
        del after["mcpServers"]
    if not remove and not existed:
        mine["created"] = sorted(set(mine.get("created") or []) | {"servers"})
    report.append(_save(targets["servers"], servers, after, existed,
                        remove and "servers" in (mine.get("created") or [])))

    settings, existed = load_json_object(targets["settings"])
    after = dict(settings)
    perms = dict(after.get("permissions") or {}) if isinstance(after.get("permissions"),
                                                               dict) else {}
    allow = [a for a in perms.get("allow") or [] if isinstance(perms.get("allow"), list)]
    added = set(mine.get("settings") or [])
    if remove:
        if "allow" in added:
            allow = [a for a in allow if a != REPLY_TOOL]
        if "enabled" in added and isinstance(after.get("enabledMcpjsonServers"), list):
            after["enabledMcpjsonServers"] = [s for s in after["enabledMcpjsonServers"]
                                              if s != SERVER]
            if not after["enabledMcpjsonServers"]:
                del after["enabledMcpjsonServers"]
    else:
        if REPLY_TOOL not in allow:
            allow.append(REPLY_TOOL)
            added.add("allow")
        if project is not None:
            enabled = after.get("enabledMcpjsonServers")
            enabled = list(enabled) if isinstance(enabled, list) else []
            if SERVER not in enabled:
                after["enabledMcpjsonServers"] = enabled + [SERVER]
                added.add("enabled")
    if allow:
        perms["allow"] = allow
    else:
        perms.pop("allow", None)
    if perms:
        after["permissions"] = perms
    else:
        after.pop("permissions", None)
    if not remove and not existed:
        mine["created"] = sorted(set(mine.get("created") or []) | {"settings"})
    report.append(_save(targets["settings"], settings, after, existed,
                        remove and "settings" in (mine.get("created") or [])))

    if remove:
        records.pop(key, None)
    else:
        mine["settings"] = sorted(added)
        records[key] = mine
    try:
        store.ensure_dir(paths.data)
        store.write_json_atomic(_record_file(paths), records)
    except OSError as e:
        report.append("warning: cannot remember what was installed (%s): uninstall will "
                      "leave the allow entry" % e)
    return report


def _save(path: str, before: Dict[str, Any], after: Dict[str, Any], existed: bool,
          created_by_us: bool) -> str:
    """Write a changed file; a file install created and uninstall emptied is removed."""
    if created_by_us and not after and existed:
        store.remove(path)
        return "%s: removed (AMC created it)" % path
    if not after and not existed:
        return "%s: nothing to do" % path
    return "%s: %s" % (path, write_json_object(path, before, after, existed))


def folder_trusted(paths: Paths, env: Mapping[str, str], directory: str) -> bool:
    """Tell whether Claude Code trusts `directory`: its user config has
    `projects[<dir or a parent>].hasTrustDialogAccepted` (what accepting the trust dialog writes)."""
    data = store.read_json(user_config(paths, env))
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return False
    path = os.path.realpath(directory)
    while True:
        entry = projects.get(path)
        if isinstance(entry, dict) and entry.get("hasTrustDialogAccepted") is True:
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def install_note(paths: Paths, env: Mapping[str, str], project: Optional[str] = None) -> str:
    """Return what `amc channel install` prints after the files: how to start, how to check.

    Claude Code 2.1.337 checks stdio servers in `claude mcp list` only in a folder it trusts;
    elsewhere it prints "Not checked (folder not trusted; run `claude` here)" without starting
    the channel (2.1.332 started it anywhere)."""
    lines = ["AMC's channel is registered. Start Claude Code with it:",
             "  %s" % start_command(project),
             "(or `bin/amc claude`; the CLI shows a warning about development channels: accept it)",
             "Check it with `claude mcp list` in a project you trust: `amc: ... Connected`.",
             "In a folder Claude Code does not trust yet, 2.1.337 does not start the channel and",
             "prints `amc: ... Not checked (folder not trusted; run `claude` here)`: run `claude`",
             "there once and accept its trust dialog."]
    if project is not None and not folder_trusted(paths, env, project):
        lines.append("%s is not trusted by Claude Code yet: the first `claude` there asks."
                     % os.path.abspath(project))
    return "\n".join(lines)


def start_command(project: Optional[str] = None) -> str:
    """Return the one command that starts Claude Code with the channel (after install)."""
    # shlex.quote, not JSON: in double quotes a shell still runs $(...) and backticks of a path
    cd = "cd %s && " % shlex.quote(os.path.abspath(project)) if project else ""
    return "%sclaude %s" % (cd, " ".join(CHANNEL_FLAG))


def claude_argv(paths: Paths, env: Mapping[str, str], args: List[str],
                claude: str = "claude") -> List[str]:
    """Return the argv of `amc claude ARGS...`: Claude Code with AMC's channel loaded."""
    config = os.path.join(paths.data, "channel-mcp.json")
    store.ensure_dir(paths.data)
    store.write_json_atomic(config, {"mcpServers": {SERVER: server_entry(env)}}, indent=2)
    return [claude, "--mcp-config", config] + CHANNEL_FLAG + \
        ["--allowedTools", REPLY_TOOL] + list(args)


def find_claude(env: Mapping[str, str]) -> Optional[str]:
    return shutil.which("claude", path=env.get("PATH"))
