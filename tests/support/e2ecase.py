"""The base of the end-to-end tests with a real agent TUI: a throwaway HOME, the scripted fake
model, a private tmux, and (once started) a real `amc serve`; `step` names what failed and adds the
terminal screen, AMC's log and the fake model's errors to the message.
"""
import contextlib
import unittest
from typing import Any, Dict, Iterator, Optional

from tests.support import tools
from tests.support.agentenv import AgentHome, PrivateTmux
from tests.support.amcproc import AmcServer
from tests.support.fakemodel import FakeModel


class AgentTuiCase(unittest.TestCase):
    """Subclasses set `project_name` and `step_timeout`, and configure the agent in setUp."""

    project_name = "demo-proj"
    step_timeout = 15.0

    def setUp(self) -> None:
        tmux_bin = tools.require("tmux")
        self.home = AgentHome()
        self.addCleanup(self.home.cleanup)
        self.fake = FakeModel().start()
        self.addCleanup(self.fake.stop)
        self.project = self.home.project(self.project_name)
        self.amc_env = self.home.amc_env()
        self.tmux = PrivateTmux(tmux_bin)
        self.addCleanup(self.tmux.kill)
        self.amc: Optional[AmcServer] = None
        self.session_id = ""

    def failure_context(self) -> str:
        """Return more to show when a step fails (subclasses add their own)."""
        return ""

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Name a step; on failure, add the step, the terminal screen and AMC's log to the error."""
        try:
            yield
        except AssertionError as e:
            raise AssertionError(
                "step %r failed: %s\n--- tmux screen ---\n%s\n%s--- amc serve stderr (tail) ---\n"
                "%s\n--- fake model errors ---\n%s"
                % (name, e, self.tmux.capture() if self.tmux.pane else "",
                   self.failure_context(), self.amc.stderr() if self.amc else "",
                   "\n".join(self.fake.errors))) from None

    def serve(self) -> AmcServer:
        """Start `amc serve --port 0` in the test's HOME (stopped at cleanup)."""
        self.amc = AmcServer(self.amc_env).start()
        self.addCleanup(self.amc.stop)
        return self.amc

    def wait(self, predicate: Any, what: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Poll /api/state until this test's session satisfies `predicate`."""
        assert self.amc is not None, "start AMC first"
        return self.amc.wait_session(predicate, what, timeout=timeout or self.step_timeout,
                                     session_id=self.session_id)
