"""The HTTP API as data: ROUTES maps (method, path pattern) to one function per endpoint.

Endpoint functions take the `App` (state and delivery) and a `Request` and return `(HTTPStatus,
dict)`; they never touch sockets (server.py is the only writer of response bytes) and signal
failure by raising `ApiError`, which becomes `{"ok": false, "error": "..."}`. Add keys to answers, never rename them (docs/api.md).
"""
import re
from http import HTTPStatus
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Pattern, Tuple

from . import model, store
from .errors import BadRequest, MethodNotAllowed, NotFound
from .paths import valid_id
from .delivery import Delivery
from .state import State

Answer = Tuple[HTTPStatus, Dict[str, Any]]


class App(NamedTuple):
    """What endpoints work with: the merged session state and the answer delivery."""
    state: State
    delivery: Delivery
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


def get_state(app: "App", req: Request) -> Answer:
    """GET /api/state: every live session and the server's clock."""
    sessions = app.state.sessions()
    app.delivery.annotate(sessions)
    return HTTPStatus.OK, {"sessions": sessions, "server_time": model.now_iso(),
                           "setup": app.state.setup()}


def get_events(app: "App", req: Request) -> Answer:
    """GET /api/events/<id>: the session's hook event log, oldest first (last MAX_EVENTS)."""
    sid = _session_id(req)
    state = app.state
    path = state.paths.events_file(sid)
    events = store.read_jsonl(path, limit=_int(req.query.get("limit"), MAX_EVENTS, 1, MAX_EVENTS))
    if not events and state.session(sid) is None:
        raise NotFound("no session %s" % sid)
    return HTTPStatus.OK, {"session_id": sid, "events": events}


def get_conversation(app: "App", req: Request) -> Answer:
    """GET /api/conversation/<id>[?agent=claude|codex&limit=N]: the session's messages."""
    sid = _session_id(req)
    agent = req.query.get("agent", "")
    state = app.state
    if agent and agent not in state.agents:
        raise BadRequest("unknown agent %r (known: %s)" % (agent, ", ".join(state.agents)))
    limit = _int(req.query.get("limit"), 0, 0, 1_000_000)
    messages = state.conversation(sid, agent)
    total = len(messages)
    if limit:
        messages = messages[-limit:]
    return HTTPStatus.OK, {"session_id": sid, "messages": messages, "total": total}


def post_dismiss(app: "App", req: Request) -> Answer:
    """POST /api/dismiss/<id>: hide the session for good."""
    app.state.dismiss(_session_id(req))
    return HTTPStatus.OK, {"ok": True}


def post_respond(app: "App", req: Request) -> Answer:
    """POST /api/respond/<id>: type the answer into the session's pane; ok once it took it."""
    return HTTPStatus.OK, app.delivery.respond(_session_id(req), req.body)


def _int(value: Optional[str], default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        return max(low, min(high, int(value)))
    except ValueError:
        raise BadRequest("expected an integer, got %r" % value) from None


Endpoint = Callable[[App, Request], Answer]
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
