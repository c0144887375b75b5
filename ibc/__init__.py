"""The `ibc` command: the thin composition root of ibc-kiosk (nothing else imports it)."""
