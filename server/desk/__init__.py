"""The librarian's desk in the browser (`/desk`): accounts, sessions in the database, CSRF, login
limits, the audit log and the pages (docs/DESK.md)."""
