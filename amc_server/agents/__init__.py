"""The agent family: one package per coding agent AMC understands, each describing itself once.

`FAMILY` is the explicit list; each member is the package `agents/<name>/`, whose `AGENT` (an
`Agent`) says what it provides to the rest of AMC: the reader of its transcript, how to find a
session's transcript, its label, the module that reads its TUI and plans what to type
(`screen`), its usage fold, which files are its sessions, and what it alone has (questions that
close, subagents, images). A member that fails to import is logged, never silently dropped, and the rest keep
working. agents/ never imports terminals/ (and vice versa).
"""
import importlib
import logging
from types import ModuleType
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Tuple

log = logging.getLogger("amc.agents")

FAMILY = ("claude", "codex")


class Agent(NamedTuple):
    """What one agent package provides (its `AGENT`)."""
    name: str                                         # as in sessions' `agent`, hooks, the page
    label: str                                        # for people: "Claude Code", "Codex"
    transcript: Callable[..., Any]                    # (path, session_id, clip=True) -> reader
    find_transcript: Callable[[Any, str], Optional[str]]  # (paths, session id) -> its file
    screen: ModuleType                                # its TUI: dialogs read, answers planned
    usage: Callable[..., Any]                         # (by_day) -> its usage.Accumulator
    session_files: Callable[[Any], Iterator[Tuple[str, str, bool]]]  # paths -> (path, sid, linked)
    session_of: Callable[[Any, str], str]             # (paths, path) -> its session id, or ""
    cwd_of: Callable[[Dict[str, Any]], str]           # a record -> the directory it names, or ""
    started_of: Optional[Callable[[Dict[str, Any]], str]] = None  # a record -> when it says
    #                                                   the session started (beyond timestamps)
    questions: Optional[ModuleType] = None            # whether a pending question closed
    subagents: Optional[ModuleType] = None            # its subagents' files (annotate, readers)
    images: Optional[ModuleType] = None               # one image's bytes read back, checked
    launch: Optional[ModuleType] = None               # starting it in a pane: argv, options
    process: Optional[Callable[[], Callable[[Any], int]]] = None  # () -> (session -> pid) for
    #                                                   sessions that come without a pid (its pane)


_LOADED: Dict[str, Agent] = {}


def load() -> Dict[str, Agent]:
    """Import every agent package; return the `Agent` of those that loaded, by name."""
    if not _LOADED:
        for name in FAMILY:
            try:
                _LOADED[name] = importlib.import_module("%s.%s" % (__name__, name)).AGENT
            except Exception:
                log.exception("agent package %s failed to load; its sessions will be missing",
                              name)
    return dict(_LOADED)


def names() -> Tuple[str, ...]:
    """Return the names of the agents that loaded, in FAMILY's order."""
    return tuple(n for n in FAMILY if n in load())


def get(name: str) -> Optional[Agent]:
    """Return the `Agent` called `name`, or None when AMC has none of that name."""
    if not _LOADED:
        load()
    return _LOADED.get(name)


def label(name: str) -> str:
    """Return an agent's name for people ("Claude Code"); the name itself when unknown."""
    agent = get(name)
    return agent.label if agent is not None else name
