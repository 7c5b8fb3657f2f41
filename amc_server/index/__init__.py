"""Full-text search over every transcript AMC can see (docs/search.md).

Place in the flow: transcripts (live and past, Claude Code and Codex) -> agents/ readers ->
indexer.py (a background walk, plus the core's `transcript_listeners`) -> `<data dir>/index.sqlite`
(SQLite FTS5, db.py) <- query.py <- `GET /api/search` (api.py). The index is derived: deleting the
file loses nothing but the time to build it again. It is a consumer only: it never changes a
session. Only this machine's transcripts are indexed (`machine` is always ""): other machines'
transcripts stay on those machines.

server.py calls `start(core)` once the core runs and `stop(core)` when it closes; api.py calls
`search(core, query)`. sqlite3 is imported only here, on first use, so a Python built without it
still serves everything else (search then answers 503 saying why).
"""
import logging
from http import HTTPStatus
from typing import Any, Dict, Mapping, Optional, Tuple

from ..errors import ApiError

log = logging.getLogger("amc.index")


def start(core: Any) -> Optional[Any]:
    """Start indexing for a running core; return its SearchIndex (None when it cannot run)."""
    try:
        from .indexer import SearchIndex
    except ImportError as e:  # a Python without sqlite3
        core.search_index_error = "this Python has no sqlite3 module (%s)" % e
        log.warning("search is unavailable: %s", core.search_index_error)
        return None

    def locate(session_id: str) -> Tuple[str, str, str]:
        agent, path = core.conversations.locate(session_id)
        session = core.session(session_id) or {}
        return agent, path, str(session.get("project_dir") or "")

    index = SearchIndex(core.paths, tuple(core.agents), locate)
    core.search_index = index
    core.transcript_listeners.append(index.changed)
    index.start()
    return index


def stop(core: Any) -> None:
    """Stop the core's index, if it has one."""
    index = getattr(core, "search_index", None)
    if index is not None:
        index.stop()


def search(core: Any, query: Mapping[str, str]) -> Dict[str, Any]:
    """Answer GET /api/search for this core (docs/search.md)."""
    index = getattr(core, "search_index", None)
    if index is None:
        why = getattr(core, "search_index_error", "") or "this server does not index transcripts"
        raise ApiError("search is unavailable: %s" % why, HTTPStatus.SERVICE_UNAVAILABLE)
    return index.search(dict(query))
