"""The HTTP server on a real port: endpoints, the one error shape, and the Security rules."""
import json
import os
import socket
import time
import unittest

from tests.support.helpers import FIXTURES, ServerTestCase, copy_transcript_as_of

SCENARIO = os.path.join(FIXTURES, "claude-code-2.1.329", "ask-option")


class Endpoints(ServerTestCase):
    def feed(self, scenario="ask-option", upto=None):
        """Replay a recorded session's hooks and install its transcript where Claude keeps it."""
        with open(os.path.join(FIXTURES, "claude-code-2.1.329", scenario, "hooks.jsonl")) as f:
            payloads = [json.loads(line)["payload"] for line in f]
        sid = payloads[0]["session_id"]
        project = os.path.join(self.paths.claude_projects, "-home-dev-work-demo-proj")
        os.makedirs(project, exist_ok=True)
        transcript = os.path.join(project, sid + ".jsonl")
        copy_transcript_as_of(os.path.join(FIXTURES, "claude-code-2.1.329", scenario,
                                           "transcript.jsonl"), transcript, payloads, upto)
        for p in payloads[:upto]:
            p = dict(p, transcript_path=transcript)
            self.assertEqual(self.run_hook(p, {"TMUX": "/tmp/s,1,0", "TMUX_PANE": "%3"}).returncode,
                             0)
        return sid

    def test_state_lists_hook_session_with_contract_fields(self):
        sid = self.feed(upto=3)
        state = self.get_json("/api/state")
        self.assertRegex(state["server_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        [s] = state["sessions"]
        for key in ("session_id", "agent", "project", "project_dir", "status", "started_at",
                    "last_event_at", "last_event", "last_message_preview", "pending_questions",
                    "transcript_path", "conversation_mtime_ns", "zellij_session", "zellij_pane",
                    "tmux_pane", "tmux_socket"):
            self.assertIn(key, s)
        self.assertEqual((s["session_id"], s["agent"], s["status"], s["tmux_pane"]),
                         (sid, "claude", "needs_attention", "%3"))
        self.assertEqual(s["pending_questions"][0]["question"], "Which database should we use?")
        self.assertEqual(s["conversation_mtime_ns"], os.stat(s["transcript_path"]).st_mtime_ns)

    def test_conversation_and_events(self):
        sid = self.feed(upto=6)
        conv = self.get_json("/api/conversation/" + sid)
        self.assertEqual(conv["session_id"], sid)
        users = [m["content"] for m in conv["messages"] if m["role"] == "user"]
        self.assertEqual(users, ["ASK: Which database should we use?"])
        calls = [c for m in conv["messages"] for c in m["tool_calls"]]
        self.assertEqual(calls[0]["name"], "AskUserQuestion")
        self.assertIn("Beta", calls[0]["result"])
        self.assertEqual(conv["messages"][0]["id"], "claude-%s-0" % sid[:8])
        events = self.get_json("/api/events/" + sid)
        self.assertEqual([e["event"] for e in events["events"]],
                         ["SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                          "PostToolUse", "Stop"])
        tail = self.get_json("/api/conversation/%s?limit=1" % sid)
        self.assertEqual(len(tail["messages"]), 1)
        self.assertEqual(tail["messages"][0], conv["messages"][-1])

    def test_conversation_found_after_session_ended(self):
        sid = self.feed()  # includes SessionEnd: no session file any more
        self.assertEqual(self.get_json("/api/state")["sessions"], [])
        conv = self.get_json("/api/conversation/%s?agent=claude" % sid)
        self.assertTrue(conv["messages"])

    def test_dismiss_removes_for_good(self):
        sid = self.feed(upto=6)
        status, body, _ = self.request("POST", "/api/dismiss/" + sid)
        self.assertEqual((status, body), (200, {"ok": True}))
        self.assertEqual(self.get_json("/api/state")["sessions"], [])
        # A late idle notification does not resurrect it, even a second later...
        time.sleep(1.1)
        self.run_hook({"session_id": sid, "hook_event_name": "Notification",
                       "notification_type": "idle_prompt", "message": "waiting"})
        self.assertEqual(self.get_json("/api/state")["sessions"], [])
        # ...but the user typing into it again does.
        self.run_hook({"session_id": sid, "hook_event_name": "UserPromptSubmit", "prompt": "more"})
        [back] = self.get_json("/api/state")["sessions"]
        self.assertEqual((back["session_id"], back["status"]), (sid, "active"))

    def test_respond_to_a_pane_whose_tmux_server_is_gone_is_410(self):
        sid = self.feed(upto=3)
        status, body, _ = self.request("POST", "/api/respond/" + sid, {"text": "2"})
        self.assertEqual(status, 410)
        self.assertFalse(body["ok"])
        self.assertIn("tmux server", body["error"])

    def test_dashboard_page_carries_the_token(self):
        status, body, headers = self.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn(self.token.encode(), body)
        self.assertIn("frame-ancestors 'none'", headers["Content-Security-Policy"])
        self.assertNotIn("Access-Control-Allow-Origin", headers)


    def test_state_says_whether_hooks_are_installed(self):
        self.assertFalse(self.get_json("/api/state")["setup"]["claude_hooks"])
        from amc_server.install import hooks as hooks_config
        hooks_config.install(self.paths)
        setup = self.get_json("/api/state")["setup"]
        self.assertTrue(setup["claude_hooks"])
        self.assertEqual(setup["claude_settings"], self.paths.claude_settings)

    def test_page_csp_allows_exactly_its_import_map(self):
        import base64
        import hashlib
        from amc_server.http.server import csp_for_page
        page = b'<script type="importmap">{"imports": {}}</script><script>evil()</script>'
        digest = base64.b64encode(hashlib.sha256(b'{"imports": {}}').digest()).decode()
        csp = csp_for_page(page)
        self.assertIn("script-src 'self' 'sha256-%s';" % digest, csp)
        self.assertNotIn("unsafe-inline'; img", csp.split("script-src")[1].split(";")[0] + ";")
        self.assertEqual(csp_for_page(b"<p>no map</p>").count("sha256"), 0)


class ErrorShape(ServerTestCase):
    """Every error is {"ok": false, "error": "..."} with the right status."""

    def assert_error(self, status, body, expected):
        self.assertEqual(status, expected, body)
        self.assertEqual(set(body), {"ok", "error"})
        self.assertIs(body["ok"], False)
        self.assertTrue(body["error"])

    def test_400_bad_json_and_bad_id(self):
        status, body, _ = self.request("POST", "/api/respond/abc", raw=b"{nope")
        self.assert_error(status, body, 400)
        status, body, _ = self.request("GET", "/api/events/..%2F..%2Fetc")
        self.assertIn(status, (400, 404))
        self.assert_error(status, body, status)
        status, body, _ = self.request("GET", "/api/events/.hidden")
        self.assert_error(status, body, 400)
        status, body, _ = self.request("GET", "/api/conversation/abc?limit=x")
        self.assert_error(status, body, 400)

    def test_403_404_405_413(self):
        self.assert_error(*self.request("POST", "/api/dismiss/abc", token=False)[:2], 403)
        self.assert_error(*self.request("GET", "/api/nope")[:2], 404)
        self.assert_error(*self.request("GET", "/api/conversation/unknown-session")[:2], 404)
        self.assert_error(*self.request("GET", "/no-such-file.js")[:2], 404)
        self.assert_error(*self.request("POST", "/api/state", {})[:2], 405)
        self.assert_error(*self.request("POST", "/api/dismiss/abc",
                                        raw=b"x" * (1024 * 1024 + 1))[:2], 413)

    def test_500_is_json_too(self):
        def boom(state, req):
            raise RuntimeError("kaboom")
        from amc_server.http import api
        original = api.ROUTES[0]
        api.ROUTES[0] = (original[0], original[1], boom)
        self.addCleanup(api.ROUTES.__setitem__, 0, original)
        status, body, _ = self.request("GET", "/api/state")
        self.assert_error(status, body, 500)
        self.assertNotIn("kaboom", body["error"])  # no internals leak to the page


class Security(ServerTestCase):
    def test_foreign_host_is_refused(self):
        for host in ("evil.example", "evil.example:%d" % self.port, "127.0.0.1.nip.io"):
            status, body, _ = self.request("GET", "/api/state", headers={"Host": host})
            self.assertEqual(status, 403, host)
            self.assertFalse(body["ok"])

    def test_loopback_names_are_accepted(self):
        for host in ("localhost:%d" % self.port, "127.0.0.1", "[::1]:%d" % self.port):
            status, _, _ = self.request("GET", "/api/state", headers={"Host": host})
            self.assertEqual(status, 200, host)

    def test_post_needs_the_right_token(self):
        status, _, _ = self.request("POST", "/api/dismiss/abc", token=False,
                                    headers={"X-AMC-Token": "wrong"})
        self.assertEqual(status, 403)
        status, _, _ = self.request("POST", "/api/dismiss/abc")
        self.assertEqual(status, 200)

    def test_foreign_origin_is_refused_even_with_token(self):
        status, _, _ = self.request("POST", "/api/dismiss/abc",
                                    headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        status, _, _ = self.request("GET", "/api/state",
                                    headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(status, 403)
        own = "http://127.0.0.1:%d" % self.port
        status, _, _ = self.request("POST", "/api/dismiss/abc", headers={"Origin": own})
        self.assertEqual(status, 200)

    def test_api_refuses_blind_requests_from_other_pages_of_the_host(self):
        # A page on another port of 127.0.0.1 is same-site: its <img>/<script>/no-cors fetch
        # would hold stream slots or time searches. Refused in words, before any work.
        for headers in ({"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors",
                         "Sec-Fetch-Dest": "image"},
                        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"},
                        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
                        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "no-cors"},
                        {"Sec-Fetch-Mode": "no-cors"}):
            for path in ("/api/state", "/api/stream", "/api/search?q=secret"):
                status, body, _ = self.request("GET", path, headers=headers)
                self.assertEqual(status, 403, (path, headers))
                self.assertIs(body["ok"], False)
                self.assertIn("refused", body["error"])
        self.assertEqual(self.server.core.log.subscribers(), 0)
        status, body, _ = self.request("POST", "/api/dismiss/abc", {},
                                       headers={"Sec-Fetch-Site": "same-site"})
        self.assertEqual(status, 403, body)

    def test_what_the_page_itself_sends_still_works_and_so_do_scripts(self):
        own = {"Sec-Fetch-Site": "same-origin"}
        for headers in (dict(own, **{"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}),
                        dict(own, **{"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}),
                        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},  # typed URL
                        {}):   # curl, scripts, older browsers: as before
            self.assertEqual(self.request("GET", "/api/state", headers=headers)[0], 200,
                             headers)
        # the page itself may be opened from another local page (a link)
        status, page, _ = self.request("GET", "/", headers={"Sec-Fetch-Site": "same-site",
                                                           "Sec-Fetch-Mode": "navigate"})
        self.assertEqual(status, 200)
        self.assertIn(self.token.encode(), page)   # loopback: the page carries the token
        status, _, _ = self.request("POST", "/api/dismiss/abc", {}, headers=dict(
            own, **{"Origin": "http://127.0.0.1:%d" % self.port, "Sec-Fetch-Mode": "cors"}))
        self.assertEqual(status, 200)

    def test_token_file_is_private(self):
        mode = os.stat(self.paths.token_file).st_mode & 0o777
        self.assertEqual(mode, 0o600)

    def test_static_files_cannot_escape_the_dashboard(self):
        status, _, _ = self.request("GET", "/../amc_server/http/server.py")
        self.assertEqual(status, 404)
        status, _, _ = self.request("GET", "/%2e%2e/README.md")
        self.assertEqual(status, 404)

    def test_bound_to_loopback(self):
        self.assertEqual(self.server.server_address[0], "127.0.0.1")

    def test_another_local_user_is_refused(self):
        if not os.path.exists("/proc/net/tcp") or os.getuid() != 0:
            self.skipTest("needs Linux and root to connect as another user")
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child becomes user "nobody" and asks for the page
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
                    conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    data = b""
                    while True:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                os.write(write_end, data)
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as f:
            response = f.read().decode()
        os.waitpid(pid, 0)
        head, _, body = response.partition("\r\n\r\n")
        status = head.split(" ")[1] if " " in head else head
        self.assertEqual(status, "403", response)
        self.assertNotIn(self.token, body)
        self.assertIn("another user", json.loads(body)["error"])
        self.assertEqual(self.request("GET", "/")[0], 200)  # the owner still gets in

    def test_client_disconnect_does_not_kill_the_server(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.close()
        self.get_json("/api/state")


if __name__ == "__main__":
    unittest.main()
