"""The HTTP API as data: ROUTES maps (method, path pattern) to one function per endpoint.

Endpoint functions take a `Request` and return `(HTTPStatus, dict)`; they never touch sockets
(server.py is the only writer of response bytes) and signal failure by raising `ApiError`, which
becomes `{"ok": false, "error": "..."}`. Add keys to answers, never rename them (docs/api.md).
"""
import re
from http import HTTPStatus
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Pattern, Tuple

from . import model, store
from .errors import BadRequest, MethodNotAllowed, NotFound, NotImplementedYet
from .paths import valid_id
from .state import State

Answer = Tuple[HTTPStatus, Dict[str, Any]]
MAX_EVENTS = 5000


class Request(NamedTuple):
    method: str
    path: str
    query: Dict[str, str]
    body: Optional[Any]        # decoded JSON body of a POST, else None
    params: Dict[str, str]     # named groups of the route pattern


def _session_id(req: Request) -> str:
    sid = req.params["session_id"]
    if not valid_id(sid):
        raise BadRequest("invalid session id")
    return sid


def get_state(state: State, req: Request) -> Answer:
    """GET /api/state: every live session and the server's clock."""
    return HTTPStatus.OK, {"sessions": state.sessions(), "server_time": model.now_iso(),
                           "setup": state.setup()}


def get_events(state: State, req: Request) -> Answer:
    """GET /api/events/<id>: the session's hook event log, oldest first (last MAX_EVENTS)."""
    sid = _session_id(req)
    path = state.paths.events_file(sid)
    events = store.read_jsonl(path, limit=_int(req.query.get("limit"), MAX_EVENTS, 1, MAX_EVENTS))
    if not events and state.session(sid) is None:
        raise NotFound("no session %s" % sid)
    return HTTPStatus.OK, {"session_id": sid, "events": events}


def get_conversation(state: State, req: Request) -> Answer:
    """GET /api/conversation/<id>[?agent=claude|codex&limit=N]: the session's messages."""
    sid = _session_id(req)
    agent = req.query.get("agent", "")
    if agent and agent not in state.agents:
        raise BadRequest("unknown agent %r (known: %s)" % (agent, ", ".join(state.agents)))
    limit = _int(req.query.get("limit"), 0, 0, 1_000_000)
    messages = state.conversation(sid, agent)
    total = len(messages)
    if limit:
        messages = messages[-limit:]
    return HTTPStatus.OK, {"session_id": sid, "messages": messages, "total": total}


def post_dismiss(state: State, req: Request) -> Answer:
    """POST /api/dismiss/<id>: hide the session for good."""
    state.dismiss(_session_id(req))
    return HTTPStatus.OK, {"ok": True}


def post_respond(state: State, req: Request) -> Answer:
    """POST /api/respond/<id>: answer the agent (delivery lands with the answering-back issue)."""
    sid = _session_id(req)
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise BadRequest('body must be a JSON object with a "text" string')
    if state.session(sid) is None:
        raise NotFound("no live session %s" % sid)
    raise NotImplementedYet("answering from the dashboard is not available yet in this version "
                            "of AMC; answer in the session's terminal")


def _int(value: Optional[str], default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        return max(low, min(high, int(value)))
    except ValueError:
        raise BadRequest("expected an integer, got %r" % value) from None


Endpoint = Callable[[State, Request], Answer]
ID = r"(?P<session_id>[^/]+)"
ROUTES: List[Tuple[str, Pattern[str], Endpoint]] = [
    ("GET", re.compile(r"^/api/state$"), get_state),
    ("GET", re.compile(r"^/api/events/%s$" % ID), get_events),
    ("GET", re.compile(r"^/api/conversation/%s$" % ID), get_conversation),
    ("POST", re.compile(r"^/api/dismiss/%s$" % ID), post_dismiss),
    ("POST", re.compile(r"^/api/respond/%s$" % ID), post_respond),
]


def resolve(method: str, path: str) -> Tuple[Endpoint, Dict[str, str]]:
    """Return the endpoint for `method path` and its path parameters, or raise 404/405."""
    allowed = []
    for route_method, pattern, func in ROUTES:
        match = pattern.match(path)
        if match:
            if route_method == method or (method == "HEAD" and route_method == "GET"):
                return func, match.groupdict()
            allowed.append(route_method)
    if allowed:
        raise MethodNotAllowed("%s is not allowed on %s (use %s)" % (method, path, ", ".join(allowed)))
    raise NotFound("no such endpoint: %s" % path)
