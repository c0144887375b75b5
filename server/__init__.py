"""server package of ibc-kiosk."""
