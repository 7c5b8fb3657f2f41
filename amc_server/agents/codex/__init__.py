"""Codex CLI: rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`), finding them, the
process (hence the pane) behind one, its TUI.

`transcript.py` (a rollout -> Messages), `discovery.py` (finding rollouts; a rollout as a
Session; reconciling it with hook state), `process.py` (the Codex process behind a rollout),
`screen.py` (what to type).
"""
from .. import Agent
from . import screen
from .discovery import find_rollout
from .transcript import CodexTranscript

AGENT = Agent(name="codex", label="Codex", transcript=CodexTranscript,
              find_transcript=find_rollout, screen=screen)
