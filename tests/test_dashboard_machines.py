"""Several machines on the page, in a real Chromium on a real hub: the machine badge on cards, the
machine filter, the machine strip with its states and errors, stale cards, and "Add machine".

The hub is tests/support/remote_world.py's: `bin/amc serve` as a local user, following machines m1
and m2 (local users of their own) over a private real sshd. Sessions are made as Claude Code makes
them: the recorded hook payloads through the real bin/amc-hook, on m1 and m2 as their users and
on the hub's own machine as the hub's user (the "local" cards). Every state on the page is a real
one: machines go "reconnecting" and "offline" because sshd is killed (and come back when it
starts again), errors are the hub's own words (an add that ssh refuses, an answer to a machine
that cannot be reached, a stream that dies with hostile text on stderr). Nothing is stood in
for; the polling fallback is reached by breaking the real stream, as tests/test_dashboard.py does.

One world per class; a class whose tests would disturb each other's machines has its own.
The machine functions of `dashboard/state/` are tested in the page by importing its modules.
"""
import json
import os
import re
import unittest

from tests.support.browser import PHONE, STATE_CALL, DashboardTestCase, state_modules
from tests.support.builders import prompt_payload
from tests.support.helpers import copy_transcript_as_of
from tests.support.remote_world import FIXTURES, HOOK, start_world

NETWORK_ERROR = r"Failed to load resource|net::ERR_"
QUESTION = "Which database should we use?"
RECENT = re.compile(r"^stale · last seen (just now|\d+ s ago)$")
REFUSED = "connection refused (no SSH server listening there)"
# Records every state (and its words) each machine of the strip shows, as the page renders them:
# a state the hub holds for a second ("reconnecting") is seen without racing for it.
RECORD_STATES = r"""() => {
  const seen = window.__machineStates = [];
  const look = () => {
    for (const li of document.querySelectorAll('[data-testid="machine"]')) {
      const words = li.querySelector('[data-testid="machine-state"]');
      const now = [li.dataset.machine, li.dataset.state, words ? words.textContent : ""];
      const last = seen.filter((r) => r[0] === now[0]).pop();
      if (!last || last[1] !== now[1] || last[2] !== now[2]) seen.push(now);
    }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true,
                                                     attributes: true, characterData: true});
  look();
}"""


def put_transcript(w, role, scenario, sid, project, payloads=(), upto=None):
    """Copy a recorded scenario's transcript to where `role`'s Claude keeps it, as written when
    payload `upto` came; return its path."""
    folder = os.path.join(w.home(role), ".claude", "projects", "-home-dev-work-" + project)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, sid + ".jsonl")
    copy_transcript_as_of(os.path.join(FIXTURES, scenario, "transcript.jsonl"), path,
                          list(payloads), upto)
    w.chown(role)
    return path


def feed_hub(w, scenario, sid, upto=None, project="demo-proj"):
    """Replay a recorded scenario on the hub's own machine, as RemoteWorld.feed does on m1: the
    transcript where the hub user's Claude keeps it, the payloads through the real hook as that
    user (its HOME, so its data dir: the hub's own, `w.ssh.data_file`)."""
    with open(os.path.join(FIXTURES, scenario, "hooks.jsonl")) as f:
        payloads = [json.loads(line)["payload"] for line in f if line.strip()]
    path = put_transcript(w, "client", scenario, sid, project, payloads, upto)
    for p in payloads[:upto]:
        p = dict(p, session_id=sid, transcript_path=path, cwd="/home/dev/work/" + project)
        done = w.run_as("client", ["python3", "-S", HOOK], json.dumps(p).encode())
        assert done.returncode == 0, done.stderr


def sid(n):
    return "0b7c5c1e-%04x-4a4a-9c9c-%012x" % (n, n)


class HubCase(DashboardTestCase):
    """A page on a real hub (one world per class); `make_sessions` says which sessions it has."""

    w = None
    ids = {}  # name -> the hub's session id ("m1:<id>" for m1's, the id itself for local ones)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.w = start_world(cls.addClassCleanup)
        cls.make_sessions()
        cls.w.wait(lambda: set(cls.ids.values()) <= set(cls.w.sessions()), 30,
                   "every session of the class at the hub")

    @classmethod
    def make_sessions(cls):
        raise NotImplementedError

    def open_hub(self, count=None):
        """Open the page on the hub; wait until it shows every card of the class."""
        self.page.goto(self.w.url + "/")
        for hub_id in self.ids.values():
            self.expect(self.card(hub_id)).to_be_visible(timeout=15000)
        if count is not None:
            self.expect(self.cards()).to_have_count(count)
        self.expect(self.connection()).to_have_attribute("data-state", "live")

    def strip(self):
        return self.tid("machine-strip")

    def item(self, name):
        return self.page.locator('[data-testid="machine"][data-machine="%s"]' % name)

    def badge(self, session_id):
        return self.tid("machine-badge", self.card(session_id))

    def option(self, session_id, n=1):
        return self.card(session_id).locator(
            'button[data-testid="option"][data-option="%d"]' % n)

    def card_error(self, session_id):
        return self.card(session_id).locator('[role="alert"][data-testid="action-error"]')

    def assert_in_words(self, name, state, label):
        """The machine's state is in its data, in words, and its dot is only decoration."""
        item = self.item(name)
        self.expect(item).to_have_attribute("data-state", state, timeout=15000)
        self.expect(self.tid("machine-state", item)).to_have_text(label)
        self.assertEqual(item.locator(".machine-dot").get_attribute("aria-hidden"), "true")

    def wait_machines(self, state, names=("m1", "m2"), timeout=20):
        self.w.wait(lambda: all(self.w.machines().get(n, {}).get("state") == state
                                for n in names), timeout, "%s %s at the hub" % (names, state))


class Machines(HubCase):
    """Both machines up, seven sessions: "ask" (needs attention) and "done" in alpha-proj and
    "chat" in beta-proj on the hub itself; the same "ask" and "done" on m1; "chat" and "bare" (no
    project: its hook had no cwd) on m2. The tests leave the world as they found it."""

    @classmethod
    def make_sessions(cls):
        w = cls.w
        local = {"ask": sid(1), "done": sid(2), "chat": sid(3)}
        feed_hub(w, "ask-option", local["ask"], upto=4, project="alpha-proj")
        feed_hub(w, "bash-tool", local["done"], upto=5, project="alpha-proj")
        feed_hub(w, "chat-and-prose-question", local["chat"], upto=5, project="beta-proj")
        w.feed("m1", "ask-option", sid(11), upto=4, project="alpha-proj")
        w.feed("m1", "bash-tool", sid(12), upto=5, project="alpha-proj")
        w.feed("m2", "chat-and-prose-question", sid(21), upto=5, project="beta-proj")
        w.hook("m2", {"session_id": sid(22), "hook_event_name": "UserPromptSubmit",
                      "prompt": "no project here", "transcript_path": put_transcript(
                          w, "remote2", "bash-tool", sid(22), "bare")})
        cls.ids = dict(local, **{"m1-ask": "m1:" + sid(11), "m1-done": "m1:" + sid(12),
                                 "m2-chat": "m2:" + sid(21), "m2-bare": "m2:" + sid(22)})

    def test_cards_have_machine_badges_and_local_ones_say_local(self):
        self.open_hub(count=7)
        expect = self.expect
        for name in ("ask", "done", "chat"):
            expect(self.badge(self.ids[name])).to_have_text("local")
            expect(self.badge(self.ids[name])).to_have_attribute("data-machine", "")
            expect(self.badge(self.ids[name])).to_have_attribute(
                "title", "On this machine: session " + self.ids[name])
        for name, where in (("m1-ask", "m1"), ("m1-done", "m1"), ("m2-chat", "m2"),
                            ("m2-bare", "m2")):
            expect(self.badge(self.ids[name])).to_have_text(where)
            expect(self.card(self.ids[name])).to_have_attribute("data-machine", where)
        # The title offers the session's own id (for copying), without "m1:".
        expect(self.badge(self.ids["m1-ask"])).to_have_attribute("title",
                                                                 "On m1: session " + sid(11))
        expect(self.tid("reason", self.card(self.ids["m1-ask"]))).to_contain_text(QUESTION)
        for hub_id in self.ids.values():  # both machines are up: nothing is stale
            expect(self.card(hub_id)).not_to_have_attribute("data-stale", "true")
        expect(self.tid("stale-note")).to_have_count(0)
        self.screenshot("machines-1280-light")
        self.page.emulate_media(color_scheme="dark")
        self.screenshot("machines-1280-dark")

    def test_strip_says_online_in_words_without_last_seen_or_error(self):
        self.open_hub()
        self.expect(self.strip()).to_be_visible()
        self.expect(self.tid("machine", self.strip())).to_have_count(2)
        for name in ("m1", "m2"):
            self.assert_in_words(name, "online", "Online")
            self.expect(self.tid("machine-name", self.item(name))).to_have_text(name)
            self.expect(self.item(name).locator(".machine-target")).to_have_count(0)  # = its name
            self.expect(self.tid("machine-last-seen", self.item(name))).to_have_count(0)
            self.expect(self.tid("machine-error", self.item(name))).to_have_count(0)

    def test_machine_filter_composes_with_project_and_text(self):
        self.open_hub(count=7)
        expect, ids = self.expect, self.ids
        machine_filter = self.page.locator('select[data-testid="machine-filter"]')
        options = machine_filter.locator("option").evaluate_all(
            "os => os.map(o => [o.value, o.textContent])")
        self.assertEqual(options, [["", "All machines"], [".", "local"], ["m1", "m1"],
                                   ["m2", "m2"]])
        machine_filter.select_option("m1")
        expect(self.cards()).to_have_count(2)
        self.assertEqual(set(self.card_ids()), {ids["m1-ask"], ids["m1-done"]})
        machine_filter.select_option(".")
        expect(self.cards()).to_have_count(3)
        self.assertEqual(set(self.card_ids()), {ids["ask"], ids["done"], ids["chat"]})
        # With the project filter: local and alpha-proj.
        project = self.page.locator('select[data-testid="project-filter"]')
        project.select_option("alpha-proj")
        expect(self.cards()).to_have_count(2)
        self.assertEqual(set(self.card_ids()), {ids["ask"], ids["done"]})
        # And the text filter: the pending question's text.
        self.page.locator('input[data-testid="text-filter"]').fill("database")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [ids["ask"]])
        machine_filter.select_option("m1")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [ids["m1-ask"]])
        machine_filter.select_option("m2")
        expect(self.cards()).to_have_count(0)
        self.page.get_by_role("button", name="Clear filters").click()
        expect(self.cards()).to_have_count(7)
        expect(machine_filter).to_have_value("")

    def test_clicking_a_machine_filters_and_keyboard_works(self):
        self.open_hub(count=7)
        expect = self.expect
        machine_filter = self.page.locator('select[data-testid="machine-filter"]')
        self.item("m2").click()
        expect(machine_filter).to_have_value("m2")
        expect(self.cards()).to_have_count(2)
        self.assertEqual(set(self.card_ids()), {self.ids["m2-chat"], self.ids["m2-bare"]})
        button = self.item("m2").locator("button")
        expect(button).to_have_attribute("aria-pressed", "true")
        button.click()  # again: every machine
        expect(machine_filter).to_have_value("")
        expect(self.cards()).to_have_count(7)
        # By keyboard: Tab reaches the machine's button, Enter and Space pick it.
        self.item("m1").locator("button").focus()
        self.page.keyboard.press("Enter")
        expect(machine_filter).to_have_value("m1")
        expect(self.cards()).to_have_count(2)
        self.page.keyboard.press("Space")
        expect(machine_filter).to_have_value("")
        machine_filter.focus()
        self.page.keyboard.press("ArrowDown")  # All machines -> local
        expect(machine_filter).to_have_value(".")
        expect(self.cards()).to_have_count(3)

    def test_answering_a_remote_session_shows_that_machines_error(self):
        self.open_hub()
        self.allow_console_error(NETWORK_ERROR)  # the session has no pane on m1: an error status
        with self.page.expect_response(lambda r: r.request.method == "POST"
                                       and "/api/respond/" in r.url, timeout=60000) as got:
            self.option(self.ids["m1-ask"]).click()
        # The whole id, machine included, in the path (":" percent-encoded; the hub decodes).
        self.assertEqual(got.value.url, self.w.url + "/api/respond/m1%3A" + sid(11))
        said = got.value.json()["error"]
        self.assertNotIn("no live session", said, "m1's own words, not the hub's")
        self.expect(self.card_error(self.ids["m1-ask"])).to_have_text(said)

    def test_a_remote_conversation_without_a_project_is_titled_by_its_own_id(self):
        self.open_hub()
        card = self.card(self.ids["m2-bare"])
        self.tid("open-conversation", card).click()
        dialog = self.tid("conversation")
        self.expect(dialog.locator("#conv-title")).to_have_text(sid(22))  # not "m2:<id>"
        self.expect(dialog.locator('[data-testid="message"]').first).to_be_visible(
            timeout=15000)  # m2's transcript, over ssh
        self.page.keyboard.press("Escape")
        self.expect(dialog).to_have_count(0)

    def test_add_machine_shows_the_error_then_closes_on_success(self):
        """m2 is removed, then added back from the page: first with a target ssh refuses."""
        w, expect = self.w, self.expect
        self.allow_console_error(NETWORK_ERROR)  # Chromium logs the 502
        self.addCleanup(self.restore_m2)
        done = w.ssh.run_amc("remote", "remove", "m2")
        self.assertEqual(done.returncode, 0, done.stderr)
        w.wait(lambda: "m2" not in w.machines() and self.ids["m2-chat"] not in w.sessions(), 20,
               "m2 and its session gone from the hub")
        self.page.goto(w.url + "/")
        expect(self.cards()).to_have_count(5, timeout=15000)
        self.tid("add-machine", self.strip()).click()
        form = self.tid("add-machine-form")
        name = self.tid("add-machine-name", form)
        expect(name).to_be_focused()
        name.fill("m2")
        self.tid("add-machine-target", form).fill("badkey")  # an identity m1 does not accept
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and r.url.endswith("/api/machines")) as first:
            self.tid("add-machine-submit", form).click()
        error = form.locator('[role="alert"][data-testid="action-error"]')
        expect(error).to_contain_text("cannot add m2 (ssh badkey): authentication refused",
                                      timeout=40000)
        expect(form).to_be_visible()
        self.assertEqual(first.value.post_data_json, {"name": "m2", "target": "badkey"})
        self.assertEqual(first.value.headers.get("x-amc-token"), w.token())
        # The failed add is in the strip: offline, its target, never seen, ssh's reason.
        m2 = self.item("m2")
        self.assert_in_words("m2", "offline", "Offline")
        expect(m2.locator(".machine-target")).to_have_text("badkey")
        expect(self.tid("machine-last-seen", m2)).to_have_text("never seen")
        expect(self.tid("machine-error", m2)).to_contain_text("authentication refused")
        self.screenshot("machines-add-error")
        # The target is optional: left empty it is not sent (the hub uses the name).
        self.tid("add-machine-target", form).fill("")
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and r.url.endswith("/api/machines")) as second:
            self.tid("add-machine-submit", form).click()
        expect(form).to_have_count(0, timeout=40000)
        self.assertEqual(second.value.post_data_json, {"name": "m2"})
        # The hub follows it at once; the machine gets the focus; its session is back.
        self.assert_in_words("m2", "online", "Online")
        expect(self.item("m2").locator("button")).to_be_focused()
        expect(self.tid("machine-error", m2)).to_have_count(0)
        expect(self.card(self.ids["m2-chat"])).to_be_visible(timeout=15000)
        expect(self.badge(self.ids["m2-chat"])).to_have_text("m2")
        expect(self.cards()).to_have_count(7)

    def restore_m2(self):
        """Leave m2 as the class made it (a failed test may have left it removed or failed)."""
        w = self.w
        if w.machines().get("m2", {}).get("target") != "m2":
            w.add("m2")
        w.wait(lambda: {self.ids["m2-chat"], self.ids["m2-bare"]} <= set(w.sessions()), 30,
               "m2's sessions back")
        self.wait_machines("online")

    def test_add_form_closes_on_escape_and_focus_returns(self):
        self.open_hub()
        self.tid("add-machine", self.strip()).click()
        self.expect(self.tid("add-machine-name")).to_be_focused()
        self.page.keyboard.press("Escape")
        self.expect(self.tid("add-machine-form")).to_have_count(0)
        self.expect(self.tid("add-machine", self.strip())).to_be_focused()

    def test_phone_width_has_no_horizontal_scroll(self):
        self.page.set_viewport_size(PHONE)
        self.open_hub(count=7)
        self.expect(self.strip()).to_be_visible()
        self.tid("add-machine", self.strip()).click()
        self.expect(self.tid("add-machine-form")).to_be_visible()
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            width = self.page.evaluate("() => document.documentElement.scrollWidth")
            self.assertLessEqual(width, PHONE["width"], "the page scrolls sideways at 390 px")
            self.screenshot("machines-390-%s" % scheme)
        for hub_id in self.ids.values():
            box = self.card(hub_id).bounding_box()
            self.assertLessEqual(box["x"] + box["width"], PHONE["width"])
        for item in self.tid("machine").all():
            box = item.bounding_box()
            self.assertLessEqual(box["x"] + box["width"], PHONE["width"])


class MachinesGoAndComeBack(HubCase):
    """One page watching the machines go down (sshd killed) and come back, live."""

    @classmethod
    def make_sessions(cls):
        cls.w.feed("m1", "ask-option", sid(31), upto=4, project="alpha-proj")
        cls.w.feed("m2", "chat-and-prose-question", sid(41), upto=5, project="beta-proj")
        feed_hub(cls.w, "bash-tool", sid(32), upto=5, project="hub-proj")
        cls.ids = {"m1": "m1:" + sid(31), "m2": "m2:" + sid(41), "": sid(32)}

    def test_sshd_killed_reconnecting_then_offline_and_stale_then_back_online(self):
        self.wait_machines("online")
        self.open_hub(count=3)
        expect, w = self.expect, self.w
        for name in ("m1", "m2"):
            self.assert_in_words(name, "online", "Online")
        self.page.evaluate(RECORD_STATES)
        w.ssh.kill_sshd()
        try:
            for name in ("m1", "m2"):
                self.assert_in_words(name, "offline", "Offline")
                expect(self.tid("machine-last-seen", self.item(name))).to_have_text(
                    re.compile(r"^last seen (just now|\d+ s ago)$"))
                expect(self.tid("machine-error", self.item(name))).to_have_text(REFUSED)
            # On the way: the stream dropped, the hub tried again ("Reconnecting…"), that failed.
            states = self.page.evaluate("() => window.__machineStates")
            for name in ("m1", "m2"):
                seen = [(s, words) for m, s, words in states if m == name]
                self.assertEqual(seen, [("online", "Online"), ("reconnecting", "Reconnecting…"),
                                        ("offline", "Offline")], states)
            # The sessions themselves said nothing: their machine being away makes them stale.
            for name in ("m1", "m2"):
                card = self.card(self.ids[name])
                expect(card).to_have_attribute("data-stale", "true")
                expect(self.tid("stale-note", card)).to_have_text(RECENT)
            expect(self.card(self.ids[""])).not_to_have_attribute("data-stale", "true")
            self.screenshot("hub-machines-offline")
            # m1's agents go on meanwhile: a new session there, shown once m1 is back.
            w.hook("m1", prompt_payload(sid(33), "during the outage"))
        finally:
            w.ssh.start_sshd()
        for name in ("m1", "m2"):  # the hub backs off (1, 2, 4 ... s) between tries
            expect(self.item(name)).to_have_attribute("data-state", "online", timeout=45000)
            self.assert_in_words(name, "online", "Online")
            expect(self.card(self.ids[name])).not_to_have_attribute("data-stale", "true")
            expect(self.tid("stale-note", self.card(self.ids[name]))).to_have_count(0)
            expect(self.tid("machine-error", self.item(name))).to_have_count(0)
            expect(self.tid("machine-last-seen", self.item(name))).to_have_count(0)
        new = self.card("m1:" + sid(33))
        expect(new).to_be_visible(timeout=15000)
        expect(self.tid("preview", new)).to_have_text("during the outage")
        expect(self.cards()).to_have_count(4)


class UnreachableMachines(HubCase):
    """sshd killed once the hub had both machines' sessions: m1 and m2 offline all along."""

    @classmethod
    def make_sessions(cls):
        cls.w.feed("m1", "ask-option", sid(51), upto=4, project="alpha-proj")
        cls.w.feed("m2", "chat-and-prose-question", sid(61), upto=5, project="beta-proj")
        feed_hub(cls.w, "bash-tool", sid(52), upto=5, project="hub-proj")
        cls.ids = {"m1": "m1:" + sid(51), "m2": "m2:" + sid(61), "": sid(52)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.w
        w.wait(lambda: all(m["state"] == "online" for m in w.machines().values()), 20, "online")
        w.ssh.kill_sshd()
        w.wait(lambda: all(m["state"] == "offline" and m["error"] == REFUSED
                           for m in w.machines().values()), 20, "both machines offline")

    def test_strip_says_offline_in_words_with_last_seen_and_the_error(self):
        self.open_hub(count=3)
        for name in ("m1", "m2"):
            self.assert_in_words(name, "offline", "Offline")
            self.expect(self.tid("machine-last-seen", self.item(name))).to_contain_text(
                re.compile(r"^last seen (just now|\d+ s ago|\d+ min ago)$"))
            self.expect(self.tid("machine-error", self.item(name))).to_have_text(REFUSED)

    def test_cards_of_an_unreachable_machine_are_stale_and_say_last_seen(self):
        self.open_hub(count=3)
        expect = self.expect
        for name in ("m1", "m2"):
            card = self.card(self.ids[name])
            expect(card).to_have_attribute("data-stale", "true")
            expect(self.tid("stale-note", card)).to_have_text(
                re.compile(r"^stale · last seen (just now|\d+ s ago|\d+ min ago)$"))
            self.assertLess(float(card.locator(".preview").evaluate(
                "e => getComputedStyle(e).opacity")), 1.0, "a stale card is dimmed")
        local = self.card(self.ids[""])
        expect(local).not_to_have_attribute("data-stale", "true")
        expect(self.tid("stale-note", local)).to_have_count(0)
        expect(self.badge(self.ids[""])).to_have_text("local")

    def test_answering_an_unreachable_machine_shows_the_hubs_502_on_the_card(self):
        self.open_hub(count=3)
        self.allow_console_error(NETWORK_ERROR)  # Chromium logs the 502
        with self.page.expect_response(lambda r: "/api/respond/" in r.url,
                                       timeout=40000) as got:
            self.option(self.ids["m1"]).click()
        self.assertEqual(got.value.status, 502)
        self.assertEqual(got.value.url, self.w.url + "/api/respond/m1%3A" + sid(51))
        self.expect(self.card_error(self.ids["m1"])).to_have_text(
            "machine m1 unreachable: " + REFUSED)

    def test_polling_fallback_reads_machines_from_api_state(self):
        self.allow_console_error(NETWORK_ERROR)
        self.page.route(re.compile(r"/api/stream"), lambda route: route.abort())
        self.page.goto(self.w.url + "/")
        self.expect(self.connection()).to_have_attribute("data-state", "polling")
        self.assertTrue(self.polls(), "the page never read /api/state")
        self.expect(self.item("m1")).to_have_attribute("data-state", "offline")
        self.expect(self.tid("machine-error", self.item("m2"))).to_have_text(REFUSED)
        self.expect(self.badge(self.ids["m1"])).to_have_text("m1")
        self.expect(self.card(self.ids["m1"])).to_have_attribute("data-stale", "true")
        self.expect(self.badge(self.ids[""])).to_have_text("local")


HOSTILE_STDERR = ('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
                  '<img src=x onerror=alert(1)>\x1b[31mred\x1b[0m \x1b]0;title\x07done')


class HostileMachineError(HubCase):
    """m1's AMC is replaced by a script that writes markup and escapes to stderr and exits 1: the
    hub reports "amc stream on m1 ended (exit 1): <that line>"."""

    @classmethod
    def make_sessions(cls):
        cls.w.feed("m2", "chat-and-prose-question", sid(71), upto=5, project="beta-proj")
        cls.ids = {"m2": "m2:" + sid(71)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from amc_server.remote import zipapp
        w = cls.w
        w.wait(lambda: w.machines()["m1"]["state"] == "online", 20, "m1 online (AMC sent)")
        w.stop_hub()
        name, _ = zipapp.current()
        with open(os.path.join(w.cache_dir("m1"), name), "w") as f:  # m1 now runs this
            f.write("import sys\nsys.stderr.write(%r + '\\n')\nsys.exit(1)\n" % HOSTILE_STDERR)
        w.start_hub()
        cls.said = "amc stream on m1 ended (exit 1): " + HOSTILE_STDERR
        w.wait(lambda: w.machines()["m1"]["error"] == cls.said, 20, "m1's hostile error")

    def test_a_machines_error_is_text_never_html(self):
        dialogs = []
        self.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        self.open_hub()
        m1 = self.item("m1")
        self.assert_in_words("m1", "offline", "Offline")
        error = self.tid("machine-error", m1)
        self.expect(error).to_contain_text(
            'amc stream on m1 ended (exit 1): <img src=x onerror="window.__pwned=1">'
            '<script>window.__pwned=2</script><img src=x onerror=alert(1)>')
        self.expect(error).to_contain_text("red done")
        self.assertNotIn("\x1b", error.evaluate("e => e.textContent"))
        self.assertEqual(self.strip().locator("img, script").count(), 0)
        self.expect(self.tid("machine-last-seen", m1)).to_have_text("never seen")
        self.assert_in_words("m2", "online", "Online")  # the other machine is not touched
        self.page.wait_for_timeout(300)  # an onerror would have run by now
        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
        self.assertEqual(dialogs, [], "hostile text ran")


class MachineStateFunctions(DashboardTestCase):
    """state/'s machine functions, run in the page."""

    def call(self, expression, *args):
        """Evaluate `expression` (a function of `m`, every export of state/, and the args) in the page."""
        return self.page.evaluate(STATE_CALL % expression, [state_modules(), list(args)])

    def setUp(self):
        super().setUp()
        self.open_dashboard(ready="empty")

    def test_apply_machines_replaces_the_list_and_keeps_equal_state(self):
        out = self.call("""(m) => {
            const snap = m.applySnapshot(null, {sessions: [], server_time: "2026-11-21T00:00:00.000Z"});
            const before = snap.machines;
            let s = m.applyMachines(snap, [
                {name: "m1", target: "dev@m1", state: "online", last_seen: "2026-11-21T00:00:00Z", error: ""},
                {name: "m2", state: "sleeping", last_seen: null},
                {name: "m1", state: "offline"}, {name: ""}, null, "m3", {target: "x"}]);
            const list = s.machines;
            const same = m.applyMachines(s, JSON.parse(JSON.stringify(s.machines))) === s;
            const gone = m.applyMachines(s, []).machines;
            const bad = m.applyMachines(s, "nonsense").machines;
            const nostate = m.applyMachines(null, [{name: "m1"}]);
            const fromSnap = m.applySnapshot(s, {sessions: [], machines: [{name: "m9", state: "reconnecting"}]}).machines;
            const oldServer = m.applySnapshot(s, {sessions: []}).machines;
            return {before, list, same, gone, bad, nostate, fromSnap, oldServer,
                    sessionsKept: s.sessions === snap.sessions, time: s.server_time};
        }""")
        self.assertEqual(out["before"], [])
        self.assertEqual(out["list"], [
            {"name": "m1", "target": "dev@m1", "state": "online",
             "last_seen": "2026-11-21T00:00:00Z", "error": ""},
            {"name": "m2", "target": "m2", "state": "offline", "last_seen": None, "error": ""}])
        self.assertTrue(out["same"], "an equal list leaves the state as it was")
        self.assertEqual(out["gone"], [])
        self.assertEqual(out["bad"], [])
        self.assertIsNone(out["nostate"])
        self.assertEqual(out["fromSnap"], [{"name": "m9", "target": "m9", "state": "reconnecting",
                                            "last_seen": None, "error": ""}])
        self.assertEqual(out["oldServer"], [], "a snapshot without machines has none")
        self.assertTrue(out["sessionsKept"])
        self.assertEqual(out["time"], "2026-11-21T00:00:00.000Z")

    def test_machine_filter_composes_with_project_and_text(self):
        def s(sid, machine, project, preview):
            return {"session_id": sid, "machine": machine, "project": project,
                    "last_message_preview": preview}
        sessions = [s("a", "", "alpha", "fix bug"),
                    {"session_id": "b", "project": "alpha", "last_message_preview": "write docs"},
                    s("m1:a", "m1", "alpha", "fix bug"), s("m1:c", "m1", "beta", "fix bug"),
                    s("m2:d", "m2", "alpha", "deploy")]
        out = self.call("""(m, list) => {
            const ids = (f) => m.filterSessions(list, f).map((s) => s.session_id);
            return {
                all: ids({}), allNull: ids({machine: null}), local: ids({machine: ""}),
                m1: ids({machine: "m1"}), m1alpha: ids({machine: "m1", project: "alpha"}),
                m1alphaFix: ids({machine: "m1", project: "alpha", text: "fix"}),
                localFix: ids({machine: "", text: "fix"}), nobody: ids({machine: "m3"}),
                byName: ids({text: "m2"}), remotes: m.hasRemotes([], list),
                noRemotes: m.hasRemotes([], list.slice(0, 2)), failedAdd: m.hasRemotes([{name: "x"}], []),
                names: m.machineNames([{name: "m2"}, {name: "zz"}], list),
            };
        }""", sessions)
        self.assertEqual(out["all"], ["a", "b", "m1:a", "m1:c", "m2:d"])
        self.assertEqual(out["allNull"], out["all"])
        self.assertEqual(out["local"], ["a", "b"], "a session without `machine` is this machine's")
        self.assertEqual(out["m1"], ["m1:a", "m1:c"])
        self.assertEqual(out["m1alpha"], ["m1:a"])
        self.assertEqual(out["m1alphaFix"], ["m1:a"])
        self.assertEqual(out["localFix"], ["a"])
        self.assertEqual(out["nobody"], [])
        self.assertEqual(out["byName"], ["m2:d"], "the text filter finds a machine's name")
        self.assertTrue(out["remotes"])
        self.assertFalse(out["noRemotes"])
        self.assertTrue(out["failedAdd"], "a failed add alone shows the machines")
        self.assertEqual(out["names"], ["m2", "zz", "m1"], "the server's order, then others seen")

    def test_stale_display_data(self):
        out = self.call("""(m) => {
            const now = Date.parse("2026-11-21T12:00:00.000Z");
            const ago = (s) => new Date(now - s * 1000).toISOString();
            const byName = {m1: {state: "offline", last_seen: ago(600)}, m2: {state: "online", last_seen: null}};
            const st = (s) => m.staleness(s, byName);
            return {
                local: st({session_id: "a", machine: "", stale: true}),
                offline: st({session_id: "m1:a", machine: "m1", stale: false, last_seen: ago(125)}),
                offlineNoOwn: st({session_id: "m1:b", machine: "m1"}),
                online: st({session_id: "m2:a", machine: "m2", stale: false}),
                onlineStale: st({session_id: "m2:b", machine: "m2", stale: true, last_seen: ago(5)}),
                unlisted: st({session_id: "m3:a", machine: "m3", stale: true, last_seen: ago(7200)}),
                texts: [0, 9, 10, 59, 60, 125, 3599, 3600, 7200, 172799, 172800, 900000].map(
                    (s) => m.lastSeenText(ago(s), now)),
                never: m.lastSeenText(null, now), garbage: m.lastSeenText("garbage", now),
                future: m.lastSeenText(ago(-30), now), unknown: m.formatAgo(NaN),
                labels: ["online", "reconnecting", "offline", "weird"].map(m.machineStateLabel),
            };
        }""")
        self.assertEqual(out["local"], {"stale": False, "lastSeen": None})
        self.assertEqual(out["offline"], {"stale": True, "lastSeen": "2026-11-21T11:57:55.000Z"})
        self.assertEqual(out["offlineNoOwn"],
                         {"stale": True, "lastSeen": "2026-11-21T11:50:00.000Z"})
        self.assertEqual(out["online"], {"stale": False, "lastSeen": None})
        self.assertEqual(out["onlineStale"],
                         {"stale": True, "lastSeen": "2026-11-21T11:59:55.000Z"})
        self.assertEqual(out["unlisted"], {"stale": True, "lastSeen": "2026-11-21T10:00:00.000Z"})
        self.assertEqual(out["texts"], [
            "last seen just now", "last seen just now", "last seen 10 s ago", "last seen 59 s ago",
            "last seen 1 min ago", "last seen 2 min ago", "last seen 59 min ago",
            "last seen 1 h ago", "last seen 2 h ago", "last seen 47 h ago", "last seen 2 d ago",
            "last seen 10 d ago"])
        self.assertEqual(out["never"], "never seen")
        self.assertEqual(out["garbage"], "never seen")
        self.assertEqual(out["future"], "last seen just now", "a clock ahead is never negative")
        self.assertEqual(out["unknown"], "")
        self.assertEqual(out["labels"], ["Online", "Reconnecting…", "Offline", "Offline"])

    def test_displayed_id_has_no_machine_prefix(self):
        out = self.call("""(m) => [
            {session_id: "m1:9f3c-aa", machine: "m1"},
            {session_id: "9f3c-aa", machine: ""},
            {session_id: "9f3c-aa"},
            {session_id: "m1:9f3c:with:colons", machine: "m1"},
            {session_id: "other:9f3c", machine: "m1"},
            {session_id: "m1.lab:x", machine: "m1.lab"},
            {},
        ].map(m.localId)""")
        self.assertEqual(out, ["9f3c-aa", "9f3c-aa", "9f3c-aa", "9f3c:with:colons", "other:9f3c",
                               "x", ""])


class OneMachine(DashboardTestCase):
    """Without remotes nothing about machines shows but a quiet way to add one."""

    def test_no_badge_no_filter_no_strip_without_remotes(self):
        sid = self.feed("ask-option", upto=4)
        self.open_dashboard()
        self.expect(self.card(sid)).to_be_visible()
        self.expect(self.tid("machine-badge")).to_have_count(0)
        self.expect(self.tid("machine-filter")).to_have_count(0)
        self.expect(self.tid("machine-strip")).to_have_count(0)
        self.expect(self.tid("add-machine")).to_be_visible()
        self.expect(self.tid("add-machine")).to_have_text("+ Add a machine over SSH")


if __name__ == "__main__":
    unittest.main()
