"""Hook answers (opt-in): the PermissionRequest hook waits briefly for the dashboard's answer.

Claude Code 2.1.329 runs a PermissionRequest hook *while* it draws its own dialog, and takes the
first answer: the hook's JSON decision (the dialog closes, the model gets the answer) or a key in
the terminal (the hook's later output is ignored). So with `amc-hook --wait-answer` the hook, after
recording the event as usual, announces itself in `<data>/waiting/<session_id>.json` and polls
`<data>/answers/<session_id>.json` every POLL_S; an answer turns into the decision JSON on stdout.
It prints nothing and exits 0 when: the wait times out (default DEFAULT_WAIT_S, or
`--wait-answer=SECONDS`), AMC is not running, the session is not attended (`claude -p` blocks on
the hook, so we never wait there), the input is odd, the session moved on (a PostToolUse for this
tool call, Stop, a new prompt... in the session's event log: a terminal answer does not kill the
hook), the CLI ends it (Esc / "No" send SIGTERM) or anything fails. See docs/answering.md.

Server side (used by /api/respond; imports nothing heavy either):

    waiter = hook_answers.waiting(paths, session_id)      # dict or None
    if waiter is not None:
        record = hook_answers.answer(paths, session_id, waiter,
                                     {"kind": "question", "answers": {"<question>": "<label>"}})
        # or {"kind": "permission", "behavior": "allow"}
        # or {"kind": "permission", "behavior": "deny", "message": "<optional reason>"}
        delivered = hook_answers.wait_delivered(paths, session_id, record)   # True/False

`answer` raises ValueError (a message for a person) when the answer does not fit the waiter.
Files (atomic writes, mode 0600, `version` 1):
  waiting/<sid>.json  {version, session_id, pid, kind: "question"|"permission", tool_name,
                       tool_use_id ("" if unknown), questions (pending_questions shape, [] for a
                       permission), summary, started_at, expires_at (epoch seconds)}
  answers/<sid>.json  {version, session_id, pid (the waiter's), tool_use_id, kind, answers |
                       behavior [+ message], answered_at (ISO)}
"""
import os
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .. import jsonl, model, paths as amc_paths, store
from ..agents.claude.registry import pid_alive  # a zombie (a hook Claude killed) is not alive

VERSION = 1
FLAG = "--wait-answer"
DEFAULT_WAIT_S = 60.0
MAX_WAIT_S = 600.0
POLL_S = 0.05
QUESTION_TOOL = "AskUserQuestion"
KIND_QUESTION = "question"
KIND_PERMISSION = "permission"
DENY_MESSAGE = "Denied from the AMC dashboard"
# Events after which the dialog we wait for is gone (a PostToolUse counts only for our tool call).
MOVED_ON = frozenset({"Stop", "StopFailure", "UserPromptSubmit", "SessionStart", "SessionEnd"})
TOOL_DONE = frozenset({"PostToolUse", "PostToolUseFailure"})
TAIL_BYTES = 256 * 1024


def waiting_file(p: amc_paths.Paths, session_id: str) -> str:
    return os.path.join(p.data, "waiting", session_id + ".json")


def answer_file(p: amc_paths.Paths, session_id: str) -> str:
    return os.path.join(p.data, "answers", session_id + ".json")


# ------------------------------------------------------------------------------------ pure parts
def wait_seconds(argv: Sequence[str]) -> float:
    """Return the wait asked for by `--wait-answer[=SECONDS]` (DEFAULT_WAIT_S, capped)."""
    for arg in argv:
        if arg.startswith(FLAG + "="):
            try:
                value = float(arg.split("=", 1)[1])
            except ValueError:
                return DEFAULT_WAIT_S
            return max(0.0, min(value, MAX_WAIT_S)) if value == value else DEFAULT_WAIT_S
    return DEFAULT_WAIT_S


def requested(argv: Sequence[str]) -> bool:
    """Tell whether the hook was run in hook-answer mode."""
    return any(a == FLAG or a.startswith(FLAG + "=") for a in argv)


def attended(env: Mapping[str, str]) -> bool:
    """Tell whether a person sees a dialog: not `claude -p` / the SDK (they block on the hook)."""
    if env.get("CLAUDE_CODE_SESSION_ATTENDED", "") == "0":
        return False
    return not env.get("CLAUDE_CODE_ENTRYPOINT", "").startswith(("sdk", "mcp"))


def server_running(p: amc_paths.Paths) -> bool:
    """Tell whether an AMC server runs for this data dir (its pid file names a live process)."""
    try:
        with open(p.pid_file, "rb") as f:
            first = f.read(64).split(b"\n", 1)[0].strip()
    except OSError:
        return False
    return first.isdigit() and pid_alive(int(first))


def find_tool_use_id(events_path: str, tool_name: str, tool_input: Any) -> str:
    """Return the tool_use_id of this call's newest PreToolUse (PermissionRequest has none)."""
    # the event log: AMC's own file, never a symlink (nor a FIFO: it would block the agent)
    for raw in reversed(jsonl.tail_lines(events_path, TAIL_BYTES, follow=False)):
        try:
            payload = store.loads(raw).get("payload") or {}
        except (ValueError, AttributeError):
            continue
        if payload.get("hook_event_name") == "PreToolUse" and \
                payload.get("tool_name") == tool_name and payload.get("tool_input") == tool_input:
            return str(payload.get("tool_use_id") or "")
    return ""


def moved_on(records: List[Any], tool_use_id: str, tool_name: str) -> bool:
    """Tell whether these event-log records show the dialog was answered or abandoned."""
    for record in records:
        payload = record.get("payload") if isinstance(record, dict) else None
        if not isinstance(payload, dict):
            continue
        name = payload.get("hook_event_name")
        if not isinstance(name, str):
            continue  # a list here cannot be looked up in a set
        if name in MOVED_ON:
            return True
        if name in TOOL_DONE:
            if tool_use_id and payload.get("tool_use_id") == tool_use_id:
                return True
            if not tool_use_id and payload.get("tool_name") == tool_name:
                return True
    return False


def _answers(waiter: Mapping[str, Any], given: Any) -> Dict[str, str]:
    """Return the answers as {question: text}; raise ValueError unless every question has one."""
    if not isinstance(given, dict) or not given:
        raise ValueError("answers must be an object {question: answer}")
    questions = [q.get("question") for q in waiter.get("questions") or [] if isinstance(q, dict)]
    out = {}
    for question, value in given.items():
        if question not in questions:
            raise ValueError("no pending question %r" % (question,))
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = ", ".join(value)  # a multiSelect answer, as the model reads it
        if not isinstance(value, str) or not value.strip():
            raise ValueError("the answer to %r must be a non-empty string" % (question,))
        out[question] = value
    missing = [q for q in questions if q not in out]
    if missing:
        raise ValueError("unanswered question(s): %s" % "; ".join(missing))
    return out


def validated(waiter: Mapping[str, Any], answer_dict: Any) -> Dict[str, Any]:
    """Return the answer's fields to store; raise ValueError when it does not fit the waiter."""
    if not isinstance(answer_dict, dict):
        raise ValueError("the answer must be an object")
    kind = answer_dict.get("kind")
    if kind != waiter.get("kind"):
        raise ValueError("the agent waits for a %s answer, not %r" % (waiter.get("kind"), kind))
    if kind == KIND_QUESTION:
        return {"kind": kind, "answers": _answers(waiter, answer_dict.get("answers"))}
    behavior = answer_dict.get("behavior")
    if behavior not in ("allow", "deny"):
        raise ValueError("behavior must be \"allow\" or \"deny\"")
    out = {"kind": kind, "behavior": behavior}
    if behavior == "deny":
        message = answer_dict.get("message")
        out["message"] = message.strip() if isinstance(message, str) and message.strip() \
            else DENY_MESSAGE
    return out


def decision(waiter: Mapping[str, Any], tool_input: Any, answer_record: Any
             ) -> Optional[Dict[str, Any]]:
    """Return the PermissionRequest hook output for an answer, or None when it is not valid."""
    try:
        fields = validated(waiter, answer_record)
    except ValueError:
        return None
    if fields["kind"] == KIND_QUESTION:
        updated = dict(tool_input) if isinstance(tool_input, dict) else {}
        updated["answers"] = fields["answers"]
        verdict = {"behavior": "allow", "updatedInput": updated}  # type: Dict[str, Any]
    elif fields["behavior"] == "allow":
        verdict = {"behavior": "allow"}
    else:
        verdict = {"behavior": "deny", "message": fields["message"]}
    return {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": verdict}}


# ------------------------------------------------------------------------------------ hook side
def wait_for_answer(payload: Mapping[str, Any], env: Mapping[str, str], argv: Sequence[str],
                    clock: Callable[[], float] = time.time,
                    sleep: Callable[[float], None] = time.sleep) -> Optional[Dict[str, Any]]:
    """Wait for the dashboard's answer to this PermissionRequest; return the decision or None."""
    if payload.get("hook_event_name") != "PermissionRequest" or not attended(env):
        return None
    sid = payload.get("session_id")
    if not amc_paths.valid_id(sid):
        return None
    p = amc_paths.get_paths(env)
    if not server_running(p):
        return None
    tool = str(payload.get("tool_name") or "")
    tool_input = payload.get("tool_input")
    kind = KIND_QUESTION if tool == QUESTION_TOOL else KIND_PERMISSION
    questions = []  # type: List[Dict[str, Any]]
    if kind == KIND_QUESTION:
        from .record import normalize_questions  # already loaded: we are called from hook.main
        questions = normalize_questions(tool_input)
        if not questions:
            return None
    events_path = p.events_file(sid)
    events = jsonl.Tail(events_path, follow=False, max_line=TAIL_BYTES)
    try:
        st = os.stat(events_path)  # our own PermissionRequest line is already in
        events.start_at(st.st_size, (st.st_dev, st.st_ino))
    except OSError:
        pass
    now = clock()
    waiter = {"version": VERSION, "session_id": sid, "pid": os.getpid(), "kind": kind,
              "tool_name": tool, "tool_use_id": find_tool_use_id(events_path, tool, tool_input),
              "questions": questions, "summary": model.tool_summary(tool_input),
              "started_at": now, "expires_at": now + wait_seconds(argv)}
    mine, answers = waiting_file(p, sid), answer_file(p, sid)
    store.ensure_dir(os.path.dirname(mine))
    store.ensure_dir(os.path.dirname(answers))
    store.remove(answers)  # whatever is there answered an older request
    # the handlers first: a SIGTERM (Esc in the terminal) right after the waiter file is written
    # must still remove it (it killed the hook and left a waiter behind)
    restore = _exit_on_signals()
    parent = os.getppid()
    try:
        store.write_json_atomic(mine, waiter)
        while clock() < waiter["expires_at"]:
            sleep(POLL_S)
            current = store.read_json(mine)
            if not isinstance(current, dict) or current.get("pid") != waiter["pid"]:
                return None  # a newer request took over, or AMC cleared us
            got = store.read_json(answers)  # None: missing, or garbage (writes are atomic)
            if got is not None or os.path.exists(answers):
                store.remove(answers)  # taken, or dropped when it is not a valid one for us
                if isinstance(got, dict) and got.get("pid") == waiter["pid"]:
                    verdict = decision(waiter, tool_input, got)
                    if verdict is not None:
                        return verdict
            records = _new_records(events)
            if moved_on(records, waiter["tool_use_id"], tool):
                return None
            if os.getppid() != parent:
                return None  # the CLI is gone
        return None
    except SystemExit:  # SIGTERM: Esc or "No" in the terminal, or the hook's timeout
        return None
    finally:
        current = store.read_json(mine)
        if isinstance(current, dict) and current.get("pid") == waiter["pid"]:
            store.remove(mine)
        restore()


def _new_records(tail: "jsonl.Tail") -> List[Any]:
    """Return the records appended to the event log since the last look (complete lines; a
    line over TAIL_BYTES, which the hook never writes, is skipped)."""
    got = jsonl.Collect()
    try:
        tail.refresh(got)
    except OSError:
        return []
    return got.objects


def _exit_on_signals() -> Callable[[], None]:
    """Make SIGTERM/SIGHUP/SIGINT unwind (so the waiter file goes); return the undo."""
    import signal  # only the waiting hook pays for it
    previous = {}

    def leave(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, leave)
        except (ValueError, OSError):
            pass

    def restore() -> None:
        for sig, handler in previous.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):
                pass
    return restore


# ---------------------------------------------------------------------------------- server side
def waiting(paths: amc_paths.Paths, session_id: str, now: Optional[float] = None
            ) -> Optional[Dict[str, Any]]:
    """Return the hook waiting for an answer in this session (fresh, its pid alive), or None."""
    if not amc_paths.valid_id(session_id):
        return None
    waiter = store.read_json(waiting_file(paths, session_id))
    if not isinstance(waiter, dict) or waiter.get("version") != VERSION or \
            waiter.get("session_id") != session_id or \
            waiter.get("kind") not in (KIND_QUESTION, KIND_PERMISSION):
        return None
    expires = waiter.get("expires_at")
    if not isinstance(expires, (int, float)) or expires <= (time.time() if now is None else now):
        return None
    return waiter if pid_alive(waiter.get("pid")) else None


def answer(paths: amc_paths.Paths, session_id: str, waiter: Mapping[str, Any],
           answer_dict: Mapping[str, Any]) -> Dict[str, Any]:
    """Write the answer for `waiter` (from `waiting`) atomically; return the record written."""
    if not amc_paths.valid_id(session_id) or waiter.get("session_id") != session_id:
        raise ValueError("the waiting hook belongs to another session")
    record = {"version": VERSION, "session_id": session_id, "pid": waiter.get("pid"),
              "tool_use_id": waiter.get("tool_use_id", ""), "answered_at": model.now_iso()}
    record.update(validated(waiter, answer_dict))
    path = answer_file(paths, session_id)
    store.ensure_dir(os.path.dirname(path))
    store.write_json_atomic(path, record)
    return record


def wait_delivered(paths: amc_paths.Paths, session_id: str, record: Mapping[str, Any],
                   timeout: float = 2.0) -> bool:
    """Wait until the hook took `record` (the file it was written to is gone); tell whether so."""
    path = answer_file(paths, session_id)
    deadline = time.monotonic() + timeout
    while True:
        current = store.read_json(path)
        if not isinstance(current, dict) or current.get("pid") != record.get("pid") or \
                current.get("answered_at") != record.get("answered_at"):
            return True  # the hook removed it as it took it (or a newer request replaced it)
        if time.monotonic() >= deadline:
            return False  # left in place: only that waiter would take it, a newer one drops it
        time.sleep(POLL_S)
