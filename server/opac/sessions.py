"""Reader sessions of the OPAC (card + PIN), kept in the database — see docs/OPAC.md.

`signed_in(request)` is what every OPAC page calls to know whether a reader is signed in (the
header's «Мой кабинет» / «Выйти», the record page's hold form); `OpacReader` is all a page may
know of that reader. (The database sessions, CSRF token and guess limits are built in this
module by the account slice of issue 22.)
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request


@dataclass(frozen=True)
class OpacReader:
    """The reader of a live OPAC session: only what the pages show (first name) and need."""

    reader_id: int
    first_name: str
    category: str
    sigla: str
    token: str

    @property
    def csrf(self) -> str:
        """The form token of this session (every POST form carries it)."""
        raise NotImplementedError  # the account slice defines it


def signed_in(request: Request) -> OpacReader | None:
    """The reader of the request's live OPAC session, or None (anonymous)."""
    return None
