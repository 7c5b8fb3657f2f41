"""Reaching the hub from a phone or another computer: the login of a non-loopback bind, and the
SSH tunnel to a loopback one (docs/security.md, docs/remote-access.md).

A server bound to anything but loopback serves `/` as a login form until the browser holds the
HttpOnly, SameSite=Strict session cookie that `POST /api/login` sets for the right token: a random
value per login, kept hashed with an expiry in `<data dir>/logins.json`, ended by logout or
`amc logins revoke`. Reads take that cookie (or `X-AMC-Token`); POSTs need `X-AMC-Token`, which
for the page is its login's own value (never the token) and works only with that login's cookie;
wrong header tokens count in the login's per-address limit. No token is ever in a URL. Pages on
another port of the host (same-site to AMC, so they get its cookie) may not use the API at all.
The non-loopback address is a Tailscale-like 100.100.77.1 added for the test (root and `ip`: a
dummy interface, else a /32 on `lo`), else this machine's own non-loopback address; with neither
the tests skip, and fail under CI=true. Everything runs against real servers on real ports, the
page in a real Chromium, the tunnel through the real sshd of tests/support/sshd.py.
"""
import hashlib
import hmac
import http.client
import http.server
import json
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any, Dict, List, Optional, Tuple

from tests.support import tools
from tests.support.amcproc import end_process_group
from tests.support.browser import PHONE, DashboardTestCase
from tests.support.helpers import AMC, IsolatedTestCase, ServerTestCase
from tests.support.sshd import USER_PATH, SshWorld, free_port, require_root_sshd

from amc_server.http import logins, security
from amc_server.http.server import make_server

NETWORK_ERROR = r"Failed to load resource|net::ERR_|EventSource"
TEST_ADDRESS = "100.100.77.1"   # in Tailscale's 100.64.0.0/10
DUMMY = "amct0"
_address: Dict[str, Any] = {}   # "value": the address in use; "undo": argv that removes it


def _ip(*args: str) -> bool:
    return subprocess.run(["ip", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=10).returncode == 0


def _own_address() -> str:
    """Return a non-loopback IPv4 address of this machine ("" if none); sends no packet."""
    candidates = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))  # TEST-NET-3: only picks the default route's source
            candidates.append(s.getsockname()[0])
        except OSError:
            pass
    try:
        candidates += [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None,
                                                           socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        if not security.is_loopback(address) and address != "0.0.0.0":
            return address
    return ""


def network_address() -> str:
    """Return a non-loopback address this machine listens on (made once per test run)."""
    if "value" in _address:
        return _address["value"]
    address = ""
    if os.geteuid() == 0 and shutil.which("ip"):
        dummy = _ip("link", "add", DUMMY, "type", "dummy") and _ip("link", "set", DUMMY, "up")
        device = DUMMY if dummy else "lo"   # no dummy module in the container: lo takes a /32 too
        if _ip("addr", "add", TEST_ADDRESS + "/32", "dev", device):
            address = TEST_ADDRESS
            _address["undo"] = ["link", "del", DUMMY] if dummy else \
                ["addr", "del", TEST_ADDRESS + "/32", "dev", "lo"]
        elif dummy:
            _ip("link", "del", DUMMY)
    address = address or _own_address()
    if not address:
        message = ("no non-loopback address: these tests need root and `ip` (to add %s) or a "
                   "network interface" % TEST_ADDRESS)
        if tools.in_ci():
            raise tools.ToolMissing(message + "; CI=true, so this is a failure, not a skip")
        raise unittest.SkipTest(message)
    _address["value"] = address
    return address


def tearDownModule() -> None:
    if "undo" in _address:
        _ip(*_address.pop("undo"))
    _address.clear()


def call(host: str, port: int, method: str, path: str, body: Any = None,
         headers: Optional[Dict[str, str]] = None, read: bool = True) -> Tuple[int, Any, Any]:
    """Send one request to host:port (Host: host:port); return (status, JSON or bytes, message)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    hdrs = {"Host": "%s:%d" % (host, port)}
    hdrs.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    payload = resp.read() if read else resp.read(64)
    conn.close()
    ctype = resp.getheader("Content-Type") or ""
    decoded = json.loads(payload) if read and ctype.startswith("application/json") else payload
    return resp.status, decoded, resp.msg


class Units(unittest.TestCase):
    """The pieces of the login without a server: cookie value, cookie parsing, the rate limit."""

    def test_each_login_gets_its_own_random_cookie_and_only_its_hash_is_kept(self):
        folder = tempfile.mkdtemp(prefix="amc-logins-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "logins.json")
        store = logins.Logins(path, "t" * 43)
        first, second = store.create("100.64.0.2", "Phone"), store.create("100.64.0.3", "Laptop")
        self.assertNotEqual(first, second)
        self.assertRegex(first, r"^[A-Za-z0-9_-]{43}$")   # 32 random bytes
        with open(path) as f:
            text = f.read()
        for secret in (first, second, "t" * 43):
            self.assertNotIn(secret, text)
        doc = json.loads(text)
        self.assertEqual(doc["version"], 1)
        self.assertEqual(sorted(e["hash"] for e in doc["logins"]),
                         sorted(hashlib.sha256(s.encode()).hexdigest() for s in (first, second)))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(store.find(first)["address"], "100.64.0.2")
        self.assertIsNone(store.find(first[:-1] + ("A" if first[-1] != "A" else "B")))
        # another process's copy reads the same file; a new token voids every login
        self.assertEqual(logins.Logins(path, "t" * 43).find(second)["user_agent"], "Laptop")
        self.assertIsNone(logins.Logins(path, "u" * 43).find(second))

    def test_an_expired_login_is_refused(self):
        now = [1_000_000.0]
        store = logins.Logins(None, "t" * 43, clock=lambda: now[0])
        secret = store.create("a", "b")
        now[0] += logins.MAX_AGE_S - 1
        self.assertIsNotNone(store.find(secret))
        now[0] += 1
        self.assertIsNone(store.find(secret))

    def test_a_broken_or_foreign_logins_file_reads_as_no_logins(self):
        folder = tempfile.mkdtemp(prefix="amc-logins-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "logins.json")
        for text in ("", "[1]", "{", '{"logins": 5}', '{"logins": [1, {"id": 2}, null]}',
                     '{"logins": [{"id": "a", "hash": "b", "created": NaN, "last_used": 1, '
                     '"expires": 2}]}'):
            with open(path, "w") as f:
                f.write(text)
            self.assertEqual(logins.read(path)["logins"], [], text)
            self.assertIsNone(logins.Logins(path, "t" * 43).find("anything"))

    def test_cookie_header_parsing_is_lenient_and_finds_every_value(self):
        header = 'a=1; amc_session=x;broken; amc_session="y" ; other=amc_session=z'
        self.assertEqual(security.cookie_values(header, "amc_session"), ["x", "y"])
        self.assertEqual(security.cookie_values("", "amc_session"), [])

    def test_five_wrong_tries_lock_an_address_and_each_lockout_doubles(self):
        now = [1000.0]
        limit = security.LoginLimit(clock=lambda: now[0])
        for _ in range(4):
            self.assertEqual(limit.attempt("a", False), ("wrong", 0.0))
        self.assertEqual(limit.attempt("a", False), ("wrong", 30.0))
        self.assertEqual(limit.attempt("a", True)[0], "locked")   # not even the right token
        self.assertEqual(limit.attempt("b", True), ("ok", 0.0))    # other addresses are not hit
        now[0] += 30
        for _ in range(4):
            limit.attempt("a", False)
        self.assertEqual(limit.attempt("a", False), ("wrong", 60.0))
        now[0] += 60
        self.assertEqual(limit.attempt("a", True), ("ok", 0.0))    # and it clears the address
        self.assertEqual(limit.attempt("a", False), ("wrong", 0.0))

    def test_the_limit_table_stays_bounded_when_every_address_is_locked(self):
        now = [1000.0]
        limit = security.LoginLimit(clock=lambda: now[0])
        limit.MAX_CLIENTS = 50
        biggest = 0
        for n in range(400):          # 400 distinct addresses, each locked out in turn
            now[0] += 0.01
            for _ in range(security.LoginLimit.MAX_FAILURES):
                limit.attempt("2001:db8::%x" % n, False)
            biggest = max(biggest, len(limit))
        self.assertLessEqual(biggest, 50)
        self.assertEqual(limit.attempt("2001:db8::18f", True)[0], "locked")  # the newest stay
        self.assertEqual(limit.attempt("2001:db8::0", True), ("ok", 0.0))   # the soonest went

    def test_the_cookie_is_secure_only_when_the_page_came_over_https(self):
        guard = security.Guard("t" * 43, login_required=True)
        _, _, plain = guard.login({"token": "t" * 43}, {"Origin": "http://h:1"})
        self.assertRegex(plain["Set-Cookie"], r"^amc_session=[A-Za-z0-9_-]{43}; Max-Age=2592000; "
                         r"Path=/; HttpOnly; SameSite=Strict$")
        _, _, proxied = guard.login({"token": "t" * 43}, {"Origin": "https://h"})
        self.assertTrue(proxied["Set-Cookie"].endswith("; HttpOnly; SameSite=Strict; Secure"))


class NetworkApi(IsolatedTestCase):
    """A real server bound to a non-loopback address, in a thread, spoken to over HTTP."""

    def setUp(self) -> None:
        super().setUp()
        self.host = network_address()
        self.start()
        with open(self.paths.token_file) as f:
            self.token = f.read().strip()

    def start(self) -> None:
        self.server = make_server(self.paths, self.host, 0)
        thread = threading.Thread(target=self.server.serve_forever,
                                  kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self.addCleanup(self.stop, self.server)
        self.port = self.server.server_address[1]

    @staticmethod
    def stop(server: Any) -> None:
        server.shutdown()
        server.server_close()

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Tuple[int, Any, Any]:
        return call(self.host, self.port, method, path, body,
                    {k.replace("_", "-"): v for k, v in headers.items()})

    def login(self, token: Optional[str] = None) -> str:
        """Log in; return the Cookie header that the answer's Set-Cookie makes."""
        status, body, msg = self.call("POST", "/api/login", {"token": token or self.token})
        self.assertEqual((status, body), (200, {"ok": True}))
        return msg["Set-Cookie"].split(";")[0]

    def assert_error(self, status: int, body: Any, expected: int, words: str) -> None:
        self.assertEqual(status, expected, body)
        self.assertEqual(set(body), {"ok", "error"})
        self.assertIs(body["ok"], False)
        self.assertIn(words, body["error"])

    def test_reads_need_the_cookie_or_the_token_header_and_say_log_in(self):
        for path in ("/api/state", "/api/stream", "/api/events/abc", "/api/conversation/abc"):
            status, body, _ = self.call("GET", path)
            self.assert_error(status, body, 401, "log in:")
            status, body, _ = self.call("GET", path + "?token=" + self.token)  # no URL tokens
            self.assert_error(status, body, 401, "log in:")
        cookie = self.login()
        self.assertEqual(self.call("GET", "/api/state", Cookie=cookie)[0], 200)
        self.assertEqual(self.call("GET", "/api/state", X_AMC_Token=self.token)[0], 200)  # scripts
        status, first, msg = call(self.host, self.port, "GET", "/api/stream",
                                  headers={"Cookie": cookie}, read=False)
        self.assertEqual(status, 200)
        self.assertEqual(msg["Content-Type"], "text/event-stream; charset=utf-8")
        self.assertTrue(first.startswith(b"retry: "), first)
        self.assertEqual(self.call("GET", "/api/state", Cookie="amc_session=" + "0" * 64)[0], 401)
        self.assertEqual(self.call("GET", "/api/state", Cookie="amc_session=" + self.token)[0], 401)

    def test_the_page_is_a_login_form_without_a_session_and_the_dashboard_with_one(self):
        for path in ("/", "/index.html", "/?token=" + self.token):
            status, page, msg = self.call("GET", path)
            self.assertEqual(status, 200)
            self.assertIn(b'type="password"', page)
            self.assertIn(b'src="/login.js"', page)
            self.assertNotIn(self.token.encode(), page)
            self.assertIn("form-action 'none'", msg["Content-Security-Policy"])
        self.assertEqual(self.call("GET", "/login.js")[0], 200)
        self.assertEqual(self.call("GET", "/style.css")[0], 200)
        status, page, msg = self.call("GET", "/", Cookie=self.login())
        self.assertEqual(status, 200)
        self.assertIn(b'<meta name="amc-login" content="1">', page)   # the dashboard
        self.assertNotIn(self.token.encode(), page)   # a cookie never gets the token
        self.assertRegex(page, rb'<meta name="amc-token" content="[0-9a-f]{64}">')
        self.assertIn("'sha256-", msg["Content-Security-Policy"])  # the dashboard's import map

    def test_a_wrong_token_is_refused_in_words_and_the_right_one_sets_the_cookie(self):
        status, body, msg = self.call("POST", "/api/login", {"token": "not-the-token"})
        self.assert_error(status, body, 403, "wrong token")
        self.assertIsNone(msg["Set-Cookie"])
        for bad in (None, [], {"token": 5}, {"token": ""}, {"nope": self.token}):
            status, body, _ = self.call("POST", "/api/login", bad)
            self.assert_error(status, body, 400, '{"token"')
        status, body, msg = self.call("POST", "/api/login", {"token": self.token})
        self.assertEqual((status, body), (200, {"ok": True}))
        [cookie] = msg.get_all("Set-Cookie")
        self.assertRegex(cookie, r"^amc_session=[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=/; "
                         r"HttpOnly; SameSite=Strict$")
        self.assertNotIn(self.token, cookie)

    def test_brute_force_gets_429_that_says_how_long_to_wait(self):
        for n in range(1, 6):
            status, body, _ = self.call("POST", "/api/login", {"token": "guess-%d" % n})
            self.assert_error(status, body, 403, "wrong token")
        self.assertIn("5 wrong in a row: wait 30 s", body["error"])
        status, body, msg = self.call("POST", "/api/login", {"token": self.token})
        self.assert_error(status, body, 429, "too many wrong tokens")
        self.assertIn("try again in 30 s", body["error"])
        self.assertEqual(msg["Retry-After"], "30")
        self.assertIsNone(msg["Set-Cookie"])
        # the address header is the server's own: a client cannot pose as another address
        status, _, _ = self.call("POST", "/api/login", {"token": self.token},
                                 X_AMC_Client_Address="198.51.100.7")
        self.assertEqual(status, 429)

    def test_posts_still_need_the_token_header_the_cookie_is_not_enough(self):
        cookie = self.login()
        status, body, _ = self.call("POST", "/api/dismiss/abc", {}, Cookie=cookie)
        self.assert_error(status, body, 403, "X-AMC-Token")
        status, _, _ = self.call("POST", "/api/dismiss/abc", {}, Cookie=cookie,
                                 X_AMC_Token=self.token)
        self.assertEqual(status, 200)

    def test_a_refused_post_ends_its_connection_so_its_body_is_not_a_request(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Host": "%s:%d" % (self.host, self.port), "Content-Type": "application/json"}
        conn.request("POST", "/api/dismiss/abc", body=b"{}", headers=headers)  # no X-AMC-Token
        resp = conn.getresponse()
        resp.read()
        self.assertEqual((resp.status, resp.getheader("Connection")), (403, "close"))
        conn.request("POST", "/api/dismiss/abc", body=b"{}",
                     headers=dict(headers, **{"X-AMC-Token": self.token}))  # a new connection
        resp = conn.getresponse()
        self.assertEqual((resp.status, json.loads(resp.read())), (200, {"ok": True}))
        conn.close()

    def test_login_keeps_the_host_and_same_origin_checks(self):
        own = "http://%s:%d" % (self.host, self.port)
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Host": "evil.example"}):
            status, body, msg = call(self.host, self.port, "POST", "/api/login",
                                     {"token": self.token}, headers)
            self.assert_error(status, body, 403, "")
            self.assertIsNone(msg["Set-Cookie"])
        status, _, _ = self.call("POST", "/api/login", {"token": self.token}, Origin=own,
                                 Sec_Fetch_Site="same-origin")
        self.assertEqual(status, 200)

    def test_logout_removes_the_cookie(self):
        cookie = self.login()
        self.assertEqual(self.call("POST", "/api/logout", {}, Cookie=cookie)[0], 403)  # a POST
        status, body, msg = self.call("POST", "/api/logout", {}, Cookie=cookie,
                                      X_AMC_Token=self.token)
        self.assertEqual((status, body), (200, {"ok": True}))
        self.assertEqual(msg["Set-Cookie"],
                         "amc_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict")

    def page_value(self, cookie: str) -> str:
        """Return the X-AMC-Token value of the page served to `cookie`."""
        status, page, _ = self.call("GET", "/", Cookie=cookie)
        found = re.search(rb'<meta name="amc-token" content="([^"]*)">', page)
        self.assertTrue(status == 200 and found, "no dashboard for %s" % cookie)
        return found.group(1).decode()

    def logged_out(self, cookie: str) -> None:
        """Assert that `cookie` gets neither reads nor the dashboard."""
        status, body, _ = self.call("GET", "/api/state", Cookie=cookie)
        self.assert_error(status, body, 401, "log in")
        status, page, _ = self.call("GET", "/", Cookie=cookie)
        self.assertEqual(status, 200)
        self.assertIn(b'type="password"', page)

    def test_two_logins_get_different_cookies_and_logout_ends_exactly_that_one(self):
        phone, laptop = self.login(), self.login()
        self.assertNotEqual(phone, laptop)
        self.assertEqual(self.call("GET", "/api/state", Cookie=phone)[0], 200)
        status, body, msg = self.call("POST", "/api/logout", {}, Cookie=phone,
                                      X_AMC_Token=self.page_value(phone))
        self.assertEqual((status, body), (200, {"ok": True}))
        self.assertTrue(msg["Set-Cookie"].startswith("amc_session=; Max-Age=0;"))
        self.logged_out(phone)   # a copy of the cookie kept anywhere is worth nothing now
        self.assertEqual(self.call("GET", "/api/state", Cookie=laptop)[0], 200)
        self.assertEqual(len(logins.read(self.paths.logins_file)["logins"]), 1)

    def test_the_old_token_derived_cookie_is_refused(self):
        self.login()
        old = hmac.new(self.token.encode(), b"amc-session-v1", hashlib.sha256).hexdigest()
        self.logged_out("amc_session=" + old)
        self.logged_out("amc_session=" + self.token)

    def test_the_page_value_posts_only_together_with_its_own_cookie(self):
        phone, laptop = self.login(), self.login()
        value = self.page_value(phone)
        self.assertNotEqual(value, self.token)
        self.assertNotEqual(value, self.page_value(laptop))
        self.assertEqual(value, self.page_value(phone))   # the same page on every reload
        self.assertEqual(self.call("POST", "/api/dismiss/abc", {}, Cookie=phone,
                                   X_AMC_Token=value)[0], 200)
        for cookie in ({}, {"Cookie": laptop}):   # no cookie, or another login's
            status, body, _ = self.call("POST", "/api/dismiss/abc", {}, X_AMC_Token=value,
                                        **{k: v for k, v in cookie.items()})
            self.assertIn(status, (401, 403), body)
        # and it is not the token: scripts' reads with it alone are refused
        status, body, _ = self.call("GET", "/api/state", X_AMC_Token=value)
        self.assert_error(status, body, 403, "X-AMC-Token")
        self.assertEqual(self.call("GET", "/api/channel/abc/inbox", Cookie=phone,
                                   X_AMC_Token=value)[0], 403)   # the channel takes the token

    def test_an_expired_login_is_refused_and_the_server_notices_the_file(self):
        cookie = self.login()
        path = self.paths.logins_file
        with open(path) as f:
            doc = json.load(f)
        doc["logins"][0]["expires"] = int(time.time()) - 1
        with open(path + ".tmp", "w") as f:
            json.dump(doc, f)
        os.replace(path + ".tmp", path)
        self.logged_out(cookie)

    def test_amc_logins_revoke_ends_a_login_without_a_restart(self):
        phone = self.login()
        laptop = self.call("POST", "/api/login", {"token": self.token},
                           User_Agent="Mozilla/5.0 (Laptop)")[2]["Set-Cookie"].split(";")[0]
        amc = lambda *args: subprocess.run(  # noqa: E731
            [sys.executable, AMC, "logins", *args], env=self.env, capture_output=True,
            text=True, timeout=30)
        listed = amc("list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        lines = listed.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ["ID", "CREATED", "LAST"])
        self.assertEqual(len(lines), 3, listed.stdout)
        laptop_id = [line.split()[0] for line in lines if "Mozilla/5.0 (Laptop)" in line][0]
        self.assertIn(self.host, listed.stdout)   # the address each came from
        for secret in (phone, laptop, self.token):
            self.assertNotIn(secret.split("=")[-1], listed.stdout)
        neither = amc("revoke")
        self.assertEqual(neither.returncode, 2)
        self.assertIn("or --all", neither.stderr)
        wrong = amc("revoke", "zz-none")
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("no login 'zz-none'", wrong.stderr)
        done = amc("revoke", laptop_id[:6])   # a prefix of one id is enough
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("revoked: " + laptop_id, done.stdout)
        self.logged_out(laptop)   # the running server, no restart
        self.assertEqual(self.call("GET", "/api/state", Cookie=phone)[0], 200)
        self.assertEqual(amc("revoke", "--all").returncode, 0)
        self.logged_out(phone)
        self.assertIn("no logins", amc("list").stdout)

    def test_wrong_header_tokens_count_in_the_login_limit(self):
        cookie = self.login()
        value = self.page_value(cookie)
        codes = []
        for n in range(8):
            status, body, msg = self.call("GET", "/api/state", X_AMC_Token="guess-%d" % n)
            codes.append(status)
        self.assertEqual(codes, [403] * 5 + [429] * 3)
        self.assert_error(status, body, 429, "too many wrong tokens from %s" % self.host)
        self.assertIn("try again in 30 s", body["error"])
        self.assertEqual(msg["Retry-After"], "30")
        # locked: the token itself (header or login) waits too, so the loop learns nothing
        self.assertEqual(self.call("GET", "/api/state", X_AMC_Token=self.token)[0], 429)
        self.assertEqual(self.call("POST", "/api/dismiss/x", {}, X_AMC_Token=self.token)[0], 429)
        self.assertEqual(self.call("POST", "/api/login", {"token": self.token})[0], 429)
        # a logged-in page is no guess: it goes on working from the same address
        self.assertEqual(self.call("GET", "/api/state", Cookie=cookie)[0], 200)
        self.assertEqual(self.call("POST", "/api/dismiss/x", {}, Cookie=cookie,
                                   X_AMC_Token=value)[0], 200)

    def test_a_page_of_an_earlier_login_is_sent_to_reload_not_counted(self):
        old = self.login()
        value = self.page_value(old)
        self.call("POST", "/api/logout", {}, Cookie=old, X_AMC_Token=value)
        new = self.login()   # the browser logged in again (another tab)
        for _ in range(8):
            for cookie in (old, new):
                status, body, _ = self.call("POST", "/api/dismiss/x", {}, Cookie=cookie,
                                            X_AMC_Token=value)
                self.assert_error(status, body, 401, "")
        self.assertEqual(self.call("GET", "/api/state", X_AMC_Token=self.token)[0], 200)

    def test_a_new_token_file_ends_every_session_at_restart(self):
        cookie = self.login()
        self.stop(self.server)
        with open(self.paths.token_file, "w") as f:
            f.write("rotated-" + "x" * 40)
        self.start()
        self.assertEqual(self.call("GET", "/api/state", Cookie=cookie)[0], 401)
        self.assertIn(b'type="password"', self.call("GET", "/", Cookie=cookie)[1])
        self.assertEqual(self.call("GET", "/api/state", Cookie=self.login("rotated-" + "x" * 40))[0],
                         200)


class LoopbackBind(ServerTestCase):
    def test_a_loopback_bind_needs_no_login_or_cookie(self):
        status, page, _ = self.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn(self.token.encode(), page)
        self.assertEqual(self.request("GET", "/api/state")[0], 200)
        self.assertFalse(self.server.guard.login_required)

    def test_wrong_header_tokens_on_loopback_never_lock_the_users_page_out(self):
        # Every local client is 127.0.0.1: a lockout would be any local program's to cause.
        for n in range(20):
            status, body, _ = self.request("POST", "/api/dismiss/x", {},
                                           headers={"X-AMC-Token": "guess-%d" % n})
            self.assertEqual(status, 403, body)
            self.assertIn("X-AMC-Token", body["error"])
        status, body, _ = self.request("POST", "/api/dismiss/x", {})   # the page's token
        self.assertEqual((status, body), (200, {"ok": True}))
        self.assertEqual(len(self.server.guard.limit), 0)


class NetworkDashboard(DashboardTestCase):
    """The page on a non-loopback bind in Chromium: the login form, then the live dashboard."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.host = network_address()
        super().setUpClass()

    def base(self, port: int) -> str:
        return "http://%s:%d/" % (self.host, port)

    def token_now(self) -> str:
        with open(self.paths.token_file) as f:
            return f.read().strip()

    def log_in(self, token: str) -> None:
        self.page.get_by_label("Token").fill(token)
        self.page.get_by_role("button", name="Log in").click()

    def test_login_form_then_live_dashboard_and_no_token_in_any_url(self):
        self.allow_console_error(NETWORK_ERROR)  # the 401 and 403 this test asks for
        sid = self.feed("ask-option", upto=4)
        _, port = self.serve_process(host=self.host)
        token = self.token_now()
        base = self.base(port)
        for path in ("api/state", "api/stream", "api/conversation/" + sid):
            self.assertEqual(self.context.request.get(base + path).status, 401, path)
        self.page.goto(base)
        expect = self.expect
        expect(self.tid("login-form")).to_be_visible()
        expect(self.card(sid)).to_have_count(0)
        self.log_in("not-the-token")
        expect(self.page.get_by_role("alert")).to_contain_text("Wrong token")
        expect(self.page.get_by_label("Token")).to_have_attribute("aria-invalid", "true")
        self.log_in(token)
        card = self.card(sid)
        expect(self.tid("status", card)).to_have_text("Needs attention")
        expect(self.connection()).to_have_attribute("data-state", "live")
        self.feed("ask-option", start=4, upto=5, session_id=sid)  # live, over the stream
        expect(self.tid("status", card)).to_have_text("Active")
        self.tid("open-conversation", card).click()
        expect(self.page.locator('[data-testid="message"]').first).to_be_visible()
        self.assertEqual(self.polls(), [], "the page polled instead of streaming")
        streams = self.streams()
        self.assertGreaterEqual(len(streams), 1)
        self.assertTrue(all(s.url.startswith(base + "api/stream") for s in streams))
        urls = [r.url for r in self.requests]
        self.assertTrue(any("/api/conversation/" in u for u in urls))
        self.assertEqual([u for u in urls if token in u or "token=" in u], [])
        for request in self.requests:
            if request.method == "GET" and "/api/" in request.url:
                self.assertIsNone(request.headers.get("x-amc-token"), request.url)
        cookies = self.context.cookies()
        self.assertEqual([(c["name"], c["httpOnly"], c["sameSite"], c["secure"], c["path"])
                          for c in cookies], [("amc_session", True, "Strict", False, "/")])
        self.assertNotEqual(cookies[0]["value"], token)
        self.assertNotIn(token, self.page.content())   # the page has its login's value instead
        self.assertEqual(self.page.evaluate("document.cookie"), "")  # HttpOnly: not for scripts
        # the cookie reads; it does not write: a POST carrying only the cookie is refused
        post = """async ([sid, withToken]) => {
            const token = document.querySelector('meta[name="amc-token"]').content;
            const headers = {'Content-Type': 'application/json'};
            if (withToken) headers['X-AMC-Token'] = token;
            const res = await fetch('/api/dismiss/' + sid, {method: 'POST', body: '{}', headers});
            return res.status + " " + await res.text(); }"""
        self.assertRegex(self.page.evaluate(post, [sid, False]), r"^403 .*X-AMC-Token")
        self.assertEqual(self.page.evaluate(post, [sid, True]), "200 {\"ok\": true}")

    def test_a_new_token_sends_an_open_dashboard_back_to_the_login(self):
        self.allow_console_error(NETWORK_ERROR)  # the server goes away; then reads answer 401
        proc, port = self.serve_process(host=self.host)
        self.page.goto(self.base(port))
        self.log_in(self.token_now())
        expect = self.expect
        expect(self.tid("empty-state")).to_be_visible()
        expect(self.connection()).to_have_attribute("data-state", "live")
        self.kill_process(proc)
        with open(self.paths.token_file, "w") as f:
            f.write("rotated-" + "y" * 40)
        self.serve_process(port=port, host=self.host)
        expect(self.tid("login-form")).to_be_visible(timeout=15000)
        self.assertEqual(self.page.url, self.base(port))
        self.log_in("rotated-" + "y" * 40)
        expect(self.tid("empty-state")).to_be_visible()

    def test_log_out_brings_back_the_login_form_and_reads_are_refused_again(self):
        self.allow_console_error(NETWORK_ERROR)  # the page's stream ends with the login
        sid = self.feed("ask-option", upto=4)
        _, port = self.serve_process(host=self.host)
        base, token = self.base(port), self.token_now()
        self.page.goto(base)
        self.log_in(token)
        expect = self.expect
        expect(self.card(sid)).to_be_visible()
        self.assertEqual(self.page.locator('meta[name="amc-login"]').get_attribute("content"), "1")
        page_value = self.page.locator('meta[name="amc-token"]').get_attribute("content")
        [cookie] = self.context.cookies()
        self.assertEqual(self.context.request.get(base + "api/state").status, 200)
        with self.page.expect_response(base + "api/logout") as answered:
            self.page.get_by_role("button", name="Log out").click()
        expect(self.tid("login-form")).to_be_visible()
        expect(self.card(sid)).to_have_count(0)
        self.assertEqual(self.page.url, base)
        self.assertEqual(answered.value.status, 200)
        self.assertEqual(answered.value.request.method, "POST")
        self.assertEqual(answered.value.request.headers.get("x-amc-token"), page_value)
        self.assertNotEqual(page_value, token)   # the page never had the token
        self.assertEqual(self.context.cookies(), [], "the browser still holds the login")
        self.assertEqual(self.context.request.get(base + "api/state").status, 401)
        self.assertEqual(self.page.evaluate("async () => (await fetch('/api/state')).status"),
                         401)
        self.page.goto(base)  # and it stays logged out
        expect(self.tid("login-form")).to_be_visible()
        # the logout ended the login on the server: a copy of that cookie gets nothing either
        self.assertEqual(call(self.host, port, "GET", "/api/state", headers={
            "Cookie": "amc_session=" + cookie["value"]})[0], 401)

    def test_no_log_out_on_loopback(self):
        self.feed("ask-option", upto=4)
        self.open_dashboard()  # the in-thread server on 127.0.0.1: no login there
        self.expect(self.tid("new-session")).to_be_visible()
        self.assertEqual(self.page.locator('meta[name="amc-login"]').get_attribute("content"), "")
        self.expect(self.page.get_by_role("button", name="Log out")).to_have_count(0)

    def test_the_login_form_fits_a_phone_and_is_labelled(self):
        _, port = self.serve_process(host=self.host)
        self.page.set_viewport_size(PHONE)
        self.page.goto(self.base(port))
        field = self.page.get_by_label("Token")
        self.expect(field).to_be_focused()
        self.expect(field).to_have_attribute("type", "password")
        self.expect(self.page.get_by_role("button", name="Log in")).to_be_visible()
        self.expect(self.page.get_by_role("alert")).to_have_count(1)
        self.page.get_by_role("button", name="Log in").click()
        self.expect(self.page.get_by_role("alert")).to_have_text("Enter the token.")
        width = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        self.assertLessEqual(width[0], width[1], "horizontal scroll at 390 px")
        self.screenshot("login-390")


class HostilePage(http.server.BaseHTTPRequestHandler):
    """Serves the page of another local web server (a dev server an agent runs, say)."""
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: Any) -> None:
        pass


class Requests(logging.Handler):
    """The AMC server's own request log lines (`"GET /api/stream HTTP/1.1" 403 -`)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def api(self) -> List[Tuple[str, str]]:
        """Return (path, status) of every /api/ request so far."""
        found = (re.search(r'"GET (/api/\S*) HTTP/1\.1" (\d+)', line) for line in self.lines)
        return [(m.group(1), m.group(2)) for m in found if m]


class BlindRequestsFromAnotherPort(DashboardTestCase):
    """A page on another port of 127.0.0.1 aims <img>, <script> and no-cors fetches at AMC's
    API, in real Chromium: same-site to AMC, so before this they each held a stream slot for a
    keep-alive period or ran a search. Now AMC refuses every one, and its own page still works."""

    def test_a_page_on_another_port_gets_nothing_from_the_api_and_holds_no_stream(self):
        self.allow_console_error(NETWORK_ERROR)   # the hostile page's refused loads
        amc = "http://127.0.0.1:%d" % self.port
        HostilePage.page = ("""<!doctype html><title>dev server</title>
            %s<script src="%s/api/state"></script>
            <script>
            for (let i = 0; i < 6; i++) fetch("%s/api/stream?n=" + i, {mode: "no-cors"}).catch(() => {});
            fetch("%s/api/search?q=password", {mode: "no-cors"}).catch(() => {});
            </script>""" % ("".join('<img src="%s/api/stream?img=%d">' % (amc, i)
                                    for i in range(6)), amc, amc, amc)).encode()
        hostile = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostilePage)
        threading.Thread(target=hostile.serve_forever, daemon=True).start()
        self.addCleanup(hostile.server_close)
        self.addCleanup(hostile.shutdown)
        log = Requests()
        server_log = logging.getLogger("amc.server")
        level = server_log.level
        server_log.setLevel(logging.INFO)
        server_log.addHandler(log)
        self.addCleanup(server_log.setLevel, level)
        self.addCleanup(server_log.removeHandler, log)

        self.page.goto("http://127.0.0.1:%d/" % hostile.server_address[1])
        self.wait_until(lambda: len(log.api()) >= 14,
                        "the hostile page's 14 requests did not all reach AMC: %s" % log.api())
        seen = log.api()
        self.assertEqual(sorted({status for _, status in seen}), ["403"], seen)
        self.assertEqual(len([p for p, _ in seen if p.startswith("/api/stream")]), 12, seen)
        self.assertTrue(any(p.startswith("/api/search") for p, _ in seen), seen)
        self.assertEqual(self.server.core.log.subscribers(), 0, "a stream slot is held")
        # ... while AMC's own page, in the same browser, streams and reads as ever
        self.open_dashboard(ready="empty")
        self.expect(self.connection()).to_have_attribute("data-state", "live")
        self.assertEqual(self.server.core.log.subscribers(), 1)


class SshTunnel(DashboardTestCase):
    """The hub on loopback, reached through `ssh -N -L` against a real sshd.

    The hub sees the tunnel's connection as a loopback one from sshd's process, which runs as the
    user the tunnel logged in as: into the hub's own account it needs no login (it is the hub's
    user), from any other account it is refused like any other local user's connection.
    """

    world: Optional[SshWorld] = None

    @classmethod
    def setUpClass(cls) -> None:
        sshd = require_root_sshd()
        super().setUpClass()
        try:
            cls.world = SshWorld().start(sshd)
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.world is not None:
            cls.world.stop()
        super().tearDownClass()

    def as_user(self, role: str, argv: List[str]) -> subprocess.Popen:
        """Start `argv` as the world's `role` user in its home; ended at cleanup."""
        entry = pwd.getpwnam(self.world.users[role])
        env = {"HOME": entry.pw_dir, "PATH": USER_PATH, "LANG": "C.UTF-8",
               "USER": entry.pw_name, "LOGNAME": entry.pw_name}
        proc = subprocess.Popen(argv, env=env, cwd=entry.pw_dir, user=entry.pw_uid,
                                group=entry.pw_gid, extra_groups=[], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(end_process_group, proc)  # first: cleanups run last-in first-out
        return proc

    def hub_as_remote_user(self) -> int:
        """Run `amc serve` (loopback) as the remote user, the account `ssh m1` logs into."""
        python = shutil.which("python3", path=USER_PATH) or sys.executable
        proc = self.as_user("remote", [python, AMC, "serve", "--port", "0"])
        line = proc.stdout.readline().decode("utf-8", "replace")
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not found:
            self.fail("the hub did not start: %r %r" % (line, proc.stderr.read(2000)))
        return int(found.group(1))

    def tunnel(self, alias: str, hub_port: int) -> int:
        """Open `ssh -N -L <port>:127.0.0.1:<hub_port> <alias>` as the client user; return port."""
        port = free_port()
        proc = self.as_user("client", [
            "ssh", "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
            "-L", "127.0.0.1:%d:127.0.0.1:%d" % (port, hub_port), alias])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.fail("ssh exited: %s %s" % (proc.stderr.read().decode(), self.world.log()))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
        self.fail("the tunnel did not open")

    def test_a_tunnel_into_the_hubs_own_account_needs_no_login(self):
        hub = self.hub_as_remote_user()
        port = self.tunnel("m1", hub)
        self.open_dashboard(ready="empty", port=port)
        self.expect(self.connection()).to_have_attribute("data-state", "live")
        self.expect(self.tid("login-form")).to_have_count(0)
        self.assertEqual(self.context.cookies(), [])
        self.assertEqual(self.page.evaluate("fetch('/api/state').then(r => r.status)"), 200)

    def test_a_tunnel_from_another_account_is_refused_like_another_user(self):
        hub = self.hub_as_remote_user()
        port = self.tunnel("nopy", hub)  # another local user of the hub's machine
        status, body, _ = call("127.0.0.1", port, "GET", "/")
        self.assertEqual(status, 403)
        self.assertIn("another user", body["error"])
        self.assertEqual(call("127.0.0.1", port, "GET", "/api/state")[0], 403)


if __name__ == "__main__":
    unittest.main()
