"""The one composition root: every process that serves AMC's sessions builds them here.

Three processes answer for this machine, and a session must read the same from each:
- `amc serve` (server.py): the HTTP server, the stream, the page (role SERVER);
- `amc stream` with no server running (stream_cli.py): the core's events as NDJSON, which is what
  a hub receives from a remote machine that runs no server (role STREAM);
- `amc request` with no server running (remote/answer.py): one API request answered on a core
  read once (role REQUEST).
Each gets the same core and the same consumers that shape a session (usage from the
transcript, a permission prompt's options from the pane); the server adds what only a long-lived
server needs (other machines, the search index, notifications, the start-dialog watcher). The
consumers register through the core's typed interface (`Core.add_enricher`,
`Core.on_transcripts`, `Core.on_paths`); nothing is attached to the core by assignment.
"""
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from .core.live import Core
from .consumers.usage import UsageTracker
from .actions.respond import Delivery
from .paths import Paths

if TYPE_CHECKING:
    from .index.indexer import SearchIndex
    from .actions.launch import Launcher
    from .consumers.notifier import Notifier
    from .remote.hub import Hub

log = logging.getLogger("amc.app")

SERVER = "server"
STREAM = "stream"
REQUEST = "request"
ROLES = (SERVER, STREAM, REQUEST)
SETTLE_S = 5.0   # REQUEST: how long the enrichers may take before the answer (a pane's screen)


class App:
    """What endpoints and streams work with: the core and every part built around it."""

    def __init__(self, paths: Paths, role: str = SERVER, guard: Any = None,
                 env: Optional[Mapping[str, str]] = None,
                 force_stat: Optional[bool] = None) -> None:
        if role not in ROLES:
            raise ValueError("role must be one of %s" % ", ".join(ROLES))
        self.paths = paths
        self.role = role
        self.guard = guard                   # security.Guard: the token of channel endpoints
        self.core = Core(paths, force_stat=force_stat)
        self.usage = UsageTracker(self.core)  # tokens, cost, context (docs/usage.md)
        self.delivery = Delivery(self.core, env=env)  # answers; a prompt's options
        self.hub: Optional["Hub"] = None      # other machines (remote/hub.py): SERVER only
        self.index: Optional["SearchIndex"] = None   # full-text search (index/): SERVER only
        self.index_error = ""                 # why there is no index, in words
        self.notifier: Optional["Notifier"] = None
        self._launcher: Optional["Launcher"] = None
        self._launcher_lock = threading.Lock()
        if role == SERVER:
            from .remote.hub import Hub
            self.hub = Hub(self.core, paths)

    # -- life ----------------------------------------------------------------------------------

    def start(self, url: str = "") -> "App":
        """Start the parts of this role; REQUEST reads every source once and settles."""
        if self.role == REQUEST:
            self.core.rescan()
            self.settle()
            return self
        self.core.start()
        if self.role != SERVER:
            return self
        assert self.hub is not None
        self.hub.start()  # other machines in remotes.json (remote/hub.py)
        from . import index
        self.index, self.index_error = index.start(self.core)  # docs/search.md
        from .consumers.notifier import Notifier
        self.notifier = Notifier(self.core, url)  # amc notify add (docs/notify.md)
        self.notifier.start()
        try:  # launched sessions still waiting on a start dialog are followed again
            self.launcher().watcher.resume()
        except Exception:  # never keeps the server from starting
            log.exception("cannot follow the sessions AMC launched before this start")
        return self

    def stop(self) -> None:
        """Stop every part (the reverse of start); safe to call twice."""
        for part in (self.notifier, self.index, self.hub):
            if part is not None:
                part.stop()
        self.core.stop()

    def settle(self, timeout: float = SETTLE_S) -> bool:
        """Wait until the enrichers have nothing left to read, then merge what they found.

        A process that answers once (REQUEST) has no later event to carry a session's usage or
        its prompt's options: it waits for them, as the server's stream would have sent them.
        """
        deadline = time.monotonic() + timeout
        parts: "list[Callable[[float], bool]]" = [self.usage.settle, self.delivery.settle]
        done = all([part(max(0.0, deadline - time.monotonic())) for part in parts])
        self.core.flush()
        return done

    # -- parts made on first use ----------------------------------------------------------------

    def launcher(self) -> "Launcher":
        """Return the Launcher (`POST /api/sessions`), made once with its start-dialog watcher."""
        with self._launcher_lock:
            if self._launcher is None:
                from .actions.launch import Launcher
                from .actions.start_dialogs import Watcher
                self._launcher = Launcher(self.paths, self.delivery.env,
                                          watcher=Watcher(self.core, self.delivery.backends))
            return self._launcher

    def replace_launcher(self, launcher: "Launcher") -> None:
        """Use `launcher` from now on (one made for another environment: tests, tools); the old
        one's start-dialog watcher stops enriching sessions."""
        with self._launcher_lock:
            old, self._launcher = self._launcher, launcher
        if old is not None and old.watcher is not None and old.watcher is not launcher.watcher:
            self.core.remove_enricher(old.watcher.enrich)
