"""Runs inside the agent: one hook event -> the data dir's files, and the doorbell."""
