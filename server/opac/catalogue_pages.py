"""The OPAC's catalogue pages (anonymous): search, a record with its copies per school and
place, new arrivals."""

from __future__ import annotations

from fastapi import APIRouter

from server.opac.web import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)
