"""`amc request`: answer one API request read from stdin; what the hub runs on a remote over ssh.

Place in the flow (several machines): the hub's call (remote/hub.py) -> ssh -> this command ->
the same endpoint functions the server runs (api.py) -> one line of JSON on stdout:
`{"status": <HTTP status>, "body": {...}}`. The request is `{"method", "path", "query", "body"}`
on stdin, so nothing the user typed is ever on the ssh command line. Only the endpoints that act
on one session (and starting one) are answered (ALLOWED); streams and the channel's endpoints are
not, they belong to the machine's own server.
- When an AMC server runs on this machine (its pid file names it), the request goes to it over
  loopback HTTP with this user's token: its answer, its delivery, its start-dialog watcher.
- Otherwise the endpoint runs here, on the app built as the server builds it (app.py, role
  REQUEST: a core read once, no watcher, no doorbell, as the `amc stream` process of the hub owns
  those; a session's usage and its prompt's options read before answering), and the process
  exits after answering.
"""
import sys
import urllib.error
import urllib.parse
import urllib.request
from http import HTTPStatus
from typing import IO, Any, Dict, Optional, Tuple

from .. import store
from ..paths import Paths

MAX_REQUEST = 16 << 20
ALLOWED = ("get_events", "get_conversation", "get_part", "post_dismiss", "post_respond",
           "post_sessions", "get_state")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _error(status: HTTPStatus, message: str) -> Tuple[int, Dict[str, Any]]:
    return int(status), {"ok": False, "error": message}


def parse(raw: bytes) -> Dict[str, Any]:
    """Return the request read from stdin, or raise ValueError saying what is wrong."""
    if len(raw) > MAX_REQUEST:
        raise ValueError("request over %d bytes" % MAX_REQUEST)
    req = store.loads(raw)
    if not isinstance(req, dict) or req.get("method") not in ("GET", "POST") or \
            not isinstance(req.get("path"), str) or not req["path"].startswith("/api/"):
        raise ValueError("a request is {method: GET|POST, path: /api/..., query, body}")
    query = req.get("query") or {}
    if not isinstance(query, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in query.items()):
        raise ValueError("query must map strings to strings")
    req["query"] = query
    return req


def endpoint(req: Dict[str, Any]) -> Tuple[Any, Dict[str, str]]:
    """Return the endpoint function and path parameters of `req`; raise ApiError when there is
    none, or it is not one answered for another machine."""
    from ..http import api
    from ..errors import BadRequest
    func, params = api.resolve(req["method"], req["path"])
    if func.__name__ not in ALLOWED:
        raise BadRequest("%s is not answered for other machines" % req["path"])
    return func, params


def answer_here(paths: Paths, req: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
    """Run the endpoint in this process, on a core read once."""
    from ..http import api
    from ..app import REQUEST, App
    from ..errors import ApiError
    try:
        func, params = endpoint(req)
    except ApiError as e:
        return _error(e.status, e.message)
    app = App(paths, REQUEST).start()  # read once, usage and options settled (app.py)
    try:
        status, answer = func(app, api.Request(req["method"], req["path"], req["query"],
                                               req.get("body"), params))
    except ApiError as e:
        return _error(e.status, e.message)
    if isinstance(answer, api.Body):
        answer = store.loads(b"".join(answer.data))
    return int(status), answer


def answer_server(url: str, token: str, req: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
    """Hand the request to this machine's running server."""
    query = urllib.parse.urlencode(req["query"])
    full = url.rstrip("/") + urllib.parse.quote(req["path"]) + ("?" + query if query else "")
    data = store.dumps(req.get("body")).encode() if req["method"] == "POST" else None
    headers = {"X-AMC-Token": token, "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(full, data=data, headers=headers, method=req["method"])
    try:
        with _OPENER.open(request, timeout=120) as r:
            return r.status, store.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            return e.code, store.loads(e.read())
        except ValueError:
            return _error(HTTPStatus.BAD_GATEWAY, "this machine's AMC answered %d" % e.code)
    except (OSError, ValueError) as e:
        return _error(HTTPStatus.BAD_GATEWAY, "this machine's AMC server did not answer: %s" % e)


def answer(paths: Paths, raw: bytes) -> Tuple[int, Dict[str, Any]]:
    """Return (status, body) for one request read from stdin."""
    from ..errors import ApiError
    from ..commands.serve import read_token, running_server
    try:
        req = parse(raw)
    except ValueError as e:
        return _error(HTTPStatus.BAD_REQUEST, "amc request: %s" % e)
    try:
        endpoint(req)
    except ApiError as e:
        return _error(e.status, e.message)
    running = running_server(paths)
    if running is not None:
        return answer_server(running.url, read_token(paths), req)
    return answer_here(paths, req)


def main(paths: Paths, stdin: Optional[IO[bytes]] = None,
         stdout: Optional[IO[bytes]] = None) -> int:
    """Read one request from stdin, print its answer as one JSON line; exit 0 when answered."""
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout.buffer
    status, body = answer(paths, stdin.read(MAX_REQUEST + 1))
    stdout.write(store.dumps({"status": status, "body": body}, ensure_ascii=False).encode()
                 + b"\n")
    stdout.flush()
    return 0
