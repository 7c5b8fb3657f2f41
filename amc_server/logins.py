"""The logins of a server reachable from the network: one random session per login, kept hashed.

Place in the flow: `POST /api/login` with the right token (security.Guard) -> here -> the
`amc_session` cookie, and `<data dir>/logins.json`, which every cookie is looked up in;
`POST /api/logout` and `amc logins revoke` remove entries, `amc logins list` shows them (main()).

Why a file and not a value derived from the token: a derived cookie is the same on every device,
outlives a logout and ends only with the token. Here each login gets its own random value (the
cookie), of which only the SHA-256 is kept, with an expiry, the address and the browser it came
from, so one device can be logged out, or every one, without touching the token. The file is
written atomically under `logins.lock` (the server and the CLI both write it) and re-read by the
server whenever its stat changes, so a revoke from the CLI takes effect on the next request.

The page served to a login carries `page_value(token, secret)` for its POSTs (not the token):
an HMAC keyed by the token, so only this server can make it, and it is worth nothing without
that login's cookie. `token` in the file is a fingerprint of the token the logins were made
with: after a new token file (and a restart) they are all void.
"""
import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from .. import store

VERSION = 1
LOCK = "logins.lock"
MAX_AGE_S = 30 * 24 * 3600  # a phone asks once a month, not at every browser restart
MAX_LOGINS = 1000           # beyond, the least recently used are forgotten
TOUCH_S = 60                # `last_used` is written at most this often per login
MAX_AGENT_CHARS = 200
PAGE_LABEL = b"amc-page-v1\0"
TOKEN_LABEL = b"amc-logins-v1\0"


def hash_secret(secret: str) -> str:
    """Return what is stored for a cookie value: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def fingerprint(token: str) -> str:
    """Return the token's fingerprint kept in the file (a new token voids every login)."""
    return hashlib.sha256(TOKEN_LABEL + token.encode("utf-8")).hexdigest()


def page_value(token: str, secret: str) -> str:
    """Return the value the page of the login `secret` sends as X-AMC-Token."""
    return hmac.new(token.encode("utf-8"), PAGE_LABEL + secret.encode("utf-8", "replace"),
                    hashlib.sha256).hexdigest()


def _entry(item: Any) -> Optional[Dict[str, Any]]:
    """Return a stored login as AMC wrote it, or None for anything else."""
    if not isinstance(item, dict):
        return None
    if not all(isinstance(item.get(k), str) and item[k] for k in ("id", "hash")):
        return None
    times = [item.get(k) for k in ("created", "last_used", "expires")]
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and t == t
               and abs(t) < 1e11 for t in times):
        return None
    return {"id": item["id"], "hash": item["hash"], "created": int(times[0]),
            "last_used": int(times[1]), "expires": int(times[2]),
            "address": str(item.get("address") or "")[:100],
            "user_agent": str(item.get("user_agent") or "")[:MAX_AGENT_CHARS]}


def read(path: str) -> Dict[str, Any]:
    """Return `{"version", "token", "logins": [...]}`; a missing or broken file reads as empty."""
    doc = store.read_json(path)
    doc = doc if isinstance(doc, dict) else {}
    items = doc.get("logins") if isinstance(doc.get("logins"), list) else []
    return {"version": VERSION, "token": str(doc.get("token") or ""),
            "logins": [e for e in (_entry(i) for i in items) if e is not None]}


def _write(path: str, doc: Dict[str, Any]) -> None:
    store.write_json_atomic(path, dict(doc, version=VERSION), 0o600, indent=1)


def _lock(path: str) -> store.Locked:
    return store.Locked(os.path.join(os.path.dirname(path), LOCK))


def valid(doc: Dict[str, Any], now: float) -> List[Dict[str, Any]]:
    """Return the logins that have not expired, oldest first."""
    return sorted((e for e in doc["logins"] if e["expires"] > now), key=lambda e: e["created"])


def revoke(path: str, which: Optional[str], now: Optional[float] = None) -> List[Dict[str, Any]]:
    """End logins from the CLI: an id, a prefix of exactly one id, or None (all); return them.

    Raises LookupError (in words) when `which` names no login or several.
    """
    now = time.time() if now is None else now
    with _lock(path):
        doc = read(path)
        stored = len(doc["logins"])
        live = valid(doc, now)
        if which is None:
            gone = live
        else:
            gone = [e for e in live if e["id"] == which] or \
                [e for e in live if which and e["id"].startswith(which)]
            if not gone:
                raise LookupError("no login %r (see `amc logins list`)" % which)
            if len(gone) > 1:
                raise LookupError("%r is the start of %d logins' ids: give more of it"
                                  % (which, len(gone)))
        ids = {e["id"] for e in gone}
        doc["logins"] = [e for e in live if e["id"] not in ids]
        if gone or len(live) != stored:
            _write(path, doc)
    return gone


class Logins:
    """The server's view of logins.json: re-read when its stat changes, written under the lock.

    `path` None keeps them in memory only (a Guard made in a test without a data dir).
    """

    def __init__(self, path: Optional[str], token: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.token = token
        self._fingerprint = fingerprint(token)
        self._clock = clock
        self._lock = threading.Lock()
        self._sig: Any = "unread"
        self._by_hash: Dict[str, Dict[str, Any]] = {}

    def _stat(self) -> Any:
        try:
            st = os.stat(self.path)
            return (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            return None

    def _current(self) -> Dict[str, Dict[str, Any]]:
        """Return the valid logins by hash, re-reading the file when it changed (under _lock)."""
        if self.path is not None:
            sig = self._stat()
            if sig != self._sig:
                self._sig = sig
                doc = read(self.path) if sig is not None else {"token": "", "logins": []}
                mine = hmac.compare_digest(doc["token"], self._fingerprint)
                self._by_hash = {e["hash"]: e for e in doc["logins"]} if mine else {}
        return self._by_hash

    def _change(self, edit: Callable[[Dict[str, Dict[str, Any]]], None]) -> None:
        """Apply `edit` to the current logins and write them (under _lock)."""
        if self.path is None:
            edit(self._by_hash)
            return
        with _lock(self.path):
            self._sig = "unread"   # what another process wrote since the last look counts
            by_hash = dict(self._current())
            edit(by_hash)
            now = self._clock()
            kept = sorted((e for e in by_hash.values() if e["expires"] > now),
                          key=lambda e: e["last_used"])[-MAX_LOGINS:]
            _write(self.path, {"token": self._fingerprint,
                               "logins": sorted(kept, key=lambda e: e["created"])})
            self._sig = "unread"
            self._current()

    def prune(self) -> None:
        """Drop expired logins and those of another token from the file (at server start)."""
        with self._lock:
            if self.path is None or not os.path.exists(self.path):
                return
            doc = read(self.path)
            now = self._clock()
            if doc["token"] != self._fingerprint or any(e["expires"] <= now
                                                        for e in doc["logins"]):
                self._change(lambda by_hash: None)

    def create(self, address: str, user_agent: str) -> str:
        """Record a new login; return its secret, the cookie's value (never stored)."""
        secret = secrets.token_urlsafe(32)
        now = int(self._clock())
        entry = {"id": secrets.token_hex(6), "hash": hash_secret(secret), "created": now,
                 "last_used": now, "expires": now + MAX_AGE_S, "address": address[:100],
                 "user_agent": "".join(c for c in user_agent if c.isprintable())[
                     :MAX_AGENT_CHARS]}
        with self._lock:
            self._change(lambda by_hash: by_hash.__setitem__(entry["hash"], entry))
        return secret

    def find(self, secret: str) -> Optional[Dict[str, Any]]:
        """Return the unexpired login of a cookie value (noting its use), else None."""
        if not secret or len(secret) > 200:
            return None
        key = hash_secret(secret)
        with self._lock:
            entry = self._current().get(key)
            now = self._clock()
            if entry is None or entry["expires"] <= now:
                return None
            if now - entry["last_used"] >= TOUCH_S:
                def touch(by_hash: Dict[str, Dict[str, Any]]) -> None:
                    if key in by_hash:
                        by_hash[key] = dict(by_hash[key], last_used=int(now))
                try:
                    self._change(touch)
                except OSError:  # a read-only data dir: the login still works
                    entry["last_used"] = int(now)
            return entry

    def end(self, secret: str) -> bool:
        """Forget the login of a cookie value (log out); tell whether there was one."""
        key = hash_secret(secret)
        with self._lock:
            if key not in self._current():
                return False
            self._change(lambda by_hash: by_hash.pop(key, None))
            return True


# -- amc logins list | revoke ID|--all ---------------------------------------------------------

def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def main(path: str, action: str, which: Optional[str], every: bool) -> int:
    """Run `amc logins list` or `amc logins revoke ID|--all` on the logins file `path`; return
    the exit code."""
    if action == "list":
        entries = valid(read(path), time.time())
        if not entries:
            print("no logins (a server bound to a network address asks for the token once per "
                  "browser; docs/remote-access.md)")
            return 0
        row = "%-12s  %-16s  %-16s  %-16s  %-15s  %s"
        print(row % ("ID", "CREATED", "LAST USED", "EXPIRES", "ADDRESS", "BROWSER"))
        for e in entries:
            print(row % (e["id"], _when(e["created"]), _when(e["last_used"]),
                         _when(e["expires"]), e["address"] or "-", e["user_agent"] or "-"))
        return 0
    if every == bool(which):
        print("amc: amc logins revoke needs a login's ID (see `amc logins list`) or --all",
              file=sys.stderr)
        return 2
    try:
        gone = revoke(path, None if every else which)
    except LookupError as e:
        print("amc: %s" % e.args[0], file=sys.stderr)
        return 1
    except OSError as e:
        print("amc: cannot write %s: %s" % (path, e.strerror or e), file=sys.stderr)
        return 1
    for e in gone:
        print("revoked: %s (%s, %s)" % (e["id"], e["address"] or "-", e["user_agent"] or "-"))
    if not gone:
        print("no logins to revoke")
    return 0
