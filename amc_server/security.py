"""Who may talk to the server: Host allow-list, same-origin check, the POST token and the login.

A page that can type into the user's terminals must not be reachable by other web pages or other
users. So, before routing:
- `Host` must be a loopback name (or explicitly allowed with AMC_ALLOWED_HOSTS): defeats DNS
  rebinding, where a hostile page's own domain resolves to 127.0.0.1;
- an `Origin` (or `Sec-Fetch-Site: cross-site`) that is not the server's own is refused; `/api/`
  also refuses `Sec-Fetch-Site: same-site` (a page on another port of the same host) and no-cors
  requests (`<img>`, `<script>`) that are not from AMC's own page: such blind GETs could hold the
  stream slots or time searches. Requests without these headers (curl, scripts) are not affected;
- every POST carries `X-AMC-Token` equal to the `token` file (0600, created on first start), which
  only the dashboard page served by this server can read (no CORS headers are ever sent);
- when bound to a non-loopback address, every API read needs the token or the cookie of a login
  (`POST /api/login` with the right token: a random value per login, kept hashed in logins.py,
  ended by `POST /api/logout` or `amc logins revoke`), and the page itself is served only to
  that cookie (everyone else gets dashboard/login.html). That page carries a value for its POSTs
  that works only together with its own cookie, never the token. No token ever travels in a
  URL: URLs end up in logs, history and Referer headers. Wrong tokens, in the login's body or in
  `X-AMC-Token`, are rate-limited per client address;
- on Linux, a loopback connection from another local user is refused (the owner of the client
  socket is asked of the kernel), so other users can neither read sessions nor fetch the page
  that carries the token. An SSH tunnel's connection is owned by the user sshd runs it as: a
  tunnel into your own account passes, another user's does not. Elsewhere the token file's 0600
  mode is the protection for POSTs.
"""
import heapq
import hmac
import logging
import math
import os
import re
import secrets
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from . import logins, peer
from .. import store
from ..errors import ApiError, BadRequest, Forbidden

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOGIN_PATH = "/api/login"
SESSION_COOKIE = "amc_session"
SESSION_MAX_AGE_S = logins.MAX_AGE_S    # a phone asks once a month, not at every browser restart
CLIENT_HEADER = "X-AMC-Client-Address"  # set by server.py from the socket; a client's own is dropped
MAX_TOKEN_CHARS = 1000


class LoginNeeded(ApiError):
    """A read on a network-reachable server without the session cookie (or the token)."""
    status = HTTPStatus.UNAUTHORIZED


class TooManyTries(ApiError):
    """An address locked out after too many wrong tokens: 429 with Retry-After."""
    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, client: str, wait_s: float) -> None:
        seconds = int(math.ceil(wait_s))
        super().__init__("too many wrong tokens from %s: try again in %d s"
                         % (client or "this address", seconds))
        self.headers = {"Retry-After": str(seconds)}


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
    The table holds at most MAX_CLIENTS addresses: when full, those no lockout holds are
    forgotten first, then (every one locked: many addresses, e.g. from an IPv6 prefix) those
    whose lockout ends soonest, so memory stays bounded whatever the addresses.
    """
    MAX_FAILURES = 5
    LOCKOUT_S = 30.0
    MAX_LOCKOUT_S = 3600.0
    MAX_CLIENTS = 10000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: Dict[str, List[float]] = {}  # address -> [failures, locked_until, lockouts]

    def __len__(self) -> int:
        return len(self._clients)

    def attempt(self, client: str, correct: bool) -> Tuple[str, float]:
        """Record one try; return ("ok" | "wrong" | "locked", seconds to wait)."""
        with self._lock:
            now = self._clock()
            entry = self._clients.get(client)
            if entry is not None and entry[1] > now:
                return "locked", entry[1] - now   # not even a right token gets in now
            if correct:
                self._clients.pop(client, None)
                return "ok", 0.0
            if entry is None:
                self._make_room(now)
                entry = self._clients[client] = [0, 0.0, 0]
            entry[0] += 1
            if entry[0] < self.MAX_FAILURES:
                return "wrong", 0.0
            entry[0] = 0
            entry[2] += 1
            wait = min(self.LOCKOUT_S * 2 ** (entry[2] - 1), self.MAX_LOCKOUT_S)
            entry[1] = now + wait
            return "wrong", wait

    def _make_room(self, now: float) -> None:
        """Make room for one more address (under _lock)."""
        if len(self._clients) < self.MAX_CLIENTS:
            return
        self._clients = {k: v for k, v in self._clients.items() if v[1] > now}
        excess = len(self._clients) - self.MAX_CLIENTS + 1
        if excess > 0:
            # All locked: the soonest free go first, a tenth at once so this sort stays rare.
            drop = heapq.nsmallest(excess + self.MAX_CLIENTS // 10, self._clients.items(),
                                   key=lambda item: item[1][1])
            for key, _ in drop:
                del self._clients[key]


READ_WORDS = ("log in: this AMC server is reachable from the network, so reads need its session "
              "cookie (open its page and enter the token) or the X-AMC-Token header")
WRONG_WORDS = "missing or wrong X-AMC-Token (reload the dashboard)"
PAGE_VALUE = re.compile(r"^[0-9a-f]{64}$")   # logins.page_value's shape


class Guard:
    """The checks every request passes before it reaches the API, and the login."""

    def __init__(self, token: str, allowed_hosts: Iterable[str] = (), login_required: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 logins_file: Optional[str] = None) -> None:
        self.token = token
        self.uid = os.getuid() if hasattr(os, "getuid") else None
        self.allowed = LOOPBACK_HOSTS | {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.login_required = login_required
        self.limit = LoginLimit(clock)
        self.logins = logins.Logins(logins_file, token)
        if login_required:
            try:
                self.logins.prune()   # expired ones, and all of them after a new token file
            except OSError as e:
                logging.getLogger("amc.security").warning("cannot tidy %s: %s", logins_file, e)

    def check(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        """Raise Forbidden, LoginNeeded or TooManyTries unless the request may proceed."""
        host = host_name(headers.get("Host") or "")
        if host not in self.allowed:
            raise Forbidden("Host %r is not allowed (DNS-rebinding protection); "
                            "open AMC at http://127.0.0.1 or set AMC_ALLOWED_HOSTS" % host)
        origin = headers.get("Origin")
        if origin is not None and not self._own_origin(origin, headers.get("Host") or ""):
            raise Forbidden("cross-origin request from %s refused" % origin)
        site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
        if site == "cross-site":
            raise Forbidden("cross-site request refused")
        api = path.startswith("/api/")
        if api:
            self._own_page_only(site, headers)
        if method in ("GET", "HEAD"):
            if api and self.login_required:
                self._authorise(headers, write=False)
            return
        if method == "POST" and path == LOGIN_PATH:
            return  # the token is in its body: Guard.login
        self._authorise(headers, write=True)

    @staticmethod
    def _own_page_only(site: str, headers: Mapping[str, str]) -> None:
        """Refuse API requests a browser makes for a page that is not AMC's own.

        Another port of the same host is "same-site" (cookies go there too, SameSite=Strict
        lets them through); a no-cors request is an <img>, <script> or <link> whose answer its
        page cannot read, but which still opens a stream or runs a search. AMC's page sends
        same-origin ones only (fetch, EventSource, its own <img> of a transcript's image); a
        request with no Sec-Fetch headers at all (curl, scripts, old browsers) is not a
        browser's blind request and passes as before.
        """
        if site == "same-site":
            raise Forbidden("refused: a request for AMC's API from a page of another port or "
                            "subdomain of this host (Sec-Fetch-Site: same-site); only AMC's own "
                            "page may use it")
        if (headers.get("Sec-Fetch-Mode") or "").strip().lower() == "no-cors" and \
                site != "same-origin":
            raise Forbidden("refused: a no-cors request (an <img>, <script>, ...) for AMC's API "
                            "that does not come from AMC's own page")

    def _authorise(self, headers: Mapping[str, str], write: bool) -> None:
        """Let a POST (`write`) or a login-mode read through, or raise.

        Counting wrong X-AMC-Token headers: only on a server that asks for a login (bound to
        a network address), where they come from the network and a guessing loop is what the
        limit is for. On loopback every client is 127.0.0.1: the user's own processes (other
        users are refused by check_peer on Linux) and the page, whose POSTs carry the token;
        counting there would let any local program lock the user's own dashboard out for up to
        an hour, for no gain (those programs can read the token file, and 32 random bytes are
        not guessed through a socket).
        """
        given = headers.get("X-AMC-Token") or ""
        if not self.login_required:
            if not self.token_ok(given):
                raise Forbidden(WRONG_WORDS)
            return
        cookies = cookie_values(headers.get("Cookie") or "", SESSION_COOKIE)
        if not given:
            if write:
                raise Forbidden(WRONG_WORDS)
            if any(self.logins.find(secret) is not None for secret in cookies):
                return
            raise LoginNeeded(READ_WORDS)
        # A login's page value with that login's own cookie is no guess (only this server can
        # make the pair): never counted, and let in even while the address is locked out, so
        # nobody sharing the address can lock a logged-in page out. Its login may have ended.
        for secret in cookies:
            if hmac.compare_digest(given.encode("utf-8", "replace"),
                                   logins.page_value(self.token, secret).encode("ascii")):
                if self.logins.find(secret) is not None:
                    return
                raise LoginNeeded("log in again: this page's login has ended (logged out, "
                                  "revoked with `amc logins revoke`, or 30 days old)")
        if PAGE_VALUE.match(given) and not self.token_ok(given) and \
                any(self.logins.find(secret) is not None for secret in cookies):
            # A page of an earlier login in a browser that has logged in again since (another
            # tab): reload it, not a guess to count (the cookie gets the page anyway).
            raise LoginNeeded("reload the page: it is from an earlier login of this browser")
        client = str(headers.get(CLIENT_HEADER) or "")
        outcome, wait = self.limit.attempt(client, self.token_ok(given))
        if outcome == "ok":
            return
        if outcome == "locked":
            raise TooManyTries(client, wait)
        error = "missing or wrong X-AMC-Token"
        if wait:
            error += " (%d wrong in a row: wait %d s before the next try)" % (
                LoginLimit.MAX_FAILURES, int(math.ceil(wait)))
        raise Forbidden(error)

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
        return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"),
                                                   self.token.encode())

    def reader_ok(self, headers: Mapping[str, str]) -> bool:
        """Tell whether a read may see sessions: the token header or a live login's cookie.

        A plain predicate (nothing counted): requests are decided by check(), which counts.
        """
        return self.token_ok(headers.get("X-AMC-Token")) or any(
            self.logins.find(secret) is not None
            for secret in cookie_values(headers.get("Cookie") or "", SESSION_COOKIE))

    def page_token(self, headers: Mapping[str, str]) -> Optional[str]:
        """Return what the dashboard page carries for its POSTs, or None for the login form.

        On loopback the token itself (the page is only served to the user's own connections).
        On a network bind the page is only for a live login's cookie, and carries that login's
        own value (logins.page_value), never the token: a cookie that leaks (every port of the
        host receives it) gives neither the token nor a POST without that very cookie.
        """
        if not self.login_required:
            return self.token
        for secret in cookie_values(headers.get("Cookie") or "", SESSION_COOKIE):
            if self.logins.find(secret) is not None:
                return logins.page_value(self.token, secret)
        return None

    def login(self, body: Any, headers: Mapping[str, str]
              ) -> Tuple[HTTPStatus, Dict[str, Any], Dict[str, str]]:
        """Check `{"token"}` of POST /api/login; return (status, answer, headers).

        The right token starts a login (a new random cookie value, kept hashed in logins.json);
        a wrong one 403; an address with LoginLimit.MAX_FAILURES wrong tries in a row waits,
        429 with Retry-After.
        """
        given = body.get("token") if isinstance(body, dict) else None
        if not isinstance(given, str) or not given.strip() or len(given) > MAX_TOKEN_CHARS:
            raise BadRequest('the body must be {"token": "<contents of the token file>"}')
        client = str(headers.get(CLIENT_HEADER) or "")
        outcome, wait = self.limit.attempt(client, self.token_ok(given.strip()))
        seconds = int(math.ceil(wait))
        if outcome == "locked":
            refused = TooManyTries(client, wait)
            return refused.status, {"ok": False, "error": refused.message}, refused.headers
        if outcome == "wrong":
            error = "wrong token: it is the contents of the token file in AMC's data dir"
            if wait:
                error += " (%d wrong in a row: wait %d s before the next try)" % (
                    LoginLimit.MAX_FAILURES, seconds)
            return HTTPStatus.FORBIDDEN, {"ok": False, "error": error}, {}
        try:
            secret = self.logins.create(client, str(headers.get("User-Agent") or ""))
        except OSError as e:
            raise ApiError("cannot record the login in %s (%s): logins need a writable data "
                           "dir" % (self.logins.path, e.strerror or e),
                           HTTPStatus.INTERNAL_SERVER_ERROR) from None
        cookie = self._cookie(secret, SESSION_MAX_AGE_S, headers)
        return HTTPStatus.OK, {"ok": True}, {"Set-Cookie": cookie}

    def logout(self, headers: Mapping[str, str]) -> str:
        """End the login(s) of the request's cookie; return the Set-Cookie that removes it."""
        for secret in cookie_values(headers.get("Cookie") or "", SESSION_COOKIE):
            self.logins.end(secret)
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
