"""What to type into an agent's terminal, as data: the seam between agents/ and terminals/.

An agent module (which knows its TUI: option numbers, the "Type something" row, how a prompt is
submitted) turns an answer into a `Plan`, a list of `Step`s; a terminal backend (which knows its
multiplexer's argv) carries the plan out. Neither imports the other, so a new agent works in every
multiplexer and a new multiplexer works for every agent.
"""
from typing import List, NamedTuple, Union

TEXT = "text"     # literal characters, typed as they are (one line, no control characters)
PASTE = "paste"   # a bracketed paste: the agent receives the whole text, newlines included, at once
KEY = "key"       # one named key, from KEYS
PAUSE = "pause"   # wait this many milliseconds before the next step

KEYS = ("Enter", "Escape", "Tab", "BTab", "Up", "Down", "Left", "Right", "BSpace", "Space")


class Step(NamedTuple):
    kind: str
    value: Union[str, int]


Plan = List[Step]


def text(value: str) -> Step:
    """Type `value` literally (the caller keeps it to one line)."""
    if "\n" in value or "\r" in value:
        raise ValueError("a text step is one line; use paste() for multi-line text")
    return Step(TEXT, value)


def paste(value: str) -> Step:
    """Paste `value` as one bracketed paste, so newlines do not submit it line by line."""
    return Step(PASTE, value)


def key(name: str) -> Step:
    """Press the named key."""
    if name not in KEYS:
        raise ValueError("unknown key %r (known: %s)" % (name, ", ".join(KEYS)))
    return Step(KEY, name)


def pause(ms: int) -> Step:
    """Wait `ms` milliseconds (lets a TUI draw what the previous step opened)."""
    return Step(PAUSE, max(0, int(ms)))


def describe(plan: Plan) -> str:
    """Return a short, log-safe description of a plan (lengths, never the typed text)."""
    parts = []
    for step in plan:
        if step.kind in (TEXT, PASTE):
            parts.append("%s(%d chars)" % (step.kind, len(str(step.value))))
        else:
            parts.append("%s(%s)" % (step.kind, step.value))
    return " ".join(parts)
