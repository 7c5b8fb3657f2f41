"""Every path AMC reads or writes, decided in one place from the environment.

The hook imports this module on the agent's critical path, so it uses `os.path` strings and nothing
heavier. Nothing else in AMC expands `~` or reads the path variables: a test that sets `HOME` (or
the variables below) to a temp dir isolates AMC, Claude Code and Codex at once.

`layout()` owns the other kind of path: where AMC itself is. It runs from a clone (`bin/` and
`dashboard/` beside the package), from a `pip install` / `pipx install` (console scripts in the
environment's scripts dir, the page inside the package as `amc_server/dashboard/`, which in a clone
is a symlink to `../dashboard` so the wheel can carry it as package data), or from the zipapp a hub
ships to a remote (`remote/zipapp.py`: the package inside one `.pyz` file, no page). The hooks,
channel and service installers, the zipapp and the server's static files all ask it.
"""
import os
import sys
from typing import List, Mapping, NamedTuple, Optional


class Paths(NamedTuple):
    data: str              # AMC_DATA_DIR
    sessions: str          # sessions/<id>.json
    events: str            # events/<id>.jsonl
    pid_file: str
    log_file: str
    token_file: str
    dismissed_file: str    # ids dismissed by the user (bounded, first in first out)
    remotes_file: str      # machines reached over ssh (amc remote add)
    claude_dir: str        # CLAUDE_CONFIG_DIR
    claude_projects: str   # transcripts: projects/<encoded cwd>/<session>.jsonl
    claude_sessions: str   # live-session registry: sessions/<pid>.json
    claude_settings: str   # settings.json (hooks)
    codex_home: str        # CODEX_HOME
    codex_sessions: str    # rollouts: sessions/YYYY/MM/DD/rollout-*.jsonl
    codex_hooks: str       # hooks.json
    codex_config: str      # config.toml
    notify_file: str = ""      # commands run on needs-attention and done (amc notify add)
    claude_history: str = ""   # Claude Code's prompt history: history.jsonl (the Activity view)
    index_file: str = ""       # the search index, index.sqlite (derived, rebuildable: index/)
    history_cache: str = ""    # past sessions' titles, sizes and usage, by file (consumers/history.py)
    logins_file: str = ""      # browsers logged in on a network bind, hashed (http/logins.py)

    def session_file(self, session_id: str) -> str:
        return os.path.join(self.sessions, session_id + ".json")

    def events_file(self, session_id: str) -> str:
        return os.path.join(self.events, session_id + ".jsonl")


def _home(env: Mapping[str, str]) -> str:
    home = env.get("HOME") or os.path.expanduser("~")
    return home


def data_dir(env: Optional[Mapping[str, str]] = None) -> str:
    """Return AMC's data dir: AMC_DATA_DIR, else $XDG_DATA_HOME/amc, else ~/.local/share/amc."""
    env = os.environ if env is None else env
    if env.get("AMC_DATA_DIR"):
        return os.path.abspath(env["AMC_DATA_DIR"])
    if env.get("XDG_DATA_HOME"):
        return os.path.join(os.path.abspath(env["XDG_DATA_HOME"]), "amc")
    return os.path.join(_home(env), ".local", "share", "amc")


def get_paths(env: Optional[Mapping[str, str]] = None) -> Paths:
    """Return every path AMC uses, derived from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    data = data_dir(env)
    claude = os.path.abspath(env["CLAUDE_CONFIG_DIR"]) if env.get("CLAUDE_CONFIG_DIR") \
        else os.path.join(_home(env), ".claude")
    codex = os.path.abspath(env["CODEX_HOME"]) if env.get("CODEX_HOME") \
        else os.path.join(_home(env), ".codex")
    return Paths(
        data=data,
        sessions=os.path.join(data, "sessions"),
        events=os.path.join(data, "events"),
        pid_file=os.path.join(data, "server.pid"),
        log_file=os.path.join(data, "server.log"),
        token_file=os.path.join(data, "token"),
        dismissed_file=os.path.join(data, "dismissed.json"),
        remotes_file=os.path.join(data, "remotes.json"),
        claude_dir=claude,
        claude_projects=os.path.join(claude, "projects"),
        claude_sessions=os.path.join(claude, "sessions"),
        claude_settings=os.path.join(claude, "settings.json"),
        codex_home=codex,
        codex_sessions=os.path.join(codex, "sessions"),
        codex_hooks=os.path.join(codex, "hooks.json"),
        codex_config=os.path.join(codex, "config.toml"),
        notify_file=os.path.join(data, "notify.json"),
        claude_history=os.path.join(claude, "history.jsonl"),
        index_file=os.path.join(data, "index.sqlite"),
        history_cache=os.path.join(data, "history.json"),
        logins_file=os.path.join(data, "logins.json"),
    )


def zellij_plugin(env: Optional[Mapping[str, str]] = None) -> str:
    """Return the zellij-send-keys plugin path (AMC_ZELLIJ_PLUGIN)."""
    env = os.environ if env is None else env
    if env.get("AMC_ZELLIJ_PLUGIN"):
        return os.path.abspath(env["AMC_ZELLIJ_PLUGIN"])
    return os.path.join(_home(env), ".config", "zellij", "plugins", "zellij-send-keys.wasm")


def valid_id(session_id: object) -> bool:
    """Tell whether `session_id` is safe to use as a file name (no separators, dots-only, NUL)."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 200:
        return False
    if session_id in (".", "..") or session_id.startswith("."):
        return False
    return not any(c in session_id for c in "/\\\0") and session_id.isprintable()


PACKAGE = os.path.dirname(os.path.abspath(__file__))  # amc_server/ (zipapp: <file>.pyz/amc_server)
COMMANDS = ("amc", "amc-hook", "amc-server", "amc-channel")  # bin/ in a clone, console scripts else


class Layout(NamedTuple):
    kind: str        # "clone", "pip" (pip or pipx: console scripts) or "zipapp"
    home: str        # what holds the package: the clone, site-packages, or the .pyz file
    package: str     # the amc_server folder
    dashboard: str   # the page's files ("" in the zipapp: a remote serves no page)
    bin: str         # the commands' folder: the clone's bin/, the scripts dir ("" in the zipapp)

    def command(self, name: str) -> str:
        """Return the path of AMC command `name` (one of COMMANDS) in this install."""
        return os.path.join(self.bin, name) if self.bin else name


def _scripts_dirs() -> List[str]:
    """Return where pip may have put the console scripts: this environment's, then the user's."""
    import sysconfig  # not at the top: the hook imports this module and never needs it
    dirs = [sysconfig.get_path("scripts"), os.path.dirname(os.path.abspath(sys.executable))]
    try:
        scheme = sysconfig.get_preferred_scheme("user")  # type: ignore[attr-defined]  # 3.10+
    except AttributeError:
        scheme = "osx_framework_user" if sys.platform == "darwin" and \
            sys.prefix.startswith("/Library/Frameworks") else os.name + "_user"
    try:
        dirs.append(sysconfig.get_path("scripts", scheme))
    except KeyError:
        pass
    return dirs


def layout(package: str = PACKAGE) -> Layout:
    """Return where this AMC is: a clone, a pip/pipx install, or the zipapp."""
    home = os.path.dirname(package)
    if os.path.isfile(home):
        return Layout("zipapp", home, package, "", "")
    clone_bin = os.path.join(home, "bin")
    if os.path.isfile(os.path.join(clone_bin, "amc-hook")) and \
            os.path.isdir(os.path.join(home, "dashboard")):
        return Layout("clone", home, package, os.path.join(home, "dashboard"),
                      os.path.realpath(clone_bin))
    scripts = next((d for d in _scripts_dirs() if os.path.isfile(os.path.join(d, "amc-hook"))), "")
    if not scripts:  # e.g. run with PYTHONPATH: whichever `amc-hook` the PATH finds, if any
        import shutil
        found = shutil.which("amc-hook")
        scripts = os.path.dirname(os.path.abspath(found)) if found else ""
    return Layout("pip", home, package, os.path.join(package, "dashboard"), scripts)
