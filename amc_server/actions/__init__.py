"""What the page makes happen: answers typed into panes, new sessions, their start dialogs."""
