"""Front ends: the terminal shell (and, later, Slack) over the same runner."""
