"""The HTTP API as data: ROUTES maps (method, path pattern) to one function per endpoint.

Endpoint functions take the `App` (app.py: the live core and what is built around it) and a
`Request` and return
`(HTTPStatus, dict)`, or `(HTTPStatus, Body)` for a body already serialised by the core, or
`(HTTPStatus, Stream)` for Server-Sent Events; they never touch sockets (http/server.py is the only
writer of response bytes) and signal failure by raising `ApiError`, which becomes
`{"ok": false, "error": "..."}`. Add keys to answers, never rename them (docs/api.md).
"""
import re
from http import HTTPStatus
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Pattern, Tuple, Union

from .. import jsonl
from .. import store
from ..app import App
from ..consumers.activity import DEFAULT_LIMIT, MAX_KEPT, TOPIC as ACTIVITY_TOPIC
from ..core.events import Event, Subscription
from ..errors import ApiError, BadRequest, Forbidden, MethodNotAllowed, NotFound
from ..paths import valid_id

MAX_EVENTS = 5000
MAX_FOLLOW = 32
MAX_STREAMS = 1000
ACTIVITY_LIMIT, ACTIVITY_MAX = DEFAULT_LIMIT, MAX_KEPT


class Body(NamedTuple):
    """An answer the core serialised already (sent as is, in pieces), with its HTTP headers."""
    data: List[bytes]
    headers: Dict[str, str]


class Stream(NamedTuple):
    """An event stream for http/server.py to write: the events to send first, then the subscription.

    `check_s`: how often to look whether the client hung up while nothing is sent (a channel's
    presence is its open inbox, so it is looked at every second; pages at each keep-alive).
    """
    first: List[Event]
    sub: Subscription
    on_close: Callable[[], None]
    check_s: float = 0.0


Answer = Tuple[HTTPStatus, Union[Dict[str, Any], Body, Stream]]


class Request(NamedTuple):
    method: str
    path: str
    query: Dict[str, str]
    body: Optional[Any]        # decoded JSON body of a POST, else None
    params: Dict[str, str]     # named groups of the route pattern
    headers: Mapping[str, str] = {}
    multi: Mapping[str, List[str]] = {}   # every value of repeated query parameters


def _session_id(req: Request) -> str:
    sid = req.params["session_id"]
    if not valid_id(sid):
        raise BadRequest("invalid session id")
    return sid


def get_state(app: "App", req: Request) -> Answer:
    """GET /api/state: every live session, the server's clock and setup, from memory.

    The ETag names the last change the state reflects: a client that sends it back in
    `If-None-Match` gets 304 until something changed.
    """
    app.core.flush()
    etag, body = app.core.state()
    if etag in [t.strip() for t in str(req.headers.get("If-None-Match") or "").split(",")]:
        return HTTPStatus.NOT_MODIFIED, Body([], {"ETag": etag})
    return HTTPStatus.OK, Body(body, {"ETag": etag})


def get_stream(app: "App", req: Request) -> Answer:
    """GET /api/stream[?follow=<id>...]: Server-Sent Events from `Last-Event-ID` on."""
    follow = set(req.multi.get("follow", []))
    if len(follow) > MAX_FOLLOW or not all(valid_id(s) for s in follow):
        raise BadRequest("follow takes up to %d valid session ids" % MAX_FOLLOW)
    if app.core.log.subscribers() >= MAX_STREAMS:
        raise ApiError("too many open streams (%d); close some pages" % MAX_STREAMS,
                       HTTPStatus.SERVICE_UNAVAILABLE)
    last = str(req.headers.get("Last-Event-ID") or req.query.get("last_event_id") or "")
    app.core.flush()
    sub, first = app.core.subscribe(last, follow)
    conversations = app.core.conversations
    remote = {s for s in follow if app.hub is not None and app.hub.owns(s)}
    local = follow - remote - {ACTIVITY_TOPIC}  # following *activity is no conversation
    if local:
        conversations.follow(local)
    if remote:
        app.hub.follow(remote, +1)  # the machine's own stream sends their messages

    def on_close() -> None:
        sub.close()
        if local:
            conversations.unfollow(local)
        if remote:
            app.hub.follow(remote, -1)
    return HTTPStatus.OK, Stream(first, sub, on_close)


def get_events(app: "App", req: Request) -> Answer:
    """GET /api/events/<id>: the session's hook event log, oldest first (last MAX_EVENTS)."""
    sid = _session_id(req)
    path = app.core.paths.events_file(sid)
    events = jsonl.read_objects(path, limit=_int(req.query.get("limit"), MAX_EVENTS, 1, MAX_EVENTS),
                              follow=False)
    if not events and app.core.session(sid) is None:
        raise NotFound("no session %s" % sid)
    return HTTPStatus.OK, {"session_id": sid, "events": events}


def get_activity(app: "App", req: Request) -> Answer:
    """GET /api/activity?limit=N: hook events and Claude's prompt history, newest first."""
    limit = _int(req.query.get("limit"), ACTIVITY_LIMIT, 1, ACTIVITY_MAX)
    app.core.flush()
    return HTTPStatus.OK, {"limit": limit, "events": app.core.activity.recent(limit)}


def _agent(app: "App", req: Request) -> str:
    agent = req.query.get("agent", "")
    if agent and agent not in app.core.agents:
        raise BadRequest("unknown agent %r (known: %s)" % (agent, ", ".join(app.core.agents)))
    return agent


def get_conversation(app: "App", req: Request) -> Answer:
    """GET /api/conversation/<id>[?agent=&limit=N&after=<message id>]: the session's messages.

    With `after`, only the messages after that one, plus the few before it that may have changed
    since (a tool result arriving), under their same ids.
    """
    sid = _session_id(req)
    agent = _agent(app, req)
    limit = _int(req.query.get("limit"), 0, 0, 1_000_000)
    app.core.flush()
    conversations = app.core.conversations
    after = req.query.get("after", "")
    subagent = req.query.get("subagent", "")  # that subagent's own messages (docs/api.md)
    if after:
        messages, total = conversations.after(sid, after, agent, limit, subagent)
    else:
        messages, total = conversations.messages(sid, agent, limit, subagent)
    answer = {"session_id": sid, "messages": messages, "total": total}
    if subagent:
        answer["subagent"] = subagent
    return HTTPStatus.OK, answer


def get_part(app: "App", req: Request) -> Answer:
    """GET /api/conversation/<id>/part?message=&field=content|thinking|input|result[&call=]:
    one whole part that the conversation sent as a placeholder."""
    sid = _session_id(req)
    message, call, field = (req.query.get(k, "") for k in ("message", "call", "field"))
    if not message:
        raise BadRequest("message is required")
    value = app.core.conversations.part(sid, message, call, field, _agent(app, req),
                                        req.query.get("subagent", ""))
    return HTTPStatus.OK, {"session_id": sid, "message_id": message, "call_id": call,
                           "field": field, "value": value}


# -- images of a conversation, on demand (agents/claude/images.py; docs/conversation-views.md) --

IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",  # bytes to show, never a page
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": "inline",
}


def get_image(app: "App", req: Request) -> Answer:
    """GET /api/conversation/<id>/image?message=&index=N[&call=&subagent=]: one image's bytes
    (PNG, JPEG, GIF or WebP, at most 10 MB), from a prompt or a tool result."""
    sid = _session_id(req)
    message = req.query.get("message", "")
    if not message:
        raise BadRequest("message is required")
    index = _int(req.query.get("index"), 0, 0, 10_000)
    app.core.flush()
    media_type, data = app.core.conversations.image(
        sid, message, index, req.query.get("call", ""), _agent(app, req),
        req.query.get("subagent", ""))
    return HTTPStatus.OK, Body([data], dict(IMAGE_HEADERS, **{"Content-Type": media_type}))


def post_dismiss(app: "App", req: Request) -> Answer:
    """POST /api/dismiss/<id>: hide the session for good."""
    app.core.dismiss(_session_id(req))
    return HTTPStatus.OK, {"ok": True}


def post_respond(app: "App", req: Request) -> Answer:
    """POST /api/respond/<id>: type the answer into the session's pane; ok once it took it."""
    return HTTPStatus.OK, app.delivery.respond(_session_id(req), req.body)


def post_sessions(app: "App", req: Request) -> Answer:
    """POST /api/sessions: start an agent in a new pane; its card shows at once as `starting`."""
    return HTTPStatus.OK, app.launcher().start(req.body)


def post_machines(app: "App", req: Request) -> Answer:
    """POST /api/machines {"name", "target"?}: `amc remote add` from the page."""
    fields = _text_fields(req.body, "name", "target", limit=300)
    if app.hub is None:
        raise BadRequest("this AMC does not follow other machines")
    return HTTPStatus.OK, {"ok": True, "machine": app.hub.add(fields["name"],
                                                             fields["target"] or None)}


# -- AMC's Claude Code channel (bin/amc-channel; docs/answering.md) --------------------------

def _channel_caller(app: "App", req: Request) -> str:
    """Return the session id of a channel request; only the local token holder may call."""
    sid = _session_id(req)
    if app.guard is None or not app.guard.token_ok(req.headers.get("X-AMC-Token")):
        raise Forbidden("the channel endpoints need X-AMC-Token (bin/amc-channel reads it from "
                        "the data dir)")
    return sid


def get_channel_inbox(app: "App", req: Request) -> Answer:
    """GET /api/channel/<id>/inbox: what the dashboard sends the session's channel (SSE)."""
    sid = _channel_caller(app, req)
    channels = app.core.channels
    last = str(req.headers.get("Last-Event-ID") or req.query.get("last_event_id") or "")
    sub, first = channels.connect(sid, last)
    app.core.touch(sid)  # the session now has a channel

    def on_close() -> None:
        channels.disconnect(sid, sub)
        app.core.touch(sid)
    return HTTPStatus.OK, Stream(first, sub, on_close, check_s=1.0)


def _text_fields(body: Any, *names: str, limit: int = 100_000) -> Dict[str, str]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    out = {}
    for name in names:
        value = body.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise BadRequest('"%s" must be a string of at most %d characters' % (name, limit))
        out[name] = value
    return out


def post_channel_permission(app: "App", req: Request) -> Answer:
    """POST /api/channel/<id>/permission: the CLI asked the channel to relay a permission prompt."""
    sid = _channel_caller(app, req)
    fields = _text_fields(req.body, "request_id", "tool_name", "description", "input_preview")
    if not fields["request_id"]:
        raise BadRequest("request_id is required")
    app.core.channels.permission_request(sid, fields)
    app.core.touch(sid)
    return HTTPStatus.OK, {"ok": True}


def post_channel_ack(app: "App", req: Request) -> Answer:
    """POST /api/channel/<id>/ack: the channel handed a delivery to Claude Code."""
    _channel_caller(app, req)
    app.core.channels.ack(_text_fields(req.body, "delivery_id")["delivery_id"])
    return HTTPStatus.OK, {"ok": True}


def post_channel_reply(app: "App", req: Request) -> Answer:
    """POST /api/channel/<id>/reply: the model called `reply` (its text is in the transcript)."""
    sid = _channel_caller(app, req)
    _text_fields(req.body, "chat_id", "text", limit=1_000_000)
    app.core.touch(sid)
    return HTTPStatus.OK, {"ok": True}


# -- logging in to a server reached from the network (docs/security.md) ------------------------

def _with_headers(status: HTTPStatus, answer: Dict[str, Any], headers: Dict[str, str]) -> Answer:
    # the JSON answer needs its Set-Cookie / Retry-After header: a Body
    return status, Body([store.dumps(answer).encode("utf-8")], headers)


def post_login(app: "App", req: Request) -> Answer:
    """POST /api/login {"token"}: the right token sets the session cookie; 403 wrong, 429 wait."""
    return _with_headers(*app.guard.login(req.body, req.headers))


def post_logout(app: "App", req: Request) -> Answer:
    """POST /api/logout: end the login of the request's cookie and remove the cookie."""
    return _with_headers(HTTPStatus.OK, {"ok": True},
                         {"Set-Cookie": app.guard.logout(req.headers)})


def _int(value: Optional[str], default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        return max(low, min(high, int(value)))
    except ValueError:
        raise BadRequest("expected an integer, got %r" % value) from None


# -- history and usage of this machine's sessions (consumers/history.py; docs/usage.md) ----------------

def get_history(app: "App", req: Request) -> Answer:
    """GET /api/history[?project=&agent=&limit=&before=]: every session found, newest first."""
    from ..consumers import history  # only these endpoints need it
    return HTTPStatus.OK, history.for_paths(app.core.paths, app.core).sessions(req.query)


def get_usage(app: "App", req: Request) -> Answer:
    """GET /api/usage[?days=N&agent=]: tokens and cost per project and per day."""
    from ..consumers import history
    return HTTPStatus.OK, history.for_paths(app.core.paths, app.core).totals(req.query)


# -- full-text search over every transcript (index/; docs/search.md) ----------------------

def get_search(app: "App", req: Request) -> Answer:
    """GET /api/search?q=...[&project=&agent=&machine=&limit=&thinking=]: ranked hits, progress."""
    from ..consumers import history
    from .. import index  # only these endpoints need them
    answer = index.search(app, req.query)
    results = answer.get("results") or []
    if results:  # each hit names its session by the History's title (agents/titles.py)
        found = history.for_paths(app.core.paths, app.core).titles_for(
            {hit.get("session_id") for hit in results if not hit.get("machine")})
        for hit in results:
            hit["title"] = found.get(hit.get("session_id"), "")
    return HTTPStatus.OK, answer


# -- sessions on other machines (remote/hub.py; docs/remote.md) -----------------------------

FORWARDED = (get_events, get_conversation, get_part, post_dismiss, post_respond, post_sessions)
SLOW = (post_respond, post_sessions)


def call(app: "App", func: "Endpoint", req: Request) -> Answer:
    """Answer `req` with `func`, or hand it to the machine whose session it names over ssh.

    `<machine>:<id>` in the path (or `"machine"` in a POST /api/sessions body) is another
    machine's; its answer is that machine's, with its errors kept in the one error shape.
    """
    hub = app.hub
    if hub is None:
        return func(app, req)
    sid = req.params.get("session_id", "")
    path, body, machine = req.path, req.body, ""
    if sid and hub.owns(sid):
        if func not in FORWARDED:
            raise BadRequest("%s is only for this machine's sessions" % req.path)
        machine, rid = sid.split(":", 1)
        head, _, _ = path.partition(sid)
        path = head + rid + path[len(head) + len(sid):]
    elif func is post_sessions and isinstance(body, dict) and body.get("machine"):
        machine = str(body["machine"])
        body = {k: v for k, v in body.items() if k != "machine"}
    if not machine:
        return func(app, req)
    status, answer = hub.call(machine, req.method, path, dict(req.query), body,
                              slow=func in SLOW)
    if status >= 400:
        raise ApiError(str(answer.get("error") or "machine %s answered %d" % (machine, status)),
                       status)
    return status, answer


Endpoint = Callable[[App, Request], Answer]
ID = r"(?P<session_id>[^/]+)"
ROUTES: List[Tuple[str, Pattern[str], Endpoint]] = [
    ("GET", re.compile(r"^/api/state$"), get_state),
    ("GET", re.compile(r"^/api/stream$"), get_stream),
    ("GET", re.compile(r"^/api/events/%s$" % ID), get_events),
    ("GET", re.compile(r"^/api/activity$"), get_activity),
    ("GET", re.compile(r"^/api/conversation/%s$" % ID), get_conversation),
    ("GET", re.compile(r"^/api/conversation/%s/part$" % ID), get_part),
    ("GET", re.compile(r"^/api/conversation/%s/image$" % ID), get_image),
    ("POST", re.compile(r"^/api/dismiss/%s$" % ID), post_dismiss),
    ("POST", re.compile(r"^/api/respond/%s$" % ID), post_respond),
    ("POST", re.compile(r"^/api/sessions$"), post_sessions),
    ("POST", re.compile(r"^/api/machines$"), post_machines),
    ("GET", re.compile(r"^/api/channel/%s/inbox$" % ID), get_channel_inbox),
    ("POST", re.compile(r"^/api/channel/%s/permission$" % ID), post_channel_permission),
    ("POST", re.compile(r"^/api/channel/%s/ack$" % ID), post_channel_ack),
    ("POST", re.compile(r"^/api/channel/%s/reply$" % ID), post_channel_reply),
    ("POST", re.compile(r"^/api/login$"), post_login),
    ("POST", re.compile(r"^/api/logout$"), post_logout),
    ("GET", re.compile(r"^/api/search$"), get_search),
    ("GET", re.compile(r"^/api/history$"), get_history),
    ("GET", re.compile(r"^/api/usage$"), get_usage),
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
