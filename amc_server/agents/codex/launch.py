"""How Codex is started in a new pane (POST /api/sessions, actions/launch.py): its argv.

Codex chooses its own session id, so a launched Codex shows as a `starting` placeholder until its
rollout appears (actions/start_dialogs.py joins the two); `codex resume <id>` goes on with a past
session (0.169.0 appends to its rollout).
"""
from typing import List

PERMISSION_MODES: tuple = ()  # none AMC passes
CHANNEL = False
OWN_ID = False       # it chooses its own id: the card is a placeholder until its rollout appears
DONE_IS_GONE = True  # a done rollout with no pane is a Codex that is gone (`codex exec`)


def argv(binary: str, session_id: str = "", prompt: str = "", permission_mode: str = "",
         mcp_config: str = "", resume: str = "", **_channel: str) -> List[str]:
    """Return the Codex command: the interactive CLI with the prompt as its one argument;
    `codex resume <id>` to go on with a past session. (`session_id`, `permission_mode`,
    `mcp_config`: not Codex's; parse() refuses them before.)"""
    return [binary] + (["resume", resume] if resume else []) + (["--", prompt] if prompt else [])
