"""The reader's pages of the OPAC (card + PIN): sign in and out, loans and renewals, holds,
reading history (only when the reader turns it on)."""

from __future__ import annotations

from fastapi import APIRouter

from server.opac.web import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)
