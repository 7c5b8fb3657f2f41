"""Claude Code: transcripts, the live-session registry, questions, subagents, images, its TUI.

`transcript.py` (Claude Code's JSONL -> Messages), `registry.py` (`$CLAUDE_CONFIG_DIR/sessions/`),
`questions.py` (whether a pending question closed), `tasks.py`, `subagents.py`,
`subagent_reader.py` (Task/Agent calls and their files), `images.py`, `screen.py` (what to type),
`usage.py` (tokens and cost of its API messages).
"""
from .. import Agent
from . import images, launch, questions, screen, subagent_reader
from .transcript import ClaudeTranscript, cwd_of, find_transcript, session_files, session_of
from .usage import ClaudeUsage

AGENT = Agent(name="claude", label="Claude Code", transcript=ClaudeTranscript,
              find_transcript=find_transcript, screen=screen, usage=ClaudeUsage,
              session_files=session_files, session_of=session_of, cwd_of=cwd_of,
              questions=questions, subagents=subagent_reader, images=images,
              launch=launch)
