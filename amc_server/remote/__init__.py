"""Other machines, over the user's own OpenSSH (docs/remote.md).

- `ssh.py`: the argv AMC runs and ssh's failures in words;
- `config.py`: remotes.json (the machines, the failed adds);
- `cli.py`: `amc remote add|remove|list|status`;
- `zipapp.py` / `ship.py`: AMC as one file, sent once to a remote's cache dir;
- `feed.py` / `hub.py`: the hub's stream of each machine, and calls to act on its sessions;
- `answer.py`: the remote side of a call (`amc request`).
"""
