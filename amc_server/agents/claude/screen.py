"""What to type into Claude Code's TUI (2.1.x) to answer it, and what its dialogs look like.

All of AMC's knowledge of Claude Code's screen lives here (terminals/ only knows how to type):
- AskUserQuestion draws options 1..N, then N+1 "Type something" and N+2 "Chat about this". A
  digit picks an option at once (no Enter). Free text: press N+1, type, press Enter. A multiSelect
  question toggles options with their digits; Tab moves to the next tab. Several questions (or a
  multiSelect one) end on a "Review your answers" screen whose option 1 is "Submit answers".
- A permission prompt ("Do you want to proceed?") lists numbered options, "Yes" first and "No"
  last; how many depends on the tool and the permission mode, so they are read off the screen
  when the terminal can show it.
- With nothing pending, text is typed at the `❯` prompt and submitted with Enter; several lines go
  in as one bracketed paste so they become one prompt. While a turn runs, Enter queues it (a
  `queue-operation` record in the transcript) and Claude Code sends it when the turn ends.
- Dialogs at start (folder trust for a new project, the development-channels warning) are menus
  with a `❯` cursor and an "Enter to confirm" footer; the trust dialog has no numbers and its
  cursor starts on "No, exit", so an option is chosen by moving the cursor and pressing Enter
  (`start_dialog`, `ATTN_DIALOG`). No hook fires before they are answered.
The dialog drops keys that arrive within ~0.1 s of its first paint (seen with 2.1.329), so
`dialog_ready` tells the sender when the dialog is fully drawn.
Only those shapes are read (a heading, numbered options, a `❯` cursor, a footer), never the lines
around them, which change between versions: 2.1.337 dropped the permission dialog's "Tip: auto
mode handles these prompts for you" line and starts tool rows with `●`, and under tmux without
focus events a footer line warns "tmux focus-events off" (tests/test_claude_screen.py reads the
recorded screens of 2.1.332 and 2.1.337).
"""
import re
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, Optional

from ... import keystrokes, model
from ..answers import Answer, Refused, dialog_plan, check_range, option_numbers, prompt_plan, typed

FREE_TEXT_FOCUS_MS = 150   # after pressing "Type something", before typing into it
REVIEW_DRAW_MS = 500       # after the last answer, before "Submit answers" on the review screen
_OPTION = re.compile(r"^\s*(?:\u276f\s*)?(\d+)\.\s+(\S.*?)\s*$")
PERMISSION_HEADING = "Do you want"
NAME = "Claude Code"


def permission_options(screen: str) -> List[str]:
    """Return the labels of the permission prompt on `screen` (in order), or [] when none shows.

    The prompt is a numbered list after a "Do you want ..." heading ("...to proceed?", "...to make
    this edit to x?"), "Yes" first and "No" last; a heading AMC does not know is found by that shape.
    """
    lines = screen.splitlines()
    start = max((i for i, line in enumerate(lines) if PERMISSION_HEADING in line), default=-1)
    if start < 0:
        matches = [(i, _OPTION.match(line)) for i, line in enumerate(lines)]
        firsts = [i for i, m in matches if m and m.group(1) == "1" and m.group(2).startswith("Yes")]
        start = firsts[-1] - 1 if firsts else -1
    if start < 0:
        return []
    options: List[str] = []
    for line in lines[start + 1:]:
        m = _OPTION.match(line)
        if m and int(m.group(1)) == len(options) + 1:
            options.append(m.group(2))
        elif options and line.strip():
            break
    return options if len(options) >= 2 and options[-1].startswith("No") else []


_CURSOR = re.compile(r"^(\s*)\u276f\s+(\S.*?)\s*$")
_NUMBERED = re.compile(r"^\d+\.\s+")
START_FOOTER = "Enter to confirm"


def start_dialog(screen: str) -> Optional[Dict[str, Any]]:
    """Return the menu dialog on `screen` ({text, options, selected: 1-based}) or None.

    A start dialog is a list of options, one behind the `❯` cursor, the others at the same column,
    above an "Enter to confirm" footer; its text is what the dialog shows above the options.
    """
    lines = screen.splitlines()
    footer = max((i for i, line in enumerate(lines) if START_FOOTER in line), default=-1)
    cursor = max((i for i in range(footer) if _CURSOR.match(lines[i])), default=-1)
    if footer < 0 or cursor < 0:
        return None
    column = _CURSOR.match(lines[cursor]).start(2)

    def option(i: int) -> bool:
        line = lines[i]
        return i == cursor or (len(line) - len(line.lstrip(" ")) == column and bool(line.strip()))
    first = cursor
    while first > 0 and option(first - 1):
        first -= 1
    last = cursor
    while last + 1 < footer and (option(last + 1) or not lines[last + 1].strip()):
        last += 1
    rows = [i for i in range(first, last + 1) if option(i)]
    options = [_NUMBERED.sub("", lines[i].replace("\u276f", " ").strip()) for i in rows]
    top = max((i for i in range(first) if lines[i].strip() and
               set(lines[i].strip()) <= set("\u2500\u2501-")), default=-1)
    text = " ".join(" ".join(line.split()) for line in lines[top + 1:first] if line.strip())
    if len(options) < 2:
        return None
    return {"text": model.preview(text, 500), "options": options,
            "selected": rows.index(cursor) + 1}


def _dialog_plan(attention: Mapping[str, Any], answer: Answer, screen: str) -> keystrokes.Plan:
    """Move the cursor of the start dialog on `screen` to the chosen option and press Enter."""
    return dialog_plan(NAME, start_dialog(screen) if screen else None, attention, answer)


def dialog_ready(session: Mapping[str, Any], screen: str) -> bool:
    """Tell whether the dialog the session waits on is fully drawn on `screen`."""
    attention = session.get("attention") or {}
    if attention.get("kind") == model.ATTN_QUESTION:
        return "Chat about this" in screen or "Type something" in screen
    if attention.get("kind") == model.ATTN_PERMISSION:
        return bool(permission_options(screen))
    return True


def answer_plan(session: Mapping[str, Any], answer: Answer, enter_delay_ms: int,
                screen: str = "") -> keystrokes.Plan:
    """Return the keystrokes that give `answer` to the session in its current state."""
    attention = session.get("attention") or {}
    pending = session.get("status") == model.NEEDS_ATTENTION
    kind = attention.get("kind") if pending else None
    if kind == model.ATTN_QUESTION and session.get("pending_questions"):
        return _question_plan(session["pending_questions"], answer, enter_delay_ms)
    if kind == model.ATTN_PERMISSION:
        return _permission_plan(attention, answer, screen)
    if kind == model.ATTN_DIALOG:
        return _dialog_plan(attention, answer, screen)
    # Also while the agent works: Claude Code queues the prompt and sends it when the turn ends.
    return prompt_plan(answer.text, enter_delay_ms)


def _question_plan(questions: List[Dict[str, Any]], answer: Answer,
                   enter_delay_ms: int) -> keystrokes.Plan:
    index = answer.question_index if 0 <= answer.question_index < len(questions) else 0
    question = questions[index]
    count = len(question.get("options") or [])
    numbers = None if answer.freeform else option_numbers(answer.text)
    if numbers is None:
        text = answer.text.strip()
        if not text:
            raise Refused("the answer is empty", HTTPStatus.BAD_REQUEST)
        # "Type something" is the row after the options; its input takes the text, Enter sends it.
        plan = [keystrokes.text(str(count + 1)), keystrokes.pause(FREE_TEXT_FOCUS_MS),
                typed(text), keystrokes.pause(enter_delay_ms), keystrokes.key("Enter")]
    else:
        check_range(numbers, count, "question %r" % question.get("question", "")[:80])
        if question.get("multiSelect"):
            # each digit toggles its option; Tab moves on to the next tab (question or Submit)
            plan = []
            for n in sorted(set(numbers)):
                plan += [keystrokes.text(str(n)), keystrokes.pause(80)]
            plan.append(keystrokes.key("Tab"))
        elif len(numbers) != 1:
            raise Refused("this question takes one option, got %s" % answer.text,
                          HTTPStatus.BAD_REQUEST)
        else:
            plan = [keystrokes.text(str(numbers[0]))]
    if index == len(questions) - 1 and _has_review(questions):
        # several questions (or a multiSelect one) end on "Review your answers": 1. Submit answers
        plan += [keystrokes.pause(REVIEW_DRAW_MS), keystrokes.text("1")]
    return plan


def _has_review(questions: List[Dict[str, Any]]) -> bool:
    return len(questions) > 1 or any(q.get("multiSelect") for q in questions)


def queued_confirms(answer: Answer, events: List[Dict[str, Any]],
                    records: List[Dict[str, Any]]) -> str:
    """Return why a prompt sent while the agent works was taken ('' when nothing shows it yet).

    The transcript grows anyway during a turn, so only these count: the prompt's own
    `queue-operation` "enqueue" record (Claude Code queues it until the turn ends), or its
    UserPromptSubmit.
    """
    text = " ".join(answer.text.split())
    for r in records:
        if r.get("type") == "queue-operation" and r.get("operation") == "enqueue" and \
                " ".join(str(r.get("content") or "").split()) == text:
            return "queued by %s until its turn ends" % NAME
    for e in events:
        prompt = (e.get("payload") or {}).get("prompt") if isinstance(e, dict) else None
        if e.get("event") == "UserPromptSubmit" and " ".join(str(prompt or "").split()) == text:
            return "hook event UserPromptSubmit"
    return ""


def screen_confirms(session: Mapping[str, Any], answer: Answer, before: str, screen: str) -> str:
    """Return why `screen` shows the answer was taken when no hook fires for it, else ''.

    Answering one of several questions only moves the dialog to the next one: Claude Code fires
    no hook until the last is submitted, so the next question showing is the confirmation.
    """
    questions = session.get("pending_questions") or []
    index = answer.question_index
    attention = session.get("attention") or {}
    if attention.get("kind") == model.ATTN_DIALOG:
        now = start_dialog(screen)
        return "the dialog closed" if now is None or now["text"] != attention.get("text") else ""
    if attention.get("kind") != model.ATTN_QUESTION or not 0 <= index < len(questions) - 1:
        return ""
    following = str(questions[index + 1].get("question") or "")
    moved = following and following in screen and following not in before
    return "the dialog moved to the next question" if moved else ""


def _permission_plan(attention: Mapping[str, Any], answer: Answer, screen: str) -> keystrokes.Plan:
    numbers = option_numbers(answer.text)
    if numbers is None or len(numbers) != 1:
        raise Refused("%s asks for permission to use %s: answer with an option number (1 = allow "
                      "once, the last = deny)" % (NAME, attention.get("tool") or "a tool"),
                      HTTPStatus.BAD_REQUEST)
    options = permission_options(screen) or list(attention.get("options") or [])
    if options:
        check_range(numbers, len(options), "permission prompt")
    return [keystrokes.text(str(numbers[0]))]


def hook_decision(session: Mapping[str, Any], answer: Answer,
                  waiter: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Return `answer` as a decision for a waiting PermissionRequest hook, or None to type it.

    The hook can answer a whole AskUserQuestion at once (labels, or the user's own text) and
    allow or deny a tool. Answers it cannot say (one of several questions, "always allow", "switch
    to auto mode") are typed instead.
    """
    attention = session.get("attention") or {}
    numbers = None if answer.freeform else option_numbers(answer.text)
    if waiter.get("kind") == "question" and attention.get("kind") == model.ATTN_QUESTION:
        questions = session.get("pending_questions") or []
        if len(questions) != 1 or answer.question_index != 0:
            return None
        question = questions[0]
        labels = [str(o.get("label", "")) for o in question.get("options") or []]
        if numbers is None:
            text = answer.text.strip()
            return {"kind": "question", "answers": {question["question"]: text}} if text else None
        check_range(numbers, len(labels), "question %r" % question.get("question", "")[:80])
        if not question.get("multiSelect") and len(numbers) != 1:
            raise Refused("this question takes one option, got %s" % answer.text,
                          HTTPStatus.BAD_REQUEST)
        chosen = [labels[n - 1] for n in sorted(set(numbers))]
        value: Any = chosen if question.get("multiSelect") else chosen[0]
        return {"kind": "question", "answers": {question["question"]: value}}
    if waiter.get("kind") == "permission" and attention.get("kind") == model.ATTN_PERMISSION:
        if numbers is None or len(numbers) != 1:
            return None  # the keystroke plan refuses it with the reason
        options = list(attention.get("options") or [])
        if numbers[0] == 1:
            return {"kind": "permission", "behavior": "allow"}
        if options and numbers[0] == len(options):
            return {"kind": "permission", "behavior": "deny"}
    return None
