"""Who may talk to the server: Host allow-list, same-origin check, the POST token and the login.

A page that can type into the user's terminals must not be reachable by other web pages or other
users. So, before routing:
- `Host` must be a loopback name (or explicitly allowed with AMC_ALLOWED_HOSTS): defeats DNS
  rebinding, where a hostile page's own domain resolves to 127.0.0.1;
- an `Origin` (or `Sec-Fetch-Site: cross-site`) that is not the server's own is refused;
- every POST carries `X-AMC-Token` equal to the `token` file (0600, created on first start), which
  only the dashboard page served by this server can read (no CORS headers are ever sent);
- when bound to a non-loopback address, every API read needs the token or the session cookie
  that `POST /api/login` sets for the right token (HttpOnly, SameSite=Strict, derived from the
  token so a new token file ends every session), and the page itself is served only to that
  cookie (everyone else gets dashboard/login.html). No token ever travels in a URL: URLs end up
  in logs, history and Referer headers. Wrong tokens are rate-limited per client address;
- on Linux, a loopback connection from another local user is refused (the owner of the client
  socket is asked of the kernel), so other users can neither read sessions nor fetch the page
  that carries the token. An SSH tunnel's connection is owned by the user sshd runs it as: a
  tunnel into your own account passes, another user's does not. Elsewhere the token file's 0600
  mode is the protection for POSTs.
"""
import hashlib
import hmac
import logging
import math
import os
import secrets
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from . import peer, store
from .errors import ApiError, BadRequest, Forbidden

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOGIN_PATH = "/api/login"
SESSION_COOKIE = "amc_session"
SESSION_LABEL = b"amc-session-v1"        # what the token signs to make the cookie value
SESSION_MAX_AGE_S = 30 * 24 * 3600      # a phone asks once a month, not at every browser restart
CLIENT_HEADER = "X-AMC-Client-Address"  # set by server.py from the socket; a client's own is dropped
MAX_TOKEN_CHARS = 1000


class LoginNeeded(ApiError):
    """A read on a network-reachable server without the session cookie (or the token)."""
    status = HTTPStatus.UNAUTHORIZED


def load_token(path: str) -> str:
    """Return the server token, creating the file (mode 0600) on first use."""
    try:
        with open(path, "r", encoding="ascii") as f:
            token = f.read().strip()
        if len(token) >= 16:
            os.chmod(path, 0o600)
            return token
    except (OSError, UnicodeDecodeError):
        pass
    token = secrets.token_urlsafe(32)
    try:
        store.ensure_dir(os.path.dirname(path))
        store.write_bytes_atomic(path, token.encode("ascii"), 0o600)
    except OSError as e:
        # A read-only or full data dir: serve anyway (the page carries the token), say why.
        logging.getLogger("amc.security").warning(
            "cannot write the token file %s (%s); using a token for this run only", path, e)
    return token


def host_name(host_header: str) -> str:
    """Return the host part of a Host header ("[::1]:7400" -> "[::1]", "a:1" -> "a")."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_loopback(host: str) -> bool:
    """Tell whether a bind address or host name is loopback."""
    host = host.strip("[]")
    if host.startswith("::ffff:"):
        host = host[7:]
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def session_value(token: str) -> str:
    """Return the session cookie's value for a token: HMAC-SHA256 of a fixed label, hex.

    Not the token itself (a cookie jar or a proxy log never holds the token), and a function of
    it, so a new token file invalidates every cookie without any state on disk.
    """
    return hmac.new(token.encode("utf-8"), SESSION_LABEL, hashlib.sha256).hexdigest()


def cookie_values(header: str, name: str) -> List[str]:
    """Return the values of every cookie called `name` in a Cookie header (lenient, no quoting)."""
    values = []
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            values.append(value.strip().strip('"'))
    return values


class LoginLimit:
    """Wrong tokens per client address: after MAX_FAILURES in a row, refusal for LOCKOUT_S.

    Each further lockout of the same address doubles, up to MAX_LOCKOUT_S; a right token clears
    the address. Attempts are decided under one lock, so parallel requests cannot slip past it.
    """
    MAX_FAILURES = 5
    LOCKOUT_S = 30.0
    MAX_LOCKOUT_S = 3600.0
    MAX_CLIENTS = 10000   # beyond, addresses that are not locked out are forgotten

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: Dict[str, List[float]] = {}  # address -> [failures, locked_until, lockouts]

    def attempt(self, client: str, correct: bool) -> Tuple[str, float]:
        """Record one login attempt; return ("ok" | "wrong" | "locked", seconds to wait)."""
        with self._lock:
            now = self._clock()
            entry = self._clients.get(client)
            if entry is not None and entry[1] > now:
                return "locked", entry[1] - now   # not even a right token gets in now
            if correct:
                self._clients.pop(client, None)
                return "ok", 0.0
            if entry is None:
                if len(self._clients) >= self.MAX_CLIENTS:
                    self._clients = {k: v for k, v in self._clients.items() if v[1] > now}
                entry = self._clients[client] = [0, 0.0, 0]
            entry[0] += 1
            if entry[0] < self.MAX_FAILURES:
                return "wrong", 0.0
            entry[0] = 0
            entry[2] += 1
            wait = min(self.LOCKOUT_S * 2 ** (entry[2] - 1), self.MAX_LOCKOUT_S)
            entry[1] = now + wait
            return "wrong", wait


class Guard:
    """The checks every request passes before it reaches the API, and the login."""

    def __init__(self, token: str, allowed_hosts: Iterable[str] = (), login_required: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        self.token = token
        self.session = session_value(token)
        self.uid = os.getuid() if hasattr(os, "getuid") else None
        self.allowed = LOOPBACK_HOSTS | {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.login_required = login_required
        self.logins = LoginLimit(clock)

    def check(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        """Raise Forbidden (or LoginNeeded) unless the request may proceed."""
        host = host_name(headers.get("Host") or "")
        if host not in self.allowed:
            raise Forbidden("Host %r is not allowed (DNS-rebinding protection); "
                            "open AMC at http://127.0.0.1 or set AMC_ALLOWED_HOSTS" % host)
        origin = headers.get("Origin")
        if origin is not None and not self._own_origin(origin, headers.get("Host") or ""):
            raise Forbidden("cross-origin request from %s refused" % origin)
        if (headers.get("Sec-Fetch-Site") or "").lower() == "cross-site":
            raise Forbidden("cross-site request refused")
        if method in ("GET", "HEAD"):
            if self.login_required and path.startswith("/api/") and not self.reader_ok(headers):
                raise LoginNeeded("log in: this AMC server is reachable from the network, so "
                                  "reads need its session cookie (open its page and enter the "
                                  "token) or the X-AMC-Token header")
            return
        if method == "POST" and path == LOGIN_PATH:
            return  # the token is in its body: Guard.login
        if not self.token_ok(headers.get("X-AMC-Token")):
            raise Forbidden("missing or wrong X-AMC-Token (reload the dashboard)")

    def check_peer(self, client: tuple, server: tuple) -> None:
        """Raise Forbidden when a loopback client belongs to another local user (Linux).

        `server` is this connection's own address (the client's peer), `getsockname()`.
        """
        if self.uid is None or self.login_required or not is_loopback(str(client[0])):
            return
        owner = peer.peer_uid(client, server)
        if owner is not None and owner != self.uid and owner != 0:
            raise Forbidden("this AMC server belongs to another user")

    def token_ok(self, given: Optional[str]) -> bool:
        """Compare a presented token with ours in constant time."""
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def session_ok(self, headers: Mapping[str, str]) -> bool:
        """Tell whether the request carries this token's session cookie (constant time)."""
        ours = self.session.encode("ascii")
        return any(hmac.compare_digest(v.encode("utf-8", "replace"), ours)
                   for v in cookie_values(headers.get("Cookie") or "", SESSION_COOKIE))

    def reader_ok(self, headers: Mapping[str, str]) -> bool:
        """Tell whether a read may see sessions: the token header or the session cookie."""
        return self.token_ok(headers.get("X-AMC-Token")) or self.session_ok(headers)

    def login(self, body: Any, headers: Mapping[str, str]
              ) -> Tuple[HTTPStatus, Dict[str, Any], Dict[str, str]]:
        """Check `{"token"}` of POST /api/login; return (status, answer, headers).

        The right token answers the session cookie; a wrong one 403; an address with
        LoginLimit.MAX_FAILURES wrong tries in a row waits, 429 with Retry-After.
        """
        given = body.get("token") if isinstance(body, dict) else None
        if not isinstance(given, str) or not given.strip() or len(given) > MAX_TOKEN_CHARS:
            raise BadRequest('the body must be {"token": "<contents of the token file>"}')
        client = str(headers.get(CLIENT_HEADER) or "")
        outcome, wait = self.logins.attempt(client, self.token_ok(given.strip()))
        seconds = int(math.ceil(wait))
        if outcome == "locked":
            return HTTPStatus.TOO_MANY_REQUESTS, {
                "ok": False, "error": "too many wrong tokens from %s: try again in %d s"
                                      % (client or "this address", seconds)}, \
                {"Retry-After": str(seconds)}
        if outcome == "wrong":
            error = "wrong token: it is the contents of the token file in AMC's data dir"
            if wait:
                error += " (%d wrong in a row: wait %d s before the next try)" % (
                    LoginLimit.MAX_FAILURES, seconds)
            return HTTPStatus.FORBIDDEN, {"ok": False, "error": error}, {}
        cookie = self._cookie(self.session, SESSION_MAX_AGE_S, headers)
        return HTTPStatus.OK, {"ok": True}, {"Set-Cookie": cookie}

    def logout_cookie(self, headers: Mapping[str, str]) -> str:
        """Return the Set-Cookie value that removes the session cookie."""
        return self._cookie("", 0, headers)

    @staticmethod
    def _cookie(value: str, max_age: int, headers: Mapping[str, str]) -> str:
        # Secure only when the page came over https (a proxy in front: AMC serves plain http,
        # and browsers drop a Secure cookie set over http).
        secure = (headers.get("Origin") or "").lower().startswith("https://")
        return "%s=%s; Max-Age=%d; Path=/; HttpOnly; SameSite=Strict%s" % (
            SESSION_COOKIE, value, max_age, "; Secure" if secure else "")

    def _own_origin(self, origin: str, host_header: str) -> bool:
        try:
            parts = urlsplit(origin)
        except ValueError:  # "http://[": not a URL, so not ours
            return False
        return parts.scheme in ("http", "https") and \
            parts.netloc.lower() == host_header.strip().lower()
