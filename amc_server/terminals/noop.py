"""The fallback when a session has no known pane: it delivers nothing and says why.

Sessions started outside tmux and Zellij (a plain terminal tab, an IDE) land here; so do sessions
whose pane AMC could not learn (no hooks, and the agent's process is not readable).
"""
from typing import List, Mapping

from .base import Backend, NoPane

WHY = ("AMC does not know which terminal pane session %s runs in (it is not in tmux or Zellij, "
       "or AMC could not see its environment); answer in the session's own terminal")


class Noop(Backend):
    name = "none"

    def applies(self, session: Mapping[str, object]) -> bool:
        return True

    def where(self, session: Mapping[str, object]) -> str:
        return "no known pane"

    def check(self, session: Mapping[str, object]) -> None:
        raise NoPane(WHY % session.get("session_id"))

    def deliver(self, session: Mapping[str, object], plan: List) -> None:
        raise NoPane(WHY % session.get("session_id"))
