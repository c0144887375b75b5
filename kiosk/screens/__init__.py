"""Kiosk screens: each one a ``name.py`` (behaviour) and ``name.kv`` (layout) pair."""

SCREENS = ("attract", "search", "record", "checkout", "checkin", "loans", "hold", "media", "collect",
           "service")
