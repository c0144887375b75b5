"""media package of ibc-kiosk."""
