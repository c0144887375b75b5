"""kiosk package of ibc-kiosk."""
