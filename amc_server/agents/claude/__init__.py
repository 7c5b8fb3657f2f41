"""Claude Code: transcripts, the live-session registry, questions, subagents, images, its TUI.

`transcript.py` (Claude Code's JSONL -> Messages), `registry.py` (`$CLAUDE_CONFIG_DIR/sessions/`),
`questions.py` (whether a pending question closed), `tasks.py`, `subagents.py`,
`subagent_reader.py` (Task/Agent calls and their files), `images.py`, `screen.py` (what to type).
"""
from .. import Agent
from . import screen
from .transcript import ClaudeTranscript, find_transcript

AGENT = Agent(name="claude", label="Claude Code", transcript=ClaudeTranscript,
              find_transcript=find_transcript, screen=screen)
