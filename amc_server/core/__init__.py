"""The live core: one in-memory model of every session, fed by changes, with an event log.

Sources (hook files, Claude's registry, Codex rollouts, transcripts) -> core -> api / stream -> page.
"""
