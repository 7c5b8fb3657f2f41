"""The long-lived commands: serve/start/stop/status, stream, the channel's stdio server."""
