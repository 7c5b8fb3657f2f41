"""Full-text search over every transcript AMC can see (docs/search.md).

Place in the flow: transcripts (live and past, Claude Code and Codex) -> agents/ readers ->
indexer.py (a background walk, plus the core's `transcript_listeners`) -> `<data dir>/index.sqlite`
(SQLite FTS5, db.py) <- query.py <- `GET /api/search` (http/api.py). The index is derived: deleting the
file loses nothing but the time to build it again. It is a consumer only: it never changes a
session. Only this machine's transcripts are indexed (`machine` is always ""): other machines'
transcripts stay on those machines.

app.py calls `start(core)` once the core runs (and the index's `stop()` when it closes); http/api.py
calls `search(app, query)`. sqlite3 is imported only here, on first use, so a Python built without it
still serves everything else (search then answers 503 saying why).
"""
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

from ..errors import ApiError

if TYPE_CHECKING:
    from ..app import App
    from ..core.live import Core

log = logging.getLogger("amc.index")


def start(core: "Core") -> Tuple[Optional[Any], str]:
    """Start indexing for a running core; return (its SearchIndex, "") or (None, why not)."""
    try:
        from .indexer import SearchIndex
    except ImportError as e:  # a Python without sqlite3
        why = "this Python has no sqlite3 module (%s)" % e
        log.warning("search is unavailable: %s", why)
        return None, why

    def locate(session_id: str) -> Tuple[str, str, str]:
        agent, path = core.conversations.locate(session_id)
        session = core.session(session_id) or {}
        return agent, path, str(session.get("project_dir") or "")

    def live(agent: str, path: str, session_id: str) -> Tuple[Any, Any]:
        return core.tails.messages(agent, path, session_id,
                                   lambda: core.agents[agent].transcript(path, session_id))

    index = SearchIndex(core.paths, tuple(core.agents), locate, live)
    core.on_transcripts(index.changed)
    index.start()
    return index, ""


def search(app: "App", query: Mapping[str, str]) -> Dict[str, Any]:
    """Answer GET /api/search for this app (docs/search.md)."""
    if app.index is None:
        why = app.index_error or "this server does not index transcripts"
        raise ApiError("search is unavailable: %s" % why, HTTPStatus.SERVICE_UNAVAILABLE)
    return app.index.search(dict(query))
