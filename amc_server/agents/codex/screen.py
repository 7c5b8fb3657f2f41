"""What to type into the Codex CLI's TUI (0.169) to answer it, and what its approval dialog looks like.

All of AMC's knowledge of Codex's screen lives here (terminals/ only knows how to type); seen with
the real 0.169.0 TUI in tmux (docs/answering.md):
- An approval prompt ("Would you like to run the following command?") lists numbered options with
  a shortcut key each, then a footer:
      › 1. Yes, proceed (y)
        2. Yes, and don't ask again for commands that start with `touch x` (p)
        3. No, and tell Codex what to do differently (esc)
        Press enter to confirm or esc to cancel
  A digit picks its option at once (no Enter). "Yes" is first and "No" last, so the contract's
  numbering (1 = allow once, the last = deny) holds; how many options there are depends on the
  request, so they are read off the screen. Denying interrupts the turn.
- With nothing pending, text is typed at the `›` composer and submitted with Enter. Codex treats
  keys that arrive in a burst as a paste, and an Enter inside the burst as a newline: Enter sent
  right after the text (0 ms) only adds a line, 50 ms later it submits; so the pause before Enter is
  at least MIN_ENTER_DELAY_MS. Several lines go in as one bracketed paste and become one prompt.
- The dialog takes a digit sent in the same instant it is first drawn (heading, options and footer
  appear in one frame), so `dialog_ready` only waits for the footer.
- At start, in a git repository it has no trust level for, Codex shows a folder-trust screen
  before anything else (no hook fires, no rollout is written until it is answered):
      Folder access
      /home/dev/work/fresh-proj
      Trust this folder? Codex can read, edit, and run files here, ...
      › 1. Trust and continue
        2. Back to Agent Command Center
        enter continue · esc back
  The cursor starts on 1; a digit chooses its option at once, Up/Down move the cursor and Enter
  chooses. `start_dialog` reads it (the same shape as claude_screen's); the answer moves the cursor
  and presses Enter, as for Claude Code's start dialogs.
"""
import re
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, Optional

from ... import keystrokes, model
from ..answers import Answer, Refused, dialog_plan, check_range, option_numbers, prompt_plan

NAME = "Codex"
MIN_ENTER_DELAY_MS = 150
FOOTER = "Press enter to confirm"
_OPTION = re.compile(r"^\s*(?:\u203a\s*)?(\d+)\.\s+(\S.*?)\s*$")
_SHORTCUT = re.compile(r"\s+\((?:[a-z]|esc|enter|tab)\)$", re.I)
MAX_WRAPPED_LINES = 4   # continuation lines of one long option label, on a narrow pane


def permission_options(screen: str) -> List[str]:
    """Return the labels of the approval prompt on `screen` (in order), or [] when none shows.

    Labels lose their shortcut key ("Yes, proceed (y)" -> "Yes, proceed"); a label wrapped onto
    several lines of a narrow pane is joined again.
    """
    lines = screen.splitlines()
    footer = max((i for i, line in enumerate(lines) if FOOTER in line), default=-1)
    if footer < 0:
        return []
    found: Dict[int, str] = {}
    wrapped: List[str] = []
    for line in reversed(lines[:footer]):
        m = _OPTION.match(line)
        if m:
            number = int(m.group(1))
            if found and number != min(found) - 1:
                return []          # not one numbered list
            found[number] = " ".join([m.group(2)] + wrapped[::-1])
            wrapped = []
            if number == 1:
                break
        elif line.strip():
            wrapped.append(line.strip())
            if len(wrapped) > MAX_WRAPPED_LINES:
                return []
        elif found:
            return []              # a blank line inside the list: not an approval prompt
    if 1 not in found:
        return []
    return [_SHORTCUT.sub("", found[n]) for n in sorted(found)]


START_FOOTER = "enter continue"
_CURSOR_OPTION = re.compile(r"^(\s*)\u203a\s+\d+\.\s+\S")


def start_dialog(screen: str) -> Optional[Dict[str, Any]]:
    """Return the start dialog on `screen` ({text, options, selected: 1-based}) or None.

    A numbered list 1..N, one option behind the `›` cursor, above an "enter continue" footer; its
    text is what the screen shows above the options.
    """
    lines = screen.splitlines()
    footer = max((i for i, line in enumerate(lines)
                  if line.strip().startswith(START_FOOTER)), default=-1)
    cursor = max((i for i in range(footer) if _CURSOR_OPTION.match(lines[i])), default=-1)
    if footer < 0 or cursor < 0:
        return None
    rows: Dict[int, int] = {}      # option number -> line
    for i in range(footer - 1, -1, -1):
        m = _OPTION.match(lines[i])
        if m:
            rows[int(m.group(1))] = i
        elif rows and lines[i].strip():
            break
    numbers = sorted(rows)
    if len(numbers) < 2 or numbers != list(range(1, len(numbers) + 1)) or \
            cursor not in rows.values():
        return None
    options = [_OPTION.match(lines[rows[n]]).group(2) for n in numbers]
    text = " ".join(" ".join(line.split()) for line in lines[:rows[1]] if line.strip())
    selected = next(n for n in numbers if rows[n] == cursor)
    return {"text": model.preview(text, 500), "options": options, "selected": selected}


def screen_confirms(session: Mapping[str, Any], answer: Answer, before: str, screen: str) -> str:
    """Return why `screen` shows a start dialog was answered ('' otherwise): it closed."""
    attention = session.get("attention") or {}
    if attention.get("kind") != model.ATTN_DIALOG:
        return ""
    now = start_dialog(screen)
    return "the dialog closed" if now is None or now["text"] != attention.get("text") else ""


def dialog_ready(session: Mapping[str, Any], screen: str) -> bool:
    """Tell whether the dialog the session waits on is fully drawn on `screen`."""
    if (session.get("attention") or {}).get("kind") == model.ATTN_PERMISSION:
        return bool(permission_options(screen))
    return True


def answer_plan(session: Mapping[str, Any], answer: Answer, enter_delay_ms: int,
                screen: str = "") -> keystrokes.Plan:
    """Return the keystrokes that give `answer` to the session in its current state."""
    attention = session.get("attention") or {}
    pending = session.get("status") == model.NEEDS_ATTENTION
    if pending and attention.get("kind") == model.ATTN_PERMISSION:
        return _permission_plan(attention, answer, screen)
    if pending and attention.get("kind") == model.ATTN_DIALOG:
        return _dialog_plan(attention, answer, screen)
    if session.get("status") == model.ACTIVE:
        raise Refused("%s is working on a turn; send this when it has finished (or type it in its "
                      "terminal to queue it)" % NAME)
    return prompt_plan(answer.text, max(enter_delay_ms, MIN_ENTER_DELAY_MS))


def _permission_plan(attention: Mapping[str, Any], answer: Answer, screen: str) -> keystrokes.Plan:
    numbers = option_numbers(answer.text)
    if numbers is None or len(numbers) != 1:
        raise Refused("%s asks for approval to run %s: answer with an option number (1 = allow "
                      "once, the last = deny)" % (NAME, attention.get("summary") or "a command"),
                      HTTPStatus.BAD_REQUEST)
    # (no prompt on a visible screen: delivery refuses before typing, see dialog_ready)
    options = permission_options(screen) if screen else list(attention.get("options") or [])
    if options:
        check_range(numbers, len(options), "approval prompt")
    return [keystrokes.text(str(numbers[0]))]


def _dialog_plan(attention: Mapping[str, Any], answer: Answer, screen: str) -> keystrokes.Plan:
    """Move the cursor of the start dialog on `screen` to the chosen option and press Enter."""
    return dialog_plan(NAME, start_dialog(screen) if screen else None, attention, answer)
