"""config package of ibc-kiosk."""
