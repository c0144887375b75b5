"""Demo school library shipped with ibc-kiosk."""
