"""Command-line parsing for `amc`; every command delegates to commands/serve.py, install/hooks.py,
install/service.py, commands/stream.py, consumers/notify_commands.py, http/logins.py or remote/ (cli.py, request.py)."""
import argparse
import os
import shlex
import sys
from typing import List, Optional

from .install import channel as channel_config, hooks as hooks_config, service
from .commands import serve as launcher
from .errors import ConfigError
from .paths import get_paths

DEFAULT_PORT = 7400


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("port must be 0-65535")
    return port


def parser() -> argparse.ArgumentParser:
    """Return the argument parser of `amc`."""
    env_port = os.environ.get("AMC_PORT") or str(DEFAULT_PORT)
    p = argparse.ArgumentParser(prog="amc", description="AMC - Agent Mission Control: a live "
                                "dashboard of your Claude Code and Codex sessions.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    start = sub.add_parser("start", help="start the server in the background and open the dashboard")
    start.add_argument("--port", type=_port, default=_port(env_port))
    start.add_argument("--no-browser", action="store_true", help="do not open a browser")
    sub.add_parser("stop", help="stop the background server")
    sub.add_parser("status", help="say whether the server runs (exit 0) or not (exit 1)")
    serve = sub.add_parser("serve", help="run the server in the foreground")
    serve.add_argument("--port", type=_port, default=_port(env_port))
    serve.add_argument("--host", default=os.environ.get("AMC_HOST") or "127.0.0.1")
    hooks = sub.add_parser("hooks", help="wire AMC into Claude Code (and Codex)")
    hooks.add_argument("action", choices=("install", "uninstall", "status"))
    hooks.add_argument("--codex", action="store_true",
                       help="also configure Codex ($CODEX_HOME/hooks.json and notify)")
    hooks.add_argument("--hook-answers", action="store_true",
                       help="install: let Claude's permission/question dialogs also take the "
                       "dashboard's answer through the hook (docs/answering.md)")
    svc = sub.add_parser("service", help="start AMC at login (systemd user unit / launchd agent)")
    svc.add_argument("action", choices=("install", "uninstall", "status"))
    chan = sub.add_parser("channel", help="register AMC's Claude Code channel (docs/answering.md)")
    chan.add_argument("action", choices=("install", "uninstall"))
    scope = chan.add_mutually_exclusive_group()
    scope.add_argument("--user", action="store_true", help="for every project (the default)")
    scope.add_argument("--project", metavar="DIR", help="for one project directory")
    stream = sub.add_parser("stream", help="this machine's changes as newline-delimited JSON")
    stream.add_argument("--since", default="", metavar="ID",
                        help="resume after this event id (an older one gets a snapshot)")
    remote = sub.add_parser("remote", help="machines reached over your ssh (docs/remote.md)")
    remote.add_argument("action", choices=("add", "remove", "list", "status"))
    remote.add_argument("name", nargs="?", metavar="NAME", help="add/remove: the remote's name")
    remote.add_argument("target", nargs="?", metavar="TARGET",
                        help="add: what ssh connects to (default NAME, e.g. a ~/.ssh/config Host)")
    remote.add_argument("--install-hooks", action="store_true",
                        help="add: also send AMC there and install its Claude Code hooks")
    remote.add_argument("--codex", action="store_true",
                        help="add --install-hooks: also its Codex hooks")
    sub.add_parser("request", help="answer one API request read from stdin as JSON (what "
                   "another machine's AMC runs here over ssh; docs/remote.md)")
    notify = sub.add_parser("notify", help="run a command when a session needs attention or is "
                            "done (docs/notify.md)")
    notify.add_argument("action", choices=("add", "list", "remove"))
    notify.add_argument("command_text", nargs="?", metavar="COMMAND",
                        help='add: the command, quoted as one argument ("notify-send AMC"); '
                        "remove: its number in `amc notify list`, or the command")
    logins = sub.add_parser("logins", help="the browsers logged into this server when it is "
                            "bound to a network address (docs/remote-access.md)")
    logins.add_argument("action", choices=("list", "revoke"))
    logins.add_argument("login_id", nargs="?", metavar="ID",
                        help="revoke: the login's id in `amc logins list` (or its start)")
    logins.add_argument("--all", action="store_true", help="revoke: every login")
    claude = sub.add_parser("claude", help="start Claude Code here with AMC's channel loaded")
    claude.add_argument("args", nargs=argparse.REMAINDER, help="passed on to claude")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Run `amc` with `argv`; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["claude"]:  # everything after it is Claude Code's, options included
        return _claude(get_paths(), argv[1:])
    args = parser().parse_args(argv)
    paths = get_paths()
    if args.command == "start":
        return launcher.start(paths, args.port, os.environ, open_browser=not args.no_browser)
    if args.command == "stop":
        return launcher.stop(paths)
    if args.command == "status":
        return launcher.status(paths)
    if args.command == "serve":
        allowed = [h for h in os.environ.get("AMC_ALLOWED_HOSTS", "").split(",") if h.strip()]
        return launcher.serve(paths, args.host, args.port, allowed)
    if args.command == "hooks":
        return _hooks(paths, args)
    if args.command == "service":
        return service.main(args.action, service.Host(dict(os.environ)))
    if args.command == "channel":
        return _channel(paths, args)
    if args.command == "stream":
        from .commands import stream as stream_cli
        return stream_cli.main(paths, args.since)
    if args.command == "claude":
        return _claude(paths, args.args)
    if args.command == "remote":
        from .remote import cli as remote_cli
        return remote_cli.main(paths, args.action, args.name, args.target,
                               install_hooks=args.install_hooks, codex=args.codex)
    if args.command == "notify":
        return _notify(paths, args.action, args.command_text)
    if args.command == "logins":
        from .http import logins
        return logins.main(paths.logins_file, args.action, args.login_id, args.all)
    if args.command == "request":
        from .remote import request as answer
        return answer.main(paths)
    parser().print_help()
    return 2


def _channel(paths, args) -> int:
    try:
        for line in channel_config.install(paths, os.environ, args.project,
                                           remove=args.action == "uninstall"):
            print(line)
    except ConfigError as e:
        print("amc: %s" % e, file=sys.stderr)
        return 1
    if args.action == "install":
        print(channel_config.install_note(paths, os.environ, args.project))
    return 0


def _notify(paths, action: str, text: Optional[str]) -> int:
    from .consumers import notify_commands as notify
    try:
        if action == "list":
            commands = notify.read(paths)
            for n, c in enumerate(commands, 1):
                print("%d  %s" % (n, c["command"]))
            if not commands:
                print('no notify commands (add one: amc notify add "<command>")')
            return 0
        if text is None:
            raise notify.NotifyError("amc notify %s needs a command%s" % (
                action, "" if action == "add" else " (or its number in `amc notify list`)"))
        if action == "add":
            entry = notify.add(paths, text)
            print("added: %s\nruns as: %s" % (entry["command"], " ".join(
                shlex.quote(a) for a in entry["argv"])))
            print("It runs when a session comes to need attention and when one is done; what "
                  "happened is in AMC_EVENT, AMC_PROJECT, AMC_QUESTION, ... (docs/notify.md).")
            for note in notify.notes(entry["argv"]):
                print("amc: note: %s" % note, file=sys.stderr)
        else:
            print("removed: %s" % notify.remove(paths, text)["command"])
        return 0
    except notify.NotifyError as e:
        print("amc: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("amc: cannot write %s: %s" % (paths.notify_file, e.strerror or e), file=sys.stderr)
        return 1


def _claude(paths, args: List[str]) -> int:
    claude = channel_config.find_claude(os.environ)
    if claude is None:
        print("amc: claude (Claude Code) is not on PATH", file=sys.stderr)
        return 127
    argv = channel_config.claude_argv(paths, os.environ, args, claude)
    os.execvp(argv[0], argv)  # this terminal becomes Claude Code's
    return 0


def _hooks(paths, args) -> int:
    if args.action == "status":
        report = hooks_config.status(paths)
        claude = report["claude"]
        print("Claude Code (%s): %s" % (claude["settings"], "installed" if not claude["missing"]
              else "missing for " + ", ".join(claude["missing"])))
        if claude.get("hook_answers"):
            print("Claude Code: hook answers on (PermissionRequest waits for the dashboard)")
        codex = report["codex"]
        if args.codex or codex["events"]:
            print("Codex (%s): %s" % (codex["hooks"], "installed" if not codex["missing"]
                  else "missing for " + ", ".join(codex["missing"])))
        return 0 if not claude["missing"] else 1
    try:
        for line in hooks_config.install(paths, codex=args.codex,
                                         remove=args.action == "uninstall",
                                         hook_answers=args.hook_answers):
            print(line)
    except ConfigError as e:
        print("amc: %s" % e, file=sys.stderr)
        return 1
    if args.action == "install":
        print("AMC hooks installed; new Claude Code sessions report to AMC "
              "(running ones pick them up on their next start).")
    return 0


def serve_main() -> int:
    """Entry point of `amc-server`: `amc serve` with the remaining arguments."""
    return main(["serve"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
