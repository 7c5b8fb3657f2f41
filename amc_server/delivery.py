"""Answer delivery: from `POST /api/respond` to keys in the agent's pane, confirmed by the agent.

The one place that decides how an answer reaches a session:
1. the body becomes an `Answer`; the session must be live;
2. one answer per session at a time (a second request while one is in flight is refused), and the
   same text is never typed twice for the same pending state (a double click, a retried request);
   an answer to a question that closed without the page (the transcript as the file holds it now:
   answered or skipped in the terminal, resolved by itself after the user was away; or no question
   pending at all) is refused with 409 "the question was closed: ...", nothing typed;
3. the session's agent module (`agents/<agent>_screen.py`) turns the answer into a keystrokes
   plan, reading the pane's screen when the terminal can show it (permission options, "is the
   dialog drawn yet"); a dialog the screen does not show is refused here, for every agent;
4. the session's terminal backend (tmux, Zellij, none) checks its pane, then types the plan; or,
   when Claude Code's PermissionRequest hook waits for AMC (opt-in, `hook_answers.py`), the
   answer goes to the hook as a decision and nothing is typed;
5. the answer counts as delivered only once the agent shows it took it: a hook event other than a
   reminder, its transcript growing, or its live registry entry changing, within CONFIRM_TIMEOUT_S.
   Otherwise the request fails with 504 and AMC does not retry: a person looks first.
"""
import logging
import os
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .. import agents as agent_family, keystrokes, model, store, terminals
from ..hook import wait as hook_answers
from ..agents.claude import questions as claude_questions
from ..agents.answers import Answer, strip_control
from ..core import channels as channels_module
from ..core.live import Core
from ..core.sources import transcript_refusal
from ..errors import ApiError, BadRequest, NotFound

log = logging.getLogger("amc.delivery")

CONFIRM_TIMEOUT_S = 8.0
DIALOG_WAIT_S = 3.0       # how long to wait for a dialog to be fully drawn before typing
DIALOG_SETTLE_S = 0.8     # a dialog younger than this gets the rest of it before keys arrive
POLL_S = 0.05
REPEAT_WINDOW_S = 60.0
QUIET_EVENTS = ("Notification", "Dismissed")
OPTIONS_WAIT_S = 5.0      # how long a new permission prompt's options are looked for
DEFAULT_ENTER_DELAY_MS = 200
MAX_TEXT = 100_000


class Busy(ApiError):
    status = HTTPStatus.CONFLICT


class NotConfirmed(ApiError):
    status = HTTPStatus.GATEWAY_TIMEOUT


def enter_delay_ms(env: Mapping[str, str]) -> int:
    """Return AMC_SUBMIT_ENTER_DELAY_MS (default 200), clamped to 0-2000."""
    try:
        value = int(env.get("AMC_SUBMIT_ENTER_DELAY_MS", "") or DEFAULT_ENTER_DELAY_MS)
    except ValueError:
        value = DEFAULT_ENTER_DELAY_MS
    return max(0, min(2000, value))


def _refuse_another_question(session: Dict[str, Any], asked: Any) -> None:
    """Refuse (409, nothing typed) an answer for a question other than the one pending now.

    `questionId` is the `attention.tool_use_id` of the question the page showed: when that
    question closed and another opened meanwhile, the answer (option numbers meant for the old
    question) must not go to the new one.
    """
    if asked is None:
        return
    if not isinstance(asked, str) or len(asked) > 200:
        raise BadRequest('"questionId" must be the id of the question answered (a string)')
    attention = session.get("attention") if session.get("status") == model.NEEDS_ATTENTION \
        else None
    pending = str((attention or {}).get("tool_use_id") or "") if isinstance(attention, dict) \
        else ""
    if pending != asked:
        raise Busy("the question was closed: %s; nothing was typed"
                   % ("another question is asked now" if pending else "none is pending now"))


def parse_body(body: Any) -> Answer:
    """Return the Answer in a /api/respond body, or raise BadRequest saying what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise BadRequest('body must be a JSON object with a "text" string')
    text = body["text"]
    if len(text) > MAX_TEXT:
        raise BadRequest("text is too long (%d characters, at most %d)" % (len(text), MAX_TEXT))
    freeform = body.get("freeform", False)
    if not isinstance(freeform, bool):
        raise BadRequest('"freeform" must be true or false')
    count = body.get("optionCount")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or not 0 <= count <= 50):
        raise BadRequest('"optionCount" must be a whole number of options (0-50)')
    index = body.get("questionIndex", 0)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 50:
        raise BadRequest('"questionIndex" must be a whole number (0-49)')
    return Answer(strip_control(text), freeform, count, index)


def screen_module(agent: str):
    """Return the agent's `screen` module (agents/<agent>/screen.py), which knows how to answer
    its TUI."""
    found = agent_family.get(agent)
    if found is None:
        raise ApiError("AMC does not know how to answer %s sessions yet" % agent,
                       HTTPStatus.NOT_IMPLEMENTED)
    return found.screen


class Delivery:
    """Delivers answers; one instance per server (it holds the in-flight and recent-answer books)."""

    def __init__(self, core: Core, env: Optional[Mapping[str, str]] = None,
                 backends: Optional[List[terminals.Backend]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.env = dict(os.environ if env is None else env)
        self.backends = backends if backends is not None else terminals.load(env=self.env)
        self.clock = clock
        self.confirm_timeout_s = CONFIRM_TIMEOUT_S
        self._lock = threading.Lock()
        self._in_flight: Dict[str, bool] = {}
        self._recent: Dict[Tuple[str, ...], float] = {}
        self._options: Dict[Tuple[str, str], Tuple[List[str], float]] = {}
        self._options_lock = threading.Lock()
        self._prompts: Dict[str, Tuple[str, str]] = {}   # session -> its pending prompt's key
        self._wanted: Dict[Tuple[str, str], Tuple[Dict[str, Any], float]] = {}  # to read
        self._reader: Optional[threading.Thread] = None
        self._asked: Dict[str, float] = {}  # session -> when AMC last typed a question's answer
        core.add_enricher(self.enrich)

    def respond(self, session_id: str, body: Any) -> Dict[str, Any]:
        """Deliver the answer in `body` to the session; return the API answer or raise ApiError."""
        answer = parse_body(body)
        for_question = "questionIndex" in body  # the page's question buttons always send it
        self.core.flush()
        session = self.core.session(session_id)
        if session is None:
            raise NotFound("no live session %s" % session_id)
        _refuse_another_question(session, body.get("questionId"))
        self._ensure_options(session)  # the prompt's options, as the page saw them
        key = (session_id, str(session.get("status")), str(session.get("status_since")),
               str(session.get("last_event_at")), answer.text, str(answer.question_index))
        with self._lock:
            if self._in_flight.get(session_id):
                raise Busy("an answer to this session is still being delivered; wait for it")
            now = self.clock()
            self._recent = {k: t for k, t in self._recent.items() if now - t < REPEAT_WINDOW_S}
            if key in self._recent:
                raise Busy("this answer was already sent to the session and it has not moved on "
                           "since; AMC does not type the same thing twice")
            self._in_flight[session_id] = True
        typed: List[bool] = []
        try:
            return self._deliver(session, answer, typed, for_question)
        finally:
            with self._lock:
                if typed:  # confirmed or not, what was typed is never typed again
                    self._recent[key] = self.clock()
                    if _question_pending(session):
                        self._asked[session_id] = self.clock()
                self._in_flight.pop(session_id, None)

    def _deliver(self, session: Dict[str, Any], answer: Answer,
                 typed: List[bool], for_question: bool = False) -> Dict[str, Any]:
        self._refuse_closed_question(session, for_question)
        through_channel = self._through_channel(session, answer, typed)
        if through_channel is not None:
            return through_channel
        screens = screen_module(session["agent"])
        through_hook = self._through_hook(session, answer, screens, typed)
        if through_hook is not None:
            return dict(through_hook, via="hook")
        backend = terminals.for_session(self.backends, session)
        return dict(self._type(session, answer, screens, backend, typed), via=backend.name)

    def _through_channel(self, session: Dict[str, Any], answer: Answer,
                         typed: List[bool]) -> Optional[Dict[str, Any]]:
        """Answer through AMC's channel in the session (bin/amc-channel), if it has one.

        A permission prompt the CLI relayed to the channel takes 1 (Allow) or 2 (Deny); with no
        dialog pending, the text goes in as a message (the CLI absorbs one sent during a turn
        into that turn). A question or permission dialog in the TUI is not the channel's: None,
        so the hook or the keys answer it. Confirmed when the channel says it handed the message
        to Claude Code (it writes to the CLI's stdin; there is no other acknowledgement).
        """
        sid = session["session_id"]
        channels = self.core.channels
        if not channels.live(sid):
            return None
        attention = session.get("attention") or {}
        waiting = session.get("status") == model.NEEDS_ATTENTION
        if waiting and attention.get("via") == "channel":
            choice = answer.text.strip().lower()
            behavior = {"1": "allow", "allow": "allow", "2": "deny", "deny": "deny"}.get(choice)
            if behavior is None:
                raise BadRequest("this permission prompt takes 1 (Allow) or 2 (Deny)")
            kind, data = "verdict", {"request_id": attention.get("request_id", ""),
                                     "behavior": behavior}
        elif waiting and attention.get("kind") in (model.ATTN_QUESTION, model.ATTN_PERMISSION):
            return None
        else:
            if not answer.text.strip():
                raise BadRequest("there is nothing to send")
            kind, data = "message", {"chat_id": "amc-%d" % int(time.time() * 1000),
                                     "text": answer.text, "user": "dashboard"}
        delivery_id = channels.send(sid, kind, data)
        typed.append(True)
        log.info("answering %s through its channel: %s", sid, kind)
        if not channels.wait_ack(delivery_id):
            raise NotConfirmed("sent to the session's AMC channel, but it did not pass it on "
                               "to Claude Code within %.0f s" % channels_module.ACK_WAIT_S)
        if kind == "verdict":
            channels.clear(sid, str(data["request_id"]))
            self.core.touch(sid)
        return {"ok": True, "via": "channel", "delivered_to": "AMC's channel in the session",
                "confirmed_by": "the channel handed it to Claude Code"}

    def _type(self, session: Dict[str, Any], answer: Answer, screens: Any,
              backend: terminals.Backend, typed: List[bool]) -> Dict[str, Any]:
        """Type the answer into the session's pane and wait for the agent to take it."""
        backend.check(session)
        screen = self._wait_dialog(screens, backend, session)
        plan = screens.answer_plan(session, answer, enter_delay_ms(self.env), screen)
        self._refuse_without_dialog(screens, session, screen)
        self._refuse_closed_question(session, False)  # the dialog wait may have taken seconds
        before = self._activity(session)
        where = backend.where(session)
        log.info("answering %s in %s: %s", session["session_id"], where,
                 keystrokes.describe(plan))
        typed.append(True)  # from here on some keys may have reached the pane
        backend.deliver(session, plan)
        busy = getattr(screens, "queued_confirms", None)
        if session.get("status") == model.ACTIVE and busy is not None:
            # during a turn the transcript grows anyway: only the queued prompt itself counts
            return self._confirm(session, before, where, screens,
                                 lambda: busy(answer, *self._appended(session, before)),
                                 strict=True)
        confirms = getattr(screens, "screen_confirms", None)
        return self._confirm(session, before, where, screens, lambda: confirms(
            session, answer, screen, self._screen(backend, session)) if confirms else "")

    @staticmethod
    def _refuse_without_dialog(screens: Any, session: Dict[str, Any], screen: str) -> None:
        """Refuse (409, nothing typed) when the session waits on a dialog the pane does not show.

        It was answered in the terminal (Esc fires no hook), or the pane shows something else:
        a digit would land in the agent's prompt instead.
        """
        kind = (session.get("attention") or {}).get("kind")
        if screen and session.get("status") == model.NEEDS_ATTENTION and \
                kind in (model.ATTN_QUESTION, model.ATTN_PERMISSION) and \
                not screens.dialog_ready(session, screen):
            raise Busy("%s%s's pane shows no %s dialog (was it answered in the terminal?); nothing "
                       "was typed" % ("the question was closed: " if kind == model.ATTN_QUESTION
                                      else "", getattr(screens, "NAME", session["agent"]), kind))

    def _refuse_closed_question(self, session: Dict[str, Any], for_question: bool) -> None:
        """Refuse (409, nothing typed) an answer to a question that closed without the page.

        Checked against the transcript as the file holds it now, not the card: a pending
        question whose result is written (answered or skipped in the terminal, resolved by
        itself after the user was away), or an answer meant for a question (`questionIndex`)
        when none is pending any more, which would otherwise be typed as a new prompt.
        """
        pending = _question_pending(session)
        if not pending and not for_question:
            return
        sid = session["session_id"]
        path = session.get("transcript_path") or ""
        readable = session.get("agent") == "claude" and bool(path) and \
            not transcript_refusal(self.core.paths, path, sid)
        if pending:
            gone = claude_questions.closed(path, session.get("attention"),
                                           str(session.get("status_since") or "")) \
                if readable else None
            if gone is None:
                return
            how = gone["words"]
        else:
            gone = claude_questions.latest(path) if readable else None
            how = gone["words"] if gone else \
                "no question is pending any more (the session is %s)" % session.get("status")
        with self._lock:
            asked = self._asked.get(sid, -REPEAT_WINDOW_S)
        if gone and gone["how"] == "answered" and self.clock() - asked < REPEAT_WINDOW_S:
            how = "it was already answered from this page"
        log.info("refusing an answer to a closed question of %s: %s", sid, how)
        raise Busy("the question was closed: %s; nothing was typed" % how)

    def _through_hook(self, session: Dict[str, Any], answer: Answer, screens: Any,
                      typed: List[bool]) -> Optional[Dict[str, Any]]:
        """Answer through a PermissionRequest hook that waits for AMC (opt-in), if one does.

        The dialog stays usable in the terminal meanwhile; the first answer wins. Returns None to
        fall back to keystrokes: no hook waits, the agent module cannot say this answer as a hook
        decision (one of several questions, "always allow"...), or the hook did not take it.
        """
        if session.get("status") != model.NEEDS_ATTENTION:
            return None
        paths = self.core.paths
        waiter = hook_answers.waiting(paths, session["session_id"])
        to_decision = getattr(screens, "hook_decision", None)
        if waiter is None or to_decision is None:
            return None
        decision = to_decision(session, answer, waiter)
        if decision is None:
            return None
        before = self._activity(session)
        try:
            record = hook_answers.answer(paths, session["session_id"], waiter, decision)
        except ValueError as e:
            raise BadRequest(str(e)) from None
        typed.append(True)
        if not hook_answers.wait_delivered(paths, session["session_id"], record):
            # the hook is gone without taking it (ended by a terminal answer or Esc): type instead
            store.remove(hook_answers.answer_file(paths, session["session_id"]))
            typed.clear()
            log.info("the waiting hook of %s did not take the answer; typing it",
                     session["session_id"])
            return None
        where = "%s's %s hook" % (getattr(screens, "NAME", session["agent"]), "PermissionRequest")
        log.info("answering %s through %s: %s", session["session_id"], where, decision["kind"])
        return self._confirm(session, before, where, screens, lambda: "")

    def _confirm(self, session: Dict[str, Any], before: Dict[str, Any], where: str, screens: Any,
                 agent_sign: Callable[[], str], strict: bool = False) -> Dict[str, Any]:
        """Wait until the agent shows it took the answer; return the API answer or raise 504.

        Signs: any of State.moved_on, or what the agent module recognises (`agent_sign`); with
        `strict`, only the latter.
        """
        started = self.clock()
        deadline = started + self.confirm_timeout_s
        while True:
            sign = ("" if strict else self._moved_on(session, before)) or agent_sign()
            if sign:
                log.info("answer to %s confirmed by %s after %.2f s", session["session_id"], sign,
                         self.clock() - started)
                return {"ok": True, "delivered_to": where, "confirmed_by": sign}
            if self.clock() > deadline:
                raise NotConfirmed(
                    "sent to %s, but %s showed no sign of taking it within %.0f s; look at its "
                    "terminal before trying again (AMC does not send the same answer twice)"
                    % (where, getattr(screens, "NAME", session["agent"]), self.confirm_timeout_s))
            time.sleep(POLL_S)

    def enrich(self, session: Dict[str, Any]) -> None:
        """Add `attention.options` / `options_count` to a pending permission prompt (core enricher).

        How many options a permission prompt has depends on the tool and the mode, and only the
        screen tells; the dashboard needs the count because the last option denies. Called by the
        core for every merge, so it never waits: options known for this prompt are added at once;
        a new prompt in a pane AMC can read is handed to one reader thread, which looks at the
        screen every 0.25 s for up to OPTIONS_WAIT_S (a dialog announced a moment ago may not be
        drawn yet) and has the core merge the session again when it finds them. A prompt whose
        options are never found is not looked at again (answering it reads the screen anyway).
        """
        sid = session["session_id"]
        attention = session.get("attention")
        if session.get("status") != model.NEEDS_ATTENTION or not isinstance(attention, dict) \
                or attention.get("kind") != model.ATTN_PERMISSION or attention.get("via"):
            with self._options_lock:
                self._prompts.pop(sid, None)
            return  # not a terminal dialog (a channel prompt has its own options)
        key = (sid, str(session.get("status_since")))
        with self._options_lock:
            self._prompts[sid] = key
            options = self._options.get(key, ([], 0.0))[0]
            if key not in self._options and key not in self._wanted and \
                    (session.get("tmux_pane") or session.get("zellij_session")):
                self._wanted[key] = (dict(session), self.clock() + OPTIONS_WAIT_S)
                if self._reader is None or not self._reader.is_alive():
                    self._reader = threading.Thread(target=self._learn_options,
                                                    name="amc-options", daemon=True)
                    self._reader.start()
        if options:
            attention["options"] = options
            attention["options_count"] = len(options)

    def settle(self, timeout: float) -> bool:
        """Wait until no prompt's options are being looked for (a process that answers once)."""
        deadline = self.clock() + timeout
        while True:
            with self._options_lock:
                if not self._wanted:
                    return True
            if self.clock() >= deadline:
                return False
            time.sleep(0.05)

    def _ensure_options(self, session: Dict[str, Any]) -> None:
        """Read a pending permission prompt's options now if the core has none yet."""
        attention = session.get("attention")
        if session.get("status") != model.NEEDS_ATTENTION or not isinstance(attention, dict) \
                or attention.get("kind") != model.ATTN_PERMISSION or attention.get("options"):
            return
        options = self._read_options(session)
        if options:
            self._learnt((session["session_id"], str(session.get("status_since"))), options)
            attention["options"] = options
            attention["options_count"] = len(options)

    def _learnt(self, key: Tuple[str, str], options: List[str]) -> None:
        with self._options_lock:
            self._wanted.pop(key, None)
            self._options[key] = (options, self.clock())
            while len(self._options) > 1000:  # prompts long answered
                del self._options[next(iter(self._options))]
        if options:
            self.core.touch(key[0])

    def _learn_options(self) -> None:
        """The reader thread: look at every wanted prompt's screen until found or given up."""
        while True:
            with self._options_lock:
                wanted = list(self._wanted.items())
                if not wanted:
                    self._reader = None
                    return
            for key, (session, deadline) in wanted:
                with self._options_lock:
                    still = self._prompts.get(key[0]) == key
                options = self._read_options(session) if still else []
                if options or not still or self.clock() > deadline:
                    self._learnt(key, options)
            time.sleep(0.25)

    def _read_options(self, session: Dict[str, Any]) -> List[str]:
        try:
            screens = screen_module(session["agent"])
            screen = terminals.for_session(self.backends, session).capture(session)
            return list(screens.permission_options(screen)) if screen else []
        except Exception as e:  # a dead pane or a missing tmux only means: no options shown
            log.debug("cannot read the prompt of %s: %s", session["session_id"], e)
            return []

    # -- signs that the agent took an answer ------------------------------------------------

    def _activity(self, session: Dict[str, Any]) -> Dict[str, Any]:
        """Return where the agent's signs of life stand now (compare later with `_moved_on`).

        Signs: a hook event (the events log grows), the transcript growing, Claude's live registry
        entry changing (busy/idle/waiting), as the core last read it.
        """
        sid = session["session_id"]
        return {"events": _size(self.core.paths.events_file(sid)),
                "transcript": _size(session.get("transcript_path") or ""),
                "registry": self._registry_mark(sid)}

    def _moved_on(self, session: Dict[str, Any], before: Dict[str, Any]) -> str:
        """Return what shows the agent moved on since `before` ('' when nothing does yet)."""
        sid = session["session_id"]
        for event in store.read_jsonl_since(self.core.paths.events_file(sid), before["events"],
                                              follow=False):
            # a late "needs your permission" reminder is not an answer being taken
            if event.get("event") not in QUIET_EVENTS:
                return "hook event %s" % event.get("event")
        if _size(session.get("transcript_path") or "") > before["transcript"] >= 0:
            return "transcript grew"
        mark = self._registry_mark(sid)
        if mark != before["registry"] and mark:
            return "registry says %s" % mark[0]
        return ""

    def _appended(self, session: Dict[str, Any], before: Dict[str, Any]
                  ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
        """Return the hook events and transcript records written since `before`."""
        events = store.read_jsonl_since(self.core.paths.events_file(session["session_id"]),
                                        before["events"], follow=False)
        path = session.get("transcript_path") or ""
        records = store.read_jsonl_since(path, before["transcript"]) if path \
            and before["transcript"] >= 0 \
            and not transcript_refusal(self.core.paths, path, session["session_id"]) else []
        return events, records

    def _registry_mark(self, sid: str) -> Tuple[Any, ...]:
        self.core.flush()
        entry = self.core.registry_entry(sid)
        return (entry.get("status"), entry.get("updatedAt")) if entry else ()

    @staticmethod
    def _screen(backend: terminals.Backend, session: Dict[str, Any]) -> str:
        try:
            return backend.capture(session)
        except ApiError:
            return ""

    def _wait_dialog(self, screens: Any, backend: terminals.Backend,
                     session: Dict[str, Any]) -> str:
        """Return the pane's screen once the pending dialog is fully drawn ('' if not visible).

        A dialog is waited for until DIALOG_WAIT_S after it was announced (a dialog announced
        long ago that the screen does not show will not appear: no wait then).
        """
        kind = (session.get("attention") or {}).get("kind")
        dialog = session.get("status") == model.NEEDS_ATTENTION and \
            kind in (model.ATTN_QUESTION, model.ATTN_PERMISSION)
        age = time.time() - model.parse_iso(session.get("status_since")) if dialog else 0.0
        if dialog and 0 <= age < DIALOG_SETTLE_S:
            # A TUI drops keys that arrive right after its dialog's first paint: give a dialog
            # that was announced a moment ago time to settle.
            time.sleep(DIALOG_SETTLE_S - age)
        screen = self._screen(backend, session)
        if not screen or screens.dialog_ready(session, screen):
            return screen
        deadline = self.clock() + (max(0.0, DIALOG_WAIT_S - age) if age >= 0 else DIALOG_WAIT_S)
        while self.clock() < deadline:
            time.sleep(0.1)
            screen = self._screen(backend, session)
            if screens.dialog_ready(session, screen):
                time.sleep(DIALOG_SETTLE_S / 2)  # drawn just now: let it settle too
                return self._screen(backend, session) or screen
        return screen


def _question_pending(session: Dict[str, Any]) -> bool:
    return session.get("status") == model.NEEDS_ATTENTION and \
        (session.get("attention") or {}).get("kind") == model.ATTN_QUESTION


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size if path else -1
    except OSError:
        return -1
