"""Who may talk to the server: Host allow-list, same-origin check and the POST token.

A page that can type into the user's terminals must not be reachable by other web pages or other
users. So, before routing:
- `Host` must be a loopback name (or explicitly allowed with AMC_ALLOWED_HOSTS): defeats DNS
  rebinding, where a hostile page's own domain resolves to 127.0.0.1;
- an `Origin` (or `Sec-Fetch-Site: cross-site`) that is not the server's own is refused;
- every POST carries `X-AMC-Token` equal to the `token` file (0600, created on first start), which
  only the dashboard page served by this server can read (no CORS headers are ever sent);
- when bound to a non-loopback address, every API request needs the token;
- on Linux, a loopback connection from another local user is refused (the owner of the client
  socket is looked up in /proc/net/tcp*), so other users can neither read sessions nor fetch the
  page that carries the token. Elsewhere the token file's 0600 mode is the protection for POSTs.
"""
import hmac
import logging
import os
import secrets
from typing import Iterable, Mapping, Optional
from urllib.parse import urlsplit

from . import peer, store
from .errors import Forbidden

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


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


class Guard:
    """The checks every request passes before it reaches the API."""

    def __init__(self, token: str, allowed_hosts: Iterable[str] = (), token_for_reads: bool = False):
        self.token = token
        self.uid = os.getuid() if hasattr(os, "getuid") else None
        self.allowed = LOOPBACK_HOSTS | {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.token_for_reads = token_for_reads

    def check(self, method: str, path: str, headers: Mapping[str, str],
              query_token: Optional[str] = None) -> None:
        """Raise Forbidden unless the request may proceed.

        `query_token` is the `?token=` of a GET /api/stream: EventSource cannot send headers.
        """
        host = host_name(headers.get("Host") or "")
        if host not in self.allowed:
            raise Forbidden("Host %r is not allowed (DNS-rebinding protection); "
                            "open AMC at http://127.0.0.1 or set AMC_ALLOWED_HOSTS" % host)
        origin = headers.get("Origin")
        if origin is not None and not self._own_origin(origin, headers.get("Host") or ""):
            raise Forbidden("cross-origin request from %s refused" % origin)
        if (headers.get("Sec-Fetch-Site") or "").lower() == "cross-site":
            raise Forbidden("cross-site request refused")
        needs_token = method not in ("GET", "HEAD") or \
            (self.token_for_reads and path.startswith("/api/"))
        given = headers.get("X-AMC-Token") or (query_token if method == "GET" and
                                               path == "/api/stream" else None)
        if needs_token and not self.token_ok(given):
            raise Forbidden("missing or wrong X-AMC-Token (reload the dashboard)")

    def check_peer(self, client: tuple, server: tuple) -> None:
        """Raise Forbidden when a loopback client belongs to another local user (Linux).

        `server` is this connection's own address (the client's peer), `getsockname()`.
        """
        if self.uid is None or self.token_for_reads or not is_loopback(str(client[0])):
            return
        owner = peer.peer_uid(client, server)
        if owner is not None and owner != self.uid and owner != 0:
            raise Forbidden("this AMC server belongs to another user")

    def token_ok(self, given: Optional[str]) -> bool:
        """Compare a presented token with ours in constant time."""
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def _own_origin(self, origin: str, host_header: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and \
            parts.netloc.lower() == host_header.strip().lower()
