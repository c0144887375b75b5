"""The public catalogue (OPAC) at /opac: pupils and parents search the union catalogue from a
phone or a home computer, see where a copy stands in which school, and — after card + PIN — their
loans, renewals, holds and (only when they turn it on) their reading history. Server-rendered
pages (Jinja2), Russian and English, no scripts from elsewhere, no trackers (docs/OPAC.md)."""
