"""The answer a user sends from the dashboard, and what every agent's screen module shares.

`/api/respond` hands an `Answer` to the session's agent module (`agents/<name>_screen.py`), which
knows that agent's TUI and returns a keystrokes plan; terminals/ then types it. This module holds
the parts that are the same for every agent: reading option numbers out of the text, and the plan
that submits a new prompt (one line typed literally, several lines as one bracketed paste; Enter
after a pause so the TUI has taken the text before it is submitted).
"""
import re
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from .. import keystrokes
from ..errors import ApiError

_NUMBERS = re.compile(r"^\s*\d+(\s*,\s*\d+)*\s*$")


class Answer(NamedTuple):
    text: str                     # what the user would type
    freeform: bool = False        # the text answers a question as "Type something"
    option_count: Optional[int] = None   # the question's number of options, as the client saw it
    question_index: int = 0       # which of several pending questions this answers (0-based)


class Refused(ApiError):
    """The answer does not fit what the agent is waiting for (nothing is typed)."""
    status = HTTPStatus.CONFLICT


def option_numbers(text: str) -> Optional[List[int]]:
    """Return the option numbers in "3" or "1,3", or None when the text is not numbers."""
    if not _NUMBERS.match(text):
        return None
    return [int(part) for part in text.split(",")]


def check_range(numbers: List[int], count: int, what: str) -> None:
    """Raise Refused unless every number picks one of `count` options."""
    for n in numbers:
        if not 1 <= n <= count:
            raise Refused("option %d does not exist: the %s has options 1 to %d"
                          % (n, what, count), HTTPStatus.BAD_REQUEST)


def typed(text: str) -> keystrokes.Step:
    """Return the step that enters `text`: literal typing for one line, a paste for several."""
    if "\n" in text or "\r" in text:
        return keystrokes.paste(text.replace("\r\n", "\n"))
    return keystrokes.text(text)


def prompt_plan(text: str, enter_delay_ms: int) -> keystrokes.Plan:
    """Return the plan that submits `text` as one new prompt."""
    if not text.strip():
        raise Refused("there is nothing to send: the text is empty", HTTPStatus.BAD_REQUEST)
    return [typed(text), keystrokes.pause(enter_delay_ms), keystrokes.key("Enter")]


def dialog_plan(name: str, dialog: Optional[Dict[str, Any]], attention: Mapping[str, Any],
                answer: Answer) -> keystrokes.Plan:
    """Return the plan that moves a start dialog's cursor to the chosen option and presses Enter.

    `dialog` is what the agent module read off the screen (`{text, options, selected}`), None
    when the screen no longer shows it. Start dialogs (folder trust, the development-channels
    warning) take no digits in either TUI we know, only the cursor.
    """
    numbers = option_numbers(answer.text)
    if dialog is None:
        raise Refused("%s's pane no longer shows the dialog %r; nothing was typed"
                      % (name, str(attention.get("text") or "")[:80]))
    if numbers is None or len(numbers) != 1:
        raise Refused("this dialog takes one option number (1 to %d)" % len(dialog["options"]),
                      HTTPStatus.BAD_REQUEST)
    check_range(numbers, len(dialog["options"]), "dialog")
    move = numbers[0] - dialog["selected"]
    plan: keystrokes.Plan = []
    for _ in range(abs(move)):
        plan += [keystrokes.key("Down" if move > 0 else "Up"), keystrokes.pause(60)]
    return plan + [keystrokes.pause(150), keystrokes.key("Enter")]


def strip_control(text: str) -> str:
    """Drop control characters (but newlines and tabs) so typed text cannot drive the TUI."""
    return "".join(c for c in text if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127))
