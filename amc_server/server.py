"""The HTTP server: the only place that writes response bytes.

We use `http.server` to stay dependency-free (AMC must run from a fresh clone with no install
step). A `ThreadingHTTPServer` with daemon threads serves the API (api.py's ROUTES table) and the
static dashboard (on a non-loopback bind, its login page until the browser holds the session
cookie). Every request first passes security.Guard; every error leaves as the one JSON
shape; a client that disconnects mid-answer is ignored. Housekeeping (lifecycle.clean) runs on a
background thread about once a minute. The live core (core/live.py) starts with the server and
stops with it; `/api/stream` is written here too: one thread per client, waiting on its bounded
subscription, a keep-alive comment every KEEPALIVE_S, and a socket shut down when the core drops
a client that stopped reading.
"""
import base64
import hashlib
import logging
import mimetypes
import os
import re
import select
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import parse_qsl, unquote, urlsplit

from . import api, logins, security
from ..core import lifecycle
from .. import memory, store
from ..errors import ApiError, BadRequest, NotFound, PayloadTooLarge
from ..app import SERVER, App
from ..core.events import Event
from ..paths import Paths, layout

log = logging.getLogger("amc.server")

MAX_BODY = 1024 * 1024
DASHBOARD_DIR = layout().dashboard  # the clone's dashboard/, or the package's copy (paths.py)
TOKEN_PLACEHOLDER = b"{{AMC_TOKEN}}"
LOGIN_PLACEHOLDER = b"{{AMC_LOGIN}}"  # "1": served after a login (the page offers "Log out")
LOGIN_PAGE = "login.html"    # what GET / serves on a non-loopback bind without a session
CLEAN_INTERVAL_S = 60
KEEPALIVE_S = 15.0
RETRY_MS = 2000
SOCKET_TIMEOUT_S = 30.0     # an idle keep-alive or half-open connection ends after this
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
                               "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


TOKEN_IN_URL = re.compile(r"([?&])token=[^&\s]*")
IMPORTMAP = re.compile(rb'<script type="importmap">(.*?)</script>', re.S)


def csp_for_page(page: bytes) -> str:
    """Return the CSP for an HTML page: ours, plus the hash of its one inline import map."""
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    match = IMPORTMAP.search(page)
    if not match:
        return csp
    digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode("ascii")
    return csp.replace("script-src 'self'", "script-src 'self' 'sha256-%s'" % digest)


class AmcServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying AMC's state, guard and dashboard location."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256   # hundreds of pages may (re)connect at once

    def __init__(self, address: Tuple[str, int], paths: Paths, guard: security.Guard,
                 dashboard_dir: str = DASHBOARD_DIR, force_stat: Optional[bool] = None) -> None:
        self._stop = threading.Event()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.paths = paths
        self.guard = guard
        self.dashboard_dir = dashboard_dir
        self.app = App(paths, SERVER, guard, force_stat=force_stat)  # app.py: every part
        try:
            self.app.start(self.url)
        except Exception:
            self.app.stop()
            super().server_close()
            raise

    # the parts, as tests and tools reach them
    core = property(lambda self: self.app.core)
    usage = property(lambda self: self.app.usage)
    hub = property(lambda self: self.app.hub)
    notifier = property(lambda self: self.app.notifier)
    search_index = property(lambda self: self.app.index)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = "[%s]" % host if ":" in host else host
        return "http://%s:%d/" % (host, port)

    def start_housekeeping(self) -> None:
        """Run lifecycle.clean now and then every CLEAN_INTERVAL_S on a daemon thread."""
        from ..terminals.zellij import Zellij
        zellij = Zellij()  # asks `zellij list-sessions` (cached 5 s) whether a session still runs

        def loop() -> None:
            while True:
                try:
                    lifecycle.clean(self.paths, zellij_alive=zellij.session_alive,
                                    sessions=self.app.core.hook_files())
                    memory.trim()
                except Exception:
                    log.exception("housekeeping failed")
                if self._stop.wait(CLEAN_INTERVAL_S):
                    return
        threading.Thread(target=loop, name="amc-housekeeping", daemon=True).start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request; a client that hung up mid-request is not an error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        log.error("request from %s failed:\n%s", client_address, traceback.format_exc())

    def server_close(self) -> None:
        self._stop.set()
        if getattr(self, "app", None) is not None:
            self.app.stop()
        super().server_close()


class Handler(BaseHTTPRequestHandler):
    """Routes each request to the API or the dashboard; writes every answer in `_send`."""

    server: AmcServer
    server_version = "AMC"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # A request line without a version ("GET /") or with a broken one is answered with a status
    # line and headers, not as HTTP/0.9 (a bare body, which no client can tell from an error).
    default_request_version = "HTTP/1.0"
    timeout = SOCKET_TIMEOUT_S

    def setup(self) -> None:
        super().setup()
        try:  # headers and body leave in two writes: without this, Nagle meets delayed ACKs
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def send_error(self, code: int, message: Optional[str] = None,
                   explain: Optional[str] = None) -> None:
        """Answer what http.server refuses itself (a bad request line, header or method) in the
        one JSON error shape, and end the connection."""
        self.close_connection = True
        try:
            status = HTTPStatus(code)
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
        line = getattr(self, "raw_requestline", b"") or b""  # also when it was too long to parse
        method = self.command or line.split(b" ", 1)[0].decode("latin-1")
        self._send_json(status, {"ok": False, "error": message or status.phrase},
                        head=method == "HEAD")

    def log_message(self, fmt: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), TOKEN_IN_URL.sub(r"\1token=<hidden>", fmt % args))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def _handle(self, method: str) -> None:
        try:
            if not getattr(self, "_peer_checked", False):  # once per (keep-alive) connection
                self.server.guard.check_peer(self.client_address, self.connection.getsockname())
                self._peer_checked = True
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            # The login's rate limit is per client address; a client's own header is dropped.
            del self.headers[security.CLIENT_HEADER]
            self.headers[security.CLIENT_HEADER] = str(self.client_address[0])
            self.server.guard.check(method, path, self.headers)
            if method != "POST" and (self.headers.get("Content-Length", "0").strip() not in
                                     ("", "0") or "Transfer-Encoding" in self.headers):
                # A body nothing here reads: its bytes would be taken for the next request on
                # this keep-alive connection. Answer this one, then end the connection.
                self.close_connection = True
            if path.startswith("/api/"):
                func, params = api.resolve(method, path)
                body = self._read_body() if method == "POST" else None
                pairs = parse_qsl(parts.query)
                multi: Dict[str, list] = {}
                for key, value in pairs:
                    multi.setdefault(key, []).append(value)
                status, answer = api.call(self.server.app, func, api.Request(
                    method, path, dict(pairs), body, params, self.headers, multi))
                if isinstance(answer, api.Stream):
                    self._stream(answer, head=method == "HEAD")
                elif isinstance(answer, api.Body):
                    headers = dict(answer.headers)  # an image says its own type (api.get_image)
                    ctype = headers.pop("Content-Type", "application/json; charset=utf-8")
                    self._send(status, answer.data, ctype, head=method == "HEAD",
                               headers=headers)
                else:
                    self._send_json(status, answer, head=method == "HEAD")
            elif method in ("GET", "HEAD"):
                self._send_static(path, head=method == "HEAD")
            else:
                raise api.MethodNotAllowed("%s is not allowed on %s" % (method, path))
        except ApiError as e:
            if method not in ("GET", "HEAD"):
                # Refused before its body was read (the guard, 404, 405): the unread bytes would
                # be taken for the next request on this keep-alive connection. End it instead.
                self.close_connection = True
            self._send_json(e.status, {"ok": False, "error": e.message}, head=method == "HEAD",
                            headers=getattr(e, "headers", None))  # 429's Retry-After
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as e:
            log.error("%s %s failed:\n%s", method, self.path, traceback.format_exc())
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                            {"ok": False, "error": "internal error: %s" % type(e).__name__})

    def _read_body(self) -> Any:
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise BadRequest("a body needs a Content-Length (no Transfer-Encoding)")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise BadRequest("bad Content-Length")
        if length > MAX_BODY:
            # Drain a moderately large body so the client can read our answer; close after it.
            self.close_connection = True
            remaining = length if length <= 16 * MAX_BODY else 0
            while remaining > 0:
                chunk = self.rfile.read(min(65536, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise PayloadTooLarge("request body over %d bytes" % MAX_BODY)
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw:
            return None
        try:
            return store.loads(raw)
        except ValueError as e:
            raise BadRequest("body is not valid JSON: %s" % e) from None

    def _send_static(self, path: str, head: bool) -> None:
        if "\0" in path:  # "%00": no file has it in its name (and os.path refuses it)
            raise NotFound("no such file: %r" % path)
        if path in ("", "/"):
            path = "/index.html"
        root = os.path.realpath(self.server.dashboard_dir)
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        guard = self.server.guard
        page_token = guard.page_token(self.headers)  # the token, a login's own value, or None
        if full == os.path.join(root, "index.html") and page_token is None:
            # Reachable from the network and not logged in: the dashboard is only for a live
            # login's cookie; everyone else gets the login form (nothing secret in it).
            full = os.path.join(root, LOGIN_PAGE)
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            raise NotFound("no such file: %s" % path)
        with open(full, "rb") as f:
            data = f.read()
        headers = {}
        if full == os.path.join(root, "index.html"):
            data = data.replace(TOKEN_PLACEHOLDER, (page_token or "").encode("ascii"))
            data = data.replace(LOGIN_PLACEHOLDER, b"1" if guard.login_required else b"")
        if full.endswith(".html"):
            headers["Content-Security-Policy"] = csp_for_page(data)
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        self._send(HTTPStatus.OK, data, ctype, head, headers)

    def _stream(self, stream: "api.Stream", head: bool) -> None:
        """Write Server-Sent Events until the client goes, the core drops it, or we stop."""
        self.close_connection = True  # the body ends when the connection does
        sock = self.connection

        def shut() -> None:  # the core dropped us: unblock a write stuck on a full socket
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        stream.sub.on_drop = shut
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            for key, value in SECURITY_HEADERS.items():
                self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            out = [b"retry: %d\n\n" % RETRY_MS]
            for event in stream.first:
                out += _sse(event)
            stream.first.clear()  # a snapshot is shared by every reader: hold no reference
            _write(self.wfile, out)
            del out
            quiet_since = time.monotonic()
            while not self.server._stop.is_set():
                event = stream.sub.get(stream.check_s or KEEPALIVE_S)
                if event is None:
                    if stream.sub.closed or _hung_up(sock):
                        break
                    if time.monotonic() - quiet_since >= KEEPALIVE_S:
                        self.wfile.write(b": keep-alive\n\n")
                        quiet_since = time.monotonic()
                    continue
                quiet_since = time.monotonic()
                out = _sse(event)
                for more in stream.sub.drain():
                    out += _sse(more)
                _write(self.wfile, out)
                del out, event
        except (ConnectionError, TimeoutError, OSError, ValueError):
            pass  # the client went away (or we shut its socket)
        finally:
            stream.on_close()

    def _send_json(self, status: HTTPStatus, obj: Dict[str, Any], head: bool = False,
                   headers: Optional[Dict[str, str]] = None) -> None:
        data = store.dumps(obj, ensure_ascii=False).encode("utf-8")
        self._send(status, data, "application/json; charset=utf-8", head, headers)

    def _send(self, status: HTTPStatus, data: Union[bytes, List[bytes]], ctype: str,
              head: bool = False, headers: Optional[Dict[str, str]] = None) -> None:
        pieces = [data] if isinstance(data, bytes) else data
        try:
            self.send_response(status)
            if status != HTTPStatus.NOT_MODIFIED:
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(sum(len(p) for p in pieces)))
            self.send_header("Cache-Control", "no-store")
            for key, value in dict(SECURITY_HEADERS, **(headers or {})).items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if not head and status != HTTPStatus.NOT_MODIFIED:
                _write(self.wfile, pieces)
        except (ConnectionError, TimeoutError):
            self.close_connection = True


def _sse(event: Event) -> List[bytes]:
    """Return one event in Server-Sent Events framing, in pieces (the JSON has no raw newlines)."""
    data = event.data
    body = [data.encode("utf-8")] if isinstance(data, str) else [data] \
        if isinstance(data, bytes) else list(data)
    return [("id: %s\nevent: %s\ndata: " % (event.id, event.type)).encode("ascii")] + body + \
        [b"\n\n"]


def _hung_up(sock: socket.socket) -> bool:
    """Tell whether the client closed its end (readable with nothing to read)."""
    try:
        ready, _, _ = select.select([sock], [], [], 0)
        return bool(ready) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _write(wfile: Any, pieces: List[bytes]) -> None:
    """Write pieces: small ones joined into one send, big ones (a snapshot) as they are."""
    small: List[bytes] = []
    for piece in pieces:
        if len(piece) < 65536:
            small.append(piece)
            continue
        if small:
            wfile.write(b"".join(small))
            small = []
        wfile.write(piece)
    if small:
        wfile.write(b"".join(small))


def make_server(paths: Paths, host: str = "127.0.0.1", port: int = 7400,
                allowed_hosts: Optional[list] = None,
                dashboard_dir: str = DASHBOARD_DIR, force_stat: Optional[bool] = None
                ) -> AmcServer:
    """Create (bind, not start) a server for `paths`; the token file is created if missing."""
    token = security.load_token(paths.token_file)
    allowed = list(allowed_hosts or [])
    if not security.is_loopback(host) and host not in ("", "0.0.0.0", "::"):
        allowed.append("[%s]" % host.strip("[]") if ":" in host else host)  # Host has [v6]
    guard = security.Guard(token, allowed, login_required=not security.is_loopback(host),
                           logins_file=paths.logins_file)
    return AmcServer((host, port), paths, guard, dashboard_dir, force_stat)
