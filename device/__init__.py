"""device package of ibc-kiosk."""
