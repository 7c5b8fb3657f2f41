"""How Claude Code is started in a new pane (POST /api/sessions, actions/launch.py): its argv.

Claude Code takes AMC's session id (`--session-id`), so its card has its real id from the first
moment; `--resume <id>` goes on under the resumed id, in the same transcript (2.1.329).
"""
from typing import List

# `claude --help` of 2.1.329 lists these; "default" is still accepted (shown as manual mode).
PERMISSION_MODES = ("default", "acceptEdits", "auto", "bypassPermissions", "dontAsk", "manual",
                    "plan")
CHANNEL = True      # it can load AMC's channel (docs/answering.md)
OWN_ID = True       # it runs under the session id AMC gives it
DONE_IS_GONE = False  # a done session may still run in its pane (waiting for the next prompt)


def argv(binary: str, session_id: str, prompt: str = "", permission_mode: str = "",
         mcp_config: str = "", resume: str = "", channel_server: str = "amc",
         channel_tool: str = "mcp__amc__reply") -> List[str]:
    """Return the Claude Code command: AMC's session id, the options, the prompt after `--`.

    With `resume`, `--resume <id>` instead of `--session-id` (the CLI refuses both; 2.1.329
    goes on under the resumed id, in the same transcript).
    """
    out = [binary, "--resume", resume] if resume else [binary, "--session-id", session_id]
    if permission_mode:
        out += ["--permission-mode", permission_mode]
    if mcp_config:
        out += ["--mcp-config", mcp_config,
                "--dangerously-load-development-channels", "server:" + channel_server,
                "--allowedTools", channel_tool]
    # `--` ends the variadic options (--mcp-config, --allowedTools would take the prompt)
    return out + (["--", prompt] if prompt else [])
