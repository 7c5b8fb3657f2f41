"""Codex CLI: rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`), finding them, the
process (hence the pane) behind one, its TUI.

`transcript.py` (a rollout -> Messages), `discovery.py` (finding rollouts; a rollout as a
Session; reconciling it with hook state), `process.py` (the Codex process behind a rollout),
`screen.py` (what to type), `usage.py` (its token_count events).
"""
from .. import Agent
from . import launch, screen
from .process import Finder
from .discovery import cwd_of, find_rollout, session_files, session_of, started_of
from .transcript import CodexTranscript
from .usage import CodexUsage

AGENT = Agent(name="codex", label="Codex", transcript=CodexTranscript,
              find_transcript=find_rollout, screen=screen, usage=CodexUsage,
              session_files=session_files, session_of=session_of, cwd_of=cwd_of,
              started_of=started_of, launch=launch, process=Finder)
