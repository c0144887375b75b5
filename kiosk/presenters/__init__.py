"""Presenters: the view state of each screen as plain Python, tested without a window."""
