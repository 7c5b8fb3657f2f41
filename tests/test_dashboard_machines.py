"""Several machines on the page, in a real Chromium: the machine badge on cards, the machine filter,
the machine strip with its states and errors, stale cards, and "Add machine".

`HubPage` runs the page on a real hub: tests/remote_world.py's machines m1 and m2 over a real sshd,
with sessions made by their own real hooks; it stops and restarts that sshd and adds a machine
with a target ssh refuses. The other classes control every case exactly (a state, a transition, an
error) with the hub's documented shapes (docs/api.md, docs/remote.md): real sessions, made by the
recorded Claude Code hook payloads through bin/amc-hook on a real server, copied as a hub sends
another machine's sessions (`machine`, `"<machine>:<id>"` ids, `stale`, `last_seen`), delivered
over a stand-in EventSource (an init script: the test emits `snapshot`, `session` and `machine`
events into lib/stream.js as the server would) or, for the polling fallback, a routed GET
/api/state; what the page sends back (POST /api/machines, POST /api/respond/m1:<id>) goes to routes
that answer as the hub does. `state.js`'s machine functions are tested in the page by importing
the module.
"""
import datetime
import json
import re
import unittest

from tests.browser import PHONE, DashboardTestCase

NETWORK_ERROR = r"Failed to load resource|net::ERR_"
QUESTION = "Which database should we use?"

# A stand-in for the browser's EventSource: lib/stream.js opens it as the real one, and the test
# emits events into the newest open connection with window.__amcEmit(type, data).
FAKE_EVENT_SOURCE = r"""
(() => {
  const opened = [];
  let seq = 0;
  class FakeEventSource {
    constructor(url) {
      this.url = String(url);
      this.readyState = 0;
      this.listeners = {};
      this.onopen = null;
      this.onerror = null;
      opened.push(this);
    }
    addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
    removeEventListener(type, fn) {
      this.listeners[type] = (this.listeners[type] || []).filter((f) => f !== fn);
    }
    close() { this.readyState = 2; }
  }
  FakeEventSource.CONNECTING = 0;
  FakeEventSource.OPEN = 1;
  FakeEventSource.CLOSED = 2;
  window.EventSource = FakeEventSource;
  window.__amcStreams = opened;
  window.__amcEmit = (type, data) => {
    const es = opened.filter((e) => e.readyState !== 2).pop();
    if (!es) return false;
    if (es.readyState === 0) {
      es.readyState = 1;
      if (es.onopen) es.onopen(new Event("open"));
    }
    seq += 1;
    const event = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: "1-" + seq });
    for (const fn of es.listeners[type] || []) fn(event);
    return true;
  };
})();
"""

NO_EVENT_SOURCE = "delete window.EventSource;"


def iso(when):
    """Return `when` (an aware datetime) as the server writes times: ISO-8601 UTC with ms and Z."""
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (when.microsecond // 1000)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def remote_copy(session, machine, stale=False, last_seen=None):
    """Return `session` as a hub lists it from `machine`: `<machine>:<id>`, machine, stale, last_seen."""
    return dict(session, session_id="%s:%s" % (machine, session["session_id"]), machine=machine,
                stale=stale, last_seen=last_seen)


def machine(name, state="online", last_seen=None, error="", target=None):
    return {"name": name, "target": target or name, "state": state, "last_seen": last_seen,
            "error": error}


class MachinesCase(DashboardTestCase):
    """A world of one local session per kind and copies of them on machines m1 and m2."""

    def make_world(self):
        """Make real local sessions; return (snapshot, ids) with remote copies on m1 and m2.

        ids: "ask" (local, needs attention, alpha-proj), "done" (local, done, alpha-proj),
        "chat" (local, active, beta-proj), and "m1-ask", "m1-done", "m2-chat": the same sessions
        on m1 and m2. m1 is online; m2 is offline since 125 s with an error (its session stale).
        """
        local = {
            "ask": self.feed("ask-option", upto=4, project="alpha-proj", pane="%3"),
            "done": self.feed("bash-tool", upto=5, project="alpha-proj", pane="%5"),
            "chat": self.feed("chat-and-prose-question", start=1, upto=2, project="beta-proj",
                              session_id=self.new_id(), pane="%7"),
        }
        state = self.get_json("/api/state")
        by_id = {s["session_id"]: dict(s, machine="") for s in state["sessions"]}
        now = utcnow()
        self.server_time = iso(now)
        self.m2_seen = iso(now - datetime.timedelta(seconds=125))
        sessions = list(by_id.values()) + [
            remote_copy(by_id[local["ask"]], "m1", last_seen=self.server_time),
            remote_copy(by_id[local["done"]], "m1", last_seen=self.server_time),
            remote_copy(by_id[local["chat"]], "m2", stale=True, last_seen=self.m2_seen),
        ]
        ids = dict(local, **{"m1-ask": "m1:" + local["ask"], "m1-done": "m1:" + local["done"],
                             "m2-chat": "m2:" + local["chat"]})
        self.machines = [
            machine("m1", "online", self.server_time, target="dev@m1.example"),
            machine("m2", "offline", self.m2_seen,
                    "machine m2 unreachable: ssh: connect to host m2 port 22: Connection refused"),
        ]
        snapshot = dict(state, sessions=sessions, server_time=self.server_time,
                        machines=self.machines)
        return snapshot, ids

    def open_with_stream(self, snapshot):
        """Open the page on the stand-in stream and deliver `snapshot` as its first event."""
        self.page.add_init_script(FAKE_EVENT_SOURCE)
        self.page.goto(self.url)
        self.page.wait_for_function("() => window.__amcStreams && window.__amcStreams.length > 0")
        self.emit("snapshot", snapshot)
        self.expect(self.cards().first).to_be_visible()
        self.expect(self.connection()).to_have_attribute("data-state", "live")

    def emit(self, event, data):
        self.assertTrue(self.page.evaluate("([t, d]) => window.__amcEmit(t, d)", [event, data]),
                        "no open stream to emit %s into" % event)

    def strip(self):
        return self.tid("machine-strip")

    def machine_item(self, name):
        return self.page.locator('[data-testid="machine"][data-machine="%s"]' % name)

    def badge(self, session_id):
        return self.tid("machine-badge", self.card(session_id))


class Machines(MachinesCase):
    def test_cards_have_machine_badges_and_stale_cards_say_last_seen(self):
        snapshot, ids = self.make_world()
        self.open_with_stream(snapshot)
        expect = self.expect
        expect(self.cards()).to_have_count(6)
        for name in ("ask", "done", "chat"):
            expect(self.badge(ids[name])).to_have_text("local")
            expect(self.badge(ids[name])).to_have_attribute("data-machine", "")
            expect(self.card(ids[name])).not_to_have_attribute("data-stale", "true")
        for name, where in (("m1-ask", "m1"), ("m1-done", "m1"), ("m2-chat", "m2")):
            expect(self.badge(ids[name])).to_have_text(where)
            expect(self.card(ids[name])).to_have_attribute("data-machine", where)
        # The title offers the session's own id (for copying), without "m1:".
        expect(self.badge(ids["m1-ask"])).to_have_attribute("title", "On m1: session " + ids["ask"])
        stale = self.card(ids["m2-chat"])
        expect(stale).to_have_attribute("data-stale", "true")
        expect(self.tid("stale-note", stale)).to_have_text("stale · last seen 2 min ago")
        self.assertLess(float(stale.locator(".preview").evaluate("e => getComputedStyle(e).opacity")),
                        1.0, "a stale card is dimmed")
        expect(self.tid("stale-note", self.card(ids["m1-ask"]))).to_have_count(0)
        self.screenshot("machines-1280-light")
        self.page.emulate_media(color_scheme="dark")
        self.screenshot("machines-1280-dark")

    def test_strip_shows_each_machine_state_in_words_last_seen_and_error(self):
        snapshot, _ = self.make_world()
        self.open_with_stream(snapshot)
        expect = self.expect
        expect(self.strip()).to_be_visible()
        expect(self.tid("machine", self.strip())).to_have_count(2)
        m1, m2 = self.machine_item("m1"), self.machine_item("m2")
        expect(m1).to_have_attribute("data-state", "online")
        expect(self.tid("machine-state", m1)).to_have_text("Online")
        expect(m1).to_contain_text("dev@m1.example")
        expect(self.tid("machine-last-seen", m1)).to_have_count(0)
        expect(self.tid("machine-error", m1)).to_have_count(0)
        expect(m2).to_have_attribute("data-state", "offline")
        expect(self.tid("machine-state", m2)).to_have_text("Offline")
        expect(self.tid("machine-last-seen", m2)).to_have_text("last seen 2 min ago")
        expect(self.tid("machine-error", m2)).to_have_text(self.machines[1]["error"])
        # Colour is never alone: the dot is decoration, the state is in words.
        self.assertEqual(m2.locator(".machine-dot").get_attribute("aria-hidden"), "true")

    def test_machine_event_turns_the_strip_offline_and_cards_stale_and_back(self):
        snapshot, ids = self.make_world()
        self.open_with_stream(snapshot)
        expect = self.expect
        card = self.card(ids["m1-ask"])
        expect(card).not_to_have_attribute("data-stale", "true")
        seen = iso(utcnow() - datetime.timedelta(seconds=30))
        self.emit("machine", {"machines": [
            machine("m1", "reconnecting", seen, "connection lost: Broken pipe",
                    target="dev@m1.example"), self.machines[1]]})
        expect(self.machine_item("m1")).to_have_attribute("data-state", "reconnecting")
        expect(self.tid("machine-state", self.machine_item("m1"))).to_have_text("Reconnecting…")
        expect(self.tid("machine-error", self.machine_item("m1"))).to_have_text(
            "connection lost: Broken pipe")
        # The session itself still says stale: false; its machine being away makes it stale.
        expect(card).to_have_attribute("data-stale", "true")
        expect(self.tid("stale-note", card)).to_have_text(
            re.compile(r"^stale · last seen (\d+ s ago|just now)$"))
        expect(self.card(ids["m1-done"])).to_have_attribute("data-stale", "true")
        self.emit("machine", {"machines": [
            machine("m1", "online", iso(utcnow()), target="dev@m1.example"), self.machines[1]]})
        expect(self.machine_item("m1")).to_have_attribute("data-state", "online")
        expect(card).not_to_have_attribute("data-stale", "true")
        expect(self.tid("stale-note", card)).to_have_count(0)
        # A session event is applied as before (the stale flag of the hub's own record counts).
        self.emit("session", dict(snapshot["sessions"][0], session_id=ids["m1-done"], machine="m1",
                                  stale=True, last_seen=self.m2_seen, status="done"))
        expect(self.card(ids["m1-done"])).to_have_attribute("data-stale", "true")
        expect(self.tid("stale-note", self.card(ids["m1-done"]))).to_have_text(
            "stale · last seen 2 min ago")

    def test_machine_filter_composes_with_project_and_text(self):
        snapshot, ids = self.make_world()
        self.open_with_stream(snapshot)
        expect = self.expect
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
        expect(self.cards()).to_have_count(6)
        expect(machine_filter).to_have_value("")

    def test_clicking_a_machine_filters_and_keyboard_works(self):
        snapshot, ids = self.make_world()
        self.open_with_stream(snapshot)
        expect = self.expect
        machine_filter = self.page.locator('select[data-testid="machine-filter"]')
        self.machine_item("m2").click()
        expect(machine_filter).to_have_value("m2")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [ids["m2-chat"]])
        button = self.machine_item("m2").locator("button")
        expect(button).to_have_attribute("aria-pressed", "true")
        button.click()  # again: every machine
        expect(machine_filter).to_have_value("")
        expect(self.cards()).to_have_count(6)
        # By keyboard: Tab reaches the machine's button, Enter and Space pick it.
        self.machine_item("m1").locator("button").focus()
        self.page.keyboard.press("Enter")
        expect(machine_filter).to_have_value("m1")
        expect(self.cards()).to_have_count(2)
        self.page.keyboard.press("Space")
        expect(machine_filter).to_have_value("")
        machine_filter.focus()
        self.page.keyboard.press("ArrowDown")  # All machines -> local
        expect(machine_filter).to_have_value(".")
        expect(self.cards()).to_have_count(3)

    def test_machine_errors_are_text_never_html(self):
        snapshot, _ = self.make_world()
        hostile = ('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
                   '\u001b[31mred\u001b[0m \u001b]0;title\u0007done')
        snapshot["machines"] = [machine("evil", "offline", None, hostile)]
        self.open_with_stream(snapshot)
        error = self.tid("machine-error", self.machine_item("evil"))
        self.expect(error).to_contain_text('<img src=x onerror="window.__pwned=1">')
        self.expect(error).to_contain_text("red done")
        self.assertEqual(self.strip().locator("img, script").count(), 0)
        self.assertNotIn("\u001b", error.evaluate("e => e.textContent"))
        self.assertIsNone(self.page.evaluate("() => window.__pwned"), "hostile text ran")
        self.expect(self.tid("machine-last-seen", self.machine_item("evil"))).to_have_text(
            "never seen")

    def test_remote_action_error_shows_on_the_card(self):
        snapshot, ids = self.make_world()
        self.open_with_stream(snapshot)
        self.allow_console_error(NETWORK_ERROR)
        said = {"502": "machine m1 unreachable: ssh: connect to host m1 port 22: "
                       "Connection refused",
                "504": "machine m1 did not answer in 30 s"}
        answers = ["502", "504"]
        paths = []

        def hub(route):
            paths.append(route.request.url)
            code = answers.pop(0)
            route.fulfill(status=int(code), content_type="application/json",
                          body=json.dumps({"ok": False, "error": said[code]}))

        self.page.route(re.compile(r"/api/respond/"), hub)
        card = self.card(ids["m1-ask"])
        for code in ("502", "504"):
            card.locator('button[data-testid="option"][data-option="1"]').click()
            self.expect(card.locator('[role="alert"][data-testid="action-error"]')).to_have_text(
                said[code])
        # The whole id, machine included, in the path (":" percent-encoded; the server decodes).
        self.assertEqual(paths, [self.url + "api/respond/m1%3A" + ids["ask"]] * 2)

    def test_add_machine_shows_the_servers_error_and_closes_on_success(self):
        snapshot, _ = self.make_world()
        self.open_with_stream(snapshot)
        self.allow_console_error(NETWORK_ERROR)
        expect = self.expect
        error = "cannot add m3 (ssh nowhere.invalid): unknown host name: nowhere.invalid"
        bodies = []

        def hub(route):
            bodies.append((route.request.post_data_json, route.request.headers.get("x-amc-token")))
            if len(bodies) == 1:
                route.fulfill(status=502, content_type="application/json",
                              body=json.dumps({"ok": False, "error": error}))
            else:
                route.fulfill(status=200, content_type="application/json", body=json.dumps(
                    {"ok": True, "machine": machine("m3", "online", iso(utcnow()))}))

        self.page.route(re.compile(r"/api/machines$"), hub)
        self.tid("add-machine", self.strip()).click()
        form = self.tid("add-machine-form")
        name = self.tid("add-machine-name", form)
        expect(name).to_be_focused()
        name.fill("m3")
        self.tid("add-machine-target", form).fill("nowhere.invalid")
        self.tid("add-machine-submit", form).click()
        expect(form.locator('[role="alert"][data-testid="action-error"]')).to_have_text(error)
        expect(form).to_be_visible()
        self.screenshot("machines-add-error")
        self.assertEqual(bodies[0], ({"name": "m3", "target": "nowhere.invalid"}, self.token))
        # The target is optional: left empty it is not sent (the server uses the name).
        self.tid("add-machine-target", form).fill("")
        self.tid("add-machine-submit", form).click()
        expect(form).to_have_count(0)
        self.assertEqual(bodies[1], ({"name": "m3"}, self.token))
        # The hub announces the new list; the new machine gets the focus.
        self.emit("machine", {"machines": self.machines + [machine("m3", "online", iso(utcnow()))]})
        expect(self.machine_item("m3")).to_have_attribute("data-state", "online")
        expect(self.machine_item("m3").locator("button")).to_be_focused()

    def test_add_form_closes_on_escape_and_focus_returns(self):
        snapshot, _ = self.make_world()
        self.open_with_stream(snapshot)
        add = self.tid("add-machine", self.strip())
        add.click()
        self.expect(self.tid("add-machine-name")).to_be_focused()
        self.page.keyboard.press("Escape")
        self.expect(self.tid("add-machine-form")).to_have_count(0)
        self.expect(self.tid("add-machine", self.strip())).to_be_focused()

    def test_polling_fallback_reads_machines_from_api_state(self):
        snapshot, ids = self.make_world()
        self.page.add_init_script(NO_EVENT_SOURCE)
        self.page.route(re.compile(r"/api/state$"), lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(snapshot)))
        self.page.goto(self.url)
        self.expect(self.connection()).to_have_attribute("data-state", "polling")
        self.expect(self.machine_item("m2")).to_have_attribute("data-state", "offline")
        self.expect(self.badge(ids["m1-ask"])).to_have_text("m1")
        self.expect(self.card(ids["m2-chat"])).to_have_attribute("data-stale", "true")

    def test_phone_width_has_no_horizontal_scroll(self):
        snapshot, ids = self.make_world()
        self.page.set_viewport_size(PHONE)
        self.open_with_stream(snapshot)
        self.expect(self.strip()).to_be_visible()
        self.tid("add-machine", self.strip()).click()
        self.expect(self.tid("add-machine-form")).to_be_visible()
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            width = self.page.evaluate("() => document.documentElement.scrollWidth")
            self.assertLessEqual(width, PHONE["width"], "the page scrolls sideways at 390 px")
            self.screenshot("machines-390-%s" % scheme)
        for sid in ids.values():
            box = self.card(sid).bounding_box()
            self.assertLessEqual(box["x"] + box["width"], PHONE["width"])
        for item in self.tid("machine").all():
            box = item.bounding_box()
            self.assertLessEqual(box["x"] + box["width"], PHONE["width"])


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


class MachineStateFunctions(DashboardTestCase):
    """state.js's machine functions, run in the page."""

    def call(self, expression, *args):
        """Evaluate `expression` (a function of the module `m` and the args) in the page."""
        return self.page.evaluate(
            "async ([args]) => { const m = await import('/state.js'); return (%s)(m, ...args); }"
            % expression, [list(args)])

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


class HubPage(DashboardTestCase):
    """The page on a real hub (tests/remote_world.py): machines m1 and m2 over a real sshd, their
    sessions made by their own real hooks, and one session on the hub's own machine."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from tests.remote_world import HOOK, start_world
        cls.w = start_world(cls.addClassCleanup)
        cls.sid1 = "0b7c5c1e-aaaa-4a4a-9c9c-00000000000a"
        cls.sid2 = "0b7c5c1e-bbbb-4a4a-9c9c-00000000000b"
        cls.sid_local = "0b7c5c1e-cccc-4a4a-9c9c-00000000000c"
        cls.w.feed("m1", "ask-option", cls.sid1, upto=4, project="alpha-proj")
        cls.w.feed("m2", "chat-and-prose-question", cls.sid2, upto=5, project="beta-proj")
        done = cls.w.run_as("client", ["python3", "-S", HOOK], json.dumps({
            "session_id": cls.sid_local, "hook_event_name": "UserPromptSubmit",
            "prompt": "on the hub itself", "cwd": "/home/dev/work/hub-proj"}).encode())
        assert done.returncode == 0, done.stderr
        cls.ids = {"m1": "m1:" + cls.sid1, "m2": "m2:" + cls.sid2, "": cls.sid_local}
        cls.w.wait(lambda: set(cls.ids.values()) <= set(cls.w.sessions()), 30,
                   "the sessions of both machines and the hub's own at the hub")

    def open_hub(self):
        self.page.goto(self.w.url + "/")
        for sid in self.ids.values():
            self.expect(self.card(sid)).to_be_visible(timeout=15000)

    def item(self, name):
        return self.page.locator('[data-testid="machine"][data-machine="%s"]' % name)

    def test_both_machines_cards_with_badges_and_the_machine_filter(self):
        self.open_hub()
        expect = self.expect
        for where, sid in self.ids.items():
            badge = self.tid("machine-badge", self.card(sid))
            expect(badge).to_have_text(where or "local")
            expect(badge).to_have_attribute("data-machine", where)
        expect(self.tid("machine-badge", self.card(self.ids["m1"]))).to_have_attribute(
            "title", "On m1: session " + self.sid1)
        for name in ("m1", "m2"):
            expect(self.item(name)).to_have_attribute("data-state", "online")
            expect(self.tid("machine-state", self.item(name))).to_have_text("Online")
        expect(self.tid("reason", self.card(self.ids["m1"]))).to_contain_text(QUESTION)
        machine_filter = self.page.locator('select[data-testid="machine-filter"]')
        machine_filter.select_option("m2")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [self.ids["m2"]])
        machine_filter.select_option(".")
        expect(self.cards()).to_have_count(1)
        self.assertEqual(self.card_ids(), [self.sid_local])
        self.item("m1").click()
        expect(machine_filter).to_have_value("m1")
        self.assertEqual(self.card_ids(), [self.ids["m1"]])
        self.item("m1").click()
        expect(self.cards()).to_have_count(3)
        self.screenshot("hub-two-machines")

    def test_answering_a_remote_session_shows_that_machines_error(self):
        self.open_hub()
        self.allow_console_error(NETWORK_ERROR)  # the session has no pane on m1: an error status
        card = self.card(self.ids["m1"])
        with self.page.expect_request(lambda r: r.method == "POST"
                                      and "/api/respond/" in r.url) as sent:
            card.locator('button[data-testid="option"][data-option="1"]').click()
        self.assertEqual(sent.value.url, self.w.url + "/api/respond/m1%3A" + self.sid1)
        error = card.locator('[role="alert"][data-testid="action-error"]')
        self.expect(error).not_to_be_empty(timeout=30000)
        self.assertNotIn("no live session", error.text_content(), "m1's own words, not the hub's")

    def test_sshd_stopped_the_strip_goes_offline_and_cards_stale_then_back(self):
        self.open_hub()
        expect = self.expect
        self.w.ssh.kill_sshd()
        try:
            for name in ("m1", "m2"):
                expect(self.item(name)).to_have_attribute("data-state", "offline", timeout=15000)
                expect(self.tid("machine-state", self.item(name))).to_have_text("Offline")
                expect(self.tid("machine-last-seen", self.item(name))).to_contain_text("last seen")
                expect(self.tid("machine-error", self.item(name))).not_to_be_empty()
            for name in ("m1", "m2"):
                card = self.card(self.ids[name])
                expect(card).to_have_attribute("data-stale", "true")
                expect(self.tid("stale-note", card)).to_have_text(
                    re.compile(r"^stale · last seen (just now|\d+ s ago)$"))
            expect(self.card(self.ids[""])).not_to_have_attribute("data-stale", "true")
            self.screenshot("hub-machines-offline")
        finally:
            self.w.ssh.start_sshd()
        for name in ("m1", "m2"):  # the hub backs off up to 30 s between tries
            expect(self.item(name)).to_have_attribute("data-state", "online", timeout=45000)
            expect(self.card(self.ids[name])).not_to_have_attribute("data-stale", "true",
                                                                    timeout=10000)
            expect(self.tid("stale-note", self.card(self.ids[name]))).to_have_count(0)
            expect(self.tid("machine-error", self.item(name))).to_have_count(0)

    def test_adding_a_machine_with_a_bad_target_shows_the_error(self):
        self.open_hub()
        self.allow_console_error(NETWORK_ERROR)  # Chromium logs the 502
        self.addCleanup(self.w.ssh.run_amc, "remote", "remove", "m3")
        expect = self.expect
        self.tid("add-machine", self.tid("machine-strip")).click()
        form = self.tid("add-machine-form")
        self.tid("add-machine-name", form).fill("m3")
        self.tid("add-machine-target", form).fill("badkey")  # an identity m1 does not accept
        self.tid("add-machine-submit", form).click()
        error = form.locator('[role="alert"][data-testid="action-error"]')
        expect(error).to_contain_text("cannot add m3 (ssh badkey)", timeout=40000)
        expect(error).to_contain_text("authentication refused")
        expect(form).to_be_visible()
        # The failed add stays in the strip, offline, with its error.
        expect(self.item("m3")).to_have_attribute("data-state", "offline")
        expect(self.tid("machine-error", self.item("m3"))).to_contain_text("authentication refused")
        self.screenshot("hub-add-machine-error")


if __name__ == "__main__":
    unittest.main()
