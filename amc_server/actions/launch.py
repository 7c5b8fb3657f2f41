"""Starting sessions from the dashboard: `POST /api/sessions` -> an agent CLI in a new pane.

Place in the flow: http/api.py -> here -> tmux / Zellij (a new window running the agent) and the data
dir (the session's hook file, written before the agent starts). The old attempt at this failed
because the launcher's id never matched the agent's, so the card was doubled; Claude Code takes
`--session-id <uuid>`, so AMC chooses the id, writes `sessions/<id>.json` as `starting` itself
(atomically, under the session lock, like the hook) and the CLI's hooks then update that same file:
one card from the first moment. Codex chooses its own id, so its card is a `starting` placeholder
(`launch-<uuid>`) keyed by the pane, removed once a Codex session in that pane appears
(actions/start_dialogs.py). The agent runs where AMC runs: a new window of the tmux server of `$TMUX`, else
a new pane of the Zellij session of `$ZELLIJ_SESSION_NAME`, else a window of a dedicated server
(`tmux -L amc`, or `tmux -S $AMC_TMUX_SOCKET`). Every argv comes from a pure function below (the
prompt is one argv element; no shell ever sees it) and runs through an injectable runner.
tmux (3.3a) expands formats in `-c` and `-n`: `#(cmd)` in a directory's name would run `cmd`
through /bin/sh and `#S` would start the agent elsewhere, so `#` is doubled there, and the new
pane's start directory and its agent's working directory are read back: a pane anywhere else is
closed and the launch refused in words.
"""
import os
import re
import subprocess
import shlex
import time
import uuid
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

from .. import agents as agent_family, model, store
from ..errors import ApiError, BadRequest, Forbidden, NotFound
from ..paths import Paths
from ..terminals.base import Result, find_binary

AGENTS = tuple(n for n in agent_family.FAMILY  # the agents AMC can start (AGENT.launch)
               if getattr(agent_family.get(n), "launch", None) is not None)
MAX_PROMPT_BYTES = 100_000     # well under Linux's 128 KiB limit for one argv element
DEDICATED_SOCKET_NAME = "amc"  # `tmux -L amc`
DEDICATED_SESSION = "amc"
PANE_FORMAT = "#{pane_id} #{socket_path}"
DIR_CHECK_S = 3.0              # how long the agent may take to be seen in its directory
DIR_POLL_S = 0.02
CHANNEL_SERVER = "amc"
CHANNEL_TOOL = "mcp__amc__reply"   # the channel's reply tool, as Claude Code names MCP tools
PLACEHOLDER_PREFIX = "launch-"
RESUME_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")  # never an option, never a path
TIMEOUT_S = 10.0


class LaunchError(ApiError):
    """The session could not be started; the message says why, for a person."""
    status = HTTPStatus.BAD_REQUEST


class ToolMissing(LaunchError):
    """The agent CLI or the multiplexer is not installed where AMC can find it."""
    status = HTTPStatus.FAILED_DEPENDENCY


class TerminalDead(LaunchError):
    """The multiplexer AMC should start the session in does not answer."""
    status = HTTPStatus.CONFLICT


class WrongDirectory(TerminalDead):
    """tmux started the new pane somewhere else than the project directory (it was closed)."""


class Request(NamedTuple):
    agent: str
    project_dir: str
    prompt: str = ""
    permission_mode: str = ""
    channel: bool = False
    resume: str = ""          # a past session's id: `claude --resume <id>` / `codex resume <id>`


class Where(NamedTuple):
    """Where a new session goes: kind tmux (socket args) or zellij (session name)."""
    kind: str                 # "tmux" | "zellij"
    base: List[str]           # argv prefix: [tmux, "-S", path] / [tmux, "-L", "amc"] / [zellij]
    dedicated: bool = False   # AMC's own tmux server (the session may have to be created)
    zellij_session: str = ""


# -- validation -----------------------------------------------------------------------------

def parse(body: Any, uid: Optional[int] = None) -> Request:
    """Return the launch request in a POST body, or raise a 4xx saying what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    agent = body.get("agent")
    if agent not in AGENTS:
        raise BadRequest("unknown agent %r (known: %s)" % (agent, ", ".join(AGENTS)))
    prompt = body.get("prompt", "")
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise BadRequest('"prompt" must be a string')
    if "\0" in prompt:
        raise BadRequest('"prompt" must not contain NUL characters')
    if len(prompt.encode("utf-8")) > MAX_PROMPT_BYTES:
        raise BadRequest('"prompt" is too long (%d bytes, at most %d)'
                         % (len(prompt.encode("utf-8")), MAX_PROMPT_BYTES))
    launch = agent_family.get(agent).launch  # type: ignore[union-attr] (known: checked above)
    mode = body.get("permission_mode") or ""
    if not isinstance(mode, str) or (mode and launch.PERMISSION_MODES
                                     and mode not in launch.PERMISSION_MODES):
        raise BadRequest('"permission_mode" must be one of %s'
                         % ", ".join(launch.PERMISSION_MODES))
    channel = body.get("channel", False)
    if channel is None:
        channel = False
    if not isinstance(channel, bool):
        raise BadRequest('"channel" must be true or false')
    if (mode and not launch.PERMISSION_MODES) or (channel and not launch.CHANNEL):
        raise BadRequest("permission_mode and channel are Claude Code's options; %s takes "
                         "neither" % agent)
    resume = body.get("resume") or ""
    if not isinstance(resume, str) or (resume and not RESUME_ID.match(resume)):
        raise BadRequest('"resume" must be the id of a past session (letters, digits, "-", "_")')
    return Request(agent, project_dir(body.get("project_dir"), uid), prompt, mode, channel,
                   resume)


def project_dir(value: Any, uid: Optional[int] = None) -> str:
    """Return the resolved project directory, or raise: missing, not a dir, not the user's."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest('"project_dir" is required (an absolute path)')
    if "\0" in value or not os.path.isabs(value):
        raise BadRequest("project_dir must be an absolute path, got %r" % value[:300])
    path = os.path.realpath(value)
    try:
        st = os.stat(path)
    except OSError:
        raise BadRequest("project_dir %s does not exist" % value) from None
    if not os.path.isdir(path):
        raise BadRequest("project_dir %s is not a directory" % value)
    if not os.access(path, os.X_OK):  # tmux would start the agent in the home directory
        raise BadRequest("project_dir %s cannot be entered (no search permission)" % value)
    if st.st_uid != (os.getuid() if uid is None else uid):
        raise Forbidden("project_dir %s is not owned by you (uid %d); AMC starts agents only in "
                        "your own directories" % (value, st.st_uid))
    return path


# -- argv, as pure functions --------------------------------------------------------------------

def channel_config(data_dir: str = "") -> Dict[str, Any]:
    """Return the MCP config that loads AMC's channel (bin/amc-channel) as server `amc`.

    It names this server's data dir, so the channel finds this server even when the session
    runs in a tmux whose environment has another AMC_DATA_DIR (or none).
    """
    from ..install.channel import server_entry
    return {"mcpServers": {CHANNEL_SERVER: server_entry(
        {"AMC_DATA_DIR": data_dir} if data_dir else {})}}


def tmux_base(tmux: str, env: Mapping[str, str]) -> Where:
    """Return where tmux puts a new session: the server of $TMUX, else AMC's dedicated one."""
    if env.get("TMUX"):
        return Where("tmux", [tmux, "-S", env["TMUX"].split(",", 1)[0]])
    if env.get("AMC_TMUX_SOCKET"):
        return Where("tmux", [tmux, "-S", env["AMC_TMUX_SOCKET"]], dedicated=True)
    return Where("tmux", [tmux, "-L", DEDICATED_SOCKET_NAME], dedicated=True)


def tmux_probe_argv(where: Where) -> List[str]:
    """Return argv that succeeds only when the server answers (and has AMC's session, if own)."""
    if where.dedicated:
        return where.base + ["has-session", "-t", "=" + DEDICATED_SESSION]
    return where.base + ["display-message", "-p", "#{socket_path}"]


def tmux_literal(text: str) -> str:
    """Return `text` for a tmux argument that is format-expanded (`-c`, `-n`): `#` doubled."""
    return text.replace("#", "##")


def tmux_command(command: Sequence[str]) -> List[str]:
    """Return `command` for tmux: one argument alone is run by the shell, so it is quoted."""
    return [shlex.quote(command[0])] if len(command) == 1 else list(command)


def tmux_window_argv(where: Where, cwd: str, name: str, command: Sequence[str]) -> List[str]:
    """Return argv opening a detached window in `cwd` running `command` (exec'd, no shell)."""
    target = ["-t", "=%s:" % DEDICATED_SESSION] if where.dedicated else []
    return where.base + ["new-window", "-d", "-P", "-F", PANE_FORMAT] + target + \
        ["-n", tmux_literal(name), "-c", tmux_literal(cwd), "--"] + tmux_command(command)


def tmux_session_argv(where: Where, cwd: str, name: str, command: Sequence[str]) -> List[str]:
    """Return argv starting AMC's dedicated server with its session running `command`."""
    return where.base + ["new-session", "-d", "-P", "-F", PANE_FORMAT, "-s", DEDICATED_SESSION,
                         "-x", "200", "-y", "50", "-n", tmux_literal(name),
                         "-c", tmux_literal(cwd), "--"] + tmux_command(command)


def tmux_pane_path_argv(where: Where, pane: str, which: str) -> List[str]:
    """Return argv printing `<pane id> <dead 0|1> <path>` of `pane`; `which` is `start` (the
    directory tmux was given, after its format expansion) or `current` (the agent's cwd)."""
    return where.base + ["display-message", "-p", "-t", pane,
                         "#{pane_id} #{pane_dead} #{pane_%s_path}" % which]


def tmux_kill_argv(where: Where, pane: str) -> List[str]:
    """Return argv closing `pane` (a new window's only pane: the window closes with it)."""
    return where.base + ["kill-pane", "-t", pane]


def zellij_argv(zellij: str, session: str, cwd: str, name: str,
                command: Sequence[str]) -> List[str]:
    """Return argv opening a new pane in the Zellij session, in `cwd`, running `command`."""
    return [zellij, "--session", session, "run", "--name", name, "--cwd", cwd, "--"] + \
        list(command)


def window_name(project: str, agent: str) -> str:
    """Return the new window's name: `<agent>-<project>` in printable characters."""
    return re.sub(r"[^\w.@+-]", "_", "%s-%s" % (agent, project))[:40]


# -- running ------------------------------------------------------------------------------

Runner = Any  # runner(argv, stdin, timeout, env) -> terminals.base.Result


def run_exact(argv: Sequence[str], stdin: Optional[bytes] = None, timeout: float = TIMEOUT_S,
              env: Optional[Mapping[str, str]] = None) -> Result:
    """Run `argv` (no shell) with exactly `env`; a new tmux server inherits it."""
    try:
        proc = subprocess.run(list(argv), input=stdin or b"", stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, close_fds=True,
                              env=dict(env) if env is not None else None,
                              start_new_session=True)
    except FileNotFoundError as e:
        raise ToolMissing("%s is not installed: %s" % (os.path.basename(argv[0]), e)) from e
    except subprocess.TimeoutExpired as e:
        raise TerminalDead("%s did not answer within %.0f s" % (argv[0], timeout)) from e
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"))


class Launcher:
    """Starts sessions; one per server (launch_watch.Watcher follows what it started)."""

    def __init__(self, paths: Paths, env: Mapping[str, str], runner: Runner = run_exact,
                 watcher: Any = None) -> None:
        self.paths = paths
        self.env = dict(env)
        self.runner = runner
        self.watcher = watcher

    def start(self, body: Any) -> Dict[str, Any]:
        """Start the session `body` asks for; return {"ok", "session_id", ...} or raise."""
        req = parse(body)
        binary = find_binary(req.agent, self.env)
        if binary is None:
            raise ToolMissing("%s is not installed where AMC can find it (PATH of the AMC server: "
                              "%s)" % (req.agent, self.env.get("PATH", "")))
        launch = agent_family.get(req.agent).launch  # type: ignore[union-attr]
        placeholder = not launch.OWN_ID  # it picks its id: a card until its file appears
        sid = (PLACEHOLDER_PREFIX if placeholder else "") + str(uuid.uuid4())
        if req.resume:
            self._resumable(req)
            sid = sid if placeholder else req.resume  # it goes on under the same id
        command = launch.argv(binary, sid, req.prompt, req.permission_mode,
                              self._mcp_config() if req.channel else "", req.resume,
                              channel_server=CHANNEL_SERVER, channel_tool=CHANNEL_TOOL)
        pane = self._open(req, command)
        self._write(sid, req, pane, placeholder)
        if self.watcher is not None:
            self.watcher.watch(sid)
        return {"ok": True, "session_id": sid, "agent": req.agent, "placeholder": placeholder,
                "where": pane.get("where", "")}

    def _resumable(self, req: Request) -> None:
        """Raise unless `req.resume` names a past session of that agent that is not running."""
        agent = agent_family.get(req.agent)
        if agent is None or not agent.find_transcript(self.paths, req.resume):
            raise NotFound("no %s session %s to resume on this machine" % (
                agent_family.label(req.agent), req.resume))
        core = getattr(self.watcher, "core", None)
        live = core.session(req.resume) if core is not None else None
        if live is not None and agent.launch.DONE_IS_GONE and live.get("status") == model.DONE \
                and not (live.get("tmux_pane") or live.get("zellij_session")):
            live = None  # written lately by an agent that is gone (Codex: `codex exec`)
        if live is not None:
            raise LaunchError("session %s is still running (%s); answer it on its card instead "
                              "of starting it twice" % (req.resume, live.get("tmux_pane") or
                                                        live.get("zellij_session") or "no pane"),
                              HTTPStatus.CONFLICT)

    def where(self) -> Where:
        """Return where new sessions go in this environment, or raise when it has no tmux."""
        zellij_session = self.env.get("ZELLIJ_SESSION_NAME", "")
        if self.env.get("ZELLIJ") is not None and zellij_session and not self.env.get("TMUX"):
            zellij = find_binary("zellij", self.env)
            if zellij is None:
                raise ToolMissing("AMC runs in Zellij session %s but zellij is not on PATH"
                                  % zellij_session)
            return Where("zellij", [zellij], zellij_session=zellij_session)
        tmux = find_binary("tmux", self.env)
        if tmux is None:
            raise ToolMissing("tmux is not installed where AMC can find it; AMC starts sessions "
                              "in tmux (or in Zellij when it runs inside Zellij)")
        return tmux_base(tmux, self.env)

    def _open(self, req: Request, command: List[str]) -> Dict[str, str]:
        where = self.where()
        name = window_name(model.project_name(req.project_dir), req.agent)
        if where.kind == "zellij":
            result = self._run(zellij_argv(where.base[0], where.zellij_session, req.project_dir,
                                           name, command), "zellij run")
            m = re.search(r"terminal_(\d+)", result.stdout)
            return {"zellij_session": where.zellij_session, "zellij_pane": m.group(1) if m else "",
                    "where": "Zellij session %s" % where.zellij_session}
        probe = self.runner(tmux_probe_argv(where), None, TIMEOUT_S, self.env)
        if probe.returncode == 0:
            result = self._run(tmux_window_argv(where, req.project_dir, name, command),
                               "tmux new-window")
        elif not where.dedicated:
            raise TerminalDead("the tmux server AMC runs in (%s) does not answer: %s"
                               % (where.base[-1], probe.stderr.strip() or "no server"))
        else:
            socket_dir = os.path.dirname(where.base[-1]) if where.base[-2] == "-S" else ""
            if socket_dir and not os.path.isdir(socket_dir):
                raise TerminalDead("AMC_TMUX_SOCKET %s: its directory does not exist"
                                   % where.base[-1])
            result = self._run(tmux_session_argv(where, req.project_dir, name, command),
                               "tmux new-session")
        fields = result.stdout.strip().split(" ", 1)
        if not fields or not re.fullmatch(r"%\d+", fields[0]):
            raise TerminalDead("tmux did not say which pane it opened (it printed %r)"
                               % result.stdout[:200])
        socket = fields[1] if len(fields) > 1 else ""
        self._check_directory(where, fields[0], req.project_dir)
        return {"tmux_pane": fields[0], "tmux_socket": socket,
                "where": "tmux pane %s on %s" % (fields[0], socket)}

    def _check_directory(self, where: Where, pane: str, want: str) -> None:
        """Close `pane` and raise unless tmux started it in `want` and its agent runs there.

        The start path is what tmux made of `-c` (a format it expanded would show here). The
        agent's cwd (`pane_current_path`) is the server's own for the moment between the fork
        and the child's chdir, and tmux falls back to the home directory when chdir fails, so it
        is read until it is `want` (the agents do not change directory), for DIR_CHECK_S.
        """
        start = self._pane_path(where, pane, "start")
        gone = "the new pane %s closed at once: the agent exited before AMC could see where it " \
               "started" % pane
        if start is None:
            raise WrongDirectory(gone)
        if not _same_path(start, want):
            problem = "tmux opened the new pane in %r, not in %r" % (start, want)
        else:
            deadline = time.monotonic() + DIR_CHECK_S
            while True:
                current = self._pane_path(where, pane, "current")
                if current is None:
                    raise WrongDirectory(gone)
                if _same_path(current, want):
                    return
                if time.monotonic() >= deadline:
                    problem = "the agent in the new pane runs in %r, not in %r (tmux could not " \
                              "enter the directory)" % (current, want)
                    break
                time.sleep(DIR_POLL_S)
        self.runner(tmux_kill_argv(where, pane), None, TIMEOUT_S, self.env)
        raise WrongDirectory("%s; AMC closed that pane, no session was started" % problem)

    def _pane_path(self, where: Where, pane: str, which: str) -> Optional[str]:
        """Return the start or current path of a live `pane`, or None when it is gone or dead."""
        result = self.runner(tmux_pane_path_argv(where, pane, which), None, TIMEOUT_S, self.env)
        out = result.stdout[:-1] if result.stdout.endswith("\n") else result.stdout
        fields = out.split(" ", 2)
        # display-message prints an empty pane id (and succeeds) for a pane that is gone
        if result.returncode != 0 or len(fields) < 3 or fields[0] != pane or fields[1] != "0":
            return None
        return fields[2]

    def _run(self, argv: List[str], what: str) -> Result:
        result = self.runner(argv, None, TIMEOUT_S, self.env)
        if result.returncode != 0:
            raise TerminalDead("%s failed: %s" % (what, result.stderr.strip() or
                                                  "exit status %d" % result.returncode))
        return result

    def _mcp_config(self) -> str:
        """Write (once, atomically) the MCP config that loads AMC's channel; return its path."""
        directory = os.path.join(self.paths.data, "launch")
        store.ensure_dir(directory)
        path = os.path.join(directory, "mcp-amc.json")
        store.write_json_atomic(path, channel_config(self.paths.data), indent=2)
        return path

    def _write(self, sid: str, req: Request, pane: Dict[str, str], placeholder: bool) -> None:
        """Write the session's hook file as `starting` (the agent's hooks update the same file)."""
        now = model.now_iso()
        session = model.new_session(
            sid, req.agent, project_dir=req.project_dir, status=model.STARTING,
            status_since=now, started_at=now, last_event_at=now, last_event="Launched",
            last_message_preview=model.preview(req.prompt) if req.prompt else "",
            launched={"by": "amc", "placeholder": placeholder,
                      "permission_mode": req.permission_mode, "channel": req.channel,
                      "resume": req.resume},
            **{k: v for k, v in pane.items() if k != "where"})
        store.ensure_dir(self.paths.sessions)
        store.ensure_dir(self.paths.events)
        with store.SessionLog(self.paths.events_file(sid)) as log:
            log.append({"received_at": now, "agent": "amc", "event": "Launched",
                        "payload": {"agent": req.agent, "project_dir": req.project_dir,
                                    "permission_mode": req.permission_mode,
                                    "channel": req.channel, "resume": req.resume,
                                    "where": pane.get("where", "")}})
            store.write_json_atomic(self.paths.session_file(sid), session)


def _same_path(seen: str, want: str) -> bool:
    """Tell whether tmux's path (decoded as UTF-8 with replacement) is `want` (a real path)."""
    return seen == os.fsencode(want).decode("utf-8", "replace")
