"""What edits files outside the data dir: the agents' hooks, the channel, the service."""
