#!/usr/bin/env python3
"""A stand-in agent for delivery tests: reads lines from its terminal, records each one, and
(unless told to stay silent) reports it through the real bin/amc-hook as UserPromptSubmit.

argv: <session id> <record file> [--silent]. Runs inside a tmux pane, so the hook sees the pane's
TMUX/TMUX_PANE like Claude Code's hooks do.
"""
import json
import os
import subprocess
import sys

HOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "bin", "amc-hook")


def hook(payload):
    subprocess.run([sys.executable, HOOK], input=json.dumps(payload).encode(), check=False)


def main():
    sid, record = sys.argv[1], sys.argv[2]
    silent = "--silent" in sys.argv
    hook({"session_id": sid, "hook_event_name": "SessionStart", "source": "startup",
          "cwd": os.getcwd()})
    print("READY", flush=True)
    for line in sys.stdin:
        with open(record, "a", encoding="utf-8") as f:
            f.write(json.dumps(line.rstrip("\n")) + "\n")
        if not silent:
            hook({"session_id": sid, "hook_event_name": "UserPromptSubmit", "prompt": line,
                  "cwd": os.getcwd()})
            hook({"session_id": sid, "hook_event_name": "Stop", "cwd": os.getcwd(),
                  "last_assistant_message": "got it"})


if __name__ == "__main__":
    main()
