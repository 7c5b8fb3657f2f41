"""Derived from the live core: conversations, activity, usage, history, the notifier."""
